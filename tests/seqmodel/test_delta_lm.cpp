// The DeltaNet language model: parameter gradients against central finite differences of the loss
// in double precision at a tiny size; every delta method gives the same loss and gradient; f32
// against f64; the untrained loss near ln 256.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "fd_check.hpp"
#include "seqmodel/delta_lm.hpp"
#include "seqmodel/optim.hpp"

namespace frost::seqmodel {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
using recurrence::DeltaMethod;

struct Fixture {
  DeltaLmShape shape;
  DeltaLmLayout lay;
  std::vector<double> x;
  std::vector<std::uint8_t> text;
  std::vector<std::size_t> starts;
  int B = 2, T = 7;

  Fixture() {
    shape.D = 6;
    shape.L = 2;
    shape.H = 2;
    shape.d = 3;
    lay = make_delta_layout(shape);
    x = initial_delta_params(shape, lay, 1.0, 11, 0);
    core::RandomStream rs(12, 0, 0);
    for (const auto& b : lay.blocks)
      for (std::size_t k = 0; k < b.size; ++k) x[b.offset + k] += 0.3 * (2.0 * rs.uniform() - 1.0);
    const std::uint8_t alphabet[5] = {'a', 'b', ' ', 'e', '\n'};
    for (int i = 0; i < 64; ++i) text.push_back(alphabet[rs.below(5)]);
    starts = {3, 17};
  }
};

template <class S>
double loss_and_grad(const Fixture& f, const std::vector<double>& x, recurrence::DeltaPlan plan,
                     std::vector<double>* grad) {
  const Exec exec;
  Kokkos::View<S*, Mem> params("frost::seqmodel::test_params", f.lay.total),
      grads("frost::seqmodel::test_grads", f.lay.total);
  upload<S, Mem>(x, params);
  const DeltaLmTensors<S, Mem> prm(params, f.shape, f.lay);
  DeltaLmWork<S, Mem> w(exec, f.shape, f.B, f.T);
  load_batch<Exec, S, Mem>(exec, w, f.text.data(), f.starts);
  const double loss = delta_lm_forward<Exec, S, Mem>(exec, f.shape, plan, prm, w, grad != nullptr);
  if (grad) {
    delta_lm_backward<Exec, S, Mem>(exec, f.shape, f.lay, plan, prm, grads, w);
    *grad = download<S, Mem>(grads);
  }
  return loss;
}

TEST(DeltaLm, LayoutCoversEveryBlockOnce) {
  const Fixture f;
  std::size_t sum = 0, prev_end = 0;
  for (const auto& b : f.lay.blocks) {
    // Packed in order, each block on the next multiple of 8 (checkpoints rely on the offsets).
    EXPECT_EQ(b.offset, (prev_end + 7) / 8 * 8) << b.name;
    prev_end = b.offset + b.size;
    sum += b.size;
  }
  EXPECT_EQ(f.lay.total, (prev_end + 7) / 8 * 8);
  const std::size_t D = 6, H = 2, d = 3, V = 256, P = 3 * H * d + H;
  EXPECT_EQ(sum, V * D + 2 * (D + D * P + P + H * d * D) + D + D * V + V);
}

TEST(DeltaLm, GradientsMatchFiniteDifferences) {
  const Fixture f;
  const recurrence::DeltaPlan plan{DeltaMethod::kSequential, 1};
  std::vector<double> g;
  const double loss = loss_and_grad<double>(f, f.x, plan, &g);
  ASSERT_TRUE(std::isfinite(loss));
  const FdCounts n = expect_gradient_matches_finite_differences(
      f.lay.blocks, f.x, g, bytes_in_windows(f.text, f.starts, f.T), f.shape.D,
      [&](const std::vector<double>& x) { return loss_and_grad<double>(f, x, plan, nullptr); });
  EXPECT_GT(n.checked, 1500);
  EXPECT_GT(n.nonzero, n.checked / 2);
}

TEST(DeltaLm, EveryMethodGivesTheSameLossAndGradient) {
  const Fixture f;
  std::vector<double> g0;
  const double l0 = loss_and_grad<double>(f, f.x, {DeltaMethod::kSequential, 1}, &g0);
  double scale = 0.0;
  for (double v : g0) scale = std::max(scale, std::abs(v));
  for (const recurrence::DeltaPlan plan : {recurrence::DeltaPlan{DeltaMethod::kChunked, 3},
                                           recurrence::DeltaPlan{DeltaMethod::kChunked, 7},
                                           recurrence::DeltaPlan{DeltaMethod::kCyclicReduction, 1},
                                           recurrence::DeltaPlan{DeltaMethod::kHillisSteele, 1}}) {
    std::vector<double> g;
    const double l = loss_and_grad<double>(f, f.x, plan, &g);
    EXPECT_NEAR(l, l0, 1e-13 * l0) << recurrence::to_string(plan.method);
    double err = 0.0;
    for (std::size_t i = 0; i < g.size(); ++i) err = std::max(err, std::abs(g[i] - g0[i]));
    EXPECT_LT(err, 1e-12 * scale) << recurrence::to_string(plan.method);
  }
}

TEST(DeltaLm, SinglePrecisionAgreesWithDouble) {
  const Fixture f;
  const recurrence::DeltaPlan plan{DeltaMethod::kChunked, 4};
  std::vector<double> gd, gf;
  const double ld = loss_and_grad<double>(f, f.x, plan, &gd);
  const double lf = loss_and_grad<float>(f, f.x, plan, &gf);
  EXPECT_NEAR(lf, ld, 1e-5 * ld);
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < gd.size(); ++i) {
    num += (gf[i] - gd[i]) * (gf[i] - gd[i]);
    den += gd[i] * gd[i];
  }
  EXPECT_LT(std::sqrt(num / den), 1e-4);
}

TEST(DeltaLm, UntrainedLossIsNearLogVocabulary) {
  DeltaLmShape s;  // the defaults
  const DeltaLmLayout lay = make_delta_layout(s);
  const Exec exec;
  Kokkos::View<float*, Mem> params("frost::seqmodel::test_params", lay.total);
  upload<float, Mem>(initial_delta_params(s, lay, 1.0, 3, 0), params);
  const DeltaLmTensors<float, Mem> prm(params, s, lay);
  DeltaLmWork<float, Mem> w(exec, s, 4, 64);
  core::RandomStream rs(4, 0, 0);
  std::vector<std::uint8_t> text(4096);
  for (auto& c : text) c = static_cast<std::uint8_t>(rs.below(256));
  load_batch<Exec, float, Mem>(exec, w, text.data(), {0, 500, 1000, 3000});
  const double loss =
      delta_lm_forward<Exec, float, Mem>(exec, s, {DeltaMethod::kChunked, 16}, prm, w, false);
  EXPECT_NEAR(loss, std::log(256.0), 0.05);
}

}  // namespace
}  // namespace frost::seqmodel
