// The TEN language model: every parameter gradient (embedding, each TEN layer's projections,
// modes and coupling, the norms, the head) against central finite differences of the loss in
// double precision at a tiny size, with the window run in two pieces; pieces against one piece;
// the cut gradient of bptt = chunk; f32 against f64; the untrained loss near ln 256.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "fd_check.hpp"
#include "seqmodel/optim.hpp"
#include "seqmodel/ten_lm.hpp"

namespace frost::seqmodel {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

/// A tiny model, a text over a few distinct bytes and a batch of windows.
struct Fixture {
  TenLmShape shape;
  TenLmLayout lay;
  std::vector<double> x;  // parameters
  std::vector<std::uint8_t> text;
  std::vector<std::size_t> starts;
  int B = 2, T = 8;

  Fixture() {
    shape.D = 6;
    shape.L = 2;
    shape.K = 3;
    shape.coupled = true;
    lay = make_layout(shape);
    InitOptions o;
    o.seed = 11;
    x = initial_params(shape, lay, o);
    // Every parameter away from its special initial value (gains 1, biases and coupling 0).
    core::RandomStream rs(12, 0, 0);
    for (const auto& b : lay.blocks)
      for (std::size_t k = 0; k < b.size; ++k) x[b.offset + k] += 0.3 * (2.0 * rs.uniform() - 1.0);
    const std::uint8_t alphabet[5] = {'a', 'b', ' ', 'e', '\n'};
    for (int i = 0; i < 64; ++i) text.push_back(alphabet[rs.below(5)]);
    starts = {3, 17};
  }
};

/// Loss and (with `grad`) the flat gradient of the fixture's model on its batch.
template <class S>
double loss_and_grad(const Fixture& f, const std::vector<double>& x, int chunk, Bptt bptt,
                     std::vector<double>* grad) {
  const Exec exec;
  const recurrence::EigenPlan plan{recurrence::EigenMethod::kSequential, 1};
  Kokkos::View<S*, Mem> params("frost::seqmodel::test_params", f.lay.total),
      grads("frost::seqmodel::test_grads", f.lay.total),
      piece("frost::seqmodel::test_piece_grads", f.lay.total);
  upload<S, Mem>(x, params);
  const TenLmTensors<S, Mem> prm(params, f.shape, f.lay);
  TenLmWork<S, Mem> w(exec, f.shape, f.B, f.T, chunk);
  load_batch<Exec, S, Mem>(exec, w, f.text.data(), f.starts);
  const double loss = lm_forward<Exec, S, Mem>(exec, f.shape, plan, prm, w, grad != nullptr);
  if (grad) {
    lm_backward<Exec, S, Mem>(exec, f.shape, f.lay, plan, bptt, prm, grads, piece, w);
    *grad = download<S, Mem>(grads);
  }
  return loss;
}

TEST(TenLm, LayoutCoversEveryBlockOnce) {
  const Fixture f;
  std::size_t sum = 0, prev_end = 0;
  for (const auto& b : f.lay.blocks) {
    // Packed in order, each block on the next multiple of 8 (checkpoints rely on the offsets).
    EXPECT_EQ(b.offset, (prev_end + 7) / 8 * 8) << b.name;
    prev_end = b.offset + b.size;
    sum += b.size;
  }
  EXPECT_EQ(f.lay.total, (prev_end + 7) / 8 * 8);
  // V D + L (D + 2KD + 2K + K + K + 2K^2 + 2KD + D) + D + D V + V.
  const std::size_t D = 6, K = 3, V = 256;
  EXPECT_EQ(
      sum, V * D + 2 * (D + 2 * K * D + 2 * K + 2 * K + 2 * K * K + 2 * K * D + D) + D + D * V + V);
}

TEST(TenLm, GradientsMatchFiniteDifferences) {
  const Fixture f;
  std::vector<double> g;
  const double loss = loss_and_grad<double>(f, f.x, 4, Bptt::kSequence, &g);
  ASSERT_TRUE(std::isfinite(loss));
  const FdCounts n = expect_gradient_matches_finite_differences(
      f.lay.blocks, f.x, g, bytes_in_windows(f.text, f.starts, f.T), f.shape.D,
      [&](const std::vector<double>& x) {
        return loss_and_grad<double>(f, x, 4, Bptt::kSequence, nullptr);
      });
  EXPECT_GT(n.checked, 2000);
  EXPECT_GT(n.nonzero, n.checked / 2);  // the check is not passed by zeros
}

TEST(TenLm, PiecesAgreeWithOneWindow) {
  const Fixture f;
  std::vector<double> g1, g2, g4;
  const double l1 = loss_and_grad<double>(f, f.x, 0, Bptt::kSequence, &g1);
  const double l2 = loss_and_grad<double>(f, f.x, 4, Bptt::kSequence, &g2);
  const double l4 = loss_and_grad<double>(f, f.x, 2, Bptt::kSequence, &g4);
  EXPECT_NEAR(l2, l1, 1e-13 * std::abs(l1));
  EXPECT_NEAR(l4, l1, 1e-13 * std::abs(l1));
  double err = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < g1.size(); ++i) {
    err = std::max({err, std::abs(g2[i] - g1[i]), std::abs(g4[i] - g1[i])});
    scale = std::max(scale, std::abs(g1[i]));
  }
  EXPECT_LT(err, 1e-12 * scale);
}

TEST(TenLm, ChunkBpttCutsTheGradientAtPieceBoundaries) {
  const Fixture f;
  std::vector<double> gs, gc;
  const double ls = loss_and_grad<double>(f, f.x, 4, Bptt::kSequence, &gs);
  const double lc = loss_and_grad<double>(f, f.x, 4, Bptt::kChunk, &gc);
  EXPECT_EQ(ls, lc);  // the forward pass carries the state either way
  // The head and the final norm see no state: identical. The first layer's input projection
  // loses the paths through the carried state: different.
  auto block = [&](const std::string& name) {
    for (const auto& b : f.lay.blocks)
      if (b.name == name) return b;
    ADD_FAILURE() << name;
    return ParamBlock{};
  };
  for (const char* same : {"head_w", "head_b", "final_norm"}) {
    const auto b = block(same);
    for (std::size_t k = 0; k < b.size; ++k) EXPECT_EQ(gs[b.offset + k], gc[b.offset + k]) << same;
  }
  const auto w = block("layer0.w_in");
  double diff = 0.0;
  for (std::size_t k = 0; k < w.size; ++k)
    diff = std::max(diff, std::abs(gs[w.offset + k] - gc[w.offset + k]));
  EXPECT_GT(diff, 1e-6);
}

TEST(TenLm, SinglePrecisionAgreesWithDouble) {
  const Fixture f;
  std::vector<double> gd, gf;
  const double ld = loss_and_grad<double>(f, f.x, 4, Bptt::kSequence, &gd);
  const double lf = loss_and_grad<float>(f, f.x, 4, Bptt::kSequence, &gf);
  EXPECT_NEAR(lf, ld, 1e-5 * ld);
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < gd.size(); ++i) {
    num += (gf[i] - gd[i]) * (gf[i] - gd[i]);
    den += gd[i] * gd[i];
  }
  EXPECT_LT(std::sqrt(num / den), 1e-4);
}

TEST(TenLm, UntrainedLossIsNearLogVocabulary) {
  TenLmShape s;  // the defaults: D 64, L 2, K 32, coupled
  const TenLmLayout lay = make_layout(s);
  InitOptions o;
  o.seed = 3;
  const Exec exec;
  Kokkos::View<float*, Mem> params("frost::seqmodel::test_params", lay.total);
  upload<float, Mem>(initial_params(s, lay, o), params);
  const TenLmTensors<float, Mem> prm(params, s, lay);
  const int B = 4, T = 64;
  TenLmWork<float, Mem> w(exec, s, B, T, 16);
  core::RandomStream rs(4, 0, 0);
  std::vector<std::uint8_t> text(4096);
  for (auto& c : text) c = static_cast<std::uint8_t>(rs.below(256));
  load_batch<Exec, float, Mem>(exec, w, text.data(), {0, 500, 1000, 3000});
  const double loss =
      lm_forward<Exec, float, Mem>(exec, s, {recurrence::EigenMethod::kAuto, 0}, prm, w, false);
  EXPECT_NEAR(loss, std::log(256.0), 0.05);
}

TEST(TenLm, LearningRateWarmsUpThenDecays) {
  EXPECT_DOUBLE_EQ(learning_rate(0, 100, 10, 1.0, 0.1), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(9, 100, 10, 1.0, 0.1), 1.0);
  EXPECT_NEAR(learning_rate(10, 100, 10, 1.0, 0.1), 1.0, 1e-12);
  EXPECT_NEAR(learning_rate(99, 100, 10, 1.0, 0.1), 0.1, 1e-12);
  double prev = 2.0;
  for (long s = 10; s < 100; ++s) {
    const double lr = learning_rate(s, 100, 10, 1.0, 0.1);
    EXPECT_LE(lr, prev);
    prev = lr;
  }
}

TEST(TenLm, AdamWDecaysOnlyMarkedBlocksAndClipsByScale) {
  TenLmShape s;
  s.D = 4;
  s.L = 1;
  s.K = 2;
  const TenLmLayout lay = make_layout(s);
  const Exec exec;
  Kokkos::View<double*, Mem> p("frost::seqmodel::test_p", lay.total),
      g("frost::seqmodel::test_g", lay.total);
  Kokkos::deep_copy(p, 1.0);
  AdamW<double, Mem> opt(lay);
  AdamWOptions o;
  o.weight_decay = 0.5;
  opt.step(exec, p, g, 0.1, 1.0, o);  // zero gradient: only the decay moves parameters
  const auto h = download<double, Mem>(p);
  for (const auto& b : lay.blocks)
    for (std::size_t k = 0; k < b.size; ++k)
      EXPECT_DOUBLE_EQ(h[b.offset + k], b.decay ? 1.0 - 0.1 * 0.5 : 1.0) << b.name;
  // Adam's first step moves every entry by lr sign(g), whatever the clipping scale.
  Kokkos::deep_copy(g, 3.0);
  Kokkos::deep_copy(p, 0.0);
  AdamW<double, Mem> opt2(lay);
  o.weight_decay = 0.0;
  opt2.step(exec, p, g, 0.1, 0.25, o);
  const auto h2 = download<double, Mem>(p);
  EXPECT_NEAR(h2[lay.head_b], -0.1, 1e-8);  // eps = 1e-8 against |g| = 0.75
  std::vector<double> gn(lay.total, 0.0);
  gn[0] = 3.0;
  gn[lay.head_b] = 4.0;
  upload<double, Mem>(gn, g);
  const double norm = global_norm<Exec, double, Mem>(exec, g);
  EXPECT_NEAR(norm, 5.0, 1e-12);
}

}  // namespace
}  // namespace frost::seqmodel
