// The relaxation solvers: convergence and agreement on a contractive transformer field; a linear
// field with a known stiff rotating mode a +- ib where euler at eps > eps_crit diverges and
// adaptive, anderson and implicit converge; the adaptive floor failing open; Arnoldi's eps_crit
// against the exact one; and the stiff transformer field of inputs/relax/stiff.yaml.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "relax/diagnostics.hpp"
#include "relax/solvers.hpp"
#include "relax/transformer.hpp"

namespace frost::relax {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
using V = Vec<Mem>;

double diff_norm(const V& a, const V& b) {
  const Exec exec;
  V d("d", a.extent(0));
  add_scaled(exec, a, -1.0, b, d);
  return norm2(exec, d);
}

TransformerSpec contractive_spec() {
  TransformerSpec s;
  s.B = 2;
  s.T = 8;
  s.C = 16;
  s.heads = 2;
  s.c = 4.0;
  s.init_scale = 0.5;
  s.seed = 5;
  return s;
}

TEST(RelaxSolvers, AllConvergeAndAgreeOnContractiveField) {
  const Exec exec;
  TransformerField<Mem> field(contractive_spec());
  std::vector<V> answers;
  for (const char* m : {"euler", "adaptive", "anderson", "implicit"}) {
    SolverOptions o;
    o.method = m;
    o.tol = 1e-11;
    o.eps = 0.2;  // about 1 / (1 + c)
    o.belos.tol = 1e-8;
    V z("z", field.size());
    Kokkos::deep_copy(z, field.input());
    const SolveReport r = solve(exec, field, z, o);
    EXPECT_TRUE(r.converged) << m;
    EXPECT_LT(r.final_norm, 1e-8) << m;
    EXPECT_EQ(r.force_history.size(), static_cast<std::size_t>(r.iterations) + 1) << m;
    EXPECT_GT(r.f_evals, 0) << m;
    answers.push_back(z);
  }
  for (std::size_t i = 1; i < answers.size(); ++i)
    EXPECT_LT(diff_norm(answers[i], answers[0]), 1e-8) << i;
}

/// A = Q D Q^T, D block diagonal with 2x2 blocks [[a, b], [-b, a]] (eigenvalues a +- ib) and Q a
/// Householder reflection, so the modes are spread over all coordinates.
LinearField<Mem> rotating_field(const std::vector<std::pair<double, double>>& modes) {
  const int n = 2 * static_cast<int>(modes.size());
  std::vector<double> D(n * n, 0.0), Q(n * n, 0.0), A(n * n, 0.0), root(n), u(n);
  for (std::size_t k = 0; k < modes.size(); ++k) {
    const int i = 2 * static_cast<int>(k);
    D[i * n + i] = D[(i + 1) * n + i + 1] = modes[k].first;
    D[i * n + i + 1] = modes[k].second;
    D[(i + 1) * n + i] = -modes[k].second;
  }
  core::RandomStream rs(3, 0, 0);
  double nu = 0.0;
  for (int i = 0; i < n; ++i) {
    u[i] = 2.0 * rs.uniform() - 1.0;
    root[i] = 2.0 * rs.uniform() - 1.0;
    nu += u[i] * u[i];
  }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) Q[i * n + j] = (i == j) - 2.0 * u[i] * u[j] / nu;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k)
        for (int l = 0; l < n; ++l) A[i * n + j] += Q[i * n + k] * D[k * n + l] * Q[j * n + l];
  return LinearField<Mem>(A, root);
}

// eps_crit = min(2/65, 1/1.25, 4/4.25, 2/10) = 2/65 (the mode -1 +- 8i).
const std::vector<std::pair<double, double>> kModes = {
    {-1.0, 8.0}, {-0.5, 1.0}, {-2.0, 0.5}, {-1.0, 3.0}};
constexpr double kEpsCrit = 2.0 / 65.0;

SolveReport solve_linear(const SolverOptions& o, double* err = nullptr) {
  const Exec exec;
  auto field = rotating_field(kModes);
  V z("z", field.size()), zero("zero", field.size()), f("f", field.size());
  Kokkos::deep_copy(z, 3.0);
  const SolveReport r = solve(exec, field, z, o);
  if (err) {
    // The root: F(z*) = 0 means A(z* - root) = 0; compare F directly through F(0) = -A root.
    field.eval(exec, z, f);
    *err = norm2(exec, f);
  }
  return r;
}

SolverOptions stiff_options(const char* method) {
  SolverOptions o;
  o.method = method;
  o.eps = 0.1;  // > eps_crit = 0.0308: |1 + 0.1 (-1 + 8i)| = 1.20
  o.tol = 1e-12;
  o.max_iters = 20000;
  o.anderson.m = 8;
  o.adaptive.eps_min = 1e-4;
  return o;
}

TEST(RelaxSolvers, EulerDivergesAboveEpsCrit) {
  const SolveReport r = solve_linear(stiff_options("euler"));
  EXPECT_TRUE(r.diverged);
  EXPECT_FALSE(r.converged);
  // Just below eps_crit the same solver converges: the wall is the step size alone.
  SolverOptions o = stiff_options("euler");
  o.eps = 0.9 * kEpsCrit;
  o.max_iters = 200000;
  o.tol = 1e-9;
  EXPECT_TRUE(solve_linear(o).converged);
}

TEST(RelaxSolvers, AdaptiveAndersonImplicitConvergeAboveEpsCrit) {
  for (const char* m : {"adaptive", "anderson", "implicit"}) {
    double err = 0.0;
    const SolveReport r = solve_linear(stiff_options(m), &err);
    EXPECT_TRUE(r.converged) << m;
    EXPECT_FALSE(r.handed_over) << m;
    EXPECT_LT(err, 1e-9) << m;
  }
}

TEST(RelaxSolvers, AdaptiveFloorFailsOpen) {
  for (const char* fb : {"anderson", "implicit"}) {
    SolverOptions o = stiff_options("adaptive");
    o.adaptive.eps_min = 0.05;  // above eps_crit: the floor itself overshoots
    o.adaptive.fallback = fb;
    double err = 0.0;
    const SolveReport r = solve_linear(o, &err);
    EXPECT_TRUE(r.handed_over) << fb;
    EXPECT_EQ(r.method, std::string("adaptive+") + fb);
    EXPECT_TRUE(r.converged) << fb;
    EXPECT_LT(err, 1e-9) << fb;
    EXPECT_TRUE(std::isfinite(r.eps_crit_estimate));
    EXPECT_LE(r.eps_crit_estimate, 0.05);
  }
  SolverOptions o = stiff_options("adaptive");
  o.adaptive.eps_min = 0.05;
  o.adaptive.fallback = "none";
  EXPECT_FALSE(solve_linear(o).converged);
}

TEST(RelaxDiagnostics, ArnoldiFindsEpsCrit) {
  const Exec exec;
  auto field = rotating_field(kModes);
  V z("z", field.size()), f("f", field.size());
  field.eval(exec, z, f);
  const Spectrum s = arnoldi(exec, field, 8, 1, 0);
  ASSERT_EQ(s.ritz.size(), 8u);
  EXPECT_NEAR(s.eps_crit, kEpsCrit, 1e-10);
  EXPECT_NEAR(std::abs(s.critical.imag()), 8.0, 1e-9);
  EXPECT_NEAR(s.max_real, -0.5, 1e-9);
}

TEST(RelaxSolvers, StiffTransformerField) {
  // inputs/relax/stiff.yaml at test size: c = 3, skew 8 puts the leading modes near -a +- 8i
  // with a < 4 (eps_crit < 0.12); eps = 0.2 is above it.
  const Exec exec;
  TransformerSpec s;
  s.B = 1;
  s.T = 8;
  s.C = 16;
  s.heads = 2;
  s.c = 3.0;
  s.skew = 8.0;
  s.init_scale = 0.5;
  s.seed = 9;
  TransformerField<Mem> field(s);
  std::vector<V> answers;
  for (const char* m : {"euler", "adaptive", "anderson", "implicit"}) {
    SolverOptions o;
    o.method = m;
    o.eps = 0.2;
    o.tol = 1e-10;
    o.max_iters = 20000;
    V z("z", field.size());
    Kokkos::deep_copy(z, field.input());
    const SolveReport r = solve(exec, field, z, o);
    if (std::string(m) == "euler") {
      EXPECT_TRUE(r.diverged);
      continue;
    }
    EXPECT_TRUE(r.converged) << m;
    EXPECT_FALSE(r.handed_over) << m;
    answers.push_back(z);
  }
  for (std::size_t i = 1; i < answers.size(); ++i)
    EXPECT_LT(diff_norm(answers[i], answers[0]), 1e-7) << i;
  V f("f", field.size());
  field.eval(exec, answers[0], f);
  const Spectrum sp = arnoldi(exec, field, 60, 1, 0);
  EXPECT_GT(sp.converged, 0);
  EXPECT_LT(sp.eps_crit, 0.2);
  EXPECT_LT(sp.max_real, 0.0);
}

}  // namespace
}  // namespace frost::relax
