// Equilibrium propagation with respect to the input: with a symmetric Jacobian the EP estimate
// converges to the true gradient (adjoint solve) as beta -> 0, at O(beta^2); on the transformer
// field (nonsymmetric J) it converges to the forward sensitivity -J^{-1} dL/dz instead, and the
// gap to the true gradient is the asymmetry of J.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "relax/adjoint.hpp"
#include "relax/ep.hpp"
#include "relax/relax_fixture.hpp"
#include "relax/transformer.hpp"

namespace frost::relax {
namespace {

using test::Exec;
using test::Mem;
using test::rel_err;
using test::V;

V random_vec(int n, std::uint32_t chain) {
  return test::random_vec(n, 31, chain);
}

SolverOptions tight() {
  SolverOptions o;
  o.method = "implicit";
  o.tol = 1e-14;
  o.belos.tol = 1e-12;
  return o;
}

/// Free phase from `start`, then the true gradient -J^{-T}(z0 - y) (or, with `forward`,
/// -J^{-1}(z0 - y)) into `out`; z0 into `z0`.
void reference(Field<Mem>& f, const V& start, const V& y, bool forward, const V& z0, const V& out) {
  const Exec exec;
  const int n = static_cast<int>(f.size());
  Kokkos::deep_copy(z0, start);
  ASSERT_TRUE(solve(exec, f, z0, tight()).converged);
  V g("g", n), fz("fz", n);
  f.eval(exec, z0, fz);
  add_scaled(exec, z0, -1.0, y, g);
  GmresOptions go;
  go.tol = 1e-13;
  if (forward) {
    ASSERT_TRUE(forward_solve(exec, f, g, out, go).converged);
  } else {
    ASSERT_TRUE(adjoint_solve(exec, f, g, out, go).converged);
  }
  axpby(exec, 0.0, out, -1.0, out);
}

TEST(RelaxEP, SymmetricFieldGivesTrueGradient) {
  const Exec exec;
  const int n = 12;
  // A = -(2 I + S S^T / n): symmetric negative definite.
  core::RandomStream rs(5, 0, 0);
  std::vector<double> S(n * n), A(n * n, 0.0), root(n);
  for (auto& v : S) v = 2.0 * rs.uniform() - 1.0;
  for (auto& v : root) v = 2.0 * rs.uniform() - 1.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      for (int k = 0; k < n; ++k) A[i * n + j] -= S[i * n + k] * S[j * n + k] / n;
      if (i == j) A[i * n + j] -= 2.0;
    }
  LinearField<Mem> f(A, root);
  const V y = random_vec(n, 1), start = random_vec(n, 2);
  V z0("z0", n), truth("truth", n), ep("ep", n);
  reference(f, start, y, false, z0, truth);
  double prev = 1.0;
  for (double beta : {1e-1, 1e-2, 1e-3}) {
    ep_input_gradient(exec, f, z0, y, beta, tight(), ep);
    const double e = rel_err(ep, truth);
    EXPECT_LT(e, prev) << beta;
    prev = e;
  }
  EXPECT_LT(prev, 1e-5);
}

TEST(RelaxEP, TransformerFieldConvergesToForwardSensitivity) {
  const Exec exec;
  TransformerSpec s;
  s.B = 1;
  s.T = 6;
  s.C = 8;
  s.heads = 2;
  s.c = 1.0;
  s.init_scale = 1.0;
  s.seed = 8;
  TransformerField<Mem> f(s);
  const int n = static_cast<int>(f.size());
  const V y = random_vec(n, 3);
  V z0("z0", n), fwd("fwd", n), truth("truth", n), ep("ep", n);
  reference(f, f.input(), y, true, z0, fwd);
  reference(f, f.input(), y, false, z0, truth);
  double prev = 1.0;
  for (double beta : {1e-1, 1e-2, 1e-3}) {
    ep_input_gradient(exec, f, z0, y, beta, tight(), ep);
    const double e = rel_err(ep, fwd);
    EXPECT_LT(e, prev) << beta;
    prev = e;
  }
  EXPECT_LT(prev, 1e-5);
  // The block's J is not symmetric: EP and the true gradient differ by more than the EP error.
  EXPECT_GT(rel_err(ep, truth), 100.0 * prev);
}

// The block's parameter gradient of L(z*(theta)): the implicit-differentiation gradient
// (dF/dtheta)^T (-J^{-T} dL/dz) against central differences of L over re-solved equilibria, and
// the EP estimate (dF/dtheta)^T g_EP converging as beta -> 0 to (dF/dtheta)^T (-J^{-1} dL/dz).
TEST(RelaxEP, ParameterGradients) {
  const Exec exec;
  TransformerSpec s;
  s.B = 1;
  s.T = 6;
  s.C = 8;
  s.heads = 2;
  s.c = 1.0;
  s.init_scale = 1.0;
  s.seed = 12;
  TransformerField<Mem> f(s);
  const int n = static_cast<int>(f.size()), np = static_cast<int>(f.params().extent(0));
  const V y = random_vec(n, 4), d = random_vec(np, 5);
  V theta("theta", np), z0("z0", n), fwd("fwd", n), truth("truth", n), ep("ep", n);
  Kokkos::deep_copy(theta, f.params());
  auto loss = [&](double t) {
    add_scaled(exec, theta, t, d, f.params());
    V z("z", n);
    Kokkos::deep_copy(z, f.input());
    EXPECT_TRUE(solve(exec, f, z, tight()).converged);
    V diff("diff", n);
    add_scaled(exec, z, -1.0, y, diff);
    return 0.5 * dot(exec, diff, diff);
  };
  const double h = 1e-5;
  const double fd = (loss(h) - loss(-h)) / (2 * h);
  Kokkos::deep_copy(f.params(), theta);
  reference(f, f.input(), y, true, z0, fwd);
  reference(f, f.input(), y, false, z0, truth);  // leaves f linearised at z0
  V g_true("g_true", np), g_fwd("g_fwd", np), g_ep("g_ep", np);
  f.param_vjp(exec, truth, g_true);
  f.param_vjp(exec, fwd, g_fwd);
  EXPECT_NEAR(dot(exec, g_true, d), fd, 1e-6 * std::max(1.0, std::abs(fd)));
  double prev = 1.0;
  for (double beta : {1e-1, 1e-2, 1e-3}) {
    ep_input_gradient(exec, f, z0, y, beta, tight(), ep);
    V fz("fz", n);
    f.eval(exec, z0, fz);  // dF/dtheta at the free equilibrium
    f.param_vjp(exec, ep, g_ep);
    const double e = rel_err(g_ep, g_fwd);
    EXPECT_LT(e, prev) << beta;
    prev = e;
  }
  EXPECT_LT(prev, 1e-5);
}

/// L(z) = |z - y|^2 / 2 as a Loss (the loss of ep_input_gradient), for the AsymEP phases.
class QuadraticLoss : public Loss<Mem> {
 public:
  explicit QuadraticLoss(V y) : y_(y) {}
  double gradient(const Exec& exec, const V& z, const V& g) override {
    add_scaled(exec, z, -1.0, y_, g);
    return 0.5 * dot(exec, g, g);
  }
  void hvp(const Exec& exec, const V& v, const V& out) override { Kokkos::deep_copy(exec, out, v); }

 private:
  V y_;
};

// AsymEP on a linear field whose Jacobian A = -(2 I + S S^T / n) + K has a large antisymmetric
// part K (|K| about |sym A|): the corrected nudged phases give the true gradient -A^{-T} dL/dz
// (adjoint solve) at O(beta^2), while plain EP stays at the forward sensitivity -A^{-1} dL/dz,
// a distance of order one away.
TEST(RelaxEP, AsymEpGivesTrueGradientOnNonsymmetricField) {
  const Exec exec;
  const int n = 12;
  core::RandomStream rs(6, 0, 0);
  std::vector<double> S(n * n), K(n * n, 0.0), A(n * n, 0.0), root(n);
  for (auto& v : S) v = 2.0 * rs.uniform() - 1.0;
  for (auto& v : root) v = 2.0 * rs.uniform() - 1.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < i; ++j) {
      K[i * n + j] = 2.0 * (2.0 * rs.uniform() - 1.0);
      K[j * n + i] = -K[i * n + j];
    }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      for (int k = 0; k < n; ++k) A[i * n + j] -= S[i * n + k] * S[j * n + k] / n;
      if (i == j) A[i * n + j] -= 2.0;
      A[i * n + j] += K[i * n + j];
    }
  LinearField<Mem> f(A, root), twin(A, root);
  const V y = random_vec(n, 1), start = random_vec(n, 2);
  V z0("z0", n), truth("truth", n), fwd("fwd", n), ep("ep", n), zp("zp", n), zm("zm", n);
  reference(f, start, y, true, z0, fwd);
  reference(f, start, y, false, z0, truth);
  QuadraticLoss loss(y);
  double prev = 1.0, plain = 0.0;
  for (double beta : {1e-1, 1e-2, 1e-3}) {
    for (const char* method : {"anderson", "implicit"}) {
      SolverOptions o = tight();
      o.method = method;
      const EpReport r = asym_ep_nudged_phases(exec, f, twin, loss, z0, beta, o, zp, zm);
      ASSERT_TRUE(r.plus.converged && r.minus.converged) << method << " " << beta;
      add_scaled(exec, zp, -1.0, zm, ep);
      axpby(exec, 0.0, zp, -0.5 / beta, ep);
      const double e = rel_err(ep, truth);
      std::printf("[ AsymEP ] linear field, %-8s beta %.0e: |g_asym - g_true| / |g_true| %.3e\n",
                  method, beta, e);
      if (prev < 1.0) {
        EXPECT_LT(e, 0.05 * prev + 1e-10) << method << " " << beta;  // O(beta^2)
      }
      if (std::string(method) == "implicit") prev = e;
    }
    ep_input_gradient(exec, f, z0, y, beta, tight(), ep);
    plain = rel_err(ep, truth);
    std::printf("[ AsymEP ] linear field, plain EP beta %.0e: |g_EP - g_true| / |g_true| %.3e\n",
                beta, plain);
  }
  EXPECT_LT(prev, 1e-6);
  EXPECT_GT(rel_err(fwd, truth), 0.1);  // the asymmetry matters here
  EXPECT_GT(plain, 1e4 * prev);
}

}  // namespace
}  // namespace frost::relax
