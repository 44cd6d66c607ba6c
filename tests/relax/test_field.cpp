// The transformer field's hand-written derivatives: Jv against central finite differences and Jv
// against J^T w through <Jv, w> = <v, J^T w>, with GELU and tanh, with and without the skew term.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "relax/transformer.hpp"

namespace frost::relax {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
using V = Vec<Mem>;

V random_vec(int n, std::uint32_t chain, double scale) {
  V v("v", n);
  auto h = Kokkos::create_mirror_view(v);
  core::RandomStream rs(7, 0, chain);
  for (int i = 0; i < n; ++i) h(i) = scale * (2.0 * rs.uniform() - 1.0);
  Kokkos::deep_copy(v, h);
  return v;
}

TransformerSpec small_spec(bool gelu, double skew) {
  TransformerSpec s;
  s.B = 2;
  s.T = 5;
  s.C = 8;
  s.heads = 2;
  s.ffn_mult = 2;
  s.c = 0.5;
  s.skew = skew;
  s.init_scale = 1.5;  // large enough that attention and FFN are far from linear
  s.gelu = gelu;
  s.seed = 11;
  return s;
}

struct Case {
  bool gelu;
  double skew;
};

class FieldDerivatives : public ::testing::TestWithParam<Case> {};

TEST_P(FieldDerivatives, JvMatchesCentralDifferences) {
  const Exec exec;
  TransformerField<Mem> F(small_spec(GetParam().gelu, GetParam().skew));
  const int n = static_cast<int>(F.size());
  const V z = random_vec(n, 1, 1.0), v = random_vec(n, 2, 1.0);
  V zp("zp", n), zm("zm", n), fp("fp", n), fm("fm", n), f("f", n), jv("jv", n);
  const double h = 1e-5;
  add_scaled(exec, z, h, v, zp);
  add_scaled(exec, z, -h, v, zm);
  F.eval(exec, zp, fp);
  F.eval(exec, zm, fm);
  F.eval(exec, z, f);
  F.jvp(exec, v, jv);
  axpby(exec, 1.0 / (2 * h), fp, -1.0 / (2 * h), fm);  // fm = (F(z+hv) - F(z-hv)) / 2h
  const double nj = norm2(exec, jv);
  ASSERT_GT(nj, 1e-3);
  axpby(exec, 1.0, jv, -1.0, fm);
  EXPECT_LT(norm2(exec, fm) / nj, 1e-7);
}

TEST_P(FieldDerivatives, AdjointIdentity) {
  const Exec exec;
  TransformerField<Mem> F(small_spec(GetParam().gelu, GetParam().skew));
  const int n = static_cast<int>(F.size());
  const V z = random_vec(n, 3, 1.0), v = random_vec(n, 4, 1.0), w = random_vec(n, 5, 1.0);
  V f("f", n), jv("jv", n), jtw("jtw", n);
  F.eval(exec, z, f);
  F.jvp(exec, v, jv);
  F.vjp(exec, w, jtw);
  const double a = dot(exec, jv, w), b = dot(exec, v, jtw);
  EXPECT_LT(std::abs(a - b), 1e-12 * (std::abs(a) + norm2(exec, jv) * norm2(exec, w)));
}

TEST_P(FieldDerivatives, ParamVjpMatchesCentralDifferences) {
  const Exec exec;
  TransformerField<Mem> F(small_spec(GetParam().gelu, GetParam().skew));
  const int n = static_cast<int>(F.size()), np = static_cast<int>(F.params().extent(0));
  const V z = random_vec(n, 7, 1.0), u = random_vec(n, 8, 1.0), d = random_vec(np, 9, 1.0);
  V theta("theta", np), f("f", n), fp("fp", n), fm("fm", n), g("g", np);
  Kokkos::deep_copy(theta, F.params());
  const double h = 1e-5;
  add_scaled(exec, theta, h, d, F.params());
  F.eval(exec, z, fp);
  add_scaled(exec, theta, -h, d, F.params());
  F.eval(exec, z, fm);
  Kokkos::deep_copy(F.params(), theta);
  F.eval(exec, z, f);
  F.param_vjp(exec, u, g);
  axpby(exec, 1.0 / (2 * h), fp, -1.0 / (2 * h), fm);  // dF/dtheta . d
  const double fd = dot(exec, u, fm), ad = dot(exec, g, d);
  ASSERT_GT(std::abs(ad), 1e-3);
  EXPECT_LT(std::abs(fd - ad) / std::abs(ad), 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Relax, FieldDerivatives,
                         ::testing::Values(Case{true, 0.0}, Case{false, 0.0}, Case{true, 3.0}));

TEST(TransformerField, DeterministicFromSeed) {
  const Exec exec;
  TransformerField<Mem> A(small_spec(true, 0.0)), B(small_spec(true, 0.0));
  const int n = static_cast<int>(A.size());
  const V z = random_vec(n, 6, 1.0);
  V fa("fa", n), fb("fb", n);
  A.eval(exec, z, fa);
  B.eval(exec, z, fb);
  axpby(exec, 1.0, fa, -1.0, fb);
  EXPECT_EQ(norm2(exec, fb), 0.0);
}

}  // namespace
}  // namespace frost::relax
