// Spectral diagnostics of a relaxation field at a point: Ritz values of J = dF/dz from a few
// Arnoldi steps (matrix-free, Jv only), and the explicit-Euler stability limit they imply.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/rng.hpp"
#include "relax/field.hpp"
#include "relax/vec_ops.hpp"

extern "C" void dgeev_(const char* jobvl, const char* jobvr, const int* n, double* a,
                       const int* lda, double* wr, double* wi, double* vl, const int* ldvl,
                       double* vr, const int* ldvr, double* work, const int* lwork, int* info);

namespace frost::relax {

/// Ritz values mu = a + ib of J (ordered by |mu|, largest first) and what they say about explicit
/// Euler: eps_crit = min over a < 0 of -2a / (a^2 + b^2) (the largest stable step, |1 + eps mu| < 1
/// for every Ritz value; +inf when no Ritz value has a < 0), and the largest real part (>= 0 means
/// no explicit step size is stable and the continuous flow itself is not contracting there).
struct Spectrum {
  std::vector<std::complex<double>> ritz;
  /// ||J y - mu y|| / |mu|max for each Ritz pair (unit y): the Arnoldi residual estimate
  /// h_{m+1,m} |e_m^T s| scaled by the largest |mu|. Only Ritz values with residual <= tol enter
  /// eps_crit and max_real.
  std::vector<double> residual;
  int converged = 0;
  double eps_crit = std::numeric_limits<double>::infinity();
  double max_real = -std::numeric_limits<double>::infinity();
  /// The Ritz value that sets eps_crit (NaN when none).
  std::complex<double> critical{std::numeric_limits<double>::quiet_NaN(), 0.0};
};

/// eps_crit and max Re of a list of eigenvalues (see Spectrum).
inline void euler_limits(Spectrum& s, double tol) {
  s.converged = 0;
  for (std::size_t i = 0; i < s.ritz.size(); ++i) {
    if (!(s.residual.empty() || s.residual[i] <= tol)) continue;
    ++s.converged;
    const auto& mu = s.ritz[i];
    s.max_real = std::max(s.max_real, mu.real());
    if (mu.real() < 0.0) {
      const double e = -2.0 * mu.real() / std::norm(mu);
      if (e < s.eps_crit) {
        s.eps_crit = e;
        s.critical = mu;
      }
    }
  }
}

/// `steps` Arnoldi steps on J at the field's linearisation point (call field.eval at the point
/// first), from a Philox-drawn start vector keyed by (seed, run). Classical Gram-Schmidt twice.
/// Ritz values whose relative residual exceeds `tol` are listed but do not set eps_crit: a few
/// steps resolve the outlying (stiff) eigenvalues first, interior ones later.
template <class Mem>
Spectrum arnoldi(const typename Mem::execution_space& exec, Field<Mem>& field, int steps,
                 std::uint64_t seed, std::uint32_t run, double tol = 1e-3) {
  using V = Vec<Mem>;
  const int n = static_cast<int>(field.size());
  const int k = std::max(1, std::min(steps, n));
  std::vector<V> Q;
  Q.emplace_back("frost::relax::arnoldi_q", n);
  {
    auto h = Kokkos::create_mirror_view(Q[0]);
    core::RandomStream rs(seed, run, 0xa7u);
    for (int i = 0; i < n; ++i) h(i) = 2.0 * rs.uniform() - 1.0;
    Kokkos::deep_copy(Q[0], h);
    axpby(exec, 0.0, Q[0], 1.0 / norm2(exec, Q[0]), Q[0]);
  }
  std::vector<double> H(static_cast<std::size_t>(k + 1) * k, 0.0);  // column-major (k+1) x k
  int m = k;
  for (int j = 0; j < k; ++j) {
    V w("frost::relax::arnoldi_w", n);
    field.jvp(exec, Q[j], w);
    for (int pass = 0; pass < 2; ++pass)
      for (int i = 0; i <= j; ++i) {
        const double h = dot(exec, w, Q[i]);
        H[i + j * (k + 1)] += h;
        axpby(exec, -h, Q[i], 1.0, w);
      }
    const double nw = norm2(exec, w);
    H[j + 1 + j * (k + 1)] = nw;
    if (nw < 1e-12 * std::abs(H[j + j * (k + 1)]) + 1e-300) {  // invariant subspace found
      m = j + 1;
      break;
    }
    axpby(exec, 0.0, w, 1.0 / nw, w);
    Q.push_back(w);
  }
  std::vector<double> A(static_cast<std::size_t>(m) * m);
  for (int j = 0; j < m; ++j)
    for (int i = 0; i < m; ++i) A[i + j * m] = H[i + j * (k + 1)];
  std::vector<double> wr(m), wi(m), vr(static_cast<std::size_t>(m) * m), work(8 * m + 8);
  int info = 0, one = 1, lwork = static_cast<int>(work.size());
  dgeev_("N", "V", &m, A.data(), &m, wr.data(), wi.data(), nullptr, &one, vr.data(), &m,
         work.data(), &lwork, &info);
  Spectrum s;
  if (info != 0) return s;
  const double beta = m < k ? 0.0 : H[k + (k - 1) * (k + 1)];  // h_{m+1,m}; 0 when invariant
  std::vector<std::pair<std::complex<double>, double>> pairs;
  double big = 0.0;
  for (int i = 0; i < m; ++i) big = std::max(big, std::hypot(wr[i], wi[i]));
  for (int i = 0; i < m; ++i) {
    // dgeev stores a complex pair's vector as columns i (real) and i+1 (imaginary), unit norm.
    double last = std::abs(vr[(m - 1) + i * m]);
    if (wi[i] != 0.0) {
      const int re = wi[i] > 0.0 ? i : i - 1;
      last = std::hypot(vr[(m - 1) + re * m], vr[(m - 1) + (re + 1) * m]);
    }
    pairs.emplace_back(std::complex<double>(wr[i], wi[i]), beta * last / std::max(big, 1e-300));
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return std::abs(a.first) > std::abs(b.first); });
  for (const auto& [mu, r] : pairs) {
    s.ritz.push_back(mu);
    s.residual.push_back(r);
  }
  euler_limits(s, tol);
  return s;
}

}  // namespace frost::relax
