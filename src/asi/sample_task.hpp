// asi.task = sample: Monte Carlo sampling of spin-ice states, either uniformly over the charge
// sector of an ice state (loop moves only) or thermally (Metropolis single flips plus loop moves,
// parallel tempering over asi.temperatures), with streamed observables, autocorrelation
// analysis, structure factor and checkpoints.
#pragma once

#include "asi/lattice.hpp"
#include "core/module.hpp"
#include "core/params.hpp"

namespace frost::asi {

/// Declares the keys of the sample task (paths relative to "asi"): sample.*, thermal.*,
/// temperatures and output.*.
void declare_sample_params(frost::core::ParamRegistry& reg);

/// Runs the sample task on `lattice` and fills ctx.result. Results (everything except the
/// timing scalars samples_per_second, sweeps_per_second and flips_per_second) are a pure
/// function of (parameters, seed, run id) and are bitwise identical after a checkpoint restart.
void run_sample_task(frost::core::RunContext& ctx, const Lattice& lattice);

}  // namespace frost::asi
