#include "asi/energy.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace frost::asi {

std::vector<std::uint8_t> classify_vertices(const Lattice& lattice, const std::vector<int>& offsets,
                                            const std::vector<int>& slot_edge) {
  const int n0 = lattice.vertex_count();
  std::vector<std::uint8_t> kind(n0, kGeneralVertex);
  const double pi = 3.14159265358979323846;
  for (int v = 0; v < n0; ++v) {
    if (!lattice.terminal.empty() && lattice.terminal[v]) {
      kind[v] = kTerminalVertex;
      continue;
    }
    if (offsets[v + 1] - offsets[v] != 4) continue;
    double angle[4];
    for (int k = 0; k < 4; ++k) {
      const int e = slot_edge[offsets[v] + k];
      const double sign = lattice.edges[e][0] == v ? 1.0 : -1.0;
      angle[k] = std::atan2(sign * lattice.island_axis[e][1], sign * lattice.island_axis[e][0]);
    }
    bool square = true;
    for (int k = 0; k < 4; ++k) {
      double d = (k < 3 ? angle[k + 1] : angle[0] + 2.0 * pi) - angle[k];
      if (std::fabs(d - 0.5 * pi) > 0.05) square = false;
    }
    if (square) kind[v] = kSquareVertex;
  }
  return kind;
}

std::vector<double> field_projection(const Lattice& lattice, double h, double angle_degrees) {
  const double a = angle_degrees * 3.14159265358979323846 / 180.0;
  const double hx = h * std::cos(a), hy = h * std::sin(a);
  std::vector<double> proj(lattice.edge_count());
  for (int e = 0; e < lattice.edge_count(); ++e) {
    proj[e] = lattice.island_axis[e][0] * hx + lattice.island_axis[e][1] * hy;
  }
  return proj;
}

EnergyModelKind parse_energy_model(const std::string& name) {
  if (name == "charge") return kChargeModel;
  if (name == "vertex") return kVertexModel;
  if (name == "dipolar") return kDipolarModel;
  if (name == "pair") return kPairModel;
  throw std::invalid_argument("energy model '" + name +
                              "' is not one of charge, vertex, dipolar, pair");
}

namespace {

/// Cells of one axis for the neighbour search: cells at least `cutoff` wide, so that partners
/// lie in the same or an adjacent cell; at most 1024 (wider cells only add candidates).
struct CellAxis {
  double lo = 0.0, width = 1.0, period = 0.0;
  int count = 1;

  CellAxis(double min, double max, double period_, double cutoff) : period(period_) {
    lo = period > 0.0 ? 0.0 : min;
    const double extent = period > 0.0 ? period : max - min;
    count = static_cast<int>(std::min(1024.0, std::max(1.0, std::floor(extent / cutoff))));
    width = extent > 0.0 ? extent / count : 1.0;
  }
  int cell(double x) const {
    if (period > 0.0) x -= period * std::floor(x / period);
    const int c = static_cast<int>(std::floor((x - lo) / width));
    return std::min(std::max(c, 0), count - 1);
  }
  /// Cells c-1, c, c+1 that exist (wrapped on a torus, each once) into out; returns how many.
  int around(int c, int out[3]) const {
    int n = 0;
    for (int d = -1; d <= 1; ++d) {
      int k = c + d;
      if (period > 0.0) {
        k = (k + count) % count;
      } else if (k < 0 || k >= count) {
        continue;
      }
      bool seen = false;
      for (int i = 0; i < n; ++i) seen = seen || out[i] == k;
      if (!seen) out[n++] = k;
    }
    return n;
  }
};

double minimum_image(double d, double period) {
  return period > 0.0 ? d - period * std::round(d / period) : d;
}

}  // namespace

PairCouplings dipolar_couplings(const Lattice& lattice, double cutoff, double strength) {
  if (!(cutoff > 0.0)) throw std::invalid_argument("dipolar cutoff must be > 0");
  const int n1 = lattice.edge_count();
  const auto& pos = lattice.island_position;
  const auto& ax = lattice.island_axis;
  double lo[2] = {0.0, 0.0}, hi[2] = {0.0, 0.0};
  for (int a = 0; a < 2; ++a) {
    for (int e = 0; e < n1; ++e) {
      lo[a] = e == 0 ? pos[e][a] : std::min(lo[a], pos[e][a]);
      hi[a] = e == 0 ? pos[e][a] : std::max(hi[a], pos[e][a]);
    }
  }
  const CellAxis cx(lo[0], hi[0], lattice.period[0], cutoff);
  const CellAxis cy(lo[1], hi[1], lattice.period[1], cutoff);
  // islands bucketed by cell (CSR)
  std::vector<int> cell_of(n1), cell_start(static_cast<std::size_t>(cx.count) * cy.count + 1, 0);
  for (int e = 0; e < n1; ++e) {
    cell_of[e] = cy.cell(pos[e][1]) * cx.count + cx.cell(pos[e][0]);
    ++cell_start[cell_of[e] + 1];
  }
  for (std::size_t c = 0; c + 1 < cell_start.size(); ++c) cell_start[c + 1] += cell_start[c];
  std::vector<int> in_cell(n1);
  {
    std::vector<int> fill(cell_start.begin(), cell_start.end() - 1);
    for (int e = 0; e < n1; ++e) in_cell[fill[cell_of[e]]++] = e;
  }
  const double rc = cutoff * (1.0 - 1e-10);
  std::vector<std::vector<std::pair<int, double>>> rows(n1);
  for (int i = 0; i < n1; ++i) {
    int kx[3], ky[3];
    const int nx = cx.around(cell_of[i] % cx.count, kx);
    const int ny = cy.around(cell_of[i] / cx.count, ky);
    for (int b = 0; b < ny; ++b) {
      for (int a = 0; a < nx; ++a) {
        const int c = ky[b] * cx.count + kx[a];
        for (int p = cell_start[c]; p < cell_start[c + 1]; ++p) {
          const int j = in_cell[p];
          if (j <= i) continue;  // each pair once, added to both rows
          const double dx = minimum_image(pos[j][0] - pos[i][0], lattice.period[0]);
          const double dy = minimum_image(pos[j][1] - pos[i][1], lattice.period[1]);
          const double r = std::hypot(dx, dy);
          if (!(r > 1e-9)) {
            throw std::invalid_argument("dipolar model: islands " + std::to_string(i) + " and " +
                                        std::to_string(j) + " share a position");
          }
          if (r >= rc) continue;
          const double ux = dx / r, uy = dy / r;
          const double ai_r = ax[i][0] * ux + ax[i][1] * uy;
          const double aj_r = ax[j][0] * ux + ax[j][1] * uy;
          const double aij = ax[i][0] * ax[j][0] + ax[i][1] * ax[j][1];
          const double J = strength * (aij - 3.0 * ai_r * aj_r) / (r * r * r);
          rows[i].push_back({j, J});
          rows[j].push_back({i, J});
        }
      }
    }
  }
  PairCouplings out;
  out.offsets.assign(n1 + 1, 0);
  for (int i = 0; i < n1; ++i) {
    // partners in id order: neighbouring islands then sit close together in the spin array
    std::sort(rows[i].begin(), rows[i].end());
    out.offsets[i + 1] = out.offsets[i] + static_cast<int>(rows[i].size());
    for (const auto& [j, J] : rows[i]) {
      out.neighbour.push_back(j);
      out.coupling.push_back(J);
    }
  }
  return out;
}

double pair_energy(const PairCouplings& pairs, const std::int8_t* spins) {
  double e = 0.0;
  const int n = static_cast<int>(pairs.offsets.size()) - 1;
  for (int i = 0; i < n; ++i) {
    double h = 0.0;
    for (int p = pairs.offsets[i]; p < pairs.offsets[i + 1]; ++p) {
      if (pairs.neighbour[p] > i) h += pairs.coupling[p] * spins[pairs.neighbour[p]];
    }
    e += spins[i] * h;
  }
  return e;
}

}  // namespace frost::asi
