// Dynamic distribution of independent work items (sweep points, chain groups) over ranks: a
// shared counter on rank 0 that every rank advances with an atomic fetch-and-add (MPI one-sided),
// so a rank that finishes early takes the next item instead of idling.
#pragma once

#include <mpi.h>

namespace frost::core {

/// Hands out item indices 0, 1, ..., count-1, each exactly once over all ranks of `comm`.
/// Collective construction and destruction.
class WorkQueue {
 public:
  WorkQueue(MPI_Comm comm, long count);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  /// The next item for this rank, or -1 when all items are taken.
  long next();
  /// Items taken so far by all ranks (approximate while others are taking).
  long taken();

 private:
  MPI_Win win_ = MPI_WIN_NULL;
  long* counter_ = nullptr;
  long count_;
};

}  // namespace frost::core
