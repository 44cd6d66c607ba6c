// Host parts of the EIGN network: parameter layout, initialisation, the transpose of B1.
#include "asi/eign.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/rng.hpp"

namespace frost::asi {

EignLayout eign_layout(const EignConfig& config) {
  if (config.layers < 1) throw std::invalid_argument("eign: layers must be >= 1");
  if (config.width < 1 || config.width > kEignMaxWidth) {
    throw std::invalid_argument("eign: width must lie in 1.." + std::to_string(kEignMaxWidth));
  }
  if (config.equ_inputs < 1 || config.equ_inputs > kEignMaxWidth || config.inv_inputs < 1 ||
      config.inv_inputs > kEignMaxWidth) {
    throw std::invalid_argument("eign: input widths must lie in 1.." +
                                std::to_string(kEignMaxWidth));
  }
  if (!(config.norm_eps > 0.0)) throw std::invalid_argument("eign: norm_eps must be > 0");
  EignLayout layout;
  const int d = config.width;
  int at = 0;
  for (int l = 0; l < config.layers; ++l) {
    EignLayerLayout lay;
    lay.dx = l == 0 ? config.equ_inputs : d;
    lay.dy = l == 0 ? config.inv_inputs : d;
    lay.w1 = at;
    at += lay.dx * d;
    lay.w2 = at;
    at += lay.dx * d;
    lay.w3 = at;
    at += lay.dy * d;
    lay.w4 = at;
    at += lay.dy * d;
    lay.w5 = at;
    at += lay.dy * d;
    lay.w6 = at;
    at += lay.dx * d;
    lay.b = at;
    at += d;
    lay.gx = at;
    at += d;
    lay.gy = at;
    at += d;
    lay.by = at;
    at += d;
    layout.layers.push_back(lay);
  }
  layout.rx = at;
  at += d;
  layout.ry = at;
  at += d;
  layout.rb = at;
  at += 1;
  layout.size = at;
  return layout;
}

std::vector<double> eign_initial_parameters(const EignConfig& config, std::uint64_t seed) {
  const EignLayout layout = eign_layout(config);
  std::vector<double> p(layout.size, 0.0);
  core::RandomStream rng(seed, 0, 0);
  auto fill = [&](int offset, int count, double half_width) {
    for (int k = 0; k < count; ++k) p[offset + k] = half_width * (2.0 * rng.uniform() - 1.0);
  };
  const int d = config.width;
  for (const EignLayerLayout& lay : layout.layers) {
    // Three maps feed each of A and C, so each gets a third of the unit output variance.
    const double ax = std::sqrt(1.0 / lay.dx), ay = std::sqrt(1.0 / lay.dy);
    fill(lay.w1, lay.dx * d, ax);
    fill(lay.w2, lay.dx * d, ax);
    fill(lay.w3, lay.dy * d, ay);
    fill(lay.w4, lay.dy * d, ay);
    fill(lay.w5, lay.dy * d, ay);
    fill(lay.w6, lay.dx * d, ax);
    for (int j = 0; j < d; ++j) {
      p[lay.gx + j] = 1.0;
      p[lay.gy + j] = 1.0;
    }
  }
  fill(layout.rx, d, config.readout_scale * std::sqrt(3.0 / d));
  fill(layout.ry, d, config.readout_scale * std::sqrt(3.0 / d));
  return p;
}

IncidenceCsr transpose_incidence(const IncidenceCsr& b1) {
  IncidenceCsr t;
  t.rows = b1.cols;
  t.cols = b1.rows;
  t.row_map.assign(b1.cols + 1, 0);
  for (int e : b1.entries) {
    if (e < 0 || e >= b1.cols) throw std::invalid_argument("transpose_incidence: bad column");
    ++t.row_map[e + 1];
  }
  for (int e = 0; e < b1.cols; ++e) t.row_map[e + 1] += t.row_map[e];
  t.entries.resize(b1.entries.size());
  t.values.resize(b1.values.size());
  std::vector<int> fill(t.row_map.begin(), t.row_map.end() - 1);
  for (int v = 0; v < b1.rows; ++v) {
    for (int k = b1.row_map[v]; k < b1.row_map[v + 1]; ++k) {
      const int slot = fill[b1.entries[k]]++;
      t.entries[slot] = v;
      t.values[slot] = b1.values[k];
    }
  }
  return t;
}

}  // namespace frost::asi
