#!/usr/bin/env bash
# One command to open the notebooks in JupyterLab with the Go kernel (GoNB), on a fresh machine:
#
#   scripts/install_jupyterlab.sh [VENV_DIR]      # default .venv-lab (git-ignored)
#   .venv-lab/bin/jupyter lab notebooks/
#
# It creates (or reuses) a Python virtual environment with JupyterLab from PyPI (pinned), builds
# goimports and GoNB at the versions go.mod pins (GoNB is a `go tool` of this module) into the
# venv's bin/, and installs the GoNB kernel into that environment (<venv>/share/jupyter/kernels/gonb,
# not ~/.local), so that the venv's `jupyter lab` lists "Go (gonb)". Needs python3 with venv, Go ≥
# 1.26 and gcc. The docker image (docker/Dockerfile) runs the same script.
#
# Environment:
#   PYTHON=python3            the Python that creates the environment (3.9 or newer, with venv)
#   JUPYTERLAB_VERSION=4.6.6  the JupyterLab release from PyPI (the Docker image pins the same)
#   EXTRA_PIP=""              more PyPI requirements for the same environment (CI: "playwright==1.65.2",
#                             which scripts/browser_test.py needs)
#   GOPLS_VERSION=""          also install gopls (GoNB's auto-completion and contextual help) at this
#                             exact version, e.g. v0.20.0; optional, GoNB works without it
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3 # go.mod needs Go 1.27 (GoMLX v0.28.16): fetched once from the module proxy
root=$(pwd)
venv=${1:-.venv-lab}
case "$venv" in /*) ;; *) venv="$root/$venv" ;; esac
PYTHON=${PYTHON:-python3}
JUPYTERLAB_VERSION=${JUPYTERLAB_VERSION:-4.6.6}
EXTRA_PIP=${EXTRA_PIP:-}

command -v "$PYTHON" >/dev/null || { echo "install_jupyterlab: $PYTHON is required" >&2; exit 1; }
command -v go >/dev/null || { echo "install_jupyterlab: Go (>= 1.26) is required on PATH" >&2; exit 1; }
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null ||
  { echo "install_jupyterlab: $PYTHON lacks venv/ensurepip (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }

echo "== virtual environment $venv: JupyterLab $JUPYTERLAB_VERSION${EXTRA_PIP:+ and $EXTRA_PIP}"
[ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
# shellcheck disable=SC2086 # EXTRA_PIP is a list of requirements
"$venv/bin/pip" install --quiet --disable-pip-version-check "jupyterlab==${JUPYTERLAB_VERSION}" $EXTRA_PIP

echo "== gonb and goimports (versions from go.mod) into $venv/bin"
bin="$venv/bin"
go build -o "$bin/goimports" golang.org/x/tools/cmd/goimports
go build -o "$bin/gonb" github.com/janpfeifer/gonb
if [ -n "${GOPLS_VERSION:-}" ]; then
  GOBIN="$bin" go install "golang.org/x/tools/gopls@$GOPLS_VERSION"
fi

echo "== GoNB kernel spec into $venv/share/jupyter/kernels/gonb"
# --force_copy: the kernel runs its own copy of gonb; --force_deps: gopls is optional.
export JUPYTER_DATA_DIR="$venv/share/jupyter"
log=$(mktemp)
PATH="$bin:$PATH" "$bin/gonb" --install --force_deps --force_copy >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
# The kernel compiles cells with GOEXPERIMENT=simd (GoMLX's SIMD matrix kernels: ~10x faster) and
# finds goimports (and gopls) in the venv's bin and the go found here, however jupyter starts.
godir=$(dirname "$(command -v go)")
"$bin/python" - "$JUPYTER_DATA_DIR/kernels/gonb/kernel.json" "$bin:$godir:$(go env GOPATH)/bin:$PATH" <<'PY'
import json, sys
path, search = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
dirs = []
for d in search.split(":"):
    if d and d not in dirs:
        dirs.append(d)
spec.setdefault("env", {}).update(GOEXPERIMENT="simd", GOTOOLCHAIN="go1.27.3", PATH=":".join(dirs))
json.dump(spec, open(path, "w"), indent=1)
PY
unset JUPYTER_DATA_DIR
seen=$("$bin/jupyter" kernelspec list | awk '$1 == "gonb" {print $2}')
if [ -z "$seen" ]; then
  echo "install_jupyterlab: the GoNB kernel was not installed" >&2
  exit 1
elif [ "$seen" != "$venv/share/jupyter/kernels/gonb" ]; then
  # Jupyter looks in $JUPYTER_PATH and the user's data directory before the environment's.
  echo "install_jupyterlab: warning: $bin/jupyter uses the gonb kernel in $seen, which shadows the one" >&2
  echo "  just installed: remove it (jupyter kernelspec remove gonb) or reinstall it there." >&2
fi
"$bin/jupyter" lab --version >/dev/null

rel=${venv#"$root/"}
echo "JupyterLab ${JUPYTERLAB_VERSION} with the GoNB kernel (\"Go (gonb)\") is in $rel. Start it from $root with:"
echo "  $rel/bin/jupyter lab notebooks/"
