// Belos GMRES through frost's host multivector and operator adapters, against a dense LU solve
// (LAPACK dgesv) of the same small nonsymmetric system.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "relax/belos_adapter.hpp"

extern "C" void dgesv_(const int* n, const int* nrhs, double* a, const int* lda, int* ipiv,
                       double* b, const int* ldb, int* info);

namespace frost::relax {
namespace {

TEST(RelaxBelos, GmresMatchesDenseLU) {
  const int n = 40;
  core::RandomStream rs(17, 0, 0);
  std::vector<double> A(n * n), b(n);  // row-major
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) A[i * n + j] = (2.0 * rs.uniform() - 1.0) / std::sqrt(double(n));
    A[i * n + i] += 2.0 + std::sin(i);  // nonsymmetric, well conditioned
    b[i] = 2.0 * rs.uniform() - 1.0;
  }
  HostOperator op([&](const double* x, double* y) {
    for (int i = 0; i < n; ++i) {
      double s = 0.0;
      for (int j = 0; j < n; ++j) s += A[i * n + j] * x[j];
      y[i] = s;
    }
  });
  for (int restart : {50, 7}) {  // without and with restarts
    std::vector<double> x(n, 0.0);
    GmresOptions o;
    o.tol = 1e-12;
    o.max_iters = 500;
    o.restart = restart;
    const GmresResult r = gmres_solve(op, b, x, o);
    EXPECT_TRUE(r.converged) << restart;
    EXPECT_LE(r.achieved_tol, 1e-12);
    // Reference: LU with partial pivoting (LAPACK, column-major).
    std::vector<double> Acm(n * n), xr = b;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) Acm[i + j * n] = A[i * n + j];
    std::vector<int> piv(n);
    int info = 0, one = 1;
    dgesv_(&n, &one, Acm.data(), &n, piv.data(), xr.data(), &n, &info);
    ASSERT_EQ(info, 0);
    double e = 0.0, nr = 0.0;
    for (int i = 0; i < n; ++i) {
      e += (x[i] - xr[i]) * (x[i] - xr[i]);
      nr += xr[i] * xr[i];
    }
    EXPECT_LT(std::sqrt(e / nr), 1e-10) << restart;
  }
}

}  // namespace
}  // namespace frost::relax
