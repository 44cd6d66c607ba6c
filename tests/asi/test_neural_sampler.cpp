#include "asi/neural_sampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "asi/cycle_basis.hpp"
#include "asi/enumerate.hpp"
#include "asi/incidence.hpp"
#include "asi/lattice_generators.hpp"

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
    for (int i = 0; i < basis.loop_count(); ++i) EXPECT_EQ(alpha[i], batch.alpha(s, i));
    EXPECT_NEAR(forced[s], batch.log_q(s), 1e-12);
    EXPECT_LT(batch.log_q(s), 0.0);
    if (s > 0 && std::fabs(batch.log_q(s) - batch.log_q(0)) > 1e-9) ++distinct_log_q;
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
