#include "wavefield/field.hpp"

#include <cmath>

#include "core/params.hpp"

namespace frost::wavefield {

void declare_field_params(core::ParamRegistry& reg) {
  reg.add_choice("field.precision", "f64", {"f64", "f32"},
                 "arithmetic of the pair terms (distances, phases, sin/cos)");
  reg.add_choice("field.accumulate", "f64", {"f64", "native"},
                 "type of the per-target sums: f64 always, or the pair precision (f32 sums lose "
                 "about sqrt(N) ulp)");
  reg.add_real("field.softening", 0.05,
               "eps in A sin(k r - w t + phi) / (r + eps) (sphere radii); keeps the j = i term "
               "finite")
      .min(1e-6)
      .max(10.0);
  reg.add_bool("field.include_self", true,
               "include the j = i term A_i sin(phi_i - w_i t) / eps in field_i, as the reference "
               "model does");
}

void psi_reference(const std::vector<double>& xyz, const SourceParams& p, double t, double eps,
                   bool include_self, std::vector<double>& re, std::vector<double>& im) {
  const std::size_t n = p.size();
  re.assign(n, 0.0);
  im.assign(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      if (i == j && !include_self) continue;
      const double dx = xyz[3 * i] - xyz[3 * j], dy = xyz[3 * i + 1] - xyz[3 * j + 1],
                   dz = xyz[3 * i + 2] - xyz[3 * j + 2];
      const double r = std::sqrt(dx * dx + dy * dy + dz * dz);
      const double arg = p.wavenumber[j] * r - p.frequency[j] * t + p.phase[j];
      const double w = p.amplitude[j] / (r + eps);
      re[i] += w * std::cos(arg);
      im[i] += w * std::sin(arg);
    }
}

}  // namespace frost::wavefield
