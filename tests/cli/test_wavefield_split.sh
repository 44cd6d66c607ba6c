# wavefield.split: targets spreads one run's targets over the ranks; the results (field, vortex
# counts, charges, snapshots) equal those of one rank, and the sweep's runs all complete.
source "$(dirname "$0")/common.sh"
cat >split.yaml <<'YAML'
wavefield:
  nodes: 300
  cycles: 4
  split: targets
  geometry: {windings_rate: 0.6}
  output: {every: 2, picture: false}
sweep:
  wavefield.field.method: [direct, propagator]
YAML
expect_exit 0 "$MPIRUN" -np 1 --oversubscribe "$FROST" split.yaml --output np1 --quiet
expect_exit 0 "$MPIRUN" -np 2 --oversubscribe "$FROST" split.yaml --output np2 --quiet
[[ "$(json_results np1/summary.json)" == "$(json_results np2/summary.json)" ]] ||
  fail "split results differ between 1 and 2 ranks"
python3 -c "import json; d=json.load(open('np2/summary.json')); assert len(d['runs'])==2; assert all(r['rank']==0 for r in d['runs'])" ||
  fail "summary of 2 ranks incomplete"
if command -v h5dump >/dev/null; then
  for run in 0 1; do
    for ds in snapshots/field snapshots/psi_re vortices/charge; do
      h5dump -d /runs/$run/$ds np1/frost.h5 | tail -n +3 >a.txt
      h5dump -d /runs/$run/$ds np2/frost.h5 | tail -n +3 >b.txt
      cmp -s a.txt b.txt || fail "$ds of run $run differs between 1 and 2 ranks"
    done
  done
fi
echo "wavefield split across ranks: ok"
