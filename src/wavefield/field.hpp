// The all-pairs wave field of the node sources and its exact evaluation.
//
//   psi_i   = sum_j A_j exp(i (k_j r_ij - w_j t + phi_j)) / (r_ij + eps)
//   field_i = Im psi_i = sum_j A_j sin(k_j r_ij - w_j t + phi_j) / (r_ij + eps)
//
// r_ij = |x_i - x_j| is the chord (3D) distance between nodes on the unit sphere and eps the
// softening (0.05). Like the reference Python model, the sum runs over all j including j = i
// (r_ii = 0 adds A_i exp(i (phi_i - w_i t)) / eps); `field.include_self: false` drops that term.
//
// Precision: the time-dependent part phi_j - w_j t grows without bound, so it is reduced to
// [-pi, pi] in double once per source and evaluation (SourceViews::phase, by a two-part
// Cody-Waite reduction of the exact w_j t: reduced_source_phase); the pair terms then only see
// k_j r_ij + reduced phase, bounded by 2 k_max + pi, which keeps float sin/cos accurate for large
// k r and large t alike. Wave numbers and reduced phases are kept in quarter turns (times 2/pi,
// rounded once from double), so the per-pair reduction is a rounding and an exact difference
// (quarter_turn_sincos) instead of a product by 2/pi and three Cody-Waite products; CUDA's float
// pair sums take sin and cos from the special-function unit instead (pair_sincos).
//
// Sums: a target's pair terms are added in Real over tiles of kSumTile consecutive sources, and
// the tiles' partial sums in Acc (double by default). In f32 this replaces two float-to-double
// conversions and two double additions per pair (on Hopper conversions run at an eighth and
// double adds at half the float rate) by two float additions (fused with the products on GPUs); a
// float partial of at most kSumTile terms loses about sqrt(kSumTile) ulp of the tile's
// magnitudes, below the float pair terms' own phase error (half an ulp of k r = 80 is 4e-6 rad),
// and the double sum over tiles adds nothing measurable.
//
// One evaluation is kernels on the caller's execution-space instance and nothing else: the time
// is a kernel argument (set_time stores it; no host loop, copy or allocation), the reduced phases
// are computed inside the kernels that read them (devices: while a team stages a tile of
// sources; hosts: one per-source kernel first, since a host work item revisits every source), and
// nothing fences: the caller fences when the field must reach the host.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "wavefield/sincos.hpp"

namespace frost::core {
class ParamRegistry;
}

namespace frost::wavefield {

/// Declares the `field.*` keys (precision, accumulation, softening, self term).
void declare_field_params(core::ParamRegistry& reg);

/// Per-node source parameters on the host (SI-free units: lengths in sphere radii, times in the
/// deck's time unit). All vectors have one entry per node.
struct SourceParams {
  std::vector<double> amplitude;   ///< A_j
  std::vector<double> wavenumber;  ///< k_j (1 / radius)
  std::vector<double> frequency;   ///< w_j (angular, 1 / time unit)
  std::vector<double> phase;       ///< phi_j (rad)
  std::size_t size() const { return amplitude.size(); }
};

/// What the pair kernels read: views in `MemorySpace` (coordinates, A_j, k_j in Real; w_j and
/// phi_j in double) and scalars (the time among them) only, so it copies to any device. All views
/// have extent n.
template <class Real, class MemorySpace>
struct SourceViews {
  using view = Kokkos::View<Real*, MemorySpace>;
  using double_view = Kokkos::View<double*, MemorySpace>;
  view x, y, z, amplitude;
  view wavenumber_q;              ///< k_j 2/pi: quarter turns of phase per radius
  double_view frequency, phase0;  ///< w_j and phi_j
  view reduced;  ///< phase(j) of `time`, filled by fill_reduced_phases for the host kernels
  double time = 0.0;
  Real softening = Real(0.05);
  bool include_self = true;
  int n = 0;

  /// phi_j - w_j t reduced to about [-pi, pi] in double (reduced_source_phase), in quarter turns
  /// (times 2/pi, in [-2, 2]) rounded to Real: the same bits in every kernel (and in `reduced`)
  /// of one backend.
  KOKKOS_INLINE_FUNCTION Real phase(const int j) const {
    return static_cast<Real>(reduced_source_phase(phase0(j), frequency(j), time) *
                             SinCosConstants<double>::kTwoOverPi);
  }
};

/// reduced(j) = phase(j) for every source, asynchronously on `exec`: the table the host pair
/// kernels read (a host work item visits every source, so computing the phase there would repeat
/// the double reduction n / Block times per source).
template <class ExecSpace, class Real, class MemorySpace>
void fill_reduced_phases(const ExecSpace& exec, const SourceViews<Real, MemorySpace>& s) {
  Kokkos::parallel_for(
      "frost::wavefield::source_phase", Kokkos::RangePolicy<ExecSpace>(exec, 0, s.n),
      KOKKOS_LAMBDA(const int j) { s.reduced(j) = s.phase(j); });
}

/// Source nodes in `MemorySpace`: coordinates, A_j and k_j in precision `Real`, w_j and phi_j in
/// double, and the time of the next evaluation.
template <class Real, class MemorySpace>
struct WaveSources : SourceViews<Real, MemorySpace> {
  using view = typename SourceViews<Real, MemorySpace>::view;
  using double_view = typename SourceViews<Real, MemorySpace>::double_view;
  using SourceViews<Real, MemorySpace>::x;
  using SourceViews<Real, MemorySpace>::y;
  using SourceViews<Real, MemorySpace>::z;
  using SourceViews<Real, MemorySpace>::amplitude;
  using SourceViews<Real, MemorySpace>::wavenumber_q;
  using SourceViews<Real, MemorySpace>::frequency;
  using SourceViews<Real, MemorySpace>::phase0;
  using SourceViews<Real, MemorySpace>::reduced;
  using SourceViews<Real, MemorySpace>::time;
  using SourceViews<Real, MemorySpace>::softening;
  using SourceViews<Real, MemorySpace>::include_self;
  using SourceViews<Real, MemorySpace>::n;
  /// Per-chunk partial sums of the chunked kernel (chunks x n), kept between calls because a
  /// device allocation per evaluation would cost more than the evaluation at small N. Calls
  /// sharing one WaveSources (these buffers and `reduced`) must therefore not run concurrently.
  mutable Kokkos::View<double**, MemorySpace> partial_re, partial_im;

  WaveSources() = default;
  WaveSources(const std::vector<double>& positions_xyz, const SourceParams& p, double eps,
              bool self_term) {
    softening = static_cast<Real>(eps);
    include_self = self_term;
    n = static_cast<int>(p.size());
    x = view("frost::wavefield::x", n);
    y = view("frost::wavefield::y", n);
    z = view("frost::wavefield::z", n);
    amplitude = view("frost::wavefield::amplitude", n);
    wavenumber_q = view("frost::wavefield::wavenumber_q", n);
    frequency = double_view("frost::wavefield::frequency", n);
    phase0 = double_view("frost::wavefield::phase0", n);
    reduced = view("frost::wavefield::reduced_phase", n);
    copy_in(amplitude, p.amplitude);
    set_wavenumbers(p.wavenumber);
    copy_in(frequency, p.frequency);
    copy_in(phase0, p.phase);
    set_positions(positions_xyz);
    set_time(0.0);
  }

  /// New node positions (x0 y0 z0 x1 ...), same node count (geometry regenerated).
  void set_positions(const std::vector<double>& xyz) {
    std::vector<double> c(n);
    for (int d = 0; d < 3; ++d) {
      for (int j = 0; j < n; ++j) c[j] = xyz[3 * j + d];
      copy_in(d == 0 ? x : d == 1 ? y : z, c);
    }
  }

  /// New wave numbers k_j (a controller rescaled them); the node count stays. Stored as k_j 2/pi
  /// (quarter turns per radius), multiplied in double and rounded once.
  void set_wavenumbers(const std::vector<double>& k) {
    std::vector<double> q(k.size());
    for (std::size_t j = 0; j < k.size(); ++j) q[j] = k[j] * SinCosConstants<double>::kTwoOverPi;
    copy_in(wavenumber_q, q);
  }

  /// The time of the next evaluations: a scalar the kernels receive (no host work, no copy).
  void set_time(double t) { time = t; }

 private:
  template <class View>
  static void copy_in(const View& v, const std::vector<double>& values) {
    auto h = Kokkos::create_mirror_view(v);
    for (std::size_t j = 0; j < values.size(); ++j)
      h(j) = static_cast<typename View::non_const_value_type>(values[j]);
    Kokkos::deep_copy(v, h);
  }
};

/// Targets a work item handles: a block of consecutive targets on hosts (the inner loop over the
/// block vectorises without reassociating any sum), one target a thread elsewhere.
template <class ExecSpace>
constexpr int default_target_block() {
  return Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename ExecSpace::memory_space>::accessible
             ? 8
             : 1;
}

/// a / d for the pair weight A_j / (r + eps), d >= eps > 0. CUDA's float path uses the fast
/// reciprocal (2 ulp), well inside the float kernels' tolerance, instead of the IEEE division.
template <class Real>
KOKKOS_INLINE_FUNCTION Real pair_weight(Real a, Real d) {
#if defined(__CUDA_ARCH__)
  if constexpr (std::is_same_v<Real, float>) return __fdividef(a, d);
#endif
  return a / d;
}

/// Sources per partial sum in the pair precision (see the header): tiles start at source 0 (host
/// kernel) or at the chunk's first source (chunked kernel), so a target's association depends on
/// n and the chunk size only. 128 is one scratch tile and one chunk of the chunked kernel at
/// n = 8,000, where the tile's partial is then the chunk's.
constexpr int kSumTile = 128;

/// Pair-sum functor: work item b handles targets begin + b*Block ... (clipped to end).
template <class Acc, int Block, class Real, class MemorySpace>
struct PsiKernel {
  SourceViews<Real, MemorySpace> src;
  int begin, end;
  Kokkos::View<double*, MemorySpace> re, im;

  KOKKOS_INLINE_FUNCTION void operator()(const int item) const {
    const int first = begin + item * Block;
    Real tx[Block], ty[Block], tz[Block];
    Acc sum_re[Block], sum_im[Block];
    for (int b = 0; b < Block; ++b) {
      // Pad a short last block with copies of the last target; their sums are not written.
      const int i = first + b < end ? first + b : end - 1;
      tx[b] = src.x(i);
      ty[b] = src.y(i);
      tz[b] = src.z(i);
      sum_re[b] = Acc(0);
      sum_im[b] = Acc(0);
    }
    const Real eps = src.softening;
    for (int j0 = 0; j0 < src.n; j0 += kSumTile) {
      const int j1 = j0 + kSumTile < src.n ? j0 + kSumTile : src.n;
      Real tile_re[Block], tile_im[Block];
      for (int b = 0; b < Block; ++b) tile_re[b] = tile_im[b] = Real(0);
      for (int j = j0; j < j1; ++j) {
        const Real sx = src.x(j), sy = src.y(j), sz = src.z(j);
        const Real a = src.amplitude(j), k = src.wavenumber_q(j), ph = src.reduced(j);
        for (int b = 0; b < Block; ++b) {
          const Real dx = tx[b] - sx, dy = ty[b] - sy, dz = tz[b] - sz;
          const Real r = pair_sqrt(dx * dx + dy * dy + dz * dz);
          const Real w = a / (r + eps);
          Real s, c;
          pair_sincos(k * r + ph, s, c);
          tile_re[b] += w * c;
          tile_im[b] += w * s;
        }
      }
      for (int b = 0; b < Block; ++b) {
        sum_re[b] += static_cast<Acc>(tile_re[b]);
        sum_im[b] += static_cast<Acc>(tile_im[b]);
      }
    }
    for (int b = 0; b < Block; ++b) {
      const int i = first + b;
      if (i >= end) break;
      double out_re = static_cast<double>(sum_re[b]), out_im = static_cast<double>(sum_im[b]);
      if (!src.include_self) {
        // Remove the j = i term as it was computed (r = 0, so the argument is the phase).
        const Real w = src.amplitude(i) / eps;
        Real s, c;
        pair_sincos(src.phase(i), s, c);
        out_re -= static_cast<double>(w * c);
        out_im -= static_cast<double>(w * s);
      }
      re(i) = out_re;
      im(i) = out_im;
    }
  }
};

/// Sources per chunk of the chunked kernel for n nodes: a function of n alone (never of the
/// target range or the backend), so a target's sum has the same association on every rank. About
/// n^2 / 2^19 sources make n x chunks ~ 2^19 (target, chunk) work items, twice the resident
/// threads of a large GPU at n = 8,000, and a handful of chunks at n = 10^6 (where the targets
/// alone fill it); a multiple of 128 so that whole scratch tiles are staged.
inline int psi_source_chunk(int n) {
  constexpr long long kQuantum = 128;
  const long long want = (static_cast<long long>(n) * n) >> 19;
  const long long chunk = std::max(kQuantum, (want + kQuantum - 1) / kQuantum * kQuantum);
  return static_cast<int>(std::min<long long>(chunk, std::max(n, 1)));
}

/// Shape of the chunked kernel. Only `chunk` changes results; 0 means psi_source_chunk(n).
struct ChunkedShape {
  int chunk = 0;      ///< sources per chunk
  int tile = 128;     ///< sources staged in team scratch at a time
  int team_size = 0;  ///< threads per team; 0: 128 on devices, 1 on hosts
};

/// Chunked pair sum: team (block b, chunk c) stages the chunk's sources in scratch, tile by tile,
/// and each thread adds them in source order into the sums of its PerThread consecutive targets
/// (in Real over kSumTile sources counted from the chunk's first, then in Acc: the association
/// does not depend on the scratch tile); the chunk's partial sums go to partial(c, i). The staging
/// threads reduce the sources' phases for the time of the call (TablePhase: they read src.reduced
/// instead, which hosts fill once per call, since a host team is one block of targets and would
/// redo it n / PerThread times).
template <class Acc, int PerThread, class Real, class MemorySpace, class ExecSpace,
          bool TablePhase = false, bool UnitSinCos = true>
struct PsiChunkKernel {
  using member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;
  // A staged source is two aligned records, so a thread reads it with two vector loads from
  // scratch (on GPUs shared-memory loads, not arithmetic, bound the pair loop at one target per
  // thread when each of the six fields is a load of its own).
  struct alignas(4 * sizeof(Real)) StagedPoint {
    Real x, y, z, amplitude;
  };
  struct alignas(2 * sizeof(Real)) StagedWave {
    Real wavenumber_q, phase;
  };
  SourceViews<Real, MemorySpace> src;
  int begin, end, chunk, tile, blocks;  // blocks: target blocks per chunk
  Kokkos::View<double**, MemorySpace> part_re, part_im;

  static std::size_t scratch_bytes(int tile) {
    return std::size_t(tile) * (sizeof(StagedPoint) + sizeof(StagedWave)) + alignof(StagedPoint) +
           alignof(StagedWave);
  }

  KOKKOS_INLINE_FUNCTION void operator()(const member& team) const {
    const int c = team.league_rank() / blocks, block = team.league_rank() % blocks;
    const int rank = team.team_rank(), threads = team.team_size();
    const int first = begin + (block * threads + rank) * PerThread;
    const int j0 = c * chunk, j1 = j0 + chunk < src.n ? j0 + chunk : src.n;
    auto* points = static_cast<StagedPoint*>(
        team.team_scratch(0).get_shmem_aligned(tile * sizeof(StagedPoint), alignof(StagedPoint)));
    auto* waves = static_cast<StagedWave*>(
        team.team_scratch(0).get_shmem_aligned(tile * sizeof(StagedWave), alignof(StagedWave)));
    Real tx[PerThread], ty[PerThread], tz[PerThread], tile_re[PerThread], tile_im[PerThread];
    Acc sum_re[PerThread], sum_im[PerThread];
    for (int b = 0; b < PerThread; ++b) {
      // Threads past the end compute copies of the last target and write nothing.
      const int i = first + b < end ? first + b : end - 1;
      tx[b] = src.x(i);
      ty[b] = src.y(i);
      tz[b] = src.z(i);
      sum_re[b] = Acc(0);
      sum_im[b] = Acc(0);
      tile_re[b] = tile_im[b] = Real(0);
    }
    const Real eps = src.softening;
    for (int t0 = j0; t0 < j1; t0 += tile) {
      const int len = t0 + tile < j1 ? tile : j1 - t0;
      for (int s = rank; s < len; s += threads) {
        points[s] = StagedPoint{src.x(t0 + s), src.y(t0 + s), src.z(t0 + s), src.amplitude(t0 + s)};
        waves[s] = StagedWave{src.wavenumber_q(t0 + s),
                              TablePhase ? src.reduced(t0 + s) : src.phase(t0 + s)};
      }
      team.team_barrier();
      for (int s = 0; s < len;) {
        // Sources of this scratch tile up to the end of the current sum tile.
        const int sum_end = j0 + ((t0 + s - j0) / kSumTile + 1) * kSumTile;
        const int stop = sum_end - t0 < len ? sum_end - t0 : len;
        for (; s < stop; ++s) {
          const StagedPoint p = points[s];
          const StagedWave wave = waves[s];
          for (int b = 0; b < PerThread; ++b) {
            const Real dx = tx[b] - p.x, dy = ty[b] - p.y, dz = tz[b] - p.z;
            const Real r = pair_sqrt(dx * dx + dy * dy + dz * dz);
            const Real w = pair_weight(p.amplitude, r + eps);
            Real sn, cs;
            pair_sincos<UnitSinCos>(wave.wavenumber_q * r + wave.phase, sn, cs);
            tile_re[b] += w * cs;
            tile_im[b] += w * sn;
          }
        }
        if (t0 + s == sum_end || t0 + s == j1) {
          for (int b = 0; b < PerThread; ++b) {
            sum_re[b] += static_cast<Acc>(tile_re[b]);
            sum_im[b] += static_cast<Acc>(tile_im[b]);
            tile_re[b] = tile_im[b] = Real(0);
          }
        }
      }
      team.team_barrier();  // the tile is consumed before the next one overwrites it
    }
    for (int b = 0; b < PerThread; ++b) {
      const int i = first + b;
      if (i >= end) break;
      part_re(c, i) = static_cast<double>(sum_re[b]);
      part_im(c, i) = static_cast<double>(sum_im[b]);
    }
  }
};

/// Adds the chunks' partial sums of each target in chunk order (no atomics: deterministic).
template <class Real, class MemorySpace, bool UnitSinCos = true>
struct PsiCombineKernel {
  SourceViews<Real, MemorySpace> src;
  int chunks;
  Kokkos::View<double**, MemorySpace> part_re, part_im;
  Kokkos::View<double*, MemorySpace> re, im;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    double out_re = 0.0, out_im = 0.0;
    for (int c = 0; c < chunks; ++c) {
      out_re += part_re(c, i);
      out_im += part_im(c, i);
    }
    if (!src.include_self) {
      // The j = i term as the pair kernel computed it (r = 0).
      const Real w = pair_weight(src.amplitude(i), Real(0) + src.softening);
      Real s, c;
      pair_sincos<UnitSinCos>(src.phase(i), s, c);
      out_re -= static_cast<double>(w * c);
      out_im -= static_cast<double>(w * s);
    }
    re(i) = out_re;
    im(i) = out_im;
  }
};

/// Targets per thread of the chunked kernel on a device when the caller does not fix it: the
/// most (4, 2 or 1) that still launch at least `threads_wanted` threads (teams x team size), since
/// each staged source then serves several pairs, until too few threads remain to hide latency.
/// Bitwise neutral: a target's sum does not depend on it.
inline int chunked_targets_per_thread(int targets, int chunks, int team, long long threads_wanted) {
  for (int per : {4, 2}) {
    const long long blocks = (targets + team * per - 1) / (team * per);
    if (blocks * chunks * team >= threads_wanted) return per;
  }
  return 1;
}

/// psi_i for targets [begin, end) by the chunked team kernel (what devices run; callable on any
/// backend). Results depend on n and shape.chunk only, not on the target range, team size, tile
/// or targets per thread. Same output contract as evaluate_psi. PerThread = 0: 8 on hosts; on
/// devices chunked_targets_per_thread against the device's resident threads. UnitSinCos: see
/// pair_sincos (false only to compare the two in benchmarks).
template <class Acc, int PerThread = 0, bool UnitSinCos = true, class ExecSpace, class Real,
          class MemorySpace>
void evaluate_psi_chunked(const ExecSpace& exec, const WaveSources<Real, MemorySpace>& src,
                          int begin, int end, const Kokkos::View<double*, MemorySpace>& re,
                          const Kokkos::View<double*, MemorySpace>& im, ChunkedShape shape = {}) {
  constexpr bool kHost =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename ExecSpace::memory_space>::accessible;
  if (end <= begin || src.n <= 0) return;
  const int chunk = shape.chunk > 0 ? std::min(shape.chunk, src.n) : psi_source_chunk(src.n);
  const int chunks = (src.n + chunk - 1) / chunk;
  const int tile = std::max(1, std::min(shape.tile, chunk));
  const int team = shape.team_size > 0 ? shape.team_size : (kHost ? 1 : 128);
  auto& pre = src.partial_re;
  auto& pim = src.partial_im;
  if (static_cast<int>(pre.extent(0)) < chunks || static_cast<int>(pre.extent(1)) < src.n) {
    pre = Kokkos::View<double**, MemorySpace>(
        Kokkos::view_alloc(exec, Kokkos::WithoutInitializing, "frost::wavefield::partial_re"),
        chunks, src.n);
    pim = Kokkos::View<double**, MemorySpace>(
        Kokkos::view_alloc(exec, Kokkos::WithoutInitializing, "frost::wavefield::partial_im"),
        chunks, src.n);
  }
  const SourceViews<Real, MemorySpace>& views = src;
  if constexpr (kHost) fill_reduced_phases(exec, views);
  auto launch = [&](auto per_thread) {
    constexpr int kPer = decltype(per_thread)::value;
    using Kernel = PsiChunkKernel<Acc, kPer, Real, MemorySpace, ExecSpace, kHost, UnitSinCos>;
    const int blocks = (end - begin + team * kPer - 1) / (team * kPer);
    Kokkos::TeamPolicy<ExecSpace> policy(exec, blocks * chunks, team);
    Kokkos::parallel_for("frost::wavefield::psi_chunks",
                         policy.set_scratch_size(0, Kokkos::PerTeam(Kernel::scratch_bytes(tile))),
                         Kernel{views, begin, end, chunk, tile, blocks, pre, pim});
  };
  if constexpr (PerThread > 0) {
    launch(std::integral_constant<int, PerThread>{});
  } else if constexpr (kHost) {
    launch(std::integral_constant<int, 8>{});
  } else {
    switch (chunked_targets_per_thread(end - begin, chunks, team, exec.concurrency())) {
      case 4:
        launch(std::integral_constant<int, 4>{});
        break;
      case 2:
        launch(std::integral_constant<int, 2>{});
        break;
      default:
        launch(std::integral_constant<int, 1>{});
        break;
    }
  }
  Kokkos::parallel_for(
      "frost::wavefield::psi_combine", Kokkos::RangePolicy<ExecSpace>(exec, begin, end),
      PsiCombineKernel<Real, MemorySpace, UnitSinCos>{views, chunks, pre, pim, re, im});
}

/// psi_i for targets i in [begin, end) (node indices; the sources are all nodes). `re` and `im`
/// are indexed by node and must have extent n; entries outside the range are left alone, so ranks
/// can later split the targets. Acc is the accumulation type (double, or Real). Hosts run one
/// work item per block of Block targets over all sources; devices run the chunked kernel, since
/// one thread per target leaves a GPU mostly idle at n = 8,000.
template <class Acc, int Block = 0, class ExecSpace, class Real, class MemorySpace>
void evaluate_psi(const ExecSpace& exec, const WaveSources<Real, MemorySpace>& src, int begin,
                  int end, const Kokkos::View<double*, MemorySpace>& re,
                  const Kokkos::View<double*, MemorySpace>& im) {
  constexpr int kBlock = Block > 0 ? Block : default_target_block<ExecSpace>();
  if (end <= begin) return;
  if constexpr (!Kokkos::SpaceAccessibility<Kokkos::HostSpace,
                                            typename ExecSpace::memory_space>::accessible) {
    evaluate_psi_chunked<Acc>(exec, src, begin, end, re, im);
  } else {
    const int items = (end - begin + kBlock - 1) / kBlock;
    fill_reduced_phases(exec, static_cast<const SourceViews<Real, MemorySpace>&>(src));
    Kokkos::parallel_for(
        "frost::wavefield::psi", Kokkos::RangePolicy<ExecSpace>(exec, 0, items),
        PsiKernel<Acc, kBlock, Real, MemorySpace>{
            static_cast<const SourceViews<Real, MemorySpace>&>(src), begin, end, re, im});
  }
}

/// The time-independent propagator of a geometry: G_ij = exp(i k_j r_ij) / (r_ij + eps) for
/// targets i in [begin, end) and all sources j, so that psi_i(t) = sum_j G_ij c_j(t) with
/// c_j = A_j exp(i wrap(phi_j - w_j t)). Building it costs one direct evaluation; each later
/// time costs N^2 complex multiply-adds streamed from memory instead of N^2 sqrt, division and
/// sin/cos. Storage (targets x sources, 2 Real each) is LayoutLeft: consecutive targets of one
/// source are adjacent, so a block of targets (host) or a warp (device) reads contiguously.
template <class Real, class MemorySpace>
struct Propagator {
  Kokkos::View<Real**, Kokkos::LayoutLeft, MemorySpace> g_re, g_im;
  Kokkos::View<Real*, MemorySpace> c_re, c_im;  ///< source coefficients c_j of the last apply
  int begin = 0, end = 0;

  /// Bytes a propagator for `targets` x `sources` nodes needs.
  static double bytes(double targets, double sources) {
    return 2.0 * sizeof(Real) * targets * sources;
  }
};

/// Fills G for targets i in [begin, end) of the sources' geometry (k r is bounded, so the
/// reduced sin/cos is accurate in both precisions).
template <class ExecSpace, class Real, class MemorySpace>
Propagator<Real, MemorySpace> build_propagator(const ExecSpace& exec,
                                               const WaveSources<Real, MemorySpace>& src, int begin,
                                               int end) {
  Propagator<Real, MemorySpace> p;
  p.begin = begin;
  p.end = end;
  const int n = src.n, rows = end - begin;
  p.g_re =
      decltype(p.g_re)(Kokkos::ViewAllocateWithoutInitializing("frost::wavefield::g_re"), rows, n);
  p.g_im =
      decltype(p.g_im)(Kokkos::ViewAllocateWithoutInitializing("frost::wavefield::g_im"), rows, n);
  p.c_re = decltype(p.c_re)("frost::wavefield::c_re", n);
  p.c_im = decltype(p.c_im)("frost::wavefield::c_im", n);
  const SourceViews<Real, MemorySpace> s = src;
  const auto g_re = p.g_re, g_im = p.g_im;
  // One source column a work item: the target loop inside writes contiguous memory.
  Kokkos::parallel_for(
      "frost::wavefield::propagator", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const int j) {
        const Real sx = s.x(j), sy = s.y(j), sz = s.z(j), k = s.wavenumber_q(j);
        for (int row = 0; row < rows; ++row) {
          const int i = begin + row;
          const Real dx = s.x(i) - sx, dy = s.y(i) - sy, dz = s.z(i) - sz;
          const Real r = pair_sqrt(dx * dx + dy * dy + dz * dz);
          const Real w = (i == j && !s.include_self) ? Real(0) : Real(1) / (r + s.softening);
          Real sn, cs;
          quarter_turn_sincos(k * r, sn, cs);
          g_re(row, j) = w * cs;
          g_im(row, j) = w * sn;
        }
      });
  return p;
}

/// Pair-sum functor of the propagator: targets begin + item*Block ... (clipped to end).
template <class Acc, int Block, class Real, class MemorySpace>
struct ApplyPropagatorKernel {
  Propagator<Real, MemorySpace> p;
  Kokkos::View<double*, MemorySpace> re, im;

  KOKKOS_INLINE_FUNCTION void operator()(const int item) const {
    const int first = item * Block;  // row of the propagator
    const int rows = p.end - p.begin;
    Acc sum_re[Block], sum_im[Block];
    for (int b = 0; b < Block; ++b) sum_re[b] = sum_im[b] = Acc(0);
    const int n = static_cast<int>(p.c_re.extent(0));
    if (first + Block <= rows) {
      for (int j = 0; j < n; ++j) {
        const Real cr = p.c_re(j), ci = p.c_im(j);
        for (int b = 0; b < Block; ++b) {
          const Real gr = p.g_re(first + b, j), gi = p.g_im(first + b, j);
          sum_re[b] += static_cast<Acc>(gr * cr - gi * ci);
          sum_im[b] += static_cast<Acc>(gr * ci + gi * cr);
        }
      }
    } else {
      for (int j = 0; j < n; ++j) {
        const Real cr = p.c_re(j), ci = p.c_im(j);
        for (int b = 0; b < rows - first; ++b) {
          const Real gr = p.g_re(first + b, j), gi = p.g_im(first + b, j);
          sum_re[b] += static_cast<Acc>(gr * cr - gi * ci);
          sum_im[b] += static_cast<Acc>(gr * ci + gi * cr);
        }
      }
    }
    for (int b = 0; b < Block && first + b < rows; ++b) {
      re(p.begin + first + b) = static_cast<double>(sum_re[b]);
      im(p.begin + first + b) = static_cast<double>(sum_im[b]);
    }
  }
};

/// psi_i = sum_j G_ij c_j(t) for the propagator's targets, with c_j from the sources' reduced
/// phases at the sources' time (set_time), computed by the coefficient kernel itself. Same output
/// contract as evaluate_psi.
template <class Acc, int Block = 0, class ExecSpace, class Real, class MemorySpace>
void apply_propagator(const ExecSpace& exec, const Propagator<Real, MemorySpace>& p,
                      const WaveSources<Real, MemorySpace>& src,
                      const Kokkos::View<double*, MemorySpace>& re,
                      const Kokkos::View<double*, MemorySpace>& im) {
  constexpr int kBlock = Block > 0 ? Block : default_target_block<ExecSpace>();
  const SourceViews<Real, MemorySpace> s = src;
  const auto c_re = p.c_re, c_im = p.c_im;
  Kokkos::parallel_for(
      "frost::wavefield::source_coefficients", Kokkos::RangePolicy<ExecSpace>(exec, 0, s.n),
      KOKKOS_LAMBDA(const int j) {
        Real sn, cs;
        quarter_turn_sincos(s.phase(j), sn, cs);
        c_re(j) = s.amplitude(j) * cs;
        c_im(j) = s.amplitude(j) * sn;
      });
  const int rows = p.end - p.begin;
  if (rows <= 0) return;
  Kokkos::parallel_for("frost::wavefield::apply_propagator",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, (rows + kBlock - 1) / kBlock),
                       ApplyPropagatorKernel<Acc, kBlock, Real, MemorySpace>{p, re, im});
}

/// Root mean square of v over [0, n).
template <class ExecSpace, class MemorySpace>
double rms(const ExecSpace& exec, const Kokkos::View<double*, MemorySpace>& v) {
  double sum = 0.0;
  const int n = static_cast<int>(v.extent(0));
  Kokkos::parallel_reduce(
      "frost::wavefield::rms", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const int i, double& acc) { acc += v(i) * v(i); }, sum);
  return n > 0 ? std::sqrt(sum / n) : 0.0;
}

/// Mean of |psi_i| = sqrt(re_i^2 + im_i^2) over [0, n).
template <class ExecSpace, class MemorySpace>
double mean_modulus(const ExecSpace& exec, const Kokkos::View<double*, MemorySpace>& re,
                    const Kokkos::View<double*, MemorySpace>& im) {
  double sum = 0.0;
  const int n = static_cast<int>(re.extent(0));
  Kokkos::parallel_reduce(
      "frost::wavefield::mean_modulus", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        acc += Kokkos::Experimental::sqrt(re(i) * re(i) + im(i) * im(i));
      },
      sum);
  return n > 0 ? sum / n : 0.0;
}

/// Direct sum with std::sin/std::cos (the tests' reference): psi at every node, each pair's
/// distance and phase k r - w t + phi in long double, the sums in double. O(n^2) on the host.
void psi_reference(const std::vector<double>& positions_xyz, const SourceParams& p, double t,
                   double eps, bool include_self, std::vector<double>& re, std::vector<double>& im);

}  // namespace frost::wavefield
