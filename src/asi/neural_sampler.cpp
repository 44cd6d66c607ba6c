// Host helpers of the Mode A (LoopMPVAN) sampler.
#include "asi/neural_sampler.hpp"

#include <stdexcept>

namespace frost::asi::detail {

LoopSamplerNetConfig checked_sampler_config(const LoopSamplerNetConfig& config) {
  LoopSamplerNetConfig out = config;
  // The sampler's inputs: the spins (equivariant) and 1, past-loop and future-loop indicators.
  out.network.equ_inputs = 1;
  out.network.inv_inputs = 3;
  eign_layout(out.network);  // validates the network shape
  if (out.max_teacher_batch < 1) {
    throw std::invalid_argument("LoopAutoregressiveSampler: max_teacher_batch must be >= 1");
  }
  if (!(out.learning_rate > 0.0) || !(out.adam_beta1 >= 0.0 && out.adam_beta1 < 1.0) ||
      !(out.adam_beta2 >= 0.0 && out.adam_beta2 < 1.0) || !(out.adam_eps > 0.0) ||
      !(out.baseline_decay >= 0.0 && out.baseline_decay < 1.0)) {
    throw std::invalid_argument("LoopAutoregressiveSampler: bad optimiser settings");
  }
  return out;
}

void edge_loop_range(const CycleBasis& basis, std::vector<int>& min_loop,
                     std::vector<int>& max_loop) {
  min_loop.assign(basis.edge_count, basis.loop_count());
  max_loop.assign(basis.edge_count, -1);
  for (int l = 0; l < basis.loop_count(); ++l) {
    for (int k = basis.offsets[l]; k < basis.offsets[l + 1]; ++k) {
      const int e = basis.edges[k];
      if (l < min_loop[e]) min_loop[e] = l;
      if (l > max_loop[e]) max_loop[e] = l;
    }
  }
}

}  // namespace frost::asi::detail
