// Cycle bases from faces (planar and toroidal embeddings) or from a spanning forest.
#include "asi/cycle_basis.hpp"

#include <queue>
#include <stdexcept>
#include <utility>

#include "asi/gf2.hpp"

namespace frost::asi {

namespace {

bool is_fixed(const Lattice& lattice, int e) {
  return !lattice.fixed_spin.empty() && lattice.fixed_spin[e] != 0;
}

bool is_terminal(const Lattice& lattice, int v) {
  return !lattice.terminal.empty() && lattice.terminal[v] != 0;
}

/// Adjacency of the free islands: per vertex, (neighbour, edge) pairs in increasing edge order.
std::vector<std::vector<std::pair<int, int>>> free_adjacency(const Lattice& lattice) {
  std::vector<std::vector<std::pair<int, int>>> adjacency(lattice.vertex_count());
  for (int e = 0; e < lattice.edge_count(); ++e) {
    if (is_fixed(lattice, e)) continue;
    const int tail = lattice.edges[e][0];
    const int head = lattice.edges[e][1];
    adjacency[tail].push_back({head, e});
    adjacency[head].push_back({tail, e});
  }
  return adjacency;
}

void fill_compressed(const Lattice& lattice, CycleBasis& basis) {
  basis.offsets.assign(1, 0);
  basis.edges.clear();
  basis.orientation.clear();
  basis.loop_endpoints.clear();
  basis.vertex_count = lattice.vertex_count();
  for (const auto& loop : basis.loops) {
    for (std::size_t k = 0; k < loop.edges.size(); ++k) {
      basis.edges.push_back(loop.edges[k]);
      basis.orientation.push_back(static_cast<std::int8_t>(loop.orientation[k]));
      basis.loop_endpoints.push_back(lattice.edges[loop.edges[k]][0]);
      basis.loop_endpoints.push_back(lattice.edges[loop.edges[k]][1]);
    }
    basis.offsets.push_back(static_cast<int>(basis.edges.size()));
  }
}

bool loops_are_free(const Lattice& lattice, const std::vector<OrientedLoop>& loops) {
  for (const auto& loop : loops) {
    if (loop.edges.empty()) return false;
    for (int e : loop.edges) {
      if (is_fixed(lattice, e)) return false;
    }
  }
  return true;
}

/// Fundamental cycles of a breadth-first spanning forest of the free islands (roots: the
/// lowest vertex id of each component). Loop of non-tree edge e = (u -> v): e forwards, then the
/// tree path v -> lca -> u.
std::vector<OrientedLoop> fundamental_cycles(const Lattice& lattice) {
  const int n0 = lattice.vertex_count();
  const auto adjacency = free_adjacency(lattice);
  std::vector<int> parent_edge(n0, -1);
  std::vector<int> parent(n0, -1);
  std::vector<int> depth(n0, -1);
  std::vector<char> tree_edge(lattice.edge_count(), 0);
  for (int root = 0; root < n0; ++root) {
    if (depth[root] >= 0) continue;
    depth[root] = 0;
    std::queue<int> queue;
    queue.push(root);
    while (!queue.empty()) {
      const int u = queue.front();
      queue.pop();
      for (const auto& [v, e] : adjacency[u]) {
        if (depth[v] >= 0) continue;
        depth[v] = depth[u] + 1;
        parent[v] = u;
        parent_edge[v] = e;
        tree_edge[e] = 1;
        queue.push(v);
      }
    }
  }
  std::vector<OrientedLoop> loops;
  for (int e = 0; e < lattice.edge_count(); ++e) {
    if (tree_edge[e] || is_fixed(lattice, e)) continue;
    const int u = lattice.edges[e][0];
    const int v = lattice.edges[e][1];
    OrientedLoop loop;
    loop.edges.push_back(e);
    loop.orientation.push_back(+1);
    // Walk v up and u up to the lowest common ancestor; the loop runs v -> ... -> lca along
    // v's branch, then lca -> ... -> u down u's branch.
    std::vector<std::pair<int, int>> down;  // (edge, orientation) on u's branch, reversed later
    int a = v;
    int b = u;
    while (a != b) {
      if (depth[a] >= depth[b]) {
        const int pe = parent_edge[a];
        // Moving a -> parent[a]: forwards when a is the tail of pe.
        loop.edges.push_back(pe);
        loop.orientation.push_back(lattice.edges[pe][0] == a ? +1 : -1);
        a = parent[a];
      } else {
        const int pe = parent_edge[b];
        // The loop moves parent[b] -> b: forwards when parent[b] is the tail of pe.
        down.push_back({pe, lattice.edges[pe][0] == parent[b] ? +1 : -1});
        b = parent[b];
      }
    }
    for (auto it = down.rbegin(); it != down.rend(); ++it) {
      loop.edges.push_back(it->first);
      loop.orientation.push_back(it->second);
    }
    loops.push_back(std::move(loop));
  }
  return loops;
}

}  // namespace

std::string to_string(CycleBasisSource source) {
  switch (source) {
    case CycleBasisSource::faces:
      return "faces";
    case CycleBasisSource::faces_and_windings:
      return "faces_and_windings";
    case CycleBasisSource::spanning_tree:
      return "spanning_tree";
  }
  return "unknown";
}

CycleSpaceDimension cycle_space_dimension(const Lattice& lattice) {
  const int n0 = lattice.vertex_count();
  CycleSpaceDimension dim;
  for (int v = 0; v < n0; ++v) {
    if (!is_terminal(lattice, v)) ++dim.vertices;
  }
  for (int e = 0; e < lattice.edge_count(); ++e) {
    if (is_fixed(lattice, e)) continue;
    if (is_terminal(lattice, lattice.edges[e][0]) || is_terminal(lattice, lattice.edges[e][1])) {
      throw std::invalid_argument("cycle_space_dimension: free island " + std::to_string(e) +
                                  " touches a terminal vertex");
    }
    ++dim.free_edges;
  }
  const auto adjacency = free_adjacency(lattice);
  std::vector<char> seen(n0, 0);
  for (int root = 0; root < n0; ++root) {
    if (seen[root] || is_terminal(lattice, root)) continue;
    ++dim.components;
    std::vector<int> stack{root};
    seen[root] = 1;
    while (!stack.empty()) {
      const int u = stack.back();
      stack.pop_back();
      for (const auto& [v, e] : adjacency[u]) {
        if (!seen[v]) {
          seen[v] = 1;
          stack.push_back(v);
        }
      }
    }
  }
  dim.beta1 = dim.free_edges - dim.vertices + dim.components;
  return dim;
}

CycleBasis build_cycle_basis(const Lattice& lattice) {
  const CycleSpaceDimension dim = cycle_space_dimension(lattice);
  CycleBasis basis;
  basis.beta1 = dim.beta1;
  basis.components = dim.components;
  basis.edge_count = lattice.edge_count();
  const bool torus = !lattice.windings.empty();
  const int faces = static_cast<int>(lattice.faces.size());
  const bool faces_fit =
      faces > 0 && loops_are_free(lattice, lattice.faces) &&
      (torus ? loops_are_free(lattice, lattice.windings) &&
                   faces - 1 + static_cast<int>(lattice.windings.size()) == dim.beta1
             : faces == dim.beta1);
  if (faces_fit && !torus) {
    basis.source = CycleBasisSource::faces;
    basis.loops = lattice.faces;
  } else if (faces_fit) {
    basis.source = CycleBasisSource::faces_and_windings;
    basis.dropped_face = faces - 1;
    basis.loops.assign(lattice.faces.begin(), lattice.faces.end() - 1);
    basis.loops.insert(basis.loops.end(), lattice.windings.begin(), lattice.windings.end());
    basis.winding_count = static_cast<int>(lattice.windings.size());
  } else {
    basis.source = CycleBasisSource::spanning_tree;
    basis.loops = fundamental_cycles(lattice);
    if (basis.loop_count() != dim.beta1) {
      throw std::logic_error("build_cycle_basis: spanning forest gave a wrong loop count");
    }
  }
  fill_compressed(lattice, basis);
  return basis;
}

std::size_t gf2_rank(const CycleBasis& basis) {
  std::vector<gf2::BitVector> vectors;
  vectors.reserve(basis.loops.size());
  for (const auto& loop : basis.loops) {
    gf2::BitVector v(static_cast<std::size_t>(basis.edge_count));
    for (int e : loop.edges) v.flip(static_cast<std::size_t>(e));
    vectors.push_back(std::move(v));
  }
  return gf2::rank(std::move(vectors));
}

int loop_direction(const CycleBasis& basis, int loop, const std::vector<std::int8_t>& sigma) {
  const int begin = basis.offsets[loop];
  const int end = basis.offsets[loop + 1];
  if (begin == end) return 0;
  const int first = sigma[basis.edges[begin]] * basis.orientation[begin];
  for (int k = begin + 1; k < end; ++k) {
    if (sigma[basis.edges[k]] * basis.orientation[k] != first) return 0;
  }
  return first;
}

void flip_loop(const CycleBasis& basis, int loop, std::vector<std::int8_t>& sigma) {
  for (int k = basis.offsets[loop]; k < basis.offsets[loop + 1]; ++k) {
    sigma[basis.edges[k]] = static_cast<std::int8_t>(-sigma[basis.edges[k]]);
  }
}

}  // namespace frost::asi
