// Small named kernels on flat state vectors (Kokkos views of doubles): the level-1 operations the
// relaxation solvers are made of. Each takes the execution space instance first. Also the
// elementary functions the fields use, for real and complex states alike.
#pragma once

#include <Kokkos_Complex.hpp>
#include <Kokkos_Core.hpp>
#include <cmath>

namespace frost::relax {

/// The complex scalar of holomorphic states (holomorphic.hpp).
using Complex = Kokkos::complex<double>;

/// A flat state vector of the relaxation (length B*T*C for the transformer field); `Scalar` is
/// double, or Complex for the holomorphic extension of a field.
template <class Mem, class Scalar = double>
using Vec = Kokkos::View<Scalar*, Kokkos::LayoutRight, Mem>;

// Elementary functions with one name for both scalars. The complex ones are the holomorphic
// extensions of the real ones (no conjugation, no modulus), so derivatives stay complex-linear.
KOKKOS_INLINE_FUNCTION double real_part(double x) {
  return x;
}
KOKKOS_INLINE_FUNCTION double real_part(const Complex& x) {
  return x.real();
}
KOKKOS_INLINE_FUNCTION double scalar_sqrt(double x) {
  return Kokkos::Experimental::sqrt(x);
}
KOKKOS_INLINE_FUNCTION Complex scalar_sqrt(const Complex& x) {
  return Kokkos::sqrt(x);
}
KOKKOS_INLINE_FUNCTION double scalar_exp(double x) {
  return Kokkos::Experimental::exp(x);
}
KOKKOS_INLINE_FUNCTION Complex scalar_exp(const Complex& x) {
  return Kokkos::exp(x);
}
KOKKOS_INLINE_FUNCTION double scalar_tanh(double x) {
  return Kokkos::Experimental::tanh(x);
}
/// tanh z = (1 - e^{-2z}) / (1 + e^{-2z}) for Re z >= 0 and odd: sinh / cosh overflows to
/// inf / inf once |Re z| passes about 710, where tanh itself is +-1.
KOKKOS_INLINE_FUNCTION Complex scalar_tanh(const Complex& x) {
  const bool neg = x.real() < 0.0;
  const Complex e = Kokkos::exp(-2.0 * (neg ? -x : x));
  const Complex t = (1.0 - e) / (1.0 + e);
  return neg ? -t : t;
}

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
