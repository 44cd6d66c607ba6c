#include "wavefield/geometry.hpp"

#include <algorithm>
#include <cmath>

#include "core/params.hpp"

namespace frost::wavefield {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

void declare_geometry_params(core::ParamRegistry& reg) {
  reg.add_real("geometry.windings", 8.0, "w: helix turns from the north to the south pole")
      .min(0.25)
      .max(1e4);
  reg.add_real("geometry.twist", 1.0,
               "tau: Moebius half-twists of the node ribbon along the helix (1: one half-twist)")
      .min(-1e3)
      .max(1e3);
  reg.add_real("geometry.ribbon_width", 1.0,
               "ribbon half-width around the helix in units of 1/w (capped at 0.9 radii); 1 "
               "spans the gap between windings")
      .min(0.0)
      .max(100.0);
  reg.add_real("geometry.windings_rate", 0.0, "drift of w per cycle (stands in for a controller)");
  reg.add_real("geometry.twist_rate", 0.0, "drift of tau per cycle");
  reg.add_bool("geometry.lazy", true,
               "regenerate the nodes (and their triangulation) only when w or tau moved more "
               "than the thresholds since the last regeneration");
  reg.add_real("geometry.windings_threshold", 1.0, "lazy: change of w that forces regeneration")
      .min(0.0);
  reg.add_real("geometry.twist_threshold", 0.25, "lazy: change of tau that forces regeneration")
      .min(0.0);
}

std::vector<double> mobius_helix_nodes(int n, const HelixShape& shape) {
  std::vector<double> xyz(3 * static_cast<std::size_t>(n));
  const double w = shape.windings;
  const double h = std::min(0.9, shape.ribbon_width / w);
  const double golden = 0.5 * (1.0 + std::sqrt(5.0));
  for (int i = 0; i < n; ++i) {
    const double s = (i + 0.5) / n;
    const double cos_t = 1.0 - 2.0 * s, sin_t = std::sqrt(std::max(0.0, 1.0 - cos_t * cos_t));
    const double l = 2.0 * kPi * w * s;
    const double cl = std::cos(l), sl = std::sin(l);
    const double c[3] = {sin_t * cl, sin_t * sl, cos_t};
    const double e_t[3] = {cos_t * cl, cos_t * sl, -sin_t};  // south along the meridian
    const double e_l[3] = {-sl, cl, 0.0};                    // east along the parallel
    // dc/ds = t' e_t + sin t l' e_l with t' = 2 / sin t and l' = 2 pi w; n = c x t_hat =
    // (t' e_l - sin t l' e_t) / |dc/ds| (c x e_t = e_l, c x e_l = -e_t).
    const double dt = 2.0 / std::max(sin_t, 1e-300), dl = sin_t * 2.0 * kPi * w;
    const double norm = std::hypot(dt, dl);
    double nrm[3];
    for (int d = 0; d < 3; ++d) nrm[d] = (dt * e_l[d] - dl * e_t[d]) / norm;
    double frac = std::fmod(i * golden, 1.0);
    const double v = 2.0 * frac - 1.0;
    const double angle = kPi * shape.twist * s;
    double p[3], len2 = 0.0;
    for (int d = 0; d < 3; ++d) {
      p[d] = c[d] + v * h * (std::cos(angle) * nrm[d] + std::sin(angle) * c[d]);
      len2 += p[d] * p[d];
    }
    const double inv = 1.0 / std::sqrt(len2);  // len2 >= (1 - h)^2 > 0
    for (int d = 0; d < 3; ++d) xyz[3 * i + d] = p[d] * inv;
  }
  return xyz;
}

GeometrySchedule::GeometrySchedule(const core::ParamSet& p)
    : windings_rate_(p.get_real("geometry.windings_rate")),
      twist_rate_(p.get_real("geometry.twist_rate")),
      windings_threshold_(p.get_real("geometry.windings_threshold")),
      twist_threshold_(p.get_real("geometry.twist_threshold")),
      lazy_(p.get_bool("geometry.lazy")) {
  base_.windings = p.get_real("geometry.windings");
  base_.twist = p.get_real("geometry.twist");
  base_.ribbon_width = p.get_real("geometry.ribbon_width");
}

HelixShape GeometrySchedule::requested(long cycle) const {
  HelixShape s = base_;
  // w stays above the declared minimum whatever the drift.
  s.windings = std::max(0.25, base_.windings + windings_rate_ * cycle);
  s.twist = base_.twist + twist_rate_ * cycle;
  return s;
}

bool GeometrySchedule::needs_regeneration(long cycle, const HelixShape& current) const {
  return needs_regeneration(requested(cycle), current);
}

bool GeometrySchedule::needs_regeneration(const HelixShape& want, const HelixShape& current) const {
  const double dw = std::abs(want.windings - current.windings);
  const double dtau = std::abs(want.twist - current.twist);
  if (lazy_) return dw > windings_threshold_ || dtau > twist_threshold_;
  return dw > 0.0 || dtau > 0.0;
}

}  // namespace frost::wavefield
