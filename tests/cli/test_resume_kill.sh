# A run killed with SIGKILL resumes from its checkpoint to a result bitwise identical to an
# uninterrupted run (timing figures aside).
source "$(dirname "$0")/common.sh"
cat >deck.yaml <<'YAML'
asi:
  task: sample
  lattice: {kind: square, L: 24, boundary: periodic}
  sample: {move: long_loop, chains: 2, sweeps: 40000, burn_in: 100}
  output: {states_every: 2000, sq_points: 0}
  checkpoint: {every_steps: 200}
YAML
expect_exit 0 "$FROST" deck.yaml --output whole --quiet
"$FROST" deck.yaml --output killed --quiet >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [[ -s killed/checkpoints/run-0.state ]] && break
  sleep 0.05
done
sleep 0.3
kill -9 "$pid" 2>/dev/null || fail "the run ended before it could be killed; make the deck longer"
wait "$pid" 2>/dev/null || true
[[ -s killed/checkpoints/run-0.state ]] || fail "no checkpoint was written before the kill"
[[ ! -e killed/summary.json ]] || fail "killed run wrote a summary"
expect_exit 2 "$FROST" deck.yaml --output killed --quiet
expect_output "--resume"
expect_exit 0 "$FROST" deck.yaml --output killed --resume --quiet
[[ "$(json_results whole/summary.json)" == "$(json_results killed/summary.json)" ]] \
  || { diff <(json_results whole/summary.json | tr ',' '\n') <(json_results killed/summary.json | tr ',' '\n'); fail "resumed result differs"; }
if command -v h5dump >/dev/null; then
  h5dump -d /runs/0/states whole/frost.h5 | tail -n +3 >a.txt
  h5dump -d /runs/0/states killed/frost.h5 | tail -n +3 >b.txt
  cmp -s a.txt b.txt || fail "resumed states differ"
fi
[[ ! -e killed/checkpoints ]] || fail "checkpoints left after a complete run"
echo "resume after SIGKILL: ok"
