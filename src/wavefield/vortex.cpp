#include "wavefield/vortex.hpp"

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

}  // namespace frost::wavefield
