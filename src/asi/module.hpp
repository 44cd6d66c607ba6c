// The artificial spin ice module: lattices, exact ground truth and loop-move Monte Carlo.
#pragma once

#include "core/module.hpp"

namespace frost::asi {

/// `asi:` decks. Tasks: count (exact number of ice states), entropy (residual entropy from row
/// transfer matrices), reachable (states reachable by directed basis-loop flips), sample (Monte
/// Carlo).
class AsiModule : public core::Module {
 public:
  std::string name() const override { return "asi"; }
  std::string doc() const override {
    return "artificial spin ice: lattices, exact counts, entropy, reachability, loop-move Monte "
           "Carlo";
  }
  void declare(core::ParamRegistry& reg) const override;
  void check(const core::ParamSet& params, const std::string& file) const override;
  void run(core::RunContext& ctx) const override;
  std::string report(const std::vector<core::RunResult>& runs) const override;
};

}  // namespace frost::asi
