// Square artificial spin ice with open, periodic and domain-wall boundaries.
#include <stdexcept>

#include "asi/lattice_generators.hpp"

namespace frost::asi {

namespace {

/// The open L x L square lattice in canonical numbering (see make_square), without geometry.
Lattice open_square_graph(int L) {
  Lattice lattice;
  lattice.kind = "square";
  lattice.boundary = "open";
  for (int r = 0; r < L; ++r) {
    for (int c = 0; c < L; ++c) {
      lattice.positions.push_back({static_cast<double>(c), static_cast<double>(r)});
    }
  }
  for (int r = 0; r < L; ++r) {
    for (int c = 0; c + 1 < L; ++c) lattice.edges.push_back({r * L + c, r * L + c + 1});
  }
  for (int r = 0; r + 1 < L; ++r) {
    for (int c = 0; c < L; ++c) lattice.edges.push_back({r * L + c, (r + 1) * L + c});
  }
  return lattice;
}

}  // namespace

Lattice make_square(int L, const std::string& boundary) {
  if (L < 1) throw std::invalid_argument("make_square: L must be >= 1");
  if (boundary == "open") {
    Lattice lattice = open_square_graph(L);
    detail::finish_lattice(lattice, true);
    return lattice;
  }
  if (boundary == "periodic") {
    if (L < 3) throw std::invalid_argument("make_square: periodic boundary needs L >= 3");
    Lattice lattice;
    lattice.kind = "square";
    lattice.boundary = "periodic";
    lattice.period = {static_cast<double>(L), static_cast<double>(L)};
    for (int r = 0; r < L; ++r) {
      for (int c = 0; c < L; ++c) {
        lattice.positions.push_back({static_cast<double>(c), static_cast<double>(r)});
      }
    }
    for (int r = 0; r < L; ++r) {
      for (int c = 0; c < L; ++c) lattice.edges.push_back({r * L + c, r * L + (c + 1) % L});
    }
    for (int r = 0; r < L; ++r) {
      for (int c = 0; c < L; ++c) lattice.edges.push_back({r * L + c, ((r + 1) % L) * L + c});
    }
    detail::finish_lattice(lattice, true);
    return lattice;
  }
  if (boundary == "domain_wall") {
    Lattice lattice = open_square_graph(L);
    lattice.boundary = "domain_wall";
    lattice.fixed_spin.assign(lattice.edges.size(), 0);
    lattice.terminal.assign(lattice.positions.size(), 0);
    // Adds a stub between interior vertex `inner` and a new terminal vertex at (x, y); the tail
    // is the lower-coordinate end, and `spin` is the fixed spin in that tail -> head convention.
    const auto add_stub = [&lattice](int inner, double x, double y, bool terminal_is_tail,
                                     std::int8_t spin) {
      const int terminal = lattice.vertex_count();
      lattice.positions.push_back({x, y});
      lattice.terminal.push_back(1);
      if (terminal_is_tail) {
        lattice.edges.push_back({terminal, inner});
      } else {
        lattice.edges.push_back({inner, terminal});
      }
      lattice.fixed_spin.push_back(spin);
    };
    // Left side: terminal (-1, r) is the tail; into the grid = tail -> head = +1.
    for (int r = 0; r < L; ++r) add_stub(r * L, -1.0, r, true, +1);
    // Right side: terminal (L, r) is the head; into the grid = head -> tail = -1.
    for (int r = 0; r < L; ++r) add_stub(r * L + L - 1, L, r, false, -1);
    // Bottom: terminal (c, -1) is the tail; out of the grid = head -> tail = -1.
    for (int c = 0; c < L; ++c) add_stub(c, c, -1.0, true, -1);
    // Top: terminal (c, L) is the head; out of the grid = tail -> head = +1.
    for (int c = 0; c < L; ++c) add_stub((L - 1) * L + c, c, L, false, +1);
    detail::finish_lattice(lattice, true);
    return lattice;
  }
  throw std::invalid_argument("make_square: boundary '" + boundary +
                              "' is not one of open, periodic, domain_wall");
}

}  // namespace frost::asi
