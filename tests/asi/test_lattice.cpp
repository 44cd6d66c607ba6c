// Tests of the lattice generators, the custom lattice reader and the SVG drawing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "asi/lattice_generators.hpp"
#include "asi/svg.hpp"

namespace {

using frost::asi::Lattice;
using frost::asi::OrientedLoop;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// beta1 = n1 - n0 + components over free islands and non-terminal vertices.
int first_betti_number(const Lattice& lattice) {
  std::vector<int> parent(lattice.vertex_count());
  std::iota(parent.begin(), parent.end(), 0);
  std::function<int(int)> root = [&](int v) {
    return parent[v] == v ? v : parent[v] = root(parent[v]);
  };
  int n0 = 0;
  for (int v = 0; v < lattice.vertex_count(); ++v) n0 += lattice.terminal[v] == 0;
  int n1 = 0;
  int components = n0;
  for (int e = 0; e < lattice.edge_count(); ++e) {
    if (lattice.fixed_spin[e] != 0) continue;
    ++n1;
    const int a = root(lattice.edges[e][0]);
    const int b = root(lattice.edges[e][1]);
    if (a != b) {
      parent[a] = b;
      --components;
    }
  }
  return n1 - n0 + components;
}

/// True when the loop's signed incidence sum vanishes at every vertex (a closed cycle).
bool is_closed_cycle(const Lattice& lattice, const OrientedLoop& loop) {
  if (loop.edges.empty() || loop.edges.size() != loop.orientation.size()) return false;
  std::map<int, int> balance;
  for (std::size_t i = 0; i < loop.edges.size(); ++i) {
    const auto& edge = lattice.edges.at(loop.edges[i]);
    balance[edge[1]] += loop.orientation[i];
    balance[edge[0]] -= loop.orientation[i];
  }
  for (const auto& [vertex, sum] : balance) {
    if (sum != 0) return false;
  }
  return true;
}

/// Signed area enclosed by a loop (positive when counter-clockwise), following its islands
/// in order; uses minimum-image island vectors, so it also works on a torus.
double loop_area(const Lattice& lattice, const OrientedLoop& loop) {
  double x = 0.0, y = 0.0, twice_area = 0.0;
  for (std::size_t i = 0; i < loop.edges.size(); ++i) {
    const int e = loop.edges[i];
    auto d =
        frost::asi::detail::vertex_displacement(lattice, lattice.edges[e][0], lattice.edges[e][1]);
    d[0] *= loop.orientation[i];
    d[1] *= loop.orientation[i];
    twice_area += x * d[1] - y * d[0];
    x += d[0];
    y += d[1];
  }
  return 0.5 * twice_area;
}

/// Checks shared by every generated lattice.
void check_common_invariants(const Lattice& lattice) {
  const int n0 = lattice.vertex_count();
  const int n1 = lattice.edge_count();
  ASSERT_EQ(lattice.island_position.size(), static_cast<std::size_t>(n1));
  ASSERT_EQ(lattice.island_axis.size(), static_cast<std::size_t>(n1));
  ASSERT_EQ(lattice.fixed_spin.size(), static_cast<std::size_t>(n1));
  ASSERT_EQ(lattice.terminal.size(), static_cast<std::size_t>(n0));
  std::set<std::pair<int, int>> seen;
  for (int e = 0; e < n1; ++e) {
    const auto [tail, head] = lattice.edges[e];
    ASSERT_GE(tail, 0);
    ASSERT_LT(tail, n0);
    ASSERT_GE(head, 0);
    ASSERT_LT(head, n0);
    EXPECT_NE(tail, head) << "self-loop at island " << e;
    EXPECT_TRUE(seen.insert({std::min(tail, head), std::max(tail, head)}).second)
        << "duplicate island " << e;
    const auto& axis = lattice.island_axis[e];
    EXPECT_NEAR(std::hypot(axis[0], axis[1]), 1.0, 1e-12);
    const auto d = frost::asi::detail::vertex_displacement(lattice, tail, head);
    const double length = std::hypot(d[0], d[1]);
    EXPECT_NEAR(axis[0] * length, d[0], 1e-9);
    EXPECT_NEAR(axis[1] * length, d[1], 1e-9);
    if (lattice.period[0] == 0.0 && lattice.period[1] == 0.0) {
      const auto& a = lattice.positions[tail];
      const auto& b = lattice.positions[head];
      EXPECT_NEAR(lattice.island_position[e][0], 0.5 * (a[0] + b[0]), 1e-12);
      EXPECT_NEAR(lattice.island_position[e][1], 0.5 * (a[1] + b[1]), 1e-12);
    }
  }
  const bool periodic = lattice.period[0] > 0.0 || lattice.period[1] > 0.0;
  for (const auto& face : lattice.faces) {
    EXPECT_TRUE(is_closed_cycle(lattice, face));
    EXPECT_GT(loop_area(lattice, face), 0.0) << "face not counter-clockwise";
    for (int e : face.edges) EXPECT_EQ(lattice.fixed_spin[e], 0) << "face through a fixed island";
  }
  for (const auto& winding : lattice.windings) EXPECT_TRUE(is_closed_cycle(lattice, winding));
  const int beta1 = first_betti_number(lattice);
  if (periodic) {
    EXPECT_EQ(lattice.windings.size(), 2u);
    EXPECT_EQ(beta1, static_cast<int>(lattice.faces.size()) - 1 +
                         static_cast<int>(lattice.windings.size()));
    double total_area = 0.0;
    for (const auto& face : lattice.faces) total_area += loop_area(lattice, face);
    EXPECT_NEAR(total_area, lattice.period[0] * lattice.period[1], 1e-6);
  } else {
    EXPECT_TRUE(lattice.windings.empty());
    EXPECT_EQ(beta1, static_cast<int>(lattice.faces.size()));
  }
}

std::set<int> degree_set(const Lattice& lattice) {
  std::set<int> result;
  const auto degree = lattice.degrees();
  for (int v = 0; v < lattice.vertex_count(); ++v) {
    if (lattice.terminal[v] == 0) result.insert(degree[v]);
  }
  return result;
}

/// Renders the islands of a lattice onto a character grid: 'o' for vertices, '-', '|', '/',
/// '\' for the cells an island passes through. Column = round(x * x_scale), row counted from
/// the top = round((y_max - y) * y_scale). Trailing blanks are removed.
std::string render_ascii(const Lattice& lattice, double x_scale, double y_scale) {
  double x_min = 1e300, y_max = -1e300, x_max = -1e300, y_min = 1e300;
  for (const auto& p : lattice.positions) {
    x_min = std::min(x_min, p[0]);
    x_max = std::max(x_max, p[0]);
    y_min = std::min(y_min, p[1]);
    y_max = std::max(y_max, p[1]);
  }
  const auto column = [&](double x) {
    return static_cast<int>(std::lround((x - x_min) * x_scale));
  };
  const auto row = [&](double y) { return static_cast<int>(std::lround((y_max - y) * y_scale)); };
  std::vector<std::string> canvas(row(y_min) + 1, std::string(column(x_max) + 1, ' '));
  for (const auto& edge : lattice.edges) {
    const auto& a = lattice.positions[edge[0]];
    const auto& b = lattice.positions[edge[1]];
    const int c0 = column(a[0]), r0 = row(a[1]), c1 = column(b[0]), r1 = row(b[1]);
    const int steps = std::max(std::abs(c1 - c0), std::abs(r1 - r0));
    char mark = '-';
    if (c0 == c1) {
      mark = '|';
    } else if (r0 != r1) {
      mark = ((c1 - c0) * (r1 - r0) < 0) ? '/' : '\\';
    }
    for (int k = 1; k < steps; ++k) {
      const int c = static_cast<int>(std::lround(c0 + (c1 - c0) * double(k) / steps));
      const int r = static_cast<int>(std::lround(r0 + (r1 - r0) * double(k) / steps));
      canvas[r][c] = mark;
    }
  }
  for (const auto& p : lattice.positions) canvas[row(p[1])][column(p[0])] = 'o';
  std::string text;
  for (auto& line : canvas) {
    line.erase(line.find_last_not_of(' ') + 1);
    text += line + "\n";
  }
  return text;
}

/// Number of "reversals" around a face: vertices of degree >= 3 that the face passes straight
/// through. Odd means the face is vertex frustrated (square-geometry vertex ground states).
int reversals(const Lattice& lattice, const OrientedLoop& face) {
  const auto degree = lattice.degrees();
  int count = 0;
  const std::size_t n = face.edges.size();
  for (std::size_t i = 0; i < n; ++i) {
    const int e = face.edges[i];
    const int f = face.edges[(i + 1) % n];
    const int shared = face.orientation[i] > 0 ? lattice.edges[e][1] : lattice.edges[e][0];
    const auto& a = lattice.island_axis[e];
    const auto& b = lattice.island_axis[f];
    const double dot =
        face.orientation[i] * face.orientation[(i + 1) % n] * (a[0] * b[0] + a[1] * b[1]);
    if (dot > 0.99 && degree[shared] >= 3) ++count;
  }
  return count;
}

/// True when every vertex of the face lies strictly inside the bounding box of the lattice
/// (boundary plaquettes of open samples have 2-fold vertices where the bulk has 3-fold ones).
bool is_bulk_face(const Lattice& lattice, const OrientedLoop& face) {
  double x_max = 0.0, y_max = 0.0;
  for (const auto& p : lattice.positions) {
    x_max = std::max(x_max, p[0]);
    y_max = std::max(y_max, p[1]);
  }
  for (int e : face.edges) {
    for (int v : lattice.edges[e]) {
      const auto& p = lattice.positions[v];
      if (p[0] <= 0.0 || p[1] <= 0.0 || p[0] >= x_max || p[1] >= y_max) return false;
    }
  }
  return true;
}

/// Writes `text` to a fresh file in the test's temporary directory and returns its path.
std::string write_temp_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "frost_lattice_" + name + ".txt";
  std::ofstream out(path);
  out << text;
  return path;
}

// ---------------------------------------------------------------------------------------------
// Square lattice
// ---------------------------------------------------------------------------------------------

TEST(SquareLattice, OpenCountsAndCanonicalNumbering) {
  const Lattice lattice = frost::asi::make_square(4, "open");
  EXPECT_EQ(lattice.kind, "square");
  EXPECT_EQ(lattice.boundary, "open");
  EXPECT_EQ(lattice.vertex_count(), 16);
  EXPECT_EQ(lattice.edge_count(), 24);
  EXPECT_EQ(lattice.faces.size(), 9u);
  EXPECT_EQ(first_betti_number(lattice), 9);
  check_common_invariants(lattice);
  EXPECT_EQ(degree_set(lattice), (std::set<int>{2, 3, 4}));
  // Vertex v = r*L + c at (c, r).
  EXPECT_EQ(lattice.positions[6][0], 2.0);
  EXPECT_EQ(lattice.positions[6][1], 1.0);
  // Horizontal edges first, row-major, tail at the lower c.
  EXPECT_EQ(lattice.edges[0], (std::array<int, 2>{0, 1}));
  EXPECT_EQ(lattice.edges[2], (std::array<int, 2>{2, 3}));
  EXPECT_EQ(lattice.edges[3], (std::array<int, 2>{4, 5}));
  EXPECT_EQ(lattice.edges[11], (std::array<int, 2>{14, 15}));
  // Then vertical edges, row-major, tail at the lower r.
  EXPECT_EQ(lattice.edges[12], (std::array<int, 2>{0, 4}));
  EXPECT_EQ(lattice.edges[13], (std::array<int, 2>{1, 5}));
  EXPECT_EQ(lattice.edges[23], (std::array<int, 2>{11, 15}));
  EXPECT_EQ(lattice.island_axis[0], (std::array<double, 2>{1.0, 0.0}));
  EXPECT_EQ(lattice.island_axis[12], (std::array<double, 2>{0.0, 1.0}));
  EXPECT_EQ(lattice.island_position[12], (std::array<double, 2>{0.0, 0.5}));
  for (const auto& face : lattice.faces) EXPECT_EQ(face.edges.size(), 4u);
  // The first face is the plaquette at the origin: bottom, right forward; top, left backward.
  const auto& first = lattice.faces.front();
  std::map<int, int> orientation;
  for (std::size_t i = 0; i < first.edges.size(); ++i)
    orientation[first.edges[i]] = first.orientation[i];
  EXPECT_EQ(orientation, (std::map<int, int>{{0, +1}, {13, +1}, {3, -1}, {12, -1}}));
}

TEST(SquareLattice, LargeOpenEdgeCount) {
  const Lattice lattice = frost::asi::make_square(50, "open");
  EXPECT_EQ(lattice.vertex_count(), 2500);
  EXPECT_EQ(lattice.edge_count(), 4900);
  EXPECT_EQ(lattice.faces.size(), 49u * 49u);
}

TEST(SquareLattice, SmallOpenSizes) {
  for (int L = 1; L <= 6; ++L) {
    const Lattice lattice = frost::asi::make_square(L, "open");
    EXPECT_EQ(lattice.vertex_count(), L * L);
    EXPECT_EQ(lattice.edge_count(), 2 * L * (L - 1));
    EXPECT_EQ(static_cast<int>(lattice.faces.size()), (L - 1) * (L - 1));
    check_common_invariants(lattice);
  }
}

TEST(SquareLattice, Periodic) {
  for (int L = 3; L <= 6; ++L) {
    const Lattice lattice = frost::asi::make_square(L, "periodic");
    EXPECT_EQ(lattice.vertex_count(), L * L);
    EXPECT_EQ(lattice.edge_count(), 2 * L * L);
    EXPECT_EQ(static_cast<int>(lattice.faces.size()), L * L);
    EXPECT_EQ(lattice.period, (std::array<double, 2>{double(L), double(L)}));
    EXPECT_EQ(degree_set(lattice), std::set<int>{4});
    check_common_invariants(lattice);
    // Canonical order with wrap-around.
    EXPECT_EQ(lattice.edges[L - 1], (std::array<int, 2>{L - 1, 0}));
    EXPECT_EQ(lattice.edges[L * L + (L - 1) * L], (std::array<int, 2>{(L - 1) * L, 0}));
    // The wrapping island points to increasing c and sits at the boundary midpoint.
    EXPECT_EQ(lattice.island_axis[L - 1], (std::array<double, 2>{1.0, 0.0}));
    EXPECT_NEAR(lattice.island_position[L - 1][0], L - 0.5, 1e-12);
  }
  EXPECT_THROW(frost::asi::make_square(2, "periodic"), std::invalid_argument);
}

TEST(SquareLattice, DomainWallStubs) {
  const int L = 4;
  const Lattice lattice = frost::asi::make_square(L, "domain_wall");
  check_common_invariants(lattice);
  EXPECT_EQ(lattice.vertex_count(), L * L + 4 * L);
  EXPECT_EQ(lattice.edge_count(), 2 * L * (L - 1) + 4 * L);
  EXPECT_EQ(static_cast<int>(lattice.faces.size()), (L - 1) * (L - 1));
  const int first_stub = 2 * L * (L - 1);
  for (int e = 0; e < first_stub; ++e) EXPECT_EQ(lattice.fixed_spin[e], 0);
  for (int v = 0; v < L * L; ++v) EXPECT_EQ(lattice.terminal[v], 0);
  for (int k = 0; k < 4 * L; ++k) {
    const int e = first_stub + k;
    const int side = k / L;  // 0 left, 1 right, 2 bottom, 3 top
    ASSERT_NE(lattice.fixed_spin[e], 0);
    EXPECT_EQ(lattice.terminal[L * L + k], 1);
    const auto [tail, head] = lattice.edges[e];
    EXPECT_TRUE(tail == L * L + k || head == L * L + k);
    // Arrow direction in the plane: axis times the fixed spin.
    const double ax = lattice.island_axis[e][0] * lattice.fixed_spin[e];
    const double ay = lattice.island_axis[e][1] * lattice.fixed_spin[e];
    switch (side) {
      case 0:
        EXPECT_GT(ax, 0.5) << "left stubs point into the grid";
        break;
      case 1:
        EXPECT_LT(ax, -0.5) << "right stubs point into the grid";
        break;
      case 2:
        EXPECT_LT(ay, -0.5) << "bottom stubs point out of the grid";
        break;
      default:
        EXPECT_GT(ay, 0.5) << "top stubs point out of the grid";
    }
    // The tail is the lower-coordinate end.
    const auto& pt = lattice.positions[tail];
    const auto& ph = lattice.positions[head];
    EXPECT_LT(pt[0] + pt[1], ph[0] + ph[1]);
  }
  const auto degree = lattice.degrees();
  for (int v = 0; v < L * L; ++v) EXPECT_EQ(degree[v], 4);
}

/// Counts spin states of a domain-wall lattice with zero net charge at every interior vertex.
long count_charge_neutral_states(const Lattice& lattice) {
  const int n0 = lattice.vertex_count();
  const int n1 = lattice.edge_count();
  std::vector<int> free_edges;
  for (int e = 0; e < n1; ++e) {
    if (lattice.fixed_spin[e] == 0) free_edges.push_back(e);
  }
  std::vector<int> last_position(n0, -1);  // last free edge (position) touching the vertex
  for (int k = 0; k < static_cast<int>(free_edges.size()); ++k) {
    for (int end : lattice.edges[free_edges[k]]) last_position[end] = k;
  }
  std::vector<int> charge(n0, 0);  // arrows in minus arrows out
  const auto apply = [&](int e, int spin, int sign) {
    const int head = spin > 0 ? lattice.edges[e][1] : lattice.edges[e][0];
    const int tail = spin > 0 ? lattice.edges[e][0] : lattice.edges[e][1];
    charge[head] += sign;
    charge[tail] -= sign;
  };
  for (int e = 0; e < n1; ++e) {
    if (lattice.fixed_spin[e] != 0) apply(e, lattice.fixed_spin[e], +1);
  }
  std::vector<std::vector<int>> completed_at(free_edges.size());
  for (int v = 0; v < n0; ++v) {
    if (lattice.terminal[v] == 0 && last_position[v] >= 0)
      completed_at[last_position[v]].push_back(v);
  }
  long count = 0;
  std::function<void(int)> assign = [&](int k) {
    if (k == static_cast<int>(free_edges.size())) {
      ++count;
      return;
    }
    for (int spin : {+1, -1}) {
      apply(free_edges[k], spin, +1);
      bool ok = true;
      for (int v : completed_at[k]) ok = ok && charge[v] == 0;
      if (ok) assign(k + 1);
      apply(free_edges[k], spin, -1);
    }
  };
  assign(0);
  return count;
}

TEST(SquareLattice, DomainWallCountsAreAlternatingSignMatrices) {
  const long expected[] = {1, 2, 7, 42, 429};
  for (int L = 1; L <= 5; ++L) {
    const Lattice lattice = frost::asi::make_square(L, "domain_wall");
    EXPECT_EQ(count_charge_neutral_states(lattice), expected[L - 1]) << "L = " << L;
  }
}

// ---------------------------------------------------------------------------------------------
// Kagome and brickwork
// ---------------------------------------------------------------------------------------------

TEST(KagomeLattice, OpenCountsAndDegrees) {
  for (int L = 1; L <= 5; ++L) {
    const Lattice lattice = frost::asi::make_kagome(L, "open");
    check_common_invariants(lattice);
    EXPECT_EQ(lattice.vertex_count(), 2 * L * L + 4 * L);
    EXPECT_EQ(lattice.edge_count(), 3 * L * L + 4 * L - 1);
    EXPECT_EQ(static_cast<int>(lattice.faces.size()), L * L);
    const std::set<int> expected = L == 1 ? std::set<int>{2} : std::set<int>{2, 3};
    EXPECT_EQ(degree_set(lattice), expected);
    for (const auto& face : lattice.faces) {
      EXPECT_EQ(face.edges.size(), 6u);
      EXPECT_NEAR(loop_area(lattice, face), 1.5 * std::sqrt(3.0), 1e-9);  // regular hexagon
    }
    for (int e = 0; e < lattice.edge_count(); ++e) {
      const auto d = frost::asi::detail::vertex_displacement(lattice, lattice.edges[e][0],
                                                             lattice.edges[e][1]);
      EXPECT_NEAR(std::hypot(d[0], d[1]), 1.0, 1e-12);
    }
  }
}

TEST(KagomeLattice, Periodic) {
  for (int L : {2, 4, 6}) {
    const Lattice lattice = frost::asi::make_kagome(L, "periodic");
    check_common_invariants(lattice);
    EXPECT_EQ(lattice.vertex_count(), 2 * L * L);
    EXPECT_EQ(lattice.edge_count(), 3 * L * L);
    EXPECT_EQ(static_cast<int>(lattice.faces.size()), L * L);
    EXPECT_EQ(degree_set(lattice), std::set<int>{3});
  }
  EXPECT_THROW(frost::asi::make_kagome(3, "periodic"), std::invalid_argument);
  EXPECT_THROW(frost::asi::make_kagome(2, "domain_wall"), std::invalid_argument);
}

TEST(BrickworkLattice, OpenAndPeriodic) {
  for (int L = 1; L <= 4; ++L) {
    const Lattice lattice = frost::asi::make_brickwork(L, "open");
    check_common_invariants(lattice);
    EXPECT_EQ(lattice.vertex_count(), 2 * L * L + 4 * L);
    EXPECT_EQ(lattice.edge_count(), 3 * L * L + 4 * L - 1);
    EXPECT_EQ(static_cast<int>(lattice.faces.size()), L * L);
    for (const auto& face : lattice.faces) EXPECT_NEAR(loop_area(lattice, face), 2.0, 1e-12);
  }
  for (int L : {4, 6}) {
    const Lattice lattice = frost::asi::make_brickwork(L, "periodic");
    check_common_invariants(lattice);
    EXPECT_EQ(lattice.edge_count(), 3 * L * L);
    EXPECT_EQ(degree_set(lattice), std::set<int>{3});
    EXPECT_EQ(lattice.period, (std::array<double, 2>{2.0 * L, double(L)}));
  }
  EXPECT_THROW(frost::asi::make_brickwork(2, "periodic"), std::invalid_argument);
}

TEST(BrickworkLattice, SameGraphAsKagome) {
  const Lattice kagome = frost::asi::make_kagome(3, "open");
  const Lattice brickwork = frost::asi::make_brickwork(3, "open");
  EXPECT_EQ(kagome.edges, brickwork.edges);
}

// Hand-drawn pictures: two rows of two hexagons (pointy-top, the upper row shifted right by
// half a hexagon), i.e. islands on the honeycomb bonds; and the same graph as bricks.
TEST(KagomeLattice, DrawnCell) {
  const std::string expected =
      "    o   o\n"
      "   / \\ / \\\n"
      "  o   o   o\n"
      "  |   |   |\n"
      "  |   |   |\n"
      "  |   |   |\n"
      "  o   o   o\n"
      " / \\ / \\ /\n"
      "o   o   o\n"
      "|   |   |\n"
      "|   |   |\n"
      "|   |   |\n"
      "o   o   o\n"
      " \\ / \\ /\n"
      "  o   o\n";
  // Columns: 2 per sqrt(3)/2 in x; rows: 4 per unit of y.
  EXPECT_EQ(render_ascii(frost::asi::make_kagome(2, "open"), 2.0 / (std::sqrt(3.0) / 2.0), 4.0),
            expected);
}

TEST(BrickworkLattice, DrawnCell) {
  const std::string expected =
      "  o-o-o-o-o\n"
      "  |   |   |\n"
      "o-o-o-o-o-o\n"
      "|   |   |\n"
      "o-o-o-o-o\n";
  EXPECT_EQ(render_ascii(frost::asi::make_brickwork(2, "open"), 2.0, 2.0), expected);
}

// ---------------------------------------------------------------------------------------------
// Vertex-frustrated lattices
// ---------------------------------------------------------------------------------------------

TEST(TetrisLattice, DrawnCellAndFrustration) {
  // One 4 x 4 cell: backbones at the top and bottom (4-fold vertices at even x), two staircase
  // rows of 3-fold vertices, and a row of straight 2-fold vertices in the middle.
  const std::string expected =
      "o-o-o-o-o\n"
      "|   |   |\n"
      "o o-o o-o\n"
      "| | | | |\n"
      "o o o o o\n"
      "| | | | |\n"
      "o-o o-o o\n"
      "|   |   |\n"
      "o-o-o-o-o\n";
  const Lattice one = frost::asi::make_tetris(1);
  EXPECT_EQ(render_ascii(one, 2.0, 2.0), expected);
  for (int L = 1; L <= 4; ++L) {
    const Lattice lattice = frost::asi::make_tetris(L);
    check_common_invariants(lattice);
    EXPECT_EQ(lattice.kind, "tetris");
    EXPECT_EQ(lattice.vertex_count(), (4 * L + 1) * (4 * L + 1));
    EXPECT_EQ(lattice.edge_count(), 20 * L * L + 8 * L);
    EXPECT_EQ(degree_set(lattice), (L == 1 ? std::set<int>{2, 3} : std::set<int>{2, 3, 4}));
    int bulk_faces = 0;
    for (const auto& face : lattice.faces) {
      EXPECT_NEAR(loop_area(lattice, face), 4.0, 1e-12) << "tetromino plaquettes";
      if (!is_bulk_face(lattice, face)) continue;
      ++bulk_faces;
      EXPECT_EQ(reversals(lattice, face) % 2, 1) << "every tetris plaquette is frustrated";
    }
    if (L >= 2) {
      EXPECT_GT(bulk_faces, 0);
    }
    // 3/8 of the square lattice's 2 (4L)^2 islands (up to the boundary) are removed.
    EXPECT_EQ(static_cast<int>(lattice.faces.size()), 4 * L * L);
  }
  // 3 x 3 cells of 20 islands each, plus the closing backbone (12) and right column (12).
  EXPECT_EQ(frost::asi::make_tetris(3).edge_count(), 204);
  EXPECT_EQ(frost::asi::make_tetris(3).vertex_count(), 13 * 13);
}

TEST(ShaktiLattice, DrawnCellAndFrustration) {
  // One 4 x 4 cell: 2 x 2 blocks with a long island (no vertex in its middle, drawn '---' or
  // a '|' where a vertex would be) through the centre, vertical in the lower-left and
  // upper-right block, horizontal in the others.
  const std::string expected =
      "o-o-o-o-o\n"
      "|   | | |\n"
      "o---o | o\n"
      "|   | | |\n"
      "o-o-o-o-o\n"
      "| | |   |\n"
      "o | o---o\n"
      "| | |   |\n"
      "o-o-o-o-o\n";
  const Lattice one = frost::asi::make_shakti(1);
  EXPECT_EQ(render_ascii(one, 2.0, 2.0), expected);
  for (int L = 1; L <= 4; ++L) {
    const Lattice lattice = frost::asi::make_shakti(L);
    check_common_invariants(lattice);
    EXPECT_EQ(degree_set(lattice), (std::set<int>{2, 3, 4}));
    int long_islands = 0;
    for (int e = 0; e < lattice.edge_count(); ++e) {
      const auto& a = lattice.positions[lattice.edges[e][0]];
      const auto& b = lattice.positions[lattice.edges[e][1]];
      const double length = std::hypot(b[0] - a[0], b[1] - a[1]);
      EXPECT_TRUE(std::abs(length - 1.0) < 1e-12 || std::abs(length - 2.0) < 1e-12);
      long_islands += length > 1.5;
    }
    EXPECT_EQ(long_islands, 4 * L * L);
    EXPECT_EQ(static_cast<int>(lattice.faces.size()), 8 * L * L);
    int bulk_faces = 0;
    for (const auto& face : lattice.faces) {
      EXPECT_NEAR(loop_area(lattice, face), 2.0, 1e-12);
      if (!is_bulk_face(lattice, face)) continue;
      ++bulk_faces;
      EXPECT_EQ(reversals(lattice, face) % 2, 1) << "every shakti rectangle is frustrated";
    }
    if (L >= 2) {
      EXPECT_GT(bulk_faces, 0);
    }
  }
  // In the bulk (L = 3) the vertices are 3- and 4-fold only.
  const Lattice bulk = frost::asi::make_shakti(3);
  const auto degree = bulk.degrees();
  for (int v = 0; v < bulk.vertex_count(); ++v) {
    const auto& p = bulk.positions[v];
    if (p[0] > 0 && p[0] < 12 && p[1] > 0 && p[1] < 12) {
      EXPECT_TRUE(degree[v] == 3 || degree[v] == 4);
    }
  }
}

TEST(SantaFeLattice, DrawnCellAndMixedFrustration) {
  const std::string expected =
      "o-o-o-o-o\n"
      "| | |   |\n"
      "o-o-o---o\n"
      "| | |   |\n"
      "o-o-o-o-o\n"
      "| | | | |\n"
      "o | o-o-o\n"
      "| | | | |\n"
      "o-o-o-o-o\n";
  const Lattice one = frost::asi::make_santa_fe(1);
  EXPECT_EQ(render_ascii(one, 2.0, 2.0), expected);
  for (int L = 1; L <= 4; ++L) {
    const Lattice lattice = frost::asi::make_santa_fe(L);
    check_common_invariants(lattice);
    EXPECT_EQ(degree_set(lattice), (std::set<int>{2, 3, 4}));
    EXPECT_EQ(static_cast<int>(lattice.faces.size()), 12 * L * L);
    int frustrated = 0;
    int unfrustrated = 0;
    for (const auto& face : lattice.faces) {
      if (!is_bulk_face(lattice, face)) continue;
      // Rectangles of the shakti-like blocks (area 2) are frustrated, unit squares are not.
      const bool is_rectangle = loop_area(lattice, face) > 1.5;
      EXPECT_EQ(reversals(lattice, face) % 2 == 1, is_rectangle);
      (is_rectangle ? frustrated : unfrustrated) += 1;
    }
    if (L >= 2) {
      EXPECT_GT(frustrated, 0);
      EXPECT_GT(unfrustrated, 0);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

TEST(MakeLattice, DispatchAndErrors) {
  EXPECT_EQ(frost::asi::make_lattice("square", 3, "open", "").edge_count(), 12);
  EXPECT_EQ(frost::asi::make_lattice("kagome", 2, "periodic", "").edge_count(), 12);
  EXPECT_EQ(frost::asi::make_lattice("santa_fe", 1, "open", "").kind, "santa_fe");
  EXPECT_THROW(frost::asi::make_lattice("tetris", 2, "periodic", ""), std::invalid_argument);
  EXPECT_THROW(frost::asi::make_lattice("hexagonal", 2, "open", ""), std::invalid_argument);
  EXPECT_THROW(frost::asi::make_lattice("square", 0, "open", ""), std::invalid_argument);
  EXPECT_THROW(frost::asi::make_lattice("custom", 1, "open", ""), std::invalid_argument);
  try {
    frost::asi::make_lattice("shakti", 2, "domain_wall", "");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("shakti {open}"), std::string::npos) << error.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Custom lattice files
// ---------------------------------------------------------------------------------------------

TEST(CustomLattice, ReadsValidFile) {
  const std::string path = write_temp_file("valid",
                                           "# a triangle with a tail\n"
                                           "v 0 0\n"
                                           "v 1 0   # second vertex\n"
                                           "\n"
                                           "v 0.5 0.866\n"
                                           "e 0 1\n"
                                           "e 1 2\n"
                                           "e 2 0\n"
                                           "v 2 0\n"
                                           "e 1 3\n");
  const Lattice lattice = frost::asi::read_custom_lattice(path);
  EXPECT_EQ(lattice.kind, "custom");
  EXPECT_EQ(lattice.boundary, "open");
  EXPECT_EQ(lattice.vertex_count(), 4);
  EXPECT_EQ(lattice.edge_count(), 4);
  EXPECT_TRUE(lattice.faces.empty());
  EXPECT_EQ(lattice.edges[2], (std::array<int, 2>{2, 0}));
  EXPECT_EQ(lattice.island_axis[3], (std::array<double, 2>{1.0, 0.0}));
  EXPECT_EQ(lattice.island_position[3], (std::array<double, 2>{1.5, 0.0}));
  EXPECT_EQ(lattice.degrees(), (std::vector<int>{2, 3, 2, 1}));
  EXPECT_EQ(frost::asi::make_lattice("custom", 0, "open", path).edge_count(), 4);
}

/// Expects read_custom_lattice to fail with a message starting "PATH:LINE:".
void expect_custom_error(const std::string& name, const std::string& text, int line,
                         const std::string& fragment) {
  const std::string path = write_temp_file(name, text);
  try {
    frost::asi::read_custom_lattice(path);
    ADD_FAILURE() << name << ": no error thrown";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind(path + ":" + std::to_string(line) + ":", 0), 0u) << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

TEST(CustomLattice, ReportsErrorsWithFileAndLine) {
  expect_custom_error("duplicate", "v 0 0\nv 1 0\ne 0 1\ne 0 1\n", 4, "duplicate");
  expect_custom_error("reversed_duplicate", "v 0 0\nv 1 0\ne 0 1\n# c\ne 1 0\n", 5, "duplicate");
  expect_custom_error("self_loop", "v 0 0\ne 0 0\n", 2, "self-loop");
  expect_custom_error("unknown_vertex", "v 0 0\nv 1 0\ne 0 2\n", 3, "unknown vertex");
  expect_custom_error("negative_vertex", "v 0 0\nv 1 0\ne -1 0\n", 3, "unknown vertex");
  expect_custom_error("malformed_vertex", "v 0\n", 1, "malformed");
  expect_custom_error("malformed_extra", "v 0 0 7\n", 1, "malformed");
  expect_custom_error("malformed_edge", "v 0 0\nv 1 1\ne 0 x\n", 3, "malformed");
  expect_custom_error("unknown_tag", "v 0 0\nq 1 2\n", 2, "unknown line type");
  expect_custom_error("zero_length", "v 0 0\nv 0 0\ne 0 1\n", 3, "zero length");
  EXPECT_THROW(frost::asi::read_custom_lattice(::testing::TempDir() + "no_such_lattice_file.txt"),
               std::runtime_error);
}

// ---------------------------------------------------------------------------------------------
// SVG
// ---------------------------------------------------------------------------------------------

int count_occurrences(const std::string& text, const std::string& what) {
  int count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++count;
  return count;
}

TEST(StateSvg, OneLinePerIslandAndWellFormed) {
  const Lattice lattice = frost::asi::make_square(4, "domain_wall");
  std::vector<std::int8_t> spins(lattice.edge_count(), 1);
  for (int e = 0; e < lattice.edge_count(); ++e) {
    if (lattice.fixed_spin[e] != 0) spins[e] = lattice.fixed_spin[e];
    if (e % 3 == 0 && lattice.fixed_spin[e] == 0) spins[e] = -1;
  }
  std::vector<int> charge(lattice.vertex_count(), 0);
  charge[5] = 2;
  charge[6] = -2;
  for (bool types : {false, true}) {
    const std::string svg = frost::asi::draw_state_svg(lattice, spins, charge, types);
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_EQ(count_occurrences(svg, "<line") + count_occurrences(svg, "<path"),
              lattice.edge_count());
    EXPECT_EQ(count_occurrences(svg, "<g"), count_occurrences(svg, "</g>"));
    EXPECT_EQ(count_occurrences(svg, "<circle"),
              count_occurrences(svg, "/>") - count_occurrences(svg, "<line") -
                  count_occurrences(svg, "<polygon") - count_occurrences(svg, "<rect") +
                  count_occurrences(svg, "</circle>"));
    EXPECT_NE(svg.find("charge 0"), std::string::npos);
    EXPECT_EQ(svg.find("type I ") != std::string::npos, types);
  }
  EXPECT_THROW(frost::asi::draw_state_svg(lattice, {1, 1}, charge, false), std::invalid_argument);
}

TEST(StateSvg, PeriodicAndKagome) {
  for (const Lattice& lattice :
       {frost::asi::make_square(3, "periodic"), frost::asi::make_kagome(2, "open")}) {
    const std::vector<std::int8_t> spins(lattice.edge_count(), -1);
    const std::vector<int> charge(lattice.vertex_count(), 1);
    const std::string svg = frost::asi::draw_state_svg(lattice, spins, charge, false);
    EXPECT_EQ(count_occurrences(svg, "<line"), lattice.edge_count());
  }
}

TEST(SquareVertexType, Classification) {
  // Single 4-fold vertex: the centre of a 3 x 3 open lattice (vertex 4). Its islands: left
  // e=2 (3->4), right e=3 (4->5), bottom e=7 (1->4), top e=10 (4->7).
  const Lattice lattice = frost::asi::make_square(3, "open");
  std::vector<std::int8_t> spins(lattice.edge_count(), 1);
  const auto set = [&](int left, int right, int bottom, int top) {
    spins[2] = left;
    spins[3] = right;
    spins[7] = bottom;
    spins[10] = top;
    return frost::asi::square_vertex_type(lattice, 4, spins);
  };
  EXPECT_EQ(set(+1, -1, -1, +1), 1);  // left and right point in, bottom and top point out
  EXPECT_EQ(set(-1, +1, +1, -1), 1);  // bottom and top point in
  EXPECT_EQ(set(+1, +1, +1, +1), 2);  // left and bottom in, flux passes straight through
  EXPECT_EQ(set(+1, -1, +1, +1), 3);  // three in
  EXPECT_EQ(set(-1, -1, -1, +1), 3);  // three out
  EXPECT_EQ(set(+1, -1, +1, -1), 4);  // all in
  EXPECT_EQ(set(-1, +1, -1, +1), 4);  // all out
  EXPECT_EQ(frost::asi::square_vertex_type(lattice, 0, spins), 0);  // corner: degree 2
}

}  // namespace
