// A linear cross-entropy readout on the equilibrium state: logits l_r = z_r W (W: C x V) at every
// row r = b*T + t of the state, p_r = softmax(l_r), and the loss
//   L(z) = (1/R) sum_r -log p_r[y_r]
// (mean over the R = B*T positions of the cross-entropy against the next token y_r). Gradients:
//   dL/dz_r = (1/R) W (p_r - e_{y_r}),   dL/dW = (1/R) sum_r z_r (p_r - e_{y_r})^T,
// and the Hessian in z, per row, (1/R) W (diag p_r - p_r p_r^T) W^T (symmetric). On complex
// states (CrossEntropyReadout<Mem, Complex>) the same formulas are the holomorphic extension:
// the softmax shifted by the largest real part, the loss reported as the real part of the
// principal log.
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "relax/ep.hpp"
#include "relax/vec_ops.hpp"

namespace frost::relax {

template <class Mem, class Scalar = double>
class CrossEntropyReadout : public Loss<Mem, Scalar> {
 public:
  using Exec = typename Mem::execution_space;
  using V = Vec<Mem, Scalar>;                                  ///< states
  using M = Kokkos::View<Scalar**, Kokkos::LayoutRight, Mem>;  ///< logits, probabilities
  using PV = Vec<Mem>;                                         ///< weights (always real)
  using PM = Kokkos::View<double**, Kokkos::LayoutRight, Mem>;
  using I = Kokkos::View<int*, Mem>;

  /// R rows of width C, vocabulary `vocab`. W starts at zero (see init).
  CrossEntropyReadout(int R, int C, int vocab)
      : R_(R),
        C_(C),
        V_(vocab),
        w_("frost::relax::readout_W", std::size_t(C) * vocab),
        y_("frost::relax::readout_targets", R),
        P_("frost::relax::readout_P", R, vocab),
        S_("frost::relax::readout_S", R, vocab) {}

  /// Uniform draws of std scale / sqrt(C), keyed by (seed, run, chain).
  void init(double scale, std::uint64_t seed, std::uint32_t run, std::uint32_t chain) {
    auto h = Kokkos::create_mirror_view(w_);
    core::RandomStream rs(seed, run, chain);
    const double sd = scale / std::sqrt(double(C_));
    for (std::size_t i = 0; i < h.extent(0); ++i)
      h(i) = sd * std::sqrt(3.0) * (2.0 * rs.uniform() - 1.0);
    Kokkos::deep_copy(w_, h);
  }

  int rows() const { return R_; }
  int width() const { return C_; }
  int vocab() const { return V_; }
  /// W, flat row-major C x V. Writing into it changes the readout.
  const PV& weights() const { return w_; }
  /// The next-token targets y_r (R entries in [0, vocab)).
  const I& targets() const { return y_; }

  /// The holomorphic extension of this readout: weights and targets copied.
  CrossEntropyReadout<Mem, Complex> holomorphic_twin(const Exec& exec) const {
    CrossEntropyReadout<Mem, Complex> t(R_, C_, V_);
    copy_into(exec, t);
    return t;
  }
  /// Copies the weights and targets into `t` (a readout of the same shape).
  template <class S2>
  void copy_into(const Exec& exec, CrossEntropyReadout<Mem, S2>& t) const {
    Kokkos::deep_copy(exec, t.weights(), w_);
    Kokkos::deep_copy(exec, t.targets(), y_);
    exec.fence();
  }

  /// L(z) and (when g is allocated) g = dL/dz; z becomes the linearisation point (p is kept).
  double gradient(const Exec& exec, const V& z, const V& g) override {
    const M Z(z.data(), R_, C_), P = P_;
    const PM W(w_.data(), C_, V_);
    const auto y = y_;
    const int C = C_, NV = V_;
    double loss = 0.0;
    Kokkos::parallel_reduce(
        "frost::relax::readout_softmax", Kokkos::RangePolicy<Exec>(exec, 0, R_),
        KOKKOS_LAMBDA(const int r, double& acc) {
          double mx = -1e300;
          for (int v = 0; v < NV; ++v) {
            Scalar l = 0.0;
            for (int j = 0; j < C; ++j) l += Z(r, j) * W(j, v);
            P(r, v) = l;
            mx = Kokkos::Experimental::fmax(mx, real_part(l));
          }
          Scalar s = 0.0;
          for (int v = 0; v < NV; ++v) {
            P(r, v) = scalar_exp(P(r, v) - mx);
            s += P(r, v);
          }
          for (int v = 0; v < NV; ++v) P(r, v) /= s;
          acc += neg_log(P(r, y(r)));
        },
        loss);
    if (g.data() != nullptr) {
      const M G(g.data(), R_, C_);
      const double inv = 1.0 / R_;
      Kokkos::parallel_for(
          "frost::relax::readout_grad_z",
          Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>(exec, {0, 0}, {R_, C_}),
          KOKKOS_LAMBDA(const int r, const int j) {
            Scalar s = 0.0;
            for (int v = 0; v < NV; ++v) s += W(j, v) * (P(r, v) - (v == y(r) ? 1.0 : 0.0));
            G(r, j) = inv * s;
          });
    }
    return loss / R_;
  }

  /// out = H v at the linearisation point.
  void hvp(const Exec& exec, const V& vin, const V& out) override {
    const M X(vin.data(), R_, C_), O(out.data(), R_, C_), P = P_, S = S_;
    const PM W(w_.data(), C_, V_);
    const int C = C_, NV = V_;
    const double inv = 1.0 / R_;
    Kokkos::parallel_for(
        "frost::relax::readout_hvp_logits", Kokkos::RangePolicy<Exec>(exec, 0, R_),
        KOKKOS_LAMBDA(const int r) {
          Scalar ps = 0.0;
          for (int v = 0; v < NV; ++v) {
            Scalar s = 0.0;
            for (int j = 0; j < C; ++j) s += X(r, j) * W(j, v);
            S(r, v) = s;
            ps += P(r, v) * s;
          }
          for (int v = 0; v < NV; ++v) S(r, v) = P(r, v) * (S(r, v) - ps);
        });
    Kokkos::parallel_for(
        "frost::relax::readout_hvp_back",
        Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>(exec, {0, 0}, {R_, C_}),
        KOKKOS_LAMBDA(const int r, const int j) {
          Scalar s = 0.0;
          for (int v = 0; v < NV; ++v) s += W(j, v) * S(r, v);
          O(r, j) = inv * s;
        });
  }

  /// gW = dL/dW (flat C x V) at z, which must be the linearisation point (real readouts).
  void weight_gradient(const Exec& exec, const V& z, const PV& gw) const {
    const M Z(z.data(), R_, C_), P = P_;
    const PM G(gw.data(), C_, V_);
    const auto y = y_;
    const int rows = R_;
    const double inv = 1.0 / R_;
    Kokkos::parallel_for(
        "frost::relax::readout_grad_w",
        Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>(exec, {0, 0}, {C_, V_}),
        KOKKOS_LAMBDA(const int j, const int v) {
          double s = 0.0;
          for (int r = 0; r < rows; ++r) s += Z(r, j) * (P(r, v) - (v == y(r) ? 1.0 : 0.0));
          G(j, v) = inv * s;
        });
  }

  /// -log p, floored at p = 1e-300 for a real p; the real part of the principal log otherwise.
  static KOKKOS_INLINE_FUNCTION double neg_log(double p) {
    return -Kokkos::Experimental::log(Kokkos::Experimental::fmax(p, 1e-300));
  }
  static KOKKOS_INLINE_FUNCTION double neg_log(const Complex& p) { return -Kokkos::log(p).real(); }

 private:
  int R_, C_, V_;
  PV w_;
  I y_;
  M P_, S_;
};

}  // namespace frost::relax
