// Picture of the field on the sphere: orthographic views of the northern (left, seen from +z)
// and southern (right, seen from -z) hemispheres, the field linearly interpolated over the
// triangles and coloured by the core colour map (symmetric range), vortices as dots (white: +1,
// black: -1, grey: no charge / threshold detector).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace frost::wavefield {

/// A marked point on the sphere.
struct VortexMark {
  std::array<double, 3> position;  ///< on the unit sphere
  int charge = 0;
};

/// PNG file content, `size` pixels per hemisphere view (image 2 size x size).
std::string render_sphere_png(const std::vector<double>& xyz,
                              const std::vector<std::array<int, 3>>& triangles,
                              const std::vector<double>& field,
                              const std::vector<VortexMark>& vortices, int size);

}  // namespace frost::wavefield
