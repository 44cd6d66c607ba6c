#!/usr/bin/env bash
# Installs what is missing, builds frost and runs the flagship deck on 2 ranks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun -np 2 --oversubscribe build/bin/frost inputs/asi/square_L50.yaml --output frost-output/square_L50 --overwrite
echo "[frost] results: $(pwd)/frost-output/square_L50 (frost.h5, summary.json, runs/*/ pictures)"
