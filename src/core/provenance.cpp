#include "core/provenance.hpp"

#include <hdf5.h>
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <ctime>
#include <sstream>

#include "core/version.hpp"

#ifdef FROST_KOKKOS_STAND_IN
extern "C" const char frost_kokkos_origin[];  // defined by the stand-in library
#endif

namespace frost::core {

std::string frost_version() {
  return FROST_VERSION_STRING;
}
std::string frost_commit() {
  return FROST_GIT_COMMIT_STRING;
}

namespace {
std::string kokkos_backends() {
  std::string s = Kokkos::DefaultExecutionSpace::name();
  if (std::string(Kokkos::DefaultHostExecutionSpace::name()) != s)
    s += std::string(", host ") + Kokkos::DefaultHostExecutionSpace::name();
  return s;
}
std::string kokkos_devices() {
#if defined(KOKKOS_ENABLE_CUDA)
  int dev = 0;
  cudaGetDevice(&dev);
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, dev);
  return std::string("CUDA device ") + std::to_string(dev) + ": " + prop.name;
#else
  return std::to_string(Kokkos::DefaultExecutionSpace().concurrency()) + " host thread(s)";
#endif
}
std::string mpi_version() {
  char buf[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(buf, &len);
  std::string s(buf, len);
  auto nl = s.find_first_of("\n,");
  if (nl != std::string::npos) s = s.substr(0, nl);
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  return s + " (MPI " + std::to_string(major) + "." + std::to_string(minor) + ")";
}
std::string hdf5_version() {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  std::ostringstream o;
  o << maj << "." << min << "." << rel;
  return o.str();
}
std::string kokkos_version() {
  std::ostringstream o;
  o << KOKKOS_VERSION / 10000 << "." << (KOKKOS_VERSION / 100) % 100 << "." << KOKKOS_VERSION % 100;
  return o.str();
}
std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}
/// Where the Kokkos in this binary comes from (the stand-in library of standalone builds says).
std::string kokkos_origin() {
#ifdef FROST_KOKKOS_STAND_IN
  return frost_kokkos_origin;
#else
  return "Debian packages";
#endif
}
}  // namespace

Provenance Provenance::collect(const std::string& command_line, int ranks) {
  Provenance p;
  p.entries = {{"version", frost_version()},
               {"commit", frost_commit()},
               {"date", utc_now()},
               {"ranks", std::to_string(ranks)},
               {"kokkos", kokkos_version() + " (" + kokkos_origin() + ")"},
               {"backend", kokkos_backends()},
               {"devices", kokkos_devices()},
               {"mpi", mpi_version()},
               {"hdf5", hdf5_version()},
               {"command_line", command_line}};
  return p;
}

std::string version_text() {
  std::ostringstream o;
  o << "frost " << frost_version() << " (commit " << frost_commit() << ")\n"
    << "Kokkos " << kokkos_version() << " (" << kokkos_origin()
    << "), backends: " << kokkos_backends() << "\n"
    << "devices: " << kokkos_devices() << "\n"
    << "MPI: " << mpi_version() << "\n"
    << "HDF5: " << hdf5_version() << "\n";
  return o.str();
}

}  // namespace frost::core
