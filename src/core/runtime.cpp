#include "core/runtime.hpp"

#include <Kokkos_Core.hpp>
#include <cstdio>

namespace frost::core {

Runtime::Runtime(int& argc, char**& argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_free(&node);
  Kokkos::InitArguments args;
  args.disable_warnings = true;
#if defined(KOKKOS_ENABLE_CUDA)
  int devices = 0;
  const cudaError_t found = cudaGetDeviceCount(&devices);
  if (found != cudaSuccess || devices == 0) {
    // A CUDA build cannot run without a GPU; say so instead of aborting inside Kokkos.
    std::fprintf(stderr, "frost: this is a CUDA build and no usable GPU was found (%s)\n",
                 found != cudaSuccess ? cudaGetErrorString(found) : "no CUDA device");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  args.device_id = local_rank_ % devices;
#endif
  Kokkos::initialize(args);
}

Runtime::~Runtime() {
  Kokkos::finalize();
  MPI_Finalize();
}

}  // namespace frost::core
