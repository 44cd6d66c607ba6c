// Holomorphic equilibrium propagation: the nudged phases at N complex nudges on a circle,
//   beta_n = beta e^{2 pi i n / N},  n = 0..N-1,
// each F(z) - beta_n dL/dz = 0 for the holomorphic extension of the field and the loss (complex
// states, real parameters), started from the free equilibrium z0. z(beta) is holomorphic near 0,
// so the Fourier mean
//   z'(0) ~ (1 / (N beta)) sum_n z(beta_n) e^{-2 pi i n / N}
// picks the first Taylor coefficient with an error O(beta^N) (the next coefficient it aliases is
// the (N+1)-th), where the real symmetric pair +-beta (N = 2) has O(beta^2). The estimate of the
// input gradient is g_x = -Re z'(0) (ep.hpp's -(z+ - z-) / (2 beta) at N = 2), and the parameter
// gradient (dF/dtheta)^T g_x follows through the real field at z0 as in ep_gradients.
//
// The field is real on real states, so z(conj beta) = conj z(beta): the phases at n and N - n are
// conjugate and only n = 0..floor(N/2) are solved, the others entering as conjugates (twice the
// real part). The solvers are the real ones: each phase runs on the realification of the complex
// nudged field (HolomorphicNudgedField, state [Re z; Im z] of length 2 N_z), so euler, adaptive,
// anderson, implicit (Belos GMRES on the realified Jacobian) and kinsol all apply unchanged.
//
// AsymEP in the same form: the correction -(J* - J*^T)(z - z*), with J* the real Jacobian at the
// real free equilibrium z*, is linear with real coefficients, so it stays holomorphic in z and
// acts on the real and imaginary parts separately.
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <utility>
#include <vector>

#include "relax/ep.hpp"
#include "relax/field.hpp"
#include "relax/solvers.hpp"
#include "relax/vec_ops.hpp"

namespace frost::relax {

/// r = [Re z; Im z] (r of length 2n for z of length n).
template <class Exec, class CV, class RV>
void realify(const Exec& exec, const CV& z, const RV& r) {
  const int n = static_cast<int>(z.extent(0));
  Kokkos::parallel_for(
      "frost::relax::realify", Kokkos::RangePolicy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const int i) {
        r(i) = z(i).real();
        r(n + i) = z(i).imag();
      });
}

/// z = r_1 + i r_2 for r = [r_1; r_2], or its conjugate r_1 - i r_2 with `conjugate`.
template <class Exec, class RV, class CV>
void complexify(const Exec& exec, const RV& r, const CV& z, bool conjugate = false) {
  const int n = static_cast<int>(z.extent(0));
  const double sign = conjugate ? -1.0 : 1.0;
  Kokkos::parallel_for(
      "frost::relax::complexify", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const int i) { z(i) = Complex(r(i), sign * r(n + i)); });
}

/// e^{2 pi i n / N}, exact at multiples of a quarter turn (so real nudges stay real).
inline Complex unit_root(int n, int N) {
  const int k = ((n % N) + N) % N;
  if (4 * k % N == 0) {
    switch (4 * k / N) {
      case 0:
        return Complex(1.0, 0.0);
      case 1:
        return Complex(0.0, 1.0);
      case 2:
        return Complex(-1.0, 0.0);
      default:
        return Complex(0.0, -1.0);
    }
  }
  const double a = 2.0 * 3.141592653589793 * double(k) / double(N);
  return Complex(std::cos(a), std::sin(a));
}

/// The realification of the complex nudged field F_beta(z) = F(z) - beta dL/dz (complex beta),
/// optionally with the AsymEP correction -(J* - J*^T)(z - z*): a real field of size 2n on
/// [Re z; Im z]. With A = J - beta H (- J* + J*^T) the complex-linear Jacobian, jvp applies the
/// realification of A and vjp its transpose, the realification of A^H: out = conj(A^T conj(w))
/// (H symmetric). Shares the linearisation points of the complex field and loss; `at_root` (a
/// real instance of the field) is linearised at z* by the constructor and never moved elsewhere.
template <class Mem>
class HolomorphicNudgedField : public Field<Mem> {
 public:
  using Exec = typename Mem::execution_space;
  using V = Vec<Mem>;
  using CV = Vec<Mem, Complex>;

  /// Plain EP: F(z) - beta dL/dz.
  HolomorphicNudgedField(Field<Mem, Complex>& base, Loss<Mem, Complex>& loss, Complex beta)
      : base_(base),
        loss_(loss),
        beta_(beta),
        n_(base.size()),
        zc_("frost::relax::holo_z", n_),
        fc_("frost::relax::holo_f", n_),
        gc_("frost::relax::holo_g", n_) {}
  /// AsymEP: F(z) - beta dL/dz - (J* - J*^T)(z - z*), J* the Jacobian of `at_root` at the real
  /// free equilibrium `zstar`.
  HolomorphicNudgedField(const Exec& exec, Field<Mem, Complex>& base, Field<Mem>& at_root,
                         Loss<Mem, Complex>& loss, const V& zstar, Complex beta)
      : HolomorphicNudgedField(base, loss, beta) {
    root_ = &at_root;
    zstar_ = zstar;
    re_ = V("frost::relax::holo_re", n_);
    im_ = V("frost::relax::holo_im", n_);
    a_ = V("frost::relax::holo_jv", n_);
    b_ = V("frost::relax::holo_jtv", n_);
    root_->eval(exec, zstar_, a_);  // J* at z*; a_ is scratch here
  }

  std::size_t size() const override { return 2 * n_; }

  void eval(const Exec& exec, const V& z, const V& f) override {
    complexify(exec, z, zc_);
    base_.eval(exec, zc_, fc_);
    loss_.gradient(exec, zc_, gc_);
    subtract_scaled(exec, beta_, gc_, fc_);
    if (root_ != nullptr) {
      // d = z - z* (z* real: only the real part moves); zc_ is scratch from here on.
      shift_real(exec, zc_, zstar_, -1.0, zc_);
      apply_asym(exec, zc_, fc_, 1.0);
    }
    realify(exec, fc_, f);
  }
  void jvp(const Exec& exec, const V& v, const V& out) override {
    complexify(exec, v, zc_);
    apply_linear(exec, out, false);
  }
  void vjp(const Exec& exec, const V& w, const V& out) override {
    complexify(exec, w, zc_, true);
    apply_linear(exec, out, true);
  }

  // Implementation steps below are public because CUDA's device lambdas need it.

  /// out = realification of A zc_, or with `transposed` of conj(A^T zc_) (zc_ holding conj(w)).
  /// The linearisation point lives in the field and the loss, not in zc_.
  void apply_linear(const Exec& exec, const V& out, bool transposed) {
    if (transposed)
      base_.vjp(exec, zc_, fc_);
    else
      base_.jvp(exec, zc_, fc_);
    loss_.hvp(exec, zc_, gc_);
    subtract_scaled(exec, beta_, gc_, fc_);
    // The correction's Jacobian -(J* - J*^T) is antisymmetric: its transpose flips the sign.
    if (root_ != nullptr) apply_asym(exec, zc_, fc_, transposed ? -1.0 : 1.0);
    const int n = static_cast<int>(n_);
    const auto fc = fc_;
    const double sign = transposed ? -1.0 : 1.0;  // the final conjugation
    Kokkos::parallel_for(
        "frost::relax::holo_lin_out", Kokkos::RangePolicy<Exec>(exec, 0, n),
        KOKKOS_LAMBDA(const int i) {
          out(i) = fc(i).real();
          out(n + i) = sign * fc(i).imag();
        });
  }
  /// f -= b g.
  static void subtract_scaled(const Exec& exec, Complex b, const CV& g, const CV& f) {
    Kokkos::parallel_for(
        "frost::relax::holo_nudge", Kokkos::RangePolicy<Exec>(exec, 0, f.extent(0)),
        KOKKOS_LAMBDA(const int i) { f(i) -= b * g(i); });
  }
  /// out = z + alpha r (r real; out may alias z).
  static void shift_real(const Exec& exec, const CV& z, const V& r, double alpha, const CV& out) {
    Kokkos::parallel_for(
        "frost::relax::holo_shift", Kokkos::RangePolicy<Exec>(exec, 0, z.extent(0)),
        KOKKOS_LAMBDA(const int i) { out(i) = z(i) + alpha * r(i); });
  }
  /// out -= sign (J* - J*^T) d, J* real: applied to Re d and Im d separately.
  void apply_asym(const Exec& exec, const CV& d, const CV& out, double sign) {
    const int n = static_cast<int>(n_);
    const auto re = re_, im = im_, a = a_, b = b_;
    Kokkos::parallel_for(
        "frost::relax::holo_split", Kokkos::RangePolicy<Exec>(exec, 0, n),
        KOKKOS_LAMBDA(const int i) {
          re(i) = d(i).real();
          im(i) = d(i).imag();
        });
    root_->jvp(exec, re_, a_);
    root_->vjp(exec, re_, b_);
    Kokkos::parallel_for(
        "frost::relax::holo_asym_re", Kokkos::RangePolicy<Exec>(exec, 0, n),
        KOKKOS_LAMBDA(const int i) { out(i) -= sign * (a(i) - b(i)); });
    root_->jvp(exec, im_, a_);
    root_->vjp(exec, im_, b_);
    Kokkos::parallel_for(
        "frost::relax::holo_asym_im", Kokkos::RangePolicy<Exec>(exec, 0, n),
        KOKKOS_LAMBDA(const int i) { out(i) -= Complex(0.0, sign * (a(i) - b(i))); });
  }

 private:
  Field<Mem, Complex>& base_;
  Loss<Mem, Complex>& loss_;
  Complex beta_;
  std::size_t n_;
  CV zc_, fc_, gc_;
  Field<Mem>* root_ = nullptr;
  V zstar_, re_, im_, a_, b_;
};

/// What a holomorphic EP estimate took: the solved phases n = 0..floor(N/2) (free phase solved by
/// the caller).
struct HolomorphicEpReport {
  std::vector<SolveReport> phases;
  bool converged() const {
    for (const auto& p : phases)
      if (!p.converged) return false;
    return true;
  }
};

/// g_x = -Re z'(0) from the nudged phases at beta e^{2 pi i n / N} (N >= 2), each started from the
/// real free equilibrium z0 and solved with `opt` on the realified field. `field` and `loss` are
/// the holomorphic extensions (parameters and input as the real model's); with `at_root` (a real
/// instance of the field, same parameters and input) the phases carry the AsymEP correction at
/// z0. Leaves the complex field linearised at the last phase.
template <class Mem>
HolomorphicEpReport holomorphic_ep_input_gradient(const typename Mem::execution_space& exec,
                                                  Field<Mem, Complex>& field,
                                                  Loss<Mem, Complex>& loss, const Vec<Mem>& z0,
                                                  double beta, int N, const SolverOptions& opt,
                                                  const Vec<Mem>& g_x,
                                                  Field<Mem>* at_root = nullptr) {
  using Exec = typename Mem::execution_space;
  if (N < 2) throw std::invalid_argument("relax: holomorphic EP needs at least 2 points");
  const int n = static_cast<int>(field.size());
  Vec<Mem> zr("frost::relax::holo_phase", 2 * std::size_t(n));
  Kokkos::deep_copy(exec, g_x, 0.0);
  HolomorphicEpReport rep;
  for (int k = 0; 2 * k <= N; ++k) {
    const Complex w = unit_root(k, N);
    Kokkos::deep_copy(exec, Kokkos::subview(zr, std::make_pair(0, n)), z0);
    Kokkos::deep_copy(exec, Kokkos::subview(zr, std::make_pair(n, 2 * n)), 0.0);
    if (at_root != nullptr) {
      HolomorphicNudgedField<Mem> f(exec, field, *at_root, loss, z0, beta * w);
      rep.phases.push_back(solve(exec, f, zr, opt));
    } else {
      HolomorphicNudgedField<Mem> f(field, loss, beta * w);
      rep.phases.push_back(solve(exec, f, zr, opt));
    }
    // Re((z - z0) e^{-i theta}) = (Re z - z0) cos theta + Im z sin theta; the phases at N - k
    // (conjugates) double the terms with 0 < k < N/2. Subtracting z0 removes the constant, whose
    // Fourier mean is zero, before the 1/beta.
    const double c = w.real(), s = w.imag();
    const double scale = -((k == 0 || 2 * k == N) ? 1.0 : 2.0) / (double(N) * beta);
    const auto z = zr, x0 = z0, g = g_x;
    Kokkos::parallel_for(
        "frost::relax::holo_fourier", Kokkos::RangePolicy<Exec>(exec, 0, n),
        KOKKOS_LAMBDA(const int i) { g(i) += scale * ((z(i) - x0(i)) * c + z(n + i) * s); });
  }
  return rep;
}

}  // namespace frost::relax
