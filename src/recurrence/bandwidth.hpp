// Memory bandwidth as the recurrence kernels see it: a Kokkos copy kernel on the same backend,
// the same scalar type and the same array size as the data a call streams, measured in the same
// run. Its time is the floor a memory-bound recurrence can approach.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>

namespace frost::recurrence {

/// Bytes per second of dst(i) = src(i) over `count` scalars of type S (read + write counted),
/// fastest of `repeats` fenced calls after one untimed call that touches the pages.
template <class Exec, class S>
double copy_bandwidth(const Exec& exec, std::size_t count, int repeats = 5) {
  using Mem = typename Exec::memory_space;
  count = std::max<std::size_t>(count, 1);
  Kokkos::View<S*, Mem> src("frost::recurrence::bw_src", count),
      dst("frost::recurrence::bw_dst", count);
  Kokkos::deep_copy(exec, src, S(1));
  auto copy = [&] {
    Kokkos::parallel_for(
        "frost::recurrence::bandwidth_copy", Kokkos::RangePolicy<Exec>(exec, 0, count),
        KOKKOS_LAMBDA(std::size_t i) { dst(i) = src(i); });
  };
  copy();
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    exec.fence();
    const auto t0 = std::chrono::steady_clock::now();
    copy();
    exec.fence();
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return 2.0 * sizeof(S) * static_cast<double>(count) / std::max(best, 1e-9);
}

}  // namespace frost::recurrence
