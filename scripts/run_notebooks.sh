#!/usr/bin/env bash
# Executes the GoNB notebooks of notebooks/ headless with Jupyter (nbconvert + the GoNB kernel) and
# checks every executed notebook: no cell may fail or print an error output, and each must contain at
# least its expected number of PNG images (the figures a reader sees on GitHub).
#
# Usage: scripts/run_notebooks.sh [--check] [--mode quick|full] [--timeout SECONDS] [--out DIR] [NAME.ipynb ...]
#
#   (default)   execute, check, and write each executed notebook back in place (with its outputs,
#               for committing); a notebook that fails is left untouched
#   --check     execute and check only: notebooks/ is not modified (CI); executed copies go to --out
#               when given (else to a temporary directory that is removed)
#   --mode M    run every notebook in mode M (sets DDPM_NOTEBOOK_MODE; default: each notebook's own
#               `Mode` variable, "quick")
#   --timeout S limit per notebook, in seconds (default 900; raise it for --mode full)
#   --out DIR   where the executed copies are written (kept)
#   NAME.ipynb  run only these notebooks (default: all, in dependency order)
#
# Needs Go, and Debian's Jupyter: apt-get install jupyter-nbconvert jupyter-client (the script calls
# /usr/bin/jupyter when it exists, else `jupyter` on PATH). GoNB and goimports are built from the
# versions pinned in go.mod (`tool` entries) into a temporary directory, and the GoNB kernel is
# installed into a temporary Jupyter data directory: nothing is installed for the user.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# Notebooks in dependency order (later ones reuse the models the earlier ones trained in runs/<mode>/)
# and the minimum number of PNG outputs each must have.
declare -A EXPECTED_PNG=(
  [Assignment1_Neural_Graphics.ipynb]=16
  [DDPM.ipynb]=13
  [Forward_Reverse_Interactive.ipynb]=4
  [test_Assignment1_Neural_Graphics.ipynb]=7
)
ORDER=(Assignment1_Neural_Graphics.ipynb DDPM.ipynb Forward_Reverse_Interactive.ipynb test_Assignment1_Neural_Graphics.ipynb)

CHECK=0 MODE="" TIMEOUT=900 OUT="" SELECTED=()
while [ $# -gt 0 ]; do
  case "$1" in
    --check) CHECK=1 ;;
    --mode) MODE="$2"; shift ;;
    --timeout) TIMEOUT="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,22p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *.ipynb) SELECTED+=("$(basename "$1")") ;;
    *) echo "run_notebooks.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ ${#SELECTED[@]} -eq 0 ]; then SELECTED=("${ORDER[@]}"); fi
for nb in "${SELECTED[@]}"; do
  [ -n "${EXPECTED_PNG[$nb]:-}" ] || { echo "run_notebooks.sh: unknown notebook $nb (known: ${ORDER[*]})" >&2; exit 2; }
done

JUPYTER=/usr/bin/jupyter
[ -x "$JUPYTER" ] || JUPYTER=$(command -v jupyter || true)
if [ -z "$JUPYTER" ] || ! "$JUPYTER" nbconvert --version >/dev/null 2>&1; then
  echo "run_notebooks.sh: Jupyter's nbconvert is missing: sudo apt-get install jupyter-nbconvert jupyter-client" >&2
  exit 1
fi
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ddpm-notebooks.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
BIN="$WORK/bin"
mkdir -p "$BIN"
if [ -z "$OUT" ]; then OUT="$WORK/executed"; fi
mkdir -p "$OUT"

export GOTOOLCHAIN=go1.27.3 # go.mod needs Go 1.27: fetched once from the module proxy
echo "== building gonb and goimports (versions from go.mod)"
go build -o "$BIN/gonb" github.com/janpfeifer/gonb
go build -o "$BIN/goimports" golang.org/x/tools/cmd/goimports
export PATH="$BIN:$PATH"
export JUPYTER_DATA_DIR="$WORK/jupyter"
"$BIN/gonb" --install --force_deps --force_copy --raw_error >"$WORK/gonb-install.log" 2>&1 ||
  { cat "$WORK/gonb-install.log"; exit 1; }

export GOEXPERIMENT=simd
export DDPM_NOTEBOOK_HEADLESS=1
if [ -n "$MODE" ]; then export DDPM_NOTEBOOK_MODE="$MODE"; fi

status=0
summary=""
for nb in "${SELECTED[@]}"; do
  echo "== $nb (timeout ${TIMEOUT}s)"
  start=$(date +%s)
  rc=0
  timeout "$TIMEOUT" "$JUPYTER" nbconvert --to notebook --execute \
    --ExecutePreprocessor.kernel_name=gonb --ExecutePreprocessor.timeout="$TIMEOUT" \
    --ExecutePreprocessor.record_timing=False \
    --output-dir "$OUT" --output "$nb" "notebooks/$nb" >"$WORK/$nb.log" 2>&1 || rc=$?
  secs=$(( $(date +%s) - start ))
  if [ $rc -ne 0 ]; then
    echo "FAIL $nb: nbconvert exited with $rc after ${secs}s; the end of its log:"
    grep -v -E '^\s*[IW][0-9]{4} |Debugger warning|frozen modules|PYDEVD|^0\.00s' "$WORK/$nb.log" | tail -40
    status=1
    summary+="$(printf '%-42s FAIL (%ds)' "$nb" "$secs")"$'\n'
    continue
  fi
  if ! result=$("$PYTHON" - "$OUT/$nb" "${EXPECTED_PNG[$nb]}" <<'PY'
import base64, json, sys
path, want = sys.argv[1], int(sys.argv[2])
nb = json.load(open(path))
pngs, problems = 0, []
for i, cell in enumerate(nb["cells"]):
    if cell["cell_type"] != "code":
        continue
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            problems.append("cell %d: error output: %s: %s" % (i, out.get("ename"), out.get("evalue", "")[:300]))
        elif kind == "stream" and out.get("name") == "stderr":
            text = "".join(out.get("text", ""))
            if "panic:" in text or "error" in text.lower():
                problems.append("cell %d: error on stderr: %s" % (i, text.strip()[:300]))
        data = out.get("data", {})
        if "image/png" in data:
            raw = base64.b64decode("".join(data["image/png"]))
            if raw[:8] != b"\x89PNG\r\n\x1a\n":
                problems.append("cell %d: an image/png output is not a PNG" % i)
            else:
                pngs += 1
if pngs < want:
    problems.append("%d PNG outputs, expected at least %d" % (pngs, want))
print("%d PNG outputs (expected >= %d)" % (pngs, want))
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
PY
  ); then
    echo "FAIL $nb after ${secs}s: $result"
    status=1
    summary+="$(printf '%-42s FAIL (%ds): %s' "$nb" "$secs" "$(echo "$result" | head -1)")"$'\n'
    continue
  fi
  echo "ok   $nb in ${secs}s: $result"
  summary+="$(printf '%-42s ok   %4ds  %s' "$nb" "$secs" "$result")"$'\n'
  if [ $CHECK -eq 0 ]; then
    cp "$OUT/$nb" "notebooks/$nb"
  fi
done

echo
if [ $CHECK -eq 0 ]; then where="written back to notebooks/"; else where="executed copies in $OUT"; fi
echo "== summary (mode ${MODE:-as set in each notebook}; $where)"
printf '%s' "$summary"
exit $status
