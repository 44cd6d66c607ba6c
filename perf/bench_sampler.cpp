// Single-core throughput of the uniform-ensemble loop samplers on the periodic square lattice,
// against a plain long-loop implementation on the same lattice (row "plain_c": spins in two
// L x L byte arrays, xorshift random bits, no graph tables), all measured the same way.
//
// A sweep is n1 = 2 L^2 attempted island flips. Per case the chain is first brought to
// equilibrium (the reference ice state of the torus has the largest winding flux, which loop
// moves relax only slowly: the first half of the budget, at least 20 sweeps, runs long loops and
// both worm moves then start from that state), then sweeps are timed one at a time and after
// each one m_x (net x moment per island: on the torus the winding flux, changed only by loops
// that wind), |m| and the vertex energy per island (energy-like; default vertex model) are
// recorded outside the timed region. Columns: sweeps/s, flips/s, walk steps per flip (short_loop
// also walks a discarded tail), tau_int of m_x, |m| and the energy in sweeps (Sokal windowing,
// observables.hpp), the lag-1 autocorrelation of m_x, decorrelated samples/s = sweeps/s / max
// tau, and the memory floor: bytes one walk step touches divided by the streaming copy
// bandwidth measured in this run (only relevant once the state outgrows the caches; L = 50 fits
// in L1/L2). Usage: bench_sampler [seconds per case, default 3].
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "asi/enumerate.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/loop_sampler.hpp"
#include "asi/observables.hpp"
#include "core/floors.hpp"

using namespace frost::asi;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Streaming copy bandwidth in bytes/s (256 MiB buffers, read + write counted).
double stream_bandwidth() {
  const std::size_t n = 256u << 20;
  std::vector<char> a(n, 1), b(n, 2);
  std::memcpy(b.data(), a.data(), n);  // touch the pages
  const double t = now();
  for (int i = 0; i < 3; ++i) std::memcpy(b.data(), a.data(), n);
  const double dt = now() - t;
  return 3.0 * 2.0 * n / dt + 0 * b[n / 2];
}

/// Lag-1 autocorrelation of one series.
double lag1(const std::vector<double>& x) {
  const double n = static_cast<double>(x.size());
  double m = 0.0;
  for (double v : x) m += v / n;
  double c0 = 0.0, c1 = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    c0 += (x[i] - m) * (x[i] - m);
    if (i + 1 < x.size()) c1 += (x[i] - m) * (x[i + 1] - m);
  }
  return c0 > 0 ? c1 / c0 : 0.0;
}

struct Row {
  double sweeps_per_s = 0, flips_per_s = 0, steps_per_flip = 1, tau_mx = 0, tau_m = 0, tau_e = 0,
         rho1 = 0;
  long sweeps = 0;
  bool mx_frozen = false;  ///< m_x never changed: its tau_int is unknown, not 1/2
  long mx_changes = 0;     ///< recorded sweeps after which m_x differed from the sweep before
};

/// Records the three observables of one state (spins in lattice island order).
struct Recorder {
  const Lattice& lat;
  const SamplerGraph& g;
  std::vector<double> mx, mabs, en;
  EnergyConstants ec;
  std::vector<double> zero;
  Recorder(const Lattice& l, const SamplerGraph& gg) : lat(l), g(gg), zero(gg.n1, 0.0) {}
  void add(const std::vector<std::int8_t>& s) {
    double x = 0.0, y = 0.0;
    for (int e = 0; e < g.n1; ++e) {
      x += s[e] * lat.island_axis[e][0];
      y += s[e] * lat.island_axis[e][1];
    }
    mx.push_back(x / g.n1);
    mabs.push_back(std::sqrt(x * x + y * y) / g.n1);
    en.push_back(configuration_energy(g, ec, zero, s) / g.n1);
  }
  void finish(Row& row) const {
    const int n = static_cast<int>(mx.size());
    const SeriesStats smx = series_stats(mx, n, 1);
    row.tau_mx = smx.tau_int;
    row.mx_frozen = smx.constant;
    for (int i = 1; i < n; ++i) row.mx_changes += mx[i] != mx[i - 1];
    row.tau_m = series_stats(mabs, n, 1).tau_int;
    row.tau_e = series_stats(en, n, 1).tau_int;
    row.rho1 = lag1(mx);
  }
};

/// The library sampler: `move` from state `start`; returns the state reached after burn-in in
/// `start` when burn_in_only.
Row run_library(const Lattice& lat, const SamplerGraph& g, MoveSet move,
                std::vector<std::int8_t>& start, double burn_seconds, double budget) {
  SamplerConfig cfg;
  cfg.move = move;
  cfg.seed = 1;
  auto k = make_chain_kernel<Kokkos::HostSpace>(g, cfg, std::vector<double>(g.n1, 0.0), 1, start);
  Kokkos::View<std::uint32_t*, Kokkos::HostSpace> keys("keys", 1);
  const Kokkos::View<const std::uint32_t*, Kokkos::HostSpace> ck = keys;
  Kokkos::DefaultHostExecutionSpace exec;
  long burn = 0;
  for (const double t0 = now(); burn < 20 || now() - t0 < burn_seconds; ++burn) {
    run_sweeps(exec, k, 1, ck);  // flip-count sweeps (moves until n1 flips)
  }
  // fixed moves per sweep from the burn-in statistics, as the sample task does
  k.moves_per_sweep =
      std::max(1, static_cast<int>(std::lround(static_cast<double>(g.n1) * k.loop_moves(0) /
                                               static_cast<double>(k.attempted(0)))));
  Recorder rec(lat, g);
  Row row;
  double t_run = 0.0;
  const std::uint64_t flips0 = k.attempted(0), steps0 = k.walk_steps(0);
  std::vector<std::int8_t> s(g.n1);
  while (t_run < budget || row.sweeps < 20) {
    const double t = now();
    run_sweeps(exec, k, 1, ck);
    t_run += now() - t;
    ++row.sweeps;
    std::copy(k.spins.data(), k.spins.data() + g.n1, s.begin());
    rec.add(s);
  }
  const double flips = static_cast<double>(k.attempted(0) - flips0);
  // tau in recorded sweeps, converted to sweeps of exactly n1 attempted flips
  const double per_sweep = flips / row.sweeps / g.n1;
  rec.finish(row);
  row.tau_mx *= per_sweep;
  row.tau_m *= per_sweep;
  row.tau_e *= per_sweep;
  row.flips_per_s = flips / t_run;
  row.sweeps_per_s = row.flips_per_s / g.n1;
  row.steps_per_flip = static_cast<double>(k.walk_steps(0) - steps0) / flips;
  start = s;
  return row;
}

/// Plain long-loop sampler on the L x L torus: h[y][x] is the island from (x, y) to (x+1, y),
/// +1 pointing right; u[y][x] the island from (x, y) to (x, y+1), +1 pointing up. One random
/// 64-bit word (xorshift64*) serves 64 binary choices; a sweep is n1 flips done in whole loops.
Row run_plain(const Lattice& lat, const SamplerGraph& g, int L, double budget) {
  std::vector<signed char> h(static_cast<std::size_t>(L) * L), u(h.size());
  // same start as the library rows: the reference state, equilibrated by the plain walk itself
  for (auto& x : h) x = 1;
  for (auto& x : u) x = 1;
  std::uint64_t rs = 0x9E3779B97F4A7C15ull, buf = 0;
  int bits = 0;
  auto next = [&]() {
    rs ^= rs >> 12;
    rs ^= rs << 25;
    rs ^= rs >> 27;
    return rs * 2685821657736338717ull;
  };
  auto bit = [&]() {
    if (bits == 0) {
      buf = next();
      bits = 64;
    }
    const int b = static_cast<int>(buf & 1u);
    buf >>= 1;
    --bits;
    return b;
  };
  const long n1 = 2L * L * L;
  // one loop: from a random vertex, flip a random out-arrow other than the arrival island
  auto loop = [&]() -> long {
    const int x0 = static_cast<int>((next() >> 33) % static_cast<std::uint64_t>(L));
    const int y0 = static_cast<int>((next() >> 33) % static_cast<std::uint64_t>(L));
    int x = x0, y = y0, came = -1;  // came: direction index of the arrival island at (x, y)
    long flips = 0;
    do {
      // directions 0 right, 1 up, 2 left, 3 down; out when the arrow leaves (x, y)
      const int xl = x == 0 ? L - 1 : x - 1, yd = y == 0 ? L - 1 : y - 1;
      signed char* isl[4] = {&h[y * L + x], &u[y * L + x], &h[y * L + xl], &u[yd * L + x]};
      const int out[4] = {*isl[0] > 0, *isl[1] > 0, *isl[2] < 0, *isl[3] < 0};
      int cand[4], n = 0;
      for (int d = 0; d < 4; ++d)
        if (out[d] && d != came) cand[n++] = d;
      const int d = n == 2 ? cand[bit()] : cand[(next() >> 33) % static_cast<std::uint64_t>(n)];
      *isl[d] = static_cast<signed char>(-*isl[d]);
      ++flips;
      if (d == 0) x = x + 1 == L ? 0 : x + 1;
      if (d == 1) y = y + 1 == L ? 0 : y + 1;
      if (d == 2) x = xl;
      if (d == 3) y = yd;
      came = (d + 2) & 3;
    } while (x != x0 || y != y0);
    return flips;
  };
  auto sweep = [&]() {
    long done = 0;
    while (done < n1) done += loop();
    return done;
  };
  for (const double t0 = now(); now() - t0 < budget / 2;) sweep();
  // make_square numbers the torus islands h[r L + c] first, then u[r L + c]
  std::vector<int> island_of_h(h.size()), island_of_u(u.size());
  for (std::size_t i = 0; i < h.size(); ++i) {
    island_of_h[i] = static_cast<int>(i);
    island_of_u[i] = static_cast<int>(h.size() + i);
  }
  Recorder rec(lat, g);
  Row row;
  double t_run = 0.0, flips = 0.0;
  std::vector<std::int8_t> s(g.n1);
  while (t_run < budget || row.sweeps < 20) {
    const double t = now();
    flips += static_cast<double>(sweep());
    t_run += now() - t;
    ++row.sweeps;
    for (std::size_t i = 0; i < h.size(); ++i) {
      s[island_of_h[i]] = h[i];
      s[island_of_u[i]] = u[i];
    }
    rec.add(s);
  }
  const double per_sweep = flips / row.sweeps / n1;
  rec.finish(row);
  row.tau_mx *= per_sweep;
  row.tau_m *= per_sweep;
  row.tau_e *= per_sweep;
  row.flips_per_s = flips / t_run;
  row.sweeps_per_s = row.flips_per_s / n1;
  return row;
}

/// Many independent long-loop chains on the default execution space (one chain per thread, the
/// sample task's layout), all sweeping at once: aggregate sweeps/s over `chains` chains, after
/// `burn` sweeps from the reference state. Returns chain-sweeps per second.
double run_parallel(const SamplerGraph& g, const std::vector<std::int8_t>& start, int chains,
                    double budget) {
  using Exec = Kokkos::DefaultExecutionSpace;
  using Mem = Exec::memory_space;
  const Exec exec;
  SamplerConfig cfg;
  cfg.move = kLongLoop;
  cfg.seed = 1;
  auto k = make_chain_kernel<Mem>(g, cfg, std::vector<double>(g.n1, 0.0), chains, start);
  Kokkos::View<std::uint32_t*, Mem> keys("frost::asi::bench_keys", chains);
  Kokkos::parallel_for(
      "frost::asi::bench_keys", Kokkos::RangePolicy<Exec>(exec, 0, chains),
      KOKKOS_LAMBDA(const int r) { keys(r) = static_cast<std::uint32_t>(r); });
  const Kokkos::View<const std::uint32_t*, Mem> ck = keys;
  run_sweeps(exec, k, 2, ck);  // flip-count sweeps settle moves_per_sweep's statistics
  exec.fence();
  long sweeps = 0;
  const double t0 = now();
  double t = 0.0;
  while (t < budget || sweeps < 4) {
    run_sweeps(exec, k, 2, ck);
    exec.fence();
    sweeps += 2;
    t = now() - t0;
  }
  return static_cast<double>(sweeps) * chains / t;
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  const double budget = argc > 1 ? std::atof(argv[1]) : 3.0;
  const double bw = stream_bandwidth();
  // per walk step: out-mask word read and written at both ends (4 + 4 + 4 B), offsets (4 B),
  // packed slot record (8 B), spin read and write (2 B)
  const double bytes_per_flip = 26.0;
  std::printf("stream copy bandwidth %.2f GB/s, %.0f B per walk step\n", bw / 1e9, bytes_per_flip);
  std::printf("%5s %-10s %11s %11s %6s %8s %8s %8s %6s %11s %11s %7s %7s\n", "L", "move",
              "sweeps/s", "flips/s", "st/fl", "tau_mx", "tau_|m|", "tau_E", "rho1", "decorr/s",
              "floor fl/s", "sweeps", "mx_chg");
  // A move that never changed m_x in the whole run (short worms rarely wind around the torus)
  // has no measurable tau_int for it: printed as "frozen", with 0 decorrelated samples/s.
  auto print = [&](int L, const char* name, const Row& r) {
    const double tau = std::max({r.tau_mx, r.tau_m, r.tau_e, 0.5});
    char tmx[16];
    std::snprintf(tmx, sizeof tmx, "%.3f", r.tau_mx);
    std::printf("%5d %-10s %11.4g %11.4g %6.2f %8s %8.3f %8.3f %6.3f %11.4g %11.4g %7ld %7ld\n", L,
                name, r.sweeps_per_s, r.flips_per_s, r.steps_per_flip, r.mx_frozen ? "frozen" : tmx,
                r.tau_m, r.tau_e, r.rho1, r.mx_frozen ? 0.0 : r.sweeps_per_s / tau,
                bw / bytes_per_flip, r.sweeps, r.mx_changes);
    std::fflush(stdout);
  };
  const bool parallel_only = argc > 2 && std::strcmp(argv[2], "parallel") == 0;
  for (int L : {50, 200, 1000}) {
    const Lattice lat = make_square(L, "periodic");
    const SamplerGraph g = build_sampler_graph(lat);
    auto state = ice_reference_state(lat);
    const Row longr = run_library(lat, g, kLongLoop, state, budget / 2, budget);
    print(L, "long_loop", longr);
    if (!parallel_only) {
      print(L, "short_loop", run_library(lat, g, kShortLoop, state, 0.0, budget));
      print(L, "plain_c", run_plain(lat, g, L, budget));
    }
    // All chains of the default backend at once, started from the equilibrated state; tau is
    // the move's (in sweeps), measured above on one chain, as it does not depend on hardware.
    using Exec = Kokkos::DefaultExecutionSpace;
    const bool host = Kokkos::SpaceAccessibility<Kokkos::HostSpace, Exec::memory_space>::accessible;
    const int chains = host ? Exec().concurrency() : (L <= 50 ? 131072 : L <= 200 ? 16384 : 1024);
    const double chain_sweeps = run_parallel(g, state, chains, budget);
    const double tau = std::max({longr.tau_mx, longr.tau_m, longr.tau_e, 0.5});
    const double flips = chain_sweeps * g.n1 * longr.steps_per_flip;
    std::printf("%5d %-10s %d chains on %s: %.4g chain-sweeps/s, %.4g decorrelated samples/s\n", L,
                "parallel", chains, Exec::name(), chain_sweeps, chain_sweeps / tau);
    const std::string size = "L=" + std::to_string(L) + ", " + std::to_string(chains) + " chains";
    const double floor_bw = frost::core::copy_bandwidth(Exec(), std::size_t(1) << 28);
    frost::core::print_row("asi long_loop sweeps", size.c_str(), 1.0 / chain_sweeps * chains,
                           flips * bytes_per_flip, "B/s", floor_bw, "copy bandwidth");
    std::printf("row\tasi decorrelated samples\t%s\t-\t%.4g\tsamples/s\t1e6\tgoal\t%.3f\n",
                size.c_str(), chain_sweeps / tau, chain_sweeps / tau / 1e6);
    std::fflush(stdout);
  }
  return 0;
}
