// Execution policies shared by the modules.
#pragma once

#include <Kokkos_Core.hpp>

namespace frost::core {

/// A multi-dimensional range whose last index varies fastest on every backend, so that adjacent
/// GPU threads touch adjacent elements of LayoutRight views (Kokkos' CUDA default runs the first
/// index fastest, which turns every access of a LayoutRight view into a strided one).
template <class Exec, unsigned N>
using RowMajorRange =
    Kokkos::MDRangePolicy<Exec, Kokkos::Rank<N, Kokkos::Iterate::Right, Kokkos::Iterate::Right>>;

}  // namespace frost::core
