# Exact counts of the count_sweep deck against published sequences: periodic square ice
# (OEIS A054759) and domain-wall square ice = alternating sign matrices (OEIS A005130).
source "$(dirname "$0")/../cli/common.sh"
expect_exit 0 "$FROST" "$ROOT/inputs/asi/count_sweep.yaml" --output out --quiet
python3 - out/summary.json <<'PY'
import json, sys
published = {"periodic": {3: "148", 4: "2970", 5: "143224"},
             "domain_wall": {3: "7", 4: "42", 5: "429"}}
runs = json.load(open(sys.argv[1]))["runs"]
seen = 0
for r in runs:
    b, L = r["params"]["asi.lattice.boundary"], r["params"]["asi.lattice.L"]
    if L in published.get(b, {}):
        assert r["results"]["ice_states"] == published[b][L], (b, L, r["results"])
        seen += 1
assert seen == 6, seen
PY
echo "published counts: ok"
