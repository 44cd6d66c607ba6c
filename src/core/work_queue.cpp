#include "core/work_queue.hpp"

#include <algorithm>

namespace frost::core {

WorkQueue::WorkQueue(MPI_Comm comm, long count) : count_(count) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Aint bytes = rank == 0 ? static_cast<MPI_Aint>(sizeof(long)) : 0;
  MPI_Win_allocate(bytes, sizeof(long), MPI_INFO_NULL, comm, &counter_, &win_);
  if (rank == 0) *counter_ = 0;
  MPI_Barrier(comm);
}

WorkQueue::~WorkQueue() {
  MPI_Win_free(&win_);
}

long WorkQueue::next() {
  const long one = 1;
  long got = 0;
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_);
  MPI_Fetch_and_op(&one, &got, MPI_LONG, 0, 0, MPI_SUM, win_);
  MPI_Win_unlock(0, win_);
  return got < count_ ? got : -1;
}

long WorkQueue::taken() {
  long got = 0;
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_);
  MPI_Fetch_and_op(nullptr, &got, MPI_LONG, 0, 0, MPI_NO_OP, win_);
  MPI_Win_unlock(0, win_);
  return std::min(got, count_);
}

}  // namespace frost::core
