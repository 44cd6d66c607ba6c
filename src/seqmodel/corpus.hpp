// The text a byte-level language model reads: the bytes of a file are the tokens (vocabulary
// 256), the last `heldout` fraction is the held-out split, and the unigram baselines a model
// must beat are computed once here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"

namespace frost::seqmodel {

/// Tokens of a byte-level corpus. Invariants: tokens in [0, 256); the training split is
/// [0, train_end), the held-out split [train_end, size); each split holds at least one window
/// of `window` inputs and its next-byte targets (window + 1 tokens).
struct ByteCorpus {
  std::string path;
  std::vector<std::uint8_t> tokens;
  std::size_t train_end = 0;
  /// Entropy of the training split's byte frequencies, nats per byte: the loss of the best model
  /// that ignores context, on its own split.
  double unigram_entropy = 0.0;
  /// Cross-entropy of the held-out split under the training split's byte frequencies (add-one
  /// smoothed over 256 bytes), nats per byte.
  double unigram_heldout_ce = 0.0;

  std::size_t size() const { return tokens.size(); }
  std::size_t heldout_size() const { return tokens.size() - train_end; }
};

/// Reads `path` and splits off the last `heldout` fraction (rounded to whole bytes). Throws
/// std::runtime_error saying what is wrong with the file (missing, unreadable, empty, or too short
/// for a window of `window` tokens in each split); the caller adds the deck file and key.
ByteCorpus load_byte_corpus(const std::string& path, double heldout, int window);

/// Start positions of B training windows of `window` inputs for training step `step`: uniform
/// over [0, train_end - window - 1], drawn from the stream (seed, run, chain) at counter
/// step * 2^32, so step s draws the same windows on any backend and after a restart.
std::vector<std::size_t> draw_train_windows(const ByteCorpus& c, int B, int window,
                                            std::uint64_t seed, std::uint32_t run,
                                            std::uint32_t chain, std::uint64_t step);

/// Start positions of the held-out windows: consecutive, non-overlapping windows from the start
/// of the held-out split, at most `max_windows` of them (at least one exists by construction).
std::vector<std::size_t> heldout_windows(const ByteCorpus& c, int window, int max_windows);

}  // namespace frost::seqmodel
