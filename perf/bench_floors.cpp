// The floors every other benchmark is judged against, measured on this backend and device:
// copy bandwidth, FP32/FP64 fused multiply-add peak, sin+cos throughput.
//   bench_floors [bytes]   (default 1 GiB on a GPU, 256 MiB on the host)
#include <Kokkos_Core.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/floors.hpp"
#include "core/provenance.hpp"

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  using Exec = Kokkos::DefaultExecutionSpace;
  const Exec exec;
  const bool host = Kokkos::SpaceAccessibility<Kokkos::HostSpace, Exec::memory_space>::accessible;
  const std::size_t bytes = argc > 1 ? std::strtoull(argv[1], nullptr, 10)
                                     : (host ? std::size_t(256) << 20 : std::size_t(1) << 30);
  std::printf("backend %s, concurrency %d, commit %s\n", Exec::name(), exec.concurrency(),
              frost::core::frost_commit().c_str());
  const double bw = frost::core::copy_bandwidth(exec, bytes);
  const double f32 = frost::core::fma_rate<Exec, float>(exec);
  const double f64 = frost::core::fma_rate<Exec, double>(exec);
  const double sc32 = frost::core::sincos_rate<Exec, float>(exec);
  const double sc64 = frost::core::sincos_rate<Exec, double>(exec);
  const std::string size = std::to_string(bytes >> 20) + " MiB";
  frost::core::print_row("floor: copy bandwidth", size.c_str(), 0, bw, "B/s", bw, "itself");
  frost::core::print_row("floor: fp32 fma", "-", 0, f32, "flop/s", f32, "itself");
  frost::core::print_row("floor: fp64 fma", "-", 0, f64, "flop/s", f64, "itself");
  frost::core::print_row("floor: fp32 sin+cos", "-", 0, sc32, "pairs/s", sc32, "itself");
  frost::core::print_row("floor: fp64 sin+cos", "-", 0, sc64, "pairs/s", sc64, "itself");
  return 0;
}
