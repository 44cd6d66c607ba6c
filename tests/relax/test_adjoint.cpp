// Implicit differentiation through the equilibrium: the gradient of L(z*(x)) = |z* - y|^2 / 2
// with respect to the input x, from one adjoint solve J^T lambda = z* - y (dL/dx = -lambda),
// against central differences of L over re-solved equilibria at x +- h d.
#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.hpp"
#include "relax/adjoint.hpp"
#include "relax/relax_fixture.hpp"
#include "relax/solvers.hpp"
#include "relax/transformer.hpp"

namespace frost::relax {
namespace {

using test::Exec;
using test::Mem;
using test::V;

V random_vec(int n, std::uint32_t chain) {
  return test::random_vec(n, 23, chain);
}

TEST(RelaxAdjoint, InputGradientMatchesFiniteDifferences) {
  const Exec exec;
  TransformerSpec s;
  s.B = 1;
  s.T = 6;
  s.C = 8;
  s.heads = 2;
  s.c = 1.0;
  s.skew = 2.0;  // a nonsymmetric J: the adjoint is not the forward solve
  s.init_scale = 1.0;
  s.seed = 4;
  TransformerField<Mem> field(s);
  const int n = static_cast<int>(field.size());
  const V y = random_vec(n, 1), d = random_vec(n, 2);
  V x0("x0", n);
  Kokkos::deep_copy(x0, field.input());
  SolverOptions o;
  o.method = "implicit";
  o.tol = 1e-14;
  o.belos.tol = 1e-12;
  // L at the equilibrium for input x0 + t d (the field's x is overwritten in place).
  auto loss = [&](double t, const V& zout) {
    add_scaled(exec, x0, t, d, field.input());
    Kokkos::deep_copy(zout, field.input());
    const SolveReport r = solve(exec, field, zout, o);
    EXPECT_TRUE(r.converged);
    V diff("diff", n);
    add_scaled(exec, zout, -1.0, y, diff);
    return 0.5 * dot(exec, diff, diff);
  };
  const double h = 1e-5;
  V z("z", n);
  const double fd = (loss(h, z) - loss(-h, z)) / (2 * h);
  loss(0.0, z);  // equilibrium at x0; the field is linearised there
  V g("g", n), lambda("lambda", n);
  add_scaled(exec, z, -1.0, y, g);
  GmresOptions go;
  go.tol = 1e-13;
  const GmresResult r = adjoint_solve(exec, field, g, lambda, go);
  EXPECT_TRUE(r.converged);
  const double ad = -dot(exec, lambda, d);
  EXPECT_NEAR(ad, fd, 1e-7 * std::max(1.0, std::abs(fd)));
}

}  // namespace
}  // namespace frost::relax
