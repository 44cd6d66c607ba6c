#include "asi/neural_sampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "asi/cycle_basis.hpp"
#include "asi/enumerate.hpp"
#include "asi/incidence.hpp"
#include "asi/lattice_generators.hpp"
#include "core/rng.hpp"

namespace {

using frost::asi::CycleBasis;
using frost::asi::Lattice;
using frost::asi::LoopSamplerNetConfig;
using Space = Kokkos::HostSpace;
using Exec = Kokkos::DefaultHostExecutionSpace;
using Sampler = frost::asi::LoopAutoregressiveSampler<Space>;

LoopSamplerNetConfig small_config(std::uint64_t seed) {
  LoopSamplerNetConfig c;
  c.network.layers = 2;
  c.network.width = 8;
  c.network.readout_scale = 1.0;  // a visibly non-uniform q before training
  c.seed = seed;
  c.learning_rate = 0.02;
  return c;
}

std::vector<std::vector<std::int8_t>> sector_states(const CycleBasis& basis,
                                                    const std::vector<std::int8_t>& ref) {
  std::vector<std::vector<std::int8_t>> out;
  frost::asi::for_each_state_in_sector(
      basis, ref, [&](const std::vector<std::int8_t>& s) { out.push_back(s); });
  return out;
}

TEST(LoopMpvan, SamplesAreIceStatesWithConsistentLogQ) {
  const Lattice lattice = frost::asi::make_square(4, "open");
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  const auto ref = frost::asi::ice_reference_state(lattice);
  Sampler sampler(lattice, basis, ref, small_config(3));
  const auto batch = sampler.sample(Exec(), 48, 0);
  const auto states = Sampler::to_host(batch.states);
  const auto batch_log_q = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), batch.log_q);
  const auto batch_alpha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), batch.alpha);
  const auto ref_charges = frost::asi::charges_host(lattice, ref);
  for (const auto& s : states) {
    EXPECT_TRUE(frost::asi::is_ice_state(lattice, s));
    EXPECT_EQ(frost::asi::charges_host(lattice, s), ref_charges);
  }
  // The decisions recorded while sampling are the recovered loop coefficients, and teacher
  // forcing reproduces ln q.
  const frost::asi::AlphaPeeler peeler(lattice, basis);
  const std::vector<double> forced = sampler.log_q(Exec(), states);
  int distinct_log_q = 0;
  for (std::size_t s = 0; s < states.size(); ++s) {
    const auto alpha = peeler.recover(ref, states[s]);
    for (int i = 0; i < basis.loop_count(); ++i) EXPECT_EQ(alpha[i], batch_alpha(s, i));
    EXPECT_NEAR(forced[s], batch_log_q(s), 1e-12);
    EXPECT_LT(batch_log_q(s), 0.0);
    if (s > 0 && std::fabs(batch_log_q(s) - batch_log_q(0)) > 1e-9) ++distinct_log_q;
  }
  EXPECT_GT(distinct_log_q, 0);
  // Same seed, run and chains: the same samples.
  const auto again = Sampler::to_host(sampler.sample(Exec(), 48, 0).states);
  EXPECT_EQ(again, states);
}

TEST(LoopMpvan, ProbabilitiesSumToOneOverReachableStates) {
  const std::vector<Lattice> lattices = {frost::asi::make_square(3, "open"),
                                         frost::asi::make_tetris(1),
                                         frost::asi::make_kagome(2, "open")};
  for (const Lattice& lattice : lattices) {
    const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
    const auto ref = frost::asi::ice_reference_state(lattice);
    Sampler sampler(lattice, basis, ref, small_config(5));
    const auto sector = sector_states(basis, ref);
    const frost::asi::ExactKl kl = sampler.exact_kl_to_uniform(Exec(), sector);
    frost::asi::ReachableOptions options;
    options.count_ice_states = false;
    const auto reach = frost::asi::reachable(lattice, ref, options);
    EXPECT_NEAR(kl.total_q, 1.0, 1e-12) << lattice.kind;
    EXPECT_EQ(kl.support, reach.reachable_states) << lattice.kind;
    EXPECT_GE(kl.kl, 0.0);
    RecordProperty(lattice.kind + "_reachable", static_cast<int>(kl.support));
  }
}

TEST(LoopMpvan, ReinforceDrivesKlToUniformDown) {
  const Lattice lattice = frost::asi::make_square(4, "open");
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  const auto ref = frost::asi::ice_reference_state(lattice);
  Sampler sampler(lattice, basis, ref, small_config(1));
  const auto sector = sector_states(basis, ref);
  const double kl0 = sampler.exact_kl_to_uniform(Exec(), sector).kl;
  double mismatch = 0.0;
  for (std::uint32_t epoch = 0; epoch < 100; ++epoch) {
    const auto stats = sampler.train_step(Exec(), 32, epoch);
    mismatch = std::max(mismatch, stats.max_log_q_mismatch);
  }
  const auto end = sampler.exact_kl_to_uniform(Exec(), sector);
  RecordProperty("kl_before", std::to_string(kl0));
  RecordProperty("kl_after", std::to_string(end.kl));
  RecordProperty("reachable", static_cast<int>(end.support));
  EXPECT_LT(mismatch, 1e-12);
  EXPECT_NEAR(end.total_q, 1.0, 1e-12);
  EXPECT_GT(kl0, 0.02);
  // The target for the trained Mode A sampler at L = 4.
  EXPECT_LT(end.kl, 0.01) << "KL before " << kl0 << " after " << end.kl;
}

}  // namespace

namespace {

using frost::asi::LoopEvaluation;

// Samplers differing only in the evaluation, with identical random weights: every parameter
// perturbed so that biases and gains are not at their trivial initial values.
struct SamplerPair {
  Sampler full, patch;
  SamplerPair(const Lattice& lattice, const CycleBasis& basis, const std::vector<std::int8_t>& ref,
              int layers)
      : full(lattice, basis, ref, config(layers, LoopEvaluation::full)),
        patch(lattice, basis, ref, config(layers, LoopEvaluation::patch)) {
    frost::core::RandomStream rng(99, 0, static_cast<std::uint32_t>(layers));
    auto p = full.network().params;
    for (std::size_t k = 0; k < p.extent(0); ++k) p(k) += 0.5 * (2.0 * rng.uniform() - 1.0);
    Kokkos::deep_copy(patch.network().params, p);
  }
  static LoopSamplerNetConfig config(int layers, LoopEvaluation evaluation) {
    LoopSamplerNetConfig c = small_config(17);
    c.network.layers = layers;
    c.evaluation = evaluation;
    c.max_teacher_batch = 256;  // several chunks
    return c;
  }
};

struct ReceptiveCase {
  std::string name;
  Lattice lattice;
};

std::vector<ReceptiveCase> receptive_cases() {
  return {{"square_open_6", frost::asi::make_square(6, "open")},
          {"square_periodic_6", frost::asi::make_square(6, "periodic")},
          {"kagome_open_3", frost::asi::make_kagome(3, "open")}};
}

double relative_difference(double a, double b) {
  return std::fabs(a - b) / std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

TEST(ReceptiveField, PatchLogitsEqualWholeLatticeAtEveryStep) {
  for (const ReceptiveCase& rc : receptive_cases()) {
    const CycleBasis basis = frost::asi::build_cycle_basis(rc.lattice);
    const auto ref = frost::asi::ice_reference_state(rc.lattice);
    const int n1 = rc.lattice.edge_count();
    for (int layers = 1; layers <= 3; ++layers) {
      SamplerPair pair(rc.lattice, basis, ref, layers);
      // Random spins (the network needs no ice state) and the reference.
      constexpr int kBatch = 6;
      Sampler::state_view states("states", kBatch, n1);
      frost::core::RandomStream rng(7, 0, static_cast<std::uint32_t>(layers));
      for (int e = 0; e < n1; ++e) states(0, e) = ref[e];
      for (int s = 1; s < kBatch; ++s) {
        for (int e = 0; e < n1; ++e) states(s, e) = rng.uniform() < 0.5 ? 1 : -1;
      }
      double worst = 0.0;
      long bitwise_differences = 0;
      for (int i = 0; i < basis.loop_count(); ++i) {
        const std::vector<double> full = pair.full.step_logits(Exec(), states, i);
        const std::vector<double> patch = pair.patch.step_logits(Exec(), states, i);
        for (int s = 0; s < kBatch; ++s) {
          worst = std::max(worst, relative_difference(full[s], patch[s]));
          if (full[s] != patch[s]) ++bitwise_differences;
        }
      }
      EXPECT_LE(worst, 1e-12) << rc.name << " K=" << layers;
      // Same operations in the same order: bitwise equal on the host.
      EXPECT_EQ(bitwise_differences, 0) << rc.name << " K=" << layers;
    }
  }
}

TEST(ReceptiveField, SamplesLogQAndGradientsMatchWholeLattice) {
  for (const ReceptiveCase& rc : receptive_cases()) {
    const CycleBasis basis = frost::asi::build_cycle_basis(rc.lattice);
    const auto ref = frost::asi::ice_reference_state(rc.lattice);
    for (int layers = 1; layers <= 3; ++layers) {
      SamplerPair pair(rc.lattice, basis, ref, layers);
      const auto a = pair.full.sample(Exec(), 32, 3);
      const auto b = pair.patch.sample(Exec(), 32, 3);
      const auto a_log_q = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), a.log_q),
                 b_log_q = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), b.log_q);
      const auto a_alpha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), a.alpha),
                 b_alpha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), b.alpha);
      EXPECT_EQ(Sampler::to_host(a.states), Sampler::to_host(b.states)) << rc.name;
      for (int s = 0; s < 32; ++s) {
        EXPECT_EQ(a_log_q(s), b_log_q(s)) << rc.name << " K=" << layers;
        for (int i = 0; i < basis.loop_count(); ++i) EXPECT_EQ(a_alpha(s, i), b_alpha(s, i));
      }
      const auto states = Sampler::to_host(a.states);
      const std::vector<double> fa = pair.full.log_q(Exec(), states);
      const std::vector<double> fb = pair.patch.log_q(Exec(), states);
      for (std::size_t s = 0; s < states.size(); ++s) {
        EXPECT_LE(relative_difference(fa[s], fb[s]), 1e-12) << rc.name << " K=" << layers;
        EXPECT_NEAR(fa[s], a_log_q(s), 1e-12);
      }
      // One REINFORCE step each: the same gradients, hence the same parameters.
      const auto sa = pair.full.train_step(Exec(), 24, 5);
      const auto sb = pair.patch.train_step(Exec(), 24, 5);
      EXPECT_LE(relative_difference(sa.grad_norm, sb.grad_norm), 1e-12) << rc.name;
      EXPECT_LT(sb.max_log_q_mismatch, 1e-12);
      const auto ga = pair.full.network().grads, gb = pair.patch.network().grads;
      const auto pa = pair.full.network().params, pb = pair.patch.network().params;
      long bitwise_differences = 0;
      for (std::size_t k = 0; k < ga.extent(0); ++k) {
        EXPECT_LE(relative_difference(ga(k), gb(k)), 1e-12) << rc.name << " K=" << layers;
        EXPECT_LE(relative_difference(pa(k), pb(k)), 1e-12) << rc.name << " K=" << layers;
        if (ga(k) != gb(k) || pa(k) != pb(k)) ++bitwise_differences;
      }
      // The same nonzero terms summed in the same order (eign.hpp, "Receptive field").
      EXPECT_EQ(bitwise_differences, 0) << rc.name << " K=" << layers;
    }
  }
}

TEST(ReceptiveField, PatchSizeDoesNotGrowWithL) {
  // Open square lattices: the bulk patch is the same at every L; only n1 grows.
  int previous = 0;
  for (int L : {8, 12, 20}) {
    const Lattice lattice = frost::asi::make_square(L, "open");
    const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
    LoopSamplerNetConfig c = small_config(1);
    c.evaluation = LoopEvaluation::patch;
    Sampler sampler(lattice, basis, frost::asi::ice_reference_state(lattice), c);
    if (previous > 0) {
      EXPECT_EQ(sampler.max_patch_edges(), previous) << "L=" << L;
    }
    previous = sampler.max_patch_edges();
    // K = 2 from a 4-edge face: every edge within two vertex hops of the face.
    EXPECT_LT(previous, lattice.edge_count());
    RecordProperty("patch_L" + std::to_string(L), previous);
  }
}

}  // namespace
