// Which basis loops are directed cycles of each state of a batch: the loops a loop move may
// reverse without changing any vertex charge or the ice rule.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

#include "asi/cycle_basis.hpp"

namespace frost::asi {

namespace detail {

/// directed(c, l) for one (chain, loop) pair; see directed_cycles.
template <class MemorySpace, class StateView, class OutView>
struct DirectedCyclesFunctor {
  Kokkos::View<const int*, MemorySpace> offsets;
  Kokkos::View<const int*, MemorySpace> edges;
  Kokkos::View<const std::int8_t*, MemorySpace> orientation;
  Kokkos::View<const std::uint8_t*, MemorySpace> loop_free;
  StateView states;
  OutView directed;

  KOKKOS_INLINE_FUNCTION void operator()(const int chain, const int loop) const {
    const int begin = offsets(loop);
    const int end = offsets(loop + 1);
    std::uint8_t result = 0;
    if (loop_free(loop) && end > begin) {
      const int first = states(chain, edges(begin)) * orientation(begin);
      bool same = true;
      for (int k = begin + 1; k < end && same; ++k) {
        same = states(chain, edges(k)) * orientation(k) == first;
      }
      if (same) result = first > 0 ? 1 : 2;
    }
    directed(chain, loop) = result;
  }
};

}  // namespace detail

/// Tests every basis loop of every state at once. For chain c and loop l:
///   directed(c, l) = 1 when every island of l points along the loop (sigma_e o_e = +1),
///                    2 when every island points against it (sigma_e o_e = -1),
///                    0 otherwise, and always 0 for a loop through a fixed island.
/// `states` is a rank-2 view (chains x n1, int8 +-1) and `directed` a rank-2 uint8 view
/// (chains x loops), both accessible from ExecSpace. Asynchronous on `exec`.
template <class ExecSpace, class MemorySpace, class StateView, class OutView>
void directed_cycles(const ExecSpace& exec, const DeviceCycleBasis<MemorySpace>& basis,
                     const StateView& states, const OutView& directed) {
  const int chains = static_cast<int>(states.extent(0));
  if (chains == 0 || basis.loop_count == 0) return;
  detail::DirectedCyclesFunctor<MemorySpace, StateView, OutView> functor{
      basis.offsets, basis.edges, basis.orientation, basis.loop_free, states, directed};
  Kokkos::parallel_for("frost::asi::directed_cycles",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {chains, basis.loop_count}),
                       functor);
}

}  // namespace frost::asi
