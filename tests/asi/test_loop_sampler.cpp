// Loop moves: exact detailed balance and irreducibility on enumerated sectors, charge
// conservation of the kernels, and bitwise-identical restarts of the sample task.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <queue>

#include "asi/enumerate.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/loop_sampler.hpp"
#include "asi/observables.hpp"
#include "asi/sample_task.hpp"
#include "core/checkpoint.hpp"
#include "core/progress.hpp"

namespace frost::asi {
namespace {

/// Every configuration of the free islands whose charges equal those of `ref`.
std::vector<std::vector<std::int8_t>> brute_force_sector(const SamplerGraph& g,
                                                         const std::vector<std::int8_t>& ref) {
  const auto target = vertex_charges(g, ref);
  const int nf = static_cast<int>(g.free_edges.size());
  std::vector<std::vector<std::int8_t>> out;
  for (long m = 0; m < (1L << nf); ++m) {
    auto s = ref;
    for (int i = 0; i < nf; ++i) s[g.free_edges[i]] = (m >> i) & 1 ? 1 : -1;
    if (vertex_charges(g, s) == target) out.push_back(s);
  }
  return out;
}

struct Case {
  int L;
  const char* boundary;
  MoveSet move;
};

class ExactBalance : public ::testing::TestWithParam<Case> {};

TEST_P(ExactBalance, SymmetricRowStochasticAndIrreducible) {
  const Case c = GetParam();
  const Lattice lat = make_square(c.L, c.boundary);
  const SamplerGraph g = build_sampler_graph(lat);
  const auto init = ice_reference_state(lat);
  ASSERT_TRUE(is_ice_state(g, init));
  const auto states = brute_force_sector(g, init);
  const int K = static_cast<int>(states.size());
  ASSERT_GT(K, 1);
  std::map<std::vector<std::int8_t>, int> index;
  for (int i = 0; i < K; ++i) index[states[i]] = i;
  std::vector<double> T(static_cast<std::size_t>(K) * K, 0.0);
  for (int a = 0; a < K; ++a) {
    for (const auto& [t, p] : exact_transitions(g, c.move, states[a])) {
      auto it = index.find(t);
      ASSERT_NE(it, index.end()) << "a move left the charge sector";
      T[static_cast<std::size_t>(a) * K + it->second] += p;
    }
  }
  for (int a = 0; a < K; ++a) {
    double row = 0.0;
    for (int b = 0; b < K; ++b) row += T[static_cast<std::size_t>(a) * K + b];
    EXPECT_NEAR(row, 1.0, 1e-12);
    for (int b = 0; b < a; ++b) {
      EXPECT_NEAR(T[static_cast<std::size_t>(a) * K + b], T[static_cast<std::size_t>(b) * K + a],
                  1e-13)
          << "states " << a << ", " << b;
    }
  }
  // communicating class of state 0
  std::vector<char> seen(K, 0);
  std::queue<int> q;
  q.push(0);
  seen[0] = 1;
  int reached = 1;
  while (!q.empty()) {
    const int a = q.front();
    q.pop();
    for (int b = 0; b < K; ++b) {
      if (!seen[b] && T[static_cast<std::size_t>(a) * K + b] > 0) {
        seen[b] = 1;
        ++reached;
        q.push(b);
      }
    }
  }
  RecordProperty("sector_states", K);
  RecordProperty("reachable_from_first", reached);
  if (c.move != kBasisLoop) {
    EXPECT_EQ(reached, K) << "worm moves must be irreducible";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Square, ExactBalance,
    ::testing::Values(Case{3, "open", kShortLoop}, Case{3, "open", kLongLoop},
                      Case{3, "open", kBasisLoop}, Case{3, "periodic", kShortLoop},
                      Case{3, "periodic", kLongLoop}, Case{3, "periodic", kBasisLoop},
                      Case{3, "domain_wall", kShortLoop}, Case{3, "domain_wall", kLongLoop}));

TEST(LoopSampler, KernelsKeepChargesAndIceRule) {
  for (const char* boundary : {"open", "periodic", "domain_wall"}) {
    const Lattice lat = make_square(6, boundary);
    const SamplerGraph g = build_sampler_graph(lat);
    const auto init = ice_reference_state(lat);
    ASSERT_TRUE(is_ice_state(g, init)) << boundary;
    for (MoveSet m : {kShortLoop, kLongLoop, kBasisLoop}) {
      SamplerConfig cfg;
      cfg.move = m;
      cfg.seed = 11;
      auto k =
          make_chain_kernel<Kokkos::HostSpace>(g, cfg, std::vector<double>(g.n1, 0.0), 3, init);
      Kokkos::View<std::uint32_t*, Kokkos::HostSpace> keys("keys", 3);
      for (int r = 0; r < 3; ++r) keys(r) = r;
      const Kokkos::View<const std::uint32_t*, Kokkos::HostSpace> ck = keys;
      run_sweeps(Kokkos::DefaultHostExecutionSpace(), k, 20, ck);
      long changed = 0;
      for (int r = 0; r < 3; ++r) {
        std::vector<std::int8_t> s(k.spins.data() + r * g.n1, k.spins.data() + (r + 1) * g.n1);
        EXPECT_EQ(vertex_charges(g, s), vertex_charges(g, init)) << boundary << " move " << m;
        for (int e = 0; e < g.n1; ++e) {
          changed += s[e] != init[e];
          if (g.fixed_spin[e] != 0) {
            EXPECT_EQ(s[e], g.fixed_spin[e]);
          }
        }
        EXPECT_EQ(k.error(r), 0);
      }
      EXPECT_GT(changed, 0) << boundary << " move " << m;
    }
  }
}

// A reversible chain has period 1 or 2, and the worm chains can have period 2: on open kagome
// L = 2 and 3 no walk ever gives up (every vertex of an ice state has an out-arrow) and the
// sector is {s, sA, sB, sAB} for two loops A, B of which every move flips exactly one, so the
// one-move chain alternates between {s, sAB} and {sA, sB}. A fixed number of moves between
// recorded samples would then show only the half of the sector that has the start's parity
// (the kernel must randomise the parity of every sweep's move count). Every moves-per-sweep
// setting, odd and even, must visit the whole sector uniformly.
TEST(LoopSampler, KagomeOpenPeriodicChainVisitsTheWholeSectorUniformly) {
  for (int L : {2, 3}) {
    const Lattice lat = make_kagome(L, "open");
    const SamplerGraph g = build_sampler_graph(lat);
    const auto init = ice_reference_state(lat);
    std::map<std::vector<std::int8_t>, int> index;
    for_each_state_in_sector(lat, init, [&](const std::vector<std::int8_t>& s) {
      const int i = static_cast<int>(index.size());
      index.emplace(s, i);
    });
    const int K = static_cast<int>(index.size());
    ASSERT_EQ(K, 4) << "L = " << L;
    // the one-move chain never stays put (the case that needs the parity randomisation)
    for (const auto& [s, i] : index) {
      for (const auto& [t, p] : exact_transitions(g, kShortLoop, s)) {
        EXPECT_TRUE(t != s || p == 0.0) << "L = " << L << " state " << i;
      }
    }
    // within a class the rarer loop flips in about 1 move of 40 (L = 3): about 400 moves of
    // burn-in and 120 between samples keep the samples' correlation out of the chi-square test
    const int R = 64, samples = 16;
    for (int M : {1, 2, 3, 4}) {
      const int burn_in = 400 / M, thin = 120 / M;  // M * thin even: no parity change by itself
      SamplerConfig cfg;
      cfg.move = kShortLoop;
      cfg.seed = 5;
      cfg.run = static_cast<std::uint32_t>(10 * L + M);
      auto k =
          make_chain_kernel<Kokkos::HostSpace>(g, cfg, std::vector<double>(g.n1, 0.0), R, init);
      k.moves_per_sweep = M;
      Kokkos::View<std::uint32_t*, Kokkos::HostSpace> keys("keys", R);
      for (int r = 0; r < R; ++r) keys(r) = r;
      const Kokkos::View<const std::uint32_t*, Kokkos::HostSpace> ck = keys;
      run_sweeps(Kokkos::DefaultHostExecutionSpace(), k, burn_in, ck);
      std::vector<double> counts(K, 0.0);
      for (int n = 0; n < samples; ++n) {
        run_sweeps(Kokkos::DefaultHostExecutionSpace(), k, thin, ck);
        for (int r = 0; r < R; ++r) {
          const std::vector<std::int8_t> s(k.spins.data() + r * g.n1,
                                           k.spins.data() + (r + 1) * g.n1);
          const auto it = index.find(s);
          ASSERT_NE(it, index.end()) << "left the sector";
          counts[it->second] += 1.0;
        }
      }
      const UniformityTest u = uniformity_test(counts);
      for (int i = 0; i < K; ++i) {
        EXPECT_GT(counts[i], 0.0) << "L = " << L << " moves per sweep " << M << " state " << i;
      }
      EXPECT_GT(u.p_value, 1e-3) << "L = " << L << " moves per sweep " << M << " chi2 " << u.chi2;
    }
  }
}

core::ParamSet make_params(const std::map<std::string, core::Value>& overrides) {
  core::ParamRegistry reg("asi");
  declare_sample_params(reg);
  std::map<std::string, core::Value> values;
  for (const auto& spec : reg.specs()) values[spec.path] = spec.default_value;
  for (const auto& [k, v] : overrides) {
    EXPECT_TRUE(values.count("asi." + k)) << k;
    values["asi." + k] = v;
  }
  return core::ParamSet("asi", values);
}

core::RunResult run_task(const core::ParamSet& params, const Lattice& lat,
                         const std::string& ckpt = "", long every = 0) {
  core::RunResult result;
  core::Checkpointer checkpoint(ckpt, every, 0.0);
  core::Progress progress(false, 1);
  core::RunContext ctx{params, 3, 2024, result, checkpoint, progress};
  run_sample_task(ctx, lat);
  return result;
}

/// The result without timing scalars, serialised for bitwise comparison.
std::vector<char> stable_bytes(core::RunResult r) {
  std::vector<std::pair<std::string, core::Value>> kept;
  for (auto& kv : r.results)
    if (kv.first.find("per_second") == std::string::npos) kept.push_back(kv);
  r.results = kept;
  return core::serialize(r);
}

TEST(SampleTask, DefaultsRunAndRestartIsBitwiseIdentical) {
  const Lattice lat = make_square(6, "periodic");
  for (const char* ensemble : {"uniform", "thermal"}) {
    std::map<std::string, core::Value> o = {{"sample.ensemble", core::Value::of_string(ensemble)},
                                            {"sample.sweeps", core::Value::of_int(300)},
                                            {"sample.burn_in", core::Value::of_int(50)},
                                            {"sample.thin", core::Value::of_int(3)},
                                            {"output.states_every", core::Value::of_int(10)},
                                            {"output.sq_points", core::Value::of_int(9)},
                                            {"output.sq_every", core::Value::of_int(5)}};
    if (std::string(ensemble) == "thermal")
      o["temperatures"] = core::Value::of_real_list({0.8, 1.5, 3.0});
    const auto full = run_task(make_params(o), lat);
    ASSERT_NE(full.find("energy"), nullptr);
    EXPECT_EQ(full.find("samples")->i, 100 * 4);
    ASSERT_NE(full.find("tau_int_energy"), nullptr);
    EXPECT_GE(full.find("tau_int_energy")->r, 0.5);
    ASSERT_NE(full.find("monopole_density"), nullptr);
    if (std::string(ensemble) == "uniform") {
      EXPECT_EQ(full.find("monopole_density")->r, 0.0);
      ASSERT_NE(full.find("type_I"), nullptr);
      EXPECT_NEAR(full.find("type_I")->r + full.find("type_II")->r, 1.0, 1e-12);
    } else {
      ASSERT_NE(full.find("swap_rate_0"), nullptr);
      EXPECT_GT(full.find("swap_rate_0")->r, 0.0);
    }
    EXPECT_FALSE(full.artifacts.empty());
    // interrupted: a first invocation stops at sweep 200 (checkpoint every sweep), the second
    // resumes from its snapshot
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("frost_sample_ckpt_" + std::string(ensemble) + ".bin"))
                                 .string();
    std::filesystem::remove(path);
    auto half = o;
    half["sample.sweeps"] = core::Value::of_int(150);
    run_task(make_params(half), lat, path, 25);
    const auto resumed = run_task(make_params(o), lat, path, 1000000);
    std::filesystem::remove(path);
    EXPECT_EQ(stable_bytes(full), stable_bytes(resumed)) << ensemble;
  }
}

TEST(SampleTask, ConstantObservablesDoNotSetMaxTau) {
  // On an open lattice the magnetisation of an ice state is fixed by the boundary charges, and
  // in the uniform ensemble no vertex is charged: both series are constant.
  const Lattice lat = make_square(5, "open");
  const auto r = run_task(make_params({{"sample.sweeps", core::Value::of_int(400)},
                                       {"sample.burn_in", core::Value::of_int(20)},
                                       {"output.sq_points", core::Value::of_int(0)},
                                       {"output.states_every", core::Value::of_int(0)}}),
                          lat);
  const std::string constant = r.find("constant_observables")->s;
  EXPECT_NE(constant.find("mx"), std::string::npos) << constant;
  EXPECT_NE(constant.find("monopole_density"), std::string::npos) << constant;
  EXPECT_EQ(r.find("tau_int_mx")->r, 0.5);
  EXPECT_EQ(r.find("ess_mx")->r, static_cast<double>(r.find("samples")->i));
  EXPECT_EQ(constant.find("energy"), std::string::npos);
  EXPECT_LT(r.find("max_tau_int")->r, 100.0);
  EXPECT_GE(r.find("max_tau_int")->r, r.find("tau_int_energy")->r);
}

}  // namespace
}  // namespace frost::asi
