// Equilibrium propagation (EP) for the quadratic loss L(z) = |z - y|^2 / 2 at an equilibrium, with
// respect to the input x (dF/dx = I):
//  * free phase: F(z) = 0 gives z0;
//  * nudged phases: F(z) - beta (z - y) = 0 at +beta and -beta, each started from z0;
//  * estimate: g_EP = -(z_{+beta} - z_{-beta}) / (2 beta) -> -J^{-1} dL/dz as beta -> 0 (error
//    O(beta^2) by the symmetric difference).
// The true gradient is dL/dx = -J^{-T} dL/dz (adjoint.hpp): the two agree when J is symmetric
// (a field with an energy) and differ by the asymmetry of J otherwise, which is what the
// comparison measures. The parameter gradient follows from either by one more product: EP gives
// (dF/dtheta)^T g_EP and implicit differentiation (dF/dtheta)^T (-J^{-T} dL/dz), both through
// TransformerField::param_vjp at the free equilibrium.
//
// For a general loss L(z) (a cross-entropy readout, readout.hpp) the nudged phases solve
// F(z) - beta dL/dz = 0 (LossNudgedField). Differentiating at beta = 0 gives
// dz/dbeta = J^{-1} dL/dz, so the estimate of the parameter gradient is
//   g_EP = -(1 / (2 beta)) (dF/dtheta)^T (z_{+beta} - z_{-beta})
// (note the minus sign: with this nudge, (1/(2 beta)) (dF/dtheta)^T (z+ - z-) is the gradient
// of -L), while implicit differentiation gives dL/dtheta = (dF/dtheta)^T lambda with
// J^T lambda = -dL/dz. They agree when J is symmetric; for the transformer block they differ by
// the asymmetry of J (J^{-1} in place of J^{-T}).
//
// AsymEP (AsymNudgedField) removes that gap: the nudged phases also subtract (J* - J*^T)(z - z*),
// the asymmetry of J at the free equilibrium, so their linearisation is J*^T and the same
// estimate converges to the implicit gradient.
//
// Holomorphic EP (holomorphic.hpp) replaces the real pair +-beta by N complex nudges on a circle
// (error O(beta^N)), for either estimator, with ep_param_gradient for the parameters.
#pragma once

#include <Kokkos_Core.hpp>

#include "relax/adjoint.hpp"
#include "relax/field.hpp"
#include "relax/solvers.hpp"
#include "relax/vec_ops.hpp"

namespace frost::relax {

/// F_beta(z) = F(z) - beta (z - y): the field nudged towards the target y (the loss gradient of
/// |z - y|^2 / 2). Shares the wrapped field's linearisation point.
template <class Mem>
class NudgedField : public Field<Mem> {
 public:
  using Exec = typename Mem::execution_space;
  using V = Vec<Mem>;
  NudgedField(Field<Mem>& base, V target, double beta) : base_(base), y_(target), beta_(beta) {}
  std::size_t size() const override { return base_.size(); }
  void eval(const Exec& exec, const V& z, const V& f) override {
    base_.eval(exec, z, f);
    const auto y = y_;
    const double b = beta_;
    Kokkos::parallel_for(
        "frost::relax::nudge", Kokkos::RangePolicy<Exec>(exec, 0, z.extent(0)),
        KOKKOS_LAMBDA(const int i) { f(i) -= b * (z(i) - y(i)); });
  }
  void jvp(const Exec& exec, const V& v, const V& out) override {
    base_.jvp(exec, v, out);
    axpby(exec, -beta_, v, 1.0, out);
  }
  void vjp(const Exec& exec, const V& w, const V& out) override {
    base_.vjp(exec, w, out);
    axpby(exec, -beta_, w, 1.0, out);
  }

 private:
  Field<Mem>& base_;
  V y_;
  double beta_;
};

/// What an EP estimate took: the two nudged solves (free phase solved by the caller).
struct EpReport {
  SolveReport plus, minus;
};

/// g_EP (written to `grad`) from the free equilibrium z0, target y and nudge beta > 0; both nudged
/// phases use the solver settings `opt`. Leaves `field` linearised at the -beta phase.
template <class Mem>
EpReport ep_input_gradient(const typename Mem::execution_space& exec, Field<Mem>& field,
                           const Vec<Mem>& z0, const Vec<Mem>& y, double beta,
                           const SolverOptions& opt, const Vec<Mem>& grad) {
  const std::size_t n = field.size();
  Vec<Mem> zp("frost::relax::ep_zplus", n), zm("frost::relax::ep_zminus", n);
  Kokkos::deep_copy(exec, zp, z0);
  Kokkos::deep_copy(exec, zm, z0);
  EpReport r;
  NudgedField<Mem> plus(field, y, beta), minus(field, y, -beta);
  r.plus = solve(exec, plus, zp, opt);
  r.minus = solve(exec, minus, zm, opt);
  // grad = -(zp - zm) / (2 beta)
  add_scaled(exec, zp, -1.0, zm, grad);
  axpby(exec, 0.0, zp, -0.5 / beta, grad);
  return r;
}

/// A differentiable loss L(z) of the state, for nudging: `gradient` evaluates L and dL/dz at z and
/// makes z its linearisation point; `hvp` applies the (symmetric) Hessian there. With Scalar =
/// Complex, L is the holomorphic extension of a real loss (dL/dz and H complex, H = H^T).
template <class Mem, class Scalar = double>
class Loss {
 public:
  using Exec = typename Mem::execution_space;
  using V = Vec<Mem, Scalar>;
  virtual ~Loss() = default;
  /// Returns L(z) (its real part for a complex state); g = dL/dz.
  virtual double gradient(const Exec& exec, const V& z, const V& g) = 0;
  /// out = (d^2 L / dz^2) v at the last point passed to `gradient`.
  virtual void hvp(const Exec& exec, const V& v, const V& out) = 0;
};

/// F_beta(z) = F(z) - beta dL/dz with Jacobian J - beta H (H the Hessian of L, symmetric, so the
/// same term enters jvp and vjp). Shares the linearisation points of the field and the loss.
template <class Mem>
class LossNudgedField : public Field<Mem> {
 public:
  using Exec = typename Mem::execution_space;
  using V = Vec<Mem>;
  LossNudgedField(Field<Mem>& base, Loss<Mem>& loss, double beta)
      : base_(base),
        loss_(loss),
        beta_(beta),
        g_("frost::relax::nudge_grad", base.size()),
        h_("frost::relax::nudge_hvp", base.size()) {}
  std::size_t size() const override { return base_.size(); }
  void eval(const Exec& exec, const V& z, const V& f) override {
    base_.eval(exec, z, f);
    loss_.gradient(exec, z, g_);
    axpby(exec, -beta_, g_, 1.0, f);
  }
  void jvp(const Exec& exec, const V& v, const V& out) override {
    base_.jvp(exec, v, out);
    loss_.hvp(exec, v, h_);
    axpby(exec, -beta_, h_, 1.0, out);
  }
  void vjp(const Exec& exec, const V& w, const V& out) override {
    base_.vjp(exec, w, out);
    loss_.hvp(exec, w, h_);
    axpby(exec, -beta_, h_, 1.0, out);
  }

 private:
  Field<Mem>& base_;
  Loss<Mem>& loss_;
  double beta_;
  V g_, h_;
};

/// The nudged phases F(z) -/+ beta dL/dz = 0 at +beta (into zp) and -beta (into zm), both started
/// from the free equilibrium z0 and solved with `opt` (any solver). Leaves the field linearised
/// at the -beta phase.
template <class Mem>
EpReport ep_nudged_phases(const typename Mem::execution_space& exec, Field<Mem>& field,
                          Loss<Mem>& loss, const Vec<Mem>& z0, double beta,
                          const SolverOptions& opt, const Vec<Mem>& zp, const Vec<Mem>& zm) {
  Kokkos::deep_copy(exec, zp, z0);
  Kokkos::deep_copy(exec, zm, z0);
  EpReport r;
  LossNudgedField<Mem> plus(field, loss, beta), minus(field, loss, -beta);
  r.plus = solve(exec, plus, zp, opt);
  r.minus = solve(exec, minus, zm, opt);
  return r;
}

/// AsymEP: the loss-nudged field with the asymmetry of J at the free equilibrium z* taken out,
///   F_beta(z) = F(z) - beta dL/dz - (J* - J*^T)(z - z*),   J* = dF/dz at z*,
/// the correction Jv - J^T v of the seed's nudged relaxation with v = z - z*. Its Jacobian at z* is
/// J*^T - beta H (the same spectrum as the free phase's J*, so the same solvers converge), hence
/// dz/dbeta = J*^{-T} dL/dz at beta = 0 and -(z_{+beta} - z_{-beta}) / (2 beta) converges, at
/// O(beta^2), to the implicit-differentiation gradient -J^{-T} dL/dz where plain EP gives the
/// forward sensitivity -J^{-1} dL/dz. J* is applied through `at_root`, a second instance of the
/// field linearised at z* by the constructor and never evaluated elsewhere (the solvers move the
/// linearisation point of `base`). Each evaluation costs one F, one Jv and one J^T v.
template <class Mem>
class AsymNudgedField : public Field<Mem> {
 public:
  using Exec = typename Mem::execution_space;
  using V = Vec<Mem>;
  AsymNudgedField(const Exec& exec, Field<Mem>& base, Field<Mem>& at_root, Loss<Mem>& loss,
                  const V& zstar, double beta)
      : base_(base),
        root_(at_root),
        loss_(loss),
        zstar_(zstar),
        beta_(beta),
        g_("frost::relax::asym_grad", base.size()),
        d_("frost::relax::asym_dz", base.size()),
        a_("frost::relax::asym_jv", base.size()),
        b_("frost::relax::asym_jtv", base.size()) {
    root_.eval(exec, zstar_, g_);  // J* at z*; g_ is scratch here
  }
  std::size_t size() const override { return base_.size(); }
  void eval(const Exec& exec, const V& z, const V& f) override {
    base_.eval(exec, z, f);
    loss_.gradient(exec, z, g_);
    add_scaled(exec, z, -1.0, zstar_, d_);
    root_.jvp(exec, d_, a_);
    root_.vjp(exec, d_, b_);
    const auto g = g_, a = a_, b = b_;
    const double beta = beta_;
    Kokkos::parallel_for(
        "frost::relax::asym_correct", Kokkos::RangePolicy<Exec>(exec, 0, z.extent(0)),
        KOKKOS_LAMBDA(const int i) { f(i) -= beta * g(i) + a(i) - b(i); });
  }
  /// out = (J(z) - beta H - J* + J*^T) v.
  void jvp(const Exec& exec, const V& v, const V& out) override {
    base_.jvp(exec, v, out);
    apply_rest(exec, v, out, 1.0);
  }
  /// out = (J(z)^T - beta H - J*^T + J*) w.
  void vjp(const Exec& exec, const V& w, const V& out) override {
    base_.vjp(exec, w, out);
    apply_rest(exec, w, out, -1.0);
  }

  // out -= beta H v + sign (J* v - J*^T v). Public because CUDA's device lambdas need it.
  void apply_rest(const Exec& exec, const V& v, const V& out, double sign) {
    loss_.hvp(exec, v, g_);
    root_.jvp(exec, v, a_);
    root_.vjp(exec, v, b_);
    const auto h = g_, a = a_, b = b_;
    const double beta = beta_;
    Kokkos::parallel_for(
        "frost::relax::asym_correct_lin", Kokkos::RangePolicy<Exec>(exec, 0, v.extent(0)),
        KOKKOS_LAMBDA(const int i) { out(i) -= beta * h(i) + sign * (a(i) - b(i)); });
  }

 private:
  Field<Mem>& base_;
  Field<Mem>& root_;
  Loss<Mem>& loss_;
  V zstar_;
  double beta_;
  V g_, d_, a_, b_;
};

/// The AsymEP nudged phases (AsymNudgedField) at +beta (into zp) and -beta (into zm), both
/// started from the free equilibrium z0 and solved with `opt` (any solver); `at_root` is a second
/// instance of the field (same parameters and input) that this linearises at z0. The estimates
/// then follow from ep_gradients unchanged. Leaves `field` linearised at the -beta phase.
template <class Mem>
EpReport asym_ep_nudged_phases(const typename Mem::execution_space& exec, Field<Mem>& field,
                               Field<Mem>& at_root, Loss<Mem>& loss, const Vec<Mem>& z0,
                               double beta, const SolverOptions& opt, const Vec<Mem>& zp,
                               const Vec<Mem>& zm) {
  Kokkos::deep_copy(exec, zp, z0);
  Kokkos::deep_copy(exec, zm, z0);
  EpReport r;
  AsymNudgedField<Mem> plus(exec, field, at_root, loss, z0, beta);
  r.plus = solve(exec, plus, zp, opt);
  AsymNudgedField<Mem> minus(exec, field, at_root, loss, z0, -beta);
  r.minus = solve(exec, minus, zm, opt);
  return r;
}

/// g_theta = (dF/dtheta)^T g_x at the free equilibrium z0, from an estimate g_x of the input
/// gradient (dF/dx = I). Leaves the field linearised at z0.
template <class FieldT, class Mem>
void ep_param_gradient(const typename Mem::execution_space& exec, FieldT& field, const Vec<Mem>& z0,
                       const Vec<Mem>& g_x, const Vec<Mem>& g_theta) {
  Vec<Mem> f("frost::relax::ep_f", field.size());
  field.eval(exec, z0, f);
  field.param_vjp(exec, g_x, g_theta);
}

/// From the free equilibrium z0 and the nudged states: the EP estimates of the input gradient
/// g_x = -(zp - zm) / (2 beta) (dF/dx = I) and of the parameter gradient
/// g_theta = (dF/dtheta)^T g_x at z0. `FieldT` has param_vjp (TransformerField). Leaves the field
/// linearised at z0.
template <class FieldT, class Mem>
void ep_gradients(const typename Mem::execution_space& exec, FieldT& field, const Vec<Mem>& z0,
                  const Vec<Mem>& zp, const Vec<Mem>& zm, double beta, const Vec<Mem>& g_x,
                  const Vec<Mem>& g_theta) {
  add_scaled(exec, zp, -1.0, zm, g_x);
  axpby(exec, 0.0, zp, -0.5 / beta, g_x);
  ep_param_gradient(exec, field, z0, g_x, g_theta);
}

/// The reference: implicit differentiation at the free equilibrium z0. Solves J^T lambda =
/// -dL/dz by Belos GMRES (adjoint_solve), then dL/dx = lambda and dL/dtheta = (dF/dtheta)^T
/// lambda. `lambda` holds the initial guess on entry. Leaves the field linearised at z0.
template <class FieldT, class Mem>
GmresResult implicit_gradients(const typename Mem::execution_space& exec, FieldT& field,
                               Loss<Mem>& loss, const Vec<Mem>& z0, const GmresOptions& gopt,
                               const Vec<Mem>& lambda, const Vec<Mem>& g_theta) {
  const std::size_t n = field.size();
  Vec<Mem> f("frost::relax::implicit_f", n), g("frost::relax::implicit_rhs", n);
  loss.gradient(exec, z0, g);
  axpby(exec, 0.0, g, -1.0, g);
  field.eval(exec, z0, f);
  const GmresResult r = adjoint_solve(exec, field, g, lambda, gopt);
  field.param_vjp(exec, lambda, g_theta);
  return r;
}

}  // namespace frost::relax
