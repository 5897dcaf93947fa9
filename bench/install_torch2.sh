#!/usr/bin/env bash
# Installs PyPI's PyTorch 2.x (the reference of bench/side_by_side.sh, besides Debian's torch 1.13)
# into a virtual environment and prints the path of its Python, for TORCH_PYTHON=... .
#
# Usage: bench/install_torch2.sh [VENV]     (default .dev/torch2, git-ignored)
#   TORCH_VERSION=2.15.0 (default) pins the release. PyPI's Linux wheel bundles MKL and oneDNN and
#   needs its CUDA runtime packages (nvidia-*, about 5 GB in all) even to import on a CPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.dev/torch2}
version=${TORCH_VERSION:-2.15.0}
if ! "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$version')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "torch==$version" numpy >&2
fi
"$venv/bin/python" -c "import torch; print('torch', torch.__version__, 'BLAS:', torch.__config__.show().split('BLAS_INFO=')[1].split(',')[0])" >&2
echo "$PWD/$venv/bin/python"
