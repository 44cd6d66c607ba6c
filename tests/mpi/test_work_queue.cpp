#include <gtest/gtest.h>
#include <mpi.h>

#include <numeric>
#include <vector>

#include "core/work_queue.hpp"

// Every item is handed out exactly once over all ranks, whatever the rank count.
TEST(WorkQueue, EachItemExactlyOnce) {
  const long count = 37;
  std::vector<int> mine(count, 0), all(count, 0);
  {
    frost::core::WorkQueue queue(MPI_COMM_WORLD, count);
    for (long item; (item = queue.next()) >= 0;) {
      ASSERT_LT(item, count);
      ++mine[item];
    }
    EXPECT_EQ(queue.taken(), count);
  }
  MPI_Allreduce(mine.data(), all.data(), static_cast<int>(count), MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  for (long i = 0; i < count; ++i) EXPECT_EQ(all[i], 1) << "item " << i;
}

TEST(WorkQueue, EmptyQueue) {
  frost::core::WorkQueue queue(MPI_COMM_WORLD, 0);
  EXPECT_EQ(queue.next(), -1);
}
