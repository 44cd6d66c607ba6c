#include "wavefield/picture.hpp"

#include <algorithm>
#include <cmath>

#include "core/png.hpp"

namespace frost::wavefield {

std::string render_sphere_png(const std::vector<double>& xyz,
                              const std::vector<std::array<int, 3>>& triangles,
                              const std::vector<double>& field,
                              const std::vector<VortexMark>& vortices, int size) {
  const int width = 2 * size, height = size;
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width) * height * 3, 255);
  double peak = 0.0;
  for (double f : field) peak = std::max(peak, std::abs(f));
  if (peak == 0.0) peak = 1.0;
  const double half = 0.5 * size, radius = 0.48 * size;
  // View v = 0 looks down on +z (x right, y up); v = 1 looks up at -z (mirrored x keeps the
  // picture as seen from outside).
  auto project = [&](const double* p, int view, double& px, double& py) {
    const double sx = view == 0 ? p[0] : -p[0];
    px = view * size + half + radius * sx;
    py = half - radius * p[1];
  };
  for (int view = 0; view < 2; ++view) {
    const double facing = view == 0 ? 1.0 : -1.0;
    for (const auto& t : triangles) {
      const double* p[3] = {&xyz[3 * t[0]], &xyz[3 * t[1]], &xyz[3 * t[2]]};
      // Only the hemisphere facing the viewer (by centroid, so the rim has no gaps).
      if (facing * (p[0][2] + p[1][2] + p[2][2]) < 0) continue;
      double x[3], y[3];
      for (int k = 0; k < 3; ++k) project(p[k], view, x[k], y[k]);
      const double det = (x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0]);
      if (std::abs(det) < 1e-12) continue;
      const int x0 = std::max(0, static_cast<int>(std::floor(std::min({x[0], x[1], x[2]})))),
                x1 = std::min(width - 1, static_cast<int>(std::ceil(std::max({x[0], x[1], x[2]})))),
                y0 = std::max(0, static_cast<int>(std::floor(std::min({y[0], y[1], y[2]})))),
                y1 =
                    std::min(height - 1, static_cast<int>(std::ceil(std::max({y[0], y[1], y[2]}))));
      for (int py = y0; py <= y1; ++py)
        for (int px = x0; px <= x1; ++px) {
          const double cx = px + 0.5, cy = py + 0.5;
          const double l1 = ((cx - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (cy - y[0])) / det;
          const double l2 = ((x[1] - x[0]) * (cy - y[0]) - (cx - x[0]) * (y[1] - y[0])) / det;
          const double l0 = 1.0 - l1 - l2;
          if (l0 < -1e-9 || l1 < -1e-9 || l2 < -1e-9) continue;
          const double f = l0 * field[t[0]] + l1 * field[t[1]] + l2 * field[t[2]];
          core::colormap(0.5 + 0.5 * f / peak,
                         &rgb[(static_cast<std::size_t>(py) * width + px) * 3]);
        }
    }
    for (const auto& v : vortices) {
      if (facing * v.position[2] < 0) continue;
      double cx, cy;
      project(v.position.data(), view, cx, cy);
      const std::uint8_t shade = v.charge > 0 ? 255 : v.charge < 0 ? 0 : 128;
      const double r = std::max(1.5, size / 160.0);
      for (int py = static_cast<int>(cy - r - 1); py <= static_cast<int>(cy + r + 1); ++py)
        for (int px = static_cast<int>(cx - r - 1); px <= static_cast<int>(cx + r + 1); ++px) {
          if (px < view * size || px >= (view + 1) * size || py < 0 || py >= height) continue;
          const double d = std::hypot(px + 0.5 - cx, py + 0.5 - cy);
          if (d > r + 0.7) continue;
          std::uint8_t* c = &rgb[(static_cast<std::size_t>(py) * width + px) * 3];
          // A ring of the opposite shade keeps dots visible on any colour.
          const std::uint8_t value = d > r - 0.5 ? static_cast<std::uint8_t>(255 - shade) : shade;
          c[0] = c[1] = c[2] = value;
        }
    }
  }
  return core::encode_png(width, height, rgb);
}

}  // namespace frost::wavefield
