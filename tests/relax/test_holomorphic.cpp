// Holomorphic equilibrium propagation on a small transformer field (B = 1, T = 4, C = 8,
// vocabulary 6): the complex field and readout against the real ones on real states, their
// holomorphy (complex finite differences along h and i h, the bilinear transpose), the realified
// nudged field's derivatives, and the estimate from N nudges on a circle against the forward
// sensitivity -J^{-1} dL/dz (GMRES), with the real +-beta pair at the same beta beside it; with
// the AsymEP correction, against the implicit-differentiation gradient.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "core/rng.hpp"
#include "relax/adjoint.hpp"
#include "relax/ep.hpp"
#include "relax/holomorphic.hpp"
#include "relax/readout.hpp"
#include "relax/relax_fixture.hpp"
#include "relax/transformer.hpp"

namespace frost::relax {
namespace {

using test::cosine;
using test::Exec;
using test::Mem;
using test::rel_err;
using test::tight;
using test::V;
using CV = Vec<Mem, Complex>;

constexpr int kVocab = 6;

V random_vec(int n, std::uint32_t chain, double scale = 1.0) {
  return test::random_vec(n, 91, chain, scale);
}

/// re + i im_scale * (another draw).
CV random_cvec(int n, std::uint32_t chain, double im_scale) {
  CV v("cv", n);
  auto h = Kokkos::create_mirror_view(v);
  core::RandomStream rs(91, 1, chain);
  for (int i = 0; i < n; ++i) {
    const double re = 2.0 * rs.uniform() - 1.0;
    h(i) = Complex(re, im_scale * (2.0 * rs.uniform() - 1.0));
  }
  Kokkos::deep_copy(v, h);
  return v;
}

std::vector<Complex> host(const CV& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<Complex>(h.data(), h.data() + h.extent(0));
}
std::vector<double> host(const V& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<double>(h.data(), h.data() + h.extent(0));
}

double cnorm(const std::vector<Complex>& a) {
  double s = 0.0;
  for (const auto& x : a) s += x.real() * x.real() + x.imag() * x.imag();
  return std::sqrt(s);
}
/// sum a_i b_i (bilinear: no conjugation).
Complex bilinear(const std::vector<Complex>& a, const std::vector<Complex>& b) {
  Complex s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
/// |(a - b) / s| over the vector: the largest deviation relative to |s|.
double cdist(const std::vector<Complex>& a, const std::vector<Complex>& b) {
  std::vector<Complex> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return cnorm(d);
}

TransformerSpec small_spec() {
  return test::small_spec(23);
}

void setup_readout(CrossEntropyReadout<Mem>& ro, std::uint32_t chain) {
  test::setup_readout(ro, 91, 2, chain, kVocab);
}

/// z + 0i.
CV to_complex(const V& z) {
  CV c("c", z.extent(0));
  TransformerField<Mem>::copy_to_complex(Exec(), z, c);
  return c;
}

// On a real state the complex field is the real one: F, J v and J^T w with zero imaginary parts
// and real parts equal to rounding; the same for the readout's gradient and Hessian.
TEST(RelaxHolomorphic, ComplexFieldAtRealStateEqualsRealField) {
  const Exec exec;
  for (bool gelu : {true, false}) {
    TransformerSpec s = small_spec();
    s.gelu = gelu;
    s.skew = 0.3;
    TransformerField<Mem> f(s);
    auto cf = f.holomorphic_twin(exec);
    const int n = static_cast<int>(f.size());
    const V z = random_vec(n, 1, 2.0), v = random_vec(n, 2), w = random_vec(n, 3);
    V fr("fr", n), jr("jr", n), tr("tr", n);
    CV fc("fc", n), jc("jc", n), tc("tc", n);
    f.eval(exec, z, fr);
    f.jvp(exec, v, jr);
    f.vjp(exec, w, tr);
    cf.eval(exec, to_complex(z), fc);
    cf.jvp(exec, to_complex(v), jc);
    cf.vjp(exec, to_complex(w), tc);
    for (auto [r, c] : {std::pair<V, CV>{fr, fc}, {jr, jc}, {tr, tc}}) {
      const auto hr = host(r);
      const auto hc = host(c);
      double scale = 0.0, dre = 0.0, dim = 0.0;
      for (int i = 0; i < n; ++i) {
        scale = std::max(scale, std::abs(hr[i]));
        dre = std::max(dre, std::abs(hc[i].real() - hr[i]));
        dim = std::max(dim, std::abs(hc[i].imag()));
      }
      EXPECT_GT(scale, 0.1);
      EXPECT_LT(dre, 1e-14 * scale) << "gelu " << gelu;
      EXPECT_LE(dim, 1e-14 * scale) << "gelu " << gelu;
    }
  }
  CrossEntropyReadout<Mem> ro(4, 8, kVocab);
  setup_readout(ro, 4);
  auto cro = ro.holomorphic_twin(exec);
  const V z = random_vec(32, 5), v = random_vec(32, 6);
  V g("g", 32), hv("hv", 32);
  CV gc("gc", 32), hc("hc", 32);
  const double L = ro.gradient(exec, z, g);
  ro.hvp(exec, v, hv);
  const double Lc = cro.gradient(exec, to_complex(z), gc);
  cro.hvp(exec, to_complex(v), hc);
  EXPECT_NEAR(Lc, L, 1e-14 * L);
  for (auto [r, c] : {std::pair<V, CV>{g, gc}, {hv, hc}}) {
    const auto hr = host(r);
    const auto hcx = host(c);
    for (std::size_t i = 0; i < hr.size(); ++i) {
      EXPECT_NEAR(hcx[i].real(), hr[i], 1e-14 * (1.0 + std::abs(hr[i])));
      EXPECT_LE(std::abs(hcx[i].imag()), 1e-14);
    }
  }
}

/// (F(z + d) - F(z - d)) / 2 for a complex displacement d = t u, by any eval.
template <class Eval>
std::vector<Complex> central(Eval&& eval, const CV& z, const CV& u, Complex t) {
  const int n = static_cast<int>(z.extent(0));
  CV zt("zt", n), fp("fp", n), fm("fm", n);
  const auto hz = host(z);
  const auto hu = host(u);
  auto hzt = Kokkos::create_mirror_view(zt);
  for (double sg : {1.0, -1.0}) {
    for (int i = 0; i < n; ++i) hzt(i) = hz[i] + sg * t * hu[i];
    Kokkos::deep_copy(zt, hzt);
    eval(zt, sg > 0 ? fp : fm);
  }
  const auto p = host(fp);
  const auto m = host(fm);
  std::vector<Complex> d(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) d[i] = (p[i] - m[i]) / (2.0 * t);
  return d;
}

// Holomorphy at a complex state: J v equals the complex difference quotient along h and along
// i h (the Cauchy-Riemann equations), and <J v, w> = <v, J^T w> without conjugation. The same for
// the readout (gradient against its Hessian).
TEST(RelaxHolomorphic, FieldAndReadoutAreHolomorphic) {
  const Exec exec;
  for (bool gelu : {true, false}) {
    TransformerSpec s = small_spec();
    s.gelu = gelu;
    s.skew = 0.3;
    TransformerField<Mem> rf(s);
    auto f = rf.holomorphic_twin(exec);
    const int n = static_cast<int>(f.size());
    const CV z = random_cvec(n, 10, 0.3), v = random_cvec(n, 11, 1.0), w = random_cvec(n, 12, 1.0);
    CV fz("fz", n), jv("jv", n), jtw("jtw", n);
    f.eval(exec, z, fz);
    f.jvp(exec, v, jv);
    f.vjp(exec, w, jtw);
    const auto hjv = host(jv);
    const auto hjtw = host(jtw);
    auto eval = [&](const CV& zz, const CV& out) { f.eval(exec, zz, out); };
    const double h = 1e-5;
    for (Complex t : {Complex(h, 0.0), Complex(0.0, h)}) {
      const auto fd = central(eval, z, v, t);
      const double e = cdist(fd, hjv) / cnorm(hjv);
      std::printf("[ holo ] field gelu %d: |FD - Jv| / |Jv| along %s: %.2e\n", int(gelu),
                  t.real() != 0.0 ? "h  " : "i h", e);
      EXPECT_LT(e, 1e-7) << "gelu " << gelu;  // measured 1.7e-8 (truncation, h = 1e-5)
    }
    const Complex a = bilinear(hjv, host(w)), b = bilinear(host(v), hjtw);
    EXPECT_LT(Kokkos::abs(a - b), 1e-13 * cnorm(hjv) * cnorm(host(w))) << "gelu " << gelu;
    // Conjugating would be wrong: the Hermitian pairing differs by O(1) here.
    Complex herm = 0.0;
    const auto hv = host(v);
    for (int i = 0; i < n; ++i) herm += Kokkos::conj(hv[i]) * hjtw[i];
    EXPECT_GT(Kokkos::abs(a - herm), 1e-3 * Kokkos::abs(a));
  }
  CrossEntropyReadout<Mem> rro(4, 8, kVocab);
  setup_readout(rro, 13);
  auto ro = rro.holomorphic_twin(exec);
  const CV z = random_cvec(32, 14, 0.3), v = random_cvec(32, 15, 1.0), w = random_cvec(32, 16, 1.0);
  CV g("g", 32), hv("hv", 32), hw("hw", 32);
  ro.gradient(exec, z, g);
  ro.hvp(exec, v, hv);
  ro.hvp(exec, w, hw);
  const auto hhv = host(hv);
  auto grad = [&](const CV& zz, const CV& out) { ro.gradient(exec, zz, out); };
  for (Complex t : {Complex(1e-5, 0.0), Complex(0.0, 1e-5)}) {
    const auto fd = central(grad, z, v, t);
    const double e = cdist(fd, hhv) / cnorm(hhv);
    std::printf("[ holo ] readout: |FD - Hv| / |Hv| along %s: %.2e\n",
                t.real() != 0.0 ? "h  " : "i h", e);
    EXPECT_LT(e, 1e-9);  // measured 3e-11
  }
  const Complex a = bilinear(hhv, host(w)), b = bilinear(host(v), host(hw));
  EXPECT_LT(Kokkos::abs(a - b), 1e-13 * cnorm(hhv) * cnorm(host(w)));
}

// The realified nudged field (plain and AsymEP, complex beta, away from the root): jvp against
// real central differences of eval and <Jv, w> = <v, J^T w> over the reals.
TEST(RelaxHolomorphic, RealifiedFieldDerivatives) {
  const Exec exec;
  TransformerField<Mem> rf(small_spec());
  TransformerField<Mem> root = rf.twin(exec);
  auto f = rf.holomorphic_twin(exec);
  const int n = static_cast<int>(rf.size());
  CrossEntropyReadout<Mem> rro(4, 8, kVocab);
  setup_readout(rro, 20);
  auto ro = rro.holomorphic_twin(exec);
  const V zs = random_vec(n, 21), z = random_vec(2 * n, 22), v = random_vec(2 * n, 23),
          w = random_vec(2 * n, 24);
  const Complex beta = 0.7 * unit_root(1, 5);
  for (bool asym : {false, true}) {
    HolomorphicNudgedField<Mem> plain(f, ro, beta);
    HolomorphicNudgedField<Mem> corrected(exec, f, root, ro, zs, beta);
    Field<Mem>& af = asym ? static_cast<Field<Mem>&>(corrected) : plain;
    ASSERT_EQ(af.size(), std::size_t(2 * n));
    V fz("fz", 2 * n), jv("jv", 2 * n), jtw("jtw", 2 * n), zt("zt", 2 * n), fp("fp", 2 * n),
        fm("fm", 2 * n);
    const double h = 1e-5;
    add_scaled(exec, z, h, v, zt);
    af.eval(exec, zt, fp);
    add_scaled(exec, z, -h, v, zt);
    af.eval(exec, zt, fm);
    af.eval(exec, z, fz);
    af.jvp(exec, v, jv);
    af.vjp(exec, w, jtw);
    add_scaled(exec, fp, -1.0, fm, fp);
    axpby(exec, 0.0, fp, 0.5 / h, fp);
    const double e = rel_err(fp, jv);
    std::printf("[ holo ] realified field (asym %d): |FD - Jv| / |Jv| %.2e\n", int(asym), e);
    EXPECT_LT(e, 1e-7) << "asym " << asym;  // measured 3.1e-8
    EXPECT_NEAR(dot(exec, jv, w), dot(exec, v, jtw), 1e-13 * norm2(exec, jv) * norm2(exec, w))
        << "asym " << asym;
  }
}

/// -J^{-1} dL/dz at the field's linearisation point (z0).
void forward_sensitivity(Field<Mem>& f, const V& gl, const V& u) {
  const Exec exec;
  V rhs("rhs", gl.extent(0));
  axpby(exec, -1.0, gl, 0.0, rhs);
  GmresOptions go;
  go.tol = 1e-14;
  ASSERT_TRUE(forward_solve(exec, f, rhs, u, go).converged);
}

// The estimate from N = 4 nudges on a circle of radius beta against the exact forward
// sensitivity -J^{-1} dL/dz: far closer than the real pair +-beta at the same beta (O(beta^4)
// against O(beta^2)), for each solver of the realified phases; N = 2 reproduces the real pair.
TEST(RelaxHolomorphic, EstimateMatchesForwardSensitivity) {
  const Exec exec;
  TransformerField<Mem> f(small_spec());
  auto cf = f.holomorphic_twin(exec);
  const int n = static_cast<int>(f.size()), np = static_cast<int>(f.params().extent(0));
  CrossEntropyReadout<Mem> ro(4, 8, kVocab);
  setup_readout(ro, 30);
  auto cro = ro.holomorphic_twin(exec);
  V z0("z0", n), gl("gl", n), u("u", n), fz("fz", n);
  Kokkos::deep_copy(z0, f.input());
  ASSERT_TRUE(solve(exec, f, z0, tight("implicit")).converged);
  ro.gradient(exec, z0, gl);
  f.eval(exec, z0, fz);
  forward_sensitivity(f, gl, u);
  V g_fwd("g_fwd", np);
  f.param_vjp(exec, u, g_fwd);
  const double beta = 0.05;
  V zp("zp", n), zm("zm", n), gsym("gsym", n), gth_sym("gth_sym", np);
  ASSERT_TRUE([&] {
    const EpReport r = ep_nudged_phases(exec, f, ro, z0, beta, tight("implicit"), zp, zm);
    return r.plus.converged && r.minus.converged;
  }());
  ep_gradients(exec, f, z0, zp, zm, beta, gsym, gth_sym);
  const double e_sym = rel_err(gsym, u), e_sym_th = rel_err(gth_sym, g_fwd);
  std::printf("[ holo ] real +-beta pair, beta %.2f: rel err x %.3e, theta %.3e\n", beta, e_sym,
              e_sym_th);
  V g2("g2", n);
  const auto r2 = holomorphic_ep_input_gradient(exec, cf, cro, z0, beta, 2, tight("implicit"), g2);
  ASSERT_TRUE(r2.converged());
  EXPECT_EQ(r2.phases.size(), 2u);
  EXPECT_LT(rel_err(g2, gsym), 1e-9);
  V g4("g4", n), gth4("gth4", np);
  std::vector<const char*> methods{"euler", "adaptive", "anderson", "implicit"};
#ifdef FROST_HAVE_KINSOL
  methods.push_back("kinsol");
#endif
  for (const char* method : methods) {
    const auto r4 = holomorphic_ep_input_gradient(exec, cf, cro, z0, beta, 4, tight(method), g4);
    ASSERT_TRUE(r4.converged()) << method;
    EXPECT_EQ(r4.phases.size(), 3u);
    ep_param_gradient(exec, f, z0, g4, gth4);
    const double e = rel_err(g4, u), e_th = rel_err(gth4, g_fwd);
    std::printf("[ holo ] N = 4 %-9s beta %.2f: rel err x %.3e, theta %.3e (F evals %ld %ld %ld)\n",
                method, beta, e, e_th, r4.phases[0].f_evals, r4.phases[1].f_evals,
                r4.phases[2].f_evals);
    EXPECT_LT(e, 1e-6) << method;
    EXPECT_LT(e, 0.01 * e_sym) << method;
    EXPECT_LT(e_th, 0.01 * e_sym_th) << method;
  }
  // The orders: halving beta divides the N = 4 error by about 2^4; N = 3 (two solved phases,
  // one of them complex) lies between the real pair and N = 4.
  const double e4 = rel_err(g4, u);
  holomorphic_ep_input_gradient(exec, cf, cro, z0, 0.5 * beta, 4, tight("implicit"), g4);
  const double e4_half = rel_err(g4, u);
  V g3("g3", n);
  const auto r3 = holomorphic_ep_input_gradient(exec, cf, cro, z0, beta, 3, tight("implicit"), g3);
  EXPECT_EQ(r3.phases.size(), 2u);
  const double e3 = rel_err(g3, u);
  std::printf("[ holo ] N = 4 beta %.3f: rel err x %.3e (ratio %.1f); N = 3 beta %.2f: %.3e\n",
              0.5 * beta, e4_half, e4 / e4_half, beta, e3);
  EXPECT_GT(e4 / e4_half, 10.0);
  EXPECT_LT(e4 / e4_half, 25.0);
  EXPECT_LT(e3, 0.1 * e_sym);
  EXPECT_GT(e3, 2.0 * e4);
}

// With the AsymEP correction on the field where plain EP's cosine with the implicit gradient is
// about 0.5 (init_scale 1.0), the holomorphic estimate matches implicit differentiation.
TEST(RelaxHolomorphic, AsymEpMatchesImplicitGradient) {
  const Exec exec;
  TransformerField<Mem> f(small_spec());
  TransformerField<Mem> root = f.twin(exec);
  auto cf = f.holomorphic_twin(exec);
  const int n = static_cast<int>(f.size()), np = static_cast<int>(f.params().extent(0));
  CrossEntropyReadout<Mem> ro(4, 8, kVocab);
  setup_readout(ro, 40);
  auto cro = ro.holomorphic_twin(exec);
  V z0("z0", n), lambda("lambda", n), gth("gth", np);
  Kokkos::deep_copy(z0, f.input());
  ASSERT_TRUE(solve(exec, f, z0, tight("implicit")).converged);
  GmresOptions go;
  go.tol = 1e-14;
  ASSERT_TRUE(implicit_gradients(exec, f, ro, z0, go, lambda, gth).converged);
  const double beta = 0.05;
  V gx("gx", n), gep("gep", np), zp("zp", n), zm("zm", n);
  ep_nudged_phases(exec, f, ro, z0, beta, tight("implicit"), zp, zm);
  ep_gradients(exec, f, z0, zp, zm, beta, gx, gep);
  const double plain_cos = cosine(gep, gth);
  asym_ep_nudged_phases(exec, f, root, ro, z0, beta, tight("implicit"), zp, zm);
  ep_gradients(exec, f, z0, zp, zm, beta, gx, gep);
  const double asym_err = rel_err(gep, gth);
  const auto r =
      holomorphic_ep_input_gradient(exec, cf, cro, z0, beta, 4, tight("implicit"), gx, &root);
  ASSERT_TRUE(r.converged());
  ep_param_gradient(exec, f, z0, gx, gep);
  const double c = cosine(gep, gth), e = rel_err(gep, gth), ex = rel_err(gx, lambda);
  std::printf(
      "[ holo ] AsymEP beta %.2f: plain EP cos %.4f; real pair rel err %.3e; N = 4 cos %.9f, rel "
      "err theta %.3e, x %.3e\n",
      beta, plain_cos, asym_err, c, e, ex);
  EXPECT_LT(plain_cos, 0.9);
  EXPECT_GE(c, 0.999);
  EXPECT_LT(e, 2e-5);             // measured 6.3e-6
  EXPECT_LT(e, 0.01 * asym_err);  // measured 0.0046
  EXPECT_LT(ex, 2e-5);
}

}  // namespace
}  // namespace frost::relax
