// Lattice members, geometry shared by the generators (island geometry, face tracing, winding
// cycles) and the dispatch by lattice name.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <utility>

#include "asi/lattice.hpp"
#include "asi/lattice_generators.hpp"

namespace frost::asi {

std::vector<int> Lattice::degrees() const {
  std::vector<int> degree(positions.size(), 0);
  for (const auto& edge : edges) {
    ++degree[edge[0]];
    ++degree[edge[1]];
  }
  return degree;
}

namespace detail {

namespace {

/// Reduces one displacement component to the minimum image for the period p (p = 0: open).
double minimum_image_component(double d, double p) {
  if (p <= 0.0) return d;
  return d - p * std::round(d / p);
}

/// One directed use of an island: half-edge 2e runs tail -> head, 2e + 1 runs head -> tail.
struct HalfEdge {
  int from = 0;
  int to = 0;
  double angle = 0.0;  ///< direction of the displacement from -> to, radians
};

/// Turns a closed walk of half-edges into an oriented loop, dropping islands the walk uses in
/// both directions (dangling islands seen from both sides), which leaves the same cycle.
OrientedLoop loop_from_half_edges(const std::vector<int>& walk) {
  std::vector<int> uses;
  OrientedLoop loop;
  for (int half : walk) {
    const int edge = half / 2;
    const bool reversed_elsewhere = std::find(walk.begin(), walk.end(), half ^ 1) != walk.end();
    if (reversed_elsewhere) continue;
    loop.edges.push_back(edge);
    loop.orientation.push_back(half % 2 == 0 ? +1 : -1);
  }
  return loop;
}

/// Traces the faces of the embedding: the face to the left of a half-edge u -> v continues
/// with the half-edge leaving v that comes next clockwise after v -> u. Bounded faces are then
/// counter-clockwise with positive area; the outer face of each component has negative area.
void trace_faces(Lattice& lattice) {
  const int n0 = lattice.vertex_count();
  const int n1 = lattice.edge_count();
  std::vector<HalfEdge> half(2 * n1);
  std::vector<std::vector<int>> around(n0);  // outgoing half-edges sorted by angle (CCW)
  for (int e = 0; e < n1; ++e) {
    const int tail = lattice.edges[e][0];
    const int head = lattice.edges[e][1];
    const auto d = vertex_displacement(lattice, tail, head);
    half[2 * e] = {tail, head, std::atan2(d[1], d[0])};
    half[2 * e + 1] = {head, tail, std::atan2(-d[1], -d[0])};
    around[tail].push_back(2 * e);
    around[head].push_back(2 * e + 1);
  }
  std::vector<int> slot(2 * n1, 0);
  for (int v = 0; v < n0; ++v) {
    auto& list = around[v];
    std::sort(list.begin(), list.end(),
              [&](int a, int b) { return half[a].angle < half[b].angle; });
    for (int k = 0; k < static_cast<int>(list.size()); ++k) slot[list[k]] = k;
  }

  struct TracedFace {
    OrientedLoop loop;
    double centroid_x = 0.0;
    double centroid_y = 0.0;
  };
  std::vector<TracedFace> traced;
  std::vector<char> used(2 * n1, 0);
  const bool periodic = lattice.period[0] > 0.0 || lattice.period[1] > 0.0;
  for (int start = 0; start < 2 * n1; ++start) {
    if (used[start]) continue;
    std::vector<int> walk;
    double x = lattice.positions[half[start].from][0];
    double y = lattice.positions[half[start].from][1];
    double twice_area = 0.0;
    double sum_x = 0.0;
    double sum_y = 0.0;
    int current = start;
    while (!used[current]) {
      used[current] = 1;
      walk.push_back(current);
      const auto d = vertex_displacement(lattice, half[current].from, half[current].to);
      twice_area += x * d[1] - y * d[0];
      sum_x += x;
      sum_y += y;
      x += d[0];
      y += d[1];
      const int v = half[current].to;
      const auto& list = around[v];
      const int back = current ^ 1;
      const int count = static_cast<int>(list.size());
      current = list[(slot[back] - 1 + count) % count];
    }
    if (twice_area <= 1e-9) continue;  // outer face (or a degenerate walk around a tree)
    TracedFace face;
    face.loop = loop_from_half_edges(walk);
    face.centroid_x = sum_x / walk.size();
    face.centroid_y = sum_y / walk.size();
    if (periodic) {
      if (lattice.period[0] > 0.0) {
        face.centroid_x -= lattice.period[0] * std::floor(face.centroid_x / lattice.period[0]);
      }
      if (lattice.period[1] > 0.0) {
        face.centroid_y -= lattice.period[1] * std::floor(face.centroid_y / lattice.period[1]);
      }
    }
    traced.push_back(std::move(face));
  }
  std::stable_sort(traced.begin(), traced.end(), [](const TracedFace& a, const TracedFace& b) {
    if (std::abs(a.centroid_y - b.centroid_y) > 1e-6) return a.centroid_y < b.centroid_y;
    return a.centroid_x < b.centroid_x - 1e-6;
  });
  lattice.faces.clear();
  for (auto& face : traced) lattice.faces.push_back(std::move(face.loop));
}

/// Finds two cycles whose winding numbers around the torus form a basis of Z^2: fundamental
/// cycles of a breadth-first spanning tree, with windings read off the unwrapped positions.
void find_windings(Lattice& lattice) {
  lattice.windings.clear();
  const int n0 = lattice.vertex_count();
  const int n1 = lattice.edge_count();
  if (n0 == 0) return;
  std::vector<std::vector<std::pair<int, int>>> neighbours(n0);  // (vertex, half-edge)
  for (int e = 0; e < n1; ++e) {
    neighbours[lattice.edges[e][0]].push_back({lattice.edges[e][1], 2 * e});
    neighbours[lattice.edges[e][1]].push_back({lattice.edges[e][0], 2 * e + 1});
  }
  std::vector<int> parent_half(n0, -1);  // half-edge parent -> vertex
  std::vector<int> depth(n0, -1);
  std::vector<std::array<double, 2>> lifted(n0);
  std::vector<char> tree_edge(n1, 0);
  std::queue<int> queue;
  depth[0] = 0;
  lifted[0] = lattice.positions[0];
  queue.push(0);
  while (!queue.empty()) {
    const int u = queue.front();
    queue.pop();
    for (const auto& [v, h] : neighbours[u]) {
      if (depth[v] >= 0) continue;
      const auto d = vertex_displacement(lattice, u, v);
      lifted[v] = {lifted[u][0] + d[0], lifted[u][1] + d[1]};
      depth[v] = depth[u] + 1;
      parent_half[v] = h;
      tree_edge[h / 2] = 1;
      queue.push(v);
    }
  }
  struct Candidate {
    std::array<long, 2> winding;
    std::vector<int> walk;  // half-edges
  };
  std::vector<Candidate> candidates;
  for (int e = 0; e < n1; ++e) {
    if (tree_edge[e]) continue;
    const int u = lattice.edges[e][0];
    const int v = lattice.edges[e][1];
    if (depth[u] < 0 || depth[v] < 0) continue;
    const auto d = vertex_displacement(lattice, u, v);
    std::array<long, 2> winding{0, 0};
    for (int k = 0; k < 2; ++k) {
      if (lattice.period[k] <= 0.0) continue;
      winding[k] = std::lround((lifted[u][k] + d[k] - lifted[v][k]) / lattice.period[k]);
    }
    if (winding[0] == 0 && winding[1] == 0) continue;
    // Cycle: edge u -> v, then the tree path v -> lca -> u.
    std::vector<int> up_from_v;
    std::vector<int> up_from_u;
    int a = v;
    int b = u;
    while (a != b) {
      if (depth[a] >= depth[b]) {
        up_from_v.push_back(parent_half[a] ^ 1);  // a -> parent
        a = lattice.edges[parent_half[a] / 2][(parent_half[a] % 2 == 0) ? 0 : 1];
      } else {
        up_from_u.push_back(parent_half[b]);  // parent -> b
        b = lattice.edges[parent_half[b] / 2][(parent_half[b] % 2 == 0) ? 0 : 1];
      }
    }
    Candidate candidate;
    candidate.winding = winding;
    candidate.walk.push_back(2 * e);
    for (int h : up_from_v) candidate.walk.push_back(h);
    for (auto it = up_from_u.rbegin(); it != up_from_u.rend(); ++it) candidate.walk.push_back(*it);
    candidates.push_back(std::move(candidate));
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& x, const Candidate& y) { return x.walk.size() < y.walk.size(); });
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    for (std::size_t j = i + 1; j < candidates.size(); ++j) {
      const auto& p = candidates[i].winding;
      const auto& q = candidates[j].winding;
      const long det = p[0] * q[1] - p[1] * q[0];
      if (det != 1 && det != -1) continue;
      lattice.windings.push_back(loop_from_half_edges(candidates[i].walk));
      lattice.windings.push_back(loop_from_half_edges(candidates[j].walk));
      return;
    }
  }
  throw std::logic_error("finish_lattice: no pair of winding cycles spans the torus");
}

}  // namespace

std::array<double, 2> vertex_displacement(const Lattice& lattice, int from, int to) {
  return {minimum_image_component(lattice.positions[to][0] - lattice.positions[from][0],
                                  lattice.period[0]),
          minimum_image_component(lattice.positions[to][1] - lattice.positions[from][1],
                                  lattice.period[1])};
}

void finish_lattice(Lattice& lattice, bool trace) {
  const int n1 = lattice.edge_count();
  lattice.island_position.assign(n1, {0.0, 0.0});
  lattice.island_axis.assign(n1, {0.0, 0.0});
  for (int e = 0; e < n1; ++e) {
    const int tail = lattice.edges[e][0];
    const auto d = vertex_displacement(lattice, tail, lattice.edges[e][1]);
    const double length = std::hypot(d[0], d[1]);
    if (!(length > 1e-12)) throw std::logic_error("finish_lattice: island of zero length");
    lattice.island_axis[e] = {d[0] / length, d[1] / length};
    double x = lattice.positions[tail][0] + 0.5 * d[0];
    double y = lattice.positions[tail][1] + 0.5 * d[1];
    if (lattice.period[0] > 0.0) x -= lattice.period[0] * std::floor(x / lattice.period[0]);
    if (lattice.period[1] > 0.0) y -= lattice.period[1] * std::floor(y / lattice.period[1]);
    lattice.island_position[e] = {x, y};
  }
  if (lattice.fixed_spin.empty()) lattice.fixed_spin.assign(n1, 0);
  if (lattice.terminal.empty()) lattice.terminal.assign(lattice.positions.size(), 0);
  if (trace) {
    trace_faces(lattice);
    if (lattice.period[0] > 0.0 || lattice.period[1] > 0.0) find_windings(lattice);
  }
}

}  // namespace detail

Lattice make_lattice(const std::string& kind, int L, const std::string& boundary,
                     const std::string& file) {
  const std::string allowed =
      "allowed: square {open, periodic, domain_wall}, kagome {open, periodic}, brickwork {open, "
      "periodic}, tetris {open}, shakti {open}, santa_fe {open}, custom {open} (with a file)";
  const auto reject = [&](const std::string& why) {
    throw std::invalid_argument("lattice '" + kind + "' with boundary '" + boundary + "': " + why +
                                "; " + allowed);
  };
  if (kind == "custom") {
    if (boundary != "open") reject("unsupported boundary");
    if (file.empty()) reject("no lattice file given");
    return read_custom_lattice(file);
  }
  if (L < 1) reject("L must be >= 1, got " + std::to_string(L));
  if (kind == "square") {
    if (boundary != "open" && boundary != "periodic" && boundary != "domain_wall") {
      reject("unsupported boundary");
    }
    if (boundary == "periodic" && L < 3) reject("periodic square needs L >= 3");
    return make_square(L, boundary);
  }
  if (kind == "kagome" || kind == "brickwork") {
    if (boundary != "open" && boundary != "periodic") reject("unsupported boundary");
    const int smallest_periodic = kind == "kagome" ? 2 : 4;
    if (boundary == "periodic" && (L % 2 != 0 || L < smallest_periodic)) {
      reject("periodic " + kind + " needs an even L >= " + std::to_string(smallest_periodic));
    }
    return kind == "kagome" ? make_kagome(L, boundary) : make_brickwork(L, boundary);
  }
  if (kind == "tetris" || kind == "shakti" || kind == "santa_fe") {
    if (boundary != "open") reject("unsupported boundary");
    if (kind == "tetris") return make_tetris(L);
    if (kind == "shakti") return make_shakti(L);
    return make_santa_fe(L);
  }
  reject("unknown lattice kind");
  return Lattice{};  // not reached
}

}  // namespace frost::asi
