// Training a character-level model by equilibrium propagation (`relax.task: ep_train`): byte
// tokens of a text file, an embedding E (V x C) giving the field's input x, the transformer-block
// field's equilibrium z*, and a cross-entropy readout W (C x V) on z* at every position. The
// gradient is plain EP's or AsymEP's (`train.estimator`, ep.hpp), from the real nudges +-beta or
// from N complex ones on a circle (`train.holomorphic_points`, holomorphic.hpp), optionally with
// the Hutchinson Jacobian penalty and its controller (`train.jacreg.*`, jacreg.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/module.hpp"
#include "relax/solvers.hpp"
#include "relax/transformer.hpp"

namespace frost::relax {

/// A text as token ids: the distinct bytes of the file, sorted, are the vocabulary. The first
/// train_end tokens are the training split, the rest the held-out split.
struct CharCorpus {
  std::vector<int> tokens;
  std::vector<unsigned char> vocab;  ///< id -> byte
  std::size_t train_end = 0;
  double unigram_entropy = 0.0;     ///< entropy of the training split's byte frequencies (nats)
  double unigram_heldout_ce = 0.0;  ///< cross-entropy of the held-out split under the training
                                    ///< split's unigram (add-one smoothed), nats
};

/// Reads `path` and splits off the last `heldout` fraction. Each split must hold a window of
/// `window` + 1 tokens. Throws std::runtime_error saying what is wrong (the caller adds the file
/// and key).
CharCorpus load_corpus(const std::string& path, double heldout, int window);

/// Declares the `train.*` keys.
void declare_train_params(core::ParamRegistry& reg);
/// Checks of `relax.task: ep_train` (the text file is readable, non-empty and long enough).
void check_train(const core::ParamSet& p, const std::string& file);
/// One training run (field shape and solver settings already read from the deck).
void run_train(core::RunContext& ctx, const TransformerSpec& spec, const SolverOptions& opt);

}  // namespace frost::relax
