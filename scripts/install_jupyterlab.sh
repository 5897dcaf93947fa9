#!/usr/bin/env bash
# One command to open the notebooks in JupyterLab with the Go kernel (GoNB), on a fresh machine:
#
#   scripts/install_jupyterlab.sh [VENV_DIR]      # default .venv-lab (git-ignored)
#   .venv-lab/bin/jupyter lab notebooks/
#
# It creates a Python virtual environment with JupyterLab from PyPI (pinned), builds goimports and
# GoNB at the versions go.mod pins (GoNB is a `go tool` of this module), and installs the GoNB
# kernel into that environment (not into ~/.local), so that the venv's `jupyter lab` lists "Go
# (gonb)". Needs python3 with venv, Go ≥ 1.26 and gcc. The docker image (docker/Dockerfile) runs
# the same script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=${1:-.venv-lab}
JUPYTERLAB_VERSION=${JUPYTERLAB_VERSION:-4.6.6}

command -v python3 >/dev/null || { echo "install_jupyterlab: python3 is required" >&2; exit 1; }
command -v go >/dev/null || { echo "install_jupyterlab: Go (>= 1.26) is required" >&2; exit 1; }
python3 -m venv "$venv" || { echo "install_jupyterlab: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
"$venv/bin/pip" install --quiet --disable-pip-version-check "jupyterlab==${JUPYTERLAB_VERSION}"

# GoNB and goimports into the venv's bin/ (on PATH when the venv's jupyter starts the kernel).
bin=$(cd "$venv/bin" && pwd)
GOBIN="$bin" go install golang.org/x/tools/cmd/goimports
go build -o "$bin/gonb" github.com/janpfeifer/gonb
# The kernel spec goes to the venv's data dir ($JUPYTER_DATA_DIR), so it travels with the venv.
export JUPYTER_DATA_DIR="$(cd "$venv" && pwd)/share/jupyter"
export PATH="$bin:$PATH"
"$bin/gonb" --install --force_deps --force_copy >/dev/null
"$bin/jupyter" kernelspec list | grep -q gonb || { echo "install_jupyterlab: the GoNB kernel was not installed" >&2; exit 1; }
# The kernel compiles cells with GOEXPERIMENT=simd (GoMLX's SIMD matrix kernels: ~10x faster) and
# finds goimports and go on the PATH of this install (the venv's bin first), however jupyter starts.
"$bin/python" - "$JUPYTER_DATA_DIR/kernels/gonb/kernel.json" "$PATH" <<'PY'
import json, sys
p = sys.argv[1]
spec = json.load(open(p))
spec.setdefault("env", {}).update(GOEXPERIMENT="simd", PATH=sys.argv[2])
json.dump(spec, open(p, "w"))
PY
"$bin/jupyter" lab --version >/dev/null

echo "JupyterLab ${JUPYTERLAB_VERSION} with the GoNB kernel is in $venv. Start it with:"
echo "  $venv/bin/jupyter lab $root/notebooks"
