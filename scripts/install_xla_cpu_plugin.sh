#!/usr/bin/env bash
# Installs XLA's PJRT CPU plugin (a shared library exporting GetPjrtApi) from PyPI into .xla-cpu/
# (git-ignored) as .xla-cpu/pjrt_c_api_cpu_plugin.so, and prints its absolute path on standard output.
#
#   scripts/install_xla_cpu_plugin.sh                 # default package (see below)
#   XLA_CPU_PACKAGE=lammps-jax-pjrt-cpu scripts/install_xla_cpu_plugin.sh
#
# Then: ddpm bench --backend xla:"$(scripts/install_xla_cpu_plugin.sh)" ..., or
#       PJRT_PLUGIN_LIBRARY_PATH=$PWD/.xla-cpu ddpm doctor --backend xla:cpu
# go test's TestXLACPUMatchesGoBackend (app/) finds it there by itself.
#
# Only pip (PyPI, one pinned wheel checked by its SHA-256) is used: go-xla's own installer downloads
# from GitHub, which this project's machines cannot reach. Why these packages: bench/XLA_CPU.md.
# Linux x86-64 only (the wheels are manylinux_2_27_x86_64: glibc >= 2.27).
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=${XLA_CPU_PACKAGE:-fastatomstruct-xla-cpu}
case "$pkg" in
fastatomstruct-xla-cpu) # PJRT C API 0.106: zml/pjrt-artifacts' CPU plugin, unmodified (per its README)
  version=2026.6.23
  sha256=88b1c430b341b4bea40a37420311c9c75db6e22b46d2ff95b6986577bee6afe9
  member=fastatomstruct_xla_cpu/libpjrt_cpu.so ;;
lammps-jax-pjrt-cpu) # PJRT C API 0.115: built from the XLA of jaxlib 0.11.2
  version=0.11.2
  sha256=1319390d948b39f69f7dade496b7c385149d9ca6097a6b62114da113216d9ad1
  member=lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so ;;
*)
  echo "install_xla_cpu_plugin: unknown XLA_CPU_PACKAGE=$pkg (fastatomstruct-xla-cpu or lammps-jax-pjrt-cpu)" >&2
  exit 2 ;;
esac
if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
  echo "install_xla_cpu_plugin: the PyPI wheels are for Linux x86-64 only (this is $(uname -s)/$(uname -m))" >&2
  exit 1
fi

dest=.xla-cpu
plugin=$dest/pjrt_c_api_cpu_plugin.so
stamp="$pkg==$version sha256:$sha256"
if [ -f "$plugin" ] && [ "$(cat "$dest/SOURCE" 2>/dev/null)" = "$stamp" ]; then
  echo "$PWD/$plugin"
  exit 0
fi

python=$(command -v python3 || command -v python || true)
if [ -z "$python" ]; then
  echo "install_xla_cpu_plugin: python3 with pip is required" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "$pkg==$version --hash=sha256:$sha256" >"$tmp/requirements.txt"
echo "install_xla_cpu_plugin: downloading $pkg==$version from PyPI (~63 MB)" >&2
# --platform/--python-version: the wheel is py3-none-manylinux_2_27_x86_64 whatever the local Python.
"$python" -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
  --platform manylinux_2_27_x86_64 --python-version 3.9 \
  -d "$tmp" -r "$tmp/requirements.txt" >&2

mkdir -p "$dest"
"$python" - "$tmp" "$member" "$plugin.tmp" <<'EOF'
import glob, shutil, sys, zipfile
tmp, member, out = sys.argv[1:]
wheels = glob.glob(tmp + "/*.whl")
if len(wheels) != 1:
    sys.exit(f"install_xla_cpu_plugin: expected one wheel in {tmp}, found {wheels}")
with zipfile.ZipFile(wheels[0]) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
chmod 755 "$plugin.tmp"
mv -f "$plugin.tmp" "$plugin"
echo "$stamp" >"$dest/SOURCE"
echo "$PWD/$plugin"
