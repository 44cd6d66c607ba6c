// One wave-field run carried by several ranks: every rank holds all N sources and evaluates psi
// for a contiguous slice of the N targets; the slices are then gathered so that every rank holds
// psi at all nodes (vortex detection and the controller then run on every rank alike).
//
// Each target's sum is computed by the same kernel in the same source order whichever rank owns
// it, and MPI_Allgatherv only moves bytes to fixed offsets, so the gathered field is bitwise the
// field of one rank, for any rank count.
#pragma once

#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <vector>

namespace frost::wavefield {

/// Targets [begin, end) of `rank` among `ranks`: contiguous, sizes differing by at most one.
struct TargetSlice {
  int begin = 0, end = 0;
};
inline TargetSlice target_slice(int n, int rank, int ranks) {
  const auto share = [&](int r) { return static_cast<int>(static_cast<long long>(n) * r / ranks); };
  return {share(rank), share(rank + 1)};
}

/// The target split of an n-node field over the ranks of `comm`. The gather stages through host
/// memory (a device-resident field is copied to the host and back), so any MPI works.
template <class MemorySpace>
class TargetSplit {
 public:
  using field_view = Kokkos::View<double*, MemorySpace>;

  TargetSplit(MPI_Comm comm, int n) : comm_(comm) {
    MPI_Comm_rank(comm, &rank_);
    MPI_Comm_size(comm, &ranks_);
    mine_ = target_slice(n, rank_, ranks_);
    for (int r = 0; r < ranks_; ++r) {
      const TargetSlice s = target_slice(n, r, ranks_);
      offsets_.push_back(s.begin);
      counts_.push_back(s.end - s.begin);
    }
  }

  int rank() const { return rank_; }
  int ranks() const { return ranks_; }
  /// This rank's targets.
  int begin() const { return mine_.begin; }
  int end() const { return mine_.end; }

  /// Fills `re` and `im` (extent n) at every node from the slices their owners computed. Each
  /// rank must have written its own slice; collective over the communicator.
  template <class ExecSpace>
  void gather(const ExecSpace& exec, const field_view& re, const field_view& im) {
    if (ranks_ == 1) return;
    for (const field_view* v : {&re, &im}) {
      auto host = Kokkos::create_mirror_view(Kokkos::HostSpace(), *v);
      Kokkos::deep_copy(exec, host, *v);
      exec.fence();
      MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, host.data(), counts_.data(),
                     offsets_.data(), MPI_DOUBLE, comm_);
      Kokkos::deep_copy(exec, *v, host);
    }
    exec.fence();
  }

 private:
  MPI_Comm comm_;
  int rank_ = 0, ranks_ = 1;
  TargetSlice mine_;
  std::vector<int> counts_, offsets_;
};

}  // namespace frost::wavefield
