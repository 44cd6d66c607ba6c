// Loop-coefficient recovery by peeling (face and fundamental-cycle bases) and by elimination.
#include "asi/alpha_recovery.hpp"

#include <array>
#include <queue>
#include <stdexcept>
#include <string>
#include <utility>

namespace frost::asi {

namespace {

void check_sizes(int n1, const std::vector<std::int8_t>& sigma,
                 const std::vector<std::int8_t>& sigma_prime) {
  if (static_cast<int>(sigma.size()) != n1 || static_cast<int>(sigma_prime.size()) != n1) {
    throw std::invalid_argument("alpha recovery: state size differs from the edge count");
  }
}

/// Inverse over GF(2) of a w x w matrix given as row bit masks; throws when singular.
std::vector<std::uint64_t> invert_small(std::vector<std::uint64_t> rows) {
  const int w = static_cast<int>(rows.size());
  std::vector<std::uint64_t> inverse(w);
  for (int i = 0; i < w; ++i) inverse[i] = std::uint64_t{1} << i;
  for (int col = 0; col < w; ++col) {
    int pivot = -1;
    for (int r = col; r < w; ++r) {
      if ((rows[r] >> col) & 1u) {
        pivot = r;
        break;
      }
    }
    if (pivot < 0) throw std::logic_error("alpha recovery: singular cut matrix");
    std::swap(rows[col], rows[pivot]);
    std::swap(inverse[col], inverse[pivot]);
    for (int r = 0; r < w; ++r) {
      if (r != col && ((rows[r] >> col) & 1u)) {
        rows[r] ^= rows[col];
        inverse[r] ^= inverse[col];
      }
    }
  }
  return inverse;
}

/// For each winding j of a torus basis, an edge set (dual cycle) meeting every face boundary an
/// even number of times and winding i an odd number of times exactly when i == j. Built by a
/// tree-cotree argument: every edge outside a spanning tree of the dual graph closes a dual
/// cycle; its crossing parities with the windings follow from prefix parities along the tree.
std::vector<std::vector<int>> winding_cuts(const Lattice& lattice, const CycleBasis& basis) {
  const int n1 = lattice.edge_count();
  const int faces = static_cast<int>(lattice.faces.size());
  const int w = basis.winding_count;
  if (w > 64) throw std::logic_error("alpha recovery: more than 64 windings");
  const int first_winding = basis.loop_count() - w;
  std::vector<std::uint64_t> winding_mask(n1, 0);  // windings containing each edge
  for (int j = 0; j < w; ++j) {
    const int loop = first_winding + j;
    for (int k = basis.offsets[loop]; k < basis.offsets[loop + 1]; ++k) {
      winding_mask[basis.edges[k]] ^= std::uint64_t{1} << j;
    }
  }
  // The (up to) two faces on either side of each edge.
  std::vector<std::array<int, 2>> side(n1, {-1, -1});
  for (int f = 0; f < faces; ++f) {
    for (int e : lattice.faces[f].edges) {
      if (side[e][0] < 0) {
        side[e][0] = f;
      } else if (side[e][1] < 0) {
        side[e][1] = f;
      } else {
        throw std::logic_error("alpha recovery: an edge borders more than two faces");
      }
    }
  }
  std::vector<std::vector<std::pair<int, int>>> dual(faces);  // (face, edge)
  for (int e = 0; e < n1; ++e) {
    if (side[e][1] < 0) continue;
    dual[side[e][0]].push_back({side[e][1], e});
    dual[side[e][1]].push_back({side[e][0], e});
  }
  std::vector<int> parent(faces, -1);
  std::vector<int> parent_edge(faces, -1);
  std::vector<int> depth(faces, -1);
  std::vector<std::uint64_t> prefix(faces, 0);  // windings crossed on the tree path from face 0
  std::vector<char> tree_edge(n1, 0);
  if (faces > 0) {
    std::queue<int> queue;
    depth[0] = 0;
    queue.push(0);
    while (!queue.empty()) {
      const int f = queue.front();
      queue.pop();
      for (const auto& [g, e] : dual[f]) {
        if (depth[g] >= 0) continue;
        depth[g] = depth[f] + 1;
        parent[g] = f;
        parent_edge[g] = e;
        prefix[g] = prefix[f] ^ winding_mask[e];
        tree_edge[e] = 1;
        queue.push(g);
      }
    }
  }
  // Pick w cotree edges whose crossing vectors are independent (small elimination on masks).
  std::vector<int> chosen;
  std::vector<std::uint64_t> chosen_vectors;
  std::vector<std::uint64_t> echelon;  // reduced copies, each with a distinct lowest bit
  for (int e = 0; e < n1 && static_cast<int>(chosen.size()) < w; ++e) {
    if (tree_edge[e]) continue;
    std::uint64_t vec = winding_mask[e];
    if (side[e][1] >= 0) vec ^= prefix[side[e][0]] ^ prefix[side[e][1]];
    std::uint64_t reduced = vec;
    for (const auto row : echelon) {
      if (reduced & (row & (~row + 1))) reduced ^= row;
    }
    if (reduced == 0) continue;
    for (auto& row : echelon) {
      if (row & (reduced & (~reduced + 1))) row ^= reduced;
    }
    echelon.push_back(reduced);
    chosen.push_back(e);
    chosen_vectors.push_back(vec);
  }
  if (static_cast<int>(chosen.size()) < w) {
    throw std::logic_error("alpha recovery: no dual cycles separate the windings");
  }
  // Cut j = sum_a X[j][a] gamma_a with X = M^-1 over GF(2), M[a] = crossing vector of gamma_a:
  // then cut j crosses winding i with parity (X M)[j][i] = delta_ij. Rows of M are masks over
  // windings; the inverse is taken of the transpose so that rows of X index cuts.
  std::vector<std::uint64_t> m_transpose(w, 0);
  for (int a = 0; a < w; ++a) {
    for (int i = 0; i < w; ++i) {
      if ((chosen_vectors[a] >> i) & 1u) m_transpose[i] |= std::uint64_t{1} << a;
    }
  }
  // Want X with X M = I  <=>  M^T X^T = I, so X^T = (M^T)^-1; X[j][a] = (M^T)^-1[a][j].
  const auto inverse = invert_small(m_transpose);
  std::vector<gf2::BitVector> gamma;
  for (int a = 0; a < w; ++a) {
    gf2::BitVector g(static_cast<std::size_t>(n1));
    const int e = chosen[a];
    g.flip(e);
    if (side[e][1] >= 0) {
      int x = side[e][0];
      int y = side[e][1];
      while (x != y) {
        if (depth[x] >= depth[y]) {
          g.flip(parent_edge[x]);
          x = parent[x];
        } else {
          g.flip(parent_edge[y]);
          y = parent[y];
        }
      }
    }
    gamma.push_back(std::move(g));
  }
  std::vector<std::vector<int>> cuts(w);
  for (int j = 0; j < w; ++j) {
    gf2::BitVector cut(static_cast<std::size_t>(n1));
    for (int a = 0; a < w; ++a) {
      if ((inverse[a] >> j) & 1u) cut ^= gamma[a];
    }
    for (int e = 0; e < n1; ++e) {
      if (cut.get(e)) cuts[j].push_back(e);
    }
  }
  return cuts;
}

}  // namespace

std::vector<std::int8_t> apply_alpha(const CycleBasis& basis, const std::vector<std::int8_t>& sigma,
                                     const std::vector<std::uint8_t>& alpha) {
  if (static_cast<int>(alpha.size()) != basis.loop_count()) {
    throw std::invalid_argument("apply_alpha: alpha size differs from the loop count");
  }
  std::vector<std::int8_t> out = sigma;
  for (int l = 0; l < basis.loop_count(); ++l) {
    if (alpha[l]) flip_loop(basis, l, out);
  }
  return out;
}

AlphaPeeler::AlphaPeeler(const Lattice& lattice, const CycleBasis& basis) : basis_(&basis) {
  const int n1 = basis.edge_count;
  face_loops_ = basis.loop_count() - basis.winding_count;
  edge_loop_offsets_.assign(n1 + 1, 0);
  for (int k = 0; k < basis.offsets[face_loops_]; ++k) ++edge_loop_offsets_[basis.edges[k] + 1];
  for (int e = 0; e < n1; ++e) edge_loop_offsets_[e + 1] += edge_loop_offsets_[e];
  edge_loops_.resize(edge_loop_offsets_[n1]);
  std::vector<int> fill(edge_loop_offsets_.begin(), edge_loop_offsets_.end() - 1);
  for (int l = 0; l < face_loops_; ++l) {
    for (int k = basis.offsets[l]; k < basis.offsets[l + 1]; ++k) {
      edge_loops_[fill[basis.edges[k]]++] = l;
    }
  }
  for (int e = 0; e < n1; ++e) {
    if (edge_loop_offsets_[e + 1] - edge_loop_offsets_[e] == 1) start_queue_.push_back(e);
  }
  if (basis.winding_count > 0) winding_cut_ = winding_cuts(lattice, basis);
}

std::vector<std::uint8_t> AlphaPeeler::recover(const std::vector<std::int8_t>& sigma,
                                               const std::vector<std::int8_t>& sigma_prime) const {
  const CycleBasis& basis = *basis_;
  const int n1 = basis.edge_count;
  check_sizes(n1, sigma, sigma_prime);
  std::vector<std::uint8_t> d(n1);
  for (int e = 0; e < n1; ++e) d[e] = sigma[e] != sigma_prime[e];
  std::vector<std::uint8_t> alpha(basis.loop_count(), 0);
  // Windings first: a face boundary crosses every cut evenly, so d's parity across cut j is
  // the coefficient of winding j.
  for (int j = 0; j < basis.winding_count; ++j) {
    std::uint8_t parity = 0;
    for (int e : winding_cut_[j]) parity ^= d[e];
    const int loop = face_loops_ + j;
    alpha[loop] = parity;
    if (parity) {
      for (int k = basis.offsets[loop]; k < basis.offsets[loop + 1]; ++k) d[basis.edges[k]] ^= 1;
    }
  }
  std::vector<int> open(n1);  // loops through each edge whose coefficient is still unknown
  for (int e = 0; e < n1; ++e) open[e] = edge_loop_offsets_[e + 1] - edge_loop_offsets_[e];
  std::vector<std::uint8_t> known(face_loops_, 0);
  std::vector<int> queue = start_queue_;
  int determined = 0;
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const int e = queue[head];
    if (open[e] != 1) continue;
    int loop = -1;
    for (int k = edge_loop_offsets_[e]; k < edge_loop_offsets_[e + 1]; ++k) {
      if (!known[edge_loops_[k]]) {
        loop = edge_loops_[k];
        break;
      }
    }
    known[loop] = 1;
    ++determined;
    const std::uint8_t a = d[e];
    alpha[loop] = a;
    for (int k = basis.offsets[loop]; k < basis.offsets[loop + 1]; ++k) {
      const int f = basis.edges[k];
      d[f] ^= a;
      if (--open[f] == 1) queue.push_back(f);
    }
  }
  if (determined != face_loops_) {
    throw std::logic_error("AlphaPeeler: the basis does not peel (" +
                           std::to_string(face_loops_ - determined) + " loops left)");
  }
  for (int e = 0; e < n1; ++e) {
    if (d[e]) {
      throw std::invalid_argument("AlphaPeeler: the states are not in one charge sector (edge " +
                                  std::to_string(e) + ")");
    }
  }
  return alpha;
}

AlphaEliminator::AlphaEliminator(const CycleBasis& basis) : edge_count_(basis.edge_count) {
  std::vector<gf2::BitVector> columns;
  columns.reserve(basis.loops.size());
  for (int l = 0; l < basis.loop_count(); ++l) {
    gf2::BitVector column(static_cast<std::size_t>(edge_count_));
    for (int k = basis.offsets[l]; k < basis.offsets[l + 1]; ++k) column.flip(basis.edges[k]);
    columns.push_back(std::move(column));
  }
  solver_ = gf2::LinearSolver(columns);
}

std::vector<std::uint8_t> AlphaEliminator::recover(
    const std::vector<std::int8_t>& sigma, const std::vector<std::int8_t>& sigma_prime) const {
  check_sizes(edge_count_, sigma, sigma_prime);
  gf2::BitVector d(static_cast<std::size_t>(edge_count_));
  for (int e = 0; e < edge_count_; ++e) {
    if (sigma[e] != sigma_prime[e]) d.set(e);
  }
  const auto x = solver_.solve(d);
  if (!x) throw std::invalid_argument("AlphaEliminator: the states are not in one charge sector");
  std::vector<std::uint8_t> alpha(solver_.columns());
  for (std::size_t l = 0; l < alpha.size(); ++l) alpha[l] = x->get(l) ? 1 : 0;
  return alpha;
}

}  // namespace frost::asi
