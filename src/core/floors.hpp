// Hardware floors measured in the same run as the kernels they judge: memory bandwidth from a
// Kokkos copy kernel, arithmetic peak from a fused multiply-add chain, special-function throughput
// from a sin/cos chain. Benchmarks report each kernel's time against these, never against a data
// sheet alone.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>

namespace frost::core {

/// Fastest of `repeats` fenced calls of f (seconds), after one untimed warm-up call: the least
/// disturbed measurement of one call.
template <class Exec, class F>
double best_time(const Exec& exec, int repeats, F&& f) {
  f();
  double best = 1e300;
  for (int r = 0; r < std::max(repeats, 1); ++r) {
    exec.fence();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    exec.fence();
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

/// Sixteen bytes moved per thread and iteration: GPUs reach their copy bandwidth only with
/// 16-byte accesses (one float per thread reaches about a third of it on an H100).
struct alignas(16) Chunk16 {
  double lo, hi;
};

/// Bytes per second of dst = src over `bytes` bytes (read + write counted), best of `repeats`.
template <class Exec>
double copy_bandwidth(const Exec& exec, std::size_t bytes, int repeats = 5) {
  using Mem = typename Exec::memory_space;
  const std::size_t count = std::max<std::size_t>(bytes / sizeof(Chunk16), 1);
  Kokkos::View<Chunk16*, Mem> src(Kokkos::view_alloc(exec, "frost::core::floor_src"), count),
      dst(Kokkos::view_alloc(exec, "frost::core::floor_dst"), count);
  Kokkos::parallel_for(
      "frost::core::floor_fill", Kokkos::RangePolicy<Exec>(exec, 0, count),
      KOKKOS_LAMBDA(std::size_t i) {
        src(i) = Chunk16{double(i), 1.0};
      });
  const double t = best_time(exec, repeats, [&] {
    Kokkos::parallel_for(
        "frost::core::floor_copy", Kokkos::RangePolicy<Exec>(exec, 0, count),
        KOKKOS_LAMBDA(std::size_t i) { dst(i) = src(i); });
  });
  return 2.0 * sizeof(Chunk16) * static_cast<double>(count) / std::max(t, 1e-12);
}

/// Floating-point operations per second of independent fused multiply-add chains in scalar type
/// S (one FMA counted as two operations): the arithmetic peak a compute-bound kernel can approach.
template <class Exec, class S>
double fma_rate(const Exec& exec, int repeats = 3) {
  using Mem = typename Exec::memory_space;
  constexpr int kChains = 8, kSteps = 1024;
  const std::size_t threads = Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible
                                  ? std::size_t(Exec().concurrency()) * 64
                                  : std::size_t(1) << 21;
  Kokkos::View<S*, Mem> sink(Kokkos::view_alloc(exec, "frost::core::floor_sink"), threads);
  const double t = best_time(exec, repeats, [&] {
    Kokkos::parallel_for(
        "frost::core::floor_fma", Kokkos::RangePolicy<Exec>(exec, 0, threads),
        KOKKOS_LAMBDA(std::size_t i) {
          S acc[kChains];
          for (int c = 0; c < kChains; ++c) acc[c] = S(i % 7) * S(1e-3) + S(c);
          const S a = S(0.999999), b = S(1e-7);
          for (int s = 0; s < kSteps; ++s)
            for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * a + b;
          S total = 0;
          for (int c = 0; c < kChains; ++c) total += acc[c];
          sink(i) = total;
        });
  });
  return 2.0 * kChains * kSteps * static_cast<double>(threads) / std::max(t, 1e-12);
}

/// sin+cos pairs per second in scalar type S (dependent chains, full-accuracy library calls):
/// the floor of kernels dominated by phase evaluation.
template <class Exec, class S>
double sincos_rate(const Exec& exec, int repeats = 3) {
  using Mem = typename Exec::memory_space;
  constexpr int kChains = 4, kSteps = 64;
  const std::size_t threads = Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible
                                  ? std::size_t(Exec().concurrency()) * 64
                                  : std::size_t(1) << 20;
  Kokkos::View<S*, Mem> sink(Kokkos::view_alloc(exec, "frost::core::floor_sink"), threads);
  const double t = best_time(exec, repeats, [&] {
    Kokkos::parallel_for(
        "frost::core::floor_sincos", Kokkos::RangePolicy<Exec>(exec, 0, threads),
        KOKKOS_LAMBDA(std::size_t i) {
          S x[kChains];
          for (int c = 0; c < kChains; ++c) x[c] = S(i % 1000) * S(0.01) + S(c);
          for (int s = 0; s < kSteps; ++s)
            for (int c = 0; c < kChains; ++c)
              x[c] = Kokkos::Experimental::sin(x[c]) + Kokkos::Experimental::cos(x[c]) * S(3);
          S total = 0;
          for (int c = 0; c < kChains; ++c) total += x[c];
          sink(i) = total;
        });
  });
  return double(kChains) * kSteps * static_cast<double>(threads) / std::max(t, 1e-12);
}

}  // namespace frost::core

namespace frost::core {

/// One line of the benchmark harness' table (perf/run_gpu.sh collects every line starting with
/// "row"): kernel, size, seconds per call, achieved rate and its unit, the floor rate in the same
/// unit, and achieved/floor.
inline void print_row(const char* kernel, const char* size, double seconds, double achieved,
                      const char* unit, double floor, const char* floor_name) {
  std::printf("row\t%s\t%s\t%.4g\t%.4g\t%s\t%.4g\t%s\t%.3f\n", kernel, size, seconds, achieved,
              unit, floor, floor_name, floor > 0 ? achieved / floor : 0.0);
}

}  // namespace frost::core
