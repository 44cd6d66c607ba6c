# seqmodel through the real binary: --defaults lists the module's keys, bad text files exit with
# code 2 and a message naming the deck, the key and the file, and a tiny run writes its outputs.
source "$(dirname "$0")/common.sh"
DECK="$ROOT/inputs/seqmodel/ten_char.yaml"
expect_exit 0 "$FROST" --defaults seqmodel
for key in "text:" "precision:" "modes:" "chunk:" "bptt:" "weight_decay:" "clip:" "windows:"; do
  expect_output "$key"
done
expect_exit 2 "$FROST" "$DECK" --set seqmodel.text=/nonexistent/frost.txt --output "$WORK/o1"
expect_output "seqmodel.text"
expect_output "/nonexistent/frost.txt"
expect_output "ten_char.yaml"
[[ ! -e "$WORK/o1" ]] || fail "a rejected deck wrote output"
: >"$WORK/empty.txt"
expect_exit 2 "$FROST" "$DECK" --set seqmodel.text="$WORK/empty.txt" --output "$WORK/o2"
expect_output "is empty"
printf 'short text' >"$WORK/short.txt"
expect_exit 2 "$FROST" "$DECK" --set seqmodel.text="$WORK/short.txt" --output "$WORK/o3"
expect_output "needs at least one window"
expect_exit 2 "$FROST" "$DECK" --set seqmodel.model.chunk=48 --output "$WORK/o4"
expect_output "seqmodel.model.chunk"
expect_exit 0 "$FROST" "$DECK" --quiet --output "$WORK/run" --set seqmodel.train.steps=3 \
  --set seqmodel.model.dim=8 --set seqmodel.model.modes=4 --set seqmodel.eval.windows=2
python3 - "$WORK/run/summary.json" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))["runs"][0]["results"]
for k in ("train_loss_final", "eval_loss_final", "eval_perplexity_final", "tokens_per_s",
          "unigram_entropy", "unigram_heldout_ce", "scan_fraction"):
    assert k in r, k
assert abs(r["eval_loss_initial"] - math.log(256)) < 0.1, r["eval_loss_initial"]
PY
# DeltaNet: the deck runs at a tiny size with every method; all give the same losses (f64), and
# the learning curves are written as PNG.
DDECK="$ROOT/inputs/seqmodel/deltanet_char.yaml"
expect_exit 2 "$FROST" "$DDECK" --set seqmodel.model.delta_method=scan --output "$WORK/o5"
expect_output "seqmodel.model.delta_method"
expect_output "cyclic_reduction"
expect_exit 2 "$FROST" "$DDECK" --set seqmodel.model.head_dim=65 --output "$WORK/o6"
expect_output "seqmodel.model.head_dim"
for m in sequential chunked cyclic_reduction hillis_steele; do
  expect_exit 0 "$FROST" "$DDECK" --quiet --output "$WORK/d_$m" --set seqmodel.train.steps=3 \
    --set seqmodel.precision=f64 --set seqmodel.model.dim=8 --set seqmodel.model.heads=2 \
    --set seqmodel.model.head_dim=4 --set seqmodel.train.T=32 --set seqmodel.eval.windows=2 \
    --set seqmodel.model.delta_method=$m --set seqmodel.model.delta_chunk=5
done
[[ -s "$WORK/d_chunked/runs/0/learning_curve.png" ]] || fail "no learning_curve.png"
[[ -s "$WORK/d_chunked/runs/0/learning_curve_wall.png" ]] || fail "no learning_curve_wall.png"
python3 - "$WORK" <<'PY'
import json, math, sys
runs = {m: json.load(open(f"{sys.argv[1]}/d_{m}/summary.json"))["runs"][0]["results"]
        for m in ("sequential", "chunked", "cyclic_reduction", "hillis_steele")}
ref = runs["sequential"]
assert ref["model"] == "deltanet", ref["model"]
assert abs(ref["eval_loss_initial"] - math.log(256)) < 0.1, ref["eval_loss_initial"]
for m, r in runs.items():
    assert r["delta_method"] == m, (m, r["delta_method"])
    for k in ("train_loss_final", "eval_loss_final"):
        assert abs(r[k] - ref[k]) < 1e-9 * abs(ref[k]), (m, k, r[k], ref[k])
    assert 0.0 < r["recurrence_fraction"] < 1.0, r["recurrence_fraction"]
PY
echo "seqmodel cli: ok"
