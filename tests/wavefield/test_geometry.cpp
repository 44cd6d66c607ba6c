#include <gtest/gtest.h>

#include <cmath>

#include "wavefield/geometry.hpp"

using namespace frost::wavefield;

TEST(WavefieldGeometry, NodesOnUnitSphere) {
  for (double twist : {0.0, 1.0, 3.5})
    for (double w : {0.5, 4.0, 30.0}) {
      HelixShape s;
      s.windings = w;
      s.twist = twist;
      const auto xyz = mobius_helix_nodes(997, s);
      ASSERT_EQ(xyz.size(), 3u * 997);
      for (int i = 0; i < 997; ++i) {
        const double r = std::sqrt(xyz[3 * i] * xyz[3 * i] + xyz[3 * i + 1] * xyz[3 * i + 1] +
                                   xyz[3 * i + 2] * xyz[3 * i + 2]);
        ASSERT_NEAR(r, 1.0, 1e-14);
      }
    }
}

TEST(WavefieldGeometry, NoRibbonIsTheHelix) {
  HelixShape s;
  s.windings = 3.0;
  s.ribbon_width = 0.0;
  const auto xyz = mobius_helix_nodes(100, s);
  for (int i = 0; i < 100; ++i) EXPECT_NEAR(xyz[3 * i + 2], 1.0 - 2.0 * (i + 0.5) / 100, 1e-14);
}

TEST(WavefieldGeometry, HalfTwistSwapsRibbonSides) {
  // The node offset from the helix along its normal: positive v at the start stays on the north
  // side for tau = 0 but ends on the south side for tau = 1 near the end.
  HelixShape flat, mobius;
  flat.windings = mobius.windings = 4.0;
  flat.twist = 0.0;
  mobius.twist = 1.0;
  HelixShape line = flat;
  line.ribbon_width = 0.0;
  const int n = 2000;
  const auto a = mobius_helix_nodes(n, flat), b = mobius_helix_nodes(n, mobius),
             c = mobius_helix_nodes(n, line);
  int opposite = 0, counted = 0;
  for (int i = n - 200; i < n - 50; ++i) {
    const double da = a[3 * i + 2] - c[3 * i + 2], db = b[3 * i + 2] - c[3 * i + 2];
    if (std::abs(da) < 1e-6) continue;
    ++counted;
    opposite += da * db < 0;
  }
  EXPECT_GT(opposite, counted * 9 / 10);
}
