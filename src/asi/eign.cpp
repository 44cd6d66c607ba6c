// Host parts of the EIGN network: parameter layout, initialisation, the transpose of B1,
// receptive patches and graph concatenation.
#include "asi/eign.hpp"

#include <algorithm>
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

EignPatch receptive_patch(const IncidenceCsr& b1, const IncidenceCsr& bt,
                          const std::vector<int>& seeds, int layers) {
  if (layers < 0) throw std::invalid_argument("receptive_patch: layers must be >= 0");
  std::vector<int> depth(b1.cols, -1);
  std::vector<int> frontier;
  for (int e : seeds) {
    if (e < 0 || e >= b1.cols) throw std::invalid_argument("receptive_patch: bad edge");
    if (depth[e] < 0) {
      depth[e] = 0;
      frontier.push_back(e);
    }
  }
  // Breadth-first over the line graph: one hop = two edges sharing a vertex.
  for (int hop = 1; hop <= layers; ++hop) {
    std::vector<int> next;
    for (int e : frontier) {
      for (int k = bt.row_map[e]; k < bt.row_map[e + 1]; ++k) {
        const int v = bt.entries[k];
        for (int m = b1.row_map[v]; m < b1.row_map[v + 1]; ++m) {
          const int f = b1.entries[m];
          if (depth[f] < 0) {
            depth[f] = hop;
            next.push_back(f);
          }
        }
      }
    }
    frontier.swap(next);
  }
  EignPatch patch;
  std::vector<int> local_edge(b1.cols, -1);
  for (int e = 0; e < b1.cols; ++e) {
    if (depth[e] >= 0) {
      local_edge[e] = static_cast<int>(patch.edges.size());
      patch.edges.push_back(e);
    }
  }
  std::vector<char> touched(b1.rows, 0);
  for (int e : patch.edges) {
    for (int k = bt.row_map[e]; k < bt.row_map[e + 1]; ++k) touched[bt.entries[k]] = 1;
  }
  patch.b1.cols = static_cast<int>(patch.edges.size());
  patch.b1.row_map.push_back(0);
  for (int v = 0; v < b1.rows; ++v) {
    if (!touched[v]) continue;
    patch.vertices.push_back(v);
    for (int m = b1.row_map[v]; m < b1.row_map[v + 1]; ++m) {
      const int f = local_edge[b1.entries[m]];
      if (f < 0) continue;
      patch.b1.entries.push_back(f);
      patch.b1.values.push_back(b1.values[m]);
    }
    patch.b1.row_map.push_back(static_cast<int>(patch.b1.entries.size()));
  }
  patch.b1.rows = static_cast<int>(patch.vertices.size());
  return patch;
}

EignGraphsHost concatenate_graphs(const std::vector<IncidenceCsr>& graphs) {
  EignGraphsHost out;
  out.count = static_cast<int>(graphs.size());
  out.vertex_offset.assign(1, 0);
  out.edge_offset.assign(1, 0);
  out.b1.row_map.assign(1, 0);
  out.bt.row_map.assign(1, 0);
  for (const IncidenceCsr& g : graphs) {
    const IncidenceCsr t = transpose_incidence(g);
    out.max_vertices = std::max(out.max_vertices, g.rows);
    out.max_edges = std::max(out.max_edges, g.cols);
    out.vertex_offset.push_back(out.vertex_offset.back() + g.rows);
    out.edge_offset.push_back(out.edge_offset.back() + g.cols);
    auto append = [](IncidenceCsr& to, const IncidenceCsr& from) {
      const int base = to.row_map.back();
      for (int r = 0; r < from.rows; ++r) to.row_map.push_back(base + from.row_map[r + 1]);
      to.entries.insert(to.entries.end(), from.entries.begin(), from.entries.end());
      to.values.insert(to.values.end(), from.values.begin(), from.values.end());
    };
    append(out.b1, g);
    append(out.bt, t);
  }
  out.b1.rows = out.vertex_offset.back();
  out.b1.cols = out.edge_offset.back();
  out.bt.rows = out.edge_offset.back();
  out.bt.cols = out.vertex_offset.back();
  return out;
}

}  // namespace frost::asi
