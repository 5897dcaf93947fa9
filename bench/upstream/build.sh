#!/usr/bin/env bash
# Builds `ddpm` against GoMLX's compute $COMPUTE (default: v0.1.14, the version of go.mod) with the patches of this directory applied (see
# README.md): a copy of the module from the Go module cache, patched, in the git-ignored .dev/,
# used through a copy of go.mod with a replace directive (-modfile), so that the repository's own
# go.mod and build stay untouched.
#
# Usage: bench/upstream/build.sh [OUT_BINARY]    (default bench/out/ddpm-patched)
#   PATCHES="..." selects patch files (default: every compute-$COMPUTE-*.patch here)
# Then runs bench/upstream/slicecheck's test against the patched module (Slice against a reference).
# Also builds bench/out/nodeprof (the per-op CPU profile driver, nodeprof/main.go) when the
# node-profile patch is applied.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=bench/upstream
out=${1:-bench/out/ddpm-patched}
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3} GOEXPERIMENT=simd
version=${COMPUTE:-v0.1.14}
src="$(go env GOMODCACHE)/github.com/gomlx/compute@$version"
dst=.dev/compute-$version-patched
patches=${PATCHES:-$(ls $here/compute-$version-*.patch)}
[ -d "$src" ] || GOFLAGS=-mod=mod go mod download github.com/gomlx/compute@$version
rm -rf "$dst" && mkdir -p .dev "$(dirname "$out")"
cp -r "$src" "$dst" && chmod -R u+w "$dst"
for p in $patches; do
  patch -d "$dst" -p1 --quiet < "$p"
  echo "applied $p"
done
cp go.mod .dev/go.patched.mod && cp go.sum .dev/go.patched.sum
echo "replace github.com/gomlx/compute => $PWD/$dst" >> .dev/go.patched.mod
go build -modfile=.dev/go.patched.mod -o "$out" ./cmd/ddpm
echo "built $out"
go test -count=1 -modfile=.dev/go.patched.mod ./$here/slicecheck/
if grep -q DumpNodeProfile "$dst/gobackend/nodeprofile.go" 2>/dev/null; then
  go build -tags nodeprof -modfile=.dev/go.patched.mod -o bench/out/nodeprof ./$here/nodeprof
  echo "built bench/out/nodeprof"
fi
