// Device scratch that a caller keeps across calls: it grows on demand and never shrinks, so a
// loop that calls a kernel pipeline with the same shapes allocates only on its first call.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <string>

namespace frost::core {

template <class T, class Mem>
struct GrowingBuffer {
  Kokkos::View<T*, Mem> view;

  /// At least n elements (contents undefined), reallocated on `exec` only when too small.
  template <class Exec>
  T* take(const Exec& exec, std::size_t n, const char* label) {
    if (view.extent(0) < n)
      view = Kokkos::View<T*, Mem>(
          Kokkos::view_alloc(exec, Kokkos::WithoutInitializing, std::string(label)), n);
    return view.data();
  }
};

}  // namespace frost::core
