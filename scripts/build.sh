#!/usr/bin/env bash
# Configures and builds frost into build/ (extra arguments go to CMake).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B "${FROST_BUILD_DIR:-build}" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "${FROST_BUILD_DIR:-build}" -j"$(nproc)"
