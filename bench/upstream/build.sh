#!/usr/bin/env bash
# Builds `ddpm` against GoMLX's compute v0.1.2 with the patches of this directory applied (see
# README.md): a copy of the module from the Go module cache, patched, in the git-ignored .dev/,
# used through a copy of go.mod with a replace directive (-modfile), so that the repository's own
# go.mod and build stay untouched.
#
# Usage: bench/upstream/build.sh [OUT_BINARY]    (default bench/out/ddpm-patched)
#   PATCHES="..." selects patch files (default: every *.patch here)
# Also builds bench/out/nodeprof (the per-op CPU profile driver, nodeprof/main.go) when the
# node-profile patch is applied.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=bench/upstream
out=${1:-bench/out/ddpm-patched}
src="$(go env GOMODCACHE)/github.com/gomlx/compute@v0.1.2"
dst=.dev/compute-v0.1.2-patched
patches=${PATCHES:-$(ls $here/*.patch)}
[ -d "$src" ] || GOFLAGS=-mod=mod go mod download github.com/gomlx/compute@v0.1.2
rm -rf "$dst" && mkdir -p .dev "$(dirname "$out")"
cp -r "$src" "$dst" && chmod -R u+w "$dst"
for p in $patches; do
  patch -d "$dst" -p1 --quiet < "$p"
  echo "applied $p"
done
cp go.mod .dev/go.patched.mod && cp go.sum .dev/go.patched.sum
echo "replace github.com/gomlx/compute => $PWD/$dst" >> .dev/go.patched.mod
GOEXPERIMENT=simd go build -modfile=.dev/go.patched.mod -o "$out" ./cmd/ddpm
echo "built $out"
if grep -q DumpNodeProfile "$dst/gobackend/nodeprofile.go" 2>/dev/null; then
  GOEXPERIMENT=simd go build -tags nodeprof -modfile=.dev/go.patched.mod -o bench/out/nodeprof ./$here/nodeprof
  echo "built bench/out/nodeprof"
fi
