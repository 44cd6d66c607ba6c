// The relax module: equilibria of a transformer-block vector field by explicit, adaptive,
// Anderson and implicit (Belos Newton-Krylov) solvers, with spectral diagnostics at the answer.
#pragma once

#include "core/module.hpp"

namespace frost::relax {

/// `relax:` decks. One run builds the field F(z) = -(z - x) + Attn(LN1 z) + FFN(LN2 z) - c z
/// (+ w S z) from the deck (parameters from the run's Philox streams), solves F(z) = 0 from
/// z0 = x with `relax.solver`, and reports iterations, F and Jv evaluations, the force residual
/// ||F|| / ||z|| (history and final), the step residual history, wall time (seconds), and, with
/// `relax.diag.arnoldi`, the leading Ritz values of J at the answer with the explicit-Euler
/// stability limit eps_crit = min over Re mu < 0 of -2 Re mu / |mu|^2.
/// With `relax.task: ep_train` a run instead trains a character-level model by equilibrium
/// propagation (ep_train.hpp).
class RelaxModule : public core::Module {
 public:
  std::string name() const override { return "relax"; }
  std::string doc() const override {
    return "equilibria of a transformer-block vector field: euler, adaptive, anderson and "
           "implicit Newton-Krylov (Belos GMRES) solvers, with Jacobian spectra";
  }
  void declare(core::ParamRegistry& reg) const override;
  void check(const core::ParamSet& params, const std::string& file) const override;
  void run(core::RunContext& ctx) const override;
  std::string report(const std::vector<core::RunResult>& runs) const override;
};

}  // namespace frost::relax
