// Throughput of the recurrence methods on the default Kokkos backend.
//  * eigenstate: B = 8, K = 128, T = 4096, f32 and f64; sequential and chunked. GB/s counts the
//    bytes a call must move (read beta, write c); the floor is that traffic over the bandwidth of
//    a Kokkos copy kernel of the same size measured in this run.
//  * dense: T = 1024 .. 4096, n = 32 and 64, B = 1, f64; every method. GFLOP/s counts the flops
//    the method executes; the floor is the sequential loop's flops over the best GFLOP/s seen for
//    an n x n matrix product here, and the memory floor is reading A and b and writing h at the
//    copy bandwidth (the larger of the two is printed).
// Every result is checked against the double-precision sequential loop (max_rel_error).
// Usage: bench_recurrence [max seconds per case, default 2] [max dense T, default 4096]
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/provenance.hpp"
#include "recurrence/bandwidth.hpp"
#include "recurrence/problem.hpp"

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
}

template <class S>
void bench_eigen(double budget, const char* prec) {
  using V = EigenViews<S, Mem>;
  const int B = 8, K = 128, T = 4096;
  const Exec exec;
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
  const double bw = copy_bandwidth<Exec, S>(exec, static_cast<std::size_t>(B) * T * K * 2);
  const EigenPlan autoplan = resolve_eigen_plan(EigenMethod::kAuto, 0, B, T, K, exec.concurrency());
  const EigenPlan plans[] = {{EigenMethod::kSequential, 1},
                             {EigenMethod::kChunked, 64},
                             {EigenMethod::kChunked, 512},
                             autoplan};
  for (const EigenPlan& pl : plans) {
    const double sec = time_call(budget, [&] {
      eigen_forward<Exec, S, Mem>(exec, pl.method, pl.chunk, lambda, omega, c0, beta, c, cT);
    });
    const double scans = pl.method == EigenMethod::kChunked ? 2.0 : 1.0;
    const std::string name =
        (&pl == &plans[3] ? "auto=" : "") + to_string(pl.method) +
        (pl.method == EigenMethod::kChunked ? "/" + std::to_string(pl.chunk) : "");
    row("eigenstate", name, prec, T, K, B, sec, bytes / sec / 1e9,
        scans * 8.0 * B * T * K / sec / 1e9, bytes / bw, max_rel_error(download_complex(c), ref));
  }
}

/// GFLOP/s of batched team matrix products at size n (the compute roof the dense methods see).
double gemm_rate(int n) {
  using Mats = DenseViews<double, Mem>::Mats;
  const int count = std::max(4, (1 << 24) / (n * n * n));
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

void bench_dense(double budget, int max_T) {
  using V = DenseViews<double, Mem>;
  const Exec exec;
  const int B = 1;
  for (int n : {32, 64}) {
    const double rate = gemm_rate(n);
    std::printf("# n = %d: team gemm %.2f GFLOP/s\n", n, rate / 1e9);
    for (int T = 1024; T <= max_T; T *= 2) {
      const DenseProblem p = make_dense_problem(B, T, n, 0.9, 2, T);
      std::vector<double> ref, refT;
      dense_reference_forward(p, ref, refT);
      V::Mats A("A", B, T, n, n);
      V::Vecs b("b", B, T, n), h("h", B, T, n);
      V::State h0("h0", B, n), hT("hT", B, n);
      upload(A, p.A);
      upload(b, p.b);
      upload(h0, p.h0);
      const double bytes = 8.0 * B * T * (double(n) * n + 2.0 * n);
      const double bw = copy_bandwidth<Exec, double>(exec, static_cast<std::size_t>(B) * T * n * n);
      const double floor_s =
          std::max(bytes / bw, dense_flops(DenseMethod::kSequential, 0, B, T, n) / rate);
      for (DenseMethod m :
           {DenseMethod::kSequential, DenseMethod::kHillisSteele, DenseMethod::kBlelloch,
            DenseMethod::kCyclicReduction, DenseMethod::kChunked}) {
        const DensePlan pl = resolve_dense_plan(m, 0, B, T, n, exec.concurrency());
        const double sec = time_call(budget, [&] {
          dense_forward<Exec, double, Mem>(exec, pl.method, pl.chunk, A, b, h0, h, hT);
        });
        const std::string name =
            to_string(m) + (m == DenseMethod::kChunked ? "/" + std::to_string(pl.chunk) : "");
        row("dense", name, "f64", T, n, B, sec, bytes / sec / 1e9,
            dense_flops(pl.method, pl.chunk, B, T, n) / sec / 1e9, floor_s,
            max_rel_error(download_real(h), ref));
      }
    }
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
  bench_dense(budget, max_T);
  return 0;
}
