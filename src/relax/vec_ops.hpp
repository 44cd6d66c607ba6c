// Small named kernels on flat state vectors (Kokkos views of doubles): the level-1 operations the
// relaxation solvers are made of. Each takes the execution space instance first.
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>

namespace frost::relax {

/// A flat state vector of the relaxation (length B*T*C for the transformer field).
template <class Mem>
using Vec = Kokkos::View<double*, Kokkos::LayoutRight, Mem>;

/// <a, b>.
template <class Exec, class V>
double dot(const Exec& exec, const V& a, const V& b) {
  double s = 0.0;
  Kokkos::parallel_reduce(
      "frost::relax::dot", Kokkos::RangePolicy<Exec>(exec, 0, a.extent(0)),
      KOKKOS_LAMBDA(const int i, double& acc) { acc += a(i) * b(i); }, s);
  return s;
}

/// Euclidean norm.
template <class Exec, class V>
double norm2(const Exec& exec, const V& a) {
  return std::sqrt(dot(exec, a, a));
}

/// y = alpha x + beta y (x and y may be views of different layouts).
template <class Exec, class X, class Y>
void axpby(const Exec& exec, double alpha, const X& x, double beta, const Y& y) {
  Kokkos::parallel_for(
      "frost::relax::axpby", Kokkos::RangePolicy<Exec>(exec, 0, x.extent(0)),
      KOKKOS_LAMBDA(const int i) { y(i) = alpha * x(i) + beta * y(i); });
}

/// out = x + alpha y (out may alias x or y).
template <class Exec, class V>
void add_scaled(const Exec& exec, const V& x, double alpha, const V& y, const V& out) {
  Kokkos::parallel_for(
      "frost::relax::add_scaled", Kokkos::RangePolicy<Exec>(exec, 0, x.extent(0)),
      KOKKOS_LAMBDA(const int i) { out(i) = x(i) + alpha * y(i); });
}

/// y = x.
template <class Exec, class V>
void copy(const Exec& exec, const V& x, const V& y) {
  Kokkos::deep_copy(exec, y, x);
}

}  // namespace frost::relax
