// Eigenstate recurrence: every method against the double-precision sequential loop (f64 and
// f32), any T, chunk chaining, and the backward pass against the differentiated loop and central
// finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "recurrence/problem.hpp"

namespace frost::recurrence {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

template <class S>
struct EigenDevice {
  using V = EigenViews<S, Mem>;
  typename V::Param lambda, omega;
  typename V::State c0, cT;
  typename V::Seq beta, c;

  explicit EigenDevice(const EigenProblem& p)
      : lambda("lambda", p.K),
        omega("omega", p.K),
        c0("c0", p.B, p.K),
        cT("cT", p.B, p.K),
        beta("beta", p.B, p.T, p.K),
        c("c", p.B, p.T, p.K) {
    upload(lambda, p.lambda);
    upload(omega, p.omega);
    upload(c0, p.c0);
    upload(beta, p.beta);
  }
  void forward(EigenMethod m, int chunk) {
    eigen_forward<Exec, S, Mem>(Exec(), m, chunk, lambda, omega, c0, beta, c, cT);
    Kokkos::fence();
  }
};

struct Case {
  EigenMethod method;
  int chunk;
};

const Case kCases[] = {{EigenMethod::kSequential, 1}, {EigenMethod::kChunked, 1},
                       {EigenMethod::kChunked, 4},    {EigenMethod::kChunked, 7},
                       {EigenMethod::kChunked, 32},   {EigenMethod::kChunked, 1000},
                       {EigenMethod::kTiled, 0}};

TEST(RecurrenceEigen, ForwardMatchesSequentialLoopF64AnyT) {
  for (int T : {1, 2, 3, 17, 100}) {
    const EigenProblem p = make_eigen_problem(2, T, 5, 0.5, 0.999, 11, T);
    std::vector<cplx> c_ref, cT_ref;
    eigen_reference_forward(p, c_ref, cT_ref);
    EigenDevice<double> d(p);
    for (const Case& cs : kCases) {
      d.forward(cs.method, cs.chunk);
      EXPECT_LT(max_rel_error(download_complex(d.c), c_ref), 1e-12)
          << "T=" << T << " " << to_string(cs.method) << " chunk " << cs.chunk;
      EXPECT_LT(max_rel_error(download_complex(d.cT), cT_ref), 1e-12);
    }
  }
}

TEST(RecurrenceEigen, ForwardF32WithinTolerance) {
  const EigenProblem p = make_eigen_problem(2, 1000, 16, 0.9, 0.999, 12, 0);
  std::vector<cplx> c_ref, cT_ref;
  eigen_reference_forward(p, c_ref, cT_ref);
  EigenDevice<float> d(p);
  for (const Case& cs : kCases) {
    d.forward(cs.method, cs.chunk);
    EXPECT_LT(max_rel_error(download_complex(d.c), c_ref), 1e-4) << to_string(cs.method);
  }
}

TEST(RecurrenceEigen, ChunksChainThroughTheFinalState) {
  const int T = 37, T1 = 20;
  const EigenProblem p = make_eigen_problem(3, T, 4, 0.5, 0.99, 13, 0);
  std::vector<cplx> c_ref, cT_ref;
  eigen_reference_forward(p, c_ref, cT_ref);
  // First piece [0, T1), then [T1, T) from the carried state.
  EigenProblem p1 = p, p2 = p;
  p1.T = T1;
  p2.T = T - T1;
  p1.beta.clear();
  p2.beta.clear();
  for (int b = 0; b < p.B; ++b)
    for (int t = 0; t < T; ++t)
      for (int k = 0; k < p.K; ++k)
        (t < T1 ? p1.beta : p2.beta).push_back(p.beta[(b * T + t) * p.K + k]);
  for (EigenMethod m : {EigenMethod::kSequential, EigenMethod::kChunked, EigenMethod::kTiled}) {
    EigenDevice<double> d1(p1);
    d1.forward(m, 6);
    p2.c0 = download_complex(d1.cT);
    EigenDevice<double> d2(p2);
    d2.forward(m, 6);
    EXPECT_LT(max_rel_error(download_complex(d2.cT), cT_ref), 1e-13);
    auto c1 = download_complex(d1.c), c2 = download_complex(d2.c);
    std::vector<cplx> joined;
    for (int b = 0; b < p.B; ++b) {
      joined.insert(joined.end(), c1.begin() + b * T1 * p.K, c1.begin() + (b + 1) * T1 * p.K);
      joined.insert(joined.end(), c2.begin() + b * (T - T1) * p.K,
                    c2.begin() + (b + 1) * (T - T1) * p.K);
    }
    EXPECT_LT(max_rel_error(joined, c_ref), 1e-13);
  }
}

struct Grads {
  std::vector<cplx> beta, c0;
  std::vector<double> lambda, omega;
};

template <class S>
Grads device_backward(const EigenProblem& p, const std::vector<cplx>& g, EigenMethod m, int chunk) {
  using V = EigenViews<S, Mem>;
  EigenDevice<S> d(p);
  d.forward(m, chunk);
  typename V::Seq gc("g", p.B, p.T, p.K), gbeta("gbeta", p.B, p.T, p.K);
  typename V::State gc0("gc0", p.B, p.K);
  typename V::Param gl("gl", p.K), gw("gw", p.K);
  upload(gc, g);
  eigen_backward<Exec, S, Mem>(Exec(), m, chunk, d.lambda, d.omega, d.c0, d.c, gc, gbeta, gc0, gl,
                               gw);
  Kokkos::fence();
  return {download_complex(gbeta), download_complex(gc0), download_real(gl), download_real(gw)};
}

double loss(const EigenProblem& p, const std::vector<cplx>& g) {
  std::vector<cplx> c, cT;
  eigen_reference_forward(p, c, cT);
  double s = 0.0;
  for (std::size_t i = 0; i < c.size(); ++i) s += (std::conj(g[i]) * c[i]).real();
  return s;
}

TEST(RecurrenceEigen, BackwardMatchesDifferentiatedLoop) {
  for (int T : {1, 3, 17, 100}) {
    const EigenProblem p = make_eigen_problem(2, T, 5, 0.5, 0.99, 14, T);
    const auto g = make_eigen_upstream(p.B, p.T, p.K, 14, T);
    std::vector<cplx> c;
    std::vector<cplx> cT;
    eigen_reference_forward(p, c, cT);
    Grads ref;
    eigen_reference_backward(p, c, g, ref.beta, ref.c0, ref.lambda, ref.omega);
    for (const Case& cs : kCases) {
      const Grads d = device_backward<double>(p, g, cs.method, cs.chunk);
      EXPECT_LT(max_rel_error(d.beta, ref.beta), 1e-12) << T << " " << cs.chunk;
      EXPECT_LT(max_rel_error(d.c0, ref.c0), 1e-12);
      EXPECT_LT(max_rel_error(d.lambda, ref.lambda), 1e-12);
      EXPECT_LT(max_rel_error(d.omega, ref.omega), 1e-12);
    }
    const Grads f = device_backward<float>(p, g, EigenMethod::kChunked, 4);
    EXPECT_LT(max_rel_error(f.beta, ref.beta), 1e-4);
    EXPECT_LT(max_rel_error(f.lambda, ref.lambda), 1e-4);
    EXPECT_LT(max_rel_error(f.omega, ref.omega), 1e-4);
  }
}

TEST(RecurrenceEigen, BackwardMatchesFiniteDifferences) {
  const EigenProblem p = make_eigen_problem(2, 9, 3, 0.6, 0.95, 15, 0);
  const auto g = make_eigen_upstream(p.B, p.T, p.K, 15, 0);
  const Grads d = device_backward<double>(p, g, EigenMethod::kChunked, 4);
  const double h = 1e-6;
  auto fd = [&](auto&& perturb) {
    EigenProblem a = p, b = p;
    perturb(a, h);
    perturb(b, -h);
    return (loss(a, g) - loss(b, g)) / (2 * h);
  };
  auto close = [](double x, double y) { return std::abs(x - y) <= 1e-7 * (1 + std::abs(y)); };
  for (int k = 0; k < p.K; ++k) {
    EXPECT_TRUE(close(d.lambda[k], fd([&](EigenProblem& q, double e) { q.lambda[k] += e; })));
    EXPECT_TRUE(close(d.omega[k], fd([&](EigenProblem& q, double e) { q.omega[k] += e; })));
  }
  for (std::size_t i = 0; i < p.c0.size(); ++i) {
    EXPECT_TRUE(close(d.c0[i].real(), fd([&](EigenProblem& q, double e) { q.c0[i] += e; })));
    EXPECT_TRUE(
        close(d.c0[i].imag(), fd([&](EigenProblem& q, double e) { q.c0[i] += cplx(0, e); })));
  }
  for (std::size_t i = 0; i < p.beta.size(); i += 5) {
    EXPECT_TRUE(close(d.beta[i].real(), fd([&](EigenProblem& q, double e) { q.beta[i] += e; })));
    EXPECT_TRUE(
        close(d.beta[i].imag(), fd([&](EigenProblem& q, double e) { q.beta[i] += cplx(0, e); })));
  }
}

TEST(RecurrenceEigen, AutoPlan) {
  EXPECT_EQ(resolve_eigen_plan(EigenMethod::kAuto, 0, 8, 4096, 128, 1).method,
            EigenMethod::kSequential);
  const EigenPlan gpu = resolve_eigen_plan(EigenMethod::kAuto, 0, 8, 4096, 128, 100000);
  EXPECT_EQ(gpu.method, EigenMethod::kChunked);
  EXPECT_GE(gpu.chunk, 32);
  EXPECT_EQ(resolve_eigen_plan(EigenMethod::kChunked, 50, 1, 100, 1, 1).chunk, 50);
  // On a GPU the tiled scan where its teams fill an eighth of the machine, else chunks.
  EXPECT_EQ(resolve_eigen_plan(EigenMethod::kAuto, 0, 32, 4096, 128, 270336, true).method,
            EigenMethod::kTiled);
  EXPECT_EQ(resolve_eigen_plan(EigenMethod::kAuto, 0, 1, 4096, 16, 270336, true).method,
            EigenMethod::kChunked);
  EXPECT_EQ(resolve_eigen_plan(EigenMethod::kSequential, 0, 32, 4096, 128, 270336, true).method,
            EigenMethod::kSequential);
}

}  // namespace
}  // namespace frost::recurrence
