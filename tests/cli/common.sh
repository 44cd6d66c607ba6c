# Shared helpers of the command-line tests: $FROST (binary), $ROOT (source tree), $MPIRUN.
set -euo pipefail
FROST=$1
ROOT=$2
MPIRUN=${3:-mpirun}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# expect_exit CODE CMD...: runs CMD, keeps stdout+stderr in $WORK/out.txt, checks the exit code.
expect_exit() {
  local want=$1
  shift
  set +e
  "$@" >"$WORK/out.txt" 2>&1
  local got=$?
  set -e
  [[ $got == "$want" ]] || { cat "$WORK/out.txt"; fail "exit $got, expected $want: $*"; }
}
expect_output() {
  grep -qF -- "$1" "$WORK/out.txt" || { cat "$WORK/out.txt"; fail "output lacks '$1'"; }
}
# json_results FILE: the runs of a summary.json without rank, timing or provenance.
json_results() {
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["runs"]:
    r.pop("rank", None)
    r["results"] = {k: v for k, v in r["results"].items() if "per_second" not in k and "seconds" not in k}
print(json.dumps(d["runs"], sort_keys=True))
PY
}
