// The transformer-block vector field
//   F(z) = -(z - x) + Attn(LN1 z) + FFN(LN2 z) - c z + w S z
// on states z of shape B x T x C (flattened row-major, rows r = b*T + t), with its Jacobian-vector
// and vector-Jacobian products written out by hand.
//  * LN: LayerNorm over C with gain and bias (eps 1e-5).
//  * Attn: H heads of width D = C/H, causal softmax attention; q and k are RMS-normalised per
//    head (q^ = q / sqrt(mean(q^2) + 1e-6)), so logits q^.k^/sqrt(D) stay bounded whatever the
//    weights; output projection Wo. No biases.
//  * FFN: u W1 + b1 -> activation -> W2 + b2, hidden width C * ffn_mult; the activation is GELU
//    (tanh form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))) or tanh.
//  * w S z (skew, default w = 0): S rotates channel pairs (2i, 2i+1) by a quarter turn, an
//    antisymmetric coupling that shifts the spectrum of J by +-iw. It gives decks and tests a
//    rotating mode of known frequency on top of the block's own.
// The state may be complex (TransformerField<Mem, Complex>, parameters still real): every step is
// then the holomorphic extension of the real one (LayerNorm and RMS norm with mean squares, not
// moduli, and the principal square root; softmax shifted by the largest real part, a constant
// that cancels; complex tanh), so F is holomorphic in z, jvp applies the complex-linear J and
// vjp its plain transpose J^T. Holomorphic EP (holomorphic.hpp) nudges it with complex beta.
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "relax/field.hpp"

namespace frost::relax {

/// Shape and scale of a transformer field. Dimensions are counts; scales are dimensionless.
struct TransformerSpec {
  int B = 2, T = 16, C = 32, heads = 4, ffn_mult = 2;
  double c = 1.0;            ///< extra leak: F contains -c z
  double skew = 0.0;         ///< w of the channel-pair rotation w S z
  double init_scale = 1.0;   ///< weight std is init_scale / sqrt(fan_in)
  double input_scale = 1.0;  ///< std of the input x
  bool gelu = true;          ///< GELU (tanh form) or tanh in the FFN
  std::uint64_t seed = 1;
  std::uint32_t run = 0;
};

/// The transformer-block field with parameters drawn from Philox streams (seed, run, one chain per
/// tensor), resident in memory space `Mem`, on states of `Scalar` (double, or Complex for the
/// holomorphic extension). Invariants: C % heads == 0 and C even when skew != 0.
template <class Mem, class Scalar = double>
class TransformerField : public Field<Mem, Scalar> {
 public:
  using Exec = typename Mem::execution_space;
  using V = Vec<Mem, Scalar>;                                   ///< states and activations
  using M = Kokkos::View<Scalar**, Kokkos::LayoutRight, Mem>;   ///< activations, R x width
  using PV = Vec<Mem>;                                          ///< parameters (always real)
  using PM = Kokkos::View<double**, Kokkos::LayoutRight, Mem>;  ///< parameter matrices
  using P4 = Kokkos::View<Scalar****, Kokkos::LayoutRight, Mem>;

  explicit TransformerField(const TransformerSpec& s) : s_(s) {
    if (s.C % s.heads != 0) throw std::invalid_argument("relax: C must be a multiple of heads");
    if (s.skew != 0.0 && s.C % 2 != 0) throw std::invalid_argument("relax: skew needs an even C");
    R_ = s.B * s.T;
    C_ = s.C;
    Hf_ = s.C * s.ffn_mult;
    D_ = s.C / s.heads;
    // All parameters live in one flat array (theta), so they can be perturbed, saved and
    // differentiated as one vector; the named tensors are views into it.
    theta_ = PV("frost::relax::theta", Params::count(C_, Hf_));
    const Params prm = Params::over(theta_.data(), C_, Hf_);
    g1_ = prm.g1;
    b1n_ = prm.b1;
    g2_ = prm.g2;
    b2n_ = prm.b2;
    Wq_ = prm.Wq;
    Wk_ = prm.Wk;
    Wv_ = prm.Wv;
    Wo_ = prm.Wo;
    W1_ = prm.W1;
    W2_ = prm.W2;
    bf1_ = prm.bf1;
    bf2_ = prm.bf2;
    x_ = V("frost::relax::x", size());
    // Uniform draws of std `sd` keyed by (seed, run, chain): the same numbers on every backend.
    std::uint32_t chain = 0;
    auto fill = [&](auto view, double mean, double sd) {
      auto h = Kokkos::create_mirror_view(view);
      core::RandomStream rs(s.seed, s.run, chain++);
      auto* p = h.data();
      for (std::size_t i = 0; i < h.size(); ++i)
        p[i] = mean + sd * std::sqrt(3.0) * (2.0 * rs.uniform() - 1.0);
      Kokkos::deep_copy(view, h);
    };
    fill(g1_, 1.0, 0.1);
    fill(b1n_, 0.0, 0.1);
    fill(g2_, 1.0, 0.1);
    fill(b2n_, 0.0, 0.1);
    const double sc = s.init_scale / std::sqrt(double(C_));
    fill(Wq_, 0.0, sc);
    fill(Wk_, 0.0, sc);
    fill(Wv_, 0.0, sc);
    fill(Wo_, 0.0, sc);
    fill(W1_, 0.0, sc);
    fill(W2_, 0.0, s.init_scale / std::sqrt(double(Hf_)));
    fill(bf1_, 0.0, 0.1);
    fill(bf2_, 0.0, 0.1);
    fill(x_, 0.0, s.input_scale);
    // Activations of the last forward pass (the linearisation point) and work arrays.
    const int H = s.heads;
    for (M* m : {&n1_, &u1_, &q_, &k_, &v_, &o_, &n2_, &u2_, &yA_, &yF_, &t1_, &t2_, &t3_, &t4_,
                 &t5_, &t6_})
      *m = M("frost::relax::act", R_, C_);
    for (M* m : {&h_, &g_, &th_}) *m = M("frost::relax::act_ffn", R_, Hf_);
    s1_ = V("frost::relax::ln1_rstd", R_);
    s2_ = V("frost::relax::ln2_rstd", R_);
    rq_ = M("frost::relax::rq", R_, H);
    rk_ = M("frost::relax::rk", R_, H);
    P_ = P4("frost::relax::P", s.B, H, s.T, s.T);
    delta_ = M("frost::relax::delta", s.B * H, s.T);
  }

  std::size_t size() const override { return std::size_t(R_) * C_; }
  /// All parameters as one flat vector (LN1 gain, bias, LN2 gain, bias, Wq, Wk, Wv, Wo, W1, W2,
  /// b1, b2; matrices row-major). Writing into it changes the field.
  const PV& params() const { return theta_; }

  /// g = (dF/dtheta)^T u at the linearisation point (g laid out like params()). Real fields only.
  void param_vjp(const Exec& exec, const V& u, const PV& g) {
    const M U = as_mat(u);
    const Params G = Params::over(g.data(), C_, Hf_);
    // FFN: yF = act(u2 W1 + b1) W2 + b2, u2 = g2 n2 + b2n.
    outer(exec, g_, U, G.W2);
    col_sum(exec, U, M(), G.bf2);
    matmul(exec, U, W2_, th_, false, true);
    act_scale(exec, th_);
    outer(exec, u2_, th_, G.W1);
    col_sum(exec, th_, M(), G.bf1);
    matmul(exec, th_, W1_, t5_, false, true);
    col_sum(exec, t5_, n2_, G.g2);
    col_sum(exec, t5_, M(), G.b2);
    // Attention: yA = o Wo, o from q^ = rms(u1 Wq), k^ = rms(u1 Wk), v = u1 Wv.
    outer(exec, o_, U, G.Wo);
    matmul(exec, U, Wo_, t1_, false, true);
    attention_vjp(exec, t1_, t2_, t3_, t4_);
    rms_jvp(exec, q_, rq_, t2_);
    rms_jvp(exec, k_, rk_, t3_);
    outer(exec, u1_, t2_, G.Wq);
    outer(exec, u1_, t3_, G.Wk);
    outer(exec, u1_, t4_, G.Wv);
    matmul(exec, t2_, Wq_, t5_, false, true);
    matmul(exec, t3_, Wk_, t5_, true, true);
    matmul(exec, t4_, Wv_, t5_, true, true);
    col_sum(exec, t5_, n1_, G.g1);
    col_sum(exec, t5_, M(), G.b1);
  }
  const TransformerSpec& spec() const { return s_; }
  /// The input x (flat, length N). Writing into its contents changes the input of F and nothing
  /// else (implicit differentiation with respect to x relies on this).
  const V& input() const { return x_; }

  /// A second field with this one's spec, parameters and input (copied, so later writes into
  /// either do not reach the other) and activations of its own: it holds a linearisation point of
  /// its own (AsymEP keeps J at the free equilibrium in one while the solvers move the other's).
  TransformerField twin(const Exec& exec) const {
    TransformerField t(s_);
    Kokkos::deep_copy(exec, t.theta_, theta_);
    Kokkos::deep_copy(exec, t.x_, x_);
    exec.fence();
    return t;
  }

  /// The holomorphic extension of this field: same spec, parameters and input copied (the input
  /// as a complex vector with zero imaginary part), activations of its own.
  TransformerField<Mem, Complex> holomorphic_twin(const Exec& exec) const {
    TransformerField<Mem, Complex> t(s_);
    Kokkos::deep_copy(exec, t.params(), theta_);
    copy_to_complex(exec, x_, t.input());
    exec.fence();
    return t;
  }
  /// out = in + 0i (public because CUDA's device lambdas need it).
  static void copy_to_complex(const Exec& exec, const V& in, const Vec<Mem, Complex>& out) {
    Kokkos::parallel_for(
        "frost::relax::to_complex", Kokkos::RangePolicy<Exec>(exec, 0, in.extent(0)),
        KOKKOS_LAMBDA(const int i) { out(i) = Complex(real_part(in(i)), 0.0); });
  }

  /// out = J_nc v at the linearisation point: the Jacobian of the learned part Attn(LN1 z) +
  /// FFN(LN2 z) alone, i.e. J less the leak -(1 + c) I and the rotation w S. It is what the
  /// Jacobian penalty (jacreg.hpp) acts on: the leak and the rotation do not depend on the
  /// parameters.
  void nc_jvp(const Exec& exec, const V& v, const V& out) {
    jvp(exec, v, out);
    const M Vv = as_mat(v), Out = as_mat(out);
    const double cc = 1.0 + s_.c, w = s_.skew;
    Kokkos::parallel_for(
        "frost::relax::nc_jvp", policy2(exec, R_, C_), KOKKOS_LAMBDA(const int r, const int j) {
          Out(r, j) += cc * Vv(r, j) - w * skew_of(Vv, r, j);
        });
  }

  void eval(const Exec& exec, const V& z, const V& f) override {
    const M Z = as_mat(z);
    layer_norm(exec, Z, g1_, b1n_, n1_, s1_, u1_);
    matmul(exec, u1_, Wq_, q_, false);
    matmul(exec, u1_, Wk_, k_, false);
    matmul(exec, u1_, Wv_, v_, false);
    rms_heads(exec, q_, rq_);
    rms_heads(exec, k_, rk_);
    attention(exec);
    matmul(exec, o_, Wo_, yA_, false);
    layer_norm(exec, Z, g2_, b2n_, n2_, s2_, u2_);
    matmul(exec, u2_, W1_, h_, false);
    add_bias(exec, h_, bf1_);
    activation(exec);
    matmul(exec, g_, W2_, yF_, false);
    add_bias(exec, yF_, bf2_);
    const auto x = as_mat(x_), F = as_mat(f), yA = yA_, yF = yF_;
    const double cc = 1.0 + s_.c, w = s_.skew;
    Kokkos::parallel_for(
        "frost::relax::field_combine", policy2(exec, R_, C_),
        KOKKOS_LAMBDA(const int r, const int j) {
          F(r, j) = x(r, j) - cc * Z(r, j) + yA(r, j) + yF(r, j) + w * skew_of(Z, r, j);
        });
  }

  void jvp(const Exec& exec, const V& v, const V& out) override {
    const M Vv = as_mat(v), Out = as_mat(out);
    // Attention branch: du1 -> (dq^, dk^, dv) -> do -> dyA.
    const M du1 = t1_, dq = t2_, dk = t3_, dv = t4_, dO = t5_, dy = t6_;
    ln_jvp(exec, Vv, n1_, s1_, g1_, du1);
    matmul(exec, du1, Wq_, dq, false);
    matmul(exec, du1, Wk_, dk, false);
    matmul(exec, du1, Wv_, dv, false);
    rms_jvp(exec, q_, rq_, dq);
    rms_jvp(exec, k_, rk_, dk);
    attention_jvp(exec, dq, dk, dv, dO);
    matmul(exec, dO, Wo_, dy, false);
    // FFN branch: du2 -> dh -> dg -> dyF (accumulated into dy).
    const M du2 = t1_;
    ln_jvp(exec, Vv, n2_, s2_, g2_, du2);
    matmul(exec, du2, W1_, th_, false);
    act_scale(exec, th_);
    matmul(exec, th_, W2_, dy, true);
    const double cc = 1.0 + s_.c, w = s_.skew;
    Kokkos::parallel_for(
        "frost::relax::jvp_combine", policy2(exec, R_, C_),
        KOKKOS_LAMBDA(const int r, const int j) {
          Out(r, j) = -cc * Vv(r, j) + dy(r, j) + w * skew_of(Vv, r, j);
        });
  }

  void vjp(const Exec& exec, const V& wv, const V& out) override {
    const M W = as_mat(wv), Out = as_mat(out);
    const double cc = 1.0 + s_.c, w = s_.skew;
    // S is antisymmetric, so S^T w = -S w.
    Kokkos::parallel_for(
        "frost::relax::vjp_init", policy2(exec, R_, C_), KOKKOS_LAMBDA(const int r, const int j) {
          Out(r, j) = -cc * W(r, j) - w * skew_of(W, r, j);
        });
    // Attention branch.
    const M go = t1_, gq = t2_, gk = t3_, gv = t4_, gu = t5_;
    matmul(exec, W, Wo_, go, false, true);
    attention_vjp(exec, go, gq, gk, gv);
    rms_jvp(exec, q_, rq_, gq);  // the RMS-norm Jacobian is symmetric
    rms_jvp(exec, k_, rk_, gk);
    matmul(exec, gq, Wq_, gu, false, true);
    matmul(exec, gk, Wk_, gu, true, true);
    matmul(exec, gv, Wv_, gu, true, true);
    ln_vjp(exec, gu, n1_, s1_, g1_, Out);
    // FFN branch.
    matmul(exec, W, W2_, th_, false, true);
    act_scale(exec, th_);
    matmul(exec, th_, W1_, gu, false, true);
    ln_vjp(exec, gu, n2_, s2_, g2_, Out);
  }

  // Implementation steps below are public because CUDA's device lambdas need it.
  template <class Mat>
  static KOKKOS_INLINE_FUNCTION Scalar skew_of(const Mat& Z, int r, int j) {
    // (S z)_{2i} = z_{2i+1}, (S z)_{2i+1} = -z_{2i}.
    return (j & 1) ? -Z(r, j - 1) : Z(r, j + 1);
  }
  static Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>> policy2(const Exec& exec, int a, int b) {
    return Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>(exec, {0, 0}, {a, b});
  }
  M as_mat(const V& v) const { return M(v.data(), R_, C_); }

  /// The parameter tensors as views into one flat array of count(C, Hf) doubles.
  struct Params {
    PV g1, b1, g2, b2, bf1, bf2;
    PM Wq, Wk, Wv, Wo, W1, W2;
    static std::size_t count(int C, int Hf) {
      return 4 * std::size_t(C) + 4 * std::size_t(C) * C + 2 * std::size_t(C) * Hf + Hf + C;
    }
    static Params over(double* base, int C, int Hf) {
      Params p;
      auto vec = [&](int n) {
        PV v(base, n);
        base += n;
        return v;
      };
      auto mat = [&](int r, int c) {
        PM m(base, r, c);
        base += std::size_t(r) * c;
        return m;
      };
      p.g1 = vec(C);
      p.b1 = vec(C);
      p.g2 = vec(C);
      p.b2 = vec(C);
      p.Wq = mat(C, C);
      p.Wk = mat(C, C);
      p.Wv = mat(C, C);
      p.Wo = mat(C, C);
      p.W1 = mat(C, Hf);
      p.W2 = mat(Hf, C);
      p.bf1 = vec(Hf);
      p.bf2 = vec(C);
      return p;
    }
  };

  /// G = X^T Y (X: R x K, Y: R x N, G: K x N), summed over rows (real fields).
  void outer(const Exec& exec, const M& X, const M& Y, const PM& G) const {
    const int rows = R_;
    Kokkos::parallel_for(
        "frost::relax::param_outer", policy2(exec, G.extent(0), G.extent(1)),
        KOKKOS_LAMBDA(const int k, const int j) {
          double s = 0.0;
          for (int r = 0; r < rows; ++r) s += X(r, k) * Y(r, j);
          G(k, j) = s;
        });
  }

  /// g(j) = sum_r Y(r, j) (times W(r, j) when W is allocated; real fields).
  void col_sum(const Exec& exec, const M& Y, const M& W, const PV& g) const {
    const int rows = R_;
    const bool weighted = W.data() != nullptr;
    Kokkos::parallel_for(
        "frost::relax::param_col_sum", Kokkos::RangePolicy<Exec>(exec, 0, g.extent(0)),
        KOKKOS_LAMBDA(const int j) {
          double s = 0.0;
          for (int r = 0; r < rows; ++r) s += Y(r, j) * (weighted ? W(r, j) : 1.0);
          g(j) = s;
        });
  }

  /// Y (+)= X W (X: R x K, W: K x N) or, with `trans`, Y (+)= X W^T (X: R x N, W: K x N, Y: R x K).
  void matmul(const Exec& exec, const M& X, const PM& W, const M& Y, bool accumulate,
              bool trans = false) const {
    const int rows = static_cast<int>(Y.extent(0)), cols = static_cast<int>(Y.extent(1));
    const int inner = static_cast<int>(X.extent(1));
    const double keep = accumulate ? 1.0 : 0.0;
    if (!trans)
      Kokkos::parallel_for(
          "frost::relax::matmul", policy2(exec, rows, cols),
          KOKKOS_LAMBDA(const int r, const int j) {
            Scalar s = 0.0;
            for (int k = 0; k < inner; ++k) s += X(r, k) * W(k, j);
            Y(r, j) = keep * Y(r, j) + s;
          });
    else
      Kokkos::parallel_for(
          "frost::relax::matmul_t", policy2(exec, rows, cols),
          KOKKOS_LAMBDA(const int r, const int j) {
            Scalar s = 0.0;
            for (int k = 0; k < inner; ++k) s += X(r, k) * W(j, k);
            Y(r, j) = keep * Y(r, j) + s;
          });
  }

  void add_bias(const Exec& exec, const M& Y, const PV& b) const {
    Kokkos::parallel_for(
        "frost::relax::add_bias", policy2(exec, Y.extent(0), Y.extent(1)),
        KOKKOS_LAMBDA(const int r, const int j) { Y(r, j) += b(j); });
  }

  /// n = (z - mean) * rstd, u = gain n + bias, per row.
  void layer_norm(const Exec& exec, const M& Z, const PV& gain, const PV& bias, const M& n,
                  const V& rstd, const M& u) const {
    const int C = C_;
    Kokkos::parallel_for(
        "frost::relax::layer_norm", Kokkos::RangePolicy<Exec>(exec, 0, R_),
        KOKKOS_LAMBDA(const int r) {
          Scalar mu = 0.0;
          for (int j = 0; j < C; ++j) mu += Z(r, j);
          mu /= double(C);
          Scalar var = 0.0;
          for (int j = 0; j < C; ++j) var += (Z(r, j) - mu) * (Z(r, j) - mu);
          const Scalar s = 1.0 / scalar_sqrt(var / double(C) + 1e-5);
          rstd(r) = s;
          for (int j = 0; j < C; ++j) {
            n(r, j) = (Z(r, j) - mu) * s;
            u(r, j) = gain(j) * n(r, j) + bias(j);
          }
        });
  }

  /// du = gain * rstd (v - mean v - n mean(n (v - mean v))).
  void ln_jvp(const Exec& exec, const M& Vv, const M& n, const V& rstd, const PV& gain,
              const M& du) const {
    const int C = C_;
    Kokkos::parallel_for(
        "frost::relax::ln_jvp", Kokkos::RangePolicy<Exec>(exec, 0, R_), KOKKOS_LAMBDA(const int r) {
          Scalar mv = 0.0, mnv = 0.0;
          for (int j = 0; j < C; ++j) {
            mv += Vv(r, j);
            mnv += n(r, j) * Vv(r, j);
          }
          mv /= double(C);
          mnv /= double(C);  // mean(n) = 0, so mean(n (v - mean v)) = mean(n v)
          for (int j = 0; j < C; ++j)
            du(r, j) = gain(j) * rstd(r) * (Vv(r, j) - mv - n(r, j) * mnv);
        });
  }

  /// out += rstd (gn - mean gn - n mean(n gn)), gn = gain * gu.
  void ln_vjp(const Exec& exec, const M& gu, const M& n, const V& rstd, const PV& gain,
              const M& out) const {
    const int C = C_;
    Kokkos::parallel_for(
        "frost::relax::ln_vjp", Kokkos::RangePolicy<Exec>(exec, 0, R_), KOKKOS_LAMBDA(const int r) {
          Scalar mg = 0.0, mng = 0.0;
          for (int j = 0; j < C; ++j) {
            const Scalar gn = gain(j) * gu(r, j);
            mg += gn;
            mng += n(r, j) * gn;
          }
          mg /= double(C);
          mng /= double(C);
          for (int j = 0; j < C; ++j)
            out(r, j) += rstd(r) * (gain(j) * gu(r, j) - mg - n(r, j) * mng);
        });
  }

  /// In place per (row, head): a -> a / sqrt(mean(a^2) + 1e-6); the factor goes to `rs`.
  void rms_heads(const Exec& exec, const M& A, const M& rs) const {
    const int D = D_;
    Kokkos::parallel_for(
        "frost::relax::rms_heads", policy2(exec, R_, s_.heads),
        KOKKOS_LAMBDA(const int r, const int h) {
          Scalar m = 0.0;
          for (int d = 0; d < D; ++d) m += A(r, h * D + d) * A(r, h * D + d);
          const Scalar s = 1.0 / scalar_sqrt(m / double(D) + 1e-6);
          rs(r, h) = s;
          for (int d = 0; d < D; ++d) A(r, h * D + d) *= s;
        });
  }

  /// In place: da -> rs (da - a^ mean(a^ da)), the (symmetric) Jacobian of the RMS norm.
  void rms_jvp(const Exec& exec, const M& Ahat, const M& rs, const M& dA) const {
    const int D = D_;
    Kokkos::parallel_for(
        "frost::relax::rms_jvp", policy2(exec, R_, s_.heads),
        KOKKOS_LAMBDA(const int r, const int h) {
          Scalar m = 0.0;
          for (int d = 0; d < D; ++d) m += Ahat(r, h * D + d) * dA(r, h * D + d);
          m /= double(D);
          for (int d = 0; d < D; ++d)
            dA(r, h * D + d) = rs(r, h) * (dA(r, h * D + d) - Ahat(r, h * D + d) * m);
        });
  }

  /// P = causal softmax(q^ k^T / sqrt(D)) per (batch, head); o = P v.
  void attention(const Exec& exec) const {
    const int T = s_.T, H = s_.heads, D = D_;
    const double scale = 1.0 / std::sqrt(double(D));
    const auto q = q_, k = k_, v = v_, o = o_;
    const auto P = P_;
    Kokkos::parallel_for(
        "frost::relax::attention", Kokkos::RangePolicy<Exec>(exec, 0, s_.B * H * T),
        KOKKOS_LAMBDA(const int idx) {
          const int t = idx % T, h = (idx / T) % H, b = idx / (T * H);
          const int rt = b * T + t;
          // Shift by the largest real part: any constant cancels in the softmax.
          double mx = -1e300;
          for (int s = 0; s <= t; ++s) {
            Scalar l = 0.0;
            for (int d = 0; d < D; ++d) l += q(rt, h * D + d) * k(b * T + s, h * D + d);
            P(b, h, t, s) = l * scale;
            mx = Kokkos::Experimental::fmax(mx, real_part(l * scale));
          }
          Scalar z = 0.0;
          for (int s = 0; s <= t; ++s) {
            P(b, h, t, s) = scalar_exp(P(b, h, t, s) - mx);
            z += P(b, h, t, s);
          }
          for (int d = 0; d < D; ++d) o(rt, h * D + d) = 0.0;
          for (int s = 0; s <= t; ++s) {
            P(b, h, t, s) /= z;
            for (int d = 0; d < D; ++d) o(rt, h * D + d) += P(b, h, t, s) * v(b * T + s, h * D + d);
          }
          for (int s = t + 1; s < T; ++s) P(b, h, t, s) = 0.0;
        });
  }

  /// do_t = sum_s dp_ts v_s + p_ts dv_s with dp = p (dl - sum p dl), dl = (dq^.k^ + q^.dk^)/sqrt D.
  void attention_jvp(const Exec& exec, const M& dq, const M& dk, const M& dv, const M& dO) const {
    const int T = s_.T, H = s_.heads, D = D_;
    const double scale = 1.0 / std::sqrt(double(D));
    const auto q = q_, k = k_, v = v_;
    const auto P = P_;
    Kokkos::parallel_for(
        "frost::relax::attention_jvp", Kokkos::RangePolicy<Exec>(exec, 0, s_.B * H * T),
        KOKKOS_LAMBDA(const int idx) {
          const int t = idx % T, h = (idx / T) % H, b = idx / (T * H);
          const int rt = b * T + t;
          Scalar mean_dl = 0.0;
          for (int s = 0; s <= t; ++s) {
            const int rs = b * T + s;
            Scalar dl = 0.0;
            for (int d = 0; d < D; ++d)
              dl += dq(rt, h * D + d) * k(rs, h * D + d) + q(rt, h * D + d) * dk(rs, h * D + d);
            mean_dl += P(b, h, t, s) * dl * scale;
          }
          for (int d = 0; d < D; ++d) dO(rt, h * D + d) = 0.0;
          for (int s = 0; s <= t; ++s) {
            const int rs = b * T + s;
            Scalar dl = 0.0;
            for (int d = 0; d < D; ++d)
              dl += dq(rt, h * D + d) * k(rs, h * D + d) + q(rt, h * D + d) * dk(rs, h * D + d);
            const Scalar p = P(b, h, t, s);
            const Scalar dp = p * (dl * scale - mean_dl);
            for (int d = 0; d < D; ++d)
              dO(rt, h * D + d) += dp * v(rs, h * D + d) + p * dv(rs, h * D + d);
          }
        });
  }

  /// Adjoint of the attention: from go (gradient of o) to gq^, gk^, gv. Two passes: rows t
  /// (gq^ and delta_t = sum_s p_ts gp_ts), then columns s (gk^ and gv gather over t >= s), so no
  /// two threads write the same element.
  void attention_vjp(const Exec& exec, const M& go, const M& gq, const M& gk, const M& gv) const {
    const int T = s_.T, H = s_.heads, D = D_;
    const double scale = 1.0 / std::sqrt(double(D));
    const auto q = q_, k = k_, v = v_;
    const auto P = P_;
    const auto delta = delta_;
    Kokkos::parallel_for(
        "frost::relax::attention_vjp_rows", Kokkos::RangePolicy<Exec>(exec, 0, s_.B * H * T),
        KOKKOS_LAMBDA(const int idx) {
          const int t = idx % T, h = (idx / T) % H, b = idx / (T * H);
          const int rt = b * T + t;
          Scalar dl = 0.0;
          for (int s = 0; s <= t; ++s) {
            Scalar gp = 0.0;
            for (int d = 0; d < D; ++d) gp += go(rt, h * D + d) * v(b * T + s, h * D + d);
            dl += P(b, h, t, s) * gp;
          }
          delta(b * H + h, t) = dl;
          for (int d = 0; d < D; ++d) gq(rt, h * D + d) = 0.0;
          for (int s = 0; s <= t; ++s) {
            const int rs = b * T + s;
            Scalar gp = 0.0;
            for (int d = 0; d < D; ++d) gp += go(rt, h * D + d) * v(rs, h * D + d);
            const Scalar gl = P(b, h, t, s) * (gp - dl) * scale;
            for (int d = 0; d < D; ++d) gq(rt, h * D + d) += gl * k(rs, h * D + d);
          }
        });
    Kokkos::parallel_for(
        "frost::relax::attention_vjp_cols", Kokkos::RangePolicy<Exec>(exec, 0, s_.B * H * T),
        KOKKOS_LAMBDA(const int idx) {
          const int s = idx % T, h = (idx / T) % H, b = idx / (T * H);
          const int rs = b * T + s;
          for (int d = 0; d < D; ++d) {
            gk(rs, h * D + d) = 0.0;
            gv(rs, h * D + d) = 0.0;
          }
          for (int t = s; t < T; ++t) {
            const int rt = b * T + t;
            Scalar gp = 0.0;
            for (int d = 0; d < D; ++d) gp += go(rt, h * D + d) * v(rs, h * D + d);
            const Scalar p = P(b, h, t, s);
            const Scalar gl = p * (gp - delta(b * H + h, t)) * scale;
            for (int d = 0; d < D; ++d) {
              gk(rs, h * D + d) += gl * q(rt, h * D + d);
              gv(rs, h * D + d) += p * go(rt, h * D + d);
            }
          }
        });
  }

  /// g = act(h).
  void activation(const Exec& exec) const {
    const auto h = h_, g = g_;
    const bool gelu = s_.gelu;
    const double k = kGeluK;  // a copy: complex operators take it by reference, off the device
    Kokkos::parallel_for(
        "frost::relax::ffn_activation", policy2(exec, R_, Hf_),
        KOKKOS_LAMBDA(const int r, const int j) {
          const Scalar x = h(r, j);
          g(r, j) = gelu ? Scalar(0.5 * x * (1.0 + scalar_tanh(k * (x + 0.044715 * x * x * x))))
                         : scalar_tanh(x);
        });
  }

  /// In place: t -> act'(h) t.
  void act_scale(const Exec& exec, const M& t) const {
    const auto h = h_;
    const bool gelu = s_.gelu;
    const double k = kGeluK;
    Kokkos::parallel_for(
        "frost::relax::ffn_act_scale", policy2(exec, R_, Hf_),
        KOKKOS_LAMBDA(const int r, const int j) {
          const Scalar x = h(r, j);
          Scalar d;
          if (gelu) {
            const Scalar th = scalar_tanh(k * (x + 0.044715 * x * x * x));
            d = 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * k * (1.0 + 3.0 * 0.044715 * x * x);
          } else {
            const Scalar th = scalar_tanh(x);
            d = 1.0 - th * th;
          }
          t(r, j) *= d;
        });
  }

  static constexpr double kGeluK = 0.7978845608028654;  // sqrt(2/pi)

  TransformerSpec s_;
  int R_, C_, Hf_, D_;
  PV theta_;
  PV g1_, b1n_, g2_, b2n_, bf1_, bf2_;
  V x_, s1_, s2_;
  PM Wq_, Wk_, Wv_, Wo_, W1_, W2_;
  M n1_, u1_, q_, k_, v_, o_, n2_, u2_, yA_, yF_, h_, g_, th_, rq_, rk_, delta_;
  M t1_, t2_, t3_, t4_, t5_, t6_;
  P4 P_;
};

}  // namespace frost::relax
