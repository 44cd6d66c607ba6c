// Dense recurrence: every method against the double-precision sequential loop (f64 and f32),
// T not a power of two, chunk chaining, and the adjoint against the differentiated loop and
// central finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "recurrence/dense.hpp"
#include "recurrence/problem.hpp"

namespace frost::recurrence {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

template <class S>
struct DenseDevice {
  using V = DenseViews<S, Mem>;
  typename V::Mats A;
  typename V::Vecs b, h;
  typename V::State h0, hT;

  explicit DenseDevice(const DenseProblem& p)
      : A("A", p.B, p.T, p.n, p.n),
        b("b", p.B, p.T, p.n),
        h("h", p.B, p.T, p.n),
        h0("h0", p.B, p.n),
        hT("hT", p.B, p.n) {
    upload(A, p.A);
    upload(b, p.b);
    upload(h0, p.h0);
  }
  void forward(DenseMethod m, int chunk, long long teams_wanted = 0) {
    dense_forward<Exec, S, Mem>(Exec(), m, chunk, A, b, h0, h, hT, teams_wanted);
    Kokkos::fence();
  }
};

struct Case {
  DenseMethod method;
  int chunk;
};

const Case kCases[] = {{DenseMethod::kSequential, 1}, {DenseMethod::kHillisSteele, 1},
                       {DenseMethod::kBlelloch, 1},   {DenseMethod::kCyclicReduction, 1},
                       {DenseMethod::kChunked, 1},    {DenseMethod::kChunked, 3},
                       {DenseMethod::kChunked, 8},    {DenseMethod::kChunked, 1000}};

std::string name(const Case& c) {
  return to_string(c.method) + "/" + std::to_string(c.chunk);
}

TEST(RecurrenceDense, ForwardMatchesSequentialLoopF64AnyT) {
  for (int T : {1, 2, 3, 5, 8, 17, 100}) {
    const DenseProblem p = make_dense_problem(2, T, 5, 0.9, 21, T);
    std::vector<double> h_ref, hT_ref;
    dense_reference_forward(p, h_ref, hT_ref);
    DenseDevice<double> d(p);
    for (const Case& cs : kCases) {
      Kokkos::deep_copy(d.h, 0.0);
      d.forward(cs.method, cs.chunk);
      EXPECT_LT(max_rel_error(download_real(d.h), h_ref), 1e-12) << "T=" << T << " " << name(cs);
      EXPECT_LT(max_rel_error(download_real(d.hT), hT_ref), 1e-12) << "T=" << T << " " << name(cs);
    }
  }
}

TEST(RecurrenceDense, ForwardF32WithinTolerance) {
  const DenseProblem p = make_dense_problem(2, 200, 16, 0.9, 22, 0);
  std::vector<double> h_ref, hT_ref;
  dense_reference_forward(p, h_ref, hT_ref);
  DenseDevice<float> d(p);
  for (const Case& cs : kCases) {
    d.forward(cs.method, cs.chunk);
    EXPECT_LT(max_rel_error(download_real(d.h), h_ref), 1e-4) << name(cs);
  }
}

TEST(RecurrenceDense, ChunksChainThroughTheFinalState) {
  const int T = 23, T1 = 10, n = 4, B = 2;
  const DenseProblem p = make_dense_problem(B, T, n, 0.9, 23, 0);
  std::vector<double> h_ref, hT_ref;
  dense_reference_forward(p, h_ref, hT_ref);
  DenseProblem p1 = p, p2 = p;
  p1.T = T1;
  p2.T = T - T1;
  p1.A.clear();
  p2.A.clear();
  p1.b.clear();
  p2.b.clear();
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      auto& q = t < T1 ? p1 : p2;
      const std::size_t v = static_cast<std::size_t>(b * T + t) * n;
      q.A.insert(q.A.end(), p.A.begin() + v * n, p.A.begin() + (v + n) * n);
      q.b.insert(q.b.end(), p.b.begin() + v, p.b.begin() + v + n);
    }
  for (DenseMethod m :
       {DenseMethod::kSequential, DenseMethod::kHillisSteele, DenseMethod::kBlelloch,
        DenseMethod::kCyclicReduction, DenseMethod::kChunked}) {
    DenseDevice<double> d1(p1);
    d1.forward(m, 3);
    p2.h0 = download_real(d1.hT);
    DenseDevice<double> d2(p2);
    d2.forward(m, 3);
    EXPECT_LT(max_rel_error(download_real(d2.hT), hT_ref), 1e-13) << to_string(m);
  }
}

struct Grads {
  std::vector<double> A, b, h0;
};

template <class S>
Grads device_backward(const DenseProblem& p, const std::vector<double>& g, DenseMethod m,
                      int chunk) {
  using V = DenseViews<S, Mem>;
  DenseDevice<S> d(p);
  d.forward(m, chunk);
  typename V::Vecs gh("g", p.B, p.T, p.n), gb("gb", p.B, p.T, p.n);
  typename V::Mats gA("gA", p.B, p.T, p.n, p.n);
  typename V::State gh0("gh0", p.B, p.n);
  upload(gh, g);
  dense_backward<Exec, S, Mem>(Exec(), m, chunk, d.A, d.h0, d.h, gh, gA, gb, gh0);
  Kokkos::fence();
  return {download_real(gA), download_real(gb), download_real(gh0)};
}

TEST(RecurrenceDense, BackwardMatchesDifferentiatedLoop) {
  for (int T : {1, 2, 3, 17, 100}) {
    const DenseProblem p = make_dense_problem(2, T, 4, 0.9, 24, T);
    const auto g = make_dense_upstream(p.B, p.T, p.n, 24, T);
    std::vector<double> h, hT;
    dense_reference_forward(p, h, hT);
    Grads ref;
    dense_reference_backward(p, h, g, ref.A, ref.b, ref.h0);
    for (const Case& cs : kCases) {
      const Grads d = device_backward<double>(p, g, cs.method, cs.chunk);
      EXPECT_LT(max_rel_error(d.A, ref.A), 1e-12) << "T=" << T << " " << name(cs);
      EXPECT_LT(max_rel_error(d.b, ref.b), 1e-12) << "T=" << T << " " << name(cs);
      EXPECT_LT(max_rel_error(d.h0, ref.h0), 1e-12) << "T=" << T << " " << name(cs);
    }
    const Grads f = device_backward<float>(p, g, DenseMethod::kCyclicReduction, 1);
    EXPECT_LT(max_rel_error(f.A, ref.A), 1e-4);
    EXPECT_LT(max_rel_error(f.h0, ref.h0), 1e-4);
  }
}

TEST(RecurrenceDense, BackwardMatchesFiniteDifferences) {
  const DenseProblem p = make_dense_problem(2, 6, 3, 0.9, 25, 0);
  const auto g = make_dense_upstream(p.B, p.T, p.n, 25, 0);
  auto loss = [&](const DenseProblem& q) {
    std::vector<double> h, hT;
    dense_reference_forward(q, h, hT);
    double s = 0.0;
    for (std::size_t i = 0; i < h.size(); ++i) s += g[i] * h[i];
    return s;
  };
  const double e = 1e-6;
  auto fd = [&](std::vector<double> DenseProblem::*field, std::size_t i) {
    DenseProblem a = p, b = p;
    (a.*field)[i] += e;
    (b.*field)[i] -= e;
    return (loss(a) - loss(b)) / (2 * e);
  };
  auto close = [](double x, double y) { return std::abs(x - y) <= 1e-7 * (1 + std::abs(y)); };
  for (DenseMethod m : {DenseMethod::kCyclicReduction, DenseMethod::kBlelloch}) {
    const Grads d = device_backward<double>(p, g, m, 2);
    for (std::size_t i = 0; i < p.A.size(); ++i)
      EXPECT_TRUE(close(d.A[i], fd(&DenseProblem::A, i))) << "A " << i;
    for (std::size_t i = 0; i < p.b.size(); ++i)
      EXPECT_TRUE(close(d.b[i], fd(&DenseProblem::b, i))) << "b " << i;
    for (std::size_t i = 0; i < p.h0.size(); ++i)
      EXPECT_TRUE(close(d.h0[i], fd(&DenseProblem::h0, i))) << "h0 " << i;
  }
}

// Cyclic reduction splits the rows of a level's products over teams when the level holds few
// products; each output is summed in the same order either way, so every split gives the same
// bits, and all agree with the double-precision loop (n = 12 and 16: blocks of 4 rows, and n = 10:
// a short last block).
TEST(RecurrenceDense, CyclicReductionRowSplitsGiveTheSameBits) {
  for (int n : {10, 12, 16}) {
    const DenseProblem p = make_dense_problem(2, 37, n, 0.9, 23, 37);
    std::vector<double> h_ref, hT_ref;
    dense_reference_forward(p, h_ref, hT_ref);
    DenseDevice<double> d(p);
    d.forward(DenseMethod::kCyclicReduction, 1, 1);  // one team per product
    const std::vector<double> whole = download_real(d.h);
    EXPECT_LT(max_rel_error(whole, h_ref), 1e-12) << n;
    for (long long wanted : {8LL, 64LL, 100000LL}) {
      Kokkos::deep_copy(d.h, 0.0);
      d.forward(DenseMethod::kCyclicReduction, 1, wanted);
      EXPECT_EQ(download_real(d.h), whole) << "n " << n << " teams wanted " << wanted;
    }
  }
}

// Operands of the team products: X (r x k) stored column-major (strides 1, r: the stride walk
// must not assume rows), Y (k x q) and W (r x q) row-major, one matrix per batch entry.
using ColMats = Kokkos::View<double***, Kokkos::LayoutLeft, Mem>;
using RowMats = Kokkos::View<double***, Kokkos::LayoutRight, Mem>;

/// C(g) = X(g) Y(g) (+ W(g)) by product_tiles<TM, TN>, one team per batch entry g; with
/// `in_place` the sum is written over W (C aliases W elementwise, which is allowed).
template <int TM, int TN, bool add>
RowMats tiled_product(const ColMats& X, const RowMats& Y, const RowMats& W, bool in_place) {
  const int r = static_cast<int>(X.extent(0)), k = static_cast<int>(X.extent(1)),
            G = static_cast<int>(X.extent(2)), q = static_cast<int>(Y.extent(2));
  RowMats C("C", G, r, q);
  if (in_place) Kokkos::deep_copy(C, W);
  const RowMats Wsrc = in_place ? C : W;
  using Member = Kokkos::TeamPolicy<Exec>::member_type;
  Kokkos::parallel_for(
      "frost::test::product_tiles", Kokkos::TeamPolicy<Exec>(G, Kokkos::AUTO),
      KOKKOS_LAMBDA(const Member& m) {
        const int g = m.league_rank();
        detail::product_tiles<TM, TN, add>(m, r, k, q,
                                           Kokkos::subview(X, Kokkos::ALL, Kokkos::ALL, g),
                                           Kokkos::subview(Y, g, Kokkos::ALL, Kokkos::ALL),
                                           Kokkos::subview(Wsrc, g, Kokkos::ALL, Kokkos::ALL),
                                           Kokkos::subview(C, g, Kokkos::ALL, Kokkos::ALL));
      });
  Kokkos::fence();
  return C;
}

template <class View>
View random_view(const char* label, int d0, int d1, int d2, std::uint32_t chain) {
  View v(std::string(label), d0, d1, d2);
  auto h = Kokkos::create_mirror_view(v);
  core::RandomStream rs(41, 0, chain);
  for (int a = 0; a < d0; ++a)
    for (int b = 0; b < d1; ++b)
      for (int c = 0; c < d2; ++c) h(a, b, c) = 2.0 * rs.uniform() - 1.0;
  Kokkos::deep_copy(v, h);
  return v;
}

// Every register tile against a double loop (rounding bound from sum |x y|), and every tile
// bitwise equal to one output per thread: each output is W + the products in order of l.
TEST(RecurrenceDense, RegisterTilesMatchDoubleLoopAndEachOther) {
  const int G = 3, r = 8, k = 7, q = 12;
  const ColMats X = random_view<ColMats>("X", r, k, G, 1);
  const RowMats Y = random_view<RowMats>("Y", G, k, q, 2),
                W = random_view<RowMats>("W", G, r, q, 3);
  auto hX = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), X);
  auto hY = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), Y);
  auto hW = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), W);
  for (bool add : {false, true}) {
    for (bool in_place : {false, true}) {
      if (in_place && !add) continue;
      std::vector<RowMats> results;
      if (add) {
        results = {tiled_product<1, 1, true>(X, Y, W, in_place),
                   tiled_product<2, 2, true>(X, Y, W, in_place),
                   tiled_product<4, 4, true>(X, Y, W, in_place),
                   tiled_product<2, 4, true>(X, Y, W, in_place)};
      } else {
        results = {
            tiled_product<1, 1, false>(X, Y, W, false), tiled_product<2, 2, false>(X, Y, W, false),
            tiled_product<4, 4, false>(X, Y, W, false), tiled_product<2, 4, false>(X, Y, W, false)};
      }
      auto first = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), results[0]);
      for (int g = 0; g < G; ++g)
        for (int i = 0; i < r; ++i)
          for (int j = 0; j < q; ++j) {
            double ref = add ? hW(g, i, j) : 0.0, mag = std::abs(ref);
            for (int l = 0; l < k; ++l) {
              ref += hX(i, l, g) * hY(g, l, j);
              mag += std::abs(hX(i, l, g) * hY(g, l, j));
            }
            EXPECT_NEAR(first(g, i, j), ref, 1e-15 * (k + 1) * mag)
                << "add " << add << " g " << g << " i " << i << " j " << j;
          }
      for (std::size_t t = 1; t < results.size(); ++t) {
        auto other = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), results[t]);
        for (int g = 0; g < G; ++g)
          for (int i = 0; i < r; ++i)
            for (int j = 0; j < q; ++j)
              ASSERT_EQ(other(g, i, j), first(g, i, j))
                  << "tile " << t << " add " << add << " in place " << in_place;
      }
    }
  }
}

TEST(RecurrenceDense, FlopCountsAndPlan) {
  // The sequential loop is the least work; the log-depth methods do about n times more.
  const double seq = dense_flops(DenseMethod::kSequential, 0, 1, 1024, 32);
  EXPECT_DOUBLE_EQ(seq, 1024 * 2.0 * 32 * 32);
  for (DenseMethod m : {DenseMethod::kHillisSteele, DenseMethod::kBlelloch,
                        DenseMethod::kCyclicReduction, DenseMethod::kChunked})
    EXPECT_GT(dense_flops(m, 32, 1, 1024, 32), 10 * seq) << to_string(m);
  EXPECT_EQ(resolve_dense_plan(DenseMethod::kAuto, 0, 1, 1024, 32, 1).method,
            DenseMethod::kSequential);
  EXPECT_EQ(resolve_dense_plan(DenseMethod::kAuto, 0, 1, 1024, 32, 100000).method,
            DenseMethod::kCyclicReduction);
  EXPECT_EQ(resolve_dense_plan(DenseMethod::kChunked, 0, 1, 1024, 32, 1).chunk, 32);
  // Every shape that does not fill the machine with sequences takes CR, in either precision.
  for (int n : {32, 64, 128})
    for (int T : {1024, 4096})
      for (int B : {1, 8})
        EXPECT_EQ(resolve_dense_plan(DenseMethod::kAuto, 0, B, T, n, 100000).method,
                  DenseMethod::kCyclicReduction)
            << n << " " << T << " " << B;
}

}  // namespace
}  // namespace frost::recurrence
