// The vertex-edge incidence matrix B1 of a spin-ice lattice and the charges Q = B1 sigma of a
// batch of spin states.
//
// B1 is n0 x n1 with B1[v, e] = +1 when v is the head of island e, -1 when v is its tail, so
// Q_v = sum_e B1[v, e] sigma_e counts arrows pointing into v minus arrows pointing out of it.
#pragma once

#include <KokkosSparse_CrsMatrix.hpp>
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <vector>

#include "asi/lattice.hpp"

namespace frost::asi {

/// B1 in compressed-row form on the host: row v holds the islands incident on vertex v in
/// increasing edge order, with value +1 (v is the head) or -1 (v is the tail).
struct IncidenceCsr {
  int rows = 0;                     ///< n0
  int cols = 0;                     ///< n1
  std::vector<int> row_map;         ///< n0 + 1 offsets
  std::vector<int> entries;         ///< edge ids
  std::vector<std::int8_t> values;  ///< +1 / -1
};

/// Builds B1 of `lattice` on the host.
IncidenceCsr incidence_csr(const Lattice& lattice);

/// Charges Q = B1 sigma of one state on the host (reference implementation; sigma has n1
/// entries +-1, fixed islands included).
std::vector<int> charges_host(const Lattice& lattice, const std::vector<std::int8_t>& sigma);

/// True when sigma obeys the ice rule |Q_v| = deg_v mod 2 at every non-terminal vertex and
/// agrees with every fixed (boundary) island.
bool is_ice_state(const Lattice& lattice, const std::vector<std::int8_t>& sigma);

/// B1 as a Kokkos Kernels sparse matrix in the memory space of `Device` (a Kokkos device type,
/// execution space or memory space accepted by KokkosSparse::CrsMatrix).
template <class Device>
struct Incidence {
  using matrix_type = KokkosSparse::CrsMatrix<int, int, Device, void, int>;
  using execution_space = typename matrix_type::execution_space;
  using memory_space = typename matrix_type::memory_space;

  matrix_type B1;  ///< n0 x n1, entries +-1

  int vertex_count() const { return B1.numRows(); }
  int edge_count() const { return B1.numCols(); }

  /// Copies the host CSR of `lattice` to `memory_space` (one explicit deep copy per array).
  static Incidence create(const Lattice& lattice) {
    const IncidenceCsr csr = incidence_csr(lattice);
    using row_map_view = typename matrix_type::row_map_type::non_const_type;
    using entries_view = typename matrix_type::index_type::non_const_type;
    using values_view = typename matrix_type::values_type::non_const_type;
    row_map_view row_map(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::incidence_row_map"),
        csr.row_map.size());
    entries_view entries(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::incidence_entries"),
        csr.entries.size());
    values_view values(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::incidence_values"),
        csr.values.size());
    auto row_map_host = Kokkos::create_mirror_view(row_map);
    auto entries_host = Kokkos::create_mirror_view(entries);
    auto values_host = Kokkos::create_mirror_view(values);
    for (std::size_t i = 0; i < csr.row_map.size(); ++i) row_map_host(i) = csr.row_map[i];
    for (std::size_t i = 0; i < csr.entries.size(); ++i) {
      entries_host(i) = csr.entries[i];
      values_host(i) = csr.values[i];
    }
    Kokkos::deep_copy(row_map, row_map_host);
    Kokkos::deep_copy(entries, entries_host);
    Kokkos::deep_copy(values, values_host);
    Incidence incidence;
    incidence.B1 = matrix_type("frost::asi::incidence", csr.rows, csr.cols,
                               static_cast<int>(csr.entries.size()), values, row_map, entries);
    return incidence;
  }
};

namespace detail {

/// Q(c, v) = sum over row v of B1 of B1[v, e] * sigma(c, e).
template <class Matrix, class StateView, class ChargeView>
struct ChargesFunctor {
  typename Matrix::row_map_type row_map;
  typename Matrix::index_type entries;
  typename Matrix::values_type values;
  StateView states;
  ChargeView charges;

  KOKKOS_INLINE_FUNCTION void operator()(const int chain, const int vertex) const {
    int q = 0;
    for (int k = row_map(vertex); k < row_map(vertex + 1); ++k) {
      q += values(k) * static_cast<int>(states(chain, entries(k)));
    }
    charges(chain, vertex) = q;
  }
};

}  // namespace detail

/// Charges of a batch of states: charges(c, v) = (B1 sigma_c)_v for every chain c.
/// `states` is a rank-2 view (chains x n1, entries int8 +-1) and `charges` a rank-2 view
/// (chains x n0, integer entries), both accessible from ExecSpace. Asynchronous on `exec`.
template <class ExecSpace, class Device, class StateView, class ChargeView>
void charges(const ExecSpace& exec, const Incidence<Device>& incidence, const StateView& states,
             const ChargeView& charges) {
  using matrix_type = typename Incidence<Device>::matrix_type;
  const int chains = static_cast<int>(states.extent(0));
  const int vertices = incidence.vertex_count();
  if (chains == 0 || vertices == 0) return;
  detail::ChargesFunctor<matrix_type, StateView, ChargeView> functor{
      incidence.B1.graph.row_map, incidence.B1.graph.entries, incidence.B1.values, states, charges};
  Kokkos::parallel_for("frost::asi::charges",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {chains, vertices}),
                       functor);
}

}  // namespace frost::asi
