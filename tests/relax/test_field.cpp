// The transformer field's hand-written derivatives: Jv against central finite differences and Jv
// against J^T w through <Jv, w> = <v, J^T w>, with GELU and tanh, with and without the skew term.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "core/rng.hpp"
#include "relax/field.hpp"
#include "relax/jacreg.hpp"
#include "relax/relax_fixture.hpp"
#include "relax/transformer.hpp"

namespace frost::relax {
namespace {

using test::Exec;
using test::Mem;
using test::V;

V random_vec(int n, std::uint32_t chain, double scale) {
  return test::random_vec(n, 7, chain, scale);
}

TransformerSpec small_spec(bool gelu, double skew) {
  TransformerSpec s;
  s.B = 2;
  s.T = 5;
  s.C = 8;
  s.heads = 2;
  s.ffn_mult = 2;
  s.c = 0.5;
  s.skew = skew;
  s.init_scale = 1.5;  // large enough that attention and FFN are far from linear
  s.gelu = gelu;
  s.seed = 11;
  return s;
}

struct Case {
  bool gelu;
  double skew;
};

class FieldDerivatives : public ::testing::TestWithParam<Case> {};

TEST_P(FieldDerivatives, JvMatchesCentralDifferences) {
  const Exec exec;
  TransformerField<Mem> F(small_spec(GetParam().gelu, GetParam().skew));
  const int n = static_cast<int>(F.size());
  const V z = random_vec(n, 1, 1.0), v = random_vec(n, 2, 1.0);
  V zp("zp", n), zm("zm", n), fp("fp", n), fm("fm", n), f("f", n), jv("jv", n);
  const double h = 1e-5;
  add_scaled(exec, z, h, v, zp);
  add_scaled(exec, z, -h, v, zm);
  F.eval(exec, zp, fp);
  F.eval(exec, zm, fm);
  F.eval(exec, z, f);
  F.jvp(exec, v, jv);
  axpby(exec, 1.0 / (2 * h), fp, -1.0 / (2 * h), fm);  // fm = (F(z+hv) - F(z-hv)) / 2h
  const double nj = norm2(exec, jv);
  ASSERT_GT(nj, 1e-3);
  axpby(exec, 1.0, jv, -1.0, fm);
  EXPECT_LT(norm2(exec, fm) / nj, 1e-7);
}

TEST_P(FieldDerivatives, AdjointIdentity) {
  const Exec exec;
  TransformerField<Mem> F(small_spec(GetParam().gelu, GetParam().skew));
  const int n = static_cast<int>(F.size());
  const V z = random_vec(n, 3, 1.0), v = random_vec(n, 4, 1.0), w = random_vec(n, 5, 1.0);
  V f("f", n), jv("jv", n), jtw("jtw", n);
  F.eval(exec, z, f);
  F.jvp(exec, v, jv);
  F.vjp(exec, w, jtw);
  const double a = dot(exec, jv, w), b = dot(exec, v, jtw);
  EXPECT_LT(std::abs(a - b), 1e-12 * (std::abs(a) + norm2(exec, jv) * norm2(exec, w)));
}

TEST_P(FieldDerivatives, ParamVjpMatchesCentralDifferences) {
  const Exec exec;
  TransformerField<Mem> F(small_spec(GetParam().gelu, GetParam().skew));
  const int n = static_cast<int>(F.size()), np = static_cast<int>(F.params().extent(0));
  const V z = random_vec(n, 7, 1.0), u = random_vec(n, 8, 1.0), d = random_vec(np, 9, 1.0);
  V theta("theta", np), f("f", n), fp("fp", n), fm("fm", n), g("g", np);
  Kokkos::deep_copy(theta, F.params());
  const double h = 1e-5;
  add_scaled(exec, theta, h, d, F.params());
  F.eval(exec, z, fp);
  add_scaled(exec, theta, -h, d, F.params());
  F.eval(exec, z, fm);
  Kokkos::deep_copy(F.params(), theta);
  F.eval(exec, z, f);
  F.param_vjp(exec, u, g);
  axpby(exec, 1.0 / (2 * h), fp, -1.0 / (2 * h), fm);  // dF/dtheta . d
  const double fd = dot(exec, u, fm), ad = dot(exec, g, d);
  ASSERT_GT(std::abs(ad), 1e-3);
  EXPECT_LT(std::abs(fd - ad) / std::abs(ad), 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Relax, FieldDerivatives,
                         ::testing::Values(Case{true, 0.0}, Case{false, 0.0}, Case{true, 3.0}));

TEST(TransformerField, DeterministicFromSeed) {
  const Exec exec;
  TransformerField<Mem> A(small_spec(true, 0.0)), B(small_spec(true, 0.0));
  const int n = static_cast<int>(A.size());
  const V z = random_vec(n, 6, 1.0);
  V fa("fa", n), fb("fb", n);
  A.eval(exec, z, fa);
  B.eval(exec, z, fb);
  axpby(exec, 1.0, fa, -1.0, fb);
  EXPECT_EQ(norm2(exec, fb), 0.0);
}

/// The n x n matrix (row-major) of the operator `apply`, column by column on unit vectors.
template <class Apply>
std::vector<double> brute_force(int n, Apply&& apply) {
  V e("e", n), col("col", n);
  std::vector<double> A(std::size_t(n) * n);
  for (int j = 0; j < n; ++j) {
    Kokkos::deep_copy(e, 0.0);
    Kokkos::deep_copy(Kokkos::subview(e, j), 1.0);
    apply(e, col);
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), col);
    for (int i = 0; i < n; ++i) A[std::size_t(i) * n + j] = h(i);
  }
  return A;
}

// The Hutchinson estimate of ||J||_F^2 and ||J_nc||_F^2 on a tiny field (N = 12) against the
// Frobenius norms of the matrices built column by column from Jv and J_nc v on unit vectors: the
// estimate over K = 400 Rademacher probes is within 4 standard errors, where the standard error
// is the exact one, sqrt(2 (|M|_F^2 - sum_i M_ii^2) / K) for M = A^T A. J_nc, the learned part,
// does not depend on the leak c or the rotation w: two fields that differ only there agree on it.
TEST(RelaxJacreg, HutchinsonMatchesBruteForceFrobenius) {
  const Exec exec;
  TransformerSpec s = small_spec(true, 0.7);
  s.B = 1;
  s.T = 3;
  s.C = 4;
  TransformerField<Mem> f(s);
  TransformerSpec s2 = s;
  s2.c = 2.0;
  s2.skew = -1.3;
  TransformerField<Mem> g(s2);
  const int n = static_cast<int>(f.size());
  const V z = random_vec(n, 40, 1.0);
  V fz("fz", n);
  f.eval(exec, z, fz);
  g.eval(exec, z, fz);
  const auto J = brute_force(n, [&](const V& v, const V& o) { f.jvp(exec, v, o); });
  const auto Jnc = brute_force(n, [&](const V& v, const V& o) { f.nc_jvp(exec, v, o); });
  const auto Jnc2 = brute_force(n, [&](const V& v, const V& o) { g.nc_jvp(exec, v, o); });
  double dj = 0.0;
  for (std::size_t i = 0; i < J.size(); ++i) {
    EXPECT_NEAR(Jnc[i], Jnc2[i], 1e-12) << i;
    dj = std::max(dj, std::abs(J[i] - Jnc[i]));
  }
  EXPECT_GT(dj, 1.0);  // the leak (1 + c = 1.5 on the diagonal) is really removed
  const int K = 400;
  for (const auto* A : {&J, &Jnc}) {
    double frob = 0.0, mf = 0.0, mdiag = 0.0;
    for (double a : *A) frob += a * a;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        double m = 0.0;
        for (int k = 0; k < n; ++k) m += (*A)[k * n + i] * (*A)[k * n + j];
        mf += m * m;
        if (i == j) mdiag += m * m;
      }
    const double se = std::sqrt(2.0 * (mf - mdiag) / K);
    const bool nc = A == &Jnc;
    const HutchinsonEstimate h =
        hutchinson_frobenius<Mem>(exec, n, K, 3, 0, 9, 0, [&](const V& v, const V& o) {
          if (nc)
            f.nc_jvp(exec, v, o);
          else
            f.jvp(exec, v, o);
        });
    std::printf(
        "[ jacreg ] %s: exact ||.||_F^2 %.6f, Hutchinson (K = %d) %.6f +- %.6f (exact se "
        "%.6f)\n",
        nc ? "J_nc" : "J   ", frob, K, h.mean, h.std_error, se);
    EXPECT_NEAR(h.mean, frob, 4.0 * se);
    EXPECT_GT(h.std_error, 0.5 * se);
    EXPECT_LT(h.std_error, 2.0 * se);
  }
}

// A diagonal Jacobian has ||D e||^2 = sum_i d_i^2 for every sign pattern e: one probe is exact,
// and the probes really are +-1 (Gaussian or uniform probes would miss by O(1)).
TEST(RelaxJacreg, DiagonalIsExactWithOneProbe) {
  const Exec exec;
  const int n = 10;
  std::vector<double> A(n * n, 0.0), root(n, 0.0);
  double frob = 0.0;
  for (int i = 0; i < n; ++i) {
    A[i * n + i] = -1.0 - 0.3 * i;
    frob += A[i * n + i] * A[i * n + i];
  }
  LinearField<Mem> f(A, root);
  for (std::uint64_t k = 0; k < 5; ++k) {
    const HutchinsonEstimate h = hutchinson_frobenius<Mem>(
        exec, n, 1, 17, 0, 1, k, [&](const V& v, const V& o) { f.jvp(exec, v, o); });
    EXPECT_NEAR(h.mean, frob, 1e-12 * frob) << k;
  }
}

// dP/dtheta of the penalty P = (1/(K N)) sum_k ||J_nc e_k||^2 at fixed z (central differences in
// z of the parameter VJP) against central differences of P itself over theta, along random
// directions, with the same probes.
TEST(RelaxJacreg, PenaltyGradientMatchesFiniteDifferences) {
  const Exec exec;
  TransformerSpec s = small_spec(true, 0.0);
  s.B = 1;
  s.T = 4;
  TransformerField<Mem> f(s);
  const int n = static_cast<int>(f.size()), np = static_cast<int>(f.params().extent(0));
  const V z = random_vec(n, 41, 1.0);
  V g("g", np), theta0("theta0", np);
  Kokkos::deep_copy(theta0, f.params());
  const int K = 3;
  double se = 0.0;
  const double P = jacreg_penalty(exec, f, z, K, 5, 0, 7, 0, g, &se);
  // P is the Hutchinson estimate of ||J_nc||_F^2 with the same probes, over N.
  const HutchinsonEstimate h = hutchinson_frobenius<Mem>(
      exec, n, K, 5, 0, 7, 0, [&](const V& v, const V& o) { f.nc_jvp(exec, v, o); });
  EXPECT_NEAR(P, h.mean / n, 1e-12 * P);
  EXPECT_NEAR(se, h.std_error / n, 1e-9 * P);
  const double eps = 1e-5;
  for (std::uint32_t k = 0; k < 3; ++k) {
    const V d = random_vec(np, 50 + k, 1.0);
    add_scaled(exec, theta0, eps, d, f.params());
    const double Pp = jacreg_penalty(exec, f, z, K, 5, 0, 7, 0, V());
    add_scaled(exec, theta0, -eps, d, f.params());
    const double Pm = jacreg_penalty(exec, f, z, K, 5, 0, 7, 0, V());
    Kokkos::deep_copy(f.params(), theta0);
    const double fd = (Pp - Pm) / (2 * eps), an = dot(exec, g, d);
    std::printf("[ jacreg ] dP/dtheta . d: analytic-by-VJP %.10f, central differences %.10f\n", an,
                fd);
    EXPECT_NEAR(an, fd, 1e-7 * std::max(std::abs(fd), 1e-3)) << k;
    EXPECT_GT(std::abs(fd), 1e-3);
  }
}

TEST(RelaxJacreg, ControllerMovesTheWeightTowardsTheTarget) {
  JacregOptions o;
  o.adapt = 2.0;
  o.weight_min = 0.1;
  o.weight_max = 4.0;
  EXPECT_EQ(jacreg_controller(1.0, 5.0, o), 1.0);  // no target: fixed weight
  o.target = 3.0;
  EXPECT_EQ(jacreg_controller(1.0, 5.0, o), 2.0);
  EXPECT_EQ(jacreg_controller(1.0, 2.0, o), 0.5);
  EXPECT_EQ(jacreg_controller(3.0, 5.0, o), 4.0);   // clamped above
  EXPECT_EQ(jacreg_controller(0.15, 1.0, o), 0.1);  // and below
  EXPECT_EQ(jacreg_controller(1.0, std::nan(""), o), 1.0);
}

}  // namespace
}  // namespace frost::relax
