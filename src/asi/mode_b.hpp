// LoopMPVAN Mode B: an autoregressive sampler over the islands, with a causally masked EIGN
// network giving each island's conditional, trained by REINFORCE on a penalised variational free
// energy with annealing.
//
// Sampling. The islands are visited in a fixed order (fixed boundary islands first, at their
// fixed values; then raster order of the island centres, y then x, ties by id). Island e takes
// sigma_e = +1 with probability sigmoid(z_e), z_e = X_K(e) . r_x the equivariant readout of the
// causal network (eign.hpp) evaluated on the islands decided so far (undecided inputs are 0 and
// cannot reach z_e through the masks). So q(sigma) = prod_e sigmoid(sigma_e z_e) over the free
// islands, and nothing forces the ice rule: a sample may carry monopoles.
// Because z_e is odd under re-orienting island e, q does not depend on the orientation
// convention of the islands (EIGN's equivariance).
//
// Teacher forcing. z_e depends only on earlier islands, so one batched network pass over the
// complete states gives every conditional at once: log q(sigma) = sum_e log sigmoid(sigma_e z_e).
//
// Training. Minimise F = E_q[H + T ln q + lambda P], with P(sigma) = sum_v (Q_v^2 - (deg_v mod
// 2)) over the non-terminal vertices: ||B1 sigma||^2 less a constant (the unavoidable charges of
// odd vertices), zero exactly on ice states. F / T is KL(q || p) up to a constant for
// p ~ exp(-(H + lambda P) / T), so lowering T and raising lambda (AnnealSchedule) drives q
// towards the ice states (uniform over them when H = 0). The gradient is the score-function
// estimate E_q[(f - b) grad ln q], f = H + T ln q + lambda P, b a running mean of f over earlier
// batches (unbiased since E_q[grad ln q] = 0), followed by Adam.
//
// Randomness: island at position t of sample c in run r uses draws 2t, 2t+1 of
// core::RandomStream(seed, r, c): a sample depends only on (seed, run, chain) and the parameters.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "asi/eign.hpp"
#include "asi/energy.hpp"
#include "asi/incidence.hpp"
#include "asi/lattice.hpp"
#include "asi/loop_sampler.hpp"
#include "asi/neural_sampler.hpp"
#include "core/rng.hpp"

namespace frost::asi {

template <class MemorySpace>
struct StateScorer;

namespace detail {

/// H and P of every row of a batch of states (the kernel of StateScorer::score).
template <class MemorySpace, class StateView>
struct ModeBStateScores {
  StateScorer<MemorySpace> scorer;
  StateView states;
  Kokkos::View<double*, MemorySpace> energy, penalty;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    scorer.evaluate(states, s, energy(s), penalty(s));
  }
};

}  // namespace detail

/// Energy H (vertex, charge or pair model of energy.hpp; no dipolar couplings) and ice-rule
/// penalty P (see the file comment) of states, evaluated inside kernels. Plain views and
/// constants: copy it into a kernel by value.
template <class MemorySpace>
struct StateScorer {
  Kokkos::View<int*, MemorySpace> offsets, slot_edge;
  Kokkos::View<std::int8_t*, MemorySpace> slot_sign;
  Kokkos::View<std::uint8_t*, MemorySpace> vertex_kind;
  EnergyConstants constants;
  bool with_energy = false;  ///< H = 0 when false
  int n0 = 0;

  /// `with_energy` false gives H = 0. Throws std::invalid_argument for the dipolar model.
  static StateScorer create(const Lattice& lattice, bool with_energy,
                            const EnergyConstants& constants);

  /// H and P of state row s of `states` (int8 +-1, samples x n1).
  template <class StateView>
  KOKKOS_INLINE_FUNCTION void evaluate(const StateView& states, int s, double& energy,
                                       double& penalty) const {
    energy = 0.0;
    penalty = 0.0;
    for (int v = 0; v < n0; ++v) {
      const int kind = vertex_kind(v);
      if (kind == kTerminalVertex) continue;
      const int begin = offsets(v), degree = offsets(v + 1) - offsets(v);
      unsigned mask = 0;
      int n_in = 0;
      for (int k = 0; k < degree; ++k) {
        // slot_sign = +1 when v is the tail, where sigma = +1 points out.
        const bool in = slot_sign(begin + k) * states(s, slot_edge(begin + k)) < 0;
        n_in += in ? 1 : 0;
        mask |= static_cast<unsigned>(in) << k;
      }
      const int q = 2 * n_in - degree;
      penalty += static_cast<double>(q * q - (degree & 1));
      if (with_energy) energy += vertex_energy(constants, kind, degree, n_in, mask);
    }
  }

  /// H and P of every row of `states` into `energy`, `penalty`. Asynchronous on `exec`.
  template <class ExecSpace, class StateView>
  void score(const ExecSpace& exec, const StateView& states,
             const Kokkos::View<double*, MemorySpace>& energy,
             const Kokkos::View<double*, MemorySpace>& penalty) const {
    Kokkos::parallel_for(
        "frost::asi::mode_b_score",
        Kokkos::RangePolicy<ExecSpace>(exec, 0, static_cast<int>(states.extent(0))),
        detail::ModeBStateScores<MemorySpace, StateView>{*this, states, energy, penalty});
  }
};

/// Geometric annealing of the temperature T and the penalty weight lambda from their start to
/// their end values over the first `epochs` epochs, constant afterwards.
struct AnnealSchedule {
  double t_start = 1.0, t_end = 0.1;            ///< energy units
  double lambda_start = 0.5, lambda_end = 5.0;  ///< energy units per squared charge
  int epochs = 100;

  double fraction(int epoch) const {
    return epochs <= 1 ? 1.0 : std::min(1.0, static_cast<double>(epoch) / (epochs - 1));
  }
  double temperature(int epoch) const {
    return t_start * std::pow(t_end / t_start, fraction(epoch));
  }
  double penalty_weight(int epoch) const {
    return lambda_start * std::pow(lambda_end / lambda_start, fraction(epoch));
  }
};

/// Settings of the Mode B sampler and its training.
struct EdgeSamplerConfig {
  EignConfig network;           ///< equ_inputs and inv_inputs are set by the sampler (1 and 1)
  std::uint64_t seed = 0;       ///< parameter initialisation and sampling streams
  double learning_rate = 1e-2;  ///< Adam step size
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  double baseline_decay = 0.9;  ///< running mean b <- decay b + (1 - decay) mean(f)
  bool with_energy = false;     ///< H = 0 (uniform target over the ice states) when false
  EnergyConstants energy;       ///< model of H when with_energy
};

/// A batch of Mode B samples in MemorySpace: states (samples x n1, +-1) and their log q (nats).
template <class MemorySpace>
struct EdgeSampleBatch {
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  Kokkos::View<double*, MemorySpace> log_q;
};

/// Result of one Mode B training step (batch means).
struct EdgeTrainStats {
  double loss = 0.0;                ///< mean f = H + T ln q + lambda P (energy units)
  double mean_log_q = 0.0;          ///< nats
  double mean_energy = 0.0;         ///< H
  double mean_penalty = 0.0;        ///< P
  double violation_fraction = 0.0;  ///< samples with P > 0 (breaking the ice rule)
  double baseline = 0.0;            ///< baseline used for this step
  double grad_norm = 0.0;           ///< Euclidean norm of the gradient before the Adam step
  double max_log_q_mismatch = 0.0;  ///< max |ln q(sampling) - ln q(teacher forcing)|
  double temperature = 0.0, penalty_weight = 0.0;
};

/// Raster order of the islands (see the file comment): position -> island id.
inline std::vector<int> raster_edge_order(const Lattice& lattice);

/// LoopMPVAN Mode B on one lattice: causal network, parameters, optimiser state and baseline.
/// Invariants: the order is a permutation of the islands with the fixed islands first; the
/// network is causal in that order; samples agree with every fixed island.
template <class MemorySpace>
class EdgeAutoregressiveSampler {
 public:
  using state_view = Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace>;
  using logit_view = Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>;

  /// `order` (position -> island) defaults to raster_edge_order; fixed islands must come first.
  EdgeAutoregressiveSampler(const Lattice& lattice, const EdgeSamplerConfig& config,
                            std::vector<int> order = {});

  Eign<MemorySpace>& network() { return net_; }
  const Eign<MemorySpace>& network() const { return net_; }
  const std::vector<int>& order() const { return order_; }
  const StateScorer<MemorySpace>& scorer() const { return scorer_; }
  double baseline() const { return baseline_; }

  /// Draws `batch` samples, chains first_chain .. first_chain + batch - 1 of run `run`: one
  /// network pass over the batch per free island. Synchronous.
  template <class ExecSpace>
  EdgeSampleBatch<MemorySpace> sample(const ExecSpace& exec, int batch, std::uint32_t run,
                                      std::uint32_t first_chain = 0);

  /// Conditional logits z(s, e) of every island of every state (one network pass): the
  /// probability of sigma_e = +1 given the islands before e is sigmoid(z). Synchronous.
  template <class ExecSpace>
  logit_view logits(const ExecSpace& exec, const state_view& states);

  /// ln q of each state by teacher forcing (-inf when a fixed island disagrees). When
  /// `weights` is given (one per state), also adds grad sum_s weights(s) ln q(s) to the
  /// network's gradients. Synchronous.
  template <class ExecSpace>
  std::vector<double> teacher_force(const ExecSpace& exec, const state_view& states,
                                    const std::vector<double>* weights = nullptr);

  /// Host convenience: ln q of host states.
  template <class ExecSpace>
  std::vector<double> log_q(const ExecSpace& exec,
                            const std::vector<std::vector<std::int8_t>>& states) {
    return teacher_force(exec, to_device(states));
  }

  /// One REINFORCE + Adam step on a fresh batch of run `run` at temperature T and penalty
  /// weight lambda.
  template <class ExecSpace>
  EdgeTrainStats train_step(const ExecSpace& exec, int batch, std::uint32_t run, double T,
                            double lambda);

  /// Host states to a device view, and back.
  static state_view to_device(const std::vector<std::vector<std::int8_t>>& states);
  static std::vector<std::vector<std::int8_t>> to_host(const state_view& states);

 private:
  const Lattice* lattice_;
  EdgeSamplerConfig config_;
  std::vector<int> order_;
  int n1_ = 0;
  Eign<MemorySpace> net_;
  StateScorer<MemorySpace> scorer_;
  Kokkos::View<std::int8_t*, MemorySpace> fixed_;  ///< 0 for free islands, else the value
  Kokkos::View<double*, MemorySpace> adam_m_, adam_v_;
  long adam_step_ = 0;
  double baseline_ = 0.0;
  bool baseline_set_ = false;
  EignWorkspace<MemorySpace> ws_;

  // Implementation steps (kernels in detail::).
  template <class ExecSpace>
  void fill_inputs(const ExecSpace& exec, const state_view& states);
  template <class ExecSpace>
  void readout(const ExecSpace& exec, const logit_view& out);
  template <class ExecSpace>
  void readout_backward(const ExecSpace& exec, const logit_view& dlogits);
};

namespace detail {

inline EdgeSamplerConfig checked_edge_sampler_config(const EdgeSamplerConfig& config);

/// Rank (island -> position) of an order (position -> island); std::invalid_argument unless
/// `order` is a permutation of 0 .. n1-1 with the fixed islands of `lattice` first.
inline std::vector<int> checked_edge_rank(const Lattice& lattice, const std::vector<int>& order);

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Implementation.
inline std::vector<int> raster_edge_order(const Lattice& lattice) {
  const int n1 = lattice.edge_count();
  std::vector<int> order(n1);
  std::iota(order.begin(), order.end(), 0);
  auto fixed = [&](int e) { return !lattice.fixed_spin.empty() && lattice.fixed_spin[e] != 0; };
  auto centre = [&](int e) {
    if (!lattice.island_position.empty()) return lattice.island_position[e];
    const auto& a = lattice.positions[lattice.edges[e][0]];
    const auto& b = lattice.positions[lattice.edges[e][1]];
    return std::array<double, 2>{0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])};
  };
  // Coordinates within 1e-9 count as equal, so rounding in the generators cannot reorder rows.
  auto less = [](double a, double b) { return a < b - 1e-9; };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (fixed(a) != fixed(b)) return fixed(a);
    const auto ca = centre(a), cb = centre(b);
    if (less(ca[1], cb[1])) return true;
    if (less(cb[1], ca[1])) return false;
    if (less(ca[0], cb[0])) return true;
    if (less(cb[0], ca[0])) return false;
    return a < b;
  });
  return order;
}

namespace detail {

inline EdgeSamplerConfig checked_edge_sampler_config(const EdgeSamplerConfig& config) {
  EdgeSamplerConfig out = config;
  // Inputs: the spins (equivariant; 0 while undecided) and a constant (invariant).
  out.network.equ_inputs = 1;
  out.network.inv_inputs = 1;
  eign_layout(out.network);  // validates the network shape
  if (!(out.learning_rate > 0.0) || !(out.adam_beta1 >= 0.0 && out.adam_beta1 < 1.0) ||
      !(out.adam_beta2 >= 0.0 && out.adam_beta2 < 1.0) || !(out.adam_eps > 0.0) ||
      !(out.baseline_decay >= 0.0 && out.baseline_decay < 1.0)) {
    throw std::invalid_argument("EdgeAutoregressiveSampler: bad optimiser settings");
  }
  return out;
}

inline std::vector<int> checked_edge_rank(const Lattice& lattice, const std::vector<int>& order) {
  const int n1 = lattice.edge_count();
  if (static_cast<int>(order.size()) != n1) {
    throw std::invalid_argument("EdgeAutoregressiveSampler: the order must list every island");
  }
  std::vector<int> rank(n1, -1);
  bool free_seen = false;
  for (int t = 0; t < n1; ++t) {
    const int e = order[t];
    if (e < 0 || e >= n1 || rank[e] >= 0) {
      throw std::invalid_argument("EdgeAutoregressiveSampler: the order is not a permutation");
    }
    rank[e] = t;
    const bool fixed = !lattice.fixed_spin.empty() && lattice.fixed_spin[e] != 0;
    if (fixed && free_seen) {
      throw std::invalid_argument("EdgeAutoregressiveSampler: fixed islands must come first");
    }
    free_seen = free_seen || !fixed;
  }
  return rank;
}

}  // namespace detail

template <class MemorySpace>
StateScorer<MemorySpace> StateScorer<MemorySpace>::create(const Lattice& lattice, bool with_energy,
                                                          const EnergyConstants& constants) {
  if (with_energy && constants.model == kDipolarModel) {
    throw std::invalid_argument("StateScorer: the dipolar model is not supported here");
  }
  const SamplerGraph g = build_sampler_graph(lattice);
  StateScorer out;
  out.n0 = g.n0;
  out.with_energy = with_energy;
  out.constants = constants;
  out.offsets = Kokkos::View<int*, MemorySpace>("frost::asi::scorer_offsets", g.offsets.size());
  out.slot_edge =
      Kokkos::View<int*, MemorySpace>("frost::asi::scorer_slot_edge", g.slot_edge.size());
  out.slot_sign =
      Kokkos::View<std::int8_t*, MemorySpace>("frost::asi::scorer_slot_sign", g.slot_sign.size());
  out.vertex_kind = Kokkos::View<std::uint8_t*, MemorySpace>("frost::asi::scorer_vertex_kind",
                                                             g.vertex_kind.size());
  auto offsets = Kokkos::create_mirror_view(out.offsets);
  auto slot_edge = Kokkos::create_mirror_view(out.slot_edge);
  auto slot_sign = Kokkos::create_mirror_view(out.slot_sign);
  auto kind = Kokkos::create_mirror_view(out.vertex_kind);
  for (std::size_t i = 0; i < g.offsets.size(); ++i) offsets(i) = g.offsets[i];
  for (std::size_t i = 0; i < g.slot_edge.size(); ++i) {
    slot_edge(i) = g.slot_edge[i];
    slot_sign(i) = g.slot_sign[i];
  }
  for (std::size_t i = 0; i < g.vertex_kind.size(); ++i) kind(i) = g.vertex_kind[i];
  Kokkos::deep_copy(out.offsets, offsets);
  Kokkos::deep_copy(out.slot_edge, slot_edge);
  Kokkos::deep_copy(out.slot_sign, slot_sign);
  Kokkos::deep_copy(out.vertex_kind, kind);
  return out;
}

template <class MemorySpace>
EdgeAutoregressiveSampler<MemorySpace>::EdgeAutoregressiveSampler(const Lattice& lattice,
                                                                  const EdgeSamplerConfig& config,
                                                                  std::vector<int> order)
    : lattice_(&lattice),
      config_(detail::checked_edge_sampler_config(config)),
      order_(order.empty() ? raster_edge_order(lattice) : std::move(order)),
      n1_(lattice.edge_count()),
      net_(incidence_csr(lattice), config_.network, config_.seed),
      scorer_(StateScorer<MemorySpace>::create(lattice, config_.with_energy, config_.energy)) {
  net_.set_causal_order(detail::checked_edge_rank(lattice, order_));
  fixed_ = Kokkos::View<std::int8_t*, MemorySpace>("frost::asi::mode_b_fixed", n1_);
  auto fixed_host = Kokkos::create_mirror_view(fixed_);
  for (int e = 0; e < n1_; ++e)
    fixed_host(e) = lattice.fixed_spin.empty() ? 0 : lattice.fixed_spin[e];
  Kokkos::deep_copy(fixed_, fixed_host);
  adam_m_ = Kokkos::View<double*, MemorySpace>("frost::asi::mode_b_adam_m", net_.parameter_count());
  adam_v_ = Kokkos::View<double*, MemorySpace>("frost::asi::mode_b_adam_v", net_.parameter_count());
}

template <class MemorySpace>
typename EdgeAutoregressiveSampler<MemorySpace>::state_view
EdgeAutoregressiveSampler<MemorySpace>::to_device(
    const std::vector<std::vector<std::int8_t>>& states) {
  const std::size_t n1 = states.empty() ? 0 : states[0].size();
  state_view out("frost::asi::mode_b_states", states.size(), n1);
  auto host = Kokkos::create_mirror_view(out);
  for (std::size_t s = 0; s < states.size(); ++s) {
    if (states[s].size() != n1) throw std::invalid_argument("to_device: ragged states");
    for (std::size_t e = 0; e < n1; ++e) host(s, e) = states[s][e];
  }
  Kokkos::deep_copy(out, host);
  return out;
}

template <class MemorySpace>
std::vector<std::vector<std::int8_t>> EdgeAutoregressiveSampler<MemorySpace>::to_host(
    const state_view& states) {
  // Both samplers hold states in the same (sample, island) view type.
  return LoopAutoregressiveSampler<MemorySpace>::to_host(states);
}

namespace detail {

/// Network inputs of a batch of states: x = the spins (0 while undecided), y = 1.
template <class MemorySpace>
struct SpinNetworkInputs {
  Kokkos::View<const std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  EignTensor<MemorySpace> x, y;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    x(s, e, 0) = states(s, e);
    y(s, e, 0) = 1.0;
  }
};

}  // namespace detail

template <class MemorySpace>
template <class ExecSpace>
void EdgeAutoregressiveSampler<MemorySpace>::fill_inputs(const ExecSpace& exec,
                                                         const state_view& states) {
  Kokkos::parallel_for("frost::asi::mode_b_inputs",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {static_cast<int>(states.extent(0)), n1_}),
                       detail::SpinNetworkInputs<MemorySpace>{states, ws_.x[0], ws_.y[0]});
}

namespace detail {

/// Mode B's conditional logits z(s, e) = X_K(s, e) . r_x of a batch.
template <class MemorySpace>
struct ModeBEdgeLogits {
  Kokkos::View<const double***, Kokkos::LayoutRight, MemorySpace> x;  ///< last layer's X
  Kokkos::View<const double*, MemorySpace> params;
  Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> logits;
  int width = 0, rx = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    double z = 0.0;
    for (int j = 0; j < width; ++j) z += x(s, e, j) * params(rx + j);
    logits(s, e) = z;
  }
};

}  // namespace detail

// z(s, e) = X_K(s, e) . r_x: odd under re-orienting island e, as a spin's logit must be.
template <class MemorySpace>
template <class ExecSpace>
void EdgeAutoregressiveSampler<MemorySpace>::readout(const ExecSpace& exec, const logit_view& out) {
  Kokkos::parallel_for(
      "frost::asi::mode_b_readout",
      Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(exec, {0, 0},
                                                                                {ws_.batch, n1_}),
      detail::ModeBEdgeLogits<MemorySpace>{ws_.x[net_.config().layers], net_.params, out,
                                           net_.config().width, net_.layout().rx});
}

namespace detail {

/// Mode B readout's gradient in the last layer's X: dX_K(s, e, j) = dz(s, e) r_x(j).
template <class MemorySpace>
struct ModeBReadoutInputGradient {
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> dlogits;
  Kokkos::View<const double*, MemorySpace> params;
  EignTensor<MemorySpace> dx;
  int width = 0, rx = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    for (int j = 0; j < width; ++j) dx(s, e, j) = dlogits(s, e) * params(rx + j);
  }
};

/// Mode B readout's gradient in r_x: grads(rx + j) += sum_{s,e} dz(s, e) X_K(s, e, j).
template <class MemorySpace>
struct ModeBReadoutWeightGradient {
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> dlogits;
  Kokkos::View<const double***, Kokkos::LayoutRight, MemorySpace> x;  ///< last layer's X
  Kokkos::View<double*, MemorySpace> grads;
  int batch = 0, n1 = 0, rx = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const int j) const {
    double sum = 0.0;
    for (int s = 0; s < batch; ++s) {
      for (int e = 0; e < n1; ++e) sum += dlogits(s, e) * x(s, e, j);
    }
    grads(rx + j) += sum;
  }
};

}  // namespace detail

template <class MemorySpace>
template <class ExecSpace>
void EdgeAutoregressiveSampler<MemorySpace>::readout_backward(const ExecSpace& exec,
                                                              const logit_view& dlogits) {
  const int K = net_.config().layers;
  Kokkos::deep_copy(exec, ws_.dy[K], 0.0);
  const int d = net_.config().width, rx = net_.layout().rx;
  const int batch = ws_.batch, n1 = n1_;
  Kokkos::parallel_for(
      "frost::asi::mode_b_readout_backward",
      Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(exec, {0, 0},
                                                                                {batch, n1}),
      detail::ModeBReadoutInputGradient<MemorySpace>{dlogits, net_.params, ws_.dx[K], d, rx});
  Kokkos::parallel_for("frost::asi::mode_b_readout_gradient",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, d),
                       detail::ModeBReadoutWeightGradient<MemorySpace>{dlogits, ws_.x[K],
                                                                       net_.grads, batch, n1, rx});
}

namespace detail {

/// Every row of a batch of states set to one state.
template <class MemorySpace>
struct StateBroadcast {
  Kokkos::View<const std::int8_t*, MemorySpace> state;
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    states(s, e) = state(e);
  }
};

/// One island's spin in every sample, drawn from sigmoid(z), with its ln q term.
template <class MemorySpace>
struct ModeBIslandDraw {
  Kokkos::View<const double***, Kokkos::LayoutRight, MemorySpace> x;  ///< last layer's X
  Kokkos::View<const double*, MemorySpace> params;
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  Kokkos::View<double*, MemorySpace> log_q;
  EignTensor<MemorySpace> x_input;  ///< the network's input X
  int width = 0, rx = 0;
  int island = 0, position = 0;  ///< the island drawn and its position in the order
  std::uint64_t seed = 0;
  std::uint32_t run = 0, first_chain = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    double z = 0.0;
    for (int j = 0; j < width; ++j) z += x(s, island, j) * params(rx + j);
    core::RandomStream rng(seed, run, first_chain + static_cast<std::uint32_t>(s),
                           2 * static_cast<std::uint64_t>(position));
    const std::int8_t spin = rng.uniform() < eign_sigmoid(z) ? 1 : -1;
    log_q(s) += log_sigmoid(spin * z);
    states(s, island) = spin;
    x_input(s, island, 0) = spin;
  }
};

}  // namespace detail

template <class MemorySpace>
template <class ExecSpace>
EdgeSampleBatch<MemorySpace> EdgeAutoregressiveSampler<MemorySpace>::sample(
    const ExecSpace& exec, int batch, std::uint32_t run, std::uint32_t first_chain) {
  EdgeSampleBatch<MemorySpace> out;
  out.states = state_view("frost::asi::mode_b_states", batch, n1_);
  out.log_q = Kokkos::View<double*, MemorySpace>("frost::asi::mode_b_log_q", batch);
  if (batch == 0) return out;
  net_.resize_workspace(ws_, batch);
  // Undecided islands hold 0; the masks keep them away from every conditional that is read.
  Kokkos::parallel_for("frost::asi::mode_b_start",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {batch, n1_}),
                       detail::StateBroadcast<MemorySpace>{fixed_, out.states});
  fill_inputs(exec, out.states);
  detail::ModeBIslandDraw<MemorySpace> draw;
  draw.params = net_.params;
  draw.states = out.states;
  draw.log_q = out.log_q;
  draw.x_input = ws_.x[0];
  draw.width = net_.config().width;
  draw.rx = net_.layout().rx;
  draw.seed = config_.seed;
  draw.run = run;
  draw.first_chain = first_chain;
  const bool has_fixed = !lattice_->fixed_spin.empty();
  for (int t = 0; t < n1_; ++t) {
    const int e = order_[t];
    if (has_fixed && lattice_->fixed_spin[e] != 0) continue;
    net_.forward(exec, ws_);
    draw.x = ws_.x[net_.config().layers];
    draw.island = e;
    draw.position = t;
    Kokkos::parallel_for("frost::asi::mode_b_decide",
                         Kokkos::RangePolicy<ExecSpace>(exec, 0, batch), draw);
  }
  exec.fence();
  return out;
}

template <class MemorySpace>
template <class ExecSpace>
typename EdgeAutoregressiveSampler<MemorySpace>::logit_view
EdgeAutoregressiveSampler<MemorySpace>::logits(const ExecSpace& exec, const state_view& states) {
  const int batch = static_cast<int>(states.extent(0));
  logit_view out("frost::asi::mode_b_logits", batch, n1_);
  if (batch == 0) return out;
  net_.resize_workspace(ws_, batch);
  fill_inputs(exec, states);
  net_.forward(exec, ws_);
  readout(exec, out);
  exec.fence();
  return out;
}

namespace detail {

/// Teacher-forced ln q of every state and, when with_grad, the weighted logit gradients.
template <class MemorySpace>
struct ModeBTeacherLogQ {
  Kokkos::View<const std::int8_t**, Kokkos::LayoutRight, MemorySpace> states;
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> logits;
  Kokkos::View<const std::int8_t*, MemorySpace> fixed;  ///< 0 for free islands, else the value
  Kokkos::View<const double*, MemorySpace> weights;
  Kokkos::View<double*, MemorySpace> log_q;
  Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> dlogits;
  int n1 = 0;
  bool with_grad = false;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    constexpr double kMinusInf = -std::numeric_limits<double>::infinity();
    double sum = 0.0;
    for (int e = 0; e < n1; ++e) {
      const double spin = states(s, e);
      if (fixed(e) != 0) {
        if (spin != fixed(e)) sum = kMinusInf;
        if (with_grad) dlogits(s, e) = 0.0;
        continue;
      }
      sum += log_sigmoid(spin * logits(s, e));
      // d ln sigmoid(spin z) / dz = spin sigmoid(-spin z).
      if (with_grad) dlogits(s, e) = weights(s) * spin * eign_sigmoid(-spin * logits(s, e));
    }
    log_q(s) = sum;
  }
};

}  // namespace detail

template <class MemorySpace>
template <class ExecSpace>
std::vector<double> EdgeAutoregressiveSampler<MemorySpace>::teacher_force(
    const ExecSpace& exec, const state_view& states, const std::vector<double>* weights) {
  const int batch = static_cast<int>(states.extent(0));
  if (weights && static_cast<int>(weights->size()) != batch) {
    throw std::invalid_argument("teacher_force: one weight per state");
  }
  std::vector<double> result(batch, 0.0);
  if (batch == 0) return result;
  const logit_view z = logits(exec, states);
  Kokkos::View<double*, MemorySpace> lq("frost::asi::mode_b_teacher_log_q", batch);
  Kokkos::View<double*, MemorySpace> w("frost::asi::mode_b_teacher_weights", batch);
  if (weights) {
    Kokkos::deep_copy(
        exec, w,
        Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
            weights->data(), weights->size()));
  }
  logit_view dz("frost::asi::mode_b_teacher_dlogits", weights ? batch : 0, n1_);
  const bool with_grad = weights != nullptr;
  Kokkos::parallel_for(
      "frost::asi::mode_b_teacher", Kokkos::RangePolicy<ExecSpace>(exec, 0, batch),
      detail::ModeBTeacherLogQ<MemorySpace>{states, z, fixed_, w, lq, dz, n1_, with_grad});
  if (with_grad) {
    readout_backward(exec, dz);
    net_.backward(exec, ws_);
  }
  auto lq_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), lq);
  for (int s = 0; s < batch; ++s) result[s] = lq_host(s);
  return result;
}

template <class MemorySpace>
template <class ExecSpace>
EdgeTrainStats EdgeAutoregressiveSampler<MemorySpace>::train_step(const ExecSpace& exec, int batch,
                                                                  std::uint32_t run, double T,
                                                                  double lambda) {
  if (batch < 1) throw std::invalid_argument("train_step: batch must be >= 1");
  const EdgeSampleBatch<MemorySpace> drawn = sample(exec, batch, run);
  Kokkos::View<double*, MemorySpace> energy("frost::asi::mode_b_energy", batch);
  Kokkos::View<double*, MemorySpace> penalty("frost::asi::mode_b_penalty", batch);
  scorer_.score(exec, drawn.states, energy, penalty);
  auto lq = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), drawn.log_q);
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), energy);
  auto pen = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), penalty);
  EdgeTrainStats stats;
  stats.temperature = T;
  stats.penalty_weight = lambda;
  std::vector<double> f(batch);
  for (int s = 0; s < batch; ++s) {
    f[s] = h(s) + T * lq(s) + lambda * pen(s);
    stats.loss += f[s] / batch;
    stats.mean_log_q += lq(s) / batch;
    stats.mean_energy += h(s) / batch;
    stats.mean_penalty += pen(s) / batch;
    stats.violation_fraction += pen(s) > 0.0 ? 1.0 / batch : 0.0;
  }
  if (!baseline_set_) {
    baseline_ = stats.loss;
    baseline_set_ = true;
  }
  stats.baseline = baseline_;
  std::vector<double> weights(batch);
  for (int s = 0; s < batch; ++s) weights[s] = (f[s] - baseline_) / batch;
  net_.zero_grads(exec);
  const std::vector<double> forced = teacher_force(exec, drawn.states, &weights);
  for (int s = 0; s < batch; ++s) {
    stats.max_log_q_mismatch = std::max(stats.max_log_q_mismatch, std::fabs(forced[s] - lq(s)));
  }
  auto grads = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), net_.grads);
  for (int k = 0; k < net_.parameter_count(); ++k) stats.grad_norm += grads(k) * grads(k);
  stats.grad_norm = std::sqrt(stats.grad_norm);
  ++adam_step_;
  detail::adam_step(exec, net_.params, net_.grads, adam_m_, adam_v_, adam_step_,
                    config_.learning_rate, config_.adam_beta1, config_.adam_beta2,
                    config_.adam_eps);
  exec.fence();
  baseline_ = config_.baseline_decay * baseline_ + (1.0 - config_.baseline_decay) * stats.loss;
  return stats;
}

}  // namespace frost::asi
