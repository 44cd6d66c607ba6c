// The recurrent controller of the control cycle and its gradient-free training.
//
// LSTM (Hochreiter & Schmidhuber 1997; gate order i, f, g, o as in PyTorch), one step per cycle:
//   z = [x, h],  a = W z + b  (4H rows),
//   i = sigma(a_i), f = sigma(a_f), g = tanh(a_g), o = sigma(a_o),
//   c <- f c + i g,  h <- o tanh(c),  y = tanh(W_y h + b_y)  (outputs in (-1, 1)).
// All parameters live in one flat float64 vector theta (layout in LstmShape), so the evolution
// strategy below perturbs and updates them as one vector.
//
// Training: antithetic evolution strategy (Salimans et al. 2017, "Evolution strategies as a
// scalable alternative to reinforcement learning"). Generation g draws P noise vectors eps_p,
// evaluates the loss at theta + sigma eps_p and theta - sigma eps_p, and steps
//   theta <- theta - lr / (2 P sigma s) sum_p (L+_p - L-_p) eps_p,
// s the standard deviation of the 2P losses (1 when they are all equal), which makes lr a step
// size independent of the loss scale. eps_p is never stored: component q is a Box-Muller normal
// from the counter-based stream (seed, run, chain = kEsChain + g P + p) at block q, so perturbing
// and updating regenerate the same numbers anywhere, on any backend.
#pragma once

#include <Kokkos_Core.hpp>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "wavefield/geometry.hpp"

namespace frost::core {
class ParamRegistry;
class ParamSet;
}  // namespace frost::core

namespace frost::wavefield {

/// Sizes of an LSTM with `inputs` features, `hidden` units and `outputs` tanh outputs, and the
/// offsets of its parts in the flat parameter vector: gate weights (4H rows of I + H, row-major:
/// input columns first), gate biases (4H), output weights (O rows of H), output biases (O).
struct LstmShape {
  int inputs = 0, hidden = 0, outputs = 0;
  std::size_t columns() const { return std::size_t(inputs) + hidden; }
  std::size_t gate_bias() const { return 4 * std::size_t(hidden) * columns(); }
  std::size_t output_weights() const { return gate_bias() + 4 * std::size_t(hidden); }
  std::size_t output_bias() const { return output_weights() + std::size_t(outputs) * hidden; }
  std::size_t size() const { return output_bias() + outputs; }
};

/// Recurrent state and scratch of one LSTM in `MemorySpace`: h and c (extent H), the gate
/// pre-activations (4H), the step's input x (I) and output y (O).
template <class MemorySpace>
struct LstmState {
  using view = Kokkos::View<double*, MemorySpace>;
  view h, c, gates, x, y;
  LstmState() = default;
  explicit LstmState(const LstmShape& s)
      : h("frost::wavefield::lstm_h", s.hidden),
        c("frost::wavefield::lstm_c", s.hidden),
        gates("frost::wavefield::lstm_gates", 4 * std::size_t(s.hidden)),
        x("frost::wavefield::lstm_x", s.inputs),
        y("frost::wavefield::lstm_y", s.outputs) {}
};

KOKKOS_INLINE_FUNCTION double sigmoid(double a) {
  return 1.0 / (1.0 + Kokkos::Experimental::exp(-a));
}

/// One LSTM step: reads st.x, updates st.h and st.c, writes st.y. Three kernels on `exec`.
template <class ExecSpace, class MemorySpace>
void lstm_step(const ExecSpace& exec, const LstmShape& shape,
               const Kokkos::View<double*, MemorySpace>& theta, const LstmState<MemorySpace>& st) {
  const int ni = shape.inputs, nh = shape.hidden, no = shape.outputs;
  const std::size_t cols = shape.columns(), bias = shape.gate_bias();
  const std::size_t wy = shape.output_weights(), by = shape.output_bias();
  const auto h = st.h, c = st.c, gates = st.gates, x = st.x, y = st.y;
  Kokkos::parallel_for(
      "frost::wavefield::lstm_gates", Kokkos::RangePolicy<ExecSpace>(exec, 0, 4 * nh),
      KOKKOS_LAMBDA(const int r) {
        const std::size_t row = r * cols;
        double a = theta(bias + r);
        for (int k = 0; k < ni; ++k) a += theta(row + k) * x(k);
        for (int u = 0; u < nh; ++u) a += theta(row + ni + u) * h(u);
        gates(r) = a;
      });
  Kokkos::parallel_for(
      "frost::wavefield::lstm_cell", Kokkos::RangePolicy<ExecSpace>(exec, 0, nh),
      KOKKOS_LAMBDA(const int u) {
        const double i = sigmoid(gates(u)), f = sigmoid(gates(nh + u));
        const double g = Kokkos::Experimental::tanh(gates(2 * nh + u));
        const double o = sigmoid(gates(3 * nh + u));
        c(u) = f * c(u) + i * g;
        h(u) = o * Kokkos::Experimental::tanh(c(u));
      });
  Kokkos::parallel_for(
      "frost::wavefield::lstm_output", Kokkos::RangePolicy<ExecSpace>(exec, 0, no),
      KOKKOS_LAMBDA(const int m) {
        double a = theta(by + m);
        for (int u = 0; u < nh; ++u) a += theta(wy + std::size_t(m) * nh + u) * h(u);
        y(m) = Kokkos::Experimental::tanh(a);
      });
}

/// Zeroes h and c (start of an episode).
template <class ExecSpace, class MemorySpace>
void lstm_reset(const ExecSpace& exec, const LstmState<MemorySpace>& st) {
  Kokkos::deep_copy(exec, st.h, 0.0);
  Kokkos::deep_copy(exec, st.c, 0.0);
}

/// Initial parameters: weights uniform in +-1/sqrt(fan-in) (PyTorch's LSTM default), the output
/// layer a tenth of that so an untrained controller moves the shape gently, forget-gate biases
/// 1 (remembers by default), other biases 0. Stream (seed, run, chain = kInitChain).
template <class ExecSpace, class MemorySpace>
void lstm_initialise(const ExecSpace& exec, const LstmShape& shape, std::uint64_t seed,
                     std::uint32_t run, const Kokkos::View<double*, MemorySpace>& theta) {
  constexpr std::uint32_t kInitChain = 0x4c53u;  // "LS"
  const int nh = shape.hidden;
  const std::size_t bias = shape.gate_bias(), wy = shape.output_weights();
  const std::size_t by = shape.output_bias();
  const double gate_scale = 1.0 / std::sqrt(double(nh));
  const double out_scale = gate_scale;
  Kokkos::parallel_for(
      "frost::wavefield::lstm_init", Kokkos::RangePolicy<ExecSpace>(exec, 0, shape.size()),
      KOKKOS_LAMBDA(const std::size_t q) {
        core::RandomStream rs(seed, run, kInitChain, 2 * q);
        const double u = 2.0 * rs.uniform() - 1.0;
        if (q < bias)
          theta(q) = gate_scale * u;
        else if (q < wy)
          theta(q) = (q - bias) / nh == 1 ? 1.0 : 0.0;
        else if (q < by)
          theta(q) = out_scale * u;
        else
          theta(q) = 0.0;
      });
}

/// Settings of the evolution strategy.
struct EsSettings {
  int pairs = 4;                 ///< P antithetic pairs per generation
  double sigma = 0.02;           ///< noise standard deviation
  double learning_rate = 0.002;  ///< step size (the gradient estimate is loss-spread normalised)
  std::uint64_t seed = 1;
  std::uint32_t run = 0;
};

constexpr std::uint32_t kEsChain = 0x45530000u;  // "ES": far from the sources' chains

/// Component q of the noise vector of (generation, pair): a standard normal.
KOKKOS_INLINE_FUNCTION double es_noise(std::uint64_t seed, std::uint32_t run, int generation,
                                       int pairs, int pair, std::size_t q) {
  core::RandomStream rs(seed, run, kEsChain + std::uint32_t(generation * pairs + pair), 4 * q);
  const double u1 = 1.0 - rs.uniform(), u2 = rs.uniform();  // u1 in (0, 1]
  return Kokkos::Experimental::sqrt(-2.0 * Kokkos::Experimental::log(u1)) *
         Kokkos::Experimental::cos(6.283185307179586476925 * u2);
}

/// out = theta + sign sigma eps(generation, pair).
template <class ExecSpace, class MemorySpace>
void es_perturb(const ExecSpace& exec, const EsSettings& es, int generation, int pair, int sign,
                const Kokkos::View<double*, MemorySpace>& theta,
                const Kokkos::View<double*, MemorySpace>& out) {
  const double step = sign * es.sigma;
  const std::uint64_t seed = es.seed;
  const std::uint32_t run = es.run;
  const int pairs = es.pairs;
  Kokkos::parallel_for(
      "frost::wavefield::es_perturb", Kokkos::RangePolicy<ExecSpace>(exec, 0, theta.extent(0)),
      KOKKOS_LAMBDA(const std::size_t q) {
        out(q) = theta(q) + step * es_noise(seed, run, generation, pairs, pair, q);
      });
}

/// One ES step of theta from the losses at theta + sigma eps_p (plus[p]) and theta - sigma eps_p
/// (minus[p]). Returns the normalisation s used.
template <class ExecSpace, class MemorySpace>
double es_update(const ExecSpace& exec, const EsSettings& es, int generation,
                 const std::vector<double>& plus, const std::vector<double>& minus,
                 const Kokkos::View<double*, MemorySpace>& theta) {
  const int pairs = es.pairs;
  double mean = 0.0, var = 0.0;
  for (int p = 0; p < pairs; ++p) mean += plus[p] + minus[p];
  mean /= 2 * pairs;
  for (int p = 0; p < pairs; ++p)
    var += (plus[p] - mean) * (plus[p] - mean) + (minus[p] - mean) * (minus[p] - mean);
  const double spread = var > 0.0 ? std::sqrt(var / (2 * pairs)) : 1.0;
  Kokkos::View<double*, MemorySpace> weight("frost::wavefield::es_weight", pairs);
  auto host = Kokkos::create_mirror_view(weight);
  for (int p = 0; p < pairs; ++p)
    host(p) = es.learning_rate * (plus[p] - minus[p]) / (2.0 * pairs * es.sigma * spread);
  Kokkos::deep_copy(exec, weight, host);
  const std::uint64_t seed = es.seed;
  const std::uint32_t run = es.run;
  Kokkos::parallel_for(
      "frost::wavefield::es_update", Kokkos::RangePolicy<ExecSpace>(exec, 0, theta.extent(0)),
      KOKKOS_LAMBDA(const std::size_t q) {
        double step = 0.0;
        for (int p = 0; p < pairs; ++p)
          step += weight(p) * es_noise(seed, run, generation, pairs, p, q);
        theta(q) -= step;
      });
  exec.fence();
  return spread;
}

// ---- The control cycle on the host side: what the controller sees and what it moves ----

/// Declares the `control.*` keys (enable, LSTM size, objective, bounds, training).
void declare_control_params(core::ParamRegistry& reg);

/// What one cycle measured, the controller's raw input.
struct CycleObservation {
  long count = 0;           ///< charged triangles (topological) or marked nodes (threshold)
  long total_charge = 0;    ///< sum of the triangle charges
  double mean_modulus = 0;  ///< mean |psi| over the nodes
};

/// The controller's requests: shape of the sphere and the global wave-number scale (k_j -> s k_j).
struct ControlRequest {
  HelixShape shape;
  double scale = 1.0;
};

/// The resolved `control.*` keys of a run.
struct ControlSettings {
  static constexpr int kInputs = 7, kOutputs = 3;
  bool enabled = false;
  LstmShape lstm;
  EsSettings es;
  double target = 100;  ///< vortex count the controller aims at
  int generations = 0, episode_cycles = 1;
  std::array<double, 2> windings_bounds{}, twist_bounds{}, scale_bounds{};
  double windings_step = 0, twist_step = 0, scale_step = 0, scale_threshold = 0;

  ControlSettings() = default;
  ControlSettings(const core::ParamSet& p, std::uint64_t seed, int run);

  /// Per-cycle loss ((count - target) / target)^2; an episode's objective is its mean.
  double loss(long count) const;
  /// Features of a cycle (all O(1)): relative count error, its change since the previous cycle
  /// (`previous` < 0: none), charge per vortex, mean |psi| relative to the episode's first
  /// cycle, and w, tau, log scale placed in their bounds as [-1, 1].
  std::array<double, kInputs> features(const CycleObservation& obs, long previous,
                                       double modulus_ref, const ControlRequest& now) const;
  /// Moves the request by the outputs y in (-1, 1): w += y0 windings_step, tau += y1
  /// twist_step, log s += y2 scale_step, each clamped to its bounds.
  void adjust(const double* y, ControlRequest& req) const;
};

}  // namespace frost::wavefield
