// Metropolis-Hastings over ice states with loop proposals from an EIGN network (the learned
// proposals of LoopMPVAN's "option D").
//
// Move. In state sigma, the flippable loops are the basis loops that are directed cycles of
// sigma (reversing one keeps every vertex charge, so the chain stays among the ice states of
// the start's sector). One network pass on sigma gives a logit per basis loop (EIGN's loop
// readout, invariant under re-orienting islands); the proposal picks flippable loop i with
// q(i | sigma) = exp(z_i) / sum_{j flippable} exp(z_j) and reverses it, giving sigma'. Loop i is
// flippable in sigma' too (reversed), and distinct basis loops give distinct sigma', so the
// reverse move of sigma -> sigma' is exactly "pick i in sigma'". The move is accepted with
//   A = min(1, [pi(sigma') q(i | sigma')] / [pi(sigma) q(i | sigma)]),
// pi uniform or exp(-beta H) (H of StateScorer, mode_b.hpp), which needs a second network pass
// on sigma'. This is detailed balance for any network weights, so pi restricted to the states
// reachable by directed basis-loop reversals (ReachableResult::closure_states) is stationary;
// the chain is irreducible there (every flippable loop has q > 0) and aperiodic whenever some
// move is rejected or impossible. A state with no flippable loop stays put.
// The pass on sigma' is kept as the next step's pass on sigma when the move is accepted, so a
// step costs one network pass over the batch of chains.
//
// Training (optional, not needed for exactness): gradient ascent on the mean acceptance
// probability E_sigma E_{i ~ q(.|sigma)} A(sigma, i) over the chains' current states, with the
// score-function term for the choice of i and the pathwise term of A through both q's:
//   grad = E[A grad ln q(i|sigma) + 1[r < 1] A (grad ln q(i|sigma') - grad ln q(i|sigma))],
// plus entropy_weight times the gradient of the proposal entropy H(q(.|sigma)). Acceptance
// alone is maximised by proposals that bounce between two states (each move undoes the last and
// is always accepted), which stops mixing; the entropy term keeps the proposals spread.
// Weights must be frozen while samples are recorded (an adapting chain is not exact).
//
// Randomness: step t of chain c in run r uses draws 4t .. 4t+3 of core::RandomStream(seed, r,
// c): a trajectory depends only on (seed, run, chain), the start and the weights.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "asi/cycle_basis.hpp"
#include "asi/eign.hpp"
#include "asi/incidence.hpp"
#include "asi/lattice.hpp"
#include "asi/mode_b.hpp"
#include "asi/neural_sampler.hpp"
#include "core/rng.hpp"

namespace frost::asi {

/// Settings of the learned-proposal chains.
struct ProposalConfig {
  EignConfig network;           ///< equ_inputs and inv_inputs are set by the sampler (1 and 1)
  std::uint64_t seed = 0;       ///< parameter initialisation and chain streams
  double beta = 0.0;            ///< target exp(-beta H); 0: uniform over the reachable ice states
  EnergyConstants energy;       ///< model of H (vertex, charge or pair) when beta > 0
  double learning_rate = 1e-2;  ///< Adam step size of the optional training
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  double entropy_weight = 0.5;  ///< weight of the proposal entropy in the training objective
};

/// Result of one proposal-training step.
struct ProposalTrainStats {
  double mean_acceptance = 0.0;  ///< mean A over the chains (before the update)
  double mean_entropy = 0.0;     ///< mean proposal entropy over the chains (nats)
  double grad_norm = 0.0;
};

namespace detail {

/// +1 / -1 when basis loop i is a directed cycle of row s along / against its orientation, 0
/// otherwise (also for loops through fixed islands).
template <class MemorySpace, class StateView>
KOKKOS_INLINE_FUNCTION int loop_direction_of(const DeviceCycleBasis<MemorySpace>& basis,
                                             const StateView& states, int s, int i) {
  const int begin = basis.offsets(i), end = basis.offsets(i + 1);
  if (!basis.loop_free(i) || end == begin) return 0;
  const int first = states(s, basis.edges(begin)) * basis.orientation(begin);
  for (int k = begin + 1; k < end; ++k) {
    if (states(s, basis.edges(k)) * basis.orientation(k) != first) return 0;
  }
  return first;
}

/// log sum_{i flippable in row s} exp(z(s, i)); -inf when none is flippable.
template <class MemorySpace, class StateView, class LogitView>
KOKKOS_INLINE_FUNCTION double flippable_log_sum(const DeviceCycleBasis<MemorySpace>& basis,
                                                const StateView& states, const LogitView& z,
                                                int s) {
  double top = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < basis.loop_count; ++i) {
    if (loop_direction_of(basis, states, s, i) != 0 && z(s, i) > top) top = z(s, i);
  }
  if (top == -std::numeric_limits<double>::infinity()) return top;
  double sum = 0.0;
  for (int i = 0; i < basis.loop_count; ++i) {
    if (loop_direction_of(basis, states, s, i) != 0)
      sum += Kokkos::Experimental::exp(z(s, i) - top);
  }
  return top + Kokkos::Experimental::log(sum);
}

/// ln of the Metropolis-Hastings ratio for a move with forward / reverse proposal log
/// probabilities and energy change dE (energy units) at inverse temperature beta.
KOKKOS_INLINE_FUNCTION double mh_log_ratio(double log_forward, double log_reverse, double beta,
                                           double dE) {
  return log_reverse - log_forward - (beta > 0.0 ? beta * dE : 0.0);
}

inline ProposalConfig checked_proposal_config(const ProposalConfig& config) {
  ProposalConfig out = config;
  // Inputs: the spins (equivariant) and a constant (invariant).
  out.network.equ_inputs = 1;
  out.network.inv_inputs = 1;
  eign_layout(out.network);  // validates the network shape
  if (!(out.beta >= 0.0) || !std::isfinite(out.beta)) {
    throw std::invalid_argument("LearnedProposalSampler: beta must be finite and >= 0");
  }
  if (!(out.learning_rate > 0.0) || !(out.adam_beta1 >= 0.0 && out.adam_beta1 < 1.0) ||
      !(out.adam_beta2 >= 0.0 && out.adam_beta2 < 1.0) || !(out.adam_eps > 0.0)) {
    throw std::invalid_argument("LearnedProposalSampler: bad optimiser settings");
  }
  return out;
}

template <class MemorySpace>
struct ProposalDraw;

}  // namespace detail

/// Batched Metropolis-Hastings chains with network loop proposals on one lattice.
/// Invariants: every chain state is an ice state of its start's charge sector; cur_logits holds
/// the network's loop logits of the current states.
template <class MemorySpace>
class LearnedProposalSampler {
 public:
  using state_view = Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace>;
  using logit_view = Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>;
  using count_view = Kokkos::View<std::uint64_t*, MemorySpace>;

  /// `lattice` and `basis` are referenced and must outlive the sampler.
  LearnedProposalSampler(const Lattice& lattice, const CycleBasis& basis,
                         const ProposalConfig& config);

  Eign<MemorySpace>& network() { return net_; }
  const Eign<MemorySpace>& network() const { return net_; }

  /// Starts `chains` chains (ids first_chain ..) of run `run` at the ice state `start` and
  /// evaluates the network on them. Resets the counters.
  template <class ExecSpace>
  void start(const ExecSpace& exec, const std::vector<std::int8_t>& start, int chains,
             std::uint32_t run, std::uint32_t first_chain = 0);

  /// `steps` Metropolis-Hastings steps of every chain (one network pass each). Asynchronous.
  template <class ExecSpace>
  void step(const ExecSpace& exec, int steps = 1);

  /// One training step on the chains' current states (see the file comment), then one
  /// ordinary step so that the chains move on. Re-evaluates the current logits.
  template <class ExecSpace>
  ProposalTrainStats train_step(const ExecSpace& exec);

  const state_view& states() const { return states_; }
  /// Per chain: moves proposed (a flippable loop existed) and accepted since start().
  const count_view& proposed() const { return proposed_; }
  const count_view& accepted() const { return accepted_; }
  long steps_done() const { return step_; }

  /// ln q(i | sigma) for every basis loop of every host state (-inf for loops that are not
  /// flippable); one network pass. Synchronous.
  template <class ExecSpace>
  std::vector<std::vector<double>> proposal_log_probs(
      const ExecSpace& exec, const std::vector<std::vector<std::int8_t>>& states);

  /// Exact one-step transition probabilities from a host state: target -> probability, staying
  /// included, from the same proposal and acceptance formulas the chain kernels use. For tests.
  template <class ExecSpace>
  std::map<std::vector<std::int8_t>, double> exact_transitions(
      const ExecSpace& exec, const std::vector<std::int8_t>& state);

 private:
  const Lattice* lattice_;
  const CycleBasis* basis_;
  ProposalConfig config_;
  int n1_ = 0, loops_ = 0;
  Eign<MemorySpace> net_;
  DeviceCycleBasis<MemorySpace> device_basis_;
  StateScorer<MemorySpace> scorer_;
  EignWorkspace<MemorySpace> ws_;
  std::uint32_t run_ = 0, first_chain_ = 0;
  long step_ = 0;
  int chains_ = 0;
  state_view states_, prop_states_;
  logit_view cur_logits_, prop_logits_;
  Kokkos::View<int*, MemorySpace> prop_loop_;
  Kokkos::View<double*, MemorySpace> log_forward_, cur_energy_;
  count_view proposed_, accepted_;
  Kokkos::View<double*, MemorySpace> adam_m_, adam_v_;
  long adam_step_ = 0;

  // Implementation steps (kernels in detail::).
  /// Network pass on `states` (rows = ws_ batch) and the loop logits of every basis loop.
  template <class ExecSpace>
  void evaluate(const ExecSpace& exec, const state_view& states, const logit_view& logits);
  template <class ExecSpace>
  void readout_backward(const ExecSpace& exec, const logit_view& dlogits);
  /// The proposal kernel on the current states (stream position 0, no log_forward record).
  detail::ProposalDraw<MemorySpace> draw_kernel() const;
};

// ---------------------------------------------------------------------------------------------
// Implementation.

template <class MemorySpace>
LearnedProposalSampler<MemorySpace>::LearnedProposalSampler(const Lattice& lattice,
                                                            const CycleBasis& basis,
                                                            const ProposalConfig& config)
    : lattice_(&lattice),
      basis_(&basis),
      config_(detail::checked_proposal_config(config)),
      n1_(lattice.edge_count()),
      loops_(basis.loop_count()),
      net_(incidence_csr(lattice), config_.network, config_.seed),
      device_basis_(DeviceCycleBasis<MemorySpace>::create(basis, lattice)),
      scorer_(StateScorer<MemorySpace>::create(lattice, config_.beta > 0.0, config_.energy)) {
  adam_m_ =
      Kokkos::View<double*, MemorySpace>("frost::asi::proposal_adam_m", net_.parameter_count());
  adam_v_ =
      Kokkos::View<double*, MemorySpace>("frost::asi::proposal_adam_v", net_.parameter_count());
}

namespace detail {

/// Loop logit of every basis loop of a batch (the formula of Eign::loop_readout).
template <class MemorySpace>
struct ProposalLoopLogits {
  DeviceCycleBasis<MemorySpace> basis;
  Kokkos::View<const double***, Kokkos::LayoutRight, MemorySpace> x, y;  ///< last layer's X, Y
  Kokkos::View<const double*, MemorySpace> params;
  Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> logits;
  int width = 0, rx = 0, ry = 0, rb = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int i) const {
    const int begin = basis.offsets(i), end = basis.offsets(i + 1);
    double sum = 0.0;
    for (int k = begin; k < end; ++k) {
      const int e = basis.edges(k);
      const double o = basis.orientation(k);
      for (int j = 0; j < width; ++j)
        sum += o * x(s, e, j) * params(rx + j) + y(s, e, j) * params(ry + j);
    }
    logits(s, i) = (end > begin ? sum / (end - begin) : 0.0) + params(rb);
  }
};

}  // namespace detail

template <class MemorySpace>
template <class ExecSpace>
void LearnedProposalSampler<MemorySpace>::evaluate(const ExecSpace& exec, const state_view& states,
                                                   const logit_view& logits) {
  const int batch = static_cast<int>(states.extent(0));
  net_.resize_workspace(ws_, batch);
  Kokkos::parallel_for("frost::asi::proposal_inputs",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {batch, n1_}),
                       detail::SpinNetworkInputs<MemorySpace>{states, ws_.x[0], ws_.y[0]});
  net_.forward(exec, ws_);
  // Loop readout of every loop (the formula of Eign::loop_readout, all loops at once).
  const int K = net_.config().layers;
  detail::ProposalLoopLogits<MemorySpace> readout;
  readout.basis = device_basis_;
  readout.x = ws_.x[K];
  readout.y = ws_.y[K];
  readout.params = net_.params;
  readout.logits = logits;
  readout.width = net_.config().width;
  readout.rx = net_.layout().rx;
  readout.ry = net_.layout().ry;
  readout.rb = net_.layout().rb;
  Kokkos::parallel_for("frost::asi::proposal_readout",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {batch, loops_}),
                       readout);
}

namespace detail {

/// Loop readout's gradients in the last layer's X, Y, per sample (loops share islands).
template <class MemorySpace>
struct ProposalReadoutInputGradient {
  DeviceCycleBasis<MemorySpace> basis;
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> dlogits;
  Kokkos::View<const double*, MemorySpace> params;
  EignTensor<MemorySpace> dx, dy;
  int loops = 0, width = 0, rx = 0, ry = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    for (int i = 0; i < loops; ++i) {
      const int begin = basis.offsets(i), end = basis.offsets(i + 1);
      if (end == begin) continue;
      const double scale = dlogits(s, i) / (end - begin);
      for (int k = begin; k < end; ++k) {
        const int e = basis.edges(k);
        const double o = basis.orientation(k);
        for (int j = 0; j < width; ++j) {
          dx(s, e, j) += scale * o * params(rx + j);
          dy(s, e, j) += scale * params(ry + j);
        }
      }
    }
  }
};

/// Loop readout's gradients in r_x(j), r_y(j) (j < width) and r_b (j == width).
template <class MemorySpace>
struct ProposalReadoutWeightGradient {
  DeviceCycleBasis<MemorySpace> basis;
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> dlogits;
  Kokkos::View<const double***, Kokkos::LayoutRight, MemorySpace> x, y;  ///< last layer's X, Y
  Kokkos::View<double*, MemorySpace> grads;
  int batch = 0, loops = 0, width = 0, rx = 0, ry = 0, rb = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const int j) const {
    double sx = 0.0, sy = 0.0, sb = 0.0;
    for (int s = 0; s < batch; ++s) {
      for (int i = 0; i < loops; ++i) {
        const int begin = basis.offsets(i), end = basis.offsets(i + 1);
        sb += dlogits(s, i);
        if (end == begin || j == width) continue;
        const double scale = dlogits(s, i) / (end - begin);
        for (int k = begin; k < end; ++k) {
          const int e = basis.edges(k);
          sx += scale * basis.orientation(k) * x(s, e, j);
          sy += scale * y(s, e, j);
        }
      }
    }
    if (j < width) {
      grads(rx + j) += sx;
      grads(ry + j) += sy;
    } else {
      grads(rb) += sb;
    }
  }
};

}  // namespace detail

template <class MemorySpace>
template <class ExecSpace>
void LearnedProposalSampler<MemorySpace>::readout_backward(const ExecSpace& exec,
                                                           const logit_view& dlogits) {
  const int K = net_.config().layers, d = net_.config().width;
  Kokkos::deep_copy(exec, ws_.dx[K], 0.0);
  Kokkos::deep_copy(exec, ws_.dy[K], 0.0);
  const int rx = net_.layout().rx, ry = net_.layout().ry, rb = net_.layout().rb;
  const int batch = ws_.batch;
  detail::ProposalReadoutInputGradient<MemorySpace> input_gradient;
  input_gradient.basis = device_basis_;
  input_gradient.dlogits = dlogits;
  input_gradient.params = net_.params;
  input_gradient.dx = ws_.dx[K];
  input_gradient.dy = ws_.dy[K];
  input_gradient.loops = loops_;
  input_gradient.width = d;
  input_gradient.rx = rx;
  input_gradient.ry = ry;
  Kokkos::parallel_for("frost::asi::proposal_readout_backward",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, batch), input_gradient);
  detail::ProposalReadoutWeightGradient<MemorySpace> weight_gradient;
  weight_gradient.basis = device_basis_;
  weight_gradient.dlogits = dlogits;
  weight_gradient.x = ws_.x[K];
  weight_gradient.y = ws_.y[K];
  weight_gradient.grads = net_.grads;
  weight_gradient.batch = batch;
  weight_gradient.loops = loops_;
  weight_gradient.width = d;
  weight_gradient.rx = rx;
  weight_gradient.ry = ry;
  weight_gradient.rb = rb;
  Kokkos::parallel_for("frost::asi::proposal_readout_gradient",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, d + 1), weight_gradient);
}

template <class MemorySpace>
template <class ExecSpace>
void LearnedProposalSampler<MemorySpace>::start(const ExecSpace& exec,
                                                const std::vector<std::int8_t>& start, int chains,
                                                std::uint32_t run, std::uint32_t first_chain) {
  if (static_cast<int>(start.size()) != n1_ || !is_ice_state(*lattice_, start)) {
    throw std::invalid_argument("LearnedProposalSampler: the start is not an ice state");
  }
  if (chains < 1) throw std::invalid_argument("LearnedProposalSampler: chains must be >= 1");
  chains_ = chains;
  run_ = run;
  first_chain_ = first_chain;
  step_ = 0;
  states_ = state_view("frost::asi::proposal_states", chains, n1_);
  prop_states_ = state_view("frost::asi::proposal_prop_states", chains, n1_);
  cur_logits_ = logit_view("frost::asi::proposal_cur_logits", chains, loops_);
  prop_logits_ = logit_view("frost::asi::proposal_prop_logits", chains, loops_);
  prop_loop_ = Kokkos::View<int*, MemorySpace>("frost::asi::proposal_loop", chains);
  log_forward_ = Kokkos::View<double*, MemorySpace>("frost::asi::proposal_log_forward", chains);
  cur_energy_ = Kokkos::View<double*, MemorySpace>("frost::asi::proposal_energy", chains);
  proposed_ = count_view("frost::asi::proposal_proposed", chains);
  accepted_ = count_view("frost::asi::proposal_accepted", chains);
  Kokkos::View<std::int8_t*, MemorySpace> start_dev("frost::asi::proposal_start", n1_);
  auto start_host = Kokkos::create_mirror_view(start_dev);
  for (int e = 0; e < n1_; ++e) start_host(e) = start[e];
  Kokkos::deep_copy(exec, start_dev, start_host);
  Kokkos::parallel_for("frost::asi::proposal_start",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {chains, n1_}),
                       detail::StateBroadcast<MemorySpace>{start_dev, states_});
  evaluate(exec, states_, cur_logits_);
  Kokkos::View<double*, MemorySpace> penalty("frost::asi::proposal_penalty", chains);
  scorer_.score(exec, states_, cur_energy_, penalty);
  exec.fence();
}

namespace detail {

/// Each chain's proposal: a flippable loop drawn from q(. | sigma) and the state it reverses.
template <class MemorySpace>
struct ProposalDraw {
  DeviceCycleBasis<MemorySpace> basis;
  Kokkos::View<const std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> logits;  ///< of the states
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace> proposed_states;
  Kokkos::View<int*, MemorySpace> proposed_loop;
  Kokkos::View<double*, MemorySpace> log_forward;  ///< empty: not recorded
  int n1 = 0, loops = 0;
  std::uint64_t seed = 0, counter = 0;
  std::uint32_t run = 0, first_chain = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    core::RandomStream rng(seed, run, first_chain + static_cast<std::uint32_t>(s), counter);
    for (int e = 0; e < n1; ++e) proposed_states(s, e) = states(s, e);
    const double lse = flippable_log_sum(basis, states, logits, s);
    proposed_loop(s) = -1;
    if (!(lse > -std::numeric_limits<double>::infinity())) return;
    // Inverse CDF over the flippable loops; the last flippable loop absorbs rounding.
    const double u = rng.uniform();
    double acc = 0.0;
    int pick = -1;
    for (int i = 0; i < loops; ++i) {
      if (loop_direction_of(basis, states, s, i) == 0) continue;
      pick = i;
      acc += Kokkos::Experimental::exp(logits(s, i) - lse);
      if (u < acc) break;
    }
    proposed_loop(s) = pick;
    if (log_forward.extent(0) != 0) log_forward(s) = logits(s, pick) - lse;
    for (int q = basis.offsets(pick); q < basis.offsets(pick + 1); ++q) {
      proposed_states(s, basis.edges(q)) =
          static_cast<std::int8_t>(-proposed_states(s, basis.edges(q)));
    }
  }
};

/// Metropolis-Hastings acceptance of each chain's proposal, moving the chain when accepted.
template <class MemorySpace>
struct ProposalAcceptance {
  DeviceCycleBasis<MemorySpace> basis;
  StateScorer<MemorySpace> scorer;
  Kokkos::View<const std::int8_t**, Kokkos::LayoutRight, MemorySpace> proposed_states;
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> proposed_logits;
  Kokkos::View<const int*, MemorySpace> proposed_loop;
  Kokkos::View<const double*, MemorySpace> log_forward;
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> logits;  ///< of the states
  Kokkos::View<double*, MemorySpace> current_energy;
  Kokkos::View<std::uint64_t*, MemorySpace> proposed, accepted;  ///< per-chain counters
  int n1 = 0, loops = 0;
  std::uint64_t seed = 0, counter = 0;  ///< counter: the step's first draw
  std::uint32_t run = 0, first_chain = 0;
  double beta = 0.0;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    const int i = proposed_loop(s);
    if (i < 0) return;
    proposed(s) += 1;
    core::RandomStream rng(seed, run, first_chain + static_cast<std::uint32_t>(s), counter + 2);
    const double log_reverse =
        proposed_logits(s, i) - flippable_log_sum(basis, proposed_states, proposed_logits, s);
    double energy = 0.0, penalty = 0.0;
    if (beta > 0.0) scorer.evaluate(proposed_states, s, energy, penalty);
    const double log_r =
        mh_log_ratio(log_forward(s), log_reverse, beta, energy - current_energy(s));
    if (log_r >= 0.0 || rng.uniform() < Kokkos::Experimental::exp(log_r)) {
      accepted(s) += 1;
      current_energy(s) = energy;
      for (int e = 0; e < n1; ++e) states(s, e) = proposed_states(s, e);
      for (int j = 0; j < loops; ++j) logits(s, j) = proposed_logits(s, j);
    }
  }
};

}  // namespace detail

template <class MemorySpace>
detail::ProposalDraw<MemorySpace> LearnedProposalSampler<MemorySpace>::draw_kernel() const {
  detail::ProposalDraw<MemorySpace> draw;
  draw.basis = device_basis_;
  draw.states = states_;
  draw.logits = cur_logits_;
  draw.proposed_states = prop_states_;
  draw.proposed_loop = prop_loop_;
  draw.n1 = n1_;
  draw.loops = loops_;
  draw.seed = config_.seed;
  draw.run = run_;
  draw.first_chain = first_chain_;
  return draw;
}

template <class MemorySpace>
template <class ExecSpace>
void LearnedProposalSampler<MemorySpace>::step(const ExecSpace& exec, int steps) {
  if (chains_ == 0) throw std::logic_error("LearnedProposalSampler: start() first");
  detail::ProposalDraw<MemorySpace> draw = draw_kernel();
  draw.log_forward = log_forward_;
  detail::ProposalAcceptance<MemorySpace> acceptance;
  acceptance.basis = device_basis_;
  acceptance.scorer = scorer_;
  acceptance.proposed_states = prop_states_;
  acceptance.proposed_logits = prop_logits_;
  acceptance.proposed_loop = prop_loop_;
  acceptance.log_forward = log_forward_;
  acceptance.states = states_;
  acceptance.logits = cur_logits_;
  acceptance.current_energy = cur_energy_;
  acceptance.proposed = proposed_;
  acceptance.accepted = accepted_;
  acceptance.n1 = n1_;
  acceptance.loops = loops_;
  acceptance.seed = config_.seed;
  acceptance.run = run_;
  acceptance.first_chain = first_chain_;
  acceptance.beta = config_.beta;
  for (int k = 0; k < steps; ++k, ++step_) {
    const std::uint64_t counter = 4 * static_cast<std::uint64_t>(step_);
    draw.counter = counter;
    Kokkos::parallel_for("frost::asi::proposal_propose",
                         Kokkos::RangePolicy<ExecSpace>(exec, 0, chains_), draw);
    evaluate(exec, prop_states_, prop_logits_);
    acceptance.counter = counter;
    Kokkos::parallel_for("frost::asi::proposal_accept",
                         Kokkos::RangePolicy<ExecSpace>(exec, 0, chains_), acceptance);
  }
}

namespace detail {

/// ln q(i | sigma) of every basis loop of every state; -inf for loops that are not flippable.
template <class MemorySpace>
struct ProposalLogProbs {
  DeviceCycleBasis<MemorySpace> basis;
  Kokkos::View<const std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> logits;
  Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> log_probs;
  int loops = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    const double lse = flippable_log_sum(basis, states, logits, s);
    for (int i = 0; i < loops; ++i) {
      log_probs(s, i) = loop_direction_of(basis, states, s, i) != 0
                            ? logits(s, i) - lse
                            : -std::numeric_limits<double>::infinity();
    }
  }
};

}  // namespace detail

template <class MemorySpace>
template <class ExecSpace>
std::vector<std::vector<double>> LearnedProposalSampler<MemorySpace>::proposal_log_probs(
    const ExecSpace& exec, const std::vector<std::vector<std::int8_t>>& host_states) {
  const int batch = static_cast<int>(host_states.size());
  std::vector<std::vector<double>> out(batch, std::vector<double>(loops_));
  if (batch == 0) return out;
  const state_view states = EdgeAutoregressiveSampler<MemorySpace>::to_device(host_states);
  logit_view z("frost::asi::proposal_probe_logits", batch, loops_);
  evaluate(exec, states, z);
  logit_view lp("frost::asi::proposal_probe_log_probs", batch, loops_);
  Kokkos::parallel_for("frost::asi::proposal_log_probs",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, batch),
                       detail::ProposalLogProbs<MemorySpace>{device_basis_, states, z, lp, loops_});
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), lp);
  for (int s = 0; s < batch; ++s)
    for (int i = 0; i < loops_; ++i) out[s][i] = host(s, i);
  return out;
}

template <class MemorySpace>
template <class ExecSpace>
std::map<std::vector<std::int8_t>, double> LearnedProposalSampler<MemorySpace>::exact_transitions(
    const ExecSpace& exec, const std::vector<std::int8_t>& state) {
  std::vector<std::vector<std::int8_t>> probe = {state};
  std::vector<int> moves;
  for (int i = 0; i < loops_; ++i) {
    if (loop_direction(*basis_, i, state) == 0) continue;
    moves.push_back(i);
    probe.push_back(state);
    flip_loop(*basis_, i, probe.back());
  }
  const auto lp = proposal_log_probs(exec, probe);
  // Energies of the probe states through the scorer the kernels use.
  const state_view dev = EdgeAutoregressiveSampler<MemorySpace>::to_device(probe);
  const int n = static_cast<int>(probe.size());
  Kokkos::View<double*, MemorySpace> energy("frost::asi::proposal_probe_energy", n);
  Kokkos::View<double*, MemorySpace> penalty("frost::asi::proposal_probe_penalty", n);
  scorer_.score(exec, dev, energy, penalty);
  auto energy_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), energy);
  std::map<std::vector<std::int8_t>, double> out;
  double stay = 1.0;
  for (std::size_t m = 0; m < moves.size(); ++m) {
    const int i = moves[m];
    const double log_r = detail::mh_log_ratio(lp[0][i], lp[m + 1][i], config_.beta,
                                              energy_host(m + 1) - energy_host(0));
    const double p = std::exp(lp[0][i]) * std::min(1.0, std::exp(log_r));
    out[probe[m + 1]] += p;
    stay -= p;
  }
  out[state] += std::max(0.0, stay);  // rounding when every move is accepted
  return out;
}

namespace detail {

/// Per chain: acceptance, proposal entropy and the loss gradients in both passes' logits.
template <class MemorySpace>
struct ProposalTrainGradients {
  DeviceCycleBasis<MemorySpace> basis;
  StateScorer<MemorySpace> scorer;
  Kokkos::View<const std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> logits;  ///< of the states
  Kokkos::View<const std::int8_t**, Kokkos::LayoutRight, MemorySpace> proposed_states;
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> proposed_logits;
  Kokkos::View<const int*, MemorySpace> proposed_loop;
  Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> dlogits, proposed_dlogits;
  Kokkos::View<double*, MemorySpace> acceptance, entropy;
  int loops = 0, chains = 0;
  double beta = 0.0, entropy_weight = 0.0;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    for (int j = 0; j < loops; ++j) dlogits(s, j) = proposed_dlogits(s, j) = 0.0;
    acceptance(s) = 0.0;
    entropy(s) = 0.0;
    const int i = proposed_loop(s);
    if (i < 0) return;
    const double lse = flippable_log_sum(basis, states, logits, s);
    const double lse_next = flippable_log_sum(basis, proposed_states, proposed_logits, s);
    double e0 = 0.0, e1 = 0.0, pen = 0.0;
    if (beta > 0.0) {
      scorer.evaluate(states, s, e0, pen);
      scorer.evaluate(proposed_states, s, e1, pen);
    }
    const double log_r =
        mh_log_ratio(logits(s, i) - lse, proposed_logits(s, i) - lse_next, beta, e1 - e0);
    const double a = log_r >= 0.0 ? 1.0 : Kokkos::Experimental::exp(log_r);
    acceptance(s) = a;
    // d ln q(i|.) / dz_j = [j == i] - q_j over the flippable j; ascent, so the loss
    // gradient carries a minus sign and 1/chains.
    const double w_cur = (a - (log_r < 0.0 ? a : 0.0)) / chains;
    const double w_next = (log_r < 0.0 ? a : 0.0) / chains;
    double h = 0.0;  // entropy of q(.|sigma)
    for (int j = 0; j < loops; ++j) {
      if (loop_direction_of(basis, states, s, j) == 0) continue;
      h -= Kokkos::Experimental::exp(logits(s, j) - lse) * (logits(s, j) - lse);
    }
    entropy(s) = h;
    for (int j = 0; j < loops; ++j) {
      const bool f0 = loop_direction_of(basis, states, s, j) != 0;
      const bool f1 = loop_direction_of(basis, proposed_states, s, j) != 0;
      const double q0 = f0 ? Kokkos::Experimental::exp(logits(s, j) - lse) : 0.0;
      const double q1 = f1 ? Kokkos::Experimental::exp(proposed_logits(s, j) - lse_next) : 0.0;
      // dH / dz_j = -q_j (ln q_j + H).
      const double dh = f0 ? -q0 * ((logits(s, j) - lse) + h) : 0.0;
      dlogits(s, j) = -w_cur * ((j == i ? 1.0 : 0.0) - q0) - entropy_weight * dh / chains;
      proposed_dlogits(s, j) = -w_next * ((j == i ? 1.0 : 0.0) - q1);
    }
  }
};

}  // namespace detail

template <class MemorySpace>
template <class ExecSpace>
ProposalTrainStats LearnedProposalSampler<MemorySpace>::train_step(const ExecSpace& exec) {
  if (chains_ == 0) throw std::logic_error("LearnedProposalSampler: start() first");
  // Propose from the current states without moving (the kernel of step(), then no accept).
  const int loops = loops_, chains = chains_;
  detail::ProposalDraw<MemorySpace> draw = draw_kernel();
  // Training draws use a stream position beyond any step's (bit 62 set), so they never
  // coincide with a sampling step's draws.
  draw.counter = (std::uint64_t{1} << 62) + 4 * static_cast<std::uint64_t>(step_);
  Kokkos::parallel_for("frost::asi::proposal_train_propose",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, chains), draw);
  // Acceptance of each proposal, and the logit gradients of both passes.
  logit_view d_cur("frost::asi::proposal_train_dcur", chains, loops);
  logit_view d_next("frost::asi::proposal_train_dnext", chains, loops);
  Kokkos::View<double*, MemorySpace> acceptance("frost::asi::proposal_train_acceptance", chains);
  Kokkos::View<double*, MemorySpace> entropy("frost::asi::proposal_train_entropy", chains);
  evaluate(exec, prop_states_, prop_logits_);
  detail::ProposalTrainGradients<MemorySpace> gradients;
  gradients.basis = device_basis_;
  gradients.scorer = scorer_;
  gradients.states = states_;
  gradients.logits = cur_logits_;
  gradients.proposed_states = prop_states_;
  gradients.proposed_logits = prop_logits_;
  gradients.proposed_loop = prop_loop_;
  gradients.dlogits = d_cur;
  gradients.proposed_dlogits = d_next;
  gradients.acceptance = acceptance;
  gradients.entropy = entropy;
  gradients.loops = loops;
  gradients.chains = chains;
  gradients.beta = config_.beta;
  gradients.entropy_weight = config_.entropy_weight;
  Kokkos::parallel_for("frost::asi::proposal_train_weights",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, chains), gradients);
  net_.zero_grads(exec);
  readout_backward(exec, d_next);
  net_.backward(exec, ws_);
  evaluate(exec, states_, cur_logits_);
  readout_backward(exec, d_cur);
  net_.backward(exec, ws_);
  ProposalTrainStats stats;
  auto a_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), acceptance);
  auto h_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), entropy);
  for (int s = 0; s < chains; ++s) {
    stats.mean_acceptance += a_host(s) / chains;
    stats.mean_entropy += h_host(s) / chains;
  }
  auto grads = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), net_.grads);
  for (int k = 0; k < net_.parameter_count(); ++k) stats.grad_norm += grads(k) * grads(k);
  stats.grad_norm = std::sqrt(stats.grad_norm);
  ++adam_step_;
  detail::adam_step(exec, net_.params, net_.grads, adam_m_, adam_v_, adam_step_,
                    config_.learning_rate, config_.adam_beta1, config_.adam_beta2,
                    config_.adam_eps);
  // The weights changed: refresh the current logits, then move the chains on.
  evaluate(exec, states_, cur_logits_);
  step(exec, 1);
  exec.fence();
  return stats;
}

}  // namespace frost::asi
