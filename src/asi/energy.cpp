#include "asi/energy.hpp"

#include <cmath>
#include <stdexcept>

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
  throw std::invalid_argument("energy model '" + name + "' is not one of charge, vertex");
}

}  // namespace frost::asi
