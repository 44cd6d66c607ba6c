#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "asi/enumerate.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/observables.hpp"
#include "asi/sample_quality.hpp"

using namespace frost::asi;

// Identical weights: every sample counts fully.
TEST(SampleQuality, EssOfEqualWeightsIsN) {
  const std::vector<double> lq(10, -700.0);  // exp(700) would overflow without log-sum-exp
  const ImportanceStats s = importance_stats(lq);
  EXPECT_NEAR(s.ess, 10.0, 1e-12);
  EXPECT_NEAR(s.ess_fraction, 1.0, 1e-12);
  EXPECT_NEAR(s.log_mean_weight, 700.0, 1e-9);  // ln((1/N) sum e^700)
}

// One weight e^50 times the others: ESS = (1 + 9 e^-50)^2 / (1 + 9 e^-100) ~ 1.
TEST(SampleQuality, EssOfOneDominantWeightIsOne) {
  std::vector<double> lq(10, -300.0);
  lq[3] = -350.0;  // w = e^350 against e^300
  const ImportanceStats s = importance_stats(lq);
  EXPECT_NEAR(s.ess, 1.0, 1e-12);
  EXPECT_NEAR(s.log_mean_weight, 350.0 - std::log(10.0), 1e-9);
}

// Brute force in plain doubles on small weights.
TEST(SampleQuality, EssMatchesDirectFormula) {
  const std::vector<double> lq = {-1.0, -2.0, -0.5, -3.0, -1.5};
  double s1 = 0.0, s2 = 0.0;
  for (double v : lq) {
    s1 += std::exp(-v);
    s2 += std::exp(-2 * v);
  }
  const ImportanceStats s = importance_stats(lq);
  EXPECT_NEAR(s.ess, s1 * s1 / s2, 1e-12);
  EXPECT_NEAR(s.ess_fraction, s1 * s1 / s2 / 5.0, 1e-12);
  EXPECT_NEAR(s.log_mean_weight, std::log(s1 / 5.0), 1e-12);
  // two weights 1 and 3: (4)^2 / (1 + 9) = 1.6
  EXPECT_NEAR(importance_stats({0.0, -std::log(3.0)}).ess, 1.6, 1e-12);
  EXPECT_TRUE(std::isnan(importance_stats({}).ess));
  EXPECT_TRUE(std::isnan(importance_stats({-1.0, -std::numeric_limits<double>::infinity()}).ess));
}

TEST(SampleQuality, HammingOfKnownStates) {
  // three states of 4 islands: d(a,b) = 1, d(a,c) = 4, d(b,c) = 3 -> mean (1+4+3)/3/4 = 2/3
  const std::vector<std::int8_t> s = {1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1};
  EXPECT_NEAR(mean_pair_hamming(s, 4), 8.0 / 12.0, 1e-15);
  EXPECT_TRUE(std::isnan(mean_pair_hamming({1, -1}, 2)));
  EXPECT_EQ(distinct_states(s, 4), 3u);
  const std::vector<std::int8_t> dup = {1, -1, 1, -1, -1, 1, 1, -1};
  EXPECT_EQ(distinct_states(dup, 2), 2u);
  EXPECT_NEAR(mean_pair_hamming(dup, 2), (0 + 1 + 0 + 1 + 0 + 1) / 6.0, 1e-15);
}

// The capped subset: pairs (i, i+k mod N) for k = 1..K, against a brute-force sum of them.
TEST(SampleQuality, HammingSubsetIsTheDocumentedPairs) {
  const int n1 = 5, count = 9;
  std::vector<std::int8_t> s(count * n1);
  for (int i = 0; i < count; ++i)
    for (int e = 0; e < n1; ++e) s[i * n1 + e] = ((i * 7 + e * 3) % 5) < 2 ? 1 : -1;
  const std::size_t max_pairs = 20;  // < 36 pairs: K = 20 / 9 = 2
  double sum = 0.0;
  int pairs = 0;
  for (int k = 1; k <= 2; ++k)
    for (int i = 0; i < count; ++i) {
      int d = 0;
      for (int e = 0; e < n1; ++e) d += s[i * n1 + e] != s[((i + k) % count) * n1 + e];
      sum += double(d) / n1;
      ++pairs;
    }
  EXPECT_NEAR(mean_pair_hamming(s, n1, max_pairs), sum / pairs, 1e-15);
  // uncapped: all 36 pairs
  sum = 0.0;
  for (int i = 0; i < count; ++i)
    for (int j = i + 1; j < count; ++j) {
      int d = 0;
      for (int e = 0; e < n1; ++e) d += s[i * n1 + e] != s[j * n1 + e];
      sum += double(d) / n1;
    }
  EXPECT_NEAR(mean_pair_hamming(s, n1), sum / 36.0, 1e-15);
}

TEST(SampleQuality, MeanErrorAndZ) {
  const MeanError m = mean_error({1.0, 2.0, 3.0, 4.0});
  EXPECT_DOUBLE_EQ(m.mean, 2.5);
  EXPECT_NEAR(m.error, std::sqrt((2.25 + 0.25 + 0.25 + 2.25) / 3.0 / 4.0), 1e-15);
  EXPECT_NEAR(z_score(1.0, 0.3, 0.5, 0.4), 1.0, 1e-15);
  EXPECT_EQ(z_score(0.25, 0.0, 0.25, 0.0), 0.0);
}

// Observables of the type-I-free reference: vertex-type fractions sum to one, and S_perp agrees
// with a direct evaluation of its definition.
TEST(SampleQuality, ObservablesOfAState) {
  const Lattice lat = make_square(4, "open");
  const StateObservables obs(lat);
  const int n1 = lat.edge_count();
  std::vector<std::int8_t> s(n1, 1);
  std::vector<double> v;
  obs.measure(s.data(), v);
  ASSERT_EQ(v.size(), obs.names().size());
  ASSERT_EQ(obs.names()[2], "type_I");
  EXPECT_NEAR(v[2] + v[3] + v[4] + v[5], 1.0, 1e-12);
  double mx = 0.0;
  for (int e = 0; e < n1; ++e) mx += lat.island_axis[e][0];
  EXPECT_NEAR(v[0], mx / n1, 1e-12);
  // S_perp at (pi, pi) by brute force
  const double q[2] = {M_PI, M_PI};
  double re[2] = {0, 0}, im[2] = {0, 0};
  for (int e = 0; e < n1; ++e) {
    const double ph = q[0] * lat.island_position[e][0] + q[1] * lat.island_position[e][1];
    for (int a = 0; a < 2; ++a) {
      // m_perp = axis - (axis . q^) q^
      const double dot = (lat.island_axis[e][0] + lat.island_axis[e][1]) / std::sqrt(2.0);
      const double mp = lat.island_axis[e][a] - dot / std::sqrt(2.0);
      re[a] += mp * std::cos(ph);
      im[a] += mp * std::sin(ph);
    }
  }
  const double sq = (re[0] * re[0] + im[0] * im[0] + re[1] * re[1] + im[1] * im[1]) / n1;
  EXPECT_NEAR(v[6], sq, 1e-9);
}

// The Monte Carlo reference stays in the start state's charge sector, moves, and is reproducible.
TEST(SampleQuality, LoopMcStatesStayInTheSector) {
  const Lattice lat = make_square(4, "open");
  const SamplerGraph g = build_sampler_graph(lat);
  const std::vector<std::int8_t> start = ice_reference_state(lat);
  const auto states = loop_mc_states(lat, start, 3, 4, 10, 2, 7, 1);
  const int n1 = lat.edge_count();
  ASSERT_EQ(states.size(), std::size_t(3 * 4 * n1));
  const auto q0 = vertex_charges(g, start);
  for (int i = 0; i < 12; ++i) {
    std::vector<std::int8_t> s(states.begin() + i * n1, states.begin() + (i + 1) * n1);
    EXPECT_EQ(vertex_charges(g, s), q0);
  }
  EXPECT_GT(distinct_states(states, n1), 1u);
  EXPECT_EQ(loop_mc_states(lat, start, 3, 4, 10, 2, 7, 1), states);
  EXPECT_NE(loop_mc_states(lat, start, 3, 4, 10, 2, 8, 1), states);
}

// The reported case: on open kagome L = 2 the one-move short_loop chain has period 2 (every move
// flips one of two loops), and with the default settings (16 chains x 16 samples, burn-in 1000,
// thinning 20) an even number of moves between samples showed only the 2 states of the start's
// parity out of the sector's 4.
TEST(SampleQuality, LoopMcStatesCoverTheSectorOnOpenKagome) {
  const Lattice lat = make_kagome(2, "open");
  const std::vector<std::int8_t> start = ice_reference_state(lat);
  std::vector<std::vector<std::int8_t>> sector;
  for_each_state_in_sector(lat, start,
                           [&](const std::vector<std::int8_t>& s) { sector.push_back(s); });
  ASSERT_EQ(sector.size(), 4u);
  const int n1 = lat.edge_count();
  const auto states = loop_mc_states(lat, start, 16, 16, 1000, 20, 1, 1, 3u << 29);
  std::vector<double> counts(sector.size(), 0.0);
  for (std::size_t i = 0; i < states.size() / n1; ++i) {
    const std::vector<std::int8_t> s(states.begin() + i * n1, states.begin() + (i + 1) * n1);
    const auto it = std::find(sector.begin(), sector.end(), s);
    ASSERT_NE(it, sector.end());
    counts[static_cast<std::size_t>(it - sector.begin())] += 1.0;
  }
  EXPECT_EQ(distinct_states(states, n1), sector.size());
  EXPECT_GT(uniformity_test(counts).p_value, 1e-3);
}
