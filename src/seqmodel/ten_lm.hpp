// A byte-level Temporal Eigenstate Network language model, forward and backward:
//
//   h_0[r]     = E[tok[r]]                                    E: (V, D), V = 256
//   h_{l+1}    = h_l + TEN_l(RMSNorm(h_l; g_l))              l = 0 .. L-1
//   (recurrence/ten_layer.hpp) z          = RMSNorm(h_L; g_f) logits[r]  = z[r] W_head + b_head
//   W_head: (D, V) loss       = mean_r [logsumexp(logits[r]) - logits[r, target[r]]]      (nats per
//   byte)
//
// with RMSNorm(x; g)_j = g_j x_j / sqrt(mean_i x_i^2 + eps). Each window of T bytes is run in
// pieces of `chunk` steps (the seed's chunked processing): the eigenstates leaving one piece enter
// the next, starting from zero at the window's start. The backward pass walks the pieces last to
// first; with Bptt::kSequence the gradient flows through the carried state (the exact gradient of
// the window's loss), with Bptt::kChunk it is cut at piece boundaries (the carried state is a
// constant, as `detach` in the seed's reference code).
//
// Rows: a batch of B windows is stored piece-major, row r = (p B + b) chunk + t for piece p, window
// b and step t of the piece, so that every piece is one contiguous (B, chunk, D) block, which is
// what the TEN layer's GEMMs take. Row-wise steps (embedding, norms, head, loss) do not care about
// the order.
//
// Parameters live in one flat vector (TenLmLayout gives each block's offset); TenLmTensors are
// views into it, so the optimiser, gradient clipping and checkpoints see one vector.
#pragma once

#include <Kokkos_Complex.hpp>
#include <Kokkos_Core.hpp>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/policy.hpp"
#include "recurrence/eigenstate.hpp"
#include "recurrence/ten_layer.hpp"
#include "seqmodel/param_layout.hpp"

namespace frost::seqmodel {

/// Vocabulary of a byte-level model.
inline constexpr int kVocab = 256;

/// Sizes of the model: width D, L layers of K complex modes, optional resonance coupling.
struct TenLmShape {
  int D = 64, L = 2, K = 32;
  bool coupled = true;
  double norm_eps = 1e-5;
};

/// How far gradients flow back through the state carried between pieces.
enum class Bptt { kSequence, kChunk };

/// Offsets of every parameter block, as ParamLayoutBuilder lays them out.
struct TenLmLayout {
  std::vector<ParamBlock> blocks;
  std::size_t embed = 0, final_norm = 0, head_w = 0, head_b = 0, total = 0;
  struct Layer {
    std::size_t begin = 0, end = 0;  ///< the layer's blocks, norm included
    std::size_t ten_begin = 0;       ///< first block of the TEN layer proper (after the norm)
    std::size_t norm = 0, w_in = 0, b_in = 0, theta = 0, omega = 0, resonance = 0, w_out = 0,
                b_out = 0;
  };
  std::vector<Layer> layers;
};

inline TenLmLayout make_layout(const TenLmShape& s) {
  TenLmLayout lay;
  ParamLayoutBuilder b;
  const std::size_t D = s.D, K = s.K, V = kVocab;
  lay.embed = b.add("embed", V * D, true);
  for (int l = 0; l < s.L; ++l) {
    const std::string p = "layer" + std::to_string(l) + ".";
    TenLmLayout::Layer ly;
    ly.begin = b.end();
    ly.norm = b.add(p + "norm", D, false);
    ly.ten_begin = b.end();
    ly.w_in = b.add(p + "w_in", D * 2 * K, true);
    ly.b_in = b.add(p + "b_in", 2 * K, false);
    ly.theta = b.add(p + "theta", K, false);
    ly.omega = b.add(p + "omega", K, false);
    ly.resonance = s.coupled ? b.add(p + "resonance", 2 * K * K, true) : b.end();
    ly.w_out = b.add(p + "w_out", 2 * K * D, true);
    ly.b_out = b.add(p + "b_out", D, false);
    ly.end = b.end();
    lay.layers.push_back(ly);
  }
  lay.final_norm = b.add("final_norm", D, false);
  lay.head_w = b.add("head_w", D * V, true);
  lay.head_b = b.add("head_b", V, false);
  lay.blocks = b.blocks();
  lay.total = b.end();
  return lay;
}

/// View types of the model in memory space `Mem`, scalar `S`.
template <class S, class Mem>
struct LmViews {
  using Flat = Kokkos::View<S*, Mem>;
  using Mat = Kokkos::View<S**, Kokkos::LayoutRight, Mem>;
  using Ints = Kokkos::View<int*, Mem>;
  using Seq = typename recurrence::TenViews<S, Mem>::Seq;
  using Rows = typename recurrence::TenViews<S, Mem>::Rows;
  using State = typename recurrence::EigenViews<S, Mem>::State;
};

/// The model's parameters (or gradients) as views into one flat vector laid out by TenLmLayout.
template <class S, class Mem>
struct TenLmTensors {
  using V = LmViews<S, Mem>;
  typename V::Mat embed;  ///< (V, D)
  std::vector<typename V::Flat> norm;
  std::vector<recurrence::TenLayerParams<S, Mem>> ten;
  typename V::Flat final_norm;
  typename V::Mat head_w;  ///< (D, V)
  typename V::Flat head_b;

  TenLmTensors() = default;
  TenLmTensors(const typename V::Flat& flat, const TenLmShape& s, const TenLmLayout& lay) {
    if (flat.extent(0) != lay.total)
      throw std::invalid_argument("ten lm: flat parameter vector has the wrong length");
    S* base = flat.data();
    using TV = recurrence::TenViews<S, Mem>;
    const int D = s.D, K = s.K;
    embed = typename V::Mat(base + lay.embed, kVocab, D);
    for (const auto& ly : lay.layers) {
      norm.push_back(typename V::Flat(base + ly.norm, D));
      recurrence::TenLayerParams<S, Mem> p;
      p.w_in = typename TV::Mat(base + ly.w_in, D, 2 * K);
      p.b_in = typename TV::Vec(base + ly.b_in, 2 * K);
      p.theta = typename TV::Vec(base + ly.theta, K);
      p.omega = typename TV::Vec(base + ly.omega, K);
      if (s.coupled)
        p.resonance =
            typename TV::CMat(reinterpret_cast<Kokkos::complex<S>*>(base + ly.resonance), K, K);
      p.w_out = typename TV::Mat(base + ly.w_out, 2 * K, D);
      p.b_out = typename TV::Vec(base + ly.b_out, D);
      ten.push_back(p);
    }
    final_norm = typename V::Flat(base + lay.final_norm, D);
    head_w = typename V::Mat(base + lay.head_w, D, kVocab);
    head_b = typename V::Flat(base + lay.head_b, kVocab);
  }
};

/// Activations and scratch of one batch shape (B windows of T steps in pieces of `chunk`), reused
/// across steps. Allocated once per shape; `tapes` holds what each (layer, piece) TEN call keeps
/// for its backward pass.
template <class S, class Mem>
struct TenLmWork {
  using V = LmViews<S, Mem>;
  int B = 0, T = 0, chunk = 0, P = 0, R = 0, D = 0, K = 0, L = 0;
  typename V::Ints tokens, targets;    ///< (R), piece-major rows
  typename V::Ints by_token, offsets;  ///< rows sorted by token; offsets (V + 1) into them
  std::vector<typename V::Flat> h;     ///< L + 1 residual streams (R D)
  std::vector<typename V::Flat> u;     ///< L normed layer inputs (R D)
  std::vector<typename V::Flat> rinv;  ///< L + 1 inverse RMS per row (the last: final norm)
  typename V::Flat z, logits, row_loss, dh, du, scratch;
  Kokkos::View<Kokkos::complex<S>*, Mem> states;  ///< (L, P + 1, B, K): state entering piece p
  typename V::State gc_a, gc_b;                   ///< adjoint of the carried state, ping-pong
  std::vector<recurrence::TenLayerTape<S, Mem>> tapes;  ///< L P
  std::vector<int> host_tokens, host_targets;

  /// Steps per piece of a window of T steps asked to run in pieces of `chunk` (0, or chunk >= T:
  /// the whole window).
  static int piece_length(int T, int chunk) { return chunk > 0 && chunk < T ? chunk : T; }

  TenLmWork() = default;
  template <class Exec>
  TenLmWork(const Exec& exec, const TenLmShape& s, int B_, int T_, int chunk_)
      : B(B_), T(T_), chunk(piece_length(T_, chunk_)), D(s.D), K(s.K), L(s.L) {
    if (T % chunk != 0)
      throw std::invalid_argument("ten lm: the window T must be a multiple of chunk");
    P = T / chunk;
    R = B * T;
    auto flat = [&](const char* label, std::size_t n) {
      return typename V::Flat(Kokkos::view_alloc(exec, std::string(label)), n);
    };
    auto ints = [&](const char* label, std::size_t n) {
      return typename V::Ints(Kokkos::view_alloc(exec, std::string(label)), n);
    };
    tokens = ints("frost::seqmodel::tokens", R);
    targets = ints("frost::seqmodel::targets", R);
    by_token = ints("frost::seqmodel::rows_by_token", R);
    offsets = ints("frost::seqmodel::token_offsets", kVocab + 1);
    const std::size_t RD = std::size_t(R) * D;
    for (int l = 0; l <= L; ++l) {
      h.push_back(flat("frost::seqmodel::residual", RD));
      rinv.push_back(flat("frost::seqmodel::rms_inverse", R));
      if (l < L) u.push_back(flat("frost::seqmodel::normed", RD));
    }
    z = flat("frost::seqmodel::final_normed", RD);
    logits = flat("frost::seqmodel::logits", std::size_t(R) * kVocab);
    row_loss = flat("frost::seqmodel::row_loss", R);
    dh = flat("frost::seqmodel::grad_residual", RD);
    du = flat("frost::seqmodel::grad_normed", RD);
    scratch = flat("frost::seqmodel::norm_scratch", RD);
    states = Kokkos::View<Kokkos::complex<S>*, Mem>(
        Kokkos::view_alloc(exec, std::string("frost::seqmodel::carried_states")),
        std::size_t(L) * (P + 1) * B * K);
    gc_a = typename V::State(Kokkos::view_alloc(exec, std::string("frost::seqmodel::grad_state")),
                             B, K);
    gc_b = typename V::State(Kokkos::view_alloc(exec, std::string("frost::seqmodel::grad_state")),
                             B, K);
    tapes.resize(std::size_t(L) * P);
    host_tokens.resize(R);
    host_targets.resize(R);
  }

  /// Row of window b, step t (0 <= t < T).
  int row(int b, int t) const { return ((t / chunk) * B + b) * chunk + t % chunk; }
  /// Piece p of a flat (R, n) array as (B, chunk, n).
  typename V::Seq piece(const typename V::Flat& f, int p, int n) const {
    return typename V::Seq(f.data() + std::size_t(p) * B * chunk * n, B, chunk, n);
  }
  /// The state entering piece p of layer l (p = P: the state leaving the window).
  typename V::State state(int l, int p) const {
    return typename V::State(states.data() + (std::size_t(l) * (P + 1) + p) * B * K, B, K);
  }
  recurrence::TenLayerTape<S, Mem>& tape(int l, int p) { return tapes[std::size_t(l) * P + p]; }
};

namespace detail {

template <class S, class Mem>
typename LmViews<S, Mem>::Rows rows(const typename LmViews<S, Mem>::Flat& f, int R, int n) {
  return typename LmViews<S, Mem>::Rows(f.data(), R, n);
}
template <class S, class Mem>
typename LmViews<S, Mem>::Rows rows(const typename LmViews<S, Mem>::Mat& m) {
  return typename LmViews<S, Mem>::Rows(m.data(), m.extent(0), m.extent(1));
}

/// out[r] = E[tok[r]].
template <class Exec, class S, class Mem>
void embed_rows(const Exec& exec, const typename LmViews<S, Mem>::Mat& E,
                const typename LmViews<S, Mem>::Ints& tok,
                const typename LmViews<S, Mem>::Flat& out, int R, int D) {
  Kokkos::parallel_for(
      "frost::seqmodel::embed", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {R, D}),
      KOKKOS_LAMBDA(int r, int j) { out(std::size_t(r) * D + j) = E(tok(r), j); });
}

/// out = RMSNorm(in; g) row by row; rinv[r] = 1 / sqrt(mean_j in[r,j]^2 + eps).
template <class Exec, class S, class Mem>
void rms_norm(const Exec& exec, const typename LmViews<S, Mem>::Flat& in,
              const typename LmViews<S, Mem>::Flat& g, double eps,
              const typename LmViews<S, Mem>::Flat& rinv, const typename LmViews<S, Mem>::Flat& out,
              int R, int D) {
  const S e = S(eps);
  Kokkos::parallel_for(
      "frost::seqmodel::rms_norm", Kokkos::RangePolicy<Exec>(exec, 0, R), KOKKOS_LAMBDA(int r) {
        const std::size_t o = std::size_t(r) * D;
        S ss(0);
        for (int j = 0; j < D; ++j) ss += in(o + j) * in(o + j);
        const S ri = S(1) / Kokkos::Experimental::sqrt(ss / S(D) + e);
        rinv(r) = ri;
        for (int j = 0; j < D; ++j) out(o + j) = in(o + j) * ri * g(j);
      });
}

/// Backward of out = RMSNorm(in; g): given dout, adds dL/din into `din` (accumulate) or writes it,
/// and writes dg (the column sums of dout * in * rinv, through `scratch`).
template <class Exec, class S, class Mem>
void rms_norm_backward(const Exec& exec, const typename LmViews<S, Mem>::Flat& in,
                       const typename LmViews<S, Mem>::Flat& g,
                       const typename LmViews<S, Mem>::Flat& rinv,
                       const typename LmViews<S, Mem>::Flat& dout,
                       const typename LmViews<S, Mem>::Flat& din, bool accumulate,
                       const typename LmViews<S, Mem>::Flat& dg,
                       const typename LmViews<S, Mem>::Flat& scratch, int R, int D) {
  Kokkos::parallel_for(
      "frost::seqmodel::rms_norm_backward", Kokkos::RangePolicy<Exec>(exec, 0, R),
      KOKKOS_LAMBDA(int r) {
        const std::size_t o = std::size_t(r) * D;
        const S ri = rinv(r);
        S s(0);
        for (int j = 0; j < D; ++j) s += dout(o + j) * g(j) * in(o + j);
        const S c = ri * ri * ri * s / S(D);
        for (int j = 0; j < D; ++j) {
          const S d = ri * g(j) * dout(o + j) - in(o + j) * c;
          din(o + j) = accumulate ? din(o + j) + d : d;
          scratch(o + j) = dout(o + j) * in(o + j) * ri;
        }
      });
  recurrence::detail::column_sums<Exec, S, Mem>(exec, rows<S, Mem>(scratch, R, D), dg);
}

/// Softmax cross-entropy per row: row_loss[r] = logsumexp(logits[r]) - logits[r, target[r]];
/// with `grad`, logits[r] is replaced by (softmax(logits[r]) - onehot(target[r])) * scale.
template <class Exec, class S, class Mem>
void softmax_cross_entropy(const Exec& exec, const typename LmViews<S, Mem>::Flat& logits,
                           const typename LmViews<S, Mem>::Ints& targets,
                           const typename LmViews<S, Mem>::Flat& row_loss, bool grad, double scale,
                           int R) {
  const S sc = S(scale);
  Kokkos::parallel_for(
      "frost::seqmodel::softmax_cross_entropy", Kokkos::RangePolicy<Exec>(exec, 0, R),
      KOKKOS_LAMBDA(int r) {
        const std::size_t o = std::size_t(r) * kVocab;
        S m = logits(o);
        for (int v = 1; v < kVocab; ++v) m = logits(o + v) > m ? logits(o + v) : m;
        S sum(0);
        for (int v = 0; v < kVocab; ++v) sum += Kokkos::Experimental::exp(logits(o + v) - m);
        const int y = targets(r);
        const S lse = m + Kokkos::Experimental::log(sum);
        row_loss(r) = lse - logits(o + y);
        if (grad) {
          for (int v = 0; v < kVocab; ++v)
            logits(o + v) =
                sc * (Kokkos::Experimental::exp(logits(o + v) - lse) - (v == y ? S(1) : S(0)));
        }
      });
}

/// dE[v] = sum of dh0[r] over the rows r with tok[r] = v (rows grouped by token, so every
/// element has one writer and a fixed summation order).
template <class Exec, class S, class Mem>
void embed_backward(const Exec& exec, const typename LmViews<S, Mem>::Flat& dh0,
                    const typename LmViews<S, Mem>::Ints& by_token,
                    const typename LmViews<S, Mem>::Ints& offsets,
                    const typename LmViews<S, Mem>::Mat& dE, int D) {
  Kokkos::parallel_for(
      "frost::seqmodel::embed_backward", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {kVocab, D}),
      KOKKOS_LAMBDA(int v, int j) {
        S s(0);
        for (int i = offsets(v); i < offsets(v + 1); ++i)
          s += dh0(std::size_t(by_token(i)) * D + j);
        dE(v, j) = s;
      });
}

/// a[i] += b[i] for i in [begin, end).
template <class Exec, class S, class Mem>
void add_range(const Exec& exec, const typename LmViews<S, Mem>::Flat& a,
               const typename LmViews<S, Mem>::Flat& b, std::size_t begin, std::size_t end) {
  Kokkos::parallel_for(
      "frost::seqmodel::accumulate_gradient", Kokkos::RangePolicy<Exec>(exec, begin, end),
      KOKKOS_LAMBDA(std::size_t i) { a(i) += b(i); });
}

/// a[i] += b[i] over all i.
template <class Exec, class S, class Mem>
void add_into(const Exec& exec, const typename LmViews<S, Mem>::Flat& a,
              const typename LmViews<S, Mem>::Flat& b) {
  add_range<Exec, S, Mem>(exec, a, b, 0, a.extent(0));
}

/// The output end shared by the models: z = RMSNorm(h_last; g_f), logits = z W_head + b_head,
/// softmax cross-entropy per row; returns the mean loss (the row losses summed on the host in row
/// order, reproducible). With `grad`, logits then holds dL/dlogits.
template <class Exec, class S, class Mem>
double head_loss(const Exec& exec, double norm_eps, const typename LmViews<S, Mem>::Flat& g_f,
                 const typename LmViews<S, Mem>::Mat& head_w,
                 const typename LmViews<S, Mem>::Flat& head_b,
                 const typename LmViews<S, Mem>::Flat& h_last,
                 const typename LmViews<S, Mem>::Flat& rinv,
                 const typename LmViews<S, Mem>::Flat& z,
                 const typename LmViews<S, Mem>::Flat& logits,
                 const typename LmViews<S, Mem>::Ints& targets,
                 const typename LmViews<S, Mem>::Flat& row_loss, bool grad, int R, int D) {
  rms_norm<Exec, S, Mem>(exec, h_last, g_f, norm_eps, rinv, z, R, D);
  const auto logit_rows = rows<S, Mem>(logits, R, kVocab);
  recurrence::detail::broadcast_rows<Exec, S, Mem>(exec, head_b, logit_rows);
  recurrence::detail::ten_gemm(exec, "N", "N", S(1), rows<S, Mem>(z, R, D), rows<S, Mem>(head_w),
                               S(1), logit_rows);
  softmax_cross_entropy<Exec, S, Mem>(exec, logits, targets, row_loss, grad, 1.0 / double(R), R);
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), row_loss);
  double sum = 0.0;
  for (int r = 0; r < R; ++r) sum += double(host(r));
  return sum / double(R);
}

/// Backward of head_loss from dL/dlogits (in `logits`): the head's and final norm's gradients,
/// and dh = dL/dh_last written (not accumulated) into `dh`, through `dz` and `scratch`.
template <class Exec, class S, class Mem>
void head_backward(
    const Exec& exec, const typename LmViews<S, Mem>::Flat& g_f,
    const typename LmViews<S, Mem>::Mat& head_w, const typename LmViews<S, Mem>::Flat& h_last,
    const typename LmViews<S, Mem>::Flat& rinv, const typename LmViews<S, Mem>::Flat& z,
    const typename LmViews<S, Mem>::Flat& logits, const typename LmViews<S, Mem>::Flat& grad_g_f,
    const typename LmViews<S, Mem>::Mat& grad_head_w,
    const typename LmViews<S, Mem>::Flat& grad_head_b, const typename LmViews<S, Mem>::Flat& dz,
    const typename LmViews<S, Mem>::Flat& dh, const typename LmViews<S, Mem>::Flat& scratch, int R,
    int D) {
  // dW = z^T dlogits, db = column sums, dz = dlogits W^T.
  const auto dlogits = rows<S, Mem>(logits, R, kVocab);
  recurrence::detail::ten_gemm(exec, "T", "N", S(1), rows<S, Mem>(z, R, D), dlogits, S(0),
                               rows<S, Mem>(grad_head_w));
  recurrence::detail::column_sums<Exec, S, Mem>(exec, dlogits, grad_head_b);
  recurrence::detail::ten_gemm(exec, "N", "T", S(1), dlogits, rows<S, Mem>(head_w), S(0),
                               rows<S, Mem>(dz, R, D));
  rms_norm_backward<Exec, S, Mem>(exec, h_last, g_f, rinv, dz, dh, false, grad_g_f, scratch, R, D);
}

}  // namespace detail

/// Fills the batch's tokens and targets from window starts (B of them) in `text`, in the row order
/// of the model's work (`Work`: TenLmWork or DeltaLmWork), and the rows grouped by token for the
/// embedding's backward pass.
template <class Exec, class S, class Mem, class Work>
void load_batch(const Exec& exec, Work& w, const std::uint8_t* text,
                const std::vector<std::size_t>& starts) {
  if (int(starts.size()) != w.B) throw std::invalid_argument("load_batch: one start per window");
  for (int b = 0; b < w.B; ++b)
    for (int t = 0; t < w.T; ++t) {
      const int r = w.row(b, t);
      w.host_tokens[r] = text[starts[b] + t];
      w.host_targets[r] = text[starts[b] + t + 1];
    }
  std::vector<int> off(kVocab + 1, 0), order(w.R);
  for (int r = 0; r < w.R; ++r) ++off[w.host_tokens[r] + 1];
  for (int v = 0; v < kVocab; ++v) off[v + 1] += off[v];
  std::vector<int> fill(off.begin(), off.end() - 1);
  for (int r = 0; r < w.R; ++r) order[fill[w.host_tokens[r]]++] = r;
  auto up = [&](const typename LmViews<S, Mem>::Ints& dst, const std::vector<int>& src) {
    Kokkos::View<const int*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> h(
        src.data(), src.size());
    Kokkos::deep_copy(exec, dst, h);
  };
  up(w.tokens, w.host_tokens);
  up(w.targets, w.host_targets);
  up(w.by_token, order);
  up(w.offsets, off);
  exec.fence();  // the host vectors may change before the copies would otherwise run
}

/// Seconds spent inside the TEN layer calls (fenced on both sides), added to by forward/backward
/// when non-null.
struct TenTimer {
  double seconds = 0.0;
};

/// Forward pass of a loaded batch: fills the activations and tapes of `w` and returns the mean
/// next-byte cross-entropy (nats) over the B T rows. With `grad`, w.logits then holds dL/dlogits
/// for lm_backward. The per-row losses are summed on the host in row order (reproducible).
template <class Exec, class S, class Mem>
double lm_forward(const Exec& exec, const TenLmShape& s, recurrence::EigenPlan plan,
                  const TenLmTensors<S, Mem>& prm, TenLmWork<S, Mem>& w, bool grad,
                  TenTimer* timer = nullptr) {
  const int R = w.R, D = s.D;
  Kokkos::Profiling::pushRegion("frost::seqmodel::forward");
  detail::embed_rows<Exec, S, Mem>(exec, prm.embed, w.tokens, w.h[0], R, D);
  for (int l = 0; l < s.L; ++l) {
    detail::rms_norm<Exec, S, Mem>(exec, w.h[l], prm.norm[l], s.norm_eps, w.rinv[l], w.u[l], R, D);
    // Zero state at the window's start; each piece hands its final state to the next.
    Kokkos::deep_copy(exec, w.state(l, 0), Kokkos::complex<S>(0));
    if (timer) exec.fence();
    const auto t0 = std::chrono::steady_clock::now();
    for (int p = 0; p < w.P; ++p)
      recurrence::ten_forward<Exec, S, Mem>(exec, plan, prm.ten[l], w.piece(w.u[l], p, D),
                                            w.state(l, p), w.piece(w.h[l + 1], p, D),
                                            w.state(l, p + 1), w.tape(l, p));
    if (timer) {
      exec.fence();
      timer->seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    detail::add_into<Exec, S, Mem>(exec, w.h[l + 1], w.h[l]);
  }
  const double loss = detail::head_loss<Exec, S, Mem>(exec, s.norm_eps, prm.final_norm, prm.head_w,
                                                      prm.head_b, w.h[s.L], w.rinv[s.L], w.z,
                                                      w.logits, w.targets, w.row_loss, grad, R, D);
  Kokkos::Profiling::popRegion();
  return loss;
}

/// Backward pass after lm_forward(..., grad = true) on the same batch: writes every parameter
/// gradient into `grads` (a flat vector laid out like the parameters; overwritten). `piece_grads`
/// is scratch of the same layout for the pieces' TEN gradients (unused with one piece).
template <class Exec, class S, class Mem>
void lm_backward(const Exec& exec, const TenLmShape& s, const TenLmLayout& lay,
                 recurrence::EigenPlan plan, Bptt bptt, const TenLmTensors<S, Mem>& prm,
                 const typename LmViews<S, Mem>::Flat& grads_flat,
                 const typename LmViews<S, Mem>::Flat& piece_flat, TenLmWork<S, Mem>& w,
                 TenTimer* timer = nullptr) {
  using V = LmViews<S, Mem>;
  const int R = w.R, D = s.D;
  const TenLmTensors<S, Mem> g(grads_flat, s, lay);
  const TenLmTensors<S, Mem> pg =
      w.P > 1 ? TenLmTensors<S, Mem>(piece_flat, s, lay) : TenLmTensors<S, Mem>();
  Kokkos::Profiling::pushRegion("frost::seqmodel::backward");
  detail::head_backward<Exec, S, Mem>(exec, prm.final_norm, prm.head_w, w.h[s.L], w.rinv[s.L], w.z,
                                      w.logits, g.final_norm, g.head_w, g.head_b, w.du, w.dh,
                                      w.scratch, R, D);
  const typename V::State none;
  for (int l = s.L - 1; l >= 0; --l) {
    if (timer) exec.fence();
    const auto t0 = std::chrono::steady_clock::now();
    auto gc_next = w.gc_a, gc_cur = w.gc_b;
    for (int p = w.P - 1; p >= 0; --p) {
      const bool last = p == w.P - 1;
      const bool carry = bptt == Bptt::kSequence && !last;
      recurrence::ten_backward<Exec, S, Mem>(exec, plan, prm.ten[l], w.piece(w.u[l], p, D),
                                             w.state(l, p), w.tape(l, p), w.piece(w.dh, p, D),
                                             carry ? gc_next : none, w.piece(w.du, p, D), gc_cur,
                                             last ? g.ten[l] : pg.ten[l]);
      if (!last)
        detail::add_range<Exec, S, Mem>(exec, grads_flat, piece_flat, lay.layers[l].ten_begin,
                                        lay.layers[l].end);
      std::swap(gc_next, gc_cur);
    }
    if (timer) {
      exec.fence();
      timer->seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    // The residual passes dh through; the norm adds its input gradient.
    detail::rms_norm_backward<Exec, S, Mem>(exec, w.h[l], prm.norm[l], w.rinv[l], w.du, w.dh, true,
                                            g.norm[l], w.scratch, R, D);
  }
  detail::embed_backward<Exec, S, Mem>(exec, w.dh, w.by_token, w.offsets, g.embed, D);
  Kokkos::Profiling::popRegion();
}

}  // namespace frost::seqmodel
