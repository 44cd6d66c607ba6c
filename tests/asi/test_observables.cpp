// Autocorrelation analysis, hash sets, sector enumeration, uniformity statistics, S(q).
#include <gtest/gtest.h>

#include <cmath>

#include "asi/enumerate.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/observables.hpp"
#include "core/rng.hpp"

namespace frost::asi {
namespace {

/// AR(1) series x_{t+1} = rho x_t + sqrt(1 - rho^2) xi_t, xi standard normal (Box-Muller);
/// its integrated autocorrelation time is (1 + rho) / (2 (1 - rho)).
std::vector<double> ar1(double rho, int samples, int chains) {
  std::vector<double> out(static_cast<std::size_t>(samples) * chains);
  for (int c = 0; c < chains; ++c) {
    core::RandomStream rs(7, 1, static_cast<std::uint32_t>(c));
    double x = 0.0;
    for (int i = -100; i < samples; ++i) {
      const double u1 = 1.0 - rs.uniform(), u2 = rs.uniform();
      const double xi = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
      x = rho * x + std::sqrt(1.0 - rho * rho) * xi;
      if (i >= 0) out[static_cast<std::size_t>(i) * chains + c] = x;
    }
  }
  return out;
}

TEST(SeriesStats, Ar1TauIntMatchesExact) {
  for (double rho : {0.0, 0.5, 0.8, 0.95}) {
    const int n = 100000, chains = 4;
    const auto st = series_stats(ar1(rho, n, chains), n, chains);
    const double exact = (1.0 + rho) / (2.0 * (1.0 - rho));
    // relative statistical error of tau_int ~ sqrt(2 (2M + 1) / N) (Sokal)
    const double rel = std::sqrt(2.0 * (2.0 * st.window + 1.0) / (n * chains));
    EXPECT_NEAR(st.tau_int, exact, 4.0 * rel * exact + 0.02) << "rho " << rho;
    EXPECT_NEAR(st.mean, 0.0, 5.0 * st.error);
    EXPECT_NEAR(st.variance, 1.0, 0.05);
    EXPECT_NEAR(st.ess, n * chains / (2.0 * st.tau_int), 1e-6);
  }
}

TEST(SeriesStats, ConstantSeriesIsUncorrelated) {
  const std::vector<double> x(300, 2.5);
  const auto st = series_stats(x, 100, 3);
  EXPECT_EQ(st.mean, 2.5);
  EXPECT_EQ(st.tau_int, 0.5);
  EXPECT_EQ(st.error, 0.0);
  EXPECT_TRUE(st.constant);
}

TEST(SeriesStats, RoundingNoiseCountsAsConstant) {
  // values equal up to summation rounding, as a magnetisation summed in a different order gives
  std::vector<double> x(4000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1 + ((i / 7) % 2 ? 1e-17 : 0.0);
  const auto st = series_stats(x, 1000, 4);
  EXPECT_TRUE(st.constant);
  EXPECT_EQ(st.tau_int, 0.5);
  EXPECT_EQ(st.ess, 4000.0);
  // a genuinely varying series is not constant
  x[17] = 0.2;
  EXPECT_FALSE(series_stats(x, 1000, 4).constant);
}

TEST(HashSet, ExactCountAndSaturation) {
  HashSet set(64);
  for (std::uint64_t i = 0; i < 20; ++i) EXPECT_TRUE(set.insert(i * 0x1234567ull));
  for (std::uint64_t i = 0; i < 20; ++i) EXPECT_FALSE(set.insert(i * 0x1234567ull));
  EXPECT_EQ(set.size(), 20u);
  EXPECT_TRUE(set.contains(0));
  for (std::uint64_t i = 100; i < 200; ++i) set.insert(i);
  EXPECT_EQ(set.size(), 32u);  // half of 64 slots
  EXPECT_TRUE(set.saturated());
}

TEST(StateHash, XorOfIslandKeys) {
  std::vector<std::int8_t> s = {1, -1, 1, 1};
  const auto h = state_hash(s.data(), 4);
  s[1] = 1;
  EXPECT_EQ(state_hash(s.data(), 4), h ^ island_key(1));
}

TEST(Uniformity, GammaQAndChiSquare) {
  EXPECT_NEAR(gamma_q(1.0, 2.0), std::exp(-2.0), 1e-13);
  EXPECT_NEAR(gamma_q(1.0, 30.0), std::exp(-30.0), 1e-25);
  EXPECT_NEAR(gamma_q(0.5, 0.5 * 3.841458820694124), 0.05, 1e-9);  // chi2 95% point, 1 dof
  const auto flat = uniformity_test(std::vector<double>(10, 7.0));
  EXPECT_NEAR(flat.chi2, 0.0, 1e-14);
  EXPECT_NEAR(flat.kl, 0.0, 1e-14);
  EXPECT_NEAR(flat.p_value, 1.0, 1e-12);
  const auto skew = uniformity_test({30.0, 10.0});
  EXPECT_NEAR(skew.chi2, 10.0, 1e-12);
  EXPECT_NEAR(skew.p_value, std::erfc(std::sqrt(5.0)), 1e-12);
  EXPECT_NEAR(skew.kl, 0.75 * std::log(1.5) + 0.25 * std::log(0.5), 1e-14);
}

TEST(EnumerateSector, MatchesBruteForce) {
  for (const char* b : {"open", "periodic", "domain_wall"}) {
    for (int L : {3, 4}) {
      const Lattice lat = make_square(L, b);
      const SamplerGraph g = build_sampler_graph(lat);
      const auto init = ice_reference_state(lat);
      const auto hashes = sector_state_hashes(lat, init, 1u << 20);
      ASSERT_FALSE(hashes.empty()) << b << L;
      const int nf = static_cast<int>(g.free_edges.size());
      if (nf > 20) continue;
      const auto target = vertex_charges(g, init);
      std::vector<std::uint64_t> brute;
      for (long m = 0; m < (1L << nf); ++m) {
        auto s = init;
        for (int i = 0; i < nf; ++i) s[g.free_edges[i]] = (m >> i) & 1 ? 1 : -1;
        if (vertex_charges(g, s) == target) brute.push_back(state_hash(s.data(), g.n1));
      }
      std::sort(brute.begin(), brute.end());
      EXPECT_EQ(hashes, brute) << b << " L=" << L;
    }
  }
  // domain wall: alternating-sign matrices
  const Lattice dw = make_square(4, "domain_wall");
  const SamplerGraph g = build_sampler_graph(dw);
  EXPECT_EQ(sector_state_hashes(dw, ice_reference_state(dw), 1u << 20).size(), 42u);
}

TEST(StructureFactor, PerpendicularProjectionAndPicture) {
  const Lattice lat = make_square(4, "periodic");
  StructureFactor sq(lat, 5, 3.14159265358979323846);
  std::vector<std::int8_t> s(lat.edge_count(), 1);  // all arrows +x / +y: uniform magnetisation
  sq.accumulate(s.data());
  const auto m = sq.mean();
  // at q = 0 nothing is projected out: |M|^2 / n1 with M = (16, 16) and n1 = 32
  EXPECT_NEAR(m[2 * 5 + 2], (16.0 * 16.0 + 16.0 * 16.0) / 32.0, 1e-9);
  for (double v : m) EXPECT_GE(v, -1e-9);
  const std::string png = sq.png(4);
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

}  // namespace
}  // namespace frost::asi
