#!/usr/bin/env bash
# Builds Kokkos and Kokkos Kernels with the OpenMP or CUDA backend from Debian's own Trilinos
# source package and installs them under build-deps/kokkos-<backend> (or --prefix).
#
#   tools/build-kokkos.sh openmp
#   tools/build-kokkos.sh cuda [--arch sm_90|compute_80]
#
# Then configure frost against it:
#   cmake -S . -B build-openmp -DKokkos_ROOT=$PWD/build-deps/kokkos-openmp \
#         -DKokkosKernels_ROOT=$PWD/build-deps/kokkos-openmp
# (scripts/build.sh does this when FROST_BACKEND=openmp or cuda is set).
#
# The source comes from Debian's archive through a private apt state under build-deps/apt:
# the system's apt configuration is not touched.
set -euo pipefail
usage() { echo "usage: $0 openmp|cuda [--arch sm_90|compute_80] [--prefix DIR] [--jobs N]" >&2; exit 2; }
[ $# -ge 1 ] || usage
backend=$1; shift
case $backend in openmp | cuda) ;; *) usage ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
deps=$root/build-deps
arch=sm_90
prefix=
jobs=$(nproc)
while [ $# -gt 0 ]; do
  case $1 in
    --arch) arch=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) usage ;;
  esac
done
case $arch in sm_90 | compute_80) ;; *) echo "$0: --arch must be sm_90 or compute_80" >&2; exit 2 ;; esac
prefix=${prefix:-$deps/kokkos-$backend}
mkdir -p "$deps"

# --- 1. Trilinos source from Debian (only the two packages we need are unpacked) -------------
apt_dir=$deps/apt
tarball=$(ls "$deps"/trilinos_13.2.0*.orig.tar.* 2>/dev/null | head -1 || true)
if [ -z "$tarball" ]; then
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
    >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Debug::NoLocking=1")
  apt-get "${apt_opts[@]}" -q update
  (cd "$deps" && apt-get "${apt_opts[@]}" -q source --download-only trilinos=13.2.0-4)
  tarball=$(ls "$deps"/trilinos_13.2.0*.orig.tar.* | head -1)
fi
src=$deps/src-$backend
if [ ! -d "$src/packages/kokkos" ]; then
  rm -rf "$src" && mkdir -p "$src"
  tar -xf "$tarball" -C "$src" --strip-components=1 --wildcards '*/packages/kokkos/*' '*/packages/kokkos-kernels/*'
fi
kokkos=$src/packages/kokkos
kernels=$src/packages/kokkos-kernels

# --- 2. Source fixes Kokkos 3.4.01 needs for CUDA 13 and Hopper (each one small and idempotent) -
if [ "$backend" = cuda ]; then
  code=${arch/compute_/sm_}
  # CUDA 13 no longer accepts nvcc_wrapper's default sm_35.
  sed -i -E "s/^default_arch=\"sm_[0-9]+\"/default_arch=\"$code\"/" "$kokkos/bin/nvcc_wrapper"
  # Kokkos 3.4 knows no Hopper option: for sm_90 the AMPERE80 option emits sm_90 (native Hopper
  # code); for compute_80 it stays sm_80, whose embedded PTX the driver compiles for Hopper at load.
  if [ "$arch" = sm_90 ]; then
    sed -i 's/^CHECK_CUDA_ARCH(AMPERE80  sm_80)/CHECK_CUDA_ARCH(AMPERE80  sm_90)/' "$kokkos/cmake/kokkos_arch.cmake"
  fi
  # Kokkos' start-up check aborts when the compiled major arch differs from the device's, which
  # rejects PTX built for an older arch and compiled by the driver: accept any older arch.
  sed -i 's/if (compiled_major != cudaProp.major || compiled_minor > cudaProp.minor) {/if (compiled_major > cudaProp.major || (compiled_major == cudaProp.major \&\& compiled_minor > cudaProp.minor)) {/' \
    "$kokkos/core/src/Cuda/Kokkos_Cuda_Instance.cpp"
  # The CUDA half_t wrapper does not compile against CUDA 13's cuda_fp16.h; without it half_t
  # falls back to Kokkos' generic definition (frost does not use half precision).
  sed -i 's/^#if !(defined(KOKKOS_COMPILER_CLANG) \&\& KOKKOS_COMPILER_CLANG < 900) \&\& \\$/#if 0 \&\& !(defined(KOKKOS_COMPILER_CLANG) \&\& KOKKOS_COMPILER_CLANG < 900) \&\& \\/' \
    "$kokkos/core/src/Cuda/Kokkos_Cuda_Half.hpp"
  # CUDA 13's cudaMemPrefetchAsync takes a cudaMemLocation and a flags argument.
  python3 - "$kokkos/core/src/Cuda/Kokkos_CudaSpace.cpp" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
old = re.search(r"CUDA_SAFE_CALL\(cudaMemPrefetchAsync\(ptr, bytes, space\.cuda_device\(\),\s*space\.cuda_stream\(\)\)\);", text)
if "CUDA_VERSION >= 13000" not in text:
    if old is None:
        sys.exit("build-kokkos: cudaMemPrefetchAsync call not found in " + path)
    new = ("\n#if CUDA_VERSION >= 13000\n"
           "    cudaMemLocation location{};\n"
           "    location.type = cudaMemLocationTypeDevice;\n"
           "    location.id = space.cuda_device();\n"
           "    CUDA_SAFE_CALL(cudaMemPrefetchAsync(ptr, bytes, location, 0, space.cuda_stream()));\n"
           "#else\n    " + old.group(0) + "\n#endif\n")
    open(path, "w").write(text[:old.start()] + new + text[old.end():])
PY
fi

# --- 3. Configure, build and install ------------------------------------------------------------
common=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_CXX_STANDARD=17
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF)
if [ "$backend" = cuda ]; then
  backend_opts=(-DCMAKE_CXX_COMPILER="$kokkos/bin/nvcc_wrapper" -DKokkos_ENABLE_CUDA=ON
    -DKokkos_ENABLE_CUDA_LAMBDA=ON -DKokkos_ENABLE_CUDA_CONSTEXPR=ON -DKokkos_ARCH_AMPERE80=ON
    -DKokkos_ENABLE_OPENMP=OFF -DKokkos_ENABLE_SERIAL=ON)
  kernels_opts=(-DCMAKE_CXX_COMPILER="$kokkos/bin/nvcc_wrapper" -DKokkosKernels_ENABLE_TPL_CUBLAS=ON)
  export CUDA_ROOT=${CUDA_ROOT:-/usr/local/cuda} PATH=${CUDA_ROOT:-/usr/local/cuda}/bin:$PATH
else
  backend_opts=(-DKokkos_ENABLE_OPENMP=ON -DKokkos_ENABLE_SERIAL=ON)
  kernels_opts=()
fi
cmake -S "$kokkos" -B "$deps/build-kokkos-$backend" "${common[@]}" "${backend_opts[@]}" \
  -DKokkos_ENABLE_TESTS=OFF -DKokkos_ENABLE_EXAMPLES=OFF
cmake --build "$deps/build-kokkos-$backend" -j"$jobs" --target install
# Every explicit instantiation off: the templates are instantiated where frost uses them, which
# turns hours of nvcc time into seconds.
cmake -S "$kernels" -B "$deps/build-kernels-$backend" "${common[@]}" "${kernels_opts[@]}" \
  -DKokkos_ROOT="$prefix" -DKokkosKernels_ENABLE_TESTS=OFF -DKokkosKernels_ENABLE_EXAMPLES=OFF \
  -DKokkosKernels_ADD_DEFAULT_ETI=OFF -DKokkosKernels_INST_DOUBLE=OFF -DKokkosKernels_INST_FLOAT=OFF \
  -DKokkosKernels_INST_COMPLEX_DOUBLE=OFF -DKokkosKernels_INST_COMPLEX_FLOAT=OFF \
  -DKokkosKernels_INST_OFFSET_INT=OFF -DKokkosKernels_INST_OFFSET_SIZE_T=OFF \
  -DKokkosKernels_INST_ORDINAL_INT=OFF -DKokkosKernels_INST_ORDINAL_INT64_T=OFF \
  -DKokkosKernels_INST_LAYOUTLEFT=OFF -DKokkosKernels_INST_LAYOUTRIGHT=OFF \
  -DKokkosKernels_INST_EXECSPACE_OPENMP=OFF -DKokkosKernels_INST_EXECSPACE_SERIAL=OFF \
  -DKokkosKernels_INST_EXECSPACE_CUDA=OFF
cmake --build "$deps/build-kernels-$backend" -j"$jobs" --target install
echo "build-kokkos: Kokkos and Kokkos Kernels ($backend) installed in $prefix"
