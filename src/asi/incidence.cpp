// Host construction of the incidence matrix and host reference charges.
#include "asi/incidence.hpp"

#include <cstdlib>
#include <stdexcept>

namespace frost::asi {

IncidenceCsr incidence_csr(const Lattice& lattice) {
  const int n0 = lattice.vertex_count();
  const int n1 = lattice.edge_count();
  IncidenceCsr csr;
  csr.rows = n0;
  csr.cols = n1;
  csr.row_map.assign(n0 + 1, 0);
  for (const auto& edge : lattice.edges) {
    ++csr.row_map[edge[0] + 1];
    ++csr.row_map[edge[1] + 1];
  }
  for (int v = 0; v < n0; ++v) csr.row_map[v + 1] += csr.row_map[v];
  csr.entries.resize(2 * static_cast<std::size_t>(n1));
  csr.values.resize(2 * static_cast<std::size_t>(n1));
  std::vector<int> fill(csr.row_map.begin(), csr.row_map.end() - 1);
  // Edges in increasing order, so every row comes out sorted by edge id.
  for (int e = 0; e < n1; ++e) {
    const int tail = lattice.edges[e][0];
    const int head = lattice.edges[e][1];
    csr.entries[fill[tail]] = e;
    csr.values[fill[tail]++] = -1;
    csr.entries[fill[head]] = e;
    csr.values[fill[head]++] = +1;
  }
  return csr;
}

std::vector<int> charges_host(const Lattice& lattice, const std::vector<std::int8_t>& sigma) {
  if (static_cast<int>(sigma.size()) != lattice.edge_count()) {
    throw std::invalid_argument("charges_host: state size differs from the edge count");
  }
  std::vector<int> q(lattice.vertex_count(), 0);
  for (int e = 0; e < lattice.edge_count(); ++e) {
    q[lattice.edges[e][1]] += sigma[e];
    q[lattice.edges[e][0]] -= sigma[e];
  }
  return q;
}

bool is_ice_state(const Lattice& lattice, const std::vector<std::int8_t>& sigma) {
  if (static_cast<int>(sigma.size()) != lattice.edge_count()) return false;
  for (int e = 0; e < lattice.edge_count(); ++e) {
    if (sigma[e] != 1 && sigma[e] != -1) return false;
    if (!lattice.fixed_spin.empty() && lattice.fixed_spin[e] != 0 &&
        sigma[e] != lattice.fixed_spin[e]) {
      return false;
    }
  }
  const auto q = charges_host(lattice, sigma);
  const auto degree = lattice.degrees();
  for (int v = 0; v < lattice.vertex_count(); ++v) {
    if (!lattice.terminal.empty() && lattice.terminal[v]) continue;
    if (std::abs(q[v]) != degree[v] % 2) return false;
  }
  return true;
}

}  // namespace frost::asi
