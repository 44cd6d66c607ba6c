#!/usr/bin/env bash
# Installs the Debian 12 packages frost builds against, when any is missing (run as root).
set -euo pipefail
packages=(
  build-essential cmake git pkg-config python3
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools libgtest-dev liblapack-dev libblas-dev
  libtrilinos-kokkos-dev libtrilinos-kokkos-kernels-dev libtrilinos-teuchos-dev libtrilinos-belos-dev
  # Belos' CMake package needs the configs of the packages it was built with.
  libtrilinos-aztecoo-dev libtrilinos-xpetra-dev libtrilinos-thyra-dev libtrilinos-tpetra-dev
  libtrilinos-epetraext-dev libtrilinos-triutils-dev libtrilinos-epetra-dev libtrilinos-rtop-dev
  # SUNDIALS 6.4.1 for relax.solver: kinsol (optional in CMake; pulls petsc-dev and hypre).
  libsundials-dev
)
missing=()
for p in "${packages[@]}"; do
  [[ "$p" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[frost] installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
