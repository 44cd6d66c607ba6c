// Vector fields F: R^N -> R^N whose roots the relaxation solvers find, with their Jacobian-vector
// and vector-Jacobian products.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <vector>

#include "relax/vec_ops.hpp"

namespace frost::relax {

/// A vector field on flat state vectors of `Scalar` in memory space `Mem`.
///
/// Invariant: `eval(z, f)` also makes z the linearisation point, and `jvp`/`vjp` apply J = dF/dz
/// at the last point passed to `eval`. Solvers evaluate F at a point before they ask for J there,
/// so the activations of that forward pass are reused instead of recomputed. With Scalar =
/// Complex the field is the holomorphic extension of a real one: J is complex-linear and `vjp`
/// applies the plain transpose J^T (not J^H).
template <class Mem, class Scalar = double>
class Field {
 public:
  using Exec = typename Mem::execution_space;
  using V = Vec<Mem, Scalar>;
  virtual ~Field() = default;
  /// N, the length of the state vector.
  virtual std::size_t size() const = 0;
  /// f = F(z); z becomes the linearisation point.
  virtual void eval(const Exec& exec, const V& z, const V& f) = 0;
  /// out = J v at the linearisation point.
  virtual void jvp(const Exec& exec, const V& v, const V& out) = 0;
  /// out = J^T w at the linearisation point.
  virtual void vjp(const Exec& exec, const V& w, const V& out) = 0;
};

/// F(z) = A (z - z*): a linear field with a chosen root z* and Jacobian A (dense, row-major, n x
/// n). Used where the spectrum must be known exactly (stiff rotating modes a +- ib).
template <class Mem>
class LinearField : public Field<Mem> {
 public:
  using Exec = typename Mem::execution_space;
  using V = Vec<Mem>;
  using M = Kokkos::View<double**, Kokkos::LayoutRight, Mem>;

  /// `A` row-major n x n, `root` of length n (host data, copied to `Mem` once).
  LinearField(const std::vector<double>& A, const std::vector<double>& root)
      : n_(root.size()), A_("frost::relax::linear_A", n_, n_), root_("frost::relax::root", n_) {
    auto hA = Kokkos::create_mirror_view(A_);
    auto hr = Kokkos::create_mirror_view(root_);
    for (std::size_t i = 0; i < n_; ++i) {
      hr(i) = root[i];
      for (std::size_t j = 0; j < n_; ++j) hA(i, j) = A[i * n_ + j];
    }
    Kokkos::deep_copy(A_, hA);
    Kokkos::deep_copy(root_, hr);
  }
  std::size_t size() const override { return n_; }
  void eval(const Exec& exec, const V& z, const V& f) override {
    const auto A = A_;
    const auto r = root_;
    const int n = static_cast<int>(n_);
    Kokkos::parallel_for(
        "frost::relax::linear_eval", Kokkos::RangePolicy<Exec>(exec, 0, n),
        KOKKOS_LAMBDA(const int i) {
          double s = 0.0;
          for (int j = 0; j < n; ++j) s += A(i, j) * (z(j) - r(j));
          f(i) = s;
        });
  }
  void jvp(const Exec& exec, const V& v, const V& out) override {
    const auto A = A_;
    const int n = static_cast<int>(n_);
    Kokkos::parallel_for(
        "frost::relax::linear_jvp", Kokkos::RangePolicy<Exec>(exec, 0, n),
        KOKKOS_LAMBDA(const int i) {
          double s = 0.0;
          for (int j = 0; j < n; ++j) s += A(i, j) * v(j);
          out(i) = s;
        });
  }
  void vjp(const Exec& exec, const V& w, const V& out) override {
    const auto A = A_;
    const int n = static_cast<int>(n_);
    Kokkos::parallel_for(
        "frost::relax::linear_vjp", Kokkos::RangePolicy<Exec>(exec, 0, n),
        KOKKOS_LAMBDA(const int j) {
          double s = 0.0;
          for (int i = 0; i < n; ++i) s += A(i, j) * w(i);
          out(j) = s;
        });
  }

 private:
  std::size_t n_;
  M A_;
  V root_;
};

}  // namespace frost::relax
