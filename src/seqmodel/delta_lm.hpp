// A byte-level DeltaNet language model, forward and backward:
//
//   h_0[r]  = E[tok[r]]
//   h_{l+1} = h_l + Delta_l(RMSNorm(h_l; g_l))                        l = 0 .. L-1
//   logits  = RMSNorm(h_L; g_f) W_head + b_head,  loss = mean softmax cross-entropy
//
// Delta_l(u): p = u W_in + b_in splits per row into H heads of queries, keys and values of width
// d and H gate logits; per head q^ = q/|q|, k^ = k/|k| (|x| = sqrt(x.x + qk_eps)), beta =
// sigmoid(z); the delta rule S_t = S_{t-1}(I - beta k^ k^T) + beta v k^T, o_t = S_t q^_t
// (recurrence/delta.hpp) from a zero state at each window's start; the heads' outputs, side by
// side, times W_out. The recurrence runs by any of the delta methods; all give the same states.
//
// Rows r = b T + t (window-major). The per-head arrays of the recurrence are head-major (G = B H
// sequences, g = b H + head); small gather and scatter kernels move between the two layouts.
// Parameters live in one flat vector with named blocks (param_layout.hpp), as in ten_lm.hpp.
#pragma once

#include <Kokkos_Core.hpp>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "recurrence/delta.hpp"
#include "seqmodel/optim.hpp"
#include "seqmodel/param_layout.hpp"
#include "seqmodel/ten_lm.hpp"

namespace frost::seqmodel {

/// Sizes of the model: width D, L layers of H heads of width d.
struct DeltaLmShape {
  int D = 64, L = 2, H = 4, d = 16;
  double norm_eps = 1e-5;
  double qk_eps = 1e-6;  ///< added to |q|^2 and |k|^2 before the square root
  int proj() const { return 3 * H * d + H; }
};

struct DeltaLmLayout {
  std::vector<ParamBlock> blocks;
  std::size_t embed = 0, final_norm = 0, head_w = 0, head_b = 0, total = 0;
  struct Layer {
    std::size_t norm = 0, w_in = 0, b_in = 0, w_out = 0;
  };
  std::vector<Layer> layers;
};

inline DeltaLmLayout make_delta_layout(const DeltaLmShape& s) {
  DeltaLmLayout lay;
  ParamLayoutBuilder b;
  const std::size_t D = s.D, P = s.proj(), Hd = std::size_t(s.H) * s.d;
  lay.embed = b.add("embed", kVocab * D, true);
  for (int l = 0; l < s.L; ++l) {
    const std::string p = "layer" + std::to_string(l) + ".";
    DeltaLmLayout::Layer ly;
    ly.norm = b.add(p + "norm", D, false);
    ly.w_in = b.add(p + "w_in", D * P, true);
    ly.b_in = b.add(p + "b_in", P, false);
    ly.w_out = b.add(p + "w_out", Hd * D, true);
    lay.layers.push_back(ly);
  }
  lay.final_norm = b.add("final_norm", D, false);
  lay.head_w = b.add("head_w", D * kVocab, true);
  lay.head_b = b.add("head_b", kVocab, false);
  lay.blocks = b.blocks();
  lay.total = b.end();
  return lay;
}

/// Initial parameters (host, double): embedding uniform with std embed_std, gains 1, W_in
/// uniform with std 1/sqrt(D), W_out with std 0.5/sqrt(H d), the head with 0.1/sqrt(D), biases 0
/// (gates start at 1/2). Block i draws from (seed, run, kInitChain + i).
inline std::vector<double> initial_delta_params(const DeltaLmShape& s, const DeltaLmLayout& lay,
                                                double embed_std, std::uint64_t seed,
                                                std::uint32_t run) {
  std::vector<double> x(lay.total, 0.0);
  const double r3 = std::sqrt(3.0);
  for (std::size_t i = 0; i < lay.blocks.size(); ++i) {
    const ParamBlock& b = lay.blocks[i];
    core::RandomStream rs(seed, run, kInitChain + static_cast<std::uint32_t>(i));
    auto uniform_std = [&](double sd) {
      for (std::size_t k = 0; k < b.size; ++k)
        x[b.offset + k] = sd * r3 * (2.0 * rs.uniform() - 1.0);
    };
    const std::string& n = b.name;
    auto ends_with = [&](const std::string& t) {
      return n.size() >= t.size() && n.compare(n.size() - t.size(), t.size(), t) == 0;
    };
    if (n == "embed")
      uniform_std(embed_std);
    else if (ends_with("norm"))
      for (std::size_t k = 0; k < b.size; ++k) x[b.offset + k] = 1.0;
    else if (ends_with("w_in"))
      uniform_std(1.0 / std::sqrt(double(s.D)));
    else if (ends_with("w_out"))
      uniform_std(0.5 / std::sqrt(double(s.H) * s.d));
    else if (n == "head_w")
      uniform_std(0.1 / std::sqrt(double(s.D)));
  }
  return x;
}

/// The model's parameters (or gradients) as views into the flat vector.
template <class S, class Mem>
struct DeltaLmTensors {
  using V = LmViews<S, Mem>;
  typename V::Mat embed;
  std::vector<typename V::Flat> norm, b_in;
  std::vector<typename V::Mat> w_in, w_out;
  typename V::Flat final_norm;
  typename V::Mat head_w;
  typename V::Flat head_b;

  DeltaLmTensors() = default;
  DeltaLmTensors(const typename V::Flat& flat, const DeltaLmShape& s, const DeltaLmLayout& lay) {
    if (flat.extent(0) != lay.total)
      throw std::invalid_argument("delta lm: flat parameter vector has the wrong length");
    S* base = flat.data();
    embed = typename V::Mat(base + lay.embed, kVocab, s.D);
    for (const auto& ly : lay.layers) {
      norm.push_back(typename V::Flat(base + ly.norm, s.D));
      w_in.push_back(typename V::Mat(base + ly.w_in, s.D, s.proj()));
      b_in.push_back(typename V::Flat(base + ly.b_in, s.proj()));
      w_out.push_back(typename V::Mat(base + ly.w_out, s.H * s.d, s.D));
    }
    final_norm = typename V::Flat(base + lay.final_norm, s.D);
    head_w = typename V::Mat(base + lay.head_w, s.D, kVocab);
    head_b = typename V::Flat(base + lay.head_b, kVocab);
  }
};

/// Activations, tapes and scratch of one batch shape (B windows of T steps). The members that
/// load_batch fills have the names and meaning of TenLmWork's (one piece per window).
template <class S, class Mem>
struct DeltaLmWork {
  using V = LmViews<S, Mem>;
  using DV = recurrence::DeltaViews<S, Mem>;
  int B = 0, T = 0, R = 0, D = 0, L = 0, H = 0, d = 0, G = 0, W = 0;
  typename V::Ints tokens, targets, by_token, offsets;
  std::vector<typename V::Flat> h, u, rinv;
  typename V::Flat z, logits, row_loss, dh, du, scratch;
  // Per layer: projections (R, W), head outputs side by side (R, H d), and the recurrence inputs.
  std::vector<typename V::Flat> proj, out;
  std::vector<typename DV::Vecs> q, k, v;     ///< (G, T, d), normalised q and k
  std::vector<typename DV::Scalars> beta;     ///< (G, T)
  std::vector<typename DV::Scalars> qn, kn;   ///< (G, T) norms of q and k
  std::vector<typename DV::States> states;    ///< (G, T, d, d)
  typename DV::Vecs bv, oh, doh, dq, dk, dv;  ///< scratch (G, T, d)
  typename DV::Scalars dbeta;
  typename DV::States adjoint;
  typename V::Flat dout, dproj;  ///< (R, H d), (R, W)
  recurrence::DeltaWorkspace<S, Mem> ws;
  std::vector<int> host_tokens, host_targets;

  DeltaLmWork() = default;
  template <class Exec>
  DeltaLmWork(const Exec& exec, const DeltaLmShape& s, int B_, int T_)
      : B(B_), T(T_), R(B_ * T_), D(s.D), L(s.L), H(s.H), d(s.d), G(B_ * s.H), W(s.proj()) {
    auto flat = [&](const char* label, std::size_t n) {
      return typename V::Flat(Kokkos::view_alloc(exec, std::string(label)), n);
    };
    auto ints = [&](const char* label, std::size_t n) {
      return typename V::Ints(Kokkos::view_alloc(exec, std::string(label)), n);
    };
    auto vecs = [&](const char* label) {
      return typename DV::Vecs(Kokkos::view_alloc(exec, std::string(label)), G, T, d);
    };
    auto scalars = [&](const char* label) {
      return typename DV::Scalars(Kokkos::view_alloc(exec, std::string(label)), G, T);
    };
    auto mats = [&](const char* label) {
      return typename DV::States(Kokkos::view_alloc(exec, std::string(label)), G, T, d, d);
    };
    tokens = ints("frost::seqmodel::tokens", R);
    targets = ints("frost::seqmodel::targets", R);
    by_token = ints("frost::seqmodel::rows_by_token", R);
    offsets = ints("frost::seqmodel::token_offsets", kVocab + 1);
    const std::size_t RD = std::size_t(R) * D;
    for (int l = 0; l <= L; ++l) {
      h.push_back(flat("frost::seqmodel::residual", RD));
      rinv.push_back(flat("frost::seqmodel::rms_inverse", R));
      if (l == L) break;
      u.push_back(flat("frost::seqmodel::normed", RD));
      proj.push_back(flat("frost::seqmodel::delta_projections", std::size_t(R) * W));
      out.push_back(flat("frost::seqmodel::delta_outputs", std::size_t(R) * H * d));
      q.push_back(vecs("frost::seqmodel::delta_q"));
      k.push_back(vecs("frost::seqmodel::delta_k"));
      v.push_back(vecs("frost::seqmodel::delta_v"));
      beta.push_back(scalars("frost::seqmodel::delta_beta"));
      qn.push_back(scalars("frost::seqmodel::delta_q_norm"));
      kn.push_back(scalars("frost::seqmodel::delta_k_norm"));
      states.push_back(mats("frost::seqmodel::delta_states"));
    }
    z = flat("frost::seqmodel::final_normed", RD);
    logits = flat("frost::seqmodel::logits", std::size_t(R) * kVocab);
    row_loss = flat("frost::seqmodel::row_loss", R);
    dh = flat("frost::seqmodel::grad_residual", RD);
    du = flat("frost::seqmodel::grad_normed", RD);
    scratch = flat("frost::seqmodel::norm_scratch", RD);
    bv = vecs("frost::seqmodel::delta_beta_v");
    oh = vecs("frost::seqmodel::delta_head_out");
    doh = vecs("frost::seqmodel::delta_grad_head_out");
    dq = vecs("frost::seqmodel::delta_grad_q");
    dk = vecs("frost::seqmodel::delta_grad_k");
    dv = vecs("frost::seqmodel::delta_grad_v");
    dbeta = scalars("frost::seqmodel::delta_grad_beta");
    adjoint = mats("frost::seqmodel::delta_adjoint");
    dout = flat("frost::seqmodel::delta_grad_outputs", std::size_t(R) * H * d);
    dproj = flat("frost::seqmodel::delta_grad_projections", std::size_t(R) * W);
    host_tokens.resize(R);
    host_targets.resize(R);
  }

  /// Row of window b, step t.
  int row(int b, int t) const { return b * T + t; }
};

namespace detail {

/// Splits the projections of every (row, head) into the recurrence inputs: normalised q and k,
/// v, the gate beta = sigmoid(z) and beta v.
template <class Exec, class S, class Mem>
void delta_prepare(const Exec& exec, const DeltaLmShape& s, const DeltaLmWork<S, Mem>& w, int l) {
  const int T = w.T, H = w.H, d = w.d, W = w.W, Hd = H * d;
  const S eps = S(s.qk_eps);
  const auto p = w.proj[l];
  const auto q = w.q[l], k = w.k[l], v = w.v[l], bv = w.bv;
  const auto beta = w.beta[l], qn = w.qn[l], kn = w.kn[l];
  Kokkos::parallel_for(
      "frost::seqmodel::delta_prepare", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {w.R, H}),
      KOKKOS_LAMBDA(int r, int hh) {
        const int b = r / T, t = r % T, g = b * H + hh;
        const std::size_t o = std::size_t(r) * W;
        S sq(0), sk(0);
        for (int i = 0; i < d; ++i) {
          const S qi = p(o + hh * d + i), ki = p(o + Hd + hh * d + i);
          sq += qi * qi;
          sk += ki * ki;
        }
        const S nq = Kokkos::Experimental::sqrt(sq + eps),
                nk = Kokkos::Experimental::sqrt(sk + eps);
        const S bt = S(1) / (S(1) + Kokkos::Experimental::exp(-p(o + 3 * Hd + hh)));
        qn(g, t) = nq;
        kn(g, t) = nk;
        beta(g, t) = bt;
        for (int i = 0; i < d; ++i) {
          q(g, t, i) = p(o + hh * d + i) / nq;
          k(g, t, i) = p(o + Hd + hh * d + i) / nk;
          const S vi = p(o + 2 * Hd + hh * d + i);
          v(g, t, i) = vi;
          bv(g, t, i) = bt * vi;
        }
      });
}

/// Head-major (G, T, d) <-> rows (R, H d): `to_rows` scatters heads into rows, else gathers.
template <class Exec, class S, class Mem>
void delta_heads_rows(const Exec& exec, const typename recurrence::DeltaViews<S, Mem>::Vecs& heads,
                      const typename LmViews<S, Mem>::Flat& rows, int T, int H, bool to_rows) {
  const int G = static_cast<int>(heads.extent(0)), d = static_cast<int>(heads.extent(2));
  Kokkos::parallel_for(
      "frost::seqmodel::delta_heads_rows", core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {G, T, d}),
      KOKKOS_LAMBDA(int g, int t, int i) {
        const int b = g / H, hh = g % H;
        const std::size_t at = (std::size_t(b) * T + t) * H * d + std::size_t(hh) * d + i;
        if (to_rows)
          rows(at) = heads(g, t, i);
        else
          heads(g, t, i) = rows(at);
      });
}

/// Backward of delta_prepare: from dq^, dk^, dv and dbeta to the projections' gradient.
template <class Exec, class S, class Mem>
void delta_prepare_backward(const Exec& exec, const DeltaLmWork<S, Mem>& w, int l) {
  const int T = w.T, H = w.H, d = w.d, W = w.W, Hd = H * d;
  const auto dp = w.dproj;
  const auto q = w.q[l], k = w.k[l], dq = w.dq, dk = w.dk, dv = w.dv;
  const auto beta = w.beta[l], qn = w.qn[l], kn = w.kn[l], dbeta = w.dbeta;
  Kokkos::parallel_for(
      "frost::seqmodel::delta_prepare_backward",
      core::RowMajorRange<Exec, 2>(exec, {0, 0}, {w.R, H}), KOKKOS_LAMBDA(int r, int hh) {
        const int b = r / T, t = r % T, g = b * H + hh;
        const std::size_t o = std::size_t(r) * W;
        S pq(0), pk(0);
        for (int i = 0; i < d; ++i) {
          pq += q(g, t, i) * dq(g, t, i);
          pk += k(g, t, i) * dk(g, t, i);
        }
        const S iq = S(1) / qn(g, t), ik = S(1) / kn(g, t);
        for (int i = 0; i < d; ++i) {
          dp(o + hh * d + i) = (dq(g, t, i) - q(g, t, i) * pq) * iq;
          dp(o + Hd + hh * d + i) = (dk(g, t, i) - k(g, t, i) * pk) * ik;
          dp(o + 2 * Hd + hh * d + i) = dv(g, t, i);
        }
        const S bt = beta(g, t);
        dp(o + 3 * Hd + hh) = dbeta(g, t) * bt * (S(1) - bt);
      });
}

}  // namespace detail

/// Forward pass of a loaded batch; returns the mean next-byte cross-entropy (nats). With `grad`,
/// w.logits then holds dL/dlogits for delta_lm_backward. `timer` (optional) adds the seconds of
/// the recurrence calls (fenced).
template <class Exec, class S, class Mem>
double delta_lm_forward(const Exec& exec, const DeltaLmShape& s, recurrence::DeltaPlan plan,
                        const DeltaLmTensors<S, Mem>& prm, DeltaLmWork<S, Mem>& w, bool grad,
                        TenTimer* timer = nullptr) {
  const int R = w.R, D = s.D, Hd = s.H * s.d;
  Kokkos::Profiling::pushRegion("frost::seqmodel::forward");
  detail::embed_rows<Exec, S, Mem>(exec, prm.embed, w.tokens, w.h[0], R, D);
  for (int l = 0; l < s.L; ++l) {
    detail::rms_norm<Exec, S, Mem>(exec, w.h[l], prm.norm[l], s.norm_eps, w.rinv[l], w.u[l], R, D);
    const auto proj_rows = detail::rows<S, Mem>(w.proj[l], R, w.W);
    recurrence::detail::broadcast_rows<Exec, S, Mem>(exec, prm.b_in[l], proj_rows);
    recurrence::detail::ten_gemm(exec, "N", "N", S(1), detail::rows<S, Mem>(w.u[l], R, D),
                                 detail::rows<S, Mem>(prm.w_in[l]), S(1), proj_rows);
    detail::delta_prepare<Exec, S, Mem>(exec, s, w, l);
    if (timer) exec.fence();
    const auto t0 = std::chrono::steady_clock::now();
    recurrence::delta_states<Exec, S, Mem>(exec, plan, false, w.k[l], w.beta[l], w.k[l], w.bv,
                                           w.states[l], w.ws);
    if (timer) {
      exec.fence();
      timer->seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    recurrence::delta_readout<Exec, S, Mem>(exec, w.states[l], w.q[l], w.oh);
    detail::delta_heads_rows<Exec, S, Mem>(exec, w.oh, w.out[l], w.T, w.H, true);
    Kokkos::deep_copy(exec, w.h[l + 1], w.h[l]);
    recurrence::detail::ten_gemm(exec, "N", "N", S(1), detail::rows<S, Mem>(w.out[l], R, Hd),
                                 detail::rows<S, Mem>(prm.w_out[l]), S(1),
                                 detail::rows<S, Mem>(w.h[l + 1], R, D));
  }
  const double loss = detail::head_loss<Exec, S, Mem>(exec, s.norm_eps, prm.final_norm, prm.head_w,
                                                      prm.head_b, w.h[s.L], w.rinv[s.L], w.z,
                                                      w.logits, w.targets, w.row_loss, grad, R, D);
  Kokkos::Profiling::popRegion();
  return loss;
}

/// Backward pass after delta_lm_forward(..., grad = true): writes every parameter gradient into
/// `grads_flat` (overwritten).
template <class Exec, class S, class Mem>
void delta_lm_backward(const Exec& exec, const DeltaLmShape& s, const DeltaLmLayout& lay,
                       recurrence::DeltaPlan plan, const DeltaLmTensors<S, Mem>& prm,
                       const typename LmViews<S, Mem>::Flat& grads_flat, DeltaLmWork<S, Mem>& w,
                       TenTimer* timer = nullptr) {
  const int R = w.R, D = s.D, Hd = s.H * s.d;
  const DeltaLmTensors<S, Mem> g(grads_flat, s, lay);
  Kokkos::Profiling::pushRegion("frost::seqmodel::backward");
  detail::head_backward<Exec, S, Mem>(exec, prm.final_norm, prm.head_w, w.h[s.L], w.rinv[s.L], w.z,
                                      w.logits, g.final_norm, g.head_w, g.head_b, w.du, w.dh,
                                      w.scratch, R, D);
  for (int l = s.L - 1; l >= 0; --l) {
    const auto dh_rows = detail::rows<S, Mem>(w.dh, R, D);
    const auto dout_rows = detail::rows<S, Mem>(w.dout, R, Hd);
    recurrence::detail::ten_gemm(exec, "T", "N", S(1), detail::rows<S, Mem>(w.out[l], R, Hd),
                                 dh_rows, S(0), detail::rows<S, Mem>(g.w_out[l]));
    recurrence::detail::ten_gemm(exec, "N", "T", S(1), dh_rows, detail::rows<S, Mem>(prm.w_out[l]),
                                 S(0), dout_rows);
    detail::delta_heads_rows<Exec, S, Mem>(exec, w.doh, w.dout, w.T, w.H, false);
    if (timer) exec.fence();
    const auto t0 = std::chrono::steady_clock::now();
    recurrence::delta_states<Exec, S, Mem>(exec, plan, true, w.k[l], w.beta[l], w.q[l], w.doh,
                                           w.adjoint, w.ws);
    if (timer) {
      exec.fence();
      timer->seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    recurrence::delta_input_gradients<Exec, S, Mem>(exec, w.states[l], w.adjoint, w.k[l], w.beta[l],
                                                    w.v[l], w.doh, w.dq, w.dk, w.dbeta, w.dv);
    detail::delta_prepare_backward<Exec, S, Mem>(exec, w, l);
    const auto dp_rows = detail::rows<S, Mem>(w.dproj, R, w.W);
    recurrence::detail::ten_gemm(exec, "T", "N", S(1), detail::rows<S, Mem>(w.u[l], R, D), dp_rows,
                                 S(0), detail::rows<S, Mem>(g.w_in[l]));
    recurrence::detail::column_sums<Exec, S, Mem>(exec, dp_rows, g.b_in[l]);
    recurrence::detail::ten_gemm(exec, "N", "T", S(1), dp_rows, detail::rows<S, Mem>(prm.w_in[l]),
                                 S(0), detail::rows<S, Mem>(w.du, R, D));
    detail::rms_norm_backward<Exec, S, Mem>(exec, w.h[l], prm.norm[l], w.rinv[l], w.du, w.dh, true,
                                            g.norm[l], w.scratch, R, D);
  }
  detail::embed_backward<Exec, S, Mem>(exec, w.dh, w.by_token, w.offsets, g.embed, D);
  Kokkos::Profiling::popRegion();
}

}  // namespace frost::seqmodel
