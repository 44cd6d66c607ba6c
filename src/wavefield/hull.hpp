// Triangulation of nodes on the unit sphere: the 3D convex hull of points on a sphere is their
// spherical Delaunay triangulation (a hull face's plane has no point above it, i.e. the face's
// circumcircle on the sphere contains no node).
//
// Randomised incremental hull with conflict lists (expected O(N log N)): every point not yet
// inserted records one hull face it sees; inserting a point deletes the faces it sees, joins its
// horizon to the point, and re-files the deleted faces' points on the new faces. Orientation
// tests are exact: coordinates are snapped to a 2^-30 grid and the determinants evaluated in
// 128-bit integers, so the hull is combinatorially consistent for any input. Snapping moves a
// point by < 1e-9, far below the sagitta between neighbours of any realistic node set; a point
// that nonetheless ends up inside the hull (e.g. a duplicate) is simply not a vertex.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace frost::wavefield {

/// Triangles of a closed surface, each counter-clockwise seen from outside (outward normal).
struct SphereTriangulation {
  std::vector<std::array<int, 3>> triangles;  ///< node indices
  int vertices = 0;                           ///< nodes that are hull vertices
  int nodes = 0;                              ///< nodes given
};

/// Convex hull of `xyz` (x0 y0 z0 x1 ..., points on or near the unit sphere). Throws
/// std::runtime_error when the points span no volume (fewer than 4 or all coplanar). `seed`
/// fixes the insertion order.
SphereTriangulation sphere_triangulation(const std::vector<double>& xyz, std::uint64_t seed = 1);

/// Sign of det[b - a, c - a, d - a] on the snapped grid: > 0 when d is on the side the normal
/// of the counter-clockwise triangle (a, b, c) points to. Exact.
int orientation(const std::vector<double>& xyz, int a, int b, int c, int d);

}  // namespace frost::wavefield
