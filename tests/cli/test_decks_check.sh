# Every deck shipped under inputs/ validates, and the flagship deck the README runs is there.
source "$(dirname "$0")/common.sh"
[[ -f "$ROOT/inputs/asi/square_L50.yaml" ]] || fail "the flagship deck inputs/asi/square_L50.yaml is missing"
count=0
for deck in "$ROOT"/inputs/*/*.yaml; do
  # A frost built without SUNDIALS rejects the KINSOL deck, by design, with this message.
  if "$FROST" --check "$deck" 2>&1 | grep -q "built without SUNDIALS KINSOL"; then
    count=$((count + 1))
    continue
  fi
  expect_exit 0 "$FROST" --check "$deck"
  expect_output "valid"
  count=$((count + 1))
done
((count >= 10)) || fail "only $count decks found under inputs/"
echo "decks check: ok ($count decks)"
