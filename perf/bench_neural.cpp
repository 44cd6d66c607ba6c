// Effective samples per second of the learned-proposal Metropolis-Hastings chains against the
// loop-move Monte Carlo of loop_sampler.hpp, uniform ice ensemble on the open square lattice,
// plus the time of one Mode B training epoch.
//
// Every sampler runs `chains` chains from the reference ice state; after burn-in each chain
// records m_x, m_y (net moment per island) and the vertex energy per island after every step;
// ESS is the smallest over the three of N / (2 tau_int) (Sokal windowing, observables.hpp), and
// ESS/s divides it by the wall time of the recorded steps alone. Steps: proposal = one
// Metropolis-Hastings step of every chain (one batched network pass); basis = one uniformly
// chosen face, reversed when directed (the proposal's move set with a uniform choice);
// short_loop = one sweep of worm moves (about n1 attempted flips). The proposal rows use an
// untrained network (random weights) and one trained for `train` steps on the mean acceptance.
// "distinct" counts the states visited by all chains together: a chain that bounces between
// two states (what training on acceptance alone converges to) shows tau_int ~ 1/2 and a
// meaningless ESS, and is recognised by a tiny distinct count.
// Usage: bench_neural [steps per chain, default 2000] [L list, default 4 6 10].
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "asi/enumerate.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/learned_proposal.hpp"
#include "asi/loop_sampler.hpp"
#include "asi/mode_b.hpp"
#include "asi/observables.hpp"
#include "core/runtime.hpp"
#include "core/version.hpp"

using namespace frost::asi;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// m_x, m_y and vertex energy per island of one state, appended to the three series.
struct Recorder {
  const Lattice& lat;
  SamplerGraph g;
  EnergyConstants vertex_model;
  std::vector<double> zero, mx, my, en;
  std::set<std::uint64_t> distinct;  ///< visited states (a chain bouncing between two states
                                     ///< has a misleadingly small tau_int)
  explicit Recorder(const Lattice& l)
      : lat(l), g(build_sampler_graph(l)), zero(l.edge_count(), 0.0) {}
  void add(const std::vector<std::int8_t>& s) {
    double x = 0.0, y = 0.0;
    for (int e = 0; e < g.n1; ++e) {
      x += s[e] * lat.island_axis[e][0];
      y += s[e] * lat.island_axis[e][1];
    }
    mx.push_back(x / g.n1);
    my.push_back(y / g.n1);
    en.push_back(configuration_energy(g, vertex_model, zero, s) / g.n1);
    distinct.insert(state_hash(s.data(), g.n1));
  }
  double ess(int steps, int chains) const {
    return std::min({series_stats(mx, steps, chains).ess, series_stats(my, steps, chains).ess,
                     series_stats(en, steps, chains).ess});
  }
  double tau(int steps, int chains) const {
    return std::max({series_stats(mx, steps, chains).tau_int,
                     series_stats(my, steps, chains).tau_int,
                     series_stats(en, steps, chains).tau_int});
  }
};

struct Row {
  std::string name;
  double steps_per_s = 0, acceptance = 0, tau = 0, ess = 0, ess_per_s = 0;
  std::size_t distinct = 0;
};

Row run_proposal(const Lattice& lat, const CycleBasis& basis, int chains, int steps, int train) {
  using Exec = Kokkos::DefaultExecutionSpace;
  Exec exec;
  ProposalConfig cfg;
  cfg.network.layers = 2;
  cfg.network.width = 8;
  cfg.seed = 1;
  cfg.learning_rate = 0.03;
  LearnedProposalSampler<Exec::memory_space> s(lat, basis, cfg);
  const auto ref = ice_reference_state(lat);
  if (train > 0) {
    s.start(exec, ref, chains, 0, static_cast<std::uint32_t>(chains));
    for (int e = 0; e < train; ++e) s.train_step(exec);
  }
  s.start(exec, ref, chains, 0);
  s.step(exec, std::max(200, steps / 5));
  exec.fence();
  Recorder rec(lat);
  std::vector<std::int8_t> st(lat.edge_count());
  double t_run = 0.0;
  std::uint64_t p0 = 0, a0 = 0;
  {
    auto p = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.proposed());
    auto a = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.accepted());
    for (int c = 0; c < chains; ++c) {
      p0 += p(c);
      a0 += a(c);
    }
  }
  for (int k = 0; k < steps; ++k) {
    const double t = now();
    s.step(exec, 1);
    exec.fence();
    t_run += now() - t;
    auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.states());
    for (int c = 0; c < chains; ++c) {
      for (int e = 0; e < lat.edge_count(); ++e) st[e] = host(c, e);
      rec.add(st);
    }
  }
  auto p = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.proposed());
  auto a = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.accepted());
  std::uint64_t p1 = 0, a1 = 0;
  for (int c = 0; c < chains; ++c) {
    p1 += p(c);
    a1 += a(c);
  }
  Row row;
  row.name = train > 0 ? "proposal_trained" : "proposal_random";
  row.steps_per_s = double(steps) * chains / t_run;
  row.acceptance = p1 > p0 ? double(a1 - a0) / double(p1 - p0) : 0.0;
  // series_stats wants [step][chain]: the recorder appended chain-fastest, as required.
  row.tau = rec.tau(steps, chains);
  row.ess = rec.ess(steps, chains);
  row.ess_per_s = row.ess / t_run;
  row.distinct = rec.distinct.size();
  return row;
}

Row run_loop_mc(const Lattice& lat, MoveSet move, int chains, int steps) {
  const SamplerGraph g = build_sampler_graph(lat);
  SamplerConfig cfg;
  cfg.move = move;
  cfg.seed = 1;
  auto k = make_chain_kernel<Kokkos::HostSpace>(g, cfg, std::vector<double>(g.n1, 0.0), chains,
                                                ice_reference_state(lat));
  Kokkos::View<std::uint32_t*, Kokkos::HostSpace> keys("keys", chains);
  for (int c = 0; c < chains; ++c) keys(c) = static_cast<std::uint32_t>(c);
  const Kokkos::View<const std::uint32_t*, Kokkos::HostSpace> ck = keys;
  Kokkos::DefaultHostExecutionSpace exec;
  // basis: one move per step; short_loop: a sweep of moves calibrated during burn-in.
  if (move == kBasisLoop) k.moves_per_sweep = 1;
  run_sweeps(exec, k, std::max(200, steps / 5), ck);
  exec.fence();
  if (move != kBasisLoop) {
    k.moves_per_sweep = std::max(
        1, static_cast<int>(
               std::lround(static_cast<double>(g.n1) * k.loop_moves(0) /
                           static_cast<double>(std::max<std::uint64_t>(1, k.attempted(0))))));
  }
  const std::uint64_t acc0 = k.accepted_loop(0), att0 = k.attempted_loop(0);
  Recorder rec(lat);
  std::vector<std::int8_t> st(g.n1);
  double t_run = 0.0;
  for (int s = 0; s < steps; ++s) {
    const double t = now();
    run_sweeps(exec, k, 1, ck);
    exec.fence();
    t_run += now() - t;
    for (int c = 0; c < chains; ++c) {
      for (int e = 0; e < g.n1; ++e) st[e] = k.spins(c, e);
      rec.add(st);
    }
  }
  Row row;
  row.name = move == kBasisLoop ? "loop_mc_basis" : "loop_mc_short_loop";
  row.steps_per_s = double(steps) * chains / t_run;
  // basis: fraction of attempted faces that were directed (chain 0).
  row.acceptance = move == kBasisLoop && k.attempted_loop(0) > att0
                       ? double(k.accepted_loop(0) - acc0) / double(k.attempted_loop(0) - att0)
                       : 1.0;
  row.tau = rec.tau(steps, chains);
  row.ess = rec.ess(steps, chains);
  row.ess_per_s = row.ess / t_run;
  row.distinct = rec.distinct.size();
  return row;
}

/// Seconds per Mode B training epoch (batch 64, K = 2, d = 8), median of `reps`.
double mode_b_epoch_seconds(const Lattice& lat, int reps) {
  using Exec = Kokkos::DefaultExecutionSpace;
  EdgeSamplerConfig cfg;
  cfg.network.layers = 2;
  cfg.network.width = 8;
  EdgeAutoregressiveSampler<Exec::memory_space> s(lat, cfg);
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now();
    s.train_step(Exec(), 64, static_cast<std::uint32_t>(r), 1.0, 1.0);
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  frost::core::Runtime rt(argc, argv);
  const int steps = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::vector<int> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {4, 6, 10};
  const int chains = 16;
  std::printf("bench_neural: frost %s, Kokkos backend %s, %d chains, %d recorded steps each\n",
              FROST_GIT_COMMIT_STRING, Kokkos::DefaultExecutionSpace::name(), chains, steps);
  std::printf("%4s %5s %5s %-20s %12s %10s %9s %10s %11s %9s\n", "L", "n1", "loops", "sampler",
              "steps/s", "accept", "tau_max", "ESS", "ESS/s", "distinct");
  for (int L : sizes) {
    const Lattice lat = make_square(L, "open");
    const CycleBasis basis = build_cycle_basis(lat);
    std::vector<Row> rows = {
        run_proposal(lat, basis, chains, steps, 0), run_proposal(lat, basis, chains, steps, 200),
        run_loop_mc(lat, kBasisLoop, chains, steps), run_loop_mc(lat, kShortLoop, chains, steps)};
    for (const Row& r : rows) {
      std::printf("%4d %5d %5d %-20s %12.4g %10.3f %9.2f %10.4g %11.4g %9zu\n", L, lat.edge_count(),
                  basis.beta1, r.name.c_str(), r.steps_per_s, r.acceptance, r.tau, r.ess,
                  r.ess_per_s, r.distinct);
    }
    std::printf("%4d %5d %5d %-20s %12.4g s per epoch (batch 64, K=2, d=8)\n", L, lat.edge_count(),
                basis.beta1, "mode_b_epoch", mode_b_epoch_seconds(lat, 5));
  }
  return 0;
}
