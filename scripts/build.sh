#!/usr/bin/env bash
# Configures and builds frost (extra arguments go to CMake).
#   FROST_BACKEND=serial (default): Debian's Kokkos packages, build dir build/
#   FROST_BACKEND=openmp | cuda: Kokkos built from Debian's Trilinos source by
#     tools/build-kokkos.sh (run once, automatically), build dir build-openmp/ or build-cuda/;
#     FROST_CUDA_ARCH=sm_90 (default, native Hopper) or compute_80 (PTX compiled at load).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${FROST_BACKEND:-serial}
extra=()
case $backend in
  serial) dir=${FROST_BUILD_DIR:-build} ;;
  openmp | cuda)
    dir=${FROST_BUILD_DIR:-build-$backend}
    prefix=$PWD/build-deps/kokkos-$backend
    if [ ! -f "$prefix/lib/cmake/KokkosKernels/KokkosKernelsConfig.cmake" ]; then
      bash tools/build-kokkos.sh "$backend" --arch "${FROST_CUDA_ARCH:-sm_90}"
    fi
    extra=(-DKokkos_ROOT="$prefix" -DKokkosKernels_ROOT="$prefix")
    if [ "$backend" = cuda ]; then
      export PATH=/usr/local/cuda/bin:$PATH
      extra+=(-DCMAKE_CXX_COMPILER="$prefix/bin/nvcc_wrapper")
    fi
    ;;
  *)
    echo "scripts/build.sh: FROST_BACKEND must be serial, openmp or cuda (got '$backend')" >&2
    exit 2
    ;;
esac
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "${extra[@]}" "$@"
cmake --build "$dir" -j"$(nproc)"
