// Dense linear recurrence h_t = A_t h_{t-1} + b_t, t = 0 .. T-1, with dense n x n matrices A_t,
// a batch of B independent sequences, initial state h_{-1} = h0 and final state h_{T-1}.
//
// Every method first folds the initial state into step 0 (b_0 <- A_0 h0 + b_0), after which step
// 0 is a constant map h -> h_0 and its matrix is never read again. Step t is the affine map
// x -> A_t x + b_t; composing "first s, then t" gives (A_t A_s, A_t b_s + b_t).
//
// Methods (work W and depth D per sequence; a product of two n x n matrices is 2 n^3 flops):
//  * sequential: one team per sequence, T matrix-vector steps. W = 2 T n^2, D = T.
//  * hillis_steele: inclusive prefix scan of the affine maps, log2 T levels; at level d every
//    t >= 2^d composes with t - 2^d. Double-buffered. Matrices of steps whose prefix is complete
//    after the level (t < 2^{d+1}) are not formed (their prefix includes the constant step 0).
//    W ~ 2 n^3 T log2 T, D = log2 T.
//  * blelloch: work-efficient scan (up-sweep, then down-sweep of the exclusive prefixes), on a
//    power-of-two padded index range with identity maps beyond T. Exclusive prefixes of t >= 1
//    all contain the constant step 0, so the down-sweep needs only matrix-vector products; a
//    last pass applies step t to its exclusive prefix. W ~ 2 n^3 T, D = 2 log2 T.
//  * cyclic_reduction: odd-even elimination. Level l keeps the steps S_l = {t : (t+1) mod 2^l
//    = 0}; each t in S_{l+1} absorbs its predecessor s = t - 2^l (A_t <- A_t A_s, b_t <- A_t b_s
//    + b_t), in place (reads of S_l \ S_{l+1}, writes of S_{l+1}). The first step of every S_l
//    is constant, so its value is its state. Back-substitution walks the levels down: every t in
//    S_l \ S_{l+1} gets h_t = A_t h_{t-2^l} + b_t from its stored level-l equation. W ~ 2 n^3 T,
//    D = 2 log2 T. Any T (the levels simply have odd sizes).
//  * chunked: chunks of length L. (1) every chunk composes its steps from a zero state (the
//    matrix product P_j and the offset v_j; chunk 0 starts from h0 and needs no product), (2) the
//    chunk boundaries are carried sequentially, s_{j+1} = P_j s_j + v_j, (3) every chunk reruns
//    its steps from s_j and writes h. W ~ 2 n^3 T + 4 n^2 T, D ~ 2 L + T / L.
//
// Backward: for a loss L with upstream gradients g_t = dL/dh_t, the adjoint r_t = g_t +
// A_{t+1}^T r_{t+1} (r_{T-1} = g_{T-1}) is a dense recurrence backwards in time with the
// transposed matrices. It is run with the chosen method on the reversed, transposed sequence;
// then dL/db_t = r_t, dL/dA_t = r_t h_{t-1}^T, dL/dh0 = A_0^T r_0.
//
// Layout: A (B, T, n, n), b and h (B, T, n), h0 and hT (B, n), all LayoutRight (row-major
// matrices). Matrix products are hand-written team kernels: rows over the team's threads,
// columns over vector lanes, results through team scratch when they overwrite an operand.
#pragma once

#include <Kokkos_Core.hpp>
#include <stdexcept>
#include <string>

#include "core/policy.hpp"

namespace frost::recurrence {

/// Dense methods. kAuto resolves through resolve_dense_plan.
enum class DenseMethod { kSequential, kHillisSteele, kBlelloch, kCyclicReduction, kChunked, kAuto };

/// Parses "sequential", "hillis_steele", "blelloch", "cyclic_reduction", "chunked", "auto".
DenseMethod parse_dense_method(const std::string& s);
std::string to_string(DenseMethod m);

struct DensePlan {
  DenseMethod method;
  int chunk;
};
/// What `auto` and `chunk = 0` stand for. The parallel methods do about n times the flops of
/// the sequential loop, so they pay only when the machine runs many more threads than the
/// sequential loop can use (B n rows): then cyclic reduction, the log-depth method with the
/// fewest matrix products (fastest or within 5 % of the fastest at every point of the seed's
/// grid on an H200). chunk = 0 picks about sqrt(T) (balances the chunk pass against the carry
/// pass).
DensePlan resolve_dense_plan(DenseMethod requested, int chunk, int B, int T, int n,
                             int concurrency);

/// Floating-point operations a method executes for one call (all batch elements), counting a
/// multiply-add as two. Used for GFLOP/s; the sequential count is the minimum.
double dense_flops(DenseMethod method, int chunk, int B, int T, int n);

/// Views of the dense recurrence in memory space `Mem` (scalar `S`).
template <class S, class Mem>
struct DenseViews {
  using Mats = Kokkos::View<S****, Kokkos::LayoutRight, Mem>;  ///< (B, T, n, n)
  using Vecs = Kokkos::View<S***, Kokkos::LayoutRight, Mem>;   ///< (B, T, n)
  using State = Kokkos::View<S**, Kokkos::LayoutRight, Mem>;   ///< (B, n)
};

namespace detail {

/// C = X Y (+ W when `add`) for an (r x k) X and a (k x q) Y, by register tiles: each thread of
/// the team sums a TM x TN block of C (r % TM == 0, q % TN == 0), reading TM values of X and TN
/// of Y per step of the inner index for TM TN multiply-adds. Every output is W(i, j) (or 0) plus
/// the k products in order of l, whatever the tile, so the tile does not change the result. The
/// operands are walked through pointers and strides: indexing the rank-2 subviews of rank-4 views
/// costs integer work per product that outweighs the multiply-add. C must not alias X or Y (it
/// may alias W, elementwise).
template <int TM, int TN, bool add, class Member, class MX, class MY, class MW, class MC>
KOKKOS_INLINE_FUNCTION void product_tiles(const Member& m, int r, int k, int q, const MX& X,
                                          const MY& Y, const MW& W, const MC& C) {
  using Acc = typename MC::non_const_value_type;
  const auto xs0 = X.stride(0), xs1 = X.stride(1), ys0 = Y.stride(0), ys1 = Y.stride(1);
  const auto* const x0 = X.data();
  const auto* const y0 = Y.data();
  const int tiles_per_row = q / TN;
  // Consecutive threads take consecutive column tiles: a warp reads rows of Y contiguously and
  // shares the rows of X.
  Kokkos::parallel_for(Kokkos::TeamThreadRange(m, (r / TM) * tiles_per_row), [&](int t) {
    const int i0 = (t / tiles_per_row) * TM, j0 = (t % tiles_per_row) * TN;
    Acc acc[TM][TN];
    for (int a = 0; a < TM; ++a)
      for (int c = 0; c < TN; ++c) {
        if constexpr (add)
          acc[a][c] = W(i0 + a, j0 + c);
        else
          acc[a][c] = 0;
      }
    const auto* xi = x0 + i0 * xs0;
    const auto* yj = y0 + j0 * ys1;
    for (int l = 0; l < k; ++l) {
      Acc xv[TM], yv[TN];
      for (int a = 0; a < TM; ++a) xv[a] = xi[a * xs0 + l * xs1];
      for (int c = 0; c < TN; ++c) yv[c] = yj[l * ys0 + c * ys1];
      for (int a = 0; a < TM; ++a)
        for (int c = 0; c < TN; ++c) acc[a][c] += xv[a] * yv[c];
    }
    for (int a = 0; a < TM; ++a)
      for (int c = 0; c < TN; ++c) C(i0 + a, j0 + c) = acc[a][c];
  });
}

/// C = X Y (+ W when `add`) for an (r x k) X and a (k x q) Y; C must not alias X or Y (it may
/// alias W, elementwise). GPUs: register tiles (product_tiles), 4 x 4 where the team still has
/// a tile for every thread, else 2 x 2, else one output per thread; team policies run one thread
/// per vector lane there, so rows by threads and columns by lanes would leave all but r threads
/// idle and update C in memory k times. Hosts: rows by threads, the k products of a row added
/// into it with the columns as vector lanes (contiguous, vectorised).
template <bool add, class Member, class MX, class MY, class MW, class MC>
KOKKOS_INLINE_FUNCTION void team_product(const Member& m, int r, int k, int q, const MX& X,
                                         const MY& Y, const MW& W, const MC& C) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  const int threads = m.team_size();
  if (r % 4 == 0 && q % 4 == 0 && (r / 4) * (q / 4) >= threads)
    product_tiles<4, 4, add>(m, r, k, q, X, Y, W, C);
  else if (r % 2 == 0 && q % 2 == 0 && (r / 2) * (q / 2) >= threads)
    product_tiles<2, 2, add>(m, r, k, q, X, Y, W, C);
  else
    product_tiles<1, 1, add>(m, r, k, q, X, Y, W, C);
#else
  Kokkos::parallel_for(Kokkos::TeamThreadRange(m, r), [&](int i) {
    if constexpr (add) {
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(m, q), [&](int j) { C(i, j) = W(i, j); });
    } else {
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(m, q), [&](int j) { C(i, j) = 0; });
    }
    for (int l = 0; l < k; ++l) {
      const auto x = X(i, l);
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(m, q), [&](int j) { C(i, j) += x * Y(l, j); });
    }
  });
#endif
}

/// C = X Y for n x n matrices (C must not alias X or Y).
template <class Member, class MX, class MY, class MC>
KOKKOS_INLINE_FUNCTION void team_gemm(const Member& m, int n, const MX& X, const MY& Y,
                                      const MC& C) {
  team_product<false>(m, n, n, n, X, Y, C, C);
}

/// y = M v + w for an (r x c) M, elementwise in i, so y may alias w (not v).
template <class Member, class MM, class VV, class VW, class VY>
KOKKOS_INLINE_FUNCTION void team_gemv(const Member& m, int r, int c, const MM& M, const VV& v,
                                      const VW& w, const VY& y) {
  using S = typename VY::non_const_value_type;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(m, r), [&](int i) {
    S s = 0;
    Kokkos::parallel_reduce(
        Kokkos::ThreadVectorRange(m, c), [&](int j, S& acc) { acc += M(i, j) * v(j); }, s);
    Kokkos::single(Kokkos::PerThread(m), [&]() { y(i) = s + w(i); });
  });
}

/// y = M v + w for an n x n M.
template <class Member, class MM, class VV, class VW, class VY>
KOKKOS_INLINE_FUNCTION void team_gemv(const Member& m, int n, const MM& M, const VV& v, const VW& w,
                                      const VY& y) {
  team_gemv(m, n, n, M, v, w, y);
}

/// Row blocks per matrix product at a level of `products` independent products of size n:
/// enough that the level launches about `teams_wanted` teams, at most one block per 4 rows.
/// Splitting rows does not change any output (each is summed in the same order).
inline int row_blocks(long long products, int n, long long teams_wanted) {
  const long long want = (teams_wanted + products - 1) / products;
  const long long most = n >= 8 ? n / 4 : 1;
  return static_cast<int>(want < 1 ? 1 : want > most ? most : want);
}

/// to = from for (r x c) matrices.
template <class Member, class MA, class MB>
KOKKOS_INLINE_FUNCTION void team_copy_matrix(const Member& m, int r, int c, const MA& from,
                                             const MB& to) {
  Kokkos::parallel_for(Kokkos::TeamThreadRange(m, r), [&](int i) {
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(m, c), [&](int j) { to(i, j) = from(i, j); });
  });
}

/// to = from for n x n matrices.
template <class Member, class MA, class MB>
KOKKOS_INLINE_FUNCTION void team_copy_matrix(const Member& m, int n, const MA& from, const MB& to) {
  team_copy_matrix(m, n, n, from, to);
}

template <class Exec>
Kokkos::TeamPolicy<Exec> team_policy(const Exec& exec, int league, int n, std::size_t scratch) {
  Kokkos::TeamPolicy<Exec> p(exec, league, Kokkos::AUTO);
  if (scratch > 0) p.set_scratch_size(1, Kokkos::PerTeam(scratch));
  (void)n;
  return p;
}

template <class S, class Exec>
using ScratchMat = Kokkos::View<S**, Kokkos::LayoutRight, typename Exec::scratch_memory_space,
                                Kokkos::MemoryUnmanaged>;

/// work(b, 0, :) = A(b, 0) h0(b) + bvec(b, 0) and work(b, t) = bvec(b, t) for t >= 1.
template <class Exec, class S, class Mem>
void fold_initial_state(const Exec& exec, const typename DenseViews<S, Mem>::Mats& A,
                        const typename DenseViews<S, Mem>::Vecs& bvec,
                        const typename DenseViews<S, Mem>::State& h0,
                        const typename DenseViews<S, Mem>::Vecs& work) {
  Kokkos::deep_copy(exec, work, bvec);
  const int n = static_cast<int>(A.extent(2));
  using Member = typename Kokkos::TeamPolicy<Exec>::member_type;
  Kokkos::parallel_for(
      "frost::recurrence::dense_fold_h0", team_policy(exec, static_cast<int>(A.extent(0)), n, 0),
      KOKKOS_LAMBDA(const Member& m) {
        const int b = m.league_rank();
        auto A0 = Kokkos::subview(A, b, 0, Kokkos::ALL, Kokkos::ALL);
        auto h = Kokkos::subview(h0, b, Kokkos::ALL);
        auto y = Kokkos::subview(work, b, 0, Kokkos::ALL);
        team_gemv(m, n, A0, h, y, y);
      });
}

/// hT(b) = h(b, T-1).
template <class Exec, class S, class Mem>
void copy_final_state(const Exec& exec, const typename DenseViews<S, Mem>::Vecs& h,
                      const typename DenseViews<S, Mem>::State& hT) {
  const int T = static_cast<int>(h.extent(1));
  Kokkos::deep_copy(exec, hT, Kokkos::subview(h, Kokkos::ALL, T - 1, Kokkos::ALL));
}

}  // namespace detail

/// Forward pass: h (B, T, n) and the final state hT (B, n) from A, b and h0. `method` must be
/// resolved (not kAuto); `chunk` >= 1 is used by kChunked. h must not alias b. `teams_wanted`:
/// teams a cyclic-reduction level should launch (0: one per 128 resident threads of a device,
/// one per thread of a host); the result does not depend on it.
template <class Exec, class S, class Mem>
void dense_forward(const Exec& exec, DenseMethod method, int chunk,
                   const typename DenseViews<S, Mem>::Mats& A,
                   const typename DenseViews<S, Mem>::Vecs& bvec,
                   const typename DenseViews<S, Mem>::State& h0,
                   const typename DenseViews<S, Mem>::Vecs& h,
                   const typename DenseViews<S, Mem>::State& hT, long long teams_wanted = 0) {
  using V = DenseViews<S, Mem>;
  using Member = typename Kokkos::TeamPolicy<Exec>::member_type;
  using Scr = detail::ScratchMat<S, Exec>;
  const int B = static_cast<int>(A.extent(0)), T = static_cast<int>(A.extent(1)),
            n = static_cast<int>(A.extent(2));
  if (T == 0) {
    Kokkos::deep_copy(exec, hT, h0);
    return;
  }
  const std::size_t mat_scratch = Scr::shmem_size(n, n);
  auto alloc = [&](const char* label) {
    return Kokkos::view_alloc(exec, Kokkos::WithoutInitializing, std::string(label));
  };

  if (method == DenseMethod::kSequential || (method == DenseMethod::kChunked && chunk >= T)) {
    Kokkos::parallel_for(
        "frost::recurrence::dense_sequential", detail::team_policy(exec, B, n, 0),
        KOKKOS_LAMBDA(const Member& m) {
          const int b = m.league_rank();
          for (int t = 0; t < T; ++t) {
            auto At = Kokkos::subview(A, b, t, Kokkos::ALL, Kokkos::ALL);
            auto bt = Kokkos::subview(bvec, b, t, Kokkos::ALL);
            auto ht = Kokkos::subview(h, b, t, Kokkos::ALL);
            if (t == 0)
              detail::team_gemv(m, n, At, Kokkos::subview(h0, b, Kokkos::ALL), bt, ht);
            else
              detail::team_gemv(m, n, At, Kokkos::subview(h, b, t - 1, Kokkos::ALL), bt, ht);
            m.team_barrier();  // step t+1 reads all of h_t
          }
        });
    detail::copy_final_state<Exec, S, Mem>(exec, h, hT);
    return;
  }

  if (method == DenseMethod::kHillisSteele) {
    // v buffers hold the offsets (v_t = h_t once complete); M buffers the matrices.
    typename V::Vecs v0(alloc("frost::recurrence::hs_v0"), B, T, n),
        v1(alloc("frost::recurrence::hs_v1"), B, T, n);
    typename V::Mats m0, m1;
    if (T > 2) {
      m0 = typename V::Mats(alloc("frost::recurrence::hs_m0"), B, T, n, n);
      m1 = typename V::Mats(alloc("frost::recurrence::hs_m1"), B, T, n, n);
    }
    detail::fold_initial_state<Exec, S, Mem>(exec, A, bvec, h0, v0);
    bool first = true;  // at level 0 the matrices are read from A itself
    for (int d = 1; d < T; d *= 2) {
      const auto vin = v0, vout = v1;
      const auto min = first ? A : m0, mout = m1;
      const int dd = d;
      Kokkos::parallel_for(
          "frost::recurrence::dense_hs_level", detail::team_policy(exec, B * T, n, 0),
          KOKKOS_LAMBDA(const Member& m) {
            const int b = m.league_rank() / T, t = m.league_rank() % T;
            auto y = Kokkos::subview(vout, b, t, Kokkos::ALL);
            if (t < dd) {
              Kokkos::parallel_for(Kokkos::TeamThreadRange(m, n),
                                   [&](int i) { y(i) = vin(b, t, i); });
              return;
            }
            auto Mt = Kokkos::subview(min, b, t, Kokkos::ALL, Kokkos::ALL);
            detail::team_gemv(m, n, Mt, Kokkos::subview(vin, b, t - dd, Kokkos::ALL),
                              Kokkos::subview(vin, b, t, Kokkos::ALL), y);
            if (t >= 2 * dd)
              detail::team_gemm(m, n, Mt, Kokkos::subview(min, b, t - dd, Kokkos::ALL, Kokkos::ALL),
                                Kokkos::subview(mout, b, t, Kokkos::ALL, Kokkos::ALL));
          });
      std::swap(v0, v1);
      std::swap(m0, m1);
      first = false;
    }
    Kokkos::deep_copy(exec, h, v0);
    detail::copy_final_state<Exec, S, Mem>(exec, h, hT);
    return;
  }

  if (method == DenseMethod::kBlelloch) {
    int P = 1;
    while (P < T) P *= 2;
    // Padded copies: identity maps beyond T.
    typename V::Mats M(alloc("frost::recurrence::bl_m"), B, P, n, n);
    typename V::Vecs v(alloc("frost::recurrence::bl_v"), B, P, n);
    Kokkos::parallel_for(
        "frost::recurrence::dense_bl_init",
        core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {B, P, n}),
        KOKKOS_LAMBDA(int b, int t, int i) {
          for (int j = 0; j < n; ++j) M(b, t, i, j) = t < T ? A(b, t, i, j) : S(i == j ? 1 : 0);
          v(b, t, i) = t < T ? bvec(b, t, i) : S(0);
        });
    Kokkos::parallel_for(
        "frost::recurrence::dense_fold_h0", detail::team_policy(exec, B, n, 0),
        KOKKOS_LAMBDA(const Member& m) {
          const int b = m.league_rank();
          auto y = Kokkos::subview(v, b, 0, Kokkos::ALL);
          detail::team_gemv(m, n, Kokkos::subview(A, b, 0, Kokkos::ALL, Kokkos::ALL),
                            Kokkos::subview(h0, b, Kokkos::ALL), y, y);
        });
    // Up-sweep: node r = k 2^{d+1} + 2^{d+1} - 1 absorbs l = r - 2^d (first l, then r).
    for (int d = 1; d < P; d *= 2) {
      const int count = P / (2 * d), dd = d;
      Kokkos::parallel_for(
          "frost::recurrence::dense_bl_up", detail::team_policy(exec, B * count, n, mat_scratch),
          KOKKOS_LAMBDA(const Member& m) {
            const int b = m.league_rank() / count, k = m.league_rank() % count;
            const int r = (k + 1) * 2 * dd - 1, l = r - dd;
            if (l - dd + 1 >= T) return;  // both halves are padding: stays the identity
            auto Mr = Kokkos::subview(M, b, r, Kokkos::ALL, Kokkos::ALL);
            auto vr = Kokkos::subview(v, b, r, Kokkos::ALL);
            detail::team_gemv(m, n, Mr, Kokkos::subview(v, b, l, Kokkos::ALL), vr, vr);
            if (k == 0) return;  // contains step 0: a constant map, its matrix is never read
            Scr tmp(m.team_scratch(1), n, n);
            detail::team_gemm(m, n, Mr, Kokkos::subview(M, b, l, Kokkos::ALL, Kokkos::ALL), tmp);
            m.team_barrier();
            detail::team_copy_matrix(m, n, tmp, Mr);
          });
    }
    // Down-sweep of exclusive prefixes: only offsets (prefixes of t >= 1 are constant maps).
    Kokkos::parallel_for(
        "frost::recurrence::dense_bl_root", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {B, n}),
        KOKKOS_LAMBDA(int b, int i) { v(b, P - 1, i) = 0; });
    for (int d = P / 2; d >= 1; d /= 2) {
      const int count = P / (2 * d), dd = d;
      using ScrVec = Kokkos::View<S*, typename Exec::scratch_memory_space, Kokkos::MemoryUnmanaged>;
      Kokkos::parallel_for(
          "frost::recurrence::dense_bl_down",
          detail::team_policy(exec, B * count, n, ScrVec::shmem_size(n)),
          KOKKOS_LAMBDA(const Member& m) {
            const int b = m.league_rank() / count, k = m.league_rank() % count;
            const int r = (k + 1) * 2 * dd - 1, l = r - dd;
            if (l - dd + 1 >= T) return;  // only padding below: its prefixes are never used
            // The node's prefix E (offset v_r) goes to the left child; the right child gets E
            // followed by the left half: M_l v_r + v_l. For the leftmost node E is empty (v_r =
            // 0) and M_l, a map containing step 0, was never formed, so it is not read.
            auto vl = Kokkos::subview(v, b, l, Kokkos::ALL);
            auto vr = Kokkos::subview(v, b, r, Kokkos::ALL);
            ScrVec tmp(m.team_scratch(1), n);
            if (k == 0) {
              Kokkos::parallel_for(Kokkos::TeamThreadRange(m, n), [&](int i) { tmp(i) = vl(i); });
            } else {
              detail::team_gemv(m, n, Kokkos::subview(M, b, l, Kokkos::ALL, Kokkos::ALL), vr, vl,
                                tmp);
            }
            m.team_barrier();
            Kokkos::parallel_for(Kokkos::TeamThreadRange(m, n), [&](int i) {
              vl(i) = vr(i);
              vr(i) = tmp(i);
            });
          });
    }
    // Inclusive from exclusive: h_t = A_t h_{t-1} + b_t, with h_{-1} = h0 and h_{t-1} = v_t.
    Kokkos::parallel_for(
        "frost::recurrence::dense_bl_apply", detail::team_policy(exec, B * T, n, 0),
        KOKKOS_LAMBDA(const Member& m) {
          const int b = m.league_rank() / T, t = m.league_rank() % T;
          auto At = Kokkos::subview(A, b, t, Kokkos::ALL, Kokkos::ALL);
          auto bt = Kokkos::subview(bvec, b, t, Kokkos::ALL);
          auto ht = Kokkos::subview(h, b, t, Kokkos::ALL);
          if (t == 0)
            detail::team_gemv(m, n, At, Kokkos::subview(h0, b, Kokkos::ALL), bt, ht);
          else
            detail::team_gemv(m, n, At, Kokkos::subview(v, b, t, Kokkos::ALL), bt, ht);
        });
    detail::copy_final_state<Exec, S, Mem>(exec, h, hT);
    return;
  }

  if (method == DenseMethod::kCyclicReduction) {
    typename V::Mats M(alloc("frost::recurrence::cr_m"), B, T, n, n);
    Kokkos::deep_copy(exec, M, A);
    detail::fold_initial_state<Exec, S, Mem>(exec, A, bvec, h0, h);  // h holds the b's, then h
    int levels = 0;
    while ((2 << levels) <= T) ++levels;  // |S_l| = T >> l: S_levels has one element
    // Reduction: level l -> l+1. Late levels hold few products, one team each would leave most
    // of a GPU idle for a whole product: their rows are split over several teams (row_blocks).
    // A team updates rows [r0, r1) of h_t and M_t, reading only those rows of M_t and all of
    // h_s and M_s (s is not updated at this level).
    if (teams_wanted <= 0)
      teams_wanted = std::max<long long>(
          1, exec.concurrency() /
                 (Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible ? 1 : 128));
    for (int l = 0; l < levels; ++l) {
      const int step = 1 << l, count = T >> (l + 1);  // |S_{l+1}|
      const int blocks = detail::row_blocks(static_cast<long long>(B) * count, n, teams_wanted);
      const int rows = (n + blocks - 1) / blocks;
      Kokkos::parallel_for(
          "frost::recurrence::dense_cr_reduce",
          detail::team_policy(exec, B * count * blocks, n, Scr::shmem_size(rows, n)),
          KOKKOS_LAMBDA(const Member& m) {
            const int item = m.league_rank() / blocks, block = m.league_rank() % blocks;
            const int b = item / count, k = item % count;
            const int r0 = block * rows, r1 = r0 + rows < n ? r0 + rows : n;
            if (r0 >= r1) return;
            const int t = (k + 1) * 2 * step - 1, s = t - step;
            const auto band = Kokkos::make_pair(r0, r1);
            auto Mt = Kokkos::subview(M, b, t, band, Kokkos::ALL);
            auto ht = Kokkos::subview(h, b, t, band);
            detail::team_gemv(m, r1 - r0, n, Mt, Kokkos::subview(h, b, s, Kokkos::ALL), ht, ht);
            if (k == 0) return;  // first of S_{l+1}: now constant, its matrix is never read
            Scr tmp(m.team_scratch(1), r1 - r0, n);
            detail::team_product<false>(
                m, r1 - r0, n, n, Mt, Kokkos::subview(M, b, s, Kokkos::ALL, Kokkos::ALL), tmp, tmp);
            m.team_barrier();
            detail::team_copy_matrix(m, r1 - r0, n, tmp, Mt);
          });
    }
    // Back-substitution: t in S_l \ S_{l+1}, t >= 2^l (the first of S_l is already solved).
    for (int l = levels - 1; l >= 0; --l) {
      const int step = 1 << l;
      const int count = (T >> l) - (T >> (l + 1));  // |S_l \ S_{l+1}|
      if (count <= 1) continue;
      Kokkos::parallel_for(
          "frost::recurrence::dense_cr_backsub", detail::team_policy(exec, B * (count - 1), n, 0),
          KOKKOS_LAMBDA(const Member& m) {
            const int b = m.league_rank() / (count - 1), k = m.league_rank() % (count - 1) + 1;
            const int t = (2 * k + 1) * step - 1;
            auto ht = Kokkos::subview(h, b, t, Kokkos::ALL);
            detail::team_gemv(m, n, Kokkos::subview(M, b, t, Kokkos::ALL, Kokkos::ALL),
                              Kokkos::subview(h, b, t - step, Kokkos::ALL), ht, ht);
          });
    }
    detail::copy_final_state<Exec, S, Mem>(exec, h, hT);
    return;
  }

  if (method == DenseMethod::kChunked) {
    if (chunk < 1) throw std::invalid_argument("dense_forward: chunk must be >= 1");
    const int L = chunk, nc = (T + L - 1) / L;
    typename V::Mats P(alloc("frost::recurrence::ch_p"), B, nc, n, n);
    typename V::Vecs s(alloc("frost::recurrence::ch_s"), B, nc + 1, n);
    // (1) per chunk: offset from a zero state (chunk 0: from h0) and, for j >= 1, the product.
    Kokkos::parallel_for(
        "frost::recurrence::dense_chunk_reduce", detail::team_policy(exec, B * nc, n, mat_scratch),
        KOKKOS_LAMBDA(const Member& m) {
          const int b = m.league_rank() / nc, j = m.league_rank() % nc;
          const int t0 = j * L, t1 = t0 + L < T ? t0 + L : T;
          auto out = Kokkos::subview(s, b, j + 1, Kokkos::ALL);
          // The running offset lives in h (rows of this chunk), rewritten in pass (3).
          for (int t = t0; t < t1; ++t) {
            auto ht = Kokkos::subview(h, b, t, Kokkos::ALL);
            auto bt = Kokkos::subview(bvec, b, t, Kokkos::ALL);
            auto At = Kokkos::subview(A, b, t, Kokkos::ALL, Kokkos::ALL);
            if (t == t0) {
              if (j == 0)
                detail::team_gemv(m, n, At, Kokkos::subview(h0, b, Kokkos::ALL), bt, ht);
              else
                Kokkos::parallel_for(Kokkos::TeamThreadRange(m, n), [&](int i) { ht(i) = bt(i); });
            } else {
              detail::team_gemv(m, n, At, Kokkos::subview(h, b, t - 1, Kokkos::ALL), bt, ht);
            }
            m.team_barrier();
          }
          Kokkos::parallel_for(Kokkos::TeamThreadRange(m, n),
                               [&](int i) { out(i) = h(b, t1 - 1, i); });
          if (j == 0) return;
          auto Pj = Kokkos::subview(P, b, j, Kokkos::ALL, Kokkos::ALL);
          Scr tmp(m.team_scratch(1), n, n);
          detail::team_copy_matrix(m, n, Kokkos::subview(A, b, t0, Kokkos::ALL, Kokkos::ALL), Pj);
          m.team_barrier();
          for (int t = t0 + 1; t < t1; ++t) {
            detail::team_gemm(m, n, Kokkos::subview(A, b, t, Kokkos::ALL, Kokkos::ALL), Pj, tmp);
            m.team_barrier();
            detail::team_copy_matrix(m, n, tmp, Pj);
            m.team_barrier();
          }
        });
    // (2) carry: s(b, j) becomes the state entering chunk j (s(b, 0) = h0).
    Kokkos::parallel_for(
        "frost::recurrence::dense_chunk_carry", detail::team_policy(exec, B, n, 0),
        KOKKOS_LAMBDA(const Member& m) {
          const int b = m.league_rank();
          Kokkos::parallel_for(Kokkos::TeamThreadRange(m, n),
                               [&](int i) { s(b, 0, i) = h0(b, i); });
          m.team_barrier();
          // s(b, 1) already is the end of chunk 0; later ends add P_j times the entering state.
          for (int j = 1; j < nc; ++j) {
            auto sj = Kokkos::subview(s, b, j + 1, Kokkos::ALL);
            detail::team_gemv(m, n, Kokkos::subview(P, b, j, Kokkos::ALL, Kokkos::ALL),
                              Kokkos::subview(s, b, j, Kokkos::ALL), sj, sj);
            m.team_barrier();
          }
        });
    // (3) rerun chunks j >= 1 from their entering state (chunk 0 is already exact).
    if (nc > 1)
      Kokkos::parallel_for(
          "frost::recurrence::dense_chunk_fixup", detail::team_policy(exec, B * (nc - 1), n, 0),
          KOKKOS_LAMBDA(const Member& m) {
            const int b = m.league_rank() / (nc - 1), j = m.league_rank() % (nc - 1) + 1;
            const int t0 = j * L, t1 = t0 + L < T ? t0 + L : T;
            for (int t = t0; t < t1; ++t) {
              auto ht = Kokkos::subview(h, b, t, Kokkos::ALL);
              auto prev = t == t0 ? Kokkos::subview(s, b, j, Kokkos::ALL)
                                  : Kokkos::subview(h, b, t - 1, Kokkos::ALL);
              detail::team_gemv(m, n, Kokkos::subview(A, b, t, Kokkos::ALL, Kokkos::ALL), prev,
                                Kokkos::subview(bvec, b, t, Kokkos::ALL), ht);
              m.team_barrier();
            }
          });
    Kokkos::deep_copy(exec, hT, Kokkos::subview(s, Kokkos::ALL, nc, Kokkos::ALL));
    return;
  }
  throw std::invalid_argument("dense_forward: unresolved method");
}

/// Backward pass from upstream gradients g = dL/dh (B, T, n) and the forward states h: writes
/// grad_A (B, T, n, n), grad_b (B, T, n) and grad_h0 (B, n). The adjoint recurrence runs with
/// the same method and chunk length on the time-reversed, transposed matrices.
template <class Exec, class S, class Mem>
void dense_backward(const Exec& exec, DenseMethod method, int chunk,
                    const typename DenseViews<S, Mem>::Mats& A,
                    const typename DenseViews<S, Mem>::State& h0,
                    const typename DenseViews<S, Mem>::Vecs& h,
                    const typename DenseViews<S, Mem>::Vecs& g,
                    const typename DenseViews<S, Mem>::Mats& grad_A,
                    const typename DenseViews<S, Mem>::Vecs& grad_b,
                    const typename DenseViews<S, Mem>::State& grad_h0) {
  using V = DenseViews<S, Mem>;
  using Member = typename Kokkos::TeamPolicy<Exec>::member_type;
  const int B = static_cast<int>(A.extent(0)), T = static_cast<int>(A.extent(1)),
            n = static_cast<int>(A.extent(2));
  if (T == 0) {
    Kokkos::deep_copy(exec, grad_h0, S(0));
    return;
  }
  auto alloc = [&](const char* label) {
    return Kokkos::view_alloc(exec, Kokkos::WithoutInitializing, std::string(label));
  };
  // Reversed problem, step tau = T-1-t: matrix A_{t+1}^T (zero for tau = 0, whose initial state
  // is zero anyway), offset g_t. Its states are r_{T-1-tau}. grad_A serves as the buffer of the
  // reversed matrices (it is overwritten by the outer products afterwards).
  typename V::Vecs grev(alloc("frost::recurrence::adj_g"), B, T, n),
      rrev(alloc("frost::recurrence::adj_r"), B, T, n);
  typename V::State zero("frost::recurrence::adj_zero", B, n),
      rT(alloc("frost::recurrence::adj_rT"), B, n);
  const auto Arev = grad_A;
  Kokkos::parallel_for(
      "frost::recurrence::dense_adjoint_setup",
      core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {B, T, n}),
      KOKKOS_LAMBDA(int b, int tau, int i) {
        const int t = T - 1 - tau;
        grev(b, tau, i) = g(b, t, i);
        for (int j = 0; j < n; ++j) Arev(b, tau, i, j) = tau == 0 ? S(0) : A(b, t + 1, j, i);
      });
  dense_forward<Exec, S, Mem>(exec, method, chunk, Arev, grev, zero, rrev, rT);
  Kokkos::parallel_for(
      "frost::recurrence::dense_adjoint_grads",
      core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {B, T, n}), KOKKOS_LAMBDA(int b, int t, int i) {
        const S r = rrev(b, T - 1 - t, i);
        grad_b(b, t, i) = r;
        for (int j = 0; j < n; ++j) grad_A(b, t, i, j) = r * (t == 0 ? h0(b, j) : h(b, t - 1, j));
      });
  Kokkos::parallel_for(
      "frost::recurrence::dense_grad_h0", detail::team_policy(exec, B, n, 0),
      KOKKOS_LAMBDA(const Member& m) {
        const int b = m.league_rank();
        Kokkos::parallel_for(Kokkos::TeamThreadRange(m, n), [&](int j) {
          S s = 0;
          for (int i = 0; i < n; ++i) s += A(b, 0, i, j) * rrev(b, T - 1, i);
          grad_h0(b, j) = s;
        });
      });
}

}  // namespace frost::recurrence
