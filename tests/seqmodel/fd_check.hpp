// The finite-difference check of a language model's parameter gradient, shared by the models'
// tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "seqmodel/param_layout.hpp"

namespace frost::seqmodel {

/// Which byte values occur as tokens in the windows of T bytes starting at `starts`.
inline std::vector<bool> bytes_in_windows(const std::vector<std::uint8_t>& text,
                                          const std::vector<std::size_t>& starts, int T) {
  std::vector<bool> used(256, false);
  for (std::size_t b = 0; b < starts.size(); ++b)
    for (int t = 0; t < T; ++t) used[text[starts[b] + t]] = true;
  return used;
}

/// How many entries a finite-difference check differenced, and how many of those had a
/// difference quotient away from zero (|fd| > 1e-6), so that a test can tell that it was not
/// passed by zeros.
struct FdCounts {
  int checked = 0, nonzero = 0;
};

/// Expects the analytic gradient `grad` of `loss` at `x` to match central differences (step 1e-5)
/// in every entry of every block: |grad - fd| / (1e-3 + |fd|) < 1e-5. The embedding's rows (block
/// "embed", rows of width D) of bytes that are not `used` get no gradient: they are expected to be
/// exactly zero and are not differenced. `loss(x)` evaluates the loss at parameters x.
template <class Loss>
FdCounts expect_gradient_matches_finite_differences(const std::vector<ParamBlock>& blocks,
                                                    const std::vector<double>& x,
                                                    const std::vector<double>& grad,
                                                    const std::vector<bool>& used, int D,
                                                    const Loss& loss) {
  const double h = 1e-5;
  FdCounts n;
  for (const auto& blk : blocks) {
    double worst = 0.0;
    for (std::size_t k = 0; k < blk.size; ++k) {
      const std::size_t i = blk.offset + k;
      if (blk.name == "embed" && !used[k / D]) {
        EXPECT_EQ(grad[i], 0.0) << "embedding row of an unused byte";
        continue;
      }
      std::vector<double> xp = x, xm = x;
      xp[i] += h;
      xm[i] -= h;
      const double fd = (loss(xp) - loss(xm)) / (2 * h);
      const double err = std::abs(grad[i] - fd) / (1e-3 + std::abs(fd));
      worst = std::max(worst, err);
      EXPECT_LT(err, 1e-5) << blk.name << "[" << k << "]: analytic " << grad[i] << ", fd " << fd;
      ++n.checked;
      if (std::abs(fd) > 1e-6) ++n.nonzero;
    }
    EXPECT_LT(worst, 1e-5) << blk.name;
  }
  return n;
}

}  // namespace frost::seqmodel
