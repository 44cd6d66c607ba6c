# External dependencies, each wrapped once in an INTERFACE target (frost::kokkos, frost::teuchos,
# frost::belos, frost::hdf5, frost::mpi) so the rest of the build never sees how they were found.
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(WARNING "frost: HDF5 is not parallel; rank 0 writes all output anyway")
endif()

# Kokkos: a standalone install (CUDA/OpenMP builds) when Kokkos_ROOT points at one, otherwise
# Debian's Trilinos packages, whose imported Kokkos target is unusable (it lists /usr/lib/include);
# their TriBITS variables are used instead.
find_package(KokkosKernels QUIET)
find_package(Teuchos REQUIRED)
add_library(frost_kokkos INTERFACE)
if(TARGET Kokkos::kokkoskernels)
  target_link_libraries(frost_kokkos INTERFACE Kokkos::kokkoskernels)
  set(FROST_KOKKOS_SOURCE "standalone")
else()
  if(NOT KokkosKernels_FOUND)
    message(FATAL_ERROR "frost: Kokkos Kernels not found (install libtrilinos-kokkos-kernels-dev)")
  endif()
  target_include_directories(frost_kokkos SYSTEM INTERFACE ${KokkosKernels_INCLUDE_DIRS}
                                                           ${KokkosKernels_TPL_INCLUDE_DIRS})
  target_link_libraries(frost_kokkos INTERFACE ${KokkosKernels_LIBRARIES} ${KokkosKernels_TPL_LIBRARIES})
  target_link_directories(frost_kokkos INTERFACE ${KokkosKernels_LIBRARY_DIRS})
  set(FROST_KOKKOS_SOURCE "trilinos")
endif()
add_library(frost::kokkos ALIAS frost_kokkos)

add_library(frost_teuchos INTERFACE)
target_include_directories(frost_teuchos SYSTEM INTERFACE ${Teuchos_INCLUDE_DIRS} ${Teuchos_TPL_INCLUDE_DIRS})
if(FROST_KOKKOS_SOURCE STREQUAL "standalone")
  # Debian's Teuchos libraries load Debian's (Serial) Kokkos library, whose global objects would
  # then exist twice beside the standalone Kokkos linked into frost. An empty library that
  # carries Debian's soname, loaded first, stands in for it: Teuchos' few Kokkos calls (profiling
  # regions, finalize hooks) then reach the one Kokkos in the process.
  # frost's provenance reads a string from it, so no linker drops it as unused.
  file(WRITE ${CMAKE_BINARY_DIR}/kokkos_soname/stand_in.c
       "/* Stands in for Debian's Kokkos library; see cmake/FrostDependencies.cmake. */\n"
       "const char frost_kokkos_origin[] = \"built from Debian's Trilinos source\";\n")
  add_library(frost_kokkos_stand_in SHARED ${CMAKE_BINARY_DIR}/kokkos_soname/stand_in.c)
  set_target_properties(frost_kokkos_stand_in PROPERTIES
    OUTPUT_NAME trilinos_kokkoscore VERSION 13.2 SOVERSION 13.2 LINKER_LANGUAGE C
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/kokkos_soname)
  target_link_libraries(frost_teuchos INTERFACE frost_kokkos_stand_in)
  target_compile_definitions(frost_teuchos INTERFACE FROST_KOKKOS_STAND_IN)
  # Teuchos' Kokkos adapters and Debian's Kokkos itself are not linked at all.
  list(FILTER Teuchos_LIBRARIES EXCLUDE REGEX "kokkos")
endif()
target_link_libraries(frost_teuchos INTERFACE ${Teuchos_LIBRARIES} ${Teuchos_TPL_LIBRARIES})
target_link_directories(frost_teuchos INTERFACE ${Teuchos_LIBRARY_DIRS})
add_library(frost::teuchos ALIAS frost_teuchos)

# Belos: header templates plus one library; used with frost's own vector and operator adapters,
# so none of the Epetra/Tpetra stack is linked.
find_path(FROST_BELOS_INCLUDE_DIR BelosSolverManager.hpp HINTS ${Teuchos_INCLUDE_DIRS} PATH_SUFFIXES trilinos)
find_library(FROST_BELOS_LIBRARY NAMES trilinos_belos belos HINTS ${Teuchos_LIBRARY_DIRS})
if(NOT FROST_BELOS_INCLUDE_DIR OR NOT FROST_BELOS_LIBRARY)
  message(FATAL_ERROR "frost: Belos not found (install libtrilinos-belos-dev)")
endif()
find_package(LAPACK REQUIRED)
add_library(frost_belos INTERFACE)
target_include_directories(frost_belos SYSTEM INTERFACE ${FROST_BELOS_INCLUDE_DIR})
target_link_libraries(frost_belos INTERFACE ${FROST_BELOS_LIBRARY} frost_teuchos ${LAPACK_LIBRARIES})
add_library(frost::belos ALIAS frost_belos)

add_library(frost_hdf5 INTERFACE)
target_include_directories(frost_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(frost_hdf5 INTERFACE ${HDF5_C_LIBRARIES})
target_compile_definitions(frost_hdf5 INTERFACE ${HDF5_C_DEFINITIONS})
add_library(frost::hdf5 ALIAS frost_hdf5)

add_library(frost_mpi INTERFACE)
target_link_libraries(frost_mpi INTERFACE MPI::MPI_CXX)
add_library(frost::mpi ALIAS frost_mpi)

# Provenance: cmake/WriteVersion.cmake asks git for the commit at every build (src/CMakeLists.txt).
find_package(Git QUIET)
