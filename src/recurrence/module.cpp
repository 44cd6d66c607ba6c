#include "recurrence/module.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.hpp"
#include "core/floors.hpp"
#include "recurrence/problem.hpp"

namespace frost::recurrence {

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

const std::vector<std::string> kEigenMethods = {"auto", "sequential", "chunked", "tiled"};
const std::vector<std::string> kMethods = {"auto",          "sequential", "chunked",
                                           "hillis_steele", "blelloch",   "cyclic_reduction"};

/// Fastest of `repeats` fenced calls (seconds): the least disturbed measurement of one call.
template <class F>
double time_call(int repeats, F&& f) {
  return core::best_time(Exec(), repeats, f);
}

struct Settings {
  std::string kind, method, precision, direction;
  int T, n, K, B, chunk, repeats;
  double lambda_min, lambda_max, rho;
  bool check;
  std::uint64_t seed;
  std::uint32_t run;

  bool forward() const { return direction != "backward"; }
  bool backward() const { return direction != "forward"; }
};

Settings settings_of(const core::RunContext& ctx) {
  const auto& p = ctx.params;
  Settings s;
  s.kind = p.get_string("kind");
  s.method = p.get_string("method");
  s.precision = p.get_string("precision");
  s.direction = p.get_string("direction");
  s.T = static_cast<int>(p.get_int("T"));
  s.n = static_cast<int>(p.get_int("n"));
  s.K = static_cast<int>(p.get_int("K"));
  s.B = static_cast<int>(p.get_int("batch"));
  s.chunk = static_cast<int>(p.get_int("chunk"));
  s.repeats = static_cast<int>(p.get_int("repeats"));
  const auto& lr = p.get_real_list("eigenstate.lambda_range");
  s.lambda_min = lr[0];
  s.lambda_max = lr[1];
  s.rho = p.get_real("dense.rho");
  s.check = p.get_bool("check");
  s.seed = ctx.seed;
  s.run = static_cast<std::uint32_t>(ctx.run_id);
  return s;
}

/// Sets `<dir>_seconds`, `_bytes`, `_gbs`, `_gflops`, `_floor_seconds`, `_floor_fraction`.
void report_timing(core::RunResult& res, const std::string& dir, double seconds, double bytes,
                   double flops, double bandwidth) {
  const double floor = bytes / bandwidth;
  res.set(dir + "_seconds", core::Value::of_real(seconds));
  res.set(dir + "_bytes", core::Value::of_real(bytes));
  res.set(dir + "_gbs", core::Value::of_real(bytes / seconds / 1e9));
  res.set(dir + "_gflops", core::Value::of_real(flops / seconds / 1e9));
  res.set(dir + "_floor_seconds", core::Value::of_real(floor));
  res.set(dir + "_floor_fraction", core::Value::of_real(floor / seconds));
}

template <class S>
void run_eigen(core::RunContext& ctx, const Settings& s) {
  using V = EigenViews<S, Mem>;
  auto& res = ctx.result;
  const Exec exec;
  const EigenPlan plan =
      resolve_eigen_plan_on(exec, parse_eigen_method(s.method), s.chunk, s.B, s.T, s.K);
  res.set("method", core::Value::of_string(to_string(plan.method)));
  res.set("chunk", core::Value::of_int(plan.chunk));
  ctx.progress.update(0.0, "inputs");
  const EigenProblem p =
      make_eigen_problem(s.B, s.T, s.K, s.lambda_min, s.lambda_max, s.seed, s.run);
  typename V::Param lambda("lambda", s.K), omega("omega", s.K);
  typename V::State c0("c0", s.B, s.K), cT("cT", s.B, s.K);
  typename V::Seq beta("beta", s.B, s.T, s.K), c("c", s.B, s.T, s.K);
  upload(lambda, p.lambda);
  upload(omega, p.omega);
  upload(c0, p.c0);
  upload(beta, p.beta);

  // Streamed bytes a forward call cannot avoid: read beta, write c (complex S each).
  const double seq_bytes = 2.0 * sizeof(S) * s.B * static_cast<double>(s.T) * s.K;
  const double bw = core::copy_bandwidth(exec, static_cast<std::size_t>(seq_bytes / 2));
  res.set("bandwidth_gbs", core::Value::of_real(bw / 1e9));
  // A complex multiply-add is 8 flops; the chunked method scans every step twice.
  const double scans = plan.method == EigenMethod::kChunked && plan.chunk < s.T ? 2.0 : 1.0;
  const double step_flops = 8.0 * s.B * static_cast<double>(s.T) * s.K;

  auto forward = [&] {
    eigen_forward<Exec, S, Mem>(exec, plan.method, plan.chunk, lambda, omega, c0, beta, c, cT);
  };
  forward();
  Kokkos::fence();
  double err = 0.0;
  std::vector<cplx> c_ref, cT_ref;
  if (s.check || s.backward()) eigen_reference_forward(p, c_ref, cT_ref);
  if (s.forward()) {
    ctx.progress.update(0.1, "forward");
    report_timing(res, "forward", time_call(s.repeats, forward), 2.0 * seq_bytes,
                  scans * step_flops, bw);
    if (s.check) {
      const double e = std::max(max_rel_error(download_complex(c), c_ref),
                                max_rel_error(download_complex(cT), cT_ref));
      res.set("forward_max_rel_error", core::Value::of_real(e));
      err = std::max(err, e);
    }
  }
  if (s.backward()) {
    ctx.progress.update(0.5, "backward");
    const auto g_host = make_eigen_upstream(s.B, s.T, s.K, s.seed, s.run);
    typename V::Seq g("g", s.B, s.T, s.K), gbeta("grad_beta", s.B, s.T, s.K);
    typename V::State gc0("grad_c0", s.B, s.K);
    typename V::Param gl("grad_lambda", s.K), gw("grad_omega", s.K);
    upload(g, g_host);
    auto backward = [&] {
      eigen_backward<Exec, S, Mem>(exec, plan.method, plan.chunk, lambda, omega, c0, c, g, gbeta,
                                   gc0, gl, gw);
    };
    // Read g and c, write grad_beta; the adjoint scan and the G_a partial sums.
    report_timing(res, "backward", time_call(s.repeats, backward), 3.0 * seq_bytes,
                  (scans + 1.0) * step_flops, bw);
    if (s.check) {
      std::vector<cplx> rb, rc0;
      std::vector<double> rl, rw;
      eigen_reference_backward(p, c_ref, g_host, rb, rc0, rl, rw);
      const double e = std::max(
          {max_rel_error(download_complex(gbeta), rb), max_rel_error(download_complex(gc0), rc0),
           max_rel_error(download_real(gl), rl), max_rel_error(download_real(gw), rw)});
      res.set("backward_max_rel_error", core::Value::of_real(e));
      err = std::max(err, e);
    }
  }
  if (s.check) res.set("max_rel_error", core::Value::of_real(err));
}

template <class S>
void run_dense(core::RunContext& ctx, const Settings& s) {
  using V = DenseViews<S, Mem>;
  auto& res = ctx.result;
  const Exec exec;
  const DensePlan plan =
      resolve_dense_plan(parse_dense_method(s.method), s.chunk, s.B, s.T, s.n, exec.concurrency());
  res.set("method", core::Value::of_string(to_string(plan.method)));
  res.set("chunk", core::Value::of_int(plan.chunk));
  ctx.progress.update(0.0, "inputs");
  const DenseProblem p = make_dense_problem(s.B, s.T, s.n, s.rho, s.seed, s.run);
  typename V::Mats A("A", s.B, s.T, s.n, s.n);
  typename V::Vecs b("b", s.B, s.T, s.n), h("h", s.B, s.T, s.n);
  typename V::State h0("h0", s.B, s.n), hT("hT", s.B, s.n);
  upload(A, p.A);
  upload(b, p.b);
  upload(h0, p.h0);

  const double mat_bytes = sizeof(S) * s.B * static_cast<double>(s.T) * s.n * s.n;
  const double vec_bytes = sizeof(S) * s.B * static_cast<double>(s.T) * s.n;
  const double bw = core::copy_bandwidth(exec, static_cast<std::size_t>(mat_bytes));
  res.set("bandwidth_gbs", core::Value::of_real(bw / 1e9));
  auto forward = [&] {
    dense_forward<Exec, S, Mem>(exec, plan.method, plan.chunk, A, b, h0, h, hT);
  };
  forward();
  Kokkos::fence();
  double err = 0.0;
  std::vector<double> h_ref, hT_ref;
  if (s.check || s.backward()) dense_reference_forward(p, h_ref, hT_ref);
  const double fwd_flops = dense_flops(plan.method, plan.chunk, s.B, s.T, s.n);
  if (s.forward()) {
    ctx.progress.update(0.1, "forward");
    // Read A and b, write h.
    report_timing(res, "forward", time_call(s.repeats, forward), mat_bytes + 2.0 * vec_bytes,
                  fwd_flops, bw);
    if (s.check) {
      const double e = std::max(max_rel_error(download_real(h), h_ref),
                                max_rel_error(download_real(hT), hT_ref));
      res.set("forward_max_rel_error", core::Value::of_real(e));
      err = std::max(err, e);
    }
  }
  if (s.backward()) {
    ctx.progress.update(0.5, "backward");
    const auto g_host = make_dense_upstream(s.B, s.T, s.n, s.seed, s.run);
    typename V::Vecs g("g", s.B, s.T, s.n), gb("grad_b", s.B, s.T, s.n);
    typename V::Mats gA("grad_A", s.B, s.T, s.n, s.n);
    typename V::State gh0("grad_h0", s.B, s.n);
    upload(g, g_host);
    auto backward = [&] {
      dense_backward<Exec, S, Mem>(exec, plan.method, plan.chunk, A, h0, h, g, gA, gb, gh0);
    };
    // Read A, g and h, write grad_A and grad_b; the adjoint recurrence plus the outer products.
    const double bwd_flops = fwd_flops + static_cast<double>(s.B) * s.T * s.n * s.n;
    report_timing(res, "backward", time_call(s.repeats, backward),
                  2.0 * mat_bytes + 3.0 * vec_bytes, bwd_flops, bw);
    if (s.check) {
      std::vector<double> rA, rb, rh0;
      dense_reference_backward(p, h_ref, g_host, rA, rb, rh0);
      const double e =
          std::max({max_rel_error(download_real(gA), rA), max_rel_error(download_real(gb), rb),
                    max_rel_error(download_real(gh0), rh0)});
      res.set("backward_max_rel_error", core::Value::of_real(e));
      err = std::max(err, e);
    }
  }
  if (s.check) res.set("max_rel_error", core::Value::of_real(err));
}

}  // namespace

void RecurrenceModule::declare(core::ParamRegistry& reg) const {
  reg.add_choice("kind", "eigenstate", {"eigenstate", "dense"},
                 "recurrence: eigenstate (c_k[t] = lambda_k e^{i omega_k} c_k[t-1] + beta_k[t], "
                 "K complex modes) or dense (h_t = A_t h_{t-1} + b_t, n x n matrices)");
  reg.add_choice("method", "auto", kMethods,
                 "eigenstate: sequential | chunked | auto; dense: sequential | hillis_steele | "
                 "blelloch | cyclic_reduction | chunked | auto (auto picks by shape and the "
                 "number of threads the backend runs)");
  reg.add_choice("precision", "f64", {"f32", "f64"}, "floating-point precision of the kernels");
  reg.add_choice("direction", "forward", {"forward", "backward", "both"},
                 "which pass to time and check (backward: gradients from random upstream "
                 "gradients, after one forward call)");
  reg.add_int("T", 1024, "sequence length (any length, not only powers of two)")
      .min(1)
      .max(1 << 24);
  reg.add_int("K", 128, "eigenstate modes").min(1).max(1 << 20);
  reg.add_int("n", 32, "dense state dimension (A_t is n x n)").min(1).max(1024);
  reg.add_int("batch", 4, "independent sequences per call").min(1).max(1 << 20);
  reg.add_int("chunk", 0, "chunk length of the chunked methods (0: chosen by shape)")
      .min(0)
      .max(1 << 24);
  reg.add_int("repeats", 5, "timed calls per direction (the fastest is reported)")
      .min(1)
      .max(100000);
  reg.add_bool("check", true,
               "compare with the double-precision sequential loop on the host (max_rel_error)");
  reg.add_real_list("eigenstate.lambda_range", {0.9, 0.999},
                    "[min, max] of the uniformly drawn mode magnitudes lambda_k")
      .min(0.0)
      .max(1.0);
  reg.add_real("dense.rho", 0.9,
               "approximate spectral norm of the random A_t (entries uniform, scaled by rho / "
               "(2 sqrt(n/3)))")
      .min(0.0)
      .max(10.0);
}

void RecurrenceModule::check(const core::ParamSet& p, const std::string& file) const {
  auto fail = [&](const std::string& key, const std::string& what) {
    throw core::InputError(file + ": recurrence." + key + ": " + what);
  };
  const std::string kind = p.get_string("kind"), method = p.get_string("method");
  if (kind == "eigenstate" &&
      std::find(kEigenMethods.begin(), kEigenMethods.end(), method) == kEigenMethods.end())
    fail("method",
         "'" + method + "' is a dense method; eigenstate allows auto, sequential, chunked, tiled");
  const auto& lr = p.get_real_list("eigenstate.lambda_range");
  if (lr.size() != 2 || lr[0] > lr[1])
    fail("eigenstate.lambda_range", "must be [min, max], min <= max");
  const double bytes_per = p.get_string("precision") == "f32" ? 4.0 : 8.0;
  const double B = static_cast<double>(p.get_int("batch")), T = static_cast<double>(p.get_int("T"));
  // The largest single array a run allocates (plus work copies of the same size).
  const double biggest = kind == "dense" ? B * T * std::pow(double(p.get_int("n")), 2) * bytes_per
                                         : B * T * double(p.get_int("K")) * 2 * bytes_per;
  if (biggest > 16.0 * (1ull << 30))
    fail(kind == "dense" ? "n" : "K",
         "one array of batch x T x " + std::string(kind == "dense" ? "n^2" : "K") +
             " would take more than 16 GiB; reduce batch, T or the state size");
}

void RecurrenceModule::run(core::RunContext& ctx) const {
  const Settings s = settings_of(ctx);
  auto& res = ctx.result;
  res.set("kind", core::Value::of_string(s.kind));
  res.set("precision", core::Value::of_string(s.precision));
  res.set("T", core::Value::of_int(s.T));
  res.set(s.kind == "dense" ? "n" : "K", core::Value::of_int(s.kind == "dense" ? s.n : s.K));
  res.set("batch", core::Value::of_int(s.B));
  if (s.kind == "eigenstate")
    s.precision == "f32" ? run_eigen<float>(ctx, s) : run_eigen<double>(ctx, s);
  else
    s.precision == "f32" ? run_dense<float>(ctx, s) : run_dense<double>(ctx, s);
  ctx.progress.update(1.0, "done");
}

std::string RecurrenceModule::report(const std::vector<core::RunResult>& runs) const {
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "%4s %-10s %-16s %4s %6s %5s %5s %11s %9s %9s %7s %9s\n", "run",
                "kind", "method", "prec", "T", "n|K", "batch", "fwd s/call", "GB/s", "GFLOP/s",
                "floor%", "max_rel");
  o << line;
  for (const auto& r : runs) {
    if (!r.ok) {
      o << "run " << r.id << " failed: " << r.error << "\n";
      continue;
    }
    auto str = [&](const char* k) {
      const core::Value* v = r.find(k);
      return v ? v->to_yaml() : std::string("-");
    };
    auto num = [&](const char* k) { return r.number(k, -1.0); };
    const bool fwd = r.find("forward_seconds") != nullptr;
    const std::string d = fwd ? "forward" : "backward";
    std::snprintf(line, sizeof line,
                  "%4d %-10s %-16s %4s %6.0f %5.0f %5.0f %11.3e %9.2f %9.2f %6.1f%% %9.2e\n", r.id,
                  str("kind").c_str(), str("method").c_str(), str("precision").c_str(), num("T"),
                  r.find("n") ? num("n") : num("K"), num("batch"), num((d + "_seconds").c_str()),
                  num((d + "_gbs").c_str()), num((d + "_gflops").c_str()),
                  100.0 * num((d + "_floor_fraction").c_str()), num("max_rel_error"));
    o << line;
  }
  return o.str();
}

}  // namespace frost::recurrence
