# `--defaults asi` prints a deck that runs as it is; `--check` validates it; `--version` tells the
# build.
source "$(dirname "$0")/common.sh"
"$FROST" --defaults asi >defaults.yaml
grep -q "^asi:" defaults.yaml || fail "defaults lack the module key"
grep -q "# .*default" defaults.yaml || fail "defaults lack documentation comments"
expect_exit 0 "$FROST" --check defaults.yaml
expect_output "valid asi deck, 1 run(s)"
expect_exit 0 "$FROST" defaults.yaml --output out --quiet
[[ -s out/frost.h5 && -s out/summary.json ]] || fail "defaults deck wrote no output"
python3 -c "import json,sys; d=json.load(open('out/summary.json')); assert d['runs'][0]['status']=='ok', d" \
  || fail "defaults run did not succeed"
for module in recurrence relax wavefield; do
  "$FROST" --defaults $module >$module.yaml
  expect_exit 0 "$FROST" $module.yaml --output out-$module --quiet
  python3 -c "import json,sys; d=json.load(open('out-$module/summary.json')); assert d['runs'][0]['status']=='ok', d" \
    || fail "$module defaults run did not succeed"
done
expect_exit 2 "$FROST" --defaults nosuchmodule
expect_output "unknown module 'nosuchmodule'"
expect_exit 0 "$FROST" --version
for word in frost commit Kokkos MPI HDF5; do expect_output "$word"; done
echo "defaults and version: ok"
