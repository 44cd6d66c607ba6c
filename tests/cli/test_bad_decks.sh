# Every kind of bad input exits with code 2, names the file and key, and writes nothing.
source "$(dirname "$0")/common.sh"

check_bad() {  # check_bad NAME EXPECTED_TEXT... (deck in $NAME.yaml)
  local name=$1
  shift
  expect_exit 2 "$FROST" "$name.yaml" --output "out-$name" --quiet
  expect_output "$name.yaml"
  for text in "$@"; do expect_output "$text"; done
  [[ ! -e "out-$name" ]] || fail "$name: output folder was created"
}

printf 'asi:\n  lattice:\n    L: four\n' >bad_type.yaml
check_bad bad_type "asi.lattice.L" "expected an integer"

printf 'asi:\n  lattice:\n    size: 4\n' >unknown_key.yaml
check_bad unknown_key "unknown key 'asi.lattice.size'" "did you mean"

printf 'asi:\n  lattice:\n    L: 0\n' >out_of_range.yaml
check_bad out_of_range "asi.lattice.L" "out of range" "int in [1.0"

printf 'asi:\n  lattice:\n    boundary: twisted\n' >not_allowed.yaml
check_bad not_allowed "asi.lattice.boundary" "one of {open, periodic, domain_wall}"

printf 'asi:\n  lattice: [1, 2\n' >malformed.yaml
check_bad malformed "malformed YAML"

printf 'asi:\n  task: count\nsweep:\n  asi.lattice.L: [2, -1]\n' >bad_sweep.yaml
check_bad bad_sweep "sweep" "asi.lattice.L"

printf 'v 0 0\nv 1 0\ne 0 1\ne 1 1\n' >loop.txt
printf 'asi:\n  task: count\n  lattice:\n    kind: custom\n    file: loop.txt\n' >custom_self_loop.yaml
check_bad custom_self_loop "asi.lattice.file" "loop.txt:4"

expect_exit 2 "$FROST" missing.yaml --output out-missing
expect_output "missing.yaml: cannot read deck file"
[[ ! -e out-missing ]] || fail "missing: output folder created"

printf 'asi:\n  task: count\n' >good.yaml
expect_exit 2 "$FROST" good.yaml --set asi.lattice.L=x --output out-set
expect_output "--set: asi.lattice.L"
expect_exit 2 "$FROST" --check good.yaml --set asi.nosuch=1
expect_output "unknown key 'asi.nosuch'"
expect_exit 2 "$FROST" good.yaml --bogus
expect_output "unknown option '--bogus'"

# An existing output folder is never overwritten without --overwrite, and stays intact.
expect_exit 0 "$FROST" good.yaml --output out-good --quiet
cp out-good/summary.json before.json
expect_exit 2 "$FROST" good.yaml --output out-good --quiet
expect_output "output directory exists"
cmp -s before.json out-good/summary.json || fail "existing output was modified"
expect_exit 0 "$FROST" good.yaml --output out-good --overwrite --quiet
echo "bad decks: ok"
