// The seqmodel module: language models built on the recurrence module's kernels (the one kind of
// dependency between modules allowed: a model on the kernels below it).
#pragma once

#include "core/module.hpp"

namespace frost::seqmodel {

/// `seqmodel:` decks. One run trains a byte-level Temporal Eigenstate Network language model
/// (ten_lm.hpp) on the bytes of `seqmodel.text` with AdamW, global gradient-norm clipping and a
/// warm-up + cosine learning-rate schedule; windows are drawn from the run's Philox streams (seed,
/// run), so a run is reproducible and resumes bitwise from a checkpoint. It reports per-step
/// train loss (nats per byte), learning rate, gradient norm (before clipping), tokens/s and wall
/// time; held-out loss and perplexity every `eval.every` steps; and the unigram baselines of the
/// text.
class SeqModelModule : public core::Module {
 public:
  std::string name() const override { return "seqmodel"; }
  std::string doc() const override {
    return "byte-level language models on the recurrence kernels: a Temporal Eigenstate Network "
           "trained end to end (AdamW, clipping, warm-up + cosine), held-out perplexity";
  }
  void declare(core::ParamRegistry& reg) const override;
  void check(const core::ParamSet& params, const std::string& file) const override;
  void run(core::RunContext& ctx) const override;
  std::string report(const std::vector<core::RunResult>& runs) const override;
};

}  // namespace frost::seqmodel
