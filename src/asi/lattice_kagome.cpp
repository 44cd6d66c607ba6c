// Kagome artificial spin ice (islands on the bonds of a honeycomb graph) and the brickwork
// lattice, which is the same graph drawn on the square grid.
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include "asi/lattice_generators.hpp"

namespace frost::asi {

namespace {

/// Position of brickwork vertex (row, column) in one of the two drawings.
std::array<double, 2> brickwork_position(int row, int column, bool honeycomb_geometry) {
  if (!honeycomb_geometry) return {static_cast<double>(column), static_cast<double>(row)};
  const double half_width = std::sqrt(3.0) / 2.0;
  const double offset = ((row + column) % 2 == 0) ? 0.25 : -0.25;
  return {column * half_width, 1.5 * row + offset};
}

/// The brickwork graph with L rows of L bricks (open) or on a 2L x L torus (periodic); a
/// vertical bond (r, c)-(r+1, c) exists only when r + c is even.
Lattice brickwork_graph(int L, const std::string& boundary, bool honeycomb_geometry,
                        const std::string& kind) {
  if (L < 1) throw std::invalid_argument("make_" + kind + ": L must be >= 1");
  Lattice lattice;
  lattice.kind = kind;
  lattice.boundary = boundary;
  if (boundary == "periodic") {
    // The stagger closes only for even L; the brickwork drawing needs a height of at least 4 so
    // that every vertical island has an unambiguous minimum image.
    const int smallest = honeycomb_geometry ? 2 : 4;
    if (L % 2 != 0 || L < smallest) {
      throw std::invalid_argument(
          "make_" + kind + ": periodic boundary needs an even L >= " + std::to_string(smallest));
    }
    const int columns = 2 * L;
    const int rows = L;
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < columns; ++c) {
        lattice.positions.push_back(brickwork_position(r, c, honeycomb_geometry));
      }
    }
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < columns; ++c) {
        lattice.edges.push_back({r * columns + c, r * columns + (c + 1) % columns});
      }
    }
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < columns; ++c) {
        if ((r + c) % 2 == 0)
          lattice.edges.push_back({r * columns + c, ((r + 1) % rows) * columns + c});
      }
    }
    lattice.period = honeycomb_geometry ? std::array<double, 2>{std::sqrt(3.0) * L, 1.5 * L}
                                        : std::array<double, 2>{2.0 * L, static_cast<double>(L)};
    detail::finish_lattice(lattice, true);
    return lattice;
  }
  if (boundary != "open") {
    throw std::invalid_argument("make_" + kind + ": boundary '" + boundary +
                                "' is not one of open, periodic");
  }
  // Collect the islands of the bricks (r, c0), c0 = r % 2 + 2k, k = 0..L-1.
  std::set<std::pair<int, int>> horizontal;  // left end (row, column)
  std::set<std::pair<int, int>> vertical;    // lower end (row, column)
  for (int r = 0; r < L; ++r) {
    for (int k = 0; k < L; ++k) {
      const int c0 = r % 2 + 2 * k;
      for (int row : {r, r + 1}) {
        horizontal.insert({row, c0});
        horizontal.insert({row, c0 + 1});
      }
      vertical.insert({r, c0});
      vertical.insert({r, c0 + 2});
    }
  }
  std::set<std::pair<int, int>> used;  // ordered row-major
  for (const auto& [row, column] : horizontal) {
    used.insert({row, column});
    used.insert({row, column + 1});
  }
  for (const auto& [row, column] : vertical) {
    used.insert({row, column});
    used.insert({row + 1, column});
  }
  std::map<std::pair<int, int>, int> id;
  for (const auto& [row, column] : used) {
    id[{row, column}] = lattice.vertex_count();
    lattice.positions.push_back(brickwork_position(row, column, honeycomb_geometry));
  }
  for (const auto& [row, column] : horizontal) {
    lattice.edges.push_back({id.at({row, column}), id.at({row, column + 1})});
  }
  for (const auto& [row, column] : vertical) {
    lattice.edges.push_back({id.at({row, column}), id.at({row + 1, column})});
  }
  detail::finish_lattice(lattice, true);
  return lattice;
}

}  // namespace

Lattice make_kagome(int L, const std::string& boundary) {
  return brickwork_graph(L, boundary, true, "kagome");
}

Lattice make_brickwork(int L, const std::string& boundary) {
  return brickwork_graph(L, boundary, false, "brickwork");
}

}  // namespace frost::asi
