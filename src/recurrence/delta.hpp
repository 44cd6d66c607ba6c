// The delta-rule recurrence of DeltaNet, with matrix states, for G independent sequences (batch x
// heads) of T steps:
//
//   S_t = S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,   o_t = S_t q_t,   S_{-1} = 0,
//
// S_t is m x n (values x keys). frost stores the transpose X_t = S_t^T (n x m), for which the step
// is the affine map X -> A_t X + k_t (beta_t v_t)^T with the symmetric A_t = I - beta_t k_t k_t^T,
// and o_t = X_t^T q_t. The adjoint of a loss with upstream gradients do_t is the same kind of
// recurrence backwards in time, Gamma_t = A_{t+1} Gamma_{t+1} + q_t do_t^T (Gamma_T = 0), and
// with a_t = X_{t-1}^T k_t, e_t = v_t - a_t, g_t = Gamma_t^T k_t the input gradients are
//
//   dq_t = X_t do_t,  dv_t = beta_t g_t,  dbeta_t = g_t . e_t,  dk_t = beta_t (Gamma_t e_t -
//   X_{t-1} g_t).
//
// Both directions go through one solver of X_s = (I - b_s c_s c_s^T) X_{s-1} + u_s w_s^T in solver
// order s = 0 .. T-1 (forward: s = t, (c, b) = (k_t, beta_t); reverse: s = T-1-t, (c, b) =
// (k_{t+1}, beta_{t+1}), the identity at t = T-1). Methods, per sequence (d = n = m):
//  * sequential: a thread per column of X keeps the column in registers and applies the rank-one
//    step, 4 n flops per column per step: W = 4 T n m, D = T.
//  * chunked: chunks of L steps. (1) per chunk, the state reached from zero and the chunk's
//    transfer matrix P = A_end ... A_start, both by rank-one steps (a thread per column of each);
//    (2) the chunk boundaries are carried, E_{c+1} = P_c E_c + Y_c (n^2 m per chunk); (3) every
//    chunk reruns from E_c and writes its states. W ~ 12 T n m + 2 T n^2 m / L, D ~ 2 L + T / L.
//  * cyclic_reduction and hillis_steele: the dense methods of recurrence/dense.hpp on explicit
//    n x n matrices A_s and n x m offsets u_s w_s^T (composition (A_t A_s, A_t X_s + X_t)); they
//    ignore the rank-one structure, so they do about n / 2 (CR) or n log2 T / 2 (scan) times the
//    work of the sequential method. They are here to measure that choice, as seed 003 proposes.
// All methods write every state X_s (the tape of the backward pass): (G, T, n, m), row-major.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "core/scratch.hpp"
#include "recurrence/dense.hpp"

namespace frost::recurrence {

/// Delta-rule methods. kAuto resolves through resolve_delta_plan.
enum class DeltaMethod { kSequential, kChunked, kCyclicReduction, kHillisSteele, kAuto };

inline DeltaMethod parse_delta_method(const std::string& s) {
  if (s == "sequential") return DeltaMethod::kSequential;
  if (s == "chunked") return DeltaMethod::kChunked;
  if (s == "cyclic_reduction") return DeltaMethod::kCyclicReduction;
  if (s == "hillis_steele") return DeltaMethod::kHillisSteele;
  if (s == "auto") return DeltaMethod::kAuto;
  throw std::invalid_argument("delta method '" + s +
                              "' (allowed: auto, sequential, chunked, cyclic_reduction, "
                              "hillis_steele)");
}

inline std::string to_string(DeltaMethod m) {
  switch (m) {
    case DeltaMethod::kSequential:
      return "sequential";
    case DeltaMethod::kChunked:
      return "chunked";
    case DeltaMethod::kCyclicReduction:
      return "cyclic_reduction";
    case DeltaMethod::kHillisSteele:
      return "hillis_steele";
    default:
      return "auto";
  }
}

/// Largest key or value width (registers per thread of the rank-one methods).
inline constexpr int kMaxDeltaWidth = 64;

struct DeltaPlan {
  DeltaMethod method;
  int chunk;
};

/// `auto`: sequential when its G m threads alone fill the machine (CPUs), else chunked (GPUs).
/// chunk = 0: 64, or T when shorter.
inline DeltaPlan resolve_delta_plan(DeltaMethod requested, int chunk, int G, int T, int m,
                                    int concurrency) {
  DeltaPlan p{requested, chunk > 0 ? chunk : 64};
  if (p.chunk > T) p.chunk = T;
  if (p.method == DeltaMethod::kAuto)
    p.method =
        double(G) * m >= double(concurrency) ? DeltaMethod::kSequential : DeltaMethod::kChunked;
  return p;
}

/// Floating-point operations of one delta_states call (multiply-add = 2), for GFLOP/s.
inline double delta_flops(DeltaMethod method, int chunk, int G, int T, int n, int m) {
  const double g = G, t = T, nn = n, mm = m;
  int levels = 0;
  while ((2 << levels) <= T) ++levels;
  switch (method) {
    case DeltaMethod::kSequential:
      return g * t * 6 * nn * mm;
    case DeltaMethod::kChunked:
      return g * t * (12 * nn * mm + 4 * nn * nn) + g * (t / chunk) * 2 * nn * nn * mm;
    case DeltaMethod::kCyclicReduction:
      return g * t * (2 * nn * nn * nn + 4 * nn * nn * mm);
    case DeltaMethod::kHillisSteele:
      return g * t * (levels + 1) * (2 * nn * nn * nn + 2 * nn * nn * mm);
    default:
      return 0.0;
  }
}

template <class S, class Mem>
struct DeltaViews {
  using Vecs = Kokkos::View<S***, Kokkos::LayoutRight, Mem>;     ///< (G, T, n)
  using Scalars = Kokkos::View<S**, Kokkos::LayoutRight, Mem>;   ///< (G, T)
  using States = Kokkos::View<S****, Kokkos::LayoutRight, Mem>;  ///< (G, T, n, m)
  using Flat = Kokkos::View<S*, Mem>;
};

/// Scratch of the chunked and dense methods, kept by the caller across calls (no allocation in
/// the steady state).
template <class S, class Mem>
struct DeltaWorkspace {
  core::GrowingBuffer<S, Mem> a, b, c;
};

namespace detail {

/// Solver step s -> (time of the offset, time of the matrix or -1 for the identity).
struct DeltaOrder {
  int T = 0;
  bool reverse = false;
  KOKKOS_INLINE_FUNCTION int time(int s) const { return reverse ? T - 1 - s : s; }
  KOKKOS_INLINE_FUNCTION int matrix_time(int s) const {
    if (!reverse) return s;
    return s == 0 ? -1 : T - s;
  }
};

/// Runs solver steps [s0, s1) on column j of one sequence g, the column in x[0 .. n); with
/// `store`, writes each state's column into X.
template <class S, class Vecs, class Scalars, class States>
KOKKOS_INLINE_FUNCTION void delta_column_steps(const DeltaOrder& ord, int g, int j, int s0, int s1,
                                               int n, S* x, const Vecs& c, const Scalars& b,
                                               const Vecs& u, const Vecs& w, const States& X,
                                               bool store) {
  for (int s = s0; s < s1; ++s) {
    const int ta = ord.matrix_time(s), t = ord.time(s);
    if (ta >= 0) {
      S dot(0);
      for (int i = 0; i < n; ++i) dot += c(g, ta, i) * x[i];
      const S f = b(g, ta) * dot;
      for (int i = 0; i < n; ++i) x[i] -= f * c(g, ta, i);
    }
    const S wj = w(g, t, j);
    for (int i = 0; i < n; ++i) x[i] += u(g, t, i) * wj;
    if (store)
      for (int i = 0; i < n; ++i) X(g, s, i, j) = x[i];
  }
}

/// C = X Y + W for an (r x k) X and a (k x q) Y; C may alias W (elementwise), not X or Y.
template <class Member, class MX, class MY, class MW, class MC>
KOKKOS_INLINE_FUNCTION void team_gemm_add(const Member& mb, int r, int k, int q, const MX& X,
                                          const MY& Y, const MW& W, const MC& C) {
  team_product<true>(mb, r, k, q, X, Y, W, C);
}

/// Explicit matrices M_s = A (n x n) and offsets X_s = u_s w_s^T (n x m) in solver order.
template <class Exec, class S, class Mem>
void delta_materialize(const Exec& exec, const DeltaOrder& ord,
                       const typename DeltaViews<S, Mem>::Vecs& c,
                       const typename DeltaViews<S, Mem>::Scalars& b,
                       const typename DeltaViews<S, Mem>::Vecs& u,
                       const typename DeltaViews<S, Mem>::Vecs& w,
                       const typename DeltaViews<S, Mem>::States& M,
                       const typename DeltaViews<S, Mem>::States& X) {
  const int G = static_cast<int>(X.extent(0)), T = static_cast<int>(X.extent(1));
  const int n = static_cast<int>(X.extent(2)), m = static_cast<int>(X.extent(3));
  Kokkos::parallel_for(
      "frost::recurrence::delta_materialize",
      core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {G, T, n}), KOKKOS_LAMBDA(int g, int s, int i) {
        const int ta = ord.matrix_time(s), t = ord.time(s);
        for (int l = 0; l < n; ++l)
          M(g, s, i, l) =
              (i == l ? S(1) : S(0)) - (ta >= 0 ? b(g, ta) * c(g, ta, i) * c(g, ta, l) : S(0));
        for (int j = 0; j < m; ++j) X(g, s, i, j) = u(g, t, i) * w(g, t, j);
      });
}

}  // namespace detail

/// All states X_s, s = 0 .. T-1, of X_s = (I - b c c^T) X_{s-1} + u w^T in solver order (see the
/// file comment; `reverse` runs the adjoint's order), from X_{-1} = 0. c, u: (G, T, n); w:
/// (G, T, m); b: (G, T); X: (G, T, n, m). `plan` must be resolved.
template <class Exec, class S, class Mem>
void delta_states(const Exec& exec, DeltaPlan plan, bool reverse,
                  const typename DeltaViews<S, Mem>::Vecs& c,
                  const typename DeltaViews<S, Mem>::Scalars& b,
                  const typename DeltaViews<S, Mem>::Vecs& u,
                  const typename DeltaViews<S, Mem>::Vecs& w,
                  const typename DeltaViews<S, Mem>::States& X, DeltaWorkspace<S, Mem>& ws) {
  using V = DeltaViews<S, Mem>;
  const int G = static_cast<int>(X.extent(0)), T = static_cast<int>(X.extent(1));
  const int n = static_cast<int>(X.extent(2)), m = static_cast<int>(X.extent(3));
  if (n > kMaxDeltaWidth || m > kMaxDeltaWidth)
    throw std::invalid_argument("delta_states: key and value widths must be at most " +
                                std::to_string(kMaxDeltaWidth));
  if (T == 0 || G == 0) return;
  const detail::DeltaOrder ord{T, reverse};

  if (plan.method == DeltaMethod::kSequential) {
    if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace,
                                             typename Exec::memory_space>::accessible) {
      // A CPU thread keeps a whole state (rows contiguous) so that the stores of each state
      // fill whole cache lines; a thread per column would write one element per line.
      Kokkos::parallel_for(
          "frost::recurrence::delta_sequential", Kokkos::RangePolicy<Exec>(exec, 0, G),
          KOKKOS_LAMBDA(int g) {
            S x[kMaxDeltaWidth * kMaxDeltaWidth], f[kMaxDeltaWidth];
            for (int e = 0; e < n * m; ++e) x[e] = S(0);
            for (int s = 0; s < T; ++s) {
              const int ta = ord.matrix_time(s), t = ord.time(s);
              if (ta >= 0) {
                for (int j = 0; j < m; ++j) f[j] = S(0);
                for (int i = 0; i < n; ++i) {
                  const S ci = c(g, ta, i);
                  for (int j = 0; j < m; ++j) f[j] += ci * x[i * m + j];
                }
                for (int i = 0; i < n; ++i) {
                  const S ci = b(g, ta) * c(g, ta, i);
                  for (int j = 0; j < m; ++j) x[i * m + j] -= ci * f[j];
                }
              }
              for (int i = 0; i < n; ++i) {
                const S ui = u(g, t, i);
                for (int j = 0; j < m; ++j) {
                  x[i * m + j] += ui * w(g, t, j);
                  X(g, s, i, j) = x[i * m + j];
                }
              }
            }
          });
      return;
    }
    Kokkos::parallel_for(
        "frost::recurrence::delta_sequential", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {G, m}),
        KOKKOS_LAMBDA(int g, int j) {
          S x[kMaxDeltaWidth];
          for (int i = 0; i < n; ++i) x[i] = S(0);
          detail::delta_column_steps(ord, g, j, 0, T, n, x, c, b, u, w, X, true);
        });
    return;
  }

  if (plan.method == DeltaMethod::kChunked) {
    const int L = plan.chunk < 1 ? 1 : plan.chunk, nc = (T + L - 1) / L;
    const std::size_t per = std::size_t(G) * nc * n;
    typename V::States Y(ws.a.take(exec, per * m, "frost::recurrence::delta_workspace"), G, nc, n,
                         m);
    typename V::States P(ws.b.take(exec, per * n, "frost::recurrence::delta_workspace"), G, nc, n,
                         n);
    typename V::States E(ws.c.take(exec, per * m, "frost::recurrence::delta_workspace"), G, nc, n,
                         m);
    // (1) columns j < m: the chunk's state from zero; j >= m: column j - m of its transfer matrix.
    Kokkos::parallel_for(
        "frost::recurrence::delta_chunk_reduce",
        core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {G, nc, m + n}),
        KOKKOS_LAMBDA(int g, int ch, int j) {
          const int s0 = ch * L, s1 = s0 + L < T ? s0 + L : T;
          S x[kMaxDeltaWidth];
          if (j < m) {
            for (int i = 0; i < n; ++i) x[i] = S(0);
            detail::delta_column_steps(ord, g, j, s0, s1, n, x, c, b, u, w, X, false);
            for (int i = 0; i < n; ++i) Y(g, ch, i, j) = x[i];
            return;
          }
          const int col = j - m;
          for (int i = 0; i < n; ++i) x[i] = i == col ? S(1) : S(0);
          for (int s = s0; s < s1; ++s) {
            const int ta = ord.matrix_time(s);
            if (ta < 0) continue;
            S dot(0);
            for (int i = 0; i < n; ++i) dot += c(g, ta, i) * x[i];
            const S f = b(g, ta) * dot;
            for (int i = 0; i < n; ++i) x[i] -= f * c(g, ta, i);
          }
          for (int i = 0; i < n; ++i) P(g, ch, i, col) = x[i];
        });
    // (2) E(g, ch) = the state entering chunk ch.
    Kokkos::parallel_for(
        "frost::recurrence::delta_chunk_carry", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {G, m}),
        KOKKOS_LAMBDA(int g, int j) {
          S e[kMaxDeltaWidth], next[kMaxDeltaWidth];
          for (int i = 0; i < n; ++i) e[i] = S(0);
          for (int ch = 0; ch < nc; ++ch) {
            for (int i = 0; i < n; ++i) E(g, ch, i, j) = e[i];
            for (int i = 0; i < n; ++i) {
              S acc = Y(g, ch, i, j);
              for (int l = 0; l < n; ++l) acc += P(g, ch, i, l) * e[l];
              next[i] = acc;
            }
            for (int i = 0; i < n; ++i) e[i] = next[i];
          }
        });
    // (3) every chunk from its entering state, writing the states.
    Kokkos::parallel_for(
        "frost::recurrence::delta_chunk_fixup",
        core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {G, nc, m}),
        KOKKOS_LAMBDA(int g, int ch, int j) {
          const int s0 = ch * L, s1 = s0 + L < T ? s0 + L : T;
          S x[kMaxDeltaWidth];
          for (int i = 0; i < n; ++i) x[i] = E(g, ch, i, j);
          detail::delta_column_steps(ord, g, j, s0, s1, n, x, c, b, u, w, X, true);
        });
    return;
  }

  using Member = typename Kokkos::TeamPolicy<Exec>::member_type;
  using Scr = Kokkos::View<S**, Kokkos::LayoutRight, typename Exec::scratch_memory_space,
                           Kokkos::MemoryUnmanaged>;
  const std::size_t mat_scratch = Scr::shmem_size(n, n);
  const std::size_t mats = std::size_t(G) * T * n * n;

  if (plan.method == DeltaMethod::kCyclicReduction) {
    typename V::States M(ws.b.take(exec, mats, "frost::recurrence::delta_workspace"), G, T, n, n);
    detail::delta_materialize<Exec, S, Mem>(exec, ord, c, b, u, w, M, X);
    int levels = 0;
    while ((2 << levels) <= T) ++levels;
    for (int l = 0; l < levels; ++l) {
      const int step = 1 << l, count = T >> (l + 1);
      Kokkos::parallel_for(
          "frost::recurrence::delta_cr_reduce",
          detail::team_policy(exec, G * count, n, mat_scratch), KOKKOS_LAMBDA(const Member& mb) {
            const int g = mb.league_rank() / count, k = mb.league_rank() % count;
            const int t = (k + 1) * 2 * step - 1, s = t - step;
            auto Mt = Kokkos::subview(M, g, t, Kokkos::ALL, Kokkos::ALL);
            auto Xt = Kokkos::subview(X, g, t, Kokkos::ALL, Kokkos::ALL);
            detail::team_gemm_add(mb, n, n, m, Mt,
                                  Kokkos::subview(X, g, s, Kokkos::ALL, Kokkos::ALL), Xt, Xt);
            if (k == 0) return;  // the first of S_{l+1} is solved; its matrix is never read
            // No barrier before the product: the update above wrote only X_t, which the product
            // (reading M_t and M_s, writing tmp) does not touch.
            Scr tmp(mb.team_scratch(1), n, n);
            detail::team_gemm(mb, n, Mt, Kokkos::subview(M, g, s, Kokkos::ALL, Kokkos::ALL), tmp);
            mb.team_barrier();  // all reads of M_t by the product come before M_t is overwritten
            detail::team_copy_matrix(mb, n, tmp, Mt);
          });
    }
    for (int l = levels - 1; l >= 0; --l) {
      const int step = 1 << l, count = (T >> l) - (T >> (l + 1));
      if (count <= 1) continue;
      Kokkos::parallel_for(
          "frost::recurrence::delta_cr_backsub", detail::team_policy(exec, G * (count - 1), n, 0),
          KOKKOS_LAMBDA(const Member& mb) {
            const int g = mb.league_rank() / (count - 1), k = mb.league_rank() % (count - 1) + 1;
            const int t = (2 * k + 1) * step - 1;
            auto Xt = Kokkos::subview(X, g, t, Kokkos::ALL, Kokkos::ALL);
            detail::team_gemm_add(mb, n, n, m, Kokkos::subview(M, g, t, Kokkos::ALL, Kokkos::ALL),
                                  Kokkos::subview(X, g, t - step, Kokkos::ALL, Kokkos::ALL), Xt,
                                  Xt);
          });
    }
    return;
  }

  if (plan.method == DeltaMethod::kHillisSteele) {
    // Ping-pong between (M0, X) and (M1, X1); level d composes every s >= d with s - d.
    typename V::States M0(ws.a.take(exec, mats, "frost::recurrence::delta_workspace"), G, T, n, n);
    typename V::States M1(ws.b.take(exec, mats, "frost::recurrence::delta_workspace"), G, T, n, n);
    typename V::States X1(
        ws.c.take(exec, std::size_t(G) * T * n * m, "frost::recurrence::delta_workspace"), G, T, n,
        m);
    detail::delta_materialize<Exec, S, Mem>(exec, ord, c, b, u, w, M0, X);
    auto Min = M0, Mout = M1;
    auto Xin = X, Xout = X1;
    for (int d = 1; d < T; d *= 2) {
      const bool last = 2 * d >= T;  // matrices are not needed after the last level
      Kokkos::parallel_for(
          "frost::recurrence::delta_scan_level", detail::team_policy(exec, G * T, n, 0),
          KOKKOS_LAMBDA(const Member& mb) {
            const int g = mb.league_rank() / T, s = mb.league_rank() % T;
            auto Ms = Kokkos::subview(Min, g, s, Kokkos::ALL, Kokkos::ALL);
            auto Xs = Kokkos::subview(Xin, g, s, Kokkos::ALL, Kokkos::ALL);
            auto Xo = Kokkos::subview(Xout, g, s, Kokkos::ALL, Kokkos::ALL);
            auto Mo = Kokkos::subview(Mout, g, s, Kokkos::ALL, Kokkos::ALL);
            if (s < d) {
              Kokkos::parallel_for(Kokkos::TeamThreadRange(mb, n), [&](int i) {
                Kokkos::parallel_for(Kokkos::ThreadVectorRange(mb, m),
                                     [&](int j) { Xo(i, j) = Xs(i, j); });
                if (!last)
                  Kokkos::parallel_for(Kokkos::ThreadVectorRange(mb, n),
                                       [&](int j) { Mo(i, j) = Ms(i, j); });
              });
              return;
            }
            detail::team_gemm_add(mb, n, n, m, Ms,
                                  Kokkos::subview(Xin, g, s - d, Kokkos::ALL, Kokkos::ALL), Xs, Xo);
            if (!last)
              detail::team_gemm(mb, n, Ms, Kokkos::subview(Min, g, s - d, Kokkos::ALL, Kokkos::ALL),
                                Mo);
          });
      std::swap(Min, Mout);
      std::swap(Xin, Xout);
    }
    if (Xin.data() != X.data()) Kokkos::deep_copy(exec, X, Xin);
    return;
  }
  throw std::invalid_argument("delta_states: unresolved method");
}

/// o(g, t, :) = X_t^T q(g, t, :) from forward-order states X (G, T, n, m).
template <class Exec, class S, class Mem>
void delta_readout(const Exec& exec, const typename DeltaViews<S, Mem>::States& X,
                   const typename DeltaViews<S, Mem>::Vecs& q,
                   const typename DeltaViews<S, Mem>::Vecs& o) {
  const int G = static_cast<int>(X.extent(0)), T = static_cast<int>(X.extent(1));
  const int n = static_cast<int>(X.extent(2)), m = static_cast<int>(X.extent(3));
  Kokkos::parallel_for(
      "frost::recurrence::delta_readout", core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {G, T, m}),
      KOKKOS_LAMBDA(int g, int t, int j) {
        S acc(0);
        for (int i = 0; i < n; ++i) acc += X(g, t, i, j) * q(g, t, i);
        o(g, t, j) = acc;
      });
}

/// Input gradients of the delta rule (file comment) from the forward states X (forward order),
/// the adjoint states Gam (reverse order: Gamma_t = Gam(g, T-1-t)) and do.
template <class Exec, class S, class Mem>
void delta_input_gradients(
    const Exec& exec, const typename DeltaViews<S, Mem>::States& X,
    const typename DeltaViews<S, Mem>::States& Gam, const typename DeltaViews<S, Mem>::Vecs& k,
    const typename DeltaViews<S, Mem>::Scalars& beta, const typename DeltaViews<S, Mem>::Vecs& v,
    const typename DeltaViews<S, Mem>::Vecs& dout, const typename DeltaViews<S, Mem>::Vecs& dq,
    const typename DeltaViews<S, Mem>::Vecs& dk, const typename DeltaViews<S, Mem>::Scalars& dbeta,
    const typename DeltaViews<S, Mem>::Vecs& dv) {
  const int G = static_cast<int>(X.extent(0)), T = static_cast<int>(X.extent(1));
  const int n = static_cast<int>(X.extent(2)), m = static_cast<int>(X.extent(3));
  using Member = typename Kokkos::TeamPolicy<Exec>::member_type;
  using Scr = Kokkos::View<S*, typename Exec::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  Kokkos::TeamPolicy<Exec> policy(exec, G * T, Kokkos::AUTO);
  policy.set_scratch_size(0, Kokkos::PerTeam(2 * Scr::shmem_size(m)));
  Kokkos::parallel_for(
      "frost::recurrence::delta_input_gradients", policy, KOKKOS_LAMBDA(const Member& mb) {
        const int g = mb.league_rank() / T, t = mb.league_rank() % T;
        const int r = T - 1 - t;  // Gamma_t's slot
        Scr e(mb.team_scratch(0), m), gk(mb.team_scratch(0), m);
        // a = X_{t-1}^T k, e = v - a, g = Gamma_t^T k: one column per thread.
        Kokkos::parallel_for(Kokkos::TeamThreadRange(mb, m), [&](int j) {
          S a(0), gj(0);
          for (int i = 0; i < n; ++i) {
            if (t > 0) a += X(g, t - 1, i, j) * k(g, t, i);
            gj += Gam(g, r, i, j) * k(g, t, i);
          }
          e(j) = v(g, t, j) - a;
          gk(j) = gj;
          dv(g, t, j) = beta(g, t) * gj;
        });
        mb.team_barrier();
        S db(0);
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(mb, m), [&](int j, S& acc) { acc += gk(j) * e(j); }, db);
        Kokkos::single(Kokkos::PerTeam(mb), [&]() { dbeta(g, t) = db; });
        Kokkos::parallel_for(Kokkos::TeamThreadRange(mb, n), [&](int i) {
          S ge(0), xg(0), xd(0);
          for (int j = 0; j < m; ++j) {
            ge += Gam(g, r, i, j) * e(j);
            if (t > 0) xg += X(g, t - 1, i, j) * gk(j);
            xd += X(g, t, i, j) * dout(g, t, j);
          }
          dk(g, t, i) = beta(g, t) * (ge - xg);
          dq(g, t, i) = xd;
        });
      });
}

}  // namespace frost::recurrence
