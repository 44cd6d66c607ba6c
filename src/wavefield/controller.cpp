#include "wavefield/controller.hpp"

#include <algorithm>
#include <cmath>

#include "core/params.hpp"

namespace frost::wavefield {

void declare_control_params(core::ParamRegistry& reg) {
  reg.add_bool("control.enabled", false,
               "the control cycle: after each cycle's detection an LSTM adjusts w, tau and the "
               "wave-number scale, trained by an antithetic evolution strategy to hit "
               "control.target_vortices (replaces the geometry drift rates)");
  reg.add_int("control.hidden", 512, "LSTM hidden units").min(1).max(8192);
  reg.add_int("control.target_vortices", 100,
              "objective: the vortex count the controller aims at (loss ((count - target) / "
              "target)^2, averaged over the cycles of an episode)")
      .min(1);
  reg.add_int("control.generations", 8,
              "evolution-strategy generations before the run's cycles (0: untrained controller)")
      .min(0);
  reg.add_int("control.pairs", 4, "antithetic pairs (2 episodes each) per generation").min(1);
  reg.add_int("control.episode_cycles", 10,
              "cycles of one training episode (from t = 0 and the deck's shape)")
      .min(1);
  reg.add_real("control.sigma", 0.02, "standard deviation of the parameter noise").min(1e-12);
  reg.add_real("control.learning_rate", 0.002,
               "step of the update in units of the loss-spread-normalised gradient estimate")
      .min(0.0);
  reg.add_real_list("control.windings_bounds", {1.0, 32.0}, "range the controller keeps w in")
      .min(0.25)
      .max(1e4);
  reg.add_real_list("control.twist_bounds", {-4.0, 4.0}, "range the controller keeps tau in");
  reg.add_real_list("control.scale_bounds", {0.25, 4.0},
                    "range of the global wave-number scale s (k_j -> s k_j)")
      .min(1e-6);
  reg.add_real("control.windings_step", 0.5, "largest change of w per cycle").min(0.0);
  reg.add_real("control.twist_step", 0.1, "largest change of tau per cycle").min(0.0);
  reg.add_real("control.scale_step", 0.05, "largest change of log s per cycle").min(0.0);
  reg.add_real("control.scale_threshold", 0.05,
               "geometry.lazy: change of log s that forces new wave numbers (and a new "
               "propagator)")
      .min(0.0);
}

ControlSettings::ControlSettings(const core::ParamSet& p, std::uint64_t seed, int run) {
  enabled = p.get_bool("control.enabled");
  lstm = {kInputs, static_cast<int>(p.get_int("control.hidden")), kOutputs};
  es.pairs = static_cast<int>(p.get_int("control.pairs"));
  es.sigma = p.get_real("control.sigma");
  es.learning_rate = p.get_real("control.learning_rate");
  es.seed = seed;
  es.run = static_cast<std::uint32_t>(run);
  target = static_cast<double>(p.get_int("control.target_vortices"));
  generations = static_cast<int>(p.get_int("control.generations"));
  episode_cycles = static_cast<int>(p.get_int("control.episode_cycles"));
  auto pair = [&](const char* key) {
    const auto& v = p.get_real_list(key);
    return std::array<double, 2>{v[0], v[1]};
  };
  windings_bounds = pair("control.windings_bounds");
  twist_bounds = pair("control.twist_bounds");
  scale_bounds = pair("control.scale_bounds");
  windings_step = p.get_real("control.windings_step");
  twist_step = p.get_real("control.twist_step");
  scale_step = p.get_real("control.scale_step");
  scale_threshold = p.get_real("control.scale_threshold");
}

double ControlSettings::loss(long count) const {
  const double e = (static_cast<double>(count) - target) / target;
  return e * e;
}

namespace {
/// v placed in [lo, hi] as [-1, 1].
double place(double v, const std::array<double, 2>& b) {
  const double half = 0.5 * (b[1] - b[0]);
  return half > 0.0 ? (v - 0.5 * (b[0] + b[1])) / half : 0.0;
}
}  // namespace

std::array<double, ControlSettings::kInputs> ControlSettings::features(
    const CycleObservation& obs, long previous, double modulus_ref,
    const ControlRequest& now) const {
  const double count = static_cast<double>(obs.count);
  std::array<double, kInputs> x{
      (count - target) / target,
      previous < 0 ? 0.0 : (count - static_cast<double>(previous)) / target,
      static_cast<double>(obs.total_charge) / (1.0 + count),
      modulus_ref > 0.0 ? obs.mean_modulus / modulus_ref - 1.0 : 0.0,
      place(now.shape.windings, windings_bounds),
      place(now.shape.twist, twist_bounds),
      place(std::log(now.scale), {std::log(scale_bounds[0]), std::log(scale_bounds[1])})};
  // A count far off target must not saturate every gate.
  for (double& v : x) v = std::clamp(v, -10.0, 10.0);
  return x;
}

void ControlSettings::adjust(const double* y, ControlRequest& req) const {
  req.shape.windings =
      std::clamp(req.shape.windings + y[0] * windings_step, windings_bounds[0], windings_bounds[1]);
  req.shape.twist =
      std::clamp(req.shape.twist + y[1] * twist_step, twist_bounds[0], twist_bounds[1]);
  req.scale = std::clamp(std::exp(std::log(req.scale) + y[2] * scale_step), scale_bounds[0],
                         scale_bounds[1]);
}

}  // namespace frost::wavefield
