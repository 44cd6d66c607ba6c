// Process-wide lifetime of MPI and Kokkos (RAII), and the rank's place in the job.
#pragma once

#include <mpi.h>

#include <string>

namespace frost::core {

/// Initialises MPI (threads funneled) and Kokkos once, finalises both in reverse order. Each rank
/// takes the device numbered by its node-local rank (modulo the devices on the node).
class Runtime {
 public:
  Runtime(int& argc, char**& argv);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  MPI_Comm comm() const { return MPI_COMM_WORLD; }

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0;
};

}  // namespace frost::core
