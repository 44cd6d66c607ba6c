// Single-core throughput of the loop samplers on the periodic square lattice: sweeps/s (attempted
// island flips / n1 per second), island flips/s, decorrelated samples/s (sweeps/s divided by the
// largest tau_int of the energy and magnetisation series) and flips/s against a memory-traffic
// floor (bytes a flip touches divided by the measured streaming bandwidth). Usage: bench_sampler
// [seconds per case, default 1.5].
#include <Kokkos_Core.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "asi/lattice_generators.hpp"
#include "asi/loop_sampler.hpp"
#include "asi/observables.hpp"

using namespace frost::asi;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Streaming copy bandwidth in bytes/s (256 MiB buffers).
double stream_bandwidth() {
  const std::size_t n = 256u << 20;
  std::vector<char> a(n, 1), b(n, 2);
  const double t = now();
  for (int i = 0; i < 3; ++i) std::memcpy(b.data(), a.data(), n);
  const double dt = now() - t;
  return 3.0 * 2.0 * n / dt + 0 * b[n / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  const double budget = argc > 1 ? std::atof(argv[1]) : 1.5;
  const double bw = stream_bandwidth();
  std::printf("stream bandwidth %.2f GB/s\n", bw / 1e9);
  std::printf("%6s %-10s %10s %12s %12s %8s %14s %12s\n", "L", "move", "n1", "sweeps/s", "flips/s",
              "tau_max", "decorr.samp/s", "floor flips/s");
  for (int L : {50, 200, 1000}) {
    const Lattice lat = make_square(L, "periodic");
    const SamplerGraph g = build_sampler_graph(lat);
    const auto init = initial_ice_state(g);
    for (MoveSet move : {kShortLoop, kLongLoop}) {
      SamplerConfig cfg;
      cfg.move = move;
      cfg.seed = 1;
      auto k =
          make_chain_kernel<Kokkos::HostSpace>(g, cfg, std::vector<double>(g.n1, 0.0), 1, init);
      Kokkos::View<std::uint32_t*, Kokkos::HostSpace> keys("keys", 1);
      const Kokkos::View<const std::uint32_t*, Kokkos::HostSpace> ck = keys;
      Kokkos::DefaultHostExecutionSpace exec;
      run_sweeps(exec, k, 1, ck);  // one flip-count sweep to calibrate
      k.moves_per_sweep = std::max(
          1, static_cast<int>(static_cast<double>(g.n1) * k.loop_moves(0) / k.attempted(0)));
      for (int i = 0; i < 20 && L <= 200; ++i) run_sweeps(exec, k, 1, ck);  // burn-in
      std::vector<double> e_series, m_series;
      double t_run = 0.0;
      long sweeps = 0;
      const std::uint64_t flips0 = k.attempted(0);
      EnergyConstants ec;
      const std::vector<double> zero(g.n1, 0.0);
      while (t_run < budget || sweeps < 4) {
        const double t = now();
        run_sweeps(exec, k, 1, ck);
        t_run += now() - t;
        ++sweeps;
        std::vector<std::int8_t> s(k.spins.data(), k.spins.data() + g.n1);
        e_series.push_back(configuration_energy(g, ec, zero, s));
        double mx = 0.0;
        for (int e = 0; e < g.n1; ++e) mx += s[e] * lat.island_axis[e][0];
        m_series.push_back(mx);
      }
      const double flips = static_cast<double>(k.attempted(0) - flips0);
      const int n = static_cast<int>(e_series.size());
      // tau_int in units of recorded sweeps, converted to units of n1 flips
      const double flips_per_sweep = flips / sweeps / g.n1;
      const double tau = flips_per_sweep * std::max(series_stats(e_series, n, 1).tau_int,
                                                    series_stats(m_series, n, 1).tau_int);
      // per walk step: spins of the vertex's 4 slots (4 B), slot_edge (16 B), slot_sign and
      // slot_free (8 B), offsets (8 B), the flipped spin (2 B), stamps/positions (8 B)
      const double bytes_per_flip = 46.0;
      std::printf("%6d %-10s %10d %12.4g %12.4g %8.2f %14.4g %12.4g\n", L,
                  move == kShortLoop ? "short_loop" : "long_loop", g.n1, flips / g.n1 / t_run,
                  flips / t_run, tau, flips / g.n1 / t_run / tau, bw / bytes_per_flip);
      std::fflush(stdout);
    }
  }
  return 0;
}
