// asi.task = train: LoopMPVAN Mode A on the EIGN network, trained by REINFORCE towards the uniform
// distribution over the states it can reach, with exact KL to uniform when the sector is small.
#pragma once

#include "asi/lattice.hpp"
#include "core/module.hpp"
#include "core/params.hpp"

namespace frost::asi {

/// Declares the keys of the train task (paths relative to "asi"): train.*.
void declare_train_params(core::ParamRegistry& reg);

/// Trains the loop-autoregressive sampler on `lattice` and records the training curve.
void run_train_task(core::RunContext& ctx, const Lattice& lattice);

}  // namespace frost::asi
