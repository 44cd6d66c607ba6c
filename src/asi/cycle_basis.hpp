// Cycle space of a spin-ice lattice: the loops whose reversal keeps every vertex charge.
//
// The cycle space is the kernel over GF(2) of the incidence matrix restricted to the free
// islands. Its dimension is beta1 = n1 - n0 + components, counted over free islands and
// non-terminal vertices (terminal vertices only anchor fixed islands, so they never lie on a
// loop). Two states of one charge sector differ by a unique sum of basis loops.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "asi/lattice.hpp"

namespace frost::asi {

/// Where the loops of a cycle basis come from.
enum class CycleBasisSource {
  faces,               ///< the bounded faces of a planar (open) lattice
  faces_and_windings,  ///< torus: every face but the last, then the winding cycles
  spanning_tree,       ///< fundamental cycles of a breadth-first spanning forest
};

/// Name of a basis source ("faces", "faces_and_windings", "spanning_tree").
std::string to_string(CycleBasisSource source);

/// Dimension of the cycle space and number of connected components of the graph of free
/// islands on the non-terminal vertices (an isolated vertex is a component of its own).
struct CycleSpaceDimension {
  int beta1 = 0;
  int components = 0;
  int free_edges = 0;
  int vertices = 0;  ///< non-terminal vertices
};

/// beta1 = free_edges - vertices + components. Throws std::invalid_argument when a free island
/// touches a terminal vertex (terminal vertices must only anchor fixed islands).
CycleSpaceDimension cycle_space_dimension(const Lattice& lattice);

/// A basis of the cycle space as oriented loops, plus the same loops in compressed form.
/// Invariants: loops.size() == beta1; no loop contains a fixed island or an island twice; the
/// loops are independent over GF(2) (the tests check the rank). Loop order: for faces, the
/// lattice's face order; on a torus the faces (without `dropped_face`) come first and the
/// winding_count windings last; for a spanning tree, increasing id of the loop's non-tree edge
/// (that edge comes first in the loop, traversed tail -> head).
struct CycleBasis {
  CycleBasisSource source = CycleBasisSource::spanning_tree;
  int beta1 = 0;
  int components = 0;
  int edge_count = 0;     ///< n1 of the lattice (fixed islands included)
  int winding_count = 0;  ///< the last winding_count loops are windings (torus only)
  /// Torus: index into lattice.faces of the face left out. The faces of a torus sum to zero
  /// over GF(2) (every island borders two faces), so one face is dependent; the last face in
  /// the lattice's order (largest centroid y, then x) is the one dropped. -1 otherwise.
  int dropped_face = -1;
  std::vector<OrientedLoop> loops;

  /// Compressed form: loop i holds edges[offsets[i] .. offsets[i+1]) with orientation +-1.
  std::vector<int> offsets;
  std::vector<int> edges;
  std::vector<std::int8_t> orientation;
  /// (tail, head) vertex of edges[k] at entries 2k, 2k + 1, so loop walks can track charges.
  std::vector<int> loop_endpoints;
  int vertex_count = 0;  ///< n0 of the lattice

  int loop_count() const { return static_cast<int>(loops.size()); }
};

/// Builds a cycle basis of `lattice`: from its faces (plus windings on a torus) when the faces
/// have the right count beta1 and contain no fixed island, from a spanning forest of the free
/// islands otherwise (e.g. custom lattices, which have no faces). O(n1 + total loop length).
CycleBasis build_cycle_basis(const Lattice& lattice);

/// Rank over GF(2) of the basis loops as edge sets (equals beta1 for a valid basis).
/// O(beta1^2 n1 / 64): for tests and small lattices.
std::size_t gf2_rank(const CycleBasis& basis);

/// Direction in which `loop` is a directed cycle of state sigma: +1 when every island points
/// along the loop (sigma_e * o_e = +1), -1 when every island points against it, 0 otherwise.
int loop_direction(const CycleBasis& basis, int loop, const std::vector<std::int8_t>& sigma);

/// Reverses every island of basis loop `loop` in sigma (sigma_e -> -sigma_e).
void flip_loop(const CycleBasis& basis, int loop, std::vector<std::int8_t>& sigma);

/// The compressed cycle basis in memory space `MemorySpace`, for kernels.
/// loop_free(i) = 1 when loop i contains no fixed island (always so for build_cycle_basis, but
/// kernels check it so that hand-made bases stay safe).
template <class MemorySpace>
struct DeviceCycleBasis {
  Kokkos::View<int*, MemorySpace> offsets;
  Kokkos::View<int*, MemorySpace> edges;
  Kokkos::View<std::int8_t*, MemorySpace> orientation;
  Kokkos::View<std::uint8_t*, MemorySpace> loop_free;
  int loop_count = 0;

  /// Copies `basis` to MemorySpace (one explicit deep copy per array).
  static DeviceCycleBasis create(const CycleBasis& basis, const Lattice& lattice) {
    DeviceCycleBasis out;
    out.loop_count = basis.loop_count();
    out.offsets = Kokkos::View<int*, MemorySpace>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::cycle_offsets"),
        basis.offsets.size());
    out.edges = Kokkos::View<int*, MemorySpace>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::cycle_edges"),
        basis.edges.size());
    out.orientation = Kokkos::View<std::int8_t*, MemorySpace>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::cycle_orientation"),
        basis.orientation.size());
    out.loop_free = Kokkos::View<std::uint8_t*, MemorySpace>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::cycle_loop_free"),
        basis.loops.size());
    auto offsets_host = Kokkos::create_mirror_view(out.offsets);
    auto edges_host = Kokkos::create_mirror_view(out.edges);
    auto orientation_host = Kokkos::create_mirror_view(out.orientation);
    auto free_host = Kokkos::create_mirror_view(out.loop_free);
    for (std::size_t i = 0; i < basis.offsets.size(); ++i) offsets_host(i) = basis.offsets[i];
    for (std::size_t k = 0; k < basis.edges.size(); ++k) {
      edges_host(k) = basis.edges[k];
      orientation_host(k) = basis.orientation[k];
    }
    for (int i = 0; i < basis.loop_count(); ++i) {
      bool free = true;
      for (int k = basis.offsets[i]; k < basis.offsets[i + 1]; ++k) {
        if (!lattice.fixed_spin.empty() && lattice.fixed_spin[basis.edges[k]] != 0) free = false;
      }
      free_host(i) = free ? 1 : 0;
    }
    Kokkos::deep_copy(out.offsets, offsets_host);
    Kokkos::deep_copy(out.edges, edges_host);
    Kokkos::deep_copy(out.orientation, orientation_host);
    Kokkos::deep_copy(out.loop_free, free_host);
    return out;
  }
};

}  // namespace frost::asi
