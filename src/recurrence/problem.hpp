// Host-side problems of the recurrence module: random inputs drawn from Philox streams, the
// double-precision sequential loops every method is checked against (forward and backward),
// and the copies to and from device views.
#pragma once

#include <Kokkos_Complex.hpp>
#include <Kokkos_Core.hpp>
#include <complex>
#include <cstdint>
#include <vector>

#include "recurrence/dense.hpp"
#include "recurrence/eigenstate.hpp"

namespace frost::recurrence {

using cplx = std::complex<double>;

/// An eigenstate problem in double precision on the host. beta is (B, T, K) row-major, c0 is
/// (B, K), lambda and omega are (K).
struct EigenProblem {
  int B = 0, T = 0, K = 0;
  std::vector<double> lambda, omega;
  std::vector<cplx> c0, beta;
};

/// Draws an eigenstate problem: lambda uniform in [lambda_min, lambda_max], omega uniform in
/// [0, pi), real and imaginary parts of beta and c0 uniform in [-1, 1). Stream (seed, run,
/// chain 0) for the parameters, chain 1 for c0 and chain 2 for beta, so changing T keeps
/// lambda, omega and c0.
EigenProblem make_eigen_problem(int B, int T, int K, double lambda_min, double lambda_max,
                                std::uint64_t seed, std::uint32_t run);

/// Upstream gradients for backward checks: uniform in [-1, 1) (stream chain 3).
std::vector<cplx> make_eigen_upstream(int B, int T, int K, std::uint64_t seed, std::uint32_t run);

/// The sequential loop: c (B, T, K) and cT (B, K).
void eigen_reference_forward(const EigenProblem& p, std::vector<cplx>& c, std::vector<cplx>& cT);

/// Gradients of L = sum Re(conj(g) c) (so dL/dc = g in the complex convention of
/// eigenstate.hpp) by differentiating the sequential loop step by step in reverse order.
void eigen_reference_backward(const EigenProblem& p, const std::vector<cplx>& c,
                              const std::vector<cplx>& g, std::vector<cplx>& grad_beta,
                              std::vector<cplx>& grad_c0, std::vector<double>& grad_lambda,
                              std::vector<double>& grad_omega);

/// A dense problem in double precision on the host: A (B, T, n, n), b (B, T, n), h0 (B, n).
struct DenseProblem {
  int B = 0, T = 0, n = 0;
  std::vector<double> A, b, h0;
};

/// Draws a dense problem: entries of A_t uniform in [-1, 1) scaled by rho / (2 sqrt(n / 3)), so
/// that the spectral norm of A_t is close to rho for large n (Bai-Yin: iid entries of variance
/// s^2 give a largest singular value near 2 s sqrt(n)); entries of b and h0 uniform in [-1, 1).
/// Chains 4 (A), 5 (b) and 6 (h0) of stream (seed, run).
DenseProblem make_dense_problem(int B, int T, int n, double rho, std::uint64_t seed,
                                std::uint32_t run);

/// Upstream gradients uniform in [-1, 1) (chain 7).
std::vector<double> make_dense_upstream(int B, int T, int n, std::uint64_t seed, std::uint32_t run);

/// The sequential loop: h (B, T, n) and hT (B, n).
void dense_reference_forward(const DenseProblem& p, std::vector<double>& h,
                             std::vector<double>& hT);

/// Gradients of L = sum g . h by the reverse-order loop: grad_A, grad_b, grad_h0.
void dense_reference_backward(const DenseProblem& p, const std::vector<double>& h,
                              const std::vector<double>& g, std::vector<double>& grad_A,
                              std::vector<double>& grad_b, std::vector<double>& grad_h0);

/// max_i |x_i - r_i| / max_i |r_i| (normwise in the max norm, so entries near zero do not blow
/// it up); 0 when both are zero.
double max_rel_error(const std::vector<double>& x, const std::vector<double>& ref);
double max_rel_error(const std::vector<cplx>& x, const std::vector<cplx>& ref);

/// Copies a host vector into a device view of scalar S (converting precision); sizes must match.
template <class View, class T>
void upload(const View& v, const std::vector<T>& host) {
  auto mirror = Kokkos::create_mirror_view(v);
  using S = typename View::non_const_value_type;
  auto* dst = mirror.data();
  for (std::size_t i = 0; i < host.size(); ++i) {
    if constexpr (std::is_same_v<T, cplx>)
      dst[i] = S(host[i].real(), host[i].imag());
    else
      dst[i] = S(host[i]);
  }
  Kokkos::deep_copy(v, mirror);
}

/// Copies a device view back into a host vector in double precision.
template <class View>
std::vector<double> download_real(const View& v) {
  auto mirror = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<double>(mirror.data(), mirror.data() + mirror.size());
}
template <class View>
std::vector<cplx> download_complex(const View& v) {
  auto mirror = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  std::vector<cplx> out(mirror.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = cplx(mirror.data()[i].real(), mirror.data()[i].imag());
  return out;
}

}  // namespace frost::recurrence
