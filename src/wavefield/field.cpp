#include "wavefield/field.hpp"

#include <cmath>

#include "core/params.hpp"

namespace frost::wavefield {

void declare_field_params(core::ParamRegistry& reg) {
  reg.add_choice("field.precision", "f64", {"f64", "f32"},
                 "arithmetic of the pair terms (distances, phases, sin/cos)");
  reg.add_choice("field.accumulate", "f64", {"f64", "native"},
                 "type of the per-target sums over tiles of 128 sources (each tile summed in the "
                 "pair precision): f64 always, or the pair precision (f32 then loses about "
                 "sqrt(N / 128) ulp more)");
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
  // The distance and the phase in long double: w t ~ 1e4 rounded to double is off by up to
  // ulp(1e4) / 2 ~ 1e-12, the f64 kernels' whole error budget; a long double phase (64-bit
  // significand on x86, 113 bits on aarch64) is at least 2^11 times finer.
  using Long = long double;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      if (i == j && !include_self) continue;
      Long r2 = 0;
      for (int d = 0; d < 3; ++d) {
        const Long diff = Long(xyz[3 * i + d]) - Long(xyz[3 * j + d]);
        r2 += diff * diff;
      }
      const Long r = std::sqrt(r2);
      const Long arg =
          Long(p.wavenumber[j]) * r - Long(p.frequency[j]) * Long(t) + Long(p.phase[j]);
      const double w = static_cast<double>(Long(p.amplitude[j]) / (r + Long(eps)));
      re[i] += w * static_cast<double>(std::cos(arg));
      im[i] += w * static_cast<double>(std::sin(arg));
    }
}

}  // namespace frost::wavefield
