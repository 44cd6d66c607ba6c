#!/usr/bin/env bash
# Installs what is missing, builds frost with warnings as errors and runs the whole test suite
# (unit, mpi, cli, regression). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DFROST_WARNINGS_AS_ERRORS=ON
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "${FROST_BUILD_DIR:-build}" --output-on-failure -j1 "$@"
