// Iterations, F evaluations and time to ||F|| / ||z|| < 1e-6 for each relaxation solver on the
// transformer-block field, on the default Kokkos backend, with the per-iteration floor: the time
// of one F evaluation (fastest of several), one Jv, and the flops of one F evaluation (matrix
// products and attention; the element-wise work is not counted).
// Two fields per size: the plain block (c = 1) and the stiff rotating one of
// inputs/relax/stiff.yaml (c = 3, skew 8), each solved from z0 = x at eps = 0.1 and 0.2.
// Usage: bench_relax [B T C heads ...] (default: 8 128 128 4)
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/floors.hpp"
#include "core/provenance.hpp"
#include "relax/solvers.hpp"
#include "relax/transformer.hpp"

using namespace frost::relax;

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

void bench(const TransformerSpec& s, const char* name, double eps, double fp64_peak) {
  const Exec exec;
  TransformerField<Mem> field(s);
  const std::size_t n = field.size();
  Vec<Mem> z("z", n), f("f", n), jv("jv", n);
  Kokkos::deep_copy(z, field.input());
  const double t_f = frost::core::best_time(exec, 5, [&] { field.eval(exec, z, f); });
  const double t_jv = frost::core::best_time(exec, 5, [&] { field.jvp(exec, z, jv); });
  const double R = double(s.B) * s.T, C = s.C, Hf = C * s.ffn_mult;
  const double flops =
      2.0 * R * C * (4.0 * C + 2.0 * Hf) + 2.0 * s.B * s.heads * s.T * (s.T + 1.0) * (C / s.heads);
  std::printf("# %s B=%d T=%d C=%d heads=%d N=%zu: F %.3e s (%.2f GFLOP/s), Jv %.3e s\n", name, s.B,
              s.T, s.C, s.heads, n, t_f, flops / t_f / 1e9, t_jv);
  const std::string size = "B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) +
                           " C=" + std::to_string(s.C) + " (" + name + ")";
  frost::core::print_row("relax F evaluation f64", size.c_str(), t_f, flops / t_f, "flop/s",
                         fp64_peak, "fp64 fma peak");
  for (const char* m : {"euler", "adaptive", "anderson", "implicit"}) {
    SolverOptions o;
    o.method = m;
    o.eps = eps;
    o.tol = 1e-6;
    o.max_iters = 3000;
    Kokkos::deep_copy(z, field.input());
    const SolveReport r = solve(exec, field, z, o);
    std::printf("%-8s %5.2f %-18s %5s %6d %7ld %7ld %11.3e %9.3f %9.1f\n", name, eps,
                r.method.c_str(), r.diverged ? "div" : (r.converged ? "yes" : "no"), r.iterations,
                r.f_evals, r.jv_evals, r.final_rel, r.seconds,
                r.seconds / (t_f * r.f_evals + t_jv * r.jv_evals));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  std::printf("# frost %s, commit %s, backend %s, concurrency %d\n",
              frost::core::frost_version().c_str(), frost::core::frost_commit().c_str(),
              Exec::name(), Exec().concurrency());
  std::printf("%-8s %5s %-18s %5s %6s %7s %7s %11s %9s %9s\n", "field", "eps", "solver", "conv",
              "iters", "F evals", "Jv", "||F||/||z||", "seconds", "x floor");
  const double fp64_peak = frost::core::fma_rate<Exec, double>(Exec());
  std::printf("# fp64 fma peak of this run: %.3g flop/s\n", fp64_peak);
  std::vector<int> dims = {8, 128, 128, 4};
  if (argc >= 5) dims.clear();
  for (int a = 1; a + 3 < argc; a += 4)
    for (int k = 0; k < 4; ++k) dims.push_back(std::atoi(argv[a + k]));
  for (std::size_t i = 0; i + 3 < dims.size(); i += 4) {
    TransformerSpec s;
    s.B = dims[i];
    s.T = dims[i + 1];
    s.C = dims[i + 2];
    s.heads = dims[i + 3];
    s.seed = 1;
    for (double eps : {0.1, 0.2}) bench(s, "plain", eps, fp64_peak);
    s.c = 3.0;
    s.skew = 8.0;
    s.init_scale = 0.5;
    for (double eps : {0.1, 0.2}) bench(s, "stiff", eps, fp64_peak);
  }
  return 0;
}
