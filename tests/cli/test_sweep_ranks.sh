# A sweep gives the same results under 1 and 2 ranks; the HDF5 file carries the deck and
# provenance.
source "$(dirname "$0")/common.sh"
cat >sweep.yaml <<'YAML'
asi:
  task: count
  lattice:
    kind: square
sweep:
  asi.lattice.boundary: [open, periodic]
  asi.lattice.L: [3, 4, 5, 6]
YAML
expect_exit 0 "$MPIRUN" -np 1 --oversubscribe "$FROST" sweep.yaml --output np1 --quiet
expect_exit 0 "$MPIRUN" -np 2 --oversubscribe "$FROST" sweep.yaml --output np2 --quiet
[[ "$(json_results np1/summary.json)" == "$(json_results np2/summary.json)" ]] || fail "results differ between 1 and 2 ranks"
python3 -c "import json; d=json.load(open('np2/summary.json')); assert len(d['runs'])==8; assert d['frost']['ranks']=='2'" \
  || fail "summary of 2 ranks incomplete"
if command -v h5dump >/dev/null; then
  h5dump -A np2/frost.h5 >attrs.txt
  grep -q 'ATTRIBUTE "deck"' attrs.txt || fail "frost.h5 lacks the deck attribute"
  grep -q 'ATTRIBUTE "commit"' attrs.txt || fail "frost.h5 lacks provenance"
  h5dump -H np2/frost.h5 >header.txt
  grep -q 'DATASET "edges"' header.txt || fail "frost.h5 lacks lattice/edges"
fi
# Sampled states and their statistics do not depend on the rank count either.
cat >sample.yaml <<'YAML'
asi:
  task: sample
  lattice: {kind: square, L: 6, boundary: periodic}
  sample: {chains: 3, sweeps: 300, burn_in: 20}
  output: {states_every: 10, sq_points: 9}
sweep:
  asi.sample.ensemble: [uniform, thermal]
  asi.seed: [1, 2]
YAML
expect_exit 0 "$MPIRUN" -np 1 --oversubscribe "$FROST" sample.yaml --output s1 --quiet
expect_exit 0 "$MPIRUN" -np 2 --oversubscribe "$FROST" sample.yaml --output s2 --quiet
[[ "$(json_results s1/summary.json)" == "$(json_results s2/summary.json)" ]] || fail "sampling results differ between 1 and 2 ranks"
if command -v h5dump >/dev/null; then
  for run in 0 1 2 3; do
    h5dump -d /runs/$run/states s1/frost.h5 | tail -n +3 >a.txt
    h5dump -d /runs/$run/states s2/frost.h5 | tail -n +3 >b.txt
    cmp -s a.txt b.txt || fail "states of run $run differ between 1 and 2 ranks"
  done
fi
echo "sweep across ranks: ok"
