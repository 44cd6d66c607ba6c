// The wavefield module: the Moebius helix sphere's all-pairs wave field, its time evolution and
// its vortices.
#pragma once

#include "core/module.hpp"

namespace frost::wavefield {

/// `wavefield:` decks. Each cycle evaluates psi_i = sum_j A_j exp(i(k_j r_ij - w_j t + phi_j)) /
/// (r_ij + eps) at every node (field = Im psi), counts vortices topologically (phase winding
/// around the triangles of the spherical Delaunay triangulation) and by the magnitude threshold,
/// and records snapshots every `output.every` cycles. With `control.enabled` an LSTM trained by an
/// evolution strategy adjusts w, tau and the wave-number scale after each cycle's detection.
class WavefieldModule : public core::Module {
 public:
  std::string name() const override { return "wavefield"; }
  std::string doc() const override {
    return "wave field of sources on a Moebius helix sphere: exact all-pairs sums, time "
           "evolution, topological vortex detection";
  }
  void declare(core::ParamRegistry& reg) const override;
  void check(const core::ParamSet& params, const std::string& file) const override;
  /// `split: targets`: every rank evaluates a slice of the targets of the same run.
  bool shares_ranks(const core::ParamSet& params) const override;
  void run(core::RunContext& ctx) const override;
  std::string report(const std::vector<core::RunResult>& runs) const override;
};

}  // namespace frost::wavefield
