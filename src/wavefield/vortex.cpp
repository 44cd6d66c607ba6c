#include "wavefield/vortex.hpp"

#include <cmath>

#include "core/params.hpp"

namespace frost::wavefield {

void declare_vortex_params(core::ParamRegistry& reg) {
  reg.add_choice("vortex.method", "topological", {"topological", "threshold"},
                 "vortices reported: triangles around which arg psi winds by +-2 pi "
                 "(topological, with charge), or nodes of small magnitude (threshold, the "
                 "reference model's detector); both counts are always recorded");
  reg.add_real("vortex.threshold", 0.05,
               "threshold method: a node is a vortex when its magnitude is below this fraction "
               "of the largest magnitude")
      .min(0.0)
      .max(1.0);
  reg.add_choice("vortex.threshold_quantity", "field", {"field", "modulus"},
                 "threshold method: magnitude of the real field |Im psi| (reference model) or "
                 "of |psi|");
}

VortexTally topological_vortices_host(const std::vector<std::array<int, 3>>& tris,
                                      const std::vector<double>& re, const std::vector<double>& im,
                                      std::vector<std::int8_t>& charge) {
  std::vector<double> phase(re.size());
  for (std::size_t i = 0; i < re.size(); ++i) phase[i] = std::atan2(im[i], re[i]);
  charge.assign(tris.size(), 0);
  VortexTally tally;
  for (std::size_t t = 0; t < tris.size(); ++t) {
    double sum = 0.0;
    for (int e = 0; e < 3; ++e) {
      const int u = tris[t][e], v = tris[t][(e + 1) % 3];
      sum += u < v ? wrap_phase(phase[v] - phase[u]) : -wrap_phase(phase[u] - phase[v]);
    }
    const int q = static_cast<int>(std::nearbyint(sum / 6.28318530717958647692));
    charge[t] = static_cast<std::int8_t>(q);
    tally.count += q != 0;
    tally.total_charge += q;
  }
  return tally;
}

long threshold_vortices_host(const std::vector<double>& re, const std::vector<double>& im,
                             bool use_modulus, double threshold, std::vector<std::int8_t>& marked) {
  double peak = 0.0;
  for (std::size_t i = 0; i < im.size(); ++i)
    peak = std::max(peak, vortex_magnitude(re[i], im[i], use_modulus));
  const double cut = threshold * peak;
  marked.assign(im.size(), 0);
  long count = 0;
  for (std::size_t i = 0; i < im.size(); ++i) {
    marked[i] = vortex_magnitude(re[i], im[i], use_modulus) < cut;
    count += marked[i];
  }
  return count;
}

}  // namespace frost::wavefield
