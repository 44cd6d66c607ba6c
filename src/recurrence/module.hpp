// The recurrence module: eigenstate (diagonal complex) and dense linear recurrences, forward and
// backward, by sequential and parallel (chunked scan, prefix scans, cyclic reduction) methods.
#pragma once

#include "core/module.hpp"

namespace frost::recurrence {

/// `recurrence:` decks. One run draws random inputs from the run's Philox streams (seed, run
/// id), runs the chosen method `repeats` times per direction, checks the result against the
/// double-precision sequential loop (max_rel_error, normwise in the max norm) and reports the
/// time per call (seconds), the bytes a call must move at least, achieved GB/s and GFLOP/s, and
/// the floor: those bytes over the memory bandwidth of a Kokkos copy kernel of the same size,
/// measured in the same run.
class RecurrenceModule : public core::Module {
 public:
  std::string name() const override { return "recurrence"; }
  std::string doc() const override {
    return "linear recurrences: eigenstate (diagonal complex) and dense, sequential vs "
           "parallel-scan vs cyclic reduction, forward and backward";
  }
  void declare(core::ParamRegistry& reg) const override;
  void check(const core::ParamSet& params, const std::string& file) const override;
  void run(core::RunContext& ctx) const override;
  std::string report(const std::vector<core::RunResult>& runs) const override;
};

}  // namespace frost::recurrence
