// Eigenstate recurrence of Temporal Eigenstate Networks: K independent complex modes per batch
// element,
//
//   c_k[t] = a_k c_k[t-1] + beta_k[t],   a_k = lambda_k e^{i omega_k},   t = 0 .. T-1,
//
// with c_k[-1] = c0_k given and c_k[T-1] returned as the final state, so that a sequence cut
// into pieces can be run piece by piece (the final state of one piece is the initial state of
// the next).
//
// Methods:
//  * sequential: one thread per (batch, mode) walks the whole time axis (depth T, the least
//    work and the least memory traffic: beta read once, c written once).
//  * chunked: the time axis is cut into chunks of length L. (1) reduce: every (batch, chunk,
//    mode) computes the chunk's end value from a zero state, e_j = sum_t a^{end-t} beta[t]
//    (reads beta, writes nothing of size T); (2) carry: every (batch, mode) combines the chunk
//    ends, s_{j+1} = a^{L_j} s_j + e_j, s_0 = c0 (depth T/L); (3) fix-up: every (batch, chunk,
//    mode) rescans its chunk from the carried state s_j and writes c. This reduce-then-rescan
//    order reads beta twice and writes c once, against read-write-read-write for a local scan
//    followed by an additive correction, so it moves fewer bytes for the same depth.
//  * tiled: one kernel that reads beta once and writes c once (the floor's traffic). A team
//    owns one batch element and a group of M adjacent modes and walks the time axis in tiles
//    of P lanes x kTileSteps steps: every thread (mode, lane) loads its kTileSteps values into
//    registers (the next tile's loads are issued before the current tile is combined), scans
//    them from zero, the team scans the lanes' affine maps (a^n, end) in shared memory
//    (Hillis-Steele over P), and every thread adds a^{i+1} times the state entering its lane
//    and writes. The state leaving the tile stays in the team for the next one. On GPUs M is
//    a warp of modes (coalesced rows); on host backends M = 1 and P is the team size.
//
// Backward (adjoint) for a real loss L with upstream gradients g[t] = dL/dc[t] (complex
// convention G_z = dL/dRe z + i dL/dIm z): the adjoint d[t] = g[t] + conj(a) d[t+1], d[T] = 0,
// is the same recurrence run backwards in time with conj(a), and
//   dL/dbeta[t] = d[t],   dL/dc0 = conj(a) d[0],   G_a = sum_{b,t} d[t] conj(c[t-1]),
//   dL/dlambda = Re(conj(G_a) e^{i omega}),   dL/domega = Re(conj(G_a) i a).
// dL/dlambda and dL/domega are summed over the batch (the parameters are shared).
//
// Layout: beta and c are (B, T, K), LayoutRight, so consecutive modes are adjacent in memory
// and threads of neighbouring modes read neighbouring addresses at every time step.
#pragma once

#include <Kokkos_Complex.hpp>
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/policy.hpp"
#include "core/scratch.hpp"

namespace frost::recurrence {

/// Eigenstate methods. kAuto resolves through resolve_eigen_method.
enum class EigenMethod { kSequential, kChunked, kTiled, kAuto };

/// Parses "sequential", "chunked", "tiled" or "auto"; throws std::invalid_argument otherwise.
EigenMethod parse_eigen_method(const std::string& s);
std::string to_string(EigenMethod m);

/// The method and chunk length `auto` and `chunk = 0` stand for, for a machine running
/// `concurrency` threads at once: the sequential loop when batch x modes already fills the
/// machine several times over (it moves the fewest bytes), else chunks short enough that
/// batch x modes x chunks does. On a GPU (`gpu`) the tiled scan, which moves the fewest bytes
/// in parallel, when its teams (batch x modes / 16 teams of 256 threads) fill at least an eighth
/// of the machine; the chunked scan's extra parallelism below that. `chunk` > 0 is kept as given.
struct EigenPlan {
  EigenMethod method;
  int chunk;
};
EigenPlan resolve_eigen_plan(EigenMethod requested, int chunk, int B, int T, int K, int concurrency,
                             bool gpu = false);

/// resolve_eigen_plan for execution space instance `exec`.
template <class Exec>
EigenPlan resolve_eigen_plan_on(const Exec& exec, EigenMethod requested, int chunk, int B, int T,
                                int K) {
  return resolve_eigen_plan(
      requested, chunk, B, T, K, exec.concurrency(),
      !Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename Exec::memory_space>::accessible);
}

/// Inputs and outputs of the eigenstate recurrence in memory space `Mem` (scalar `S`: float or
/// double). Shapes: beta, c, grad_c: (B, T, K); c0, cT: (B, K); lambda, omega: (K).
template <class S, class Mem>
struct EigenViews {
  using complex_type = Kokkos::complex<S>;
  using Seq = Kokkos::View<complex_type***, Kokkos::LayoutRight, Mem>;      ///< (B, T, K)
  using State = Kokkos::View<complex_type**, Kokkos::LayoutRight, Mem>;     ///< (B, K)
  using Param = Kokkos::View<S*, Mem>;                                      ///< (K)
  using Coef = Kokkos::View<complex_type*, Mem>;                            ///< (K)
  using Partial = Kokkos::View<complex_type***, Kokkos::LayoutRight, Mem>;  ///< (B, chunks, K)
};

/// Scratch of eigen_forward and eigen_backward (coefficients, chunk carries, adjoint states,
/// partial sums), kept by a caller that scans repeatedly so that no call allocates after the
/// first. Calls without one allocate their scratch each time.
template <class S, class Mem>
struct EigenWorkspace {
  core::GrowingBuffer<Kokkos::complex<S>, Mem> coef, ends, zero, d0, partial;
};

namespace detail {

/// a_k = lambda_k e^{i omega_k}, or its conjugate (the adjoint runs with conj(a)).
template <class Exec, class S, class Mem>
void eigen_coefficients(const Exec& exec, const typename EigenViews<S, Mem>::Param& lambda,
                        const typename EigenViews<S, Mem>::Param& omega, bool conjugate,
                        const typename EigenViews<S, Mem>::Coef& a) {
  Kokkos::parallel_for(
      "frost::recurrence::eigen_coefficients",
      Kokkos::RangePolicy<Exec>(exec, 0, static_cast<int>(lambda.extent(0))), KOKKOS_LAMBDA(int k) {
        const S l = lambda(k), w = omega(k);
        a(k) = Kokkos::complex<S>(l * Kokkos::Experimental::cos(w),
                                  (conjugate ? -l : l) * Kokkos::Experimental::sin(w));
      });
}

/// Modes per thread: on host backends a thread walks a block of adjacent modes with time
/// outermost, so each step reads and writes contiguous memory (one cache line serves several
/// modes); on GPUs one mode per thread, and neighbouring threads make the accesses coalesced.
template <class Exec>
constexpr int modes_per_thread() {
  return Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename Exec::memory_space>::accessible ? 64
                                                                                                : 1;
}

/// The scan over one time window [t0, t1) of modes [k0, k0 + kw) (kw <= W) of batch b, in
/// either direction, from states s[]; writes out(b, t, k) when `write`; leaves the last states
/// in s[]. `reverse` walks t1-1 down to t0.
template <int W, class S, class SeqIn, class SeqOut>
KOKKOS_INLINE_FUNCTION void scan_block(const SeqIn& in, const SeqOut& out, int b, int k0, int kw,
                                       int t0, int t1, bool reverse, const Kokkos::complex<S>* a,
                                       Kokkos::complex<S>* s, bool write) {
  const int n = t1 - t0;
  for (int i = 0; i < n; ++i) {
    const int t = reverse ? t1 - 1 - i : t0 + i;
    for (int j = 0; j < kw; ++j) {
      s[j] = a[j] * s[j] + in(b, t, k0 + j);
      if (write) out(b, t, k0 + j) = s[j];
    }
  }
}

/// Time steps per thread and tile in the tiled method (held in registers, twice over while the
/// next tile loads).
constexpr int kTileSteps = 8;

/// The tiled scan (see the file comment): team (b, mode group), thread (lane p, mode m).
template <class Exec, class S, class Mem>
struct EigenTiledScan {
  using C = Kokkos::complex<S>;
  using Team = typename Kokkos::TeamPolicy<Exec>::member_type;
  using Scratch = Kokkos::View<C*, typename Exec::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  typename EigenViews<S, Mem>::Coef a;
  typename EigenViews<S, Mem>::State x0, xT;
  typename EigenViews<S, Mem>::Seq in, out;
  int T, K, groups, modes, lanes;  // modes (M) per team, lanes (P) per tile
  bool reverse;

  static std::size_t scratch_bytes(int modes, int lanes) {
    return 2 * Scratch::shmem_size(modes * lanes) + Scratch::shmem_size(modes);
  }

  KOKKOS_INLINE_FUNCTION void load(int b, int k, int u0, C* v) const {
    for (int i = 0; i < kTileSteps; ++i) {
      const int u = u0 + i;
      v[i] = u < T ? in(b, reverse ? T - 1 - u : u, k) : C(0);
    }
  }

  KOKKOS_INLINE_FUNCTION void operator()(const Team& team) const {
    const int b = team.league_rank() / groups;
    const int m = team.team_rank() % modes, p = team.team_rank() / modes;
    const int k = (team.league_rank() % groups) * modes + m;
    const bool active = k < K;
    Scratch span_a(team.team_scratch(0), modes * lanes),
        span_e(team.team_scratch(0), modes * lanes), carry(team.team_scratch(0), modes);
    const C ak = active ? a(k) : C(0);
    if (p == 0) carry(m) = active ? x0(b, k) : C(0);
    const int tile = lanes * kTileSteps;
    C v[kTileSteps], next[kTileSteps];
    if (active) load(b, k, p * kTileSteps, v);
    for (int base = 0; base < T; base += tile) {
      const int u0 = base + p * kTileSteps;
      if (active && base + tile < T) load(b, k, u0 + tile, next);
      // Local scan from zero; n valid steps, the lane's map is x -> a^n x + e.
      const int n = active ? (T - u0 < kTileSteps ? (T - u0 > 0 ? T - u0 : 0) : kTileSteps) : 0;
      // Loops over register arrays have the constant trip count kTileSteps (guarded by n), so
      // the compiler unrolls them and the arrays stay in registers on GPUs.
      C e(0), an(1);
      for (int i = 0; i < kTileSteps; ++i) {
        if (i < n) {
          e = ak * e + v[i];
          v[i] = e;
          an = an * ak;
        }
      }
      span_a(p * modes + m) = an;
      span_e(p * modes + m) = e;
      team.team_barrier();
      // Inclusive scan of the lanes' maps: lane p composed after lanes p - off .. p - 1.
      for (int off = 1; off < lanes; off *= 2) {
        C pa(1), pe(0);
        if (p >= off) {
          pa = span_a((p - off) * modes + m);
          pe = span_e((p - off) * modes + m);
        }
        team.team_barrier();
        if (p >= off) {
          e = an * pe + e;
          an = an * pa;
          span_a(p * modes + m) = an;
          span_e(p * modes + m) = e;
        }
        team.team_barrier();
      }
      // State entering lane p: the maps of lanes 0 .. p-1 applied to the carry.
      const C in_state =
          p == 0 ? carry(m) : span_a((p - 1) * modes + m) * carry(m) + span_e((p - 1) * modes + m);
      C pw = ak;
      for (int i = 0; i < kTileSteps; ++i) {
        if (i < n) {
          const int u = u0 + i;
          out(b, reverse ? T - 1 - u : u, k) = v[i] + pw * in_state;
          pw = pw * ak;
        }
      }
      team.team_barrier();
      if (p == lanes - 1) {
        carry(m) = an * carry(m) + e;
      }
      team.team_barrier();
      for (int i = 0; i < kTileSteps; ++i) v[i] = next[i];
    }
    if (active && p == 0) xT(b, k) = carry(m);
  }
};

/// Modes per team and lanes per tile of the tiled scan on `Exec`.
template <class Exec>
void tiled_shape(const Exec& exec, int K, int& modes, int& lanes) {
  if (Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename Exec::memory_space>::accessible) {
    modes = 1;
    lanes = exec.concurrency() >= 2 ? 2 : 1;
  } else {
    // 16 modes x 16 lanes: of the shapes timed on an H200 (perf/RESULTS.md) the fastest in f32
    // and within 3 % of the fastest in f64; more, smaller teams than a warp of modes keep two
    // teams per multiprocessor, so one team's loads overlap the other's lane scan.
    modes = K < 16 ? K : 16;
    lanes = 16;
  }
}

/// The tiled scan with `modes` modes per team and `lanes` lanes per tile (fewer lanes where the
/// kernel's registers do not allow modes x lanes threads per team); T >= 1.
template <class Exec, class S, class Mem>
void tiled_scan(const Exec& exec, int modes, int lanes, const typename EigenViews<S, Mem>::Coef& a,
                const typename EigenViews<S, Mem>::State& x0,
                const typename EigenViews<S, Mem>::Seq& in,
                const typename EigenViews<S, Mem>::Seq& out,
                const typename EigenViews<S, Mem>::State& xT, bool reverse) {
  const int B = static_cast<int>(in.extent(0)), T = static_cast<int>(in.extent(1)),
            K = static_cast<int>(in.extent(2));
  const int groups = (K + modes - 1) / modes;
  EigenTiledScan<Exec, S, Mem> scan{a, x0, xT, in, out, T, K, groups, modes, lanes, reverse};
  const int most =
      Kokkos::TeamPolicy<Exec>(exec, 1, Kokkos::AUTO).team_size_max(scan, Kokkos::ParallelForTag());
  while (lanes > 1 && modes * lanes > most) lanes /= 2;
  scan.lanes = lanes;
  Kokkos::TeamPolicy<Exec> policy(exec, B * groups, modes * lanes);
  policy.set_scratch_size(0, Kokkos::PerTeam(decltype(scan)::scratch_bytes(modes, lanes)));
  Kokkos::parallel_for("frost::recurrence::eigen_tiled", policy, scan);
}

}  // namespace detail

/// Runs the recurrence x[t] = a x[t-1] + in[t] (or backwards in time, x[t] = a x[t+1] + in[t],
/// when `reverse`) for all (batch, mode) with coefficients `a` (K) and initial state `x0`
/// (B, K); writes every state to `out` (B, T, K; may not alias `in`) and the last one to `xT`.
/// `method` must be resolved (not kAuto); `chunk` >= 1 is used by kChunked.
template <class Exec, class S, class Mem>
void eigen_scan(const Exec& exec, EigenMethod method, int chunk,
                const typename EigenViews<S, Mem>::Coef& a,
                const typename EigenViews<S, Mem>::State& x0,
                const typename EigenViews<S, Mem>::Seq& in,
                const typename EigenViews<S, Mem>::Seq& out,
                const typename EigenViews<S, Mem>::State& xT, bool reverse = false,
                EigenWorkspace<S, Mem>* ws = nullptr) {
  using C = Kokkos::complex<S>;
  const int B = static_cast<int>(in.extent(0)), T = static_cast<int>(in.extent(1)),
            K = static_cast<int>(in.extent(2));
  constexpr int W = detail::modes_per_thread<Exec>();
  const int KB = (K + W - 1) / W;  // blocks of W adjacent modes, one per thread
  if (T == 0) {
    Kokkos::deep_copy(exec, xT, x0);
    return;
  }
  if (method == EigenMethod::kSequential || (method == EigenMethod::kChunked && chunk >= T)) {
    Kokkos::parallel_for(
        "frost::recurrence::eigen_sequential", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {B, KB}),
        KOKKOS_LAMBDA(int b, int kb) {
          const int k0 = kb * W, kw = K - k0 < W ? K - k0 : W;
          C ak[W], s[W];
          for (int j = 0; j < kw; ++j) {
            ak[j] = a(k0 + j);
            s[j] = x0(b, k0 + j);
          }
          detail::scan_block<W, S>(in, out, b, k0, kw, 0, T, reverse, ak, s, true);
          for (int j = 0; j < kw; ++j) xT(b, k0 + j) = s[j];
        });
    return;
  }
  if (method == EigenMethod::kTiled) {
    int modes = 1, lanes = 1;
    detail::tiled_shape(exec, K, modes, lanes);
    detail::tiled_scan<Exec, S, Mem>(exec, modes, lanes, a, x0, in, out, xT, reverse);
    return;
  }
  if (method != EigenMethod::kChunked || chunk < 1)
    throw std::invalid_argument(
        "eigen_scan: method must be sequential, chunked or tiled, chunk >= 1");
  const int L = chunk, nc = (T + L - 1) / L;
  // Chunk j covers [j L, min(T, (j+1) L)); in reverse order the chunks are taken from the end.
  auto window = [=] KOKKOS_FUNCTION(int j, int& t0, int& t1) {
    if (!reverse) {
      t0 = j * L;
      t1 = t0 + L < T ? t0 + L : T;
    } else {
      t1 = T - j * L;
      t0 = t1 - L > 0 ? t1 - L : 0;
    }
  };
  EigenWorkspace<S, Mem> local;
  EigenWorkspace<S, Mem>& scratch = ws ? *ws : local;
  typename EigenViews<S, Mem>::Partial ends(
      scratch.ends.take(exec, std::size_t(B) * nc * K, "frost::recurrence::chunk_ends"), B, nc, K);
  Kokkos::parallel_for(
      "frost::recurrence::eigen_chunk_reduce",
      core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {B, nc, KB}),
      KOKKOS_LAMBDA(int b, int j, int kb) {
        int t0, t1;
        window(j, t0, t1);
        const int k0 = kb * W, kw = K - k0 < W ? K - k0 : W;
        C ak[W], s[W];
        for (int q = 0; q < kw; ++q) {
          ak[q] = a(k0 + q);
          s[q] = C(0);
        }
        detail::scan_block<W, S>(in, out, b, k0, kw, t0, t1, reverse, ak, s, false);
        for (int q = 0; q < kw; ++q) ends(b, j, k0 + q) = s[q];
      });
  // The carry replaces ends(b, j, k) by the state entering chunk j and writes the final state.
  Kokkos::parallel_for(
      "frost::recurrence::eigen_chunk_carry", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {B, K}),
      KOKKOS_LAMBDA(int b, int k) {
        const C ak = a(k);
        // a^L by repeated squaring; the last chunk may be shorter but its power is not needed.
        C aL(1), p = ak;
        for (int e = L; e > 0; e >>= 1) {
          if (e & 1) aL = aL * p;
          p = p * p;
        }
        C s = x0(b, k);
        for (int j = 0; j < nc; ++j) {
          const C e = ends(b, j, k);
          ends(b, j, k) = s;
          if (j + 1 < nc) {
            s = aL * s + e;
          } else {
            int t0, t1;
            window(j, t0, t1);
            C an(1);
            for (int i = t0; i < t1; ++i) an = an * ak;
            s = an * s + e;
          }
        }
        xT(b, k) = s;
      });
  Kokkos::parallel_for(
      "frost::recurrence::eigen_chunk_fixup",
      core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {B, nc, KB}),
      KOKKOS_LAMBDA(int b, int j, int kb) {
        int t0, t1;
        window(j, t0, t1);
        const int k0 = kb * W, kw = K - k0 < W ? K - k0 : W;
        C ak[W], s[W];
        for (int q = 0; q < kw; ++q) {
          ak[q] = a(k0 + q);
          s[q] = ends(b, j, k0 + q);
        }
        detail::scan_block<W, S>(in, out, b, k0, kw, t0, t1, reverse, ak, s, true);
      });
}

/// Forward pass: c (B, T, K) and final state cT (B, K) from beta, lambda, omega and c0.
template <class Exec, class S, class Mem>
void eigen_forward(const Exec& exec, EigenMethod method, int chunk,
                   const typename EigenViews<S, Mem>::Param& lambda,
                   const typename EigenViews<S, Mem>::Param& omega,
                   const typename EigenViews<S, Mem>::State& c0,
                   const typename EigenViews<S, Mem>::Seq& beta,
                   const typename EigenViews<S, Mem>::Seq& c,
                   const typename EigenViews<S, Mem>::State& cT,
                   EigenWorkspace<S, Mem>* ws = nullptr) {
  EigenWorkspace<S, Mem> local;
  EigenWorkspace<S, Mem>& scratch = ws ? *ws : local;
  typename EigenViews<S, Mem>::Coef a(
      scratch.coef.take(exec, lambda.extent(0), "frost::recurrence::a"), lambda.extent(0));
  detail::eigen_coefficients<Exec, S, Mem>(exec, lambda, omega, false, a);
  eigen_scan<Exec, S, Mem>(exec, method, chunk, a, c0, beta, c, cT, false, &scratch);
}

/// Backward pass from upstream gradients grad_c = dL/dc (B, T, K) and the forward states c:
/// writes grad_beta (B, T, K), grad_c0 (B, K), grad_lambda and grad_omega (K, summed over the
/// batch). The adjoint is a reverse-time scan with the same method and chunk length.
template <class Exec, class S, class Mem>
void eigen_backward(const Exec& exec, EigenMethod method, int chunk,
                    const typename EigenViews<S, Mem>::Param& lambda,
                    const typename EigenViews<S, Mem>::Param& omega,
                    const typename EigenViews<S, Mem>::State& c0,
                    const typename EigenViews<S, Mem>::Seq& c,
                    const typename EigenViews<S, Mem>::Seq& grad_c,
                    const typename EigenViews<S, Mem>::Seq& grad_beta,
                    const typename EigenViews<S, Mem>::State& grad_c0,
                    const typename EigenViews<S, Mem>::Param& grad_lambda,
                    const typename EigenViews<S, Mem>::Param& grad_omega,
                    EigenWorkspace<S, Mem>* ws = nullptr) {
  using C = Kokkos::complex<S>;
  using V = EigenViews<S, Mem>;
  const int B = static_cast<int>(c.extent(0)), T = static_cast<int>(c.extent(1)),
            K = static_cast<int>(c.extent(2));
  EigenWorkspace<S, Mem> local;
  EigenWorkspace<S, Mem>& scratch = ws ? *ws : local;
  typename V::Coef abar(scratch.coef.take(exec, K, "frost::recurrence::abar"), K);
  detail::eigen_coefficients<Exec, S, Mem>(exec, lambda, omega, true, abar);
  typename V::State zero(
      scratch.zero.take(exec, std::size_t(B) * K, "frost::recurrence::adjoint_zero"), B, K),
      d0(scratch.d0.take(exec, std::size_t(B) * K, "frost::recurrence::d0"), B, K);
  Kokkos::deep_copy(exec, zero, C(0));
  eigen_scan<Exec, S, Mem>(exec, method, chunk, abar, zero, grad_c, grad_beta, d0, true, &scratch);
  Kokkos::parallel_for(
      "frost::recurrence::eigen_grad_c0", core::RowMajorRange<Exec, 2>(exec, {0, 0}, {B, K}),
      KOKKOS_LAMBDA(int b, int k) { grad_c0(b, k) = abar(k) * d0(b, k); });
  // G_a = sum_{b,t} d[t] conj(c[t-1]): partial sums over (batch, time block, mode) keep the
  // machine busy when K alone is small, then one thread per mode adds its partials.
  const int L = std::max(1, std::min(T, 256)), nc = T > 0 ? (T + L - 1) / L : 0;
  typename V::Partial part(
      scratch.partial.take(exec, std::size_t(B) * nc * K, "frost::recurrence::grad_a_partial"), B,
      nc, K);
  if (nc > 0)
    Kokkos::parallel_for(
        "frost::recurrence::eigen_grad_a_partial",
        core::RowMajorRange<Exec, 3>(exec, {0, 0, 0}, {B, nc, K}),
        KOKKOS_LAMBDA(int b, int j, int k) {
          const int t0 = j * L, t1 = t0 + L < T ? t0 + L : T;
          C s(0);
          for (int t = t0; t < t1; ++t) {
            const C prev = t == 0 ? c0(b, k) : c(b, t - 1, k);
            s += grad_beta(b, t, k) * Kokkos::conj(prev);
          }
          part(b, j, k) = s;
        });
  Kokkos::parallel_for(
      "frost::recurrence::eigen_grad_params", Kokkos::RangePolicy<Exec>(exec, 0, K),
      KOKKOS_LAMBDA(int k) {
        C g(0);
        for (int b = 0; b < B; ++b)
          for (int j = 0; j < nc; ++j) g += part(b, j, k);
        const S l = lambda(k), w = omega(k);
        const C e(Kokkos::Experimental::cos(w), Kokkos::Experimental::sin(w));
        const C da_dw = C(0, 1) * (l * e);
        grad_lambda(k) = (Kokkos::conj(g) * e).real();
        grad_omega(k) = (Kokkos::conj(g) * da_dw).real();
      });
}

}  // namespace frost::recurrence
