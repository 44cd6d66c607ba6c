#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <utility>

#include "core/rng.hpp"
#include "wavefield/geometry.hpp"
#include "wavefield/hull.hpp"

using namespace frost::wavefield;

namespace {

std::vector<double> random_sphere(int n, std::uint64_t seed) {
  frost::core::RandomStream rs(seed, 0, 0);
  std::vector<double> xyz;
  for (int i = 0; i < n; ++i) {
    const double z = 2 * rs.uniform() - 1, l = 6.283185307179586 * rs.uniform();
    const double s = std::sqrt(1 - z * z);
    xyz.insert(xyz.end(), {s * std::cos(l), s * std::sin(l), z});
  }
  return xyz;
}

void expect_closed_delaunay(const std::vector<double>& xyz, const SphereTriangulation& t) {
  const int n = static_cast<int>(xyz.size() / 3);
  EXPECT_EQ(t.vertices, n);
  // Every directed edge once, and its reverse once: a closed oriented surface.
  std::set<std::pair<int, int>> directed;
  for (const auto& f : t.triangles)
    for (int e = 0; e < 3; ++e) EXPECT_TRUE(directed.insert({f[e], f[(e + 1) % 3]}).second);
  for (const auto& [a, b] : directed) EXPECT_TRUE(directed.count({b, a}));
  const long V = t.vertices, E = static_cast<long>(directed.size() / 2),
             F = static_cast<long>(t.triangles.size());
  EXPECT_EQ(V - E + F, 2);
  // Outward orientation and empty circumcircles: no node above any face's plane.
  for (const auto& f : t.triangles) {
    double cx = 0, nx = 0;
    const double* p[3] = {&xyz[3 * f[0]], &xyz[3 * f[1]], &xyz[3 * f[2]]};
    const double u[3] = {p[1][0] - p[0][0], p[1][1] - p[0][1], p[1][2] - p[0][2]};
    const double v[3] = {p[2][0] - p[0][0], p[2][1] - p[0][1], p[2][2] - p[0][2]};
    const double nrm[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2],
                           u[0] * v[1] - u[1] * v[0]};
    for (int d = 0; d < 3; ++d) {
      cx = p[0][d] + p[1][d] + p[2][d];
      nx += cx * nrm[d];
    }
    EXPECT_GT(nx, 0.0);
    for (int q = 0; q < n; ++q) {
      if (q == f[0] || q == f[1] || q == f[2]) continue;
      ASSERT_LE(orientation(xyz, f[0], f[1], f[2], q), 0);
    }
  }
}

}  // namespace

TEST(WavefieldHull, RandomPointsDelaunay) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto xyz = random_sphere(400, seed);
    expect_closed_delaunay(xyz, sphere_triangulation(xyz, seed));
  }
}

TEST(WavefieldHull, HelixNodesDelaunay) {
  HelixShape s;
  s.windings = 6.0;
  s.twist = 1.0;
  const auto xyz = mobius_helix_nodes(600, s);
  expect_closed_delaunay(xyz, sphere_triangulation(xyz, 5));
}

TEST(WavefieldHull, LargeSetIsClosed) {
  const auto xyz = random_sphere(20000, 9);
  const auto t = sphere_triangulation(xyz, 9);
  EXPECT_EQ(t.vertices, 20000);
  EXPECT_EQ(t.triangles.size(), 2u * 20000 - 4);  // Euler: F = 2V - 4 for a triangulated sphere
}

TEST(WavefieldHull, DegenerateInputs) {
  // Octahedron plus cocircular points on the equator: exact predicates keep it consistent.
  std::vector<double> xyz = {0, 0, 1, 0, 0, -1};
  for (int k = 0; k < 12; ++k)
    xyz.insert(xyz.end(), {std::cos(k * 0.5235987755982988), std::sin(k * 0.5235987755982988), 0});
  const auto t = sphere_triangulation(xyz, 1);
  EXPECT_EQ(t.vertices, 14);
  EXPECT_EQ(t.triangles.size(), 24u);
  // A duplicate node is not a second vertex.
  std::vector<double> dup = random_sphere(50, 4);
  dup.insert(dup.end(), dup.begin(), dup.begin() + 3);
  EXPECT_EQ(sphere_triangulation(dup, 1).vertices, 50);
  EXPECT_THROW(sphere_triangulation({0, 0, 1, 1, 0, 0, 0, 1, 0}), std::runtime_error);
  std::vector<double> plane;
  for (int k = 0; k < 10; ++k) plane.insert(plane.end(), {std::cos(k * 0.6), std::sin(k * 0.6), 0});
  EXPECT_THROW(sphere_triangulation(plane), std::runtime_error);
}
