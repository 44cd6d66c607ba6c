#!/usr/bin/env bash
# The GPU harness: on the GPU machine, runs the bundled GPU build's test suite and every module's
# benchmark, then prints one table (kernel, size, time, achieved rate, the floor measured in the
# same run, ratio). Build and bundle on a CPU machine first:
#   FROST_BACKEND=cuda bash scripts/build.sh && bash tools/bundle.sh build-cuda
# then, on the GPU machine, from the source tree:
#   bash perf/run_gpu.sh build-cuda/bundle [RESULTS_DIR] [tests|benches]  (default: both)
# Every step's log lands in RESULTS_DIR (default gpu-results); the exit code is non-zero when a
# test step failed.
set -uo pipefail
bundle=$(cd "${1:?usage: perf/run_gpu.sh BUNDLE_DIR [RESULTS_DIR] [tests|benches]}" && pwd)
out=${2:-gpu-results}
only=${3:-}
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
export FROST_SOURCE_DIR=$root  # the unit tests read decks from this tree, not the build machine's
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
: >"$out/status.txt"
failed=0
limit=${FROST_STEP_LIMIT:-300}  # seconds per step, so one hung step cannot eat the session
step() {  # step NAME KIND CMD...: KIND is test (failure counts) or bench
  local name=$1 kind=$2 rc
  shift 2
  local t0=$SECONDS
  (cd "$out" && timeout "$limit" "$@") >"$out/$name.log" 2>&1
  rc=$?
  printf '%-22s %-5s rc=%d  %4ds\n' "$name" "$kind" "$rc" $((SECONDS - t0)) | tee -a "$out/status.txt"
  if [ "$rc" != 0 ]; then
    tail -20 "$out/$name.log"
    [ "$kind" = test ] && failed=1
  fi
}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"; } |
  tee "$out/device.txt"
"$bundle/frost" --version | tee -a "$out/device.txt"

if [ "$only" != benches ]; then
  step unit test "$bundle/frost_unit_tests"
  step mpi_np1 test mpirun -np 1 "$bundle/frost_mpi_tests"
  step mpi_np2 test mpirun -np 2 "$bundle/frost_mpi_tests"
  for t in "$root"/tests/cli/test_*.sh "$root"/tests/regression/test_*.sh; do
    step "$(basename "$t" .sh)" test bash "$t" "$bundle/frost" "$root" mpirun
  done
fi
if [ "$only" != tests ]; then
  step bench_floors bench "$bundle/bench_floors"
  step bench_sampler bench "$bundle/bench_sampler" 1 parallel
  step bench_recurrence bench "$bundle/bench_recurrence" 0.5 8192
  step bench_wavefield bench "$bundle/bench_wavefield" 1000000
  step bench_relax bench "$bundle/bench_relax"
  step bench_neural bench "$bundle/bench_neural" 500 4 6 10
  step train_mode_a bench "$bundle/frost" "$root/inputs/asi/train_mode_a_scale.yaml" \
    --output "$out/train_mode_a" --overwrite --quiet
  step flagship bench "$bundle/frost" "$root/inputs/asi/square_L50.yaml" \
    --output "$out/flagship" --overwrite --quiet
  # Mode A epochs as harness rows (no floor: the network passes are latency-bound steps).
  python3 - "$out/train_mode_a/summary.json" >"$out/bench_mode_a.log" <<'PY' || true
import json, sys
for run in json.load(open(sys.argv[1]))["runs"]:
    r = run["results"]
    eps = r.get("epochs_per_second", 0) or 0
    size = "L=%s loops=%s B=64" % (run.get("params", {}).get("asi.lattice.L", "?"), r.get("loops", "?"))
    print("row\tasi mode A epoch\t%s\t%.4g\t%.4g\tpasses/s\t0\t-\t0" % (
        size, 1 / eps if eps else 0, r.get("eign_sample_passes_per_second", 0)))
PY
fi

echo
printf '%-34s %-28s %11s %11s %-9s %11s %-16s %7s\n' kernel size "s/call" achieved unit floor "floor is" ratio |
  tee "$out/table.txt"
cat "$out"/bench_*.log 2>/dev/null | awk -F'\t' '$1 == "row" {
  printf "%-34s %-28s %11s %11s %-9s %11s %-16s %7s\n", $2, $3, $4, $5, $6, $7, $8, $9 }' |
  tee -a "$out/table.txt"
exit $failed
