// asi.task = train: the neural samplers on the EIGN network, chosen by train.mode.
//  a:        LoopMPVAN Mode A, trained by REINFORCE towards the uniform distribution over the
//            states it can reach, with exact KL to uniform when the sector is small.
//  b:        Mode B over the islands, annealed penalised free energy; violation fraction per
//            epoch, exact ice mass and KL to uniform over the ice states when enumerable.
//  proposal: Metropolis-Hastings with network loop proposals (optionally trained for
//            acceptance); acceptance rate, ESS and ESS per second, a uniformity test on the
//            reachable set when enumerable.
#pragma once

#include "asi/lattice.hpp"
#include "core/module.hpp"
#include "core/params.hpp"

namespace frost::asi {

/// Declares the keys of the train task (paths relative to "asi"): train.*.
void declare_train_params(core::ParamRegistry& reg);

/// Runs the sampler of train.mode on `lattice` and records its curves and metrics.
void run_train_task(core::RunContext& ctx, const Lattice& lattice);

}  // namespace frost::asi
