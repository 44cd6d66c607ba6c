// LoopMPVAN Mode A: an autoregressive sampler of ice states over the basis loops, with an EIGN
// network giving each flip probability, trained by REINFORCE.
//
// Sampling. Start from a reference ice state sigma_0 and visit the basis loops i = 0 .. beta1-1
// in basis order. When loop i is a directed cycle of the current state, reverse it with
// probability p_i = sigmoid(logit_i), logit_i the EIGN loop readout of loop i on the current
// state; otherwise skip it (reversing it would break the ice rule). Reversing a directed cycle
// keeps every vertex charge, so every sample is an ice state of the reference's charge sector,
// and log q(sigma) = sum over the visited directed loops of log p_i or log (1 - p_i).
// The network input at step i: the spins as the one equivariant channel, and three invariant
// channels: 1, [edge lies on a loop already decided (index < i)], [edge lies on a loop still to
// come (index > i)], so that the network can tell past from future loops.
//
// Teacher forcing. The decisions that lead to a state sigma are its loop coefficients alpha
// (sigma = sigma_0 reversed on the loops with alpha_i = 1), found by AlphaPeeler in O(n1). The
// replay visits the same intermediate states, so log q(sigma) follows from one batched network
// pass over all (sample, directed step) pairs at once, instead of beta1 sequential passes. A
// state is unreachable (q = 0, log q = -inf) when the replay must reverse a loop that is not
// directed at its step.
//
// Training (uniform target): minimise E_q[ln q] (maximise the entropy) with the score-function
// gradient E_q[(ln q - b) grad ln q], b a running mean of ln q over earlier batches (it keeps the
// estimator unbiased because E_q[grad ln q] = 0), and Adam.
//
// Receptive patches. The logit of loop i depends only on the input rows within K vertex hops of
// loop i's edges (eign.hpp, "Receptive field"). With evaluation = patch, each step runs the
// network on loop i's patch only (precomputed per loop, |patch| independent of L at fixed K), so
// a sample costs O(beta1 |patch| K d^2) instead of O(beta1 n1 K d^2), and the logits, samples
// and ln q are bitwise those of the whole-lattice pass. Teacher forcing runs every (sample,
// directed step) pair on its own step's patch in one batched pass, holding only the patch rows
// of each replayed state.
//
// Randomness: the uniform of step i of sample c in run r is draw 2i.. of
// core::RandomStream(seed, r, c), so a sample depends only on (seed, run, chain) and the
// parameters.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "asi/alpha_recovery.hpp"
#include "asi/cycle_basis.hpp"
#include "asi/eign.hpp"
#include "asi/incidence.hpp"
#include "asi/lattice.hpp"
#include "core/rng.hpp"

namespace frost::asi {

/// Where the network runs at a loop step: the whole lattice, or loop i's receptive patch (the
/// same logits, see the file comment).
enum class LoopEvaluation { full, patch };

/// Settings of the Mode A sampler and its training.
struct LoopSamplerNetConfig {
  LoopEvaluation evaluation = LoopEvaluation::patch;
  EignConfig network;      ///< equ_inputs and inv_inputs are set by the sampler (1 and 3)
  std::uint64_t seed = 0;  ///< parameter initialisation and sampling streams
  /// Most (sample, directed step) pairs per teacher-forced network pass (bounds memory).
  int max_teacher_batch = 4096;
  double learning_rate = 1e-2;  ///< Adam step size
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  double baseline_decay = 0.9;  ///< running mean b <- decay b + (1 - decay) mean(ln q)
};

/// A batch of samples in MemorySpace: states (samples x n1, +-1), their log q (nats) and the
/// loop decisions alpha (samples x beta1, 1 = reversed).
template <class MemorySpace>
struct LoopSampleBatch {
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  Kokkos::View<double*, MemorySpace> log_q;
  Kokkos::View<std::uint8_t**, Kokkos::LayoutRight, MemorySpace> alpha;
};

/// Result of one training step.
struct LoopTrainStats {
  double mean_log_q = 0.0;          ///< batch mean of ln q (an estimate of -entropy, nats)
  double baseline = 0.0;            ///< baseline used for this step
  double grad_norm = 0.0;           ///< Euclidean norm of the gradient before the Adam step
  double max_log_q_mismatch = 0.0;  ///< max |ln q(sampling) - ln q(teacher forcing)|
};

/// Exact KL(q || uniform on the states with q > 0), from ln q of a list of candidate states.
struct ExactKl {
  double kl = 0.0;            ///< sum_q q (ln q + ln R), nats
  double total_q = 0.0;       ///< sum of q over the candidates (1 when they cover the support)
  std::uint64_t support = 0;  ///< R: candidates with q > 0
};

/// LoopMPVAN Mode A on one lattice: network, parameters, optimiser state and baseline.
/// Invariants: the reference is an ice state; the basis is the one the lattice's AlphaPeeler
/// accepts (faces or fundamental cycles); every sampled state is an ice state of the
/// reference's charge sector.
template <class MemorySpace>
class LoopAutoregressiveSampler {
 public:
  using state_view = Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace>;

  /// `lattice` and `basis` are referenced and must outlive the sampler.
  LoopAutoregressiveSampler(const Lattice& lattice, const CycleBasis& basis,
                            const std::vector<std::int8_t>& reference,
                            const LoopSamplerNetConfig& config);

  Eign<MemorySpace>& network() { return net_; }
  const Eign<MemorySpace>& network() const { return net_; }
  const std::vector<std::int8_t>& reference() const { return reference_; }
  double baseline() const { return baseline_; }

  /// Draws `batch` samples, chains first_chain .. first_chain + batch - 1 of run `run`: beta1
  /// sequential steps, each one network pass over the whole batch, on loop i's patch or the
  /// lattice (skipped when no sample of the batch has loop i directed). Synchronous (the step
  /// loop branches on that count).
  template <class ExecSpace>
  LoopSampleBatch<MemorySpace> sample(const ExecSpace& exec, int batch, std::uint32_t run,
                                      std::uint32_t first_chain = 0);

  /// ln q of each state by teacher forcing (-inf when unreachable). Throws
  /// std::invalid_argument for a state outside the reference's charge sector.
  template <class ExecSpace>
  std::vector<double> log_q(const ExecSpace& exec,
                            const std::vector<std::vector<std::int8_t>>& states) {
    return teacher_force(exec, states, nullptr);
  }

  /// One REINFORCE + Adam step for the uniform target on a fresh batch of run `run`.
  template <class ExecSpace>
  LoopTrainStats train_step(const ExecSpace& exec, int batch, std::uint32_t run);

  /// Exact KL to uniform over the support, from teacher-forced ln q of `candidates` (e.g. all
  /// states of the reference's charge sector).
  template <class ExecSpace>
  ExactKl exact_kl_to_uniform(const ExecSpace& exec,
                              const std::vector<std::vector<std::int8_t>>& candidates);

  /// Copies a device state view to host vectors.
  static std::vector<std::vector<std::int8_t>> to_host(const state_view& states);

  /// Edges of loop i's receptive patch (global ids, increasing); empty unless evaluation is
  /// patch.
  std::vector<int> patch_edges(int loop) const {
    if (patch_offset_host_.empty()) return {};
    return std::vector<int>(patch_edges_host_.begin() + patch_offset_host_[loop],
                            patch_edges_host_.begin() + patch_offset_host_[loop + 1]);
  }
  /// Network passes of the last sample() call: the steps at which some sample of the batch had
  /// its loop directed (the others are skipped).
  int last_sample_passes() const { return last_passes_; }
  /// Largest receptive patch (edges); 0 unless evaluation is patch.
  int max_patch_edges() const { return patches_.max_edges; }
  /// Mean receptive patch over the loops (edges); 0 unless evaluation is patch.
  double mean_patch_edges() const {
    const int loops = static_cast<int>(patch_offset_host_.size()) - 1;
    return loops > 0 ? double(patch_offset_host_.back()) / loops : 0.0;
  }

  /// Logits of step `step` for each state (batch x n1) as the sampler would compute them,
  /// through the configured evaluation (for tests comparing the two).
  template <class ExecSpace>
  std::vector<double> step_logits(const ExecSpace& exec, const state_view& states, int step);

 private:
  const Lattice* lattice_;
  const CycleBasis* basis_;
  std::vector<std::int8_t> reference_;
  LoopSamplerNetConfig config_;
  Eign<MemorySpace> net_;
  AlphaPeeler peeler_;
  DeviceCycleBasis<MemorySpace> device_basis_;
  Kokkos::View<std::int8_t*, MemorySpace> device_reference_;
  Kokkos::View<int*, MemorySpace> edge_min_loop_, edge_max_loop_;
  Kokkos::View<double*, MemorySpace> adam_m_, adam_v_;
  long adam_step_ = 0;
  double baseline_ = 0.0;
  bool baseline_set_ = false;
  EignWorkspace<MemorySpace> ws_;
  // Receptive patches, one graph per loop (evaluation = patch only): the patch edges' global
  // ids by patches_.edge_offset, and the basis with each loop's edges in its patch's numbering.
  int last_passes_ = 0;
  bool use_patches_ = false;
  EignGraphs<MemorySpace> patches_;
  Kokkos::View<int*, MemorySpace> patch_edges_;
  std::vector<int> patch_edges_host_, patch_offset_host_;
  DeviceCycleBasis<MemorySpace> local_basis_;

  // Implementation steps (kernels in detail::).
  template <class ExecSpace>
  void fill_inputs(const ExecSpace& exec, const state_view& states,
                   const Kokkos::View<const int*, MemorySpace>& steps);
  /// Inputs on the patches of steps(s): from whole states (local = false, batch x n1) or from
  /// states already restricted to the patch (local = true, batch x max patch edges).
  template <class ExecSpace>
  void fill_patch_inputs(const ExecSpace& exec, const state_view& states, bool local,
                         const Kokkos::View<const int*, MemorySpace>& steps);
  /// Network pass and loop readout for sample s at step steps(s), on the patch or the lattice.
  template <class ExecSpace>
  void evaluate_logits(const ExecSpace& exec, const state_view& states, bool local_states,
                       const Kokkos::View<const int*, MemorySpace>& steps,
                       const Kokkos::View<double*, MemorySpace>& logits);
  void build_patches();
  template <class ExecSpace>
  std::vector<double> teacher_force(const ExecSpace& exec,
                                    const std::vector<std::vector<std::int8_t>>& states,
                                    const std::vector<double>* weights);
  template <class ExecSpace>
  void adam_update(const ExecSpace& exec);
};

namespace detail {

/// ln sigmoid(z), without overflow.
KOKKOS_INLINE_FUNCTION double log_sigmoid(double z) {
  return z >= 0 ? -Kokkos::Experimental::log1p(Kokkos::Experimental::exp(-z))
                : z - Kokkos::Experimental::log1p(Kokkos::Experimental::exp(z));
}

LoopSamplerNetConfig checked_sampler_config(const LoopSamplerNetConfig& config);

// Kernels in this file are named functors, not lambdas: CUDA's extended host-device lambdas in
// templates instantiated by several translation units can call through a null host function
// pointer when run on a host execution space.

/// Parameter k's Adam update; c1, c2 are the bias corrections.
template <class MemorySpace>
struct AdamUpdate {
  Kokkos::View<double*, MemorySpace> params, grads, m, v;
  double lr, b1, b2, c1, c2, eps;

  KOKKOS_INLINE_FUNCTION void operator()(const int k) const {
    m(k) = b1 * m(k) + (1.0 - b1) * grads(k);
    v(k) = b2 * v(k) + (1.0 - b2) * grads(k) * grads(k);
    params(k) -= lr * (m(k) / c1) / (Kokkos::Experimental::sqrt(v(k) / c2) + eps);
  }
};

/// Sample s's network inputs on edge e at step steps(s): x = the spin; y = (1, edge on an
/// earlier loop, edge on a later loop). On a patch (row = patch row), `global` maps rows to
/// edges and `local` says whether `states` holds patch rows or whole states.
template <class MemorySpace>
struct LoopSamplerInputs {
  EignTensor<MemorySpace> x, y;
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  Kokkos::View<const int*, MemorySpace> steps;
  Kokkos::View<int*, MemorySpace> lo, hi, offset, global;
  bool patch, local;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    const int step = steps(s);
    int g = e;
    if (patch) {
      const int row = offset(step) + e;
      if (row >= offset(step + 1)) return;
      g = global(row);
    }
    x(s, e, 0) = local ? states(s, e) : states(s, g);
    y(s, e, 0) = 1.0;
    y(s, e, 1) = lo(g) < step ? 1.0 : 0.0;
    y(s, e, 2) = hi(g) > step ? 1.0 : 0.0;
  }
};

/// Every sample starts at the reference state.
template <class MemorySpace>
struct ReferenceFill {
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  Kokkos::View<std::int8_t*, MemorySpace> reference;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    states(s, e) = reference(e);
  }
};

/// Whether basis loop `loop` is a directed cycle in sample s (counted into `sum`); also sets
/// steps(s) = loop for the network pass that follows.
template <class MemorySpace>
struct DirectedLoopCheck {
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  DeviceCycleBasis<MemorySpace> basis;
  Kokkos::View<std::uint8_t*, MemorySpace> directed;
  Kokkos::View<int*, MemorySpace> steps;
  int loop;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, int& sum) const {
    const int begin = basis.offsets(loop), end = basis.offsets(loop + 1);
    bool same = basis.loop_free(loop) && end > begin;
    const int first = same ? states(s, basis.edges(begin)) * basis.orientation(begin) : 0;
    for (int k = begin + 1; k < end && same; ++k) {
      same = states(s, basis.edges(k)) * basis.orientation(k) == first;
    }
    directed(s) = same ? 1 : 0;
    steps(s) = loop;
    sum += same ? 1 : 0;
  }
};

/// Sample s's decision on a directed loop: flip with probability sigmoid(logit), accumulate
/// ln q and record alpha; the stream is keyed by (seed, run, chain, 2 * loop).
template <class MemorySpace>
struct LoopFlipDecision {
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  DeviceCycleBasis<MemorySpace> basis;
  Kokkos::View<std::uint8_t*, MemorySpace> directed;
  Kokkos::View<double*, MemorySpace> logits, log_q;
  Kokkos::View<std::uint8_t**, Kokkos::LayoutRight, MemorySpace> alpha;
  std::uint64_t seed;
  std::uint32_t run, first_chain;
  int loop;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    if (!directed(s)) return;
    const double z = logits(s);
    core::RandomStream rng(seed, run, first_chain + static_cast<std::uint32_t>(s),
                           2 * static_cast<std::uint64_t>(loop));
    // Flip when u < sigmoid(z), i.e. with probability sigmoid(z).
    const bool flip = rng.uniform() < eign_sigmoid(z);
    log_q(s) += flip ? log_sigmoid(z) : log_sigmoid(-z);
    alpha(s, loop) = flip ? 1 : 0;
    if (flip) {
      for (int k = basis.offsets(loop); k < basis.offsets(loop + 1); ++k) {
        states(s, basis.edges(k)) = static_cast<std::int8_t>(-states(s, basis.edges(k)));
      }
    }
  }
};

/// One Adam step (Kingma & Ba) on flat parameters: m, v are the moment estimates, `step` the
/// 1-based step count (for the bias corrections). Asynchronous on `exec`.
template <class ExecSpace, class MemorySpace>
void adam_step(const ExecSpace& exec, const Kokkos::View<double*, MemorySpace>& params,
               const Kokkos::View<double*, MemorySpace>& grads,
               const Kokkos::View<double*, MemorySpace>& m,
               const Kokkos::View<double*, MemorySpace>& v, long step, double learning_rate,
               double beta1, double beta2, double eps) {
  const double c1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double c2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  const AdamUpdate<MemorySpace> update{params, grads, m,  v,  learning_rate,
                                       beta1,  beta2, c1, c2, eps};
  Kokkos::parallel_for("frost::asi::adam",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, static_cast<int>(params.extent(0))),
                       update);
}

/// Per edge the smallest and largest index of a basis loop through it (n1 if none / -1).
void edge_loop_range(const CycleBasis& basis, std::vector<int>& min_loop,
                     std::vector<int>& max_loop);

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Implementation.

template <class MemorySpace>
LoopAutoregressiveSampler<MemorySpace>::LoopAutoregressiveSampler(
    const Lattice& lattice, const CycleBasis& basis, const std::vector<std::int8_t>& reference,
    const LoopSamplerNetConfig& config)
    : lattice_(&lattice),
      basis_(&basis),
      reference_(reference),
      config_(detail::checked_sampler_config(config)),
      net_(incidence_csr(lattice), config_.network, config_.seed),
      peeler_(lattice, basis),
      device_basis_(DeviceCycleBasis<MemorySpace>::create(basis, lattice)) {
  if (!is_ice_state(lattice, reference)) {
    throw std::invalid_argument("LoopAutoregressiveSampler: the reference is not an ice state");
  }
  const int n1 = lattice.edge_count();
  device_reference_ = Kokkos::View<std::int8_t*, MemorySpace>("frost::asi::mpvan_reference", n1);
  auto ref_host = Kokkos::create_mirror_view(device_reference_);
  for (int e = 0; e < n1; ++e) ref_host(e) = reference[e];
  Kokkos::deep_copy(device_reference_, ref_host);
  std::vector<int> lo, hi;
  detail::edge_loop_range(basis, lo, hi);
  edge_min_loop_ = Kokkos::View<int*, MemorySpace>("frost::asi::mpvan_edge_min_loop", n1);
  edge_max_loop_ = Kokkos::View<int*, MemorySpace>("frost::asi::mpvan_edge_max_loop", n1);
  auto lo_host = Kokkos::create_mirror_view(edge_min_loop_);
  auto hi_host = Kokkos::create_mirror_view(edge_max_loop_);
  for (int e = 0; e < n1; ++e) {
    lo_host(e) = lo[e];
    hi_host(e) = hi[e];
  }
  Kokkos::deep_copy(edge_min_loop_, lo_host);
  Kokkos::deep_copy(edge_max_loop_, hi_host);
  adam_m_ = Kokkos::View<double*, MemorySpace>("frost::asi::mpvan_adam_m", net_.parameter_count());
  adam_v_ = Kokkos::View<double*, MemorySpace>("frost::asi::mpvan_adam_v", net_.parameter_count());
  if (config_.evaluation == LoopEvaluation::patch) build_patches();
}

template <class MemorySpace>
void LoopAutoregressiveSampler<MemorySpace>::build_patches() {
  const IncidenceCsr b1 = incidence_csr(*lattice_);
  const IncidenceCsr bt = transpose_incidence(b1);
  const int loops = basis_->loop_count();
  std::vector<IncidenceCsr> graphs;
  graphs.reserve(loops);
  std::vector<int> local_edges(basis_->edges.size());
  patch_offset_host_.assign(1, 0);
  patch_edges_host_.clear();
  for (int i = 0; i < loops; ++i) {
    const std::vector<int> seeds(basis_->edges.begin() + basis_->offsets[i],
                                 basis_->edges.begin() + basis_->offsets[i + 1]);
    EignPatch patch = receptive_patch(b1, bt, seeds, config_.network.layers);
    for (int k = basis_->offsets[i]; k < basis_->offsets[i + 1]; ++k) {
      local_edges[k] = static_cast<int>(
          std::lower_bound(patch.edges.begin(), patch.edges.end(), basis_->edges[k]) -
          patch.edges.begin());
    }
    patch_edges_host_.insert(patch_edges_host_.end(), patch.edges.begin(), patch.edges.end());
    patch_offset_host_.push_back(static_cast<int>(patch_edges_host_.size()));
    graphs.push_back(std::move(patch.b1));
  }
  patches_ = EignGraphs<MemorySpace>::create(concatenate_graphs(graphs));
  patch_edges_ = Kokkos::View<int*, MemorySpace>(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::mpvan_patch_edges"),
      patch_edges_host_.size());
  Kokkos::deep_copy(
      patch_edges_,
      Kokkos::View<const int*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
          patch_edges_host_.data(), patch_edges_host_.size()));
  local_basis_ = device_basis_;
  local_basis_.edges = Kokkos::View<int*, MemorySpace>(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::mpvan_patch_loop_edges"),
      local_edges.size());
  Kokkos::deep_copy(
      local_basis_.edges,
      Kokkos::View<const int*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
          local_edges.data(), local_edges.size()));
  use_patches_ = true;
}

template <class MemorySpace>
std::vector<std::vector<std::int8_t>> LoopAutoregressiveSampler<MemorySpace>::to_host(
    const state_view& states) {
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), states);
  std::vector<std::vector<std::int8_t>> out(states.extent(0));
  for (std::size_t s = 0; s < out.size(); ++s) {
    out[s].resize(states.extent(1));
    for (std::size_t e = 0; e < states.extent(1); ++e) out[s][e] = host(s, e);
  }
  return out;
}

template <class MemorySpace>
template <class ExecSpace>
void LoopAutoregressiveSampler<MemorySpace>::fill_inputs(
    const ExecSpace& exec, const state_view& states,
    const Kokkos::View<const int*, MemorySpace>& steps) {
  const int n1 = lattice_->edge_count();
  const detail::LoopSamplerInputs<MemorySpace> inputs{
      ws_.x[0], ws_.y[0], states, steps, edge_min_loop_, edge_max_loop_, {}, {}, false, true};
  Kokkos::parallel_for("frost::asi::eign_inputs",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {static_cast<int>(states.extent(0)), n1}),
                       inputs);
}

template <class MemorySpace>
template <class ExecSpace>
void LoopAutoregressiveSampler<MemorySpace>::fill_patch_inputs(
    const ExecSpace& exec, const state_view& states, bool local,
    const Kokkos::View<const int*, MemorySpace>& steps) {
  const detail::LoopSamplerInputs<MemorySpace> inputs{
      ws_.x[0],     ws_.y[0], states, steps, edge_min_loop_, edge_max_loop_, patches_.edge_offset,
      patch_edges_, true,     local};
  Kokkos::parallel_for("frost::asi::eign_patch_inputs",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {static_cast<int>(steps.extent(0)), patches_.max_edges}),
                       inputs);
}

template <class MemorySpace>
template <class ExecSpace>
void LoopAutoregressiveSampler<MemorySpace>::evaluate_logits(
    const ExecSpace& exec, const state_view& states, bool local_states,
    const Kokkos::View<const int*, MemorySpace>& steps,
    const Kokkos::View<double*, MemorySpace>& logits) {
  const int batch = static_cast<int>(steps.extent(0));
  if (use_patches_) {
    net_.resize_workspace(ws_, batch, patches_);
    fill_patch_inputs(exec, states, local_states, steps);
    net_.forward(exec, ws_, patches_, steps);
    net_.loop_readout(exec, ws_, local_basis_, steps, logits);
  } else {
    net_.resize_workspace(ws_, batch);
    fill_inputs(exec, states, steps);
    net_.forward(exec, ws_);
    net_.loop_readout(exec, ws_, device_basis_, steps, logits);
  }
}

template <class MemorySpace>
template <class ExecSpace>
std::vector<double> LoopAutoregressiveSampler<MemorySpace>::step_logits(const ExecSpace& exec,
                                                                        const state_view& states,
                                                                        int step) {
  const int batch = static_cast<int>(states.extent(0));
  Kokkos::View<int*, MemorySpace> steps("frost::asi::mpvan_steps", batch);
  Kokkos::deep_copy(exec, steps, step);
  Kokkos::View<double*, MemorySpace> logits("frost::asi::mpvan_logits", batch);
  evaluate_logits(exec, states, false, steps, logits);
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), logits);
  return std::vector<double>(host.data(), host.data() + batch);
}

template <class MemorySpace>
template <class ExecSpace>
LoopSampleBatch<MemorySpace> LoopAutoregressiveSampler<MemorySpace>::sample(
    const ExecSpace& exec, int batch, std::uint32_t run, std::uint32_t first_chain) {
  const int n1 = lattice_->edge_count();
  const int loops = basis_->loop_count();
  LoopSampleBatch<MemorySpace> out;
  out.states = state_view("frost::asi::mpvan_states", batch, n1);
  out.log_q = Kokkos::View<double*, MemorySpace>("frost::asi::mpvan_log_q", batch);
  out.alpha = Kokkos::View<std::uint8_t**, Kokkos::LayoutRight, MemorySpace>(
      "frost::asi::mpvan_alpha", batch, loops);
  last_passes_ = 0;
  if (batch == 0) return out;
  auto states = out.states;
  Kokkos::parallel_for("frost::asi::mpvan_start",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {batch, n1}),
                       detail::ReferenceFill<MemorySpace>{states, device_reference_});
  Kokkos::View<int*, MemorySpace> steps("frost::asi::mpvan_steps", batch);
  Kokkos::View<std::uint8_t*, MemorySpace> directed("frost::asi::mpvan_directed", batch);
  Kokkos::View<double*, MemorySpace> logits("frost::asi::mpvan_logits", batch);
  for (int i = 0; i < loops; ++i) {
    int count = 0;
    Kokkos::parallel_reduce(
        "frost::asi::mpvan_directed", Kokkos::RangePolicy<ExecSpace>(exec, 0, batch),
        detail::DirectedLoopCheck<MemorySpace>{states, device_basis_, directed, steps, i}, count);
    // parallel_reduce into a host scalar waits for the result.
    if (count == 0) continue;
    ++last_passes_;
    evaluate_logits(exec, states, false, steps, logits);
    const detail::LoopFlipDecision<MemorySpace> decide{
        states,    device_basis_, directed, logits,      out.log_q,
        out.alpha, config_.seed,  run,      first_chain, i};
    Kokkos::parallel_for("frost::asi::mpvan_decide", Kokkos::RangePolicy<ExecSpace>(exec, 0, batch),
                         decide);
  }
  exec.fence();
  return out;
}

template <class MemorySpace>
template <class ExecSpace>
std::vector<double> LoopAutoregressiveSampler<MemorySpace>::teacher_force(
    const ExecSpace& exec, const std::vector<std::vector<std::int8_t>>& states,
    const std::vector<double>* weights) {
  const int n1 = lattice_->edge_count();
  const int loops = basis_->loop_count();
  std::vector<double> log_q(states.size(), 0.0);
  // Replay on the host: one entry per (state, directed step), holding the state at that step.
  std::vector<int> entry_owner, entry_step;
  std::vector<std::uint8_t> entry_decision;
  std::vector<std::int8_t> entry_states;  // whole states, or patch rows with use_patches_
  std::vector<std::size_t> entry_offset = {0};
  for (std::size_t m = 0; m < states.size(); ++m) {
    const std::vector<std::uint8_t> alpha = peeler_.recover(reference_, states[m]);
    std::vector<std::int8_t> current = reference_;
    for (int i = 0; i < loops; ++i) {
      if (loop_direction(*basis_, i, current) != 0) {
        entry_owner.push_back(static_cast<int>(m));
        entry_step.push_back(i);
        entry_decision.push_back(alpha[i]);
        if (use_patches_) {
          for (int k = patch_offset_host_[i]; k < patch_offset_host_[i + 1]; ++k) {
            entry_states.push_back(current[patch_edges_host_[k]]);
          }
        } else {
          entry_states.insert(entry_states.end(), current.begin(), current.end());
        }
        entry_offset.push_back(entry_states.size());
        if (alpha[i]) flip_loop(*basis_, i, current);
      } else if (alpha[i]) {
        log_q[m] = -std::numeric_limits<double>::infinity();
        break;
      }
    }
  }
  const int entries = static_cast<int>(entry_owner.size());
  const int chunk = std::max(1, config_.max_teacher_batch);
  for (int begin = 0; begin < entries; begin += chunk) {
    const int count = std::min(chunk, entries - begin);
    const int width = use_patches_ ? patches_.max_edges : n1;
    state_view chunk_states("frost::asi::mpvan_teacher_states", count, width);
    Kokkos::View<int*, MemorySpace> steps("frost::asi::mpvan_teacher_steps", count);
    auto states_host = Kokkos::create_mirror_view(chunk_states);
    auto steps_host = Kokkos::create_mirror_view(steps);
    for (int k = 0; k < count; ++k) {
      steps_host(k) = entry_step[begin + k];
      const std::size_t first = entry_offset[begin + k], last = entry_offset[begin + k + 1];
      for (std::size_t e = first; e < last; ++e) states_host(k, e - first) = entry_states[e];
    }
    Kokkos::deep_copy(exec, chunk_states, states_host);
    Kokkos::deep_copy(exec, steps, steps_host);
    Kokkos::View<double*, MemorySpace> logits("frost::asi::mpvan_teacher_logits", count);
    evaluate_logits(exec, chunk_states, true, steps, logits);
    auto logits_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), logits);
    Kokkos::View<double*, MemorySpace> dlogits("frost::asi::mpvan_teacher_dlogits", count);
    auto dlogits_host = Kokkos::create_mirror_view(dlogits);
    for (int k = 0; k < count; ++k) {
      const int m = entry_owner[begin + k];
      const double z = logits_host(k);
      const bool flip = entry_decision[begin + k] != 0;
      // Unreachable states keep -inf; their earlier steps still add finite terms.
      log_q[m] += flip ? detail::log_sigmoid(z) : detail::log_sigmoid(-z);
      // d ln p(decision) / dz = decision - sigmoid(z).
      if (weights) dlogits_host(k) = (*weights)[m] * ((flip ? 1.0 : 0.0) - detail::eign_sigmoid(z));
    }
    if (weights) {
      Kokkos::deep_copy(exec, dlogits, dlogits_host);
      if (use_patches_) {
        net_.loop_readout_backward(exec, ws_, local_basis_, steps, dlogits);
        net_.backward(exec, ws_, patches_, steps);
      } else {
        net_.loop_readout_backward(exec, ws_, device_basis_, steps, dlogits);
        net_.backward(exec, ws_);
      }
    }
  }
  exec.fence();
  return log_q;
}

template <class MemorySpace>
template <class ExecSpace>
void LoopAutoregressiveSampler<MemorySpace>::adam_update(const ExecSpace& exec) {
  ++adam_step_;
  detail::adam_step(exec, net_.params, net_.grads, adam_m_, adam_v_, adam_step_,
                    config_.learning_rate, config_.adam_beta1, config_.adam_beta2,
                    config_.adam_eps);
}

template <class MemorySpace>
template <class ExecSpace>
LoopTrainStats LoopAutoregressiveSampler<MemorySpace>::train_step(const ExecSpace& exec, int batch,
                                                                  std::uint32_t run) {
  if (batch < 1) throw std::invalid_argument("train_step: batch must be >= 1");
  const LoopSampleBatch<MemorySpace> drawn = sample(exec, batch, run);
  const auto states = to_host(drawn.states);
  auto sampled_log_q = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), drawn.log_q);
  LoopTrainStats stats;
  for (int s = 0; s < batch; ++s) stats.mean_log_q += sampled_log_q(s);
  stats.mean_log_q /= batch;
  if (!baseline_set_) {
    baseline_ = stats.mean_log_q;
    baseline_set_ = true;
  }
  stats.baseline = baseline_;
  // Loss (1/B) sum_s (ln q_s - b) ln q_s with the first factor held fixed: its gradient is the
  // score-function estimate of grad E_q[ln q].
  std::vector<double> weights(batch);
  for (int s = 0; s < batch; ++s) weights[s] = (sampled_log_q(s) - baseline_) / batch;
  net_.zero_grads(exec);
  const std::vector<double> forced = teacher_force(exec, states, &weights);
  for (int s = 0; s < batch; ++s) {
    stats.max_log_q_mismatch =
        std::max(stats.max_log_q_mismatch, std::fabs(forced[s] - sampled_log_q(s)));
  }
  auto grads = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), net_.grads);
  for (int k = 0; k < net_.parameter_count(); ++k) stats.grad_norm += grads(k) * grads(k);
  stats.grad_norm = std::sqrt(stats.grad_norm);
  adam_update(exec);
  exec.fence();
  baseline_ =
      config_.baseline_decay * baseline_ + (1.0 - config_.baseline_decay) * stats.mean_log_q;
  return stats;
}

template <class MemorySpace>
template <class ExecSpace>
ExactKl LoopAutoregressiveSampler<MemorySpace>::exact_kl_to_uniform(
    const ExecSpace& exec, const std::vector<std::vector<std::int8_t>>& candidates) {
  const std::vector<double> lq = log_q(exec, candidates);
  ExactKl out;
  for (double v : lq) {
    if (std::isfinite(v)) {
      ++out.support;
      out.total_q += std::exp(v);
    }
  }
  const double log_r = std::log(static_cast<double>(std::max<std::uint64_t>(out.support, 1)));
  for (double v : lq) {
    if (std::isfinite(v)) out.kl += std::exp(v) * (v + log_r);
  }
  return out;
}

}  // namespace frost::asi
