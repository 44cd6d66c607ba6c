// Throughput of the recurrence methods on the default Kokkos backend.
//  * eigenstate: B = 8, K = 128, T = 4096, f32 and f64; sequential and chunked. GB/s counts the
//    bytes a call must move (read beta, write c); the floor is that traffic over the bandwidth of
//    a Kokkos copy kernel of the same size measured in this run.
//  * dense: T = 1024 .. max T, n = 32, 64 and 128, B = 1 (and 8 for n <= 64), f64 and f32;
//    every method (those over the time cap skipped), then `auto` against the best of the point.
//    GFLOP/s counts the flops the method executes; the floor is the sequential loop's flops over
//    the f64 GFLOP/s of an n x n team matrix product measured here, and the memory floor is
//    reading A and b and writing h at the copy bandwidth (the larger of the two is printed).
//  * TEN layer (ten_layer.hpp): forward + backward of one layer over a batch, the sequence run
//    in pieces chained through the final state with the gradient cut between pieces (the seed's
//    training loop): a small shape (B 8, T 256 in pieces of 64, D 128, K 32; f32 and f64) and
//    the seed's shape (B 8, T 1024 in pieces of 64, D 1024, K 128; f32), each with and without
//    resonance coupling. tokens/s = B T / seconds per batch; GFLOP/s counts the GEMM flops; the
//    time is split into the recurrence regions, the projection and coupling regions (GEMMs with
//    their bias broadcasts and sums) and the rest, from one extra run fenced at every region
//    boundary.
//  * delta rule (delta.hpp): the states of G = 64 sequences (8 windows x 8 heads), T = 2048,
//    32 x 32, f32 (the seed's DeltaNet shape; G = 16, T = 1024 on a host), every method. GB/s
//    counts the bytes a call must move (read keys, gates, offsets; write every state); the floor
//    is that traffic at the copy bandwidth (the sequential flops at 62.9 TFLOP/s are far below).
// Every result is checked against the double-precision sequential loop (max_rel_error); the TEN
// layer's first piece against double-precision nested loops.
// Usage: bench_recurrence [max seconds per case, default 2] [max dense T, default 4096]
//                         [TEN shapes: 0 none, 1 small, 2 small and seed (default)]
//                         [dense time cap in seconds per call, default 2]
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/floors.hpp"
#include "core/provenance.hpp"
#include "core/rng.hpp"
#include "recurrence/delta.hpp"
#include "recurrence/problem.hpp"
#include "recurrence/ten_layer.hpp"

using namespace frost::recurrence;

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Fastest call: at least one after an untimed warm-up, more while the budget lasts.
template <class F>
double time_call(double budget, F&& f) {
  f();
  Kokkos::fence();
  double best = 1e300, spent = 0.0;
  for (int r = 0; r < 20 && (r == 0 || spent + best < budget); ++r) {
    const double t = now();
    f();
    Kokkos::fence();
    const double dt = now() - t;
    best = std::min(best, dt);
    spent += dt;
  }
  return best;
}

void row(const char* kind, const std::string& method, const char* prec, int T, int nk, int B,
         double sec, double gbs, double gflops, double floor_s, double err) {
  std::printf("%-10s %-18s %4s %5d %4d %3d %11.3e %8.2f %8.2f %11.3e %7.1f%% %9.1e\n", kind,
              method.c_str(), prec, T, nk, B, sec, gbs, gflops, floor_s, 100.0 * floor_s / sec,
              err);
  // harness row: achieved bytes/s against the floor expressed as the same bytes over floor_s
  const double bytes = gbs * 1e9 * sec;
  const std::string kernel = std::string(kind) + " " + method + " " + prec,
                    size = "T=" + std::to_string(T) + " n|K=" + std::to_string(nk) +
                           " B=" + std::to_string(B);
  frost::core::print_row(kernel.c_str(), size.c_str(), sec, bytes / sec, "B/s", bytes / floor_s,
                         "bandwidth|gemm");
}

template <class S>
void bench_eigen(double budget, const char* prec) {
  using V = EigenViews<S, Mem>;
  const Exec exec;
  // the GPU shape is B = 32; a host core gets a quarter of it
  const int B = Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible ? 8 : 32, K = 128,
            T = 4096;
  const EigenProblem p = make_eigen_problem(B, T, K, 0.9, 0.999, 1, 0);
  std::vector<cplx> ref, refT;
  eigen_reference_forward(p, ref, refT);
  typename V::Param lambda("lambda", K), omega("omega", K);
  typename V::State c0("c0", B, K), cT("cT", B, K);
  typename V::Seq beta("beta", B, T, K), c("c", B, T, K);
  upload(lambda, p.lambda);
  upload(omega, p.omega);
  upload(c0, p.c0);
  upload(beta, p.beta);
  const double bytes = 2.0 * 2.0 * sizeof(S) * B * T * K;
  const double bw =
      frost::core::copy_bandwidth(exec, sizeof(S) * static_cast<std::size_t>(B) * T * K * 2);
  const EigenPlan autoplan = resolve_eigen_plan_on(exec, EigenMethod::kAuto, 0, B, T, K);
  const EigenPlan plans[] = {{EigenMethod::kSequential, 1},
                             {EigenMethod::kChunked, 64},
                             {EigenMethod::kChunked, 512},
                             {EigenMethod::kTiled, 0},
                             autoplan};
  EigenWorkspace<S, Mem> ws;  // held across calls, as the TEN layers hold theirs
  for (const EigenPlan& pl : plans) {
    const double sec = time_call(budget, [&] {
      eigen_forward<Exec, S, Mem>(exec, pl.method, pl.chunk, lambda, omega, c0, beta, c, cT, &ws);
    });
    const double scans = pl.method == EigenMethod::kChunked ? 2.0 : 1.0;
    const std::string name =
        (&pl == &plans[4] ? "auto=" : "") + to_string(pl.method) +
        (pl.method == EigenMethod::kChunked ? "/" + std::to_string(pl.chunk) : "");
    row("eigenstate", name, prec, T, K, B, sec, bytes / sec / 1e9,
        scans * 8.0 * B * T * K / sec / 1e9, bytes / bw, max_rel_error(download_complex(c), ref));
  }
  // Team shapes of the tiled scan on a GPU: fewer modes per team give more teams per
  // multiprocessor (B K / modes teams in all), more lanes give longer tiles.
  if (!Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible) {
    typename V::Coef a("a", K);
    frost::recurrence::detail::eigen_coefficients<Exec, S, Mem>(exec, lambda, omega, false, a);
    const int shapes[][2] = {{32, 16}, {32, 8}, {16, 16}, {16, 8}, {8, 16}, {8, 32}, {4, 32}};
    for (const auto& sh : shapes) {
      const double sec = time_call(budget, [&] {
        frost::recurrence::detail::tiled_scan<Exec, S, Mem>(exec, sh[0], sh[1], a, c0, beta, c, cT,
                                                            false);
      });
      const std::string name = "tiled " + std::to_string(sh[0]) + "x" + std::to_string(sh[1]);
      row("eigenstate", name, prec, T, K, B, sec, bytes / sec / 1e9, 8.0 * B * T * K / sec / 1e9,
          bytes / bw, max_rel_error(download_complex(c), ref));
    }
  }
}

/// GFLOP/s of batched team matrix products at size n (the compute roof the dense methods see).
double gemm_rate(int n) {
  using Mats = DenseViews<double, Mem>::Mats;
  // Enough products to give every multiprocessor several teams at every n (a few thousand).
  const int count = std::max(2048, (1 << 24) / (n * n * n));
  Mats X("X", 1, count, n, n), Y("Y", 1, count, n, n), Z("Z", 1, count, n, n);
  Kokkos::deep_copy(X, 0.5);
  Kokkos::deep_copy(Y, 0.25);
  using Member = Kokkos::TeamPolicy<Exec>::member_type;
  const double sec = time_call(0.5, [&] {
    Kokkos::parallel_for(
        "frost::recurrence::bench_gemm", Kokkos::TeamPolicy<Exec>(count, Kokkos::AUTO),
        KOKKOS_LAMBDA(const Member& m) {
          const int t = m.league_rank();
          detail::team_gemm(m, n, Kokkos::subview(X, 0, t, Kokkos::ALL, Kokkos::ALL),
                            Kokkos::subview(Y, 0, t, Kokkos::ALL, Kokkos::ALL),
                            Kokkos::subview(Z, 0, t, Kokkos::ALL, Kokkos::ALL));
        });
  });
  return 2.0 * n * n * n * count / sec;
}

/// The dense grid: n = 32, 64, 128, T = 1024 .. max_T, B = 1 and 8, in precision S; every method,
/// then `auto`, whose time is reported against the best method of the point. A method whose flops
/// at the measured team-GEMM rate would exceed `cap` seconds a call is skipped (Hillis-Steele at
/// large n T), and printed as such.
template <class S>
void bench_dense(double budget, int max_T, const char* prec, double cap) {
  using V = DenseViews<S, Mem>;
  const Exec exec;
  for (int n : {32, 64, 128}) {
    const double rate = gemm_rate(n);
    std::printf("# n = %d: team gemm %.2f GFLOP/s (f64)\n", n, rate / 1e9);
    for (int B : {1, 8}) {
      if (B > 1 && n > 64) continue;  // 8 x 8192 matrices of 128 x 128 would take 8.6 GB per copy
      for (int T = 1024; T <= max_T; T *= 2) {
        const DenseProblem p = make_dense_problem(B, T, n, 0.9, 2, T);
        std::vector<double> ref, refT;
        dense_reference_forward(p, ref, refT);
        typename V::Mats A("A", B, T, n, n);
        typename V::Vecs b("b", B, T, n), h("h", B, T, n);
        typename V::State h0("h0", B, n), hT("hT", B, n);
        upload(A, p.A);
        upload(b, p.b);
        upload(h0, p.h0);
        const double bytes = sizeof(S) * double(B) * T * (double(n) * n + 2.0 * n);
        const double bw =
            frost::core::copy_bandwidth(exec, sizeof(S) * static_cast<std::size_t>(B) * T * n * n);
        const double floor_s =
            std::max(bytes / bw, dense_flops(DenseMethod::kSequential, 0, B, T, n) / rate);
        double best = 1e300;
        std::string best_name;
        std::map<std::string, double> seconds;  // per plan name
        auto time_plan = [&](const DensePlan& pl, const std::string& name) {
          const double sec = time_call(budget, [&] {
            dense_forward<Exec, S, Mem>(exec, pl.method, pl.chunk, A, b, h0, h, hT);
          });
          row("dense", name, prec, T, n, B, sec, bytes / sec / 1e9,
              dense_flops(pl.method, pl.chunk, B, T, n) / sec / 1e9, floor_s,
              max_rel_error(download_real(h), ref));
          return sec;
        };
        auto plan_name = [](const DensePlan& pl) {
          return to_string(pl.method) +
                 (pl.method == DenseMethod::kChunked ? "/" + std::to_string(pl.chunk) : "");
        };
        for (DenseMethod m :
             {DenseMethod::kSequential, DenseMethod::kHillisSteele, DenseMethod::kBlelloch,
              DenseMethod::kCyclicReduction, DenseMethod::kChunked}) {
          const DensePlan pl = resolve_dense_plan(m, 0, B, T, n, exec.concurrency());
          if (m != DenseMethod::kSequential &&
              dense_flops(pl.method, pl.chunk, B, T, n) / rate > cap) {
            std::printf("dense      %-18s %4s %5d %4d %3d skipped (over %.0f s at the gemm rate)\n",
                        plan_name(pl).c_str(), prec, T, n, B, cap);
            continue;
          }
          const double sec = time_plan(pl, plan_name(pl));
          seconds[plan_name(pl)] = sec;
          if (sec < best) {
            best = sec;
            best_name = plan_name(pl);
          }
        }
        const DensePlan autoplan =
            resolve_dense_plan(DenseMethod::kAuto, 0, B, T, n, exec.concurrency());
        const double sec = time_plan(autoplan, "auto=" + plan_name(autoplan));
        // The choice's quality: the time of the plan auto picks, as measured in the row of that
        // method (a second timing of the same kernels differs only by noise), over the best.
        const auto picked = seconds.find(plan_name(autoplan));
        if (picked != seconds.end())
          std::printf("# auto picks %s: %.3f of the best (%s)\n", picked->first.c_str(),
                      picked->second / best, best_name.c_str());
        else
          std::printf("# auto picks %s (%.3e s; the others over the cap)\n",
                      plan_name(autoplan).c_str(), sec);
      }
    }
  }
}

/// Seconds inside each of the TEN layer's profiling regions, fenced on entry and exit so that
/// asynchronous backends are charged to the region that queued the work.
struct RegionClock {
  static std::map<std::string, double>& totals() {
    static std::map<std::string, double> t;
    return t;
  }
  static std::vector<std::pair<std::string, double>>& open() {
    static std::vector<std::pair<std::string, double>> o;
    return o;
  }
  static void push(const char* name) {
    Kokkos::fence();
    open().emplace_back(name, now());
  }
  static void pop() {
    Kokkos::fence();
    const auto entry = open().back();
    open().pop_back();
    totals()[entry.first] += now() - entry.second;
  }
};

struct TenShape {
  int B, T, piece, D, K;
};

/// Uniform in [lo, hi) (splitmix64): inputs that do not depend on the standard library.
struct Uniform {
  std::uint64_t s;
  double operator()(double lo, double hi) {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return lo + (hi - lo) * static_cast<double>(z >> 11) * 0x1.0p-53;
  }
};

/// A layer's parameters on the host (row-major, complex entries interleaved as in ten_layer.hpp).
struct TenHost {
  int D, K;
  std::vector<double> w_in, b_in, theta, omega, w_out, b_out;
  std::vector<cplx> resonance;
};

/// y of one piece from a zero initial state by nested loops in double precision.
std::vector<double> ten_reference_piece(const TenHost& h, const std::vector<double>& x, int B,
                                        int T) {
  const int D = h.D, K = h.K;
  std::vector<double> y(std::size_t(B) * T * D);
  std::vector<cplx> a(K), c(K), cc(K);
  for (int k = 0; k < K; ++k) a[k] = std::polar(1.0 / (1.0 + std::exp(-h.theta[k])), h.omega[k]);
  for (int b = 0; b < B; ++b) {
    std::fill(c.begin(), c.end(), cplx(0));
    for (int t = 0; t < T; ++t) {
      const double* xt = &x[(std::size_t(b) * T + t) * D];
      for (int k = 0; k < K; ++k) {
        cplx beta(h.b_in[2 * k], h.b_in[2 * k + 1]);
        for (int d = 0; d < D; ++d)
          beta += cplx(xt[d] * h.w_in[(std::size_t(d) * 2 * K) + 2 * k],
                       xt[d] * h.w_in[(std::size_t(d) * 2 * K) + 2 * k + 1]);
        c[k] = a[k] * c[k] + beta;
      }
      for (int k = 0; k < K; ++k) {
        cc[k] = c[k];
        for (std::size_t j = 0; j < (h.resonance.empty() ? 0u : std::size_t(K)); ++j)
          cc[k] += h.resonance[std::size_t(k) * K + j] * c[j];
      }
      for (int d = 0; d < D; ++d) {
        double s = h.b_out[d];
        for (int k = 0; k < K; ++k)
          s += cc[k].real() * h.w_out[std::size_t(2 * k) * D + d] +
               cc[k].imag() * h.w_out[std::size_t(2 * k + 1) * D + d];
        y[(std::size_t(b) * T + t) * D + d] = s;
      }
    }
  }
  return y;
}

/// One TEN layer, forward and backward over a batch of B sequences of length T run in pieces.
template <class S>
void bench_ten(double budget, const char* prec, const TenShape& sh, bool coupled) {
  using V = TenViews<S, Mem>;
  using E = EigenViews<S, Mem>;
  const Exec exec;
  const int B = sh.B, D = sh.D, K = sh.K, L = sh.piece, pieces = sh.T / sh.piece;
  Uniform r{static_cast<std::uint64_t>(D) * 131 + K};
  TenHost h{D, K, {}, {}, {}, {}, {}, {}, {}};
  auto fill = [&](std::vector<double>& v, std::size_t n, double lo, double hi) {
    v.resize(n);
    for (double& e : v) e = r(lo, hi);
  };
  // Weights of unit-variance-preserving scale, magnitudes 0.73 .. 0.98.
  fill(h.w_in, std::size_t(D) * 2 * K, -1.7 / std::sqrt(D), 1.7 / std::sqrt(D));
  fill(h.b_in, 2 * K, -0.1, 0.1);
  fill(h.theta, K, 1.0, 4.0);
  fill(h.omega, K, 0.0, 3.14159);
  fill(h.w_out, std::size_t(2) * K * D, -1.7 / std::sqrt(2 * K), 1.7 / std::sqrt(2 * K));
  fill(h.b_out, D, -0.1, 0.1);
  if (coupled) {
    h.resonance.resize(std::size_t(K) * K);
    for (cplx& z : h.resonance) z = cplx(r(-0.5, 0.5), r(-0.5, 0.5)) / std::sqrt(double(K));
  }
  TenLayerParams<S, Mem> params(exec, D, K, coupled), grads(exec, D, K, coupled);
  upload(params.w_in, h.w_in);
  upload(params.b_in, h.b_in);
  upload(params.theta, h.theta);
  upload(params.omega, h.omega);
  if (coupled) upload(params.resonance, h.resonance);
  upload(params.w_out, h.w_out);
  upload(params.b_out, h.b_out);
  std::vector<typename V::Seq> x, gy;
  std::vector<double> x0;
  for (int p = 0; p < pieces; ++p) {
    std::vector<double> xs, gs;
    fill(xs, std::size_t(B) * L * D, -1.0, 1.0);
    fill(gs, std::size_t(B) * L * D, -1.0, 1.0);
    x.emplace_back("x", B, L, D);
    gy.emplace_back("gy", B, L, D);
    upload(x.back(), xs);
    upload(gy.back(), gs);
    if (p == 0) x0 = xs;
  }
  typename V::Seq y("y", B, L, D), gx("gx", B, L, D);
  typename E::State s0("s0", B, K), s1("s1", B, K), gc0("gc0", B, K), none("none", 0, 0);
  TenLayerTape<S, Mem> tape;
  const EigenPlan plan{EigenMethod::kAuto, 0};

  // First piece alone, forward only, against the nested loops.
  Kokkos::deep_copy(s0, typename E::complex_type(0));
  ten_forward(exec, plan, params, x[0], s0, y, s1, tape);
  exec.fence();
  const double err = max_rel_error(download_real(y), ten_reference_piece(h, x0, B, L));

  auto batch = [&] {
    Kokkos::deep_copy(exec, s0, typename E::complex_type(0));
    for (int p = 0; p < pieces; ++p) {
      const auto& c0 = p % 2 == 0 ? s0 : s1;
      const auto& cT = p % 2 == 0 ? s1 : s0;
      ten_forward(exec, plan, params, x[p], c0, y, cT, tape);
      ten_backward(exec, plan, params, x[p], c0, tape, gy[p], none, gx, gc0, grads);
    }
  };
  // The seed's shape takes seconds per batch here: its warm-up is one piece, not a whole batch.
  const bool heavy = 2.0 * B * sh.T * double(D) * 2 * K > 1e9;
  double sec;
  if (heavy) {
    ten_forward(exec, plan, params, x[0], s0, y, s1, tape);
    ten_backward(exec, plan, params, x[0], s0, tape, gy[0], none, gx, gc0, grads);
    exec.fence();
    const double t0 = now();
    batch();
    exec.fence();
    sec = now() - t0;
  } else {
    sec = time_call(budget, batch);
  }

  RegionClock::totals().clear();
  Kokkos::Tools::Experimental::set_push_region_callback(RegionClock::push);
  Kokkos::Tools::Experimental::set_pop_region_callback(RegionClock::pop);
  const double t0 = now();
  batch();
  Kokkos::fence();
  const double profiled = now() - t0;
  Kokkos::Tools::Experimental::set_push_region_callback(nullptr);
  Kokkos::Tools::Experimental::set_pop_region_callback(nullptr);
  double rec = 0.0, gemm = 0.0;
  for (const auto& [name, t] : RegionClock::totals()) {
    if (name.rfind("frost::recurrence::ten_recurrence", 0) == 0)
      rec += t;
    else if (name.rfind("frost::recurrence::ten_", 0) == 0)
      gemm += t;
  }
  const double rows = double(B) * sh.T;
  // Two real GEMMs forward and four backward of 2 rows D 2K flops; the coupling is one complex
  // GEMM forward and two backward of 8 rows K^2 flops.
  const double flops = 6.0 * 2.0 * rows * D * 2 * K + (coupled ? 3.0 * 8.0 * rows * K * K : 0.0);
  std::printf(
      "%-10s %5d %4d %3d %5d %5d %4s %7s %11.3e %11.0f %8.2f %5.1f%% %5.1f%% %5.1f%% %9.1e\n",
      "ten_layer", D, K, B, sh.T, L, prec, coupled ? "yes" : "no", sec, rows / sec,
      flops / sec / 1e9, 100.0 * rec / profiled, 100.0 * gemm / profiled,
      100.0 * std::max(0.0, profiled - rec - gemm) / profiled, err);
  std::fflush(stdout);
}

/// The delta-rule states at the seed's DeltaNet shape, every method, f32.
void bench_delta(double budget) {
  using S = float;
  using DV = DeltaViews<S, Mem>;
  const Exec exec;
  const bool host = Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible;
  const int G = host ? 16 : 64, T = host ? 1024 : 2048, n = 32, m = 32;
  frost::core::RandomStream rs(5, 0, 0);
  std::vector<double> c(std::size_t(G) * T * n), u(c.size()), w(std::size_t(G) * T * m),
      b(std::size_t(G) * T);
  for (std::size_t i = 0; i < c.size() / n; ++i) {
    double nrm = 0.0;
    for (int k = 0; k < n; ++k) {
      c[i * n + k] = 2.0 * rs.uniform() - 1.0;
      nrm += c[i * n + k] * c[i * n + k];
    }
    for (int k = 0; k < n; ++k) {
      c[i * n + k] /= std::sqrt(nrm);
      u[i * n + k] = c[i * n + k];
    }
    b[i] = 0.05 + 0.9 * rs.uniform();
    for (int j = 0; j < m; ++j) w[i * m + j] = b[i] * (2.0 * rs.uniform() - 1.0);
  }
  // Reference states by the rank-one loop in double (every state kept, in the kernels' layout).
  std::vector<double> ref(std::size_t(G) * T * n * m), X(n * m);
  for (int g = 0; g < G; ++g) {
    std::fill(X.begin(), X.end(), 0.0);
    for (int t = 0; t < T; ++t) {
      const std::size_t o = std::size_t(g) * T + t;
      for (int j = 0; j < m; ++j) {
        double dot = 0.0;
        for (int i = 0; i < n; ++i) dot += c[o * n + i] * X[i * m + j];
        for (int i = 0; i < n; ++i)
          X[i * m + j] += -b[o] * dot * c[o * n + i] + u[o * n + i] * w[o * m + j];
      }
      std::copy(X.begin(), X.end(), ref.begin() + o * n * m);
    }
  }
  typename DV::Vecs dc("c", G, T, n), du("u", G, T, n), dw("w", G, T, m);
  typename DV::Scalars db("b", G, T);
  typename DV::States dX("X", G, T, n, m);
  auto put = [](const auto& view, const std::vector<double>& h) {
    auto mirror = Kokkos::create_mirror_view(view);
    for (std::size_t i = 0; i < h.size(); ++i) mirror.data()[i] = S(h[i]);
    Kokkos::deep_copy(view, mirror);
  };
  put(dc, c);
  put(du, u);
  put(dw, w);
  put(db, b);
  DeltaWorkspace<S, Mem> ws;
  const double bytes = sizeof(S) * double(G) * T * (double(n) * m + 2.0 * n + m + 1.0);
  const double bw = frost::core::copy_bandwidth(exec, sizeof(S) * std::size_t(G) * T * n * m);
  const DeltaPlan autoplan = resolve_delta_plan(DeltaMethod::kAuto, 0, G, T, m, exec.concurrency());
  const DeltaPlan plans[] = {{DeltaMethod::kSequential, 1},
                             {DeltaMethod::kChunked, 32},
                             {DeltaMethod::kChunked, 64},
                             {DeltaMethod::kChunked, 128},
                             {DeltaMethod::kCyclicReduction, 1},
                             {DeltaMethod::kHillisSteele, 1},
                             autoplan};
  for (const DeltaPlan& pl : plans) {
    const double sec = time_call(
        budget, [&] { delta_states<Exec, S, Mem>(exec, pl, false, dc, db, du, dw, dX, ws); });
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), dX);
    double err = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      err = std::max(err, std::abs(double(h.data()[i]) - ref[i]));
      scale = std::max(scale, std::abs(ref[i]));
    }
    const std::string name =
        (&pl == &plans[6] ? "auto=" : "") + to_string(pl.method) +
        (pl.method == DeltaMethod::kChunked ? "/" + std::to_string(pl.chunk) : "");
    row("delta", name, "f32", T, n, G, sec, bytes / sec / 1e9,
        delta_flops(pl.method, pl.chunk, G, T, n, m) / sec / 1e9, bytes / bw, err / scale);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  const double budget = argc > 1 ? std::atof(argv[1]) : 2.0;
  const int max_T = argc > 2 ? std::atoi(argv[2]) : 4096;
  std::printf("# frost %s, commit %s, backend %s, concurrency %d\n",
              frost::core::frost_version().c_str(), frost::core::frost_commit().c_str(),
              Exec::name(), Exec().concurrency());
  std::printf("%-10s %-18s %4s %5s %4s %3s %11s %8s %8s %11s %8s %9s\n", "kind", "method", "prec",
              "T", "n|K", "B", "s/call", "GB/s", "GFLOP/s", "floor s", "floor%", "max_rel");
  bench_eigen<float>(budget, "f32");
  bench_eigen<double>(budget, "f64");
  const double dense_cap = argc > 4 ? std::atof(argv[4]) : 2.0;
  bench_dense<double>(budget, max_T, "f64", dense_cap);
  bench_dense<float>(budget, max_T, "f32", dense_cap);
  bench_delta(budget);
  const int ten_shapes = argc > 3 ? std::atoi(argv[3]) : 2;
  if (ten_shapes > 0) {
    std::printf(
        "# TEN layer: forward + backward per batch; rec%%, gemm%%, other%%: share of the "
        "time in the recurrence, in the projections and coupling, elsewhere\n");
    std::printf("%-10s %5s %4s %3s %5s %5s %4s %7s %11s %11s %8s %6s %6s %6s %9s\n", "kind", "D",
                "K", "B", "T", "piece", "prec", "coupled", "s/batch", "tokens/s", "GFLOP/s", "rec%",
                "gemm%", "other%", "max_rel");
    const TenShape small{8, 256, 64, 128, 32};
    for (bool coupled : {false, true}) {
      bench_ten<float>(budget, "f32", small, coupled);
      bench_ten<double>(budget, "f64", small, coupled);
    }
    if (ten_shapes > 1) {
      const TenShape seed{8, 1024, 64, 1024, 128};
      for (bool coupled : {false, true}) bench_ten<float>(budget, "f32", seed, coupled);
    }
  }
  return 0;
}
