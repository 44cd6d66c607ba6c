// Loop-move Monte Carlo for artificial spin ice on any lattice graph.
//
// Move sets (all preserve every vertex charge, so they sample within one charge sector):
//  * short_loop: a directed worm. Start at a vertex (see below), repeatedly leave the
//    current vertex along a uniformly chosen out-pointing free island until the walk reaches a
//    vertex it has already visited; the directed cycle from that vertex's first visit to now is
//    flipped, the tail before it is discarded. The walk gives up (no change) at a vertex without
//    out-arrows.
//  * long_loop: Barkema & Newman's long-loop algorithm (Phys. Rev. E 57, 1155 (1998)),
//    generalised to any degree. Start at a uniformly chosen vertex v0, flip a uniformly chosen
//    out-arrow and step across it; at every later vertex flip a uniformly chosen out-arrow other
//    than the one just flipped (which now points out), until the walk comes back to v0.
//  * basis: flip one loop chosen uniformly among the lattice's faces and winding cycles when it
//    is a directed cycle in the current state, else do nothing. Not ergodic in general; kept to
//    compare mixing.
//
// Why the worm moves sample all states of a sector uniformly (detailed balance with a symmetric
// proposal, no acceptance step needed). Let out(v) be the number of free out-arrows at v.
// Flipping a directed cycle reverses one in- and one out-arrow at each of its vertices, so out(v)
// is the same in sigma and in the flipped state sigma' at every vertex (also for odd degrees and
// charged vertices). short_loop: a walk that produces the loop l = (u_0 .. u_{m-1}) from sigma is
// a self-avoiding tail t (possibly empty) ending at u_0 followed by l. Its probability is
// (1/n0) prod_{x in t} 1/out(x) prod_{u in l} 1/out(u). The tail's islands are not on l, so the
// same tail is a valid walk in sigma', reaching u_0 and then running around the reversed loop
// with the same factors: the walks sigma -> sigma' and sigma' -> sigma are in one-to-one
// correspondence with equal probabilities, so P(sigma -> sigma') = P(sigma' -> sigma).
// long_loop: at every step but the first the walker sits at a vertex x != v0 whose arrows have
// been flipped once in and once out per earlier visit plus the arrival island, so the number of
// choices is out_sigma(x); the first step has out_sigma(v0) choices. Reading a walk backwards in
// sigma' (same flips in reverse order) is a valid walk with the same choice counts, since
// out_sigma' = out_sigma, so again the proposal is symmetric. Both chains have the uniform
// distribution on the sector as stationary distribution; tests/asi/test_loop_sampler.cpp checks
// P(a -> b) = P(b -> a) on enumerated sectors from the exact walk probabilities.
//
// Both worm proposals are symmetric for every fixed start vertex (the correspondences above keep
// the start), so the start vertices may follow any schedule that does not depend on the state.
// long_loop draws each start uniformly; short_loop, whose walks are a few steps long, starts
// its moves at consecutive vertex ids from a uniformly drawn vertex at the beginning of every
// sweep, so that successive walks touch neighbouring memory instead of one cache miss per move
// on lattices larger than the caches. Each move keeps the uniform distribution, hence so does
// their composition, and the random first vertex of every sweep keeps all starts equally used.
//
// Thermal sampling adds single-island Metropolis flips (which create, move and annihilate
// monopoles) and accepts loop moves (short_loop or basis, still symmetric proposals) with the
// Metropolis probability min(1, exp(-beta dE)). With vertex energies (vertex, charge, pair
// models) dE involves only the vertices of the flipped islands. With the dipolar model a single
// flip of island i costs dE = -2 sigma_i sum_j J_ij sigma_j over its neighbour list, and a loop's
// dE is the sum of the single-flip changes of its islands flipped one after the other: each term
// sees the islands flipped before it, which accounts exactly for the pairs inside the loop.
//
// A "sweep" is about n1 attempted arrow flips: n1 single-flip attempts (thermal ensemble) plus a
// number of loop moves with mean M, M * (mean attempted flips per loop move) ~ n1 (M - 1, M or
// M + 1 moves, drawn independently of the state; see Aperiodicity below). Attempted
// flips of a loop move: the islands of the proposed loop (for long_loop every island flip of the
// walk, including islands flipped twice; for short_loop not the discarded tail); a walk that
// gives up counts one. M is calibrated at the end of burn-in (burn-in sweeps themselves run loop
// moves until n1 flips have been attempted). The number of moves between recorded samples must
// not depend on the trajectory: stopping once n1 flips have been attempted would make the stop
// a function of the loop lengths and over-represent states that tend to be reached by long
// loops, biasing the recorded samples away from the stationary distribution.
// In the uniform ensemble every proposal is accepted, so attempted = performed.
//
// Aperiodicity. A symmetric one-move kernel P is reversible, so its period is 1 or 2, and 2
// happens: when no walk can give up (no vertex of any state of the sector lacks a free
// out-arrow) and no move ever returns the state it started from, the sector can split into two
// parity classes with every move crossing between them. Open kagome L = 2 and 3 are such cases:
// the sector is {s, sA, sB, sAB} for two loops A, B, every move flips exactly one of them, and
// the chain alternates between {s, sAB} and {sA, sB} (whatever the start vertices: each
// single-start kernel then swaps the classes too). P keeps the uniform distribution, but with a
// fixed even number of moves between recorded samples all samples of a chain lie in the start's
// class, half of the sector. A sweep therefore makes M - 1, M or M + 1 loop moves with
// probabilities 1/4, 1/2, 1/4 (M = moves_per_sweep >= 1), drawn independently of the state: its
// kernel is P^(M-1) ((I + P) / 2)^2, which keeps the uniform distribution, has mean M moves, and
// maps P's eigenvalue -1 to 0, so the parity is forgotten in a single sweep whatever M and the
// thinning are. Burn-in sweeps (moves until n1 flips) are not recorded and need no such draw.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "asi/energy.hpp"
#include "asi/lattice.hpp"
#include "core/rng.hpp"

namespace frost::asi {

enum MoveSet : int { kShortLoop = 0, kLongLoop = 1, kBasisLoop = 2 };

/// Parses "short_loop", "long_loop" or "basis". Throws std::invalid_argument otherwise.
MoveSet parse_move_set(const std::string& name);

/// The lattice in the flat arrays the sampler kernels read (host copy).
struct SamplerGraph {
  int n0 = 0, n1 = 0;
  std::vector<int> offsets;    ///< n0 + 1: islands of v are slots [offsets[v], offsets[v+1])
  std::vector<int> slot_edge;  ///< island of each slot, sorted by angle around v
  std::vector<std::int8_t> slot_sign;   ///< +1 when v is the tail (sigma = +1 points out of v)
  std::vector<std::uint8_t> slot_free;  ///< 1 when the slot's island may flip
  std::vector<int> edge_tail, edge_head;
  std::vector<int> free_edges;            ///< ids of islands that may flip
  std::vector<std::int8_t> fixed_spin;    ///< n1: 0 or the fixed value
  std::vector<std::uint8_t> vertex_kind;  ///< VertexKind per vertex
  std::vector<int> degree;                ///< all islands, fixed ones included
  /// Basis loops (faces then windings) in CSR form, orientation +1 = tail -> head.
  std::vector<int> loop_offsets, loop_edges;
  std::vector<std::int8_t> loop_orient;
  int square_vertices = 0, counted_vertices = 0;  ///< kSquareVertex / non-terminal counts
  int max_degree = 0;
  /// Per slot, packed for the walk's one load per step: island << 32 | other end << 5 | the
  /// island's slot number (0..31) at the other end.
  std::vector<std::uint64_t> slot_record;
  /// Per island: slot number at the tail | slot number at the head << 8.
  std::vector<int> edge_slots;
  /// Per vertex: bit k set when fixed slot k points out of the vertex (constant).
  std::vector<std::uint32_t> fixed_out;
};

/// Builds the flat arrays (slots sorted by angle, vertex kinds).
SamplerGraph build_sampler_graph(const Lattice& lattice);

/// Charge Q_v = (#in - #out) of every vertex.
std::vector<int> vertex_charges(const SamplerGraph& g, const std::vector<std::int8_t>& spins);

/// True when every non-terminal vertex obeys the ice rule |Q_v| = deg_v mod 2.
bool is_ice_state(const SamplerGraph& g, const std::vector<std::int8_t>& spins);

/// Total energy of a configuration (vertex energies, the pair sum of `pairs` for the dipolar
/// model, and the Zeeman energy -sum field_proj sigma). Throws std::invalid_argument for the
/// dipolar model without a couplings table.
double configuration_energy(const SamplerGraph& g, const EnergyConstants& c,
                            const std::vector<double>& field_proj,
                            const std::vector<std::int8_t>& spins,
                            const PairCouplings* pairs = nullptr);

/// Exact one-move transition probabilities of a uniform (zero-field) move set from `state`:
/// target state -> probability, the probability of staying included under `state` itself.
/// Enumerates every walk with its probability (short_loop, basis) or propagates the walk's
/// probability mass until less than 1e-15 remains unabsorbed (long_loop, whose walks are
/// unbounded). For tests on small lattices.
std::map<std::vector<std::int8_t>, double> exact_transitions(const SamplerGraph& g, MoveSet move,
                                                             const std::vector<std::int8_t>& state);

/// Settings of the chain kernels.
struct SamplerConfig {
  MoveSet move = kShortLoop;
  bool thermal = false;      ///< Metropolis at finite temperature (else uniform over the sector)
  bool loop_moves = true;    ///< thermal: add loop moves to the single-island flips
  bool single_flips = true;  ///< thermal: single-island flips (off only in tests)
  EnergyConstants energy;
  std::uint64_t seed = 0;
  std::uint32_t run = 0;
};

/// A random source over a RandomStream that hands out single bits for the common two-way choice
/// (one 64-bit draw serves 64 binary choices); its state is (counter, buffer, bits left).
struct BitRandom {
  core::RandomStream stream;
  std::uint64_t buffer = 0;
  int bits = 0;

  /// Uniform integer in [0, n), n >= 1.
  KOKKOS_INLINE_FUNCTION std::uint32_t choose(std::uint32_t n) {
    if (n == 1u) return 0u;
    if ((n & (n - 1u)) == 0u && n <= 256u) {
      int need = 0;
      while ((1u << need) < n) ++need;
      if (bits < need) {
        buffer = stream.next_u64();
        bits = 64;
      }
      const std::uint32_t r = static_cast<std::uint32_t>(buffer & (n - 1u));
      buffer >>= need;
      bits -= need;
      return r;
    }
    return stream.below(n);
  }
  KOKKOS_INLINE_FUNCTION double uniform() { return stream.uniform(); }
};

/// Number of set bits of a 32-bit mask; a nibble table for masks below 16 (square and kagome
/// vertices), since without a popcount instruction in the target flags the builtin is a call.
KOKKOS_INLINE_FUNCTION int mask_count(std::uint32_t m) {
  if (m < 16u) return static_cast<int>((0x4332322132212110ull >> (4u * m)) & 15u);
  m = m - ((m >> 1) & 0x55555555u);
  m = (m & 0x33333333u) + ((m >> 2) & 0x33333333u);
  return static_cast<int>((((m + (m >> 4)) & 0x0F0F0F0Fu) * 0x01010101u) >> 24);
}

/// Index of the lowest set bit of m != 0.
KOKKOS_INLINE_FUNCTION int lowest_bit(std::uint32_t m) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return __ffs(static_cast<int>(m)) - 1;
#else
  return __builtin_ctz(m);
#endif
}

/// Device copy of the graph plus all chain state; the member functions are what one chain does.
/// Replica r owns row r of every two-dimensional view; its random stream is keyed by
/// (seed, run, r), so a replica's trajectory depends on nothing else.
///
/// Besides the spins, every replica keeps the out-mask of each vertex (bit k set when free slot
/// k points out), updated with every flip: a walk step then reads one word for the vertex and
/// one packed slot record instead of the spins, signs and ids of all the vertex's islands, which
/// shortens the chain of dependent loads that bounds a walk's speed. refresh_masks rebuilds the
/// masks after the spins were written from outside (start, checkpoint restore).
template <class MemorySpace>
struct ChainKernel {
  using I8 = Kokkos::View<std::int8_t*, MemorySpace>;
  using U8 = Kokkos::View<std::uint8_t*, MemorySpace>;
  using I32 = Kokkos::View<int*, MemorySpace>;
  using U32 = Kokkos::View<std::uint32_t*, MemorySpace>;
  using F64 = Kokkos::View<double*, MemorySpace>;
  using U64 = Kokkos::View<std::uint64_t*, MemorySpace>;
  using I8_2 = Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace>;
  using I32_2 = Kokkos::View<int**, Kokkos::LayoutRight, MemorySpace>;
  using U32_2 = Kokkos::View<std::uint32_t**, Kokkos::LayoutRight, MemorySpace>;

  int n0 = 0, n1 = 0, n_free = 0, n_loops = 0;
  /// Mean loop moves per sweep M (each sweep makes M - 1, M or M + 1, see the file comment);
  /// 0: loop moves until n1 flips have been attempted (burn-in only).
  int moves_per_sweep = 0;
  SamplerConfig cfg;
  I32 offsets, slot_edge, edge_tail, edge_head, free_edges, loop_offsets, loop_edges, edge_slots;
  I8 slot_sign, loop_orient, edge_fixed;
  U8 vertex_kind;
  U32 fixed_out;
  U64 slot_record;
  F64 field_proj;
  /// Dipolar couplings (PairCouplings in device views); an empty table for other models.
  I32 pair_offsets, pair_index;
  F64 pair_coupling;
  // chain state
  I8_2 spins;
  U32_2 outmask;
  /// short_loop visit marks: entry 2v is the generation stamp of v's last visit, 2v + 1 its
  /// position on the walk; a new walk only increments the generation, so nothing is cleared.
  I32_2 visit;
  I32_2 vstack, estack;
  I32 stamp_now;
  U64 rng_counter, rng_buffer;
  I32 rng_bits;
  F64 beta, energy;
  U64 attempted, accepted_single, attempted_single, accepted_loop, attempted_loop, loop_moves;
  U64 walk_steps;  ///< vertices stepped to by walks (short_loop: tails included)
  I32 error;

  /// Rebuilds the out-masks of replica r from its spins.
  KOKKOS_INLINE_FUNCTION void rebuild_masks(int r) const {
    for (int v = 0; v < n0; ++v) {
      std::uint32_t m = 0;
      for (int s = offsets(v); s < offsets(v + 1); ++s) {
        const int e = slot_edge(s);
        if (edge_fixed(e) == 0 && slot_sign(s) == spins(r, e)) m |= 1u << (s - offsets(v));
      }
      outmask(r, v) = m;
    }
  }

  /// Reverses free island e of replica r (spins and both out-masks).
  KOKKOS_INLINE_FUNCTION void flip_island(int r, int e) const {
    spins(r, e) = static_cast<std::int8_t>(-spins(r, e));
    const int ks = edge_slots(e);
    outmask(r, edge_tail(e)) ^= 1u << (ks & 0xff);
    outmask(r, edge_head(e)) ^= 1u << (ks >> 8);
  }

  /// Energy of vertex v in replica r.
  KOKKOS_INLINE_FUNCTION double vertex_energy_of(int r, int v) const {
    const int d = offsets(v + 1) - offsets(v);
    const std::uint32_t all = d >= 32 ? 0xffffffffu : (1u << d) - 1u;
    const std::uint32_t in = ~(outmask(r, v) | fixed_out(v)) & all;
    return vertex_energy(cfg.energy, vertex_kind(v), d, mask_count(in), in);
  }

  /// sum_j J_ej sigma_j over the couplings of island e in replica r.
  KOKKOS_INLINE_FUNCTION double pair_field(int r, int e) const {
    double h = 0.0;
    for (int p = pair_offsets(e); p < pair_offsets(e + 1); ++p) {
      h += pair_coupling(p) * spins(r, pair_index(p));
    }
    return h;
  }

  /// sum_{i<j} J_ij sigma_i sigma_j of replica r (zero unless the model is dipolar).
  KOKKOS_INLINE_FUNCTION double pair_energy_of(int r) const {
    double e = 0.0;
    for (int i = 0; i < n1; ++i) {
      double h = 0.0;
      for (int p = pair_offsets(i); p < pair_offsets(i + 1); ++p) {
        const int j = pair_index(p);
        if (j > i) h += pair_coupling(p) * spins(r, j);
      }
      e += spins(r, i) * h;
    }
    return e;
  }

  /// Flips free island e of replica r and returns the energy change.
  KOKKOS_INLINE_FUNCTION double flip_with_delta(int r, int e) const {
    const double s = spins(r, e);
    if (cfg.energy.model == kDipolarModel) {
      const double dE = 2.0 * s * (field_proj(e) - pair_field(r, e));
      flip_island(r, e);
      return dE;
    }
    const int t = edge_tail(e), h = edge_head(e);
    const double before = vertex_energy_of(r, t) + vertex_energy_of(r, h);
    flip_island(r, e);
    return vertex_energy_of(r, t) + vertex_energy_of(r, h) - before + 2.0 * field_proj(e) * s;
  }

  /// Flips the islands estack[first..last) of replica r and returns the energy change. With
  /// vertex energies vstack[first..last) must hold every vertex of the islands exactly once (a
  /// loop's vertices); the dipolar model does not read vstack.
  KOKKOS_INLINE_FUNCTION double flip_loop_with_delta(int r, int first, int last) const {
    if (cfg.energy.model == kDipolarModel) {
      double dE = 0.0;
      for (int i = first; i < last; ++i) dE += flip_with_delta(r, estack(r, i));
      return dE;
    }
    const double before = loop_energy(r, first, last);
    for (int i = first; i < last; ++i) flip_island(r, estack(r, i));
    return loop_energy(r, first, last) - before;
  }

  /// Metropolis test; counts one random draw only when dE > 0.
  KOKKOS_INLINE_FUNCTION bool metropolis(int r, double dE, BitRandom& rng) const {
    if (dE <= 0.0) return true;
    return rng.uniform() < Kokkos::Experimental::exp(-beta(r) * dE);
  }

  /// One single-island Metropolis attempt.
  KOKKOS_INLINE_FUNCTION void single_flip(int r, BitRandom& rng) const {
    const int e =
        free_edges(static_cast<int>(rng.stream.below(static_cast<std::uint32_t>(n_free))));
    const double dE = flip_with_delta(r, e);
    attempted_single(r) += 1;
    if (metropolis(r, dE, rng)) {
      accepted_single(r) += 1;
      energy(r) += dE;
    } else {
      flip_island(r, e);
    }
  }

  /// Energy of the vertices vstack[first..last) (the loop's vertices) plus the Zeeman energy of
  /// islands estack[first..last).
  KOKKOS_INLINE_FUNCTION double loop_energy(int r, int first, int last) const {
    double e = 0.0;
    for (int i = first; i < last; ++i) {
      e += vertex_energy_of(r, vstack(r, i));
      e -= field_proj(estack(r, i)) * spins(r, estack(r, i));
    }
    return e;
  }

  /// Flips the islands estack[first..last), with a Metropolis test in the thermal ensemble.
  KOKKOS_INLINE_FUNCTION void flip_loop(int r, int first, int last, BitRandom& rng) const {
    attempted_loop(r) += 1;
    if (!cfg.thermal) {
      for (int i = first; i < last; ++i) flip_island(r, estack(r, i));
      accepted_loop(r) += 1;
      return;
    }
    const double dE = flip_loop_with_delta(r, first, last);
    if (metropolis(r, dE, rng)) {
      accepted_loop(r) += 1;
      energy(r) += dE;
    } else {
      for (int i = first; i < last; ++i) flip_island(r, estack(r, i));
    }
  }

  /// Slot number of the r-th set bit (r < count of m) of m, in slot order. The loop runs
  /// count - 1 times whatever r is (a conditional clear of the lowest bit), so the trip count is
  /// the same at every vertex of a regular lattice and no branch depends on the random draw.
  KOKKOS_INLINE_FUNCTION static int select_bit(std::uint32_t m, int n, std::uint32_t r) {
    for (int i = 0; i + 1 < n; ++i) m &= m - (static_cast<std::uint32_t>(i) < r ? 1u : 0u);
    return lowest_bit(m);
  }

  /// short_loop move from vertex v; returns the attempted flips.
  KOKKOS_INLINE_FUNCTION long short_loop(int r, int v, BitRandom& rng) const {
    int mark = ++stamp_now(r);
    if (mark == 0x7fffffff) {  // stamps wrap: clear them (once per 2^31 moves)
      for (int u = 0; u < n0; ++u) visit(r, 2 * u) = 0;
      stamp_now(r) = mark = 1;
    }
    // raw row pointers: the int8 spin stores may alias anything, so views read through `this`
    // would be reloaded after every store
    const std::uint32_t* om = &outmask(r, 0);
    int* vis = &visit(r, 0);
    int* vs = &vstack(r, 0);
    int* es = &estack(r, 0);
    const int* off = offsets.data();
    const std::uint64_t* rec = slot_record.data();
    int len = 0;
    vis[2 * v] = mark;
    vis[2 * v + 1] = 0;
    for (;;) {
      const std::uint32_t m = om[v];
      const int n = mask_count(m);
      if (n == 0) {
        walk_steps(r) += static_cast<std::uint64_t>(len);
        return 1;
      }
      const int k = select_bit(m, n, rng.choose(static_cast<std::uint32_t>(n)));
      const std::uint64_t x = rec[off[v] + k];
      const int e = static_cast<int>(x >> 32);
      const int w = static_cast<int>((x >> 5) & 0x7ffffffu);
      vs[len] = v;
      es[len] = e;
      ++len;
      if (vis[2 * w] == mark) {
        const int first = vis[2 * w + 1];
        walk_steps(r) += static_cast<std::uint64_t>(len);
        flip_loop(r, first, len, rng);
        return len - first;
      }
      vis[2 * w] = mark;
      vis[2 * w + 1] = len;
      v = w;
    }
  }

  /// long_loop move (uniform ensemble only); returns the island flips of the walk.
  KOKKOS_INLINE_FUNCTION long long_loop(int r, BitRandom& rng) const {
    const int v0 = static_cast<int>(rng.stream.below(static_cast<std::uint32_t>(n0)));
    std::uint32_t* om = &outmask(r, 0);
    std::int8_t* sp = &spins(r, 0);
    const int* off = offsets.data();
    const std::uint64_t* rec = slot_record.data();
    int v = v0;
    std::uint32_t skip = 0;  // arrival slot's bit: the island just flipped, now pointing out
    long flips = 0;
    attempted_loop(r) += 1;
    // The two-way choice of a square vertex takes one bit of a local copy of the bit buffer:
    // the spin stores below are char stores, which may alias rng's members and would force a
    // reload of the buffer on every step. Same draws as rng.choose.
    std::uint64_t buffer = rng.buffer;
    int bits = rng.bits;
    do {
      const std::uint32_t m = om[v] & ~skip;
      const int n = mask_count(m);
      if (n == 0) {
        rng.buffer = buffer;
        rng.bits = bits;
        walk_steps(r) += static_cast<std::uint64_t>(flips);
        if (flips == 0) return 1;  // v0 has no free out-arrow in any state of the sector
        error(r) = 1;  // stuck at a sink: only possible with sinks, which the driver rules out
        return flips;
      }
      std::uint32_t pick;
      if (n == 2) {
        if (bits < 1) {
          buffer = rng.stream.next_u64();
          bits = 64;
        }
        pick = static_cast<std::uint32_t>(buffer & 1u);
        buffer >>= 1;
        bits -= 1;
      } else {
        rng.buffer = buffer;
        rng.bits = bits;
        pick = rng.choose(static_cast<std::uint32_t>(n));
        buffer = rng.buffer;
        bits = rng.bits;
      }
      const int k = select_bit(m, n, pick);
      const std::uint64_t x = rec[off[v] + k];
      const int e = static_cast<int>(x >> 32);
      const int w = static_cast<int>((x >> 5) & 0x7ffffffu);
      skip = 1u << (x & 31u);
      sp[e] = static_cast<std::int8_t>(-sp[e]);
      om[v] ^= 1u << k;
      om[w] ^= skip;
      v = w;
      ++flips;
    } while (v != v0);
    rng.buffer = buffer;
    rng.bits = bits;
    walk_steps(r) += static_cast<std::uint64_t>(flips);
    accepted_loop(r) += 1;
    return flips;
  }

  /// basis move; returns the attempted flips (the loop's length).
  KOKKOS_INLINE_FUNCTION long basis_loop(int r, BitRandom& rng) const {
    const int k = static_cast<int>(rng.stream.below(static_cast<std::uint32_t>(n_loops)));
    const int begin = loop_offsets(k), end = loop_offsets(k + 1);
    const int dir = loop_orient(begin) * spins(r, loop_edges(begin));
    bool directed = true;
    for (int i = begin; i < end; ++i) {
      const int e = loop_edges(i);
      directed = directed && loop_orient(i) * spins(r, e) == dir && edge_fixed(e) == 0;
    }
    if (!directed) {
      attempted_loop(r) += 1;
      return end - begin;
    }
    for (int i = begin; i < end; ++i) {
      const int e = loop_edges(i);
      vstack(r, i - begin) = spins(r, e) > 0 ? edge_tail(e) : edge_head(e);  // arrow's start
      estack(r, i - begin) = e;
    }
    flip_loop(r, 0, end - begin, rng);
    return end - begin;
  }

  /// One loop move of the configured kind; `start` is the short_loop start vertex.
  KOKKOS_INLINE_FUNCTION long loop_move(int r, int start, BitRandom& rng) const {
    if (cfg.move == kShortLoop) return short_loop(r, start, rng);
    if (cfg.move == kLongLoop) return long_loop(r, rng);
    return basis_loop(r, rng);
  }

  /// `sweeps` sweeps of replica r (see the file comment for what a sweep is).
  KOKKOS_INLINE_FUNCTION void run_sweeps(int r, int sweeps, std::uint32_t stream_key) const {
    BitRandom rng{core::RandomStream(cfg.seed, cfg.run, stream_key, rng_counter(r)), rng_buffer(r),
                  rng_bits(r)};
    const bool loops = !cfg.thermal || cfg.loop_moves;
    for (int sweep = 0; sweep < sweeps; ++sweep) {
      if (cfg.thermal && cfg.single_flips && n_free > 0) {
        for (int i = 0; i < n1; ++i) single_flip(r, rng);
      }
      if (loops && n_free > 0 && (cfg.move != kBasisLoop || n_loops > 0)) {
        long done = 0;
        // short_loop starts at consecutive vertices from a random one per sweep (see the file
        // comment): a short walk then mostly touches memory the previous one loaded
        int start = cfg.move == kShortLoop
                        ? static_cast<int>(rng.stream.below(static_cast<std::uint32_t>(n0)))
                        : 0;
        auto next_start = [&]() {
          const int v = start;
          start = start + 1 == n0 ? 0 : start + 1;
          return v;
        };
        if (moves_per_sweep > 0) {
          // M - 1, M or M + 1 moves with probabilities 1/4, 1/2, 1/4: mean M, odd and even
          // counts equally likely, so a period-2 chain forgets its parity (see the file comment)
          const std::uint32_t b = rng.choose(4u);
          const int moves = moves_per_sweep - 1 + static_cast<int>((b & 1u) + (b >> 1));
          for (int m = 0; m < moves; ++m) done += loop_move(r, next_start(), rng);
          loop_moves(r) += static_cast<std::uint64_t>(moves);
        } else {
          long moves = 0;
          while (done < n1) {
            done += loop_move(r, next_start(), rng);
            ++moves;
          }
          loop_moves(r) += static_cast<std::uint64_t>(moves);
        }
        attempted(r) += static_cast<std::uint64_t>(done);
      }
    }
    rng_counter(r) = rng.stream.counter();
    rng_buffer(r) = rng.buffer;
    rng_bits(r) = rng.bits;
  }
};

/// Allocates the kernel's views in MemorySpace and copies the graph in. `replicas` rows of
/// state; spins start from `initial` (n1 values) in every replica. `pairs` holds the couplings
/// of the dipolar model (required for it, ignored by the other models).
template <class MemorySpace>
ChainKernel<MemorySpace> make_chain_kernel(const SamplerGraph& g, const SamplerConfig& cfg,
                                           const std::vector<double>& field_proj, int replicas,
                                           const std::vector<std::int8_t>& initial,
                                           const PairCouplings& pairs = PairCouplings{});

/// Runs `sweeps` sweeps of every replica in parallel (one replica per thread); replica r uses
/// the random stream keyed by stream_keys[r].
template <class ExecSpace, class MemorySpace>
void run_sweeps(const ExecSpace& exec, const ChainKernel<MemorySpace>& k, int sweeps,
                const Kokkos::View<const std::uint32_t*, MemorySpace>& stream_keys) {
  Kokkos::parallel_for(
      "frost::asi::sweep",
      Kokkos::RangePolicy<ExecSpace>(exec, 0, static_cast<int>(k.spins.extent(0))),
      KOKKOS_LAMBDA(const int r) { k.run_sweeps(r, sweeps, stream_keys(r)); });
}

/// Rebuilds every replica's out-masks from its spins; needed after the spins were written
/// directly (a checkpoint restore).
template <class ExecSpace, class MemorySpace>
void refresh_masks(const ExecSpace& exec, const ChainKernel<MemorySpace>& k) {
  Kokkos::parallel_for(
      "frost::asi::refresh_masks",
      Kokkos::RangePolicy<ExecSpace>(exec, 0, static_cast<int>(k.spins.extent(0))),
      KOKKOS_LAMBDA(const int r) { k.rebuild_masks(r); });
  exec.fence();
}

// ---- implementation of the template helpers ----

namespace detail {
template <class View, class T>
View upload(const std::string& label, const std::vector<T>& host) {
  View v(label, host.size());
  auto m = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < host.size(); ++i) m(i) = host[i];
  Kokkos::deep_copy(v, m);
  return v;
}
}  // namespace detail

template <class MemorySpace>
ChainKernel<MemorySpace> make_chain_kernel(const SamplerGraph& g, const SamplerConfig& cfg,
                                           const std::vector<double>& field_proj, int replicas,
                                           const std::vector<std::int8_t>& initial,
                                           const PairCouplings& pairs) {
  using K = ChainKernel<MemorySpace>;
  K k;
  k.n0 = g.n0;
  k.n1 = g.n1;
  k.n_free = static_cast<int>(g.free_edges.size());
  k.n_loops = static_cast<int>(g.loop_offsets.size()) - 1;
  k.cfg = cfg;
  k.offsets = detail::upload<typename K::I32>("frost::asi::offsets", g.offsets);
  k.slot_edge = detail::upload<typename K::I32>("frost::asi::slot_edge", g.slot_edge);
  k.edge_tail = detail::upload<typename K::I32>("frost::asi::edge_tail", g.edge_tail);
  k.edge_head = detail::upload<typename K::I32>("frost::asi::edge_head", g.edge_head);
  k.free_edges = detail::upload<typename K::I32>("frost::asi::free_edges", g.free_edges);
  k.loop_offsets = detail::upload<typename K::I32>("frost::asi::loop_offsets", g.loop_offsets);
  k.loop_edges = detail::upload<typename K::I32>("frost::asi::loop_edges", g.loop_edges);
  k.slot_sign = detail::upload<typename K::I8>("frost::asi::slot_sign", g.slot_sign);
  k.loop_orient = detail::upload<typename K::I8>("frost::asi::loop_orient", g.loop_orient);
  k.edge_fixed = detail::upload<typename K::I8>("frost::asi::edge_fixed", g.fixed_spin);
  k.edge_slots = detail::upload<typename K::I32>("frost::asi::edge_slots", g.edge_slots);
  k.fixed_out = detail::upload<typename K::U32>("frost::asi::fixed_out", g.fixed_out);
  k.slot_record = detail::upload<typename K::U64>("frost::asi::slot_record", g.slot_record);
  k.vertex_kind = detail::upload<typename K::U8>("frost::asi::vertex_kind", g.vertex_kind);
  k.field_proj = detail::upload<typename K::F64>("frost::asi::field_proj", field_proj);
  if (cfg.energy.model == kDipolarModel &&
      pairs.offsets.size() != static_cast<std::size_t>(g.n1) + 1) {
    throw std::invalid_argument("make_chain_kernel: the dipolar model needs its couplings table");
  }
  // other models get an empty table, so that pair_field and pair_energy_of read zero
  const PairCouplings none{std::vector<int>(g.n1 + 1, 0), {}, {}};
  const PairCouplings& used = cfg.energy.model == kDipolarModel ? pairs : none;
  k.pair_offsets = detail::upload<typename K::I32>("frost::asi::pair_offsets", used.offsets);
  k.pair_index = detail::upload<typename K::I32>("frost::asi::pair_index", used.neighbour);
  k.pair_coupling = detail::upload<typename K::F64>("frost::asi::pair_coupling", used.coupling);
  const int R = replicas;
  k.spins = typename K::I8_2("frost::asi::spins", R, g.n1);
  {
    auto m = Kokkos::create_mirror_view(k.spins);
    for (int r = 0; r < R; ++r)
      for (int e = 0; e < g.n1; ++e) m(r, e) = initial[e];
    Kokkos::deep_copy(k.spins, m);
  }
  const bool short_stacks = cfg.move != kLongLoop;
  const int sv = short_stacks ? g.n0 : 0;
  const int ss = short_stacks ? g.n0 + 1 : 0;
  int longest = 0;
  for (std::size_t i = 0; i + 1 < g.loop_offsets.size(); ++i) {
    longest = std::max(longest, g.loop_offsets[i + 1] - g.loop_offsets[i]);
  }
  k.visit = typename K::I32_2("frost::asi::visit", R, 2 * sv);
  k.outmask = typename K::U32_2("frost::asi::outmask", R, g.n0);
  k.vstack = typename K::I32_2("frost::asi::vstack", R, std::max(ss, longest));
  k.estack = typename K::I32_2("frost::asi::estack", R, std::max(ss, longest));
  k.stamp_now = typename K::I32("frost::asi::stamp_now", R);
  k.rng_counter = typename K::U64("frost::asi::rng_counter", R);
  k.rng_buffer = typename K::U64("frost::asi::rng_buffer", R);
  k.rng_bits = typename K::I32("frost::asi::rng_bits", R);
  k.beta = typename K::F64("frost::asi::beta", R);
  k.energy = typename K::F64("frost::asi::energy", R);
  k.attempted = typename K::U64("frost::asi::attempted", R);
  k.accepted_single = typename K::U64("frost::asi::accepted_single", R);
  k.attempted_single = typename K::U64("frost::asi::attempted_single", R);
  k.accepted_loop = typename K::U64("frost::asi::accepted_loop", R);
  k.attempted_loop = typename K::U64("frost::asi::attempted_loop", R);
  k.loop_moves = typename K::U64("frost::asi::loop_moves", R);
  k.walk_steps = typename K::U64("frost::asi::walk_steps", R);
  k.error = typename K::I32("frost::asi::error", R);
  refresh_masks(typename MemorySpace::execution_space(), k);
  return k;
}

}  // namespace frost::asi
