// TEN layer: one layer of a Temporal Eigenstate Network around the eigenstate recurrence of
// eigenstate.hpp, forward and backward, for one piece of a sequence:
//
//   beta[b,t] = x[b,t] W_in + b_in                         x: (B, T, D) real, W_in: (D, 2K)
//   c[b,t]    = a c[b,t-1] + beta[b,t],  c[b,-1] = c0[b],  a_k = sigmoid(theta_k) e^{i omega_k}
//   c'[b,t]   = c[b,t] + R c[b,t]                          optional resonance coupling, R: (K, K)
//   y[b,t]    = c'[b,t] W_out + b_out                      W_out: (2K, D), y: (B, T, D) real
//
// Complex K-vectors enter and leave the GEMMs as 2K interleaved reals: column 2k is Re, column
// 2k+1 is Im of mode k (so W_in's columns and W_out's rows come in that order). That is the
// memory layout of Kokkos::complex, so the complex views of beta and c' are the real GEMM
// operands themselves and no packing kernel runs between the GEMMs and the scan.
//
// The magnitude is lambda = sigmoid(theta) so that every mode decays for any theta a training
// step produces; gradients are reported for theta. The coupling is a read-out transform: the state
// carried to the next step and to the next piece is c, not c'. The projections are one GEMM each
// over all B*T rows (the batch folded into the rows); the coupling is one complex GEMM over the
// same rows.
//
// Pieces: the final state cT of one piece is c0 of the next, so a long sequence can be run piece by
// piece in bounded memory. The backward pass takes dL/dcT from the piece after (exact
// backpropagation through all pieces when the pieces are walked last to first) or an empty view
// (the gradient is cut at the piece boundary).
//
// Backward, for a real loss with G_z = dL/dRe z + i dL/dIm z as in eigenstate.hpp, rows r = (b, t):
//   G_c'[r] = dy[r] W_out^T,  dW_out = sum_r c'[r]^T dy[r],  db_out = sum_r dy[r],
//   G_c[r]  = G_c'[r] + G_c'[r] conj(R)          (rows as row vectors; c' = c + c R^T),
//   G_R     = sum_r G_c'[r]^T conj(c[r])          (K x K, the outer product of the adjoint),
//   eigen_backward: G_beta, dc0, dL/dlambda, dL/domega;  dL/dtheta = dL/dlambda lambda (1-lambda),
//   dx[r]   = G_beta[r] W_in^T,  dW_in = sum_r x[r]^T G_beta[r],  db_in = sum_r G_beta[r],
// with G_c', G_beta and c' read as 2K interleaved reals where they meet the real weights.
#pragma once

#include <KokkosBlas3_gemm.hpp>
#include <Kokkos_Complex.hpp>
#include <Kokkos_Core.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "core/policy.hpp"
#include "recurrence/eigenstate.hpp"

namespace frost::recurrence {

/// View types of the TEN layer in memory space `Mem`, scalar `S` (float or double).
template <class S, class Mem>
struct TenViews {
  using complex_type = Kokkos::complex<S>;
  using Seq = Kokkos::View<S***, Kokkos::LayoutRight, Mem>;             ///< (B, T, D)
  using Mat = Kokkos::View<S**, Kokkos::LayoutRight, Mem>;              ///< weights
  using Vec = Kokkos::View<S*, Mem>;                                    ///< biases, theta, omega
  using CMat = Kokkos::View<complex_type**, Kokkos::LayoutRight, Mem>;  ///< (K, K)
  /// 2-D windows on contiguous 3-D data (rows = batch x time), the GEMM operands.
  using Rows = Kokkos::View<S**, Kokkos::LayoutRight, Mem, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  using CRows = Kokkos::View<complex_type**, Kokkos::LayoutRight, Mem,
                             Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
};

/// Parameters of one TEN layer of width D with K complex modes, in memory space `Mem`. The same
/// type holds their gradients. Invariants: w_in (D, 2K), b_in (2K), theta and omega (K),
/// resonance (K, K) or extent 0 when the layer has no coupling, w_out (2K, D), b_out (D).
/// theta is the pre-sigmoid magnitude; omega is in radians per step.
template <class S, class Mem>
struct TenLayerParams {
  using V = TenViews<S, Mem>;
  typename V::Mat w_in;
  typename V::Vec b_in;
  typename V::Vec theta;
  typename V::Vec omega;
  typename V::CMat resonance;
  typename V::Mat w_out;
  typename V::Vec b_out;

  TenLayerParams() = default;
  /// Zero-filled parameters (or gradients) of a layer, initialised on `exec`.
  template <class Exec>
  TenLayerParams(const Exec& exec, int D, int K, bool coupled)
      : w_in(Kokkos::view_alloc(exec, std::string("frost::recurrence::ten_w_in")), D, 2 * K),
        b_in(Kokkos::view_alloc(exec, std::string("frost::recurrence::ten_b_in")), 2 * K),
        theta(Kokkos::view_alloc(exec, std::string("frost::recurrence::ten_theta")), K),
        omega(Kokkos::view_alloc(exec, std::string("frost::recurrence::ten_omega")), K),
        resonance(Kokkos::view_alloc(exec, std::string("frost::recurrence::ten_resonance")),
                  coupled ? K : 0, coupled ? K : 0),
        w_out(Kokkos::view_alloc(exec, std::string("frost::recurrence::ten_w_out")), 2 * K, D),
        b_out(Kokkos::view_alloc(exec, std::string("frost::recurrence::ten_b_out")), D) {}

  int dim() const { return static_cast<int>(w_in.extent(0)); }
  int modes() const { return static_cast<int>(theta.extent(0)); }
  bool coupled() const { return resonance.extent(0) > 0; }
};

/// What the forward pass keeps for the backward pass, and scratch. Reused across calls of the
/// same shape (reallocated when the shape changes), so a training loop allocates once.
/// lambda (K); c and coupled (B, T, K): the states and the coupled states (the same view without
/// coupling). work_a holds beta during the forward pass; work_a and work_b hold G_c', G_c and
/// G_beta during the backward pass.
template <class S, class Mem>
struct TenLayerTape {
  using E = EigenViews<S, Mem>;
  typename E::Param lambda;
  typename E::Seq c, coupled;
  typename E::Seq work_a, work_b;
  typename TenViews<S, Mem>::CMat conj_r;  ///< conj(R), (K, K)
  EigenWorkspace<S, Mem> scan;             ///< the scans' scratch
};

namespace detail {

/// Whether this Kokkos Kernels has the gemm overload that takes an execution space instance.
template <class Exec, class A, class B, class C, class = void>
struct gemm_takes_instance : std::false_type {};
template <class Exec, class A, class B, class C>
struct gemm_takes_instance<
    Exec, A, B, C,
    std::void_t<decltype(KokkosBlas::gemm(
        std::declval<const Exec&>(), "N", "N", std::declval<typename A::const_value_type&>(),
        std::declval<const A&>(), std::declval<const B&>(),
        std::declval<typename C::const_value_type&>(), std::declval<const C&>()))>>
    : std::true_type {};

/// C = alpha op(A) op(B) + beta C on `exec`. Kokkos Kernels releases without the instance
/// overload run gemm on the default instance, so the call is fenced on both sides to keep it
/// ordered with the work queued on `exec`.
template <class Exec, class A, class B, class C>
void ten_gemm(const Exec& exec, const char* trans_a, const char* trans_b,
              typename A::const_value_type& alpha, const A& a, const B& b,
              typename C::const_value_type& beta, const C& c) {
  if constexpr (gemm_takes_instance<Exec, A, B, C>::value) {
    KokkosBlas::gemm(exec, trans_a, trans_b, alpha, a, b, beta, c);
  } else {
    exec.fence();
    KokkosBlas::gemm(trans_a, trans_b, alpha, a, b, beta, c);
    typename C::execution_space().fence();
  }
}

/// The contiguous (B, T, n) data of `v` as (B T, n) rows.
template <class S, class Mem, class View3>
typename TenViews<S, Mem>::Rows rows_of(const View3& v, const char* what) {
  if (!v.span_is_contiguous())
    throw std::invalid_argument(std::string("ten layer: ") + what + " must be contiguous");
  return typename TenViews<S, Mem>::Rows(v.data(), v.extent(0) * v.extent(1), v.extent(2));
}

/// Complex (B, T, K) data as (B T, 2K) interleaved real rows.
template <class S, class Mem>
typename TenViews<S, Mem>::Rows real_rows_of(const typename EigenViews<S, Mem>::Seq& v) {
  return typename TenViews<S, Mem>::Rows(reinterpret_cast<S*>(v.data()), v.extent(0) * v.extent(1),
                                         2 * v.extent(2));
}

template <class S, class Mem>
typename TenViews<S, Mem>::CRows complex_rows_of(const typename EigenViews<S, Mem>::Seq& v) {
  return typename TenViews<S, Mem>::CRows(v.data(), v.extent(0) * v.extent(1), v.extent(2));
}

/// out(r, j) = bias(j) for every row: the bias a following GEMM accumulates onto.
template <class Exec, class S, class Mem>
void broadcast_rows(const Exec& exec, const typename TenViews<S, Mem>::Vec& bias,
                    const typename TenViews<S, Mem>::Rows& out) {
  const int n = static_cast<int>(out.extent(0)), m = static_cast<int>(out.extent(1));
  Kokkos::parallel_for(
      "frost::recurrence::ten_bias_broadcast", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {n, m}),
      KOKKOS_LAMBDA(int r, int j) { out(r, j) = bias(j); });
}

/// out(j) = sum_r in(r, j): partial sums over blocks of rows first, so that the machine is busy
/// when there are few columns, and a fixed summation order (results do not depend on threads).
template <class Exec, class S, class Mem>
void column_sums(const Exec& exec, const typename TenViews<S, Mem>::Rows& in,
                 const typename TenViews<S, Mem>::Vec& out) {
  const int n = static_cast<int>(in.extent(0)), m = static_cast<int>(in.extent(1));
  constexpr int L = 256;
  const int nb = (n + L - 1) / L;
  typename TenViews<S, Mem>::Mat part(
      Kokkos::view_alloc(exec, Kokkos::WithoutInitializing,
                         std::string("frost::recurrence::ten_column_partial")),
      nb, m);
  Kokkos::parallel_for(
      "frost::recurrence::ten_column_partial", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {nb, m}),
      KOKKOS_LAMBDA(int j, int col) {
        const int r0 = j * L, r1 = r0 + L < n ? r0 + L : n;
        S s(0);
        for (int r = r0; r < r1; ++r) s += in(r, col);
        part(j, col) = s;
      });
  Kokkos::parallel_for(
      "frost::recurrence::ten_column_sum", Kokkos::RangePolicy<Exec>(exec, 0, m),
      KOKKOS_LAMBDA(int col) {
        S s(0);
        for (int j = 0; j < nb; ++j) s += part(j, col);
        out(col) = s;
      });
}

/// out = conj(in), elementwise (K x K); `out` may be `in`.
template <class Exec, class S, class Mem>
void conjugate(const Exec& exec, const typename TenViews<S, Mem>::CMat& in,
               const typename TenViews<S, Mem>::CMat& out) {
  const int n = static_cast<int>(in.extent(0)), m = static_cast<int>(in.extent(1));
  Kokkos::parallel_for(
      "frost::recurrence::ten_conjugate", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {n, m}),
      KOKKOS_LAMBDA(int i, int j) { out(i, j) = Kokkos::conj(in(i, j)); });
}

template <class View>
void require_extents(const View& v, std::size_t e0, std::size_t e1, std::size_t e2,
                     const char* what) {
  for (int r = 0; r < static_cast<int>(View::rank); ++r) {
    const std::size_t want = r == 0 ? e0 : r == 1 ? e1 : e2;
    if (v.extent(r) != want)
      throw std::invalid_argument(std::string("ten layer: ") + what + " has extent " +
                                  std::to_string(v.extent(r)) + " in dimension " +
                                  std::to_string(r) + ", expected " + std::to_string(want));
  }
}

template <class S, class Mem>
void check_params(const TenLayerParams<S, Mem>& p, const char* what) {
  const std::size_t D = p.w_in.extent(0), K = p.theta.extent(0);
  const std::string w(what);
  require_extents(p.w_in, D, 2 * K, 0, (w + ".w_in").c_str());
  require_extents(p.b_in, 2 * K, 0, 0, (w + ".b_in").c_str());
  require_extents(p.omega, K, 0, 0, (w + ".omega").c_str());
  if (p.coupled()) require_extents(p.resonance, K, K, 0, (w + ".resonance").c_str());
  require_extents(p.w_out, 2 * K, D, 0, (w + ".w_out").c_str());
  require_extents(p.b_out, D, 0, 0, (w + ".b_out").c_str());
}

/// Allocates `v` as (B, T, K) unless it already has that shape.
template <class Exec, class Seq>
void ensure_seq(const Exec& exec, Seq& v, const char* label, int B, int T, int K) {
  if (v.extent(0) == std::size_t(B) && v.extent(1) == std::size_t(T) &&
      v.extent(2) == std::size_t(K))
    return;
  v = Seq(Kokkos::view_alloc(exec, Kokkos::WithoutInitializing, std::string(label)), B, T, K);
}

}  // namespace detail

/// Forward pass of one piece: y (B, T, D) and the final state cT (B, K) from x (B, T, D) and the
/// initial state c0 (B, K). `plan` chooses the scan (kAuto resolves for this shape and `exec`);
/// `tape` receives what ten_backward needs. x, y must be contiguous; y may not alias x.
template <class Exec, class S, class Mem>
void ten_forward(const Exec& exec, EigenPlan plan, const TenLayerParams<S, Mem>& params,
                 const typename TenViews<S, Mem>::Seq& x,
                 const typename EigenViews<S, Mem>::State& c0,
                 const typename TenViews<S, Mem>::Seq& y,
                 const typename EigenViews<S, Mem>::State& cT, TenLayerTape<S, Mem>& tape) {
  using C = Kokkos::complex<S>;
  const int B = static_cast<int>(x.extent(0)), T = static_cast<int>(x.extent(1));
  const int D = params.dim(), K = params.modes();
  detail::check_params(params, "params");
  detail::require_extents(x, B, T, D, "x");
  detail::require_extents(y, B, T, D, "y");
  detail::require_extents(c0, B, K, 0, "c0");
  detail::require_extents(cT, B, K, 0, "cT");
  if (plan.method == EigenMethod::kAuto || plan.chunk < 1)
    plan = resolve_eigen_plan_on(exec, plan.method, plan.chunk, B, T, K);

  if (tape.lambda.extent(0) != std::size_t(K))
    tape.lambda = typename EigenViews<S, Mem>::Param(
        Kokkos::view_alloc(exec, Kokkos::WithoutInitializing,
                           std::string("frost::recurrence::ten_lambda")),
        K);
  detail::ensure_seq(exec, tape.c, "frost::recurrence::ten_c", B, T, K);
  if (params.coupled()) {
    if (tape.coupled.data() == tape.c.data()) tape.coupled = {};
    detail::ensure_seq(exec, tape.coupled, "frost::recurrence::ten_coupled", B, T, K);
  } else {
    tape.coupled = tape.c;
  }
  // beta is only needed inside the forward pass; the backward scratch holds it meanwhile.
  detail::ensure_seq(exec, tape.work_a, "frost::recurrence::ten_work_a", B, T, K);
  const auto& beta = tape.work_a;

  const auto x_rows = detail::rows_of<S, Mem>(x, "x");
  const auto y_rows = detail::rows_of<S, Mem>(y, "y");

  Kokkos::Profiling::pushRegion("frost::recurrence::ten_input_projection");
  const auto beta_rows = detail::real_rows_of<S, Mem>(beta);
  detail::broadcast_rows<Exec, S, Mem>(exec, params.b_in, beta_rows);
  detail::ten_gemm(exec, "N", "N", S(1), x_rows, params.w_in, S(1), beta_rows);
  Kokkos::Profiling::popRegion();

  Kokkos::Profiling::pushRegion("frost::recurrence::ten_recurrence");
  const auto theta = params.theta;
  const auto lambda = tape.lambda;
  Kokkos::parallel_for(
      "frost::recurrence::ten_lambda", Kokkos::RangePolicy<Exec>(exec, 0, K),
      KOKKOS_LAMBDA(int k) { lambda(k) = S(1) / (S(1) + Kokkos::Experimental::exp(-theta(k))); });
  eigen_forward<Exec, S, Mem>(exec, plan.method, plan.chunk, lambda, params.omega, c0, beta, tape.c,
                              cT, &tape.scan);
  Kokkos::Profiling::popRegion();

  if (params.coupled()) {
    Kokkos::Profiling::pushRegion("frost::recurrence::ten_resonance");
    Kokkos::deep_copy(exec, tape.coupled, tape.c);
    // Rows are states: c'[r] = c[r] + c[r] R^T.
    detail::ten_gemm(exec, "N", "T", C(1), detail::complex_rows_of<S, Mem>(tape.c),
                     params.resonance, C(1), detail::complex_rows_of<S, Mem>(tape.coupled));
    Kokkos::Profiling::popRegion();
  }

  Kokkos::Profiling::pushRegion("frost::recurrence::ten_output_projection");
  detail::broadcast_rows<Exec, S, Mem>(exec, params.b_out, y_rows);
  detail::ten_gemm(exec, "N", "N", S(1), detail::real_rows_of<S, Mem>(tape.coupled), params.w_out,
                   S(1), y_rows);
  Kokkos::Profiling::popRegion();
}

/// Backward pass of one piece, after ten_forward with the same params, x, c0 and tape: from
/// grad_y = dL/dy (B, T, D) and grad_cT = dL/dcT (B, K; extent 0 for none) writes grad_x (B, T,
/// D), grad_c0 (B, K, complex convention of eigenstate.hpp) and every parameter gradient into
/// `grads` (overwritten, not accumulated; shaped like `params`, see TenLayerParams). grad_y and
/// grad_x must be contiguous.
template <class Exec, class S, class Mem>
void ten_backward(const Exec& exec, EigenPlan plan, const TenLayerParams<S, Mem>& params,
                  const typename TenViews<S, Mem>::Seq& x,
                  const typename EigenViews<S, Mem>::State& c0, TenLayerTape<S, Mem>& tape,
                  const typename TenViews<S, Mem>::Seq& grad_y,
                  const typename EigenViews<S, Mem>::State& grad_cT,
                  const typename TenViews<S, Mem>::Seq& grad_x,
                  const typename EigenViews<S, Mem>::State& grad_c0,
                  const TenLayerParams<S, Mem>& grads) {
  using C = Kokkos::complex<S>;
  const int B = static_cast<int>(x.extent(0)), T = static_cast<int>(x.extent(1));
  const int D = params.dim(), K = params.modes();
  detail::check_params(params, "params");
  detail::check_params(grads, "grads");
  if (grads.dim() != D || grads.modes() != K || grads.coupled() != params.coupled())
    throw std::invalid_argument("ten layer: grads must have the shape of params");
  detail::require_extents(x, B, T, D, "x");
  detail::require_extents(grad_y, B, T, D, "grad_y");
  detail::require_extents(grad_x, B, T, D, "grad_x");
  detail::require_extents(c0, B, K, 0, "c0");
  detail::require_extents(grad_c0, B, K, 0, "grad_c0");
  const bool has_grad_cT = grad_cT.extent(0) > 0;
  if (has_grad_cT) detail::require_extents(grad_cT, B, K, 0, "grad_cT");
  detail::require_extents(tape.c, B, T, K, "tape (run ten_forward first)");
  if (plan.method == EigenMethod::kAuto || plan.chunk < 1)
    plan = resolve_eigen_plan_on(exec, plan.method, plan.chunk, B, T, K);

  detail::ensure_seq(exec, tape.work_a, "frost::recurrence::ten_work_a", B, T, K);
  detail::ensure_seq(exec, tape.work_b, "frost::recurrence::ten_work_b", B, T, K);
  const auto x_rows = detail::rows_of<S, Mem>(x, "x");
  const auto gy_rows = detail::rows_of<S, Mem>(grad_y, "grad_y");
  const auto gx_rows = detail::rows_of<S, Mem>(grad_x, "grad_x");

  // G_c' into work_a.
  Kokkos::Profiling::pushRegion("frost::recurrence::ten_output_projection_backward");
  detail::ten_gemm(exec, "N", "T", S(1), gy_rows, params.w_out, S(0),
                   detail::real_rows_of<S, Mem>(tape.work_a));
  detail::ten_gemm(exec, "T", "N", S(1), detail::real_rows_of<S, Mem>(tape.coupled), gy_rows, S(0),
                   grads.w_out);
  detail::column_sums<Exec, S, Mem>(exec, gy_rows, grads.b_out);
  Kokkos::Profiling::popRegion();

  // G_c into work_b with coupling (G_c' is then free for G_beta), else G_c = G_c'.
  auto grad_c = tape.work_a, grad_beta = tape.work_b;
  if (params.coupled()) {
    Kokkos::Profiling::pushRegion("frost::recurrence::ten_resonance_backward");
    const auto gcc = detail::complex_rows_of<S, Mem>(tape.work_a);
    // G_c'^H c = conj(G_R), conjugated in place.
    detail::ten_gemm(exec, "C", "N", C(1), gcc, detail::complex_rows_of<S, Mem>(tape.c), C(0),
                     grads.resonance);
    detail::conjugate<Exec, S, Mem>(exec, grads.resonance, grads.resonance);
    if (tape.conj_r.extent(0) != std::size_t(K))
      tape.conj_r = typename TenViews<S, Mem>::CMat(
          Kokkos::view_alloc(exec, Kokkos::WithoutInitializing,
                             std::string("frost::recurrence::ten_conj_resonance")),
          K, K);
    detail::conjugate<Exec, S, Mem>(exec, params.resonance, tape.conj_r);
    Kokkos::deep_copy(exec, tape.work_b, tape.work_a);
    detail::ten_gemm(exec, "N", "N", C(1), gcc, tape.conj_r, C(1),
                     detail::complex_rows_of<S, Mem>(tape.work_b));
    grad_c = tape.work_b;
    grad_beta = tape.work_a;
    Kokkos::Profiling::popRegion();
  }

  Kokkos::Profiling::pushRegion("frost::recurrence::ten_recurrence_backward");
  if (has_grad_cT && T > 0) {
    const auto gc = grad_c;
    Kokkos::parallel_for(
        "frost::recurrence::ten_grad_final_state",
        core::RowMajorRange<Exec, 2>(exec, {0, 0}, {B, K}),
        KOKKOS_LAMBDA(int b, int k) { gc(b, T - 1, k) += grad_cT(b, k); });
  }
  eigen_backward<Exec, S, Mem>(exec, plan.method, plan.chunk, tape.lambda, params.omega, c0, tape.c,
                               grad_c, grad_beta, grad_c0, grads.theta, grads.omega, &tape.scan);
  if (has_grad_cT && T == 0) Kokkos::deep_copy(exec, grad_c0, grad_cT);
  // dL/dtheta = dL/dlambda sigmoid'(theta).
  const auto lambda = tape.lambda;
  const auto gtheta = grads.theta;
  Kokkos::parallel_for(
      "frost::recurrence::ten_grad_theta", Kokkos::RangePolicy<Exec>(exec, 0, K),
      KOKKOS_LAMBDA(int k) { gtheta(k) *= lambda(k) * (S(1) - lambda(k)); });
  Kokkos::Profiling::popRegion();

  Kokkos::Profiling::pushRegion("frost::recurrence::ten_input_projection_backward");
  const auto gbeta_rows = detail::real_rows_of<S, Mem>(grad_beta);
  detail::ten_gemm(exec, "N", "T", S(1), gbeta_rows, params.w_in, S(0), gx_rows);
  detail::ten_gemm(exec, "T", "N", S(1), x_rows, gbeta_rows, S(0), grads.w_in);
  detail::column_sums<Exec, S, Mem>(exec, gbeta_rows, grads.b_in);
  Kokkos::Profiling::popRegion();
}

}  // namespace frost::recurrence
