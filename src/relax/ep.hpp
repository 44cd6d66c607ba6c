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
#pragma once

#include <Kokkos_Core.hpp>

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

}  // namespace frost::relax
