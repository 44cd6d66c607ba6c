// Artificial spin ice lattices: the graph (vertices = vertex sites, edges = islands) plus the
// geometry needed for energies and pictures.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace frost::asi {

/// One oriented loop of the graph: edges with the direction in which the loop runs through them.
/// orientation[i] = +1 when the loop traverses edges[i] from tail to head.
struct OrientedLoop {
  std::vector<int> edges;
  std::vector<int> orientation;
};

/// A spin-ice lattice as a graph on the plane (or torus).
/// Invariants: edges[e] = {tail, head}, tail != head, no duplicate edge; a spin sigma_e = +1 means
/// the island's arrow points from tail to head. Lengths are in units of the lattice constant.
struct Lattice {
  std::string kind;                           ///< "square", "kagome", "tetris", ...
  std::string boundary;                       ///< "open", "periodic", "domain_wall"
  std::vector<std::array<double, 2>> positions;  ///< n0 vertex positions
  std::vector<std::array<int, 2>> edges;         ///< n1 edges (tail, head)
  std::vector<std::array<double, 2>> island_position;  ///< island centre (dipole position)
  std::vector<std::array<double, 2>> island_axis;      ///< unit vector tail -> head
  /// Per edge: 0 when the spin is free, +1 or -1 when it is fixed by the boundary (domain wall).
  std::vector<std::int8_t> fixed_spin;
  /// Per vertex: 1 when the vertex only anchors fixed boundary islands and obeys no ice rule.
  std::vector<std::uint8_t> terminal;
  /// Faces of a planar embedding (every bounded face once; on a torus every face once), each an
  /// oriented loop running counter-clockwise. Empty when the lattice has no known embedding.
  std::vector<OrientedLoop> faces;
  /// Cycles winding around the torus (periodic lattices only): completes faces to a cycle basis.
  std::vector<OrientedLoop> windings;
  std::array<double, 2> period{0.0, 0.0};  ///< torus periods; zero when open

  int vertex_count() const { return static_cast<int>(positions.size()); }
  int edge_count() const { return static_cast<int>(edges.size()); }
  /// Number of islands incident to each vertex.
  std::vector<int> degrees() const;
};

}  // namespace frost::asi
