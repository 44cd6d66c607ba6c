// The delta-rule recurrence: every method's states against a float64 host loop on explicit dense
// matrices (forward and adjoint order, odd and tiny lengths, n != m); the input gradients against
// central finite differences of a scalar loss computed by that host loop.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "recurrence/delta.hpp"

namespace frost::recurrence {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

/// Inputs of G sequences: c, u (G, T, n), w (G, T, m), b (G, T), as host doubles.
struct Inputs {
  int G, T, n, m;
  std::vector<double> c, u, w, b;
  Inputs(int G_, int T_, int n_, int m_, std::uint64_t seed) : G(G_), T(T_), n(n_), m(m_) {
    core::RandomStream rs(seed, 0, 0);
    c.resize(std::size_t(G) * T * n);
    u.resize(c.size());
    w.resize(std::size_t(G) * T * m);
    b.resize(std::size_t(G) * T);
    for (int g = 0; g < G; ++g)
      for (int t = 0; t < T; ++t) {
        // Unit keys and gates in (0, 1): each A_t is a contraction, as in DeltaNet.
        double nrm = 0.0;
        for (int i = 0; i < n; ++i) {
          double& x = c[(std::size_t(g) * T + t) * n + i];
          x = 2.0 * rs.uniform() - 1.0;
          nrm += x * x;
        }
        for (int i = 0; i < n; ++i) c[(std::size_t(g) * T + t) * n + i] /= std::sqrt(nrm);
        for (int i = 0; i < n; ++i) u[(std::size_t(g) * T + t) * n + i] = 2.0 * rs.uniform() - 1.0;
        for (int j = 0; j < m; ++j) w[(std::size_t(g) * T + t) * m + j] = 2.0 * rs.uniform() - 1.0;
        b[std::size_t(g) * T + t] = 0.05 + 0.9 * rs.uniform();
      }
  }
  double C(int g, int t, int i) const { return c[(std::size_t(g) * T + t) * n + i]; }
  double U(int g, int t, int i) const { return u[(std::size_t(g) * T + t) * n + i]; }
  double Wv(int g, int t, int j) const { return w[(std::size_t(g) * T + t) * m + j]; }
  double Bv(int g, int t) const { return b[std::size_t(g) * T + t]; }
};

/// Host reference: states in solver order, built with explicit n x n matrices (not the rank-one
/// form the kernels use). Result index ((g T + s) n + i) m + j.
std::vector<double> reference_states(const Inputs& in, bool reverse) {
  const int G = in.G, T = in.T, n = in.n, m = in.m;
  std::vector<double> out(std::size_t(G) * T * n * m), X(n * m), A(n * n), Y(n * m);
  for (int g = 0; g < G; ++g) {
    std::fill(X.begin(), X.end(), 0.0);
    for (int s = 0; s < T; ++s) {
      const int t = reverse ? T - 1 - s : s;
      const int ta = reverse ? (s == 0 ? -1 : T - s) : s;
      for (int i = 0; i < n; ++i)
        for (int l = 0; l < n; ++l)
          A[i * n + l] =
              (i == l) - (ta >= 0 ? in.Bv(g, ta) * in.C(g, ta, i) * in.C(g, ta, l) : 0.0);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < m; ++j) {
          double acc = in.U(g, t, i) * in.Wv(g, t, j);
          for (int l = 0; l < n; ++l) acc += A[i * n + l] * X[l * m + j];
          Y[i * m + j] = acc;
        }
      X = Y;
      std::copy(X.begin(), X.end(), out.begin() + (std::size_t(g) * T + s) * n * m);
    }
  }
  return out;
}

template <class S>
struct Device {
  typename DeltaViews<S, Mem>::Vecs c, u, w;
  typename DeltaViews<S, Mem>::Scalars b;
  explicit Device(const Inputs& in)
      : c("frost::test::c", in.G, in.T, in.n),
        u("frost::test::u", in.G, in.T, in.n),
        w("frost::test::w", in.G, in.T, in.m),
        b("frost::test::b", in.G, in.T) {
    auto hc = Kokkos::create_mirror_view(c), hu = Kokkos::create_mirror_view(u),
         hw = Kokkos::create_mirror_view(w);
    auto hb = Kokkos::create_mirror_view(b);
    for (int g = 0; g < in.G; ++g)
      for (int t = 0; t < in.T; ++t) {
        for (int i = 0; i < in.n; ++i) {
          hc(g, t, i) = S(in.C(g, t, i));
          hu(g, t, i) = S(in.U(g, t, i));
        }
        for (int j = 0; j < in.m; ++j) hw(g, t, j) = S(in.Wv(g, t, j));
        hb(g, t) = S(in.Bv(g, t));
      }
    Kokkos::deep_copy(c, hc);
    Kokkos::deep_copy(u, hu);
    Kokkos::deep_copy(w, hw);
    Kokkos::deep_copy(b, hb);
  }
};

template <class S>
std::vector<double> device_states(const Inputs& in, DeltaPlan plan, bool reverse) {
  const Exec exec;
  Device<S> d(in);
  typename DeltaViews<S, Mem>::States X("frost::test::X", in.G, in.T, in.n, in.m);
  DeltaWorkspace<S, Mem> ws;
  delta_states<Exec, S, Mem>(exec, plan, reverse, d.c, d.b, d.u, d.w, X, ws);
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), X);
  return std::vector<double>(h.data(), h.data() + h.size());
}

double max_rel_error(const std::vector<double>& got, const std::vector<double>& ref) {
  double err = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    err = std::max(err, std::abs(got[i] - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return err / scale;
}

TEST(Delta, EveryMethodMatchesTheDenseLoop) {
  const DeltaMethod methods[] = {DeltaMethod::kSequential, DeltaMethod::kChunked,
                                 DeltaMethod::kCyclicReduction, DeltaMethod::kHillisSteele};
  for (int T : {1, 2, 7, 37, 64}) {
    const Inputs in(3, T, 5, 5, 100 + T);
    for (bool reverse : {false, true}) {
      const auto ref = reference_states(in, reverse);
      for (auto method : methods)
        for (int chunk : {1, 4, 16}) {
          if (method != DeltaMethod::kChunked && chunk != 4) continue;
          const DeltaPlan plan{method, chunk};
          const double e64 = max_rel_error(device_states<double>(in, plan, reverse), ref);
          const double e32 = max_rel_error(device_states<float>(in, plan, reverse), ref);
          EXPECT_LT(e64, 1e-12) << to_string(method) << " T " << T << " chunk " << chunk
                                << " reverse " << reverse;
          EXPECT_LT(e32, 1e-5) << to_string(method) << " T " << T << " chunk " << chunk
                               << " reverse " << reverse;
        }
    }
  }
}

TEST(Delta, RankOneMethodsTakeRectangularStates) {
  const Inputs in(2, 29, 6, 3, 7);
  for (bool reverse : {false, true}) {
    const auto ref = reference_states(in, reverse);
    EXPECT_LT(max_rel_error(device_states<double>(in, {DeltaMethod::kSequential, 1}, reverse), ref),
              1e-12);
    EXPECT_LT(max_rel_error(device_states<double>(in, {DeltaMethod::kChunked, 5}, reverse), ref),
              1e-12);
  }
}

TEST(Delta, StatesAreNotTrivial) {
  // The comparison above would pass for a solver and reference that both returned offsets only;
  // the matrices must matter: states differ from the sum of the offsets.
  const Inputs in(1, 16, 4, 4, 5);
  const auto ref = reference_states(in, false);
  double diff = 0.0;
  std::vector<double> sum(16, 0.0);
  for (int t = 0; t < in.T; ++t)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        sum[i * 4 + j] += in.U(0, t, i) * in.Wv(0, t, j);
        diff = std::max(diff, std::abs(ref[(std::size_t(t) * 4 + i) * 4 + j] - sum[i * 4 + j]));
      }
  EXPECT_GT(diff, 0.1);
}

/// L = sum_t <r_t, o_t> with o_t = X_t^T q_t, X from the host loop (u = k, w = beta v).
double host_loss(int T, int n, int m, const std::vector<double>& q, const std::vector<double>& k,
                 const std::vector<double>& beta, const std::vector<double>& v,
                 const std::vector<double>& r) {
  Inputs in(1, T, n, m, 0);
  in.c = k;
  in.u = k;
  in.b = beta;
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < m; ++j) in.w[t * m + j] = beta[t] * v[t * m + j];
  const auto X = reference_states(in, false);
  double L = 0.0;
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < m; ++j) {
      double o = 0.0;
      for (int i = 0; i < n; ++i) o += X[(std::size_t(t) * n + i) * m + j] * q[t * n + i];
      L += r[t * m + j] * o;
    }
  return L;
}

TEST(Delta, InputGradientsMatchFiniteDifferences) {
  const int T = 9, n = 4, m = 3;
  core::RandomStream rs(21, 0, 0);
  std::vector<double> q(T * n), k(T * n), beta(T), v(T * m), r(T * m);
  for (auto* x : {&q, &k, &v, &r})
    for (auto& e : *x) e = 2.0 * rs.uniform() - 1.0;
  for (auto& e : beta) e = 0.1 + 0.8 * rs.uniform();
  for (const DeltaMethod method : {DeltaMethod::kSequential, DeltaMethod::kCyclicReduction}) {
    using DV = DeltaViews<double, Mem>;
    const Exec exec;
    DV::Vecs dq_("q", 1, T, n), dk_("k", 1, T, n), dv_("v", 1, T, m), dr("r", 1, T, m),
        bv("bv", 1, T, m), o("o", 1, T, m), gq("gq", 1, T, n), gk("gk", 1, T, n), gv("gv", 1, T, m);
    DV::Scalars db("b", 1, T), gb("gb", 1, T);
    DV::States X("X", 1, T, n, m), Gam("Gam", 1, T, n, m);
    auto put = [](const auto& view, const std::vector<double>& h) {
      auto m_ = Kokkos::create_mirror_view(view);
      std::copy(h.begin(), h.end(), m_.data());
      Kokkos::deep_copy(view, m_);
    };
    std::vector<double> bvh(T * m);
    for (int t = 0; t < T; ++t)
      for (int j = 0; j < m; ++j) bvh[t * m + j] = beta[t] * v[t * m + j];
    put(dq_, q);
    put(dk_, k);
    put(dv_, v);
    put(dr, r);
    put(bv, bvh);
    put(db, beta);
    DeltaWorkspace<double, Mem> ws;
    const DeltaPlan plan{method, 4};
    delta_states<Exec, double, Mem>(exec, plan, false, dk_, db, dk_, bv, X, ws);
    delta_readout<Exec, double, Mem>(exec, X, dq_, o);
    delta_states<Exec, double, Mem>(exec, plan, true, dk_, db, dq_, dr, Gam, ws);
    delta_input_gradients<Exec, double, Mem>(exec, X, Gam, dk_, db, dv_, dr, gq, gk, gb, gv);
    auto get = [](const auto& view) {
      auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), view);
      return std::vector<double>(h.data(), h.data() + h.size());
    };
    // The readout against the host loss at the unperturbed point.
    const auto oh = get(o);
    double L = 0.0;
    for (int i = 0; i < T * m; ++i) L += r[i] * oh[i];
    EXPECT_NEAR(L, host_loss(T, n, m, q, k, beta, v, r), 1e-12 * std::abs(L));
    const double h = 1e-6;
    auto check = [&](std::vector<double>& x, const std::vector<double>& grad, const char* name) {
      int nonzero = 0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double x0 = x[i];
        x[i] = x0 + h;
        const double lp = host_loss(T, n, m, q, k, beta, v, r);
        x[i] = x0 - h;
        const double lm = host_loss(T, n, m, q, k, beta, v, r);
        x[i] = x0;
        const double fd = (lp - lm) / (2 * h);
        EXPECT_NEAR(grad[i], fd, 1e-7 * (1.0 + std::abs(fd))) << name << "[" << i << "]";
        if (std::abs(fd) > 1e-3) ++nonzero;
      }
      EXPECT_GT(nonzero, int(x.size()) / 2) << name;
    };
    check(q, get(gq), "q");
    check(k, get(gk), "k");
    check(beta, get(gb), "beta");
    check(v, get(gv), "v");
  }
}

TEST(Delta, AutoPicksByOccupancy) {
  EXPECT_EQ(resolve_delta_plan(DeltaMethod::kAuto, 0, 64, 2048, 32, 2).method,
            DeltaMethod::kSequential);
  EXPECT_EQ(resolve_delta_plan(DeltaMethod::kAuto, 0, 64, 2048, 32, 1 << 18).method,
            DeltaMethod::kChunked);
  EXPECT_EQ(resolve_delta_plan(DeltaMethod::kChunked, 0, 1, 10, 4, 1).chunk, 10);
  EXPECT_THROW(parse_delta_method("scan"), std::invalid_argument);
}

}  // namespace
}  // namespace frost::recurrence
