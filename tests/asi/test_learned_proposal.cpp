#include "asi/learned_proposal.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "asi/cycle_basis.hpp"
#include "asi/enumerate.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/loop_sampler.hpp"
#include "asi/observables.hpp"

namespace {

using frost::asi::CycleBasis;
using frost::asi::Lattice;
using frost::asi::ProposalConfig;
using Space = Kokkos::HostSpace;
using Exec = Kokkos::DefaultHostExecutionSpace;
using Sampler = frost::asi::LearnedProposalSampler<Space>;
using State = std::vector<std::int8_t>;

ProposalConfig random_network(std::uint64_t seed, double beta = 0.0) {
  ProposalConfig c;
  c.network.layers = 2;
  c.network.width = 6;
  c.network.readout_scale = 6.0;  // strongly non-uniform proposals
  c.seed = seed;
  c.beta = beta;
  return c;
}

/// Closure of `start` under reversals of directed basis loops, by breadth-first search with
/// the cycle basis' own host helpers (the reference the chain is compared with).
std::vector<State> closure(const CycleBasis& basis, const State& start) {
  std::set<State> seen = {start};
  std::deque<State> queue = {start};
  while (!queue.empty()) {
    const State s = queue.front();
    queue.pop_front();
    for (int i = 0; i < basis.loop_count(); ++i) {
      if (frost::asi::loop_direction(basis, i, s) == 0) continue;
      State t = s;
      frost::asi::flip_loop(basis, i, t);
      if (seen.insert(t).second) queue.push_back(t);
    }
  }
  return {seen.begin(), seen.end()};
}

TEST(LearnedProposal, ProposalIsADistributionOverFlippableLoops) {
  const Lattice lattice = frost::asi::make_square(4, "open");
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  const auto states = closure(basis, frost::asi::ice_reference_state(lattice));
  Sampler sampler(lattice, basis, random_network(3));
  const auto lp = sampler.proposal_log_probs(Exec(), states);
  double spread = 0.0;
  for (std::size_t s = 0; s < states.size(); ++s) {
    double total = 0.0, lo = 1.0, hi = 0.0;
    for (int i = 0; i < basis.loop_count(); ++i) {
      const bool flippable = frost::asi::loop_direction(basis, i, states[s]) != 0;
      EXPECT_EQ(std::isfinite(lp[s][i]), flippable);
      if (!flippable) continue;
      total += std::exp(lp[s][i]);
      lo = std::min(lo, std::exp(lp[s][i]));
      hi = std::max(hi, std::exp(lp[s][i]));
    }
    EXPECT_NEAR(total, 1.0, 1e-12);
    spread = std::max(spread, hi - lo);
  }
  EXPECT_GT(spread, 0.1) << "random weights should give visibly non-uniform proposals";
}

TEST(LearnedProposal, TransitionKernelSatisfiesDetailedBalanceExactly) {
  for (double beta : {0.0, 0.8}) {
    for (const Lattice& lattice :
         {frost::asi::make_square(3, "open"), frost::asi::make_square(4, "open")}) {
      const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
      const auto states = closure(basis, frost::asi::ice_reference_state(lattice));
      Sampler sampler(lattice, basis, random_network(5, beta));
      // Target weights from the independent host energy (default vertex model).
      const auto graph = frost::asi::build_sampler_graph(lattice);
      const frost::asi::EnergyConstants energy;
      const std::vector<double> zero(lattice.edge_count(), 0.0);
      std::map<State, double> pi;
      for (const auto& s : states) {
        pi[s] = std::exp(-beta * frost::asi::configuration_energy(graph, energy, zero, s));
      }
      std::map<State, std::map<State, double>> kernel;
      for (const auto& s : states) kernel[s] = sampler.exact_transitions(Exec(), s);
      double worst = 0.0, asymmetry = 0.0;
      for (const auto& [a, row] : kernel) {
        double total = 0.0;
        for (const auto& [b, p] : row) {
          total += p;
          ASSERT_TRUE(pi.count(b)) << "a move left the reachable set";
          EXPECT_GE(p, 0.0);
          const auto back = kernel[b].find(a);
          ASSERT_NE(back, kernel[b].end()) << "a move without its reverse";
          worst = std::max(worst, std::fabs(pi[a] * p - pi[b] * back->second) / pi[a]);
        }
        EXPECT_NEAR(total, 1.0, 1e-12);
      }
      // The proposals alone are not symmetric, so the Hastings factor is doing work.
      const auto lp = sampler.proposal_log_probs(Exec(), states);
      for (std::size_t s = 0; s < states.size(); ++s) {
        for (int i = 0; i < basis.loop_count(); ++i) {
          if (!std::isfinite(lp[s][i])) continue;
          State t = states[s];
          frost::asi::flip_loop(basis, i, t);
          const std::size_t k = std::lower_bound(states.begin(), states.end(), t) - states.begin();
          asymmetry = std::max(asymmetry, std::fabs(std::exp(lp[s][i]) - std::exp(lp[k][i])));
        }
      }
      EXPECT_LT(worst, 1e-12) << "L=" << lattice.vertex_count() << " beta " << beta;
      EXPECT_GT(asymmetry, 0.05);
      RecordProperty("states_" + std::to_string(lattice.vertex_count()),
                     static_cast<int>(states.size()));
    }
  }
}

TEST(LearnedProposal, LongChainWithRandomWeightsIsUniform) {
  const Lattice lattice = frost::asi::make_square(4, "open");
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  const State ref = frost::asi::ice_reference_state(lattice);
  const auto states = closure(basis, ref);
  // Moderately peaked proposals: at readout scale 2 the exact kernel relaxes from a point mass
  // to total variation 2e-5 in 512 steps (steeper proposals mix far more slowly; the exact
  // kernel test covers them).
  ProposalConfig config = random_network(11);
  config.network.width = 4;
  config.network.readout_scale = 2.0;
  Sampler sampler(lattice, basis, config);
  const int chains = 96, records = 16, thin = 120;
  sampler.start(Exec(), ref, chains, 7);
  sampler.step(Exec(), 500);  // burn-in
  std::map<State, double> counts;
  for (const auto& s : states) counts[s] = 0.0;
  for (int r = 0; r < records; ++r) {
    sampler.step(Exec(), thin);
    Exec().fence();
    const auto view = sampler.states();
    for (int c = 0; c < chains; ++c) {
      State s(view.extent(1));
      for (std::size_t e = 0; e < s.size(); ++e) s[e] = view(c, e);
      ASSERT_TRUE(counts.count(s)) << "the chain left the reachable set";
      counts[s] += 1.0;
    }
  }
  std::vector<double> c;
  for (const auto& [s, n] : counts) c.push_back(n);
  const auto test = frost::asi::uniformity_test(c);
  std::uint64_t proposed = 0, accepted = 0;
  for (int k = 0; k < chains; ++k) {
    proposed += sampler.proposed()(k);
    accepted += sampler.accepted()(k);
  }
  const double acceptance = static_cast<double>(accepted) / proposed;
  RecordProperty("states", static_cast<int>(states.size()));
  RecordProperty("chi2_per_dof", std::to_string(test.chi2 / test.dof));
  RecordProperty("acceptance", std::to_string(acceptance));
  // Samples 120 steps apart are nearly independent: chi2 / dof near 1; the bound is generous.
  const double bound = 2.0;
  EXPECT_LT(test.chi2 / test.dof, bound);
  EXPECT_LT(acceptance, 0.98) << "the Hastings factor should reject some moves";
  EXPECT_GT(acceptance, 0.05);

  // Power: the same proposals accepted always (no Hastings factor) have a stationary law whose
  // expected chi2 at this sample size is far above the bound. Power iteration on the exact
  // uncorrected kernel.
  const auto lp = sampler.proposal_log_probs(Exec(), states);
  std::vector<double> p(states.size(), 1.0 / states.size());
  for (int it = 0; it < 5000; ++it) {
    std::vector<double> next(states.size(), 0.0);
    for (std::size_t s = 0; s < states.size(); ++s) {
      double moved = 0.0;
      for (int i = 0; i < basis.loop_count(); ++i) {
        if (!std::isfinite(lp[s][i])) continue;
        State t = states[s];
        frost::asi::flip_loop(basis, i, t);
        const std::size_t k = std::lower_bound(states.begin(), states.end(), t) - states.begin();
        // Lazy chain (half the mass stays) so that the power iteration converges.
        next[k] += 0.5 * p[s] * std::exp(lp[s][i]);
        moved += 0.5 * p[s] * std::exp(lp[s][i]);
      }
      next[s] += p[s] - moved;
    }
    p = next;
  }
  const double n = static_cast<double>(chains) * records, u = 1.0 / states.size();
  double divergence = 0.0;
  for (double v : p) divergence += (v - u) * (v - u) / u;
  EXPECT_GT(n * divergence / test.dof, 5.0 * bound);
  RecordProperty("uncorrected_chi2_per_dof", std::to_string(n * divergence / test.dof));
}

TEST(LearnedProposal, ChainsAreReproducible) {
  const Lattice lattice = frost::asi::make_square(4, "open");
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  const State ref = frost::asi::ice_reference_state(lattice);
  Sampler a(lattice, basis, random_network(2)), b(lattice, basis, random_network(2));
  a.start(Exec(), ref, 6, 1);
  b.start(Exec(), ref, 3, 1, 3);  // chains 3..5 alone
  a.step(Exec(), 50);
  b.step(Exec(), 50);
  Exec().fence();
  for (int c = 0; c < 3; ++c)
    for (int e = 0; e < lattice.edge_count(); ++e)
      EXPECT_EQ(a.states()(3 + c, e), b.states()(c, e));
}

TEST(LearnedProposal, TrainingRaisesAcceptance) {
  const Lattice lattice = frost::asi::make_square(4, "open");
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  // The acceptance term alone (it drives the proposals towards moves that undo each other,
  // which the entropy term exists to resist; here only the gradient's direction is checked).
  ProposalConfig config = random_network(4);
  config.learning_rate = 0.03;
  config.entropy_weight = 0.0;
  Sampler sampler(lattice, basis, config);
  sampler.start(Exec(), frost::asi::ice_reference_state(lattice), 64, 0);
  double first = 0.0, last = 0.0;
  const int epochs = 120;
  for (int e = 0; e < epochs; ++e) {
    const auto st = sampler.train_step(Exec());
    if (e < 10) first += st.mean_acceptance / 10;
    if (e >= epochs - 10) last += st.mean_acceptance / 10;
  }
  RecordProperty("acceptance_first", std::to_string(first));
  RecordProperty("acceptance_last", std::to_string(last));
  EXPECT_GT(last, first + 0.05) << "first " << first << " last " << last;
}

}  // namespace
