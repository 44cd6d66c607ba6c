#!/usr/bin/env bash
# Gathers a built frost (binary, test programs, benchmarks, tests' scripts) and the shared
# libraries it loads into one folder, with a launcher that sets the library path, so it runs on
# a machine that has the driver, CUDA runtime, OpenMPI 4.1 and glibc but none of Debian's packages.
#
#   tools/bundle.sh [BUILD_DIR] [DEST]      (defaults: build-cuda, BUILD_DIR/bundle)
#   DEST/frost --version                    (one wrapper per bundled program)
#   DEST.tar.xz                             (the same, compressed, for carrying)
#
# Libraries of the C runtime, the GPU driver and CUDA are never carried. MPI's own libraries and
# common system ones go to DEST/fallback and are used only where the target machine lacks them,
# so its own mpirun and libmpi stay in charge.
set -euo pipefail
build=${1:-build-cuda}
dest=${2:-$build/bundle}
rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib" "$dest/fallback"
programs=("$build"/bin/* "$build"/tests/frost_unit_tests "$build"/tests/frost_mpi_tests)
for p in "${programs[@]}"; do
  [ -x "$p" ] && [ -f "$p" ] || continue
  strip -o "$dest/bin/$(basename "$p")" "$p"
done
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|librt\.so|libpthread\.so|libstdc\+\+|libgcc_s|libcuda\.so|libcudart|libcublas|libnvidia)'
fallback='^(libmpi\.|libmpi_cxx|libopen-|libhwloc|libevent|libpmix|libudev|libz\.|libzstd|libssl|libcrypto|libcurl|libnghttp|libidn|librtmp|libssh|libpsl|libgssapi|libldap|liblber|libbrotli|libunistring|libgnutls|libhogweed|libnettle|libgmp|libkrb|libk5crypto|libcom_err|libsasl|libp11|libtasn|libkeyutils|libresolv|libffi)'
for p in "$dest"/bin/*; do
  ldd "$p" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  [[ $name =~ $skip ]] && continue
  if [[ $name =~ $fallback ]]; then cp -L "$path" "$dest/fallback/$name"; else cp -L "$path" "$dest/lib/$name"; fi
done
cat >"$dest/run.sh" <<'LAUNCH'
#!/usr/bin/env bash
# Runs a bundled frost program: ./run.sh PROGRAM [ARGS...]
here=$(cd "$(dirname "$0")" && pwd)
missing=${TMPDIR:-/tmp}/frost-fallback-$UID
mkdir -p "$missing"
for f in "$here"/fallback/*; do
  name=$(basename "$f")
  ldconfig -p | grep -q "^[[:space:]]*$name " || ln -sf "$f" "$missing/$name"
done
export LD_LIBRARY_PATH=$here/lib:$missing:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
prog=$1; shift
exec "$here/bin/$prog" "$@"
LAUNCH
chmod +x "$dest/run.sh"
# One wrapper per program, so DEST/frost can stand wherever a frost binary is expected.
for p in "$dest"/bin/*; do
  name=$(basename "$p")
  printf '#!/usr/bin/env bash\nexec "$(dirname "$0")/run.sh" %s "$@"\n' "$name" >"$dest/$name"
  chmod +x "$dest/$name"
done
# One compressed file as well: the folder is ~90 MB, the archive ~21 MB, which is what travels
# to a GPU machine (unpack with tar -xJf).
tar -C "$(dirname "$dest")" -cf - "$(basename "$dest")" | xz -T0 -6 >"$dest.tar.xz"
du -sh "$dest" "$dest"/bin "$dest"/lib "$dest"/fallback "$dest.tar.xz"
