#include "asi/mode_b.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "asi/enumerate.hpp"
#include "asi/incidence.hpp"
#include "asi/lattice_generators.hpp"
#include "core/rng.hpp"

namespace {

using frost::asi::EdgeSamplerConfig;
using frost::asi::Lattice;
using Space = Kokkos::HostSpace;
using Exec = Kokkos::DefaultHostExecutionSpace;
using Sampler = frost::asi::EdgeAutoregressiveSampler<Space>;
using States = std::vector<std::vector<std::int8_t>>;

EdgeSamplerConfig small_config(std::uint64_t seed, int layers = 2, int width = 6) {
  EdgeSamplerConfig c;
  c.network.layers = layers;
  c.network.width = width;
  c.network.readout_scale = 2.0;  // visibly non-uniform conditionals before training
  c.seed = seed;
  return c;
}

/// Every assignment of the free islands (fixed islands at their values), 2^free states.
States all_configurations(const Lattice& lattice) {
  const int n1 = lattice.edge_count();
  std::vector<int> free;
  for (int e = 0; e < n1; ++e)
    if (lattice.fixed_spin.empty() || lattice.fixed_spin[e] == 0) free.push_back(e);
  States out;
  for (std::uint64_t bits = 0; bits < (std::uint64_t{1} << free.size()); ++bits) {
    std::vector<std::int8_t> s(n1);
    for (int e = 0; e < n1; ++e) s[e] = lattice.fixed_spin.empty() ? 1 : lattice.fixed_spin[e];
    for (std::size_t k = 0; k < free.size(); ++k) s[free[k]] = (bits >> k) & 1u ? 1 : -1;
    out.push_back(s);
  }
  return out;
}

States random_states(int count, int n1, std::uint64_t seed) {
  frost::core::RandomStream rng(seed, 0, 0);
  States out(count, std::vector<std::int8_t>(n1));
  for (auto& s : out)
    for (auto& v : s) v = rng.uniform() < 0.5 ? 1 : -1;
  return out;
}

TEST(ModeB, CausalMaskHoldsNumerically) {
  for (const Lattice& lattice :
       {frost::asi::make_square(3, "open"), frost::asi::make_kagome(1, "open")}) {
    const int n1 = lattice.edge_count();
    Sampler sampler(lattice, small_config(4, 3, 5));
    const auto& order = sampler.order();
    const States base = random_states(4, n1, 17);
    // Row t: the base states with every island at position >= t replaced by a fresh random
    // spin (the island at t itself included).
    States changed;
    for (int t = 0; t < n1; ++t) {
      const States other = random_states(4, n1, 100 + t);
      for (std::size_t s = 0; s < base.size(); ++s) {
        auto st = base[s];
        for (int u = t; u < n1; ++u) st[order[u]] = other[s][order[u]];
        changed.push_back(st);
      }
    }
    const auto z0 = sampler.logits(Exec(), Sampler::to_device(base));
    const auto z1 = sampler.logits(Exec(), Sampler::to_device(changed));
    int influenced = 0;
    for (int t = 0; t < n1; ++t) {
      for (std::size_t s = 0; s < base.size(); ++s) {
        const std::size_t row = t * base.size() + s;
        for (int u = 0; u < n1; ++u) {
          const int e = order[u];
          const double diff = std::fabs(z1(row, e) - z0(s, e));
          // The conditional of the island at u <= t sees only positions < u <= t: unchanged.
          if (u <= t) {
            EXPECT_EQ(diff, 0.0) << lattice.kind << " changed from " << t << ", read at " << u;
          } else if (diff > 1e-6) {
            ++influenced;
          }
        }
      }
    }
    // The masks let earlier islands through: later conditionals do move.
    EXPECT_GT(influenced, n1) << lattice.kind;
  }
}

TEST(ModeB, TeacherForcedLogQEqualsSampledLogQ) {
  const Lattice lattice = frost::asi::make_square(4, "open");
  Sampler sampler(lattice, small_config(3));
  const auto batch = sampler.sample(Exec(), 40, 2);
  const std::vector<double> forced = sampler.teacher_force(Exec(), batch.states);
  const auto log_q = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), batch.log_q);
  int distinct = 0;
  for (int s = 0; s < 40; ++s) {
    EXPECT_NEAR(forced[s], log_q(s), 1e-12);
    EXPECT_LT(log_q(s), 0.0);
    if (std::fabs(log_q(s) - log_q(0)) > 1e-9) ++distinct;
  }
  EXPECT_GT(distinct, 0);
  // The same (seed, run, chains) give the same samples; another run gives others.
  EXPECT_EQ(Sampler::to_host(sampler.sample(Exec(), 40, 2).states), Sampler::to_host(batch.states));
  EXPECT_NE(Sampler::to_host(sampler.sample(Exec(), 40, 3).states), Sampler::to_host(batch.states));
  // Chains are independent of the batch they are drawn in.
  const auto tail = Sampler::to_host(sampler.sample(Exec(), 10, 2, 30).states);
  const auto all = Sampler::to_host(batch.states);
  for (int s = 0; s < 10; ++s) EXPECT_EQ(tail[s], all[30 + s]);
}

TEST(ModeB, ProbabilitiesSumToOneOverAllConfigurations) {
  const std::vector<Lattice> lattices = {frost::asi::make_square(3, "open"),
                                         frost::asi::make_kagome(1, "open"),
                                         frost::asi::make_square(2, "domain_wall")};
  for (const Lattice& lattice : lattices) {
    Sampler sampler(lattice, small_config(9));
    const States all = all_configurations(lattice);
    const std::vector<double> lq = sampler.log_q(Exec(), all);
    double total = 0.0, max_q = 0.0;
    for (double v : lq) {
      total += std::exp(v);
      max_q = std::max(max_q, std::exp(v));
    }
    EXPECT_NEAR(total, 1.0, 1e-12) << lattice.kind << " " << lattice.boundary;
    EXPECT_GT(max_q, 2.0 / all.size()) << "q should not be uniform before training";
    // A state against a fixed island has q = 0.
    auto bad = all[0];
    bool has_fixed = false;
    for (std::size_t e = 0; e < bad.size() && !has_fixed; ++e)
      if (!lattice.fixed_spin.empty() && lattice.fixed_spin[e] != 0) {
        bad[e] = static_cast<std::int8_t>(-bad[e]);
        has_fixed = true;
      }
    if (has_fixed) {
      EXPECT_EQ(sampler.log_q(Exec(), {bad})[0], -INFINITY);
    }
    EXPECT_EQ(has_fixed, lattice.boundary == "domain_wall");
  }
}

TEST(ModeB, SampleFrequenciesFollowQ) {
  // Brute force on the 2 x 2 open square (4 islands, 16 states): the sampler's frequencies
  // against q from teacher forcing, by a chi-square test with a fixed seed.
  const Lattice lattice = frost::asi::make_square(2, "open");
  Sampler sampler(lattice, small_config(12));
  const States all = all_configurations(lattice);
  const std::vector<double> lq = sampler.log_q(Exec(), all);
  const int draws = 40000;
  const auto batch = Sampler::to_host(sampler.sample(Exec(), draws, 0).states);
  std::map<std::vector<std::int8_t>, int> counts;
  for (const auto& s : batch) ++counts[s];
  double chi2 = 0.0;
  for (std::size_t k = 0; k < all.size(); ++k) {
    const double expected = draws * std::exp(lq[k]);
    const double observed = counts.count(all[k]) ? counts[all[k]] : 0;
    chi2 += (observed - expected) * (observed - expected) / expected;
  }
  // 15 degrees of freedom: P(chi2 > 40) ~ 4e-4.
  EXPECT_LT(chi2, 40.0);
}

TEST(ModeB, GradientsMatchFiniteDifferences) {
  const Lattice lattice = frost::asi::make_square(3, "open");
  Sampler sampler(lattice, small_config(5, 2, 4));
  const int n1 = lattice.edge_count();
  const States states = random_states(6, n1, 23);
  const auto dev = Sampler::to_device(states);
  const std::vector<double> w = {0.7, -1.3, 0.4, 2.0, -0.5, 1.1};
  auto& net = sampler.network();
  auto loss = [&]() {
    const auto lq = sampler.teacher_force(Exec(), dev);
    double sum = 0.0;
    for (int s = 0; s < 6; ++s) sum += w[s] * lq[s];
    return sum;
  };
  net.zero_grads(Exec());
  sampler.teacher_force(Exec(), dev, &w);
  const std::vector<double> grad(net.grads.data(), net.grads.data() + net.parameter_count());
  const double h = 1e-5;
  int nonzero = 0;
  for (int k = 0; k < net.parameter_count(); ++k) {
    const double keep = net.params(k);
    net.params(k) = keep + h;
    const double up = loss();
    net.params(k) = keep - h;
    const double down = loss();
    net.params(k) = keep;
    const double numeric = (up - down) / (2 * h);
    EXPECT_NEAR(grad[k], numeric, 1e-7 * (1.0 + std::fabs(numeric))) << "parameter " << k;
    if (std::fabs(numeric) > 1e-6) ++nonzero;
  }
  EXPECT_GT(nonzero, net.parameter_count() / 2);
}

TEST(ModeB, AnnealedTrainingReducesIceViolations) {
  const Lattice lattice = frost::asi::make_square(3, "open");
  EdgeSamplerConfig config = small_config(1, 2, 8);
  config.network.readout_scale = 0.1;
  config.learning_rate = 0.02;
  Sampler sampler(lattice, config);
  frost::asi::AnnealSchedule schedule;
  schedule.t_start = 1.0;
  schedule.t_end = 0.2;
  schedule.lambda_start = 0.5;
  schedule.lambda_end = 2.0;
  schedule.epochs = 120;
  double first = 0.0, last = 0.0, mismatch = 0.0;
  const int epochs = 150;
  for (int e = 0; e < epochs; ++e) {
    const auto st = sampler.train_step(Exec(), 32, static_cast<std::uint32_t>(e),
                                       schedule.temperature(e), schedule.penalty_weight(e));
    if (e < 10) first += st.violation_fraction / 10;
    if (e >= epochs - 10) last += st.violation_fraction / 10;
    mismatch = std::max(mismatch, st.max_log_q_mismatch);
  }
  // Exact probability mass on ice states after training, by enumerating them.
  const auto ice = frost::asi::all_ice_states(lattice);
  double ice_mass = 0.0;
  for (double v : sampler.log_q(Exec(), ice)) ice_mass += std::exp(v);
  RecordProperty("violations_first", std::to_string(first));
  RecordProperty("violations_last", std::to_string(last));
  RecordProperty("ice_mass", std::to_string(ice_mass));
  EXPECT_LT(mismatch, 1e-10);
  EXPECT_GT(first, 0.8);
  EXPECT_LT(last, 0.15) << "first " << first << " last " << last;
  EXPECT_GT(ice_mass, 0.8);
}

}  // namespace
