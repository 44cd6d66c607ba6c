// Autocorrelation analysis, hash sets, sector enumeration, uniformity statistics, S(q).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

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

/// S_perp(q) of one configuration by the direct double loop over (q, island), [iy][ix].
std::vector<double> direct_structure_factor(const Lattice& lat, const std::int8_t* spins,
                                            int points, double qmax) {
  const int n1 = lat.edge_count();
  std::vector<double> out(static_cast<std::size_t>(points) * points);
  auto q = [&](int i) { return -qmax + 2.0 * qmax * i / (points - 1); };
  for (int iy = 0; iy < points; ++iy) {
    for (int ix = 0; ix < points; ++ix) {
      const double qx = q(ix), qy = q(iy);
      double mxr = 0, mxi = 0, myr = 0, myi = 0;
      for (int e = 0; e < n1; ++e) {
        const double ph = qx * lat.island_position[e][0] + qy * lat.island_position[e][1];
        mxr += spins[e] * lat.island_axis[e][0] * std::cos(ph);
        mxi += spins[e] * lat.island_axis[e][0] * std::sin(ph);
        myr += spins[e] * lat.island_axis[e][1] * std::cos(ph);
        myi += spins[e] * lat.island_axis[e][1] * std::sin(ph);
      }
      // |m_perp|^2 with m_perp = M - (q.M) q / q^2
      double v = mxr * mxr + mxi * mxi + myr * myr + myi * myi;
      const double q2 = qx * qx + qy * qy;
      if (q2 > 0) {
        v -= ((qx * mxr + qy * myr) * (qx * mxr + qy * myr) +
              (qx * mxi + qy * myi) * (qx * mxi + qy * myi)) /
             q2;
      }
      out[static_cast<std::size_t>(iy) * points + ix] = v / n1;
    }
  }
  return out;
}

TEST(StructureFactor, SeparableSumMatchesDirectSum) {
  Lattice rotated = make_kagome(3, "open");  // lines of constant x: the outer sum runs over x
  for (auto& p : rotated.island_position) std::swap(p[0], p[1]);
  for (auto& a : rotated.island_axis) std::swap(a[0], a[1]);
  Lattice jittered = make_kagome(2, "periodic");  // every island on its own line
  {
    core::RandomStream rs(5, 0, 1);
    for (auto& p : jittered.island_position) {
      p[0] += 0.01 * rs.uniform();
      p[1] += 0.01 * rs.uniform();
    }
  }
  struct Case {
    const char* name;
    Lattice lat;
    std::size_t max_table;
  };
  const std::vector<Case> cases = {{"square", make_square(6, "open"), std::size_t{1} << 22},
                                   {"square_periodic", make_square(5, "periodic"), 1u << 22},
                                   {"kagome", make_kagome(3, "open"), 1u << 22},
                                   {"kagome_periodic", make_kagome(4, "periodic"), 1u << 22},
                                   {"kagome_no_tables", make_kagome(3, "open"), 0},
                                   {"rotated_kagome", rotated, 1u << 22},
                                   {"jittered_kagome", jittered, 1u << 22}};
  for (const auto& c : cases) {
    const int n1 = c.lat.edge_count();
    const int points = 17;
    const double qmax = 4.0 * 3.14159265358979323846;
    StructureFactor sq(c.lat, points, qmax, c.max_table);
    core::RandomStream rs(3, 0, 2);
    std::vector<double> expect(static_cast<std::size_t>(points) * points, 0.0);
    for (int sample = 0; sample < 3; ++sample) {
      std::vector<std::int8_t> s(n1);
      for (auto& x : s) x = rs.uniform() < 0.5 ? 1 : -1;
      sq.accumulate(s.data());
      const auto d = direct_structure_factor(c.lat, s.data(), points, qmax);
      for (std::size_t i = 0; i < d.size(); ++i) expect[i] += d[i] / 3.0;
    }
    const auto got = sq.mean();
    double worst = 0.0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      worst = std::max(worst, std::fabs(got[i] - expect[i]) / std::max(std::fabs(expect[i]), 1e-3));
    }
    EXPECT_LT(worst, 1e-10) << c.name;
    RecordProperty(std::string(c.name) + "_lines", sq.lines());
  }
  // lines are the rows of the lattice: 2L - 1 distinct y on the open square lattice
  EXPECT_EQ(StructureFactor(make_square(6, "open"), 5, 1.0).lines(), 11);
  EXPECT_EQ(StructureFactor(rotated, 5, 1.0).lines(),
            StructureFactor(make_kagome(3, "open"), 5, 1.0).lines());
}

}  // namespace
}  // namespace frost::asi
