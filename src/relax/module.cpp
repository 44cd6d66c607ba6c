#include "relax/module.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "relax/diagnostics.hpp"
#include "relax/ep_train.hpp"
#include "relax/jacreg.hpp"
#include "relax/solvers.hpp"
#include "relax/transformer.hpp"

namespace frost::relax {

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

TransformerSpec field_spec(const core::ParamSet& p, std::uint64_t seed) {
  TransformerSpec s;
  s.B = static_cast<int>(p.get_int("field.B"));
  s.T = static_cast<int>(p.get_int("field.T"));
  s.C = static_cast<int>(p.get_int("field.C"));
  s.heads = static_cast<int>(p.get_int("field.heads"));
  s.ffn_mult = static_cast<int>(p.get_int("field.ffn_mult"));
  s.c = p.get_real("field.c");
  s.skew = p.get_real("field.skew");
  s.init_scale = p.get_real("field.init_scale");
  s.input_scale = p.get_real("field.input_scale");
  s.gelu = p.get_string("field.activation") == "gelu";
  s.seed = seed;
  // Keyed by the deck's seed and field.draw, not the run id: every run of a sweep over solvers
  // or steps relaxes the same field.
  s.run = static_cast<std::uint32_t>(p.get_int("field.draw"));
  return s;
}

SolverOptions solver_options(const core::ParamSet& p) {
  SolverOptions o;
  o.method = p.get_string("solver");
  o.tol = p.get_real("tol");
  o.max_iters = static_cast<int>(p.get_int("max_iters"));
  o.eps = p.get_real("eps");
  o.diverge = p.get_real("diverge");
  o.adaptive.eps_min = p.get_real("adaptive.eps_min");
  o.adaptive.eps_max = p.get_real("adaptive.eps_max");
  o.adaptive.grow = p.get_real("adaptive.grow");
  o.adaptive.shrink = p.get_real("adaptive.shrink");
  o.adaptive.overshoot_tol = p.get_real("adaptive.overshoot_tol");
  o.adaptive.fallback = p.get_string("adaptive.fallback");
  o.anderson.m = static_cast<int>(p.get_int("anderson.m"));
  o.anderson.beta = p.get_real("anderson.beta");
  o.anderson.ridge = p.get_real("anderson.ridge");
  o.anderson.restart = static_cast<int>(p.get_int("anderson.restart"));
  o.anderson.gating = p.get_string("anderson.base") == "best";
  o.anderson.delay = static_cast<int>(p.get_int("anderson.delay"));
  o.kinsol.orth = p.get_string("kinsol.orth");
  o.implicit.dt0 = p.get_real("implicit.dt0");
  o.implicit.dt_max = p.get_real("implicit.dt_max");
  o.belos.max_iters = static_cast<int>(p.get_int("belos.max_iters"));
  o.belos.tol = p.get_real("belos.tol");
  o.belos.restart = static_cast<int>(p.get_int("belos.restart"));
  return o;
}

}  // namespace

void RelaxModule::declare(core::ParamRegistry& reg) const {
  reg.add_choice("task", "solve", {"solve", "ep_train"},
                 "solve: one equilibrium of the field from z0 = x with diagnostics; ep_train: "
                 "train a character-level model (embedding, the field, a cross-entropy readout) "
                 "by equilibrium propagation with relax.solver for every phase (train.* keys)");
  // The field.
  reg.add_int("field.B", 2, "batch: independent sequences").min(1).max(1 << 16);
  reg.add_int("field.T", 16, "sequence length (causal attention over T positions)")
      .min(1)
      .max(1 << 14);
  reg.add_int("field.C", 32, "width (channels); a multiple of heads").min(1).max(1 << 14);
  reg.add_int("field.heads", 4, "attention heads").min(1).max(1024);
  reg.add_int("field.ffn_mult", 2, "FFN hidden width in units of C").min(1).max(16);
  reg.add_choice("field.activation", "gelu", {"gelu", "tanh"},
                 "FFN activation (gelu: tanh form of GELU)");
  reg.add_real("field.c", 1.0, "extra leak c of F = ... - c z (c = 1: the seed's damping)")
      .min(-1.0)
      .max(1e6);
  reg.add_real("field.skew", 0.0,
               "w of a channel-pair rotation w S z added to F: shifts J's spectrum by +-iw, a "
               "stiff rotating mode of known frequency (0: the plain block)")
      .min(-1e6)
      .max(1e6);
  reg.add_real("field.init_scale", 1.0, "weight std times sqrt(fan_in)").min(0.0).max(1e3);
  reg.add_int("field.draw", 0,
              "which field of the seed's family (parameters and x are keyed by seed and draw, "
              "so runs of a sweep share the field unless draw is swept)")
      .min(0)
      .max(1 << 30);
  reg.add_real("field.input_scale", 1.0, "std of the input x (also the start z0 = x)")
      .min(0.0)
      .max(1e6);
  // The solve.
  reg.add_choice("solver", "anderson", {"euler", "adaptive", "anderson", "implicit", "kinsol"},
                 "root finder for F(z) = 0 from z0 = x (kinsol: SUNDIALS KINSOL's "
                 "Anderson-accelerated fixed point on frost's Anderson map, fed relax.eps, "
                 "anderson.m, anderson.beta, anderson.delay, tol and max_iters; needs a frost "
                 "built with SUNDIALS)");
  reg.add_real("tol", 1e-8, "stop when the force residual ||F(z)|| / ||z|| is below this")
      .min(0.0)
      .max(1.0);
  reg.add_int("max_iters", 5000, "iteration limit (F evaluations for euler, adaptive)")
      .min(1)
      .max(100000000);
  reg.add_real("eps", 0.1, "Euler step eps of z <- z + eps F(z); scale of Anderson's map")
      .min(1e-12)
      .max(1e6);
  reg.add_real("diverge", 1e8, "diverged when ||F|| exceeds this times max(||F(z0)||, 1)")
      .min(1.0)
      .max(1e300);
  reg.add_real("adaptive.eps_min", 1e-3,
               "floor of eps; an overshoot at the floor hands over to adaptive.fallback")
      .min(1e-12)
      .max(1e6);
  reg.add_real("adaptive.eps_max", 1.0, "ceiling of eps").min(1e-12).max(1e6);
  reg.add_real("adaptive.grow", 1.1, "eps factor after an accepted step").min(1.0).max(10.0);
  reg.add_real("adaptive.shrink", 0.5, "eps factor after an overshoot").min(1e-3).max(1.0);
  reg.add_real("adaptive.overshoot_tol", 0.0, "an overshoot is a relative rise of ||F|| above this")
      .min(0.0)
      .max(1e3);
  reg.add_choice("adaptive.fallback", "anderson", {"anderson", "implicit", "none"},
                 "solver taken over from the floor (none: stop unconverged)");
  reg.add_int("anderson.m", 5, "Anderson memory (points besides the base iterate)").min(1).max(64);
  reg.add_real("anderson.beta", 1.0, "Anderson mixing (damping) beta").min(1e-6).max(1.0);
  reg.add_real("anderson.ridge", 1e-10,
               "ridge term of the least squares, relative to the mean diagonal of the Gram")
      .min(0.0)
      .max(1.0);
  reg.add_int("anderson.restart", 10,
              "clear the history after this many iterations without a new best")
      .min(1)
      .max(1000000);
  // A choice, not a bool, so that decks can sweep it (sweeps take lists of numbers and strings).
  reg.add_choice("anderson.base", "best", {"best", "newest"},
                 "best: residual-monotonicity gating (the base iterate, kept and returned, only "
                 "moves to a lower residual); newest: no gating, the newest point is the base and "
                 "the last iterate is returned, as in KINSOL");
  reg.add_int("anderson.delay", 0,
              "plain damped steps before the Anderson history starts (KINSOL's KINSetDelayAA; "
              "also used by solver kinsol)")
      .min(0)
      .max(100000000);
  reg.add_choice("kinsol.orth", "mgs", {"mgs", "icwy", "cgs2", "dcgs2"},
                 "solver kinsol: QR update of the Anderson least squares (KINSetOrthAA)");
  reg.add_real("implicit.dt0", 1.0, "first pseudo-time step of the implicit solver")
      .min(1e-12)
      .max(1e300);
  reg.add_real("implicit.dt_max", 1e12,
               "largest pseudo-time step (large: the steps become Newton steps)")
      .min(1e-12)
      .max(1e300);
  reg.add_int("belos.max_iters", 200, "GMRES iterations per linear solve").min(1).max(100000);
  reg.add_real("belos.tol", 1e-6, "GMRES relative residual (the inexact-Newton forcing term)")
      .min(1e-16)
      .max(1.0);
  reg.add_int("belos.restart", 50, "GMRES Krylov dimension before a restart").min(1).max(10000);
  declare_train_params(reg);
  // Diagnostics.
  reg.add_bool("diag.arnoldi", true, "Ritz values of J at the answer and eps_crit");
  reg.add_int("diag.steps", 60, "Arnoldi steps").min(1).max(1000);
  reg.add_int("diag.hutchinson_probes", 8,
              "Rademacher probes of the Hutchinson estimates of ||J||_F^2 and ||J_nc||_F^2 at the "
              "answer (J_nc: the Jacobian of Attn + FFN alone; jacreg.hpp), reported with their "
              "standard errors (0: none)")
      .min(0)
      .max(100000);
  reg.add_real("diag.tol", 1e-3,
               "Ritz values with a larger relative residual are reported but do not set "
               "eps_crit and max_re_mu")
      .min(0.0)
      .max(1.0);
}

void RelaxModule::check(const core::ParamSet& p, const std::string& file) const {
  auto fail = [&](const std::string& key, const std::string& what) {
    throw core::InputError(file + ": relax." + key + ": " + what);
  };
  if (p.get_int("field.C") % p.get_int("field.heads") != 0)
    fail("field.C", "must be a multiple of relax.field.heads");
  if (p.get_real("field.skew") != 0.0 && p.get_int("field.C") % 2 != 0)
    fail("field.C", "must be even when relax.field.skew is not 0 (channel pairs rotate)");
  // Input error (exit code 2) at check time, before any run starts.
  if (p.get_string("solver") == "kinsol") require_kinsol(kinsol_available(), file);
  if (p.get_real("adaptive.eps_min") > p.get_real("adaptive.eps_max"))
    fail("adaptive.eps_min", "must not exceed relax.adaptive.eps_max");
  const double B = double(p.get_int("field.B")), T = double(p.get_int("field.T"));
  const double H = double(p.get_int("field.heads"));
  if (B * H * T * T * 8.0 > 8.0 * (1ull << 30))
    fail("field.T", "the attention weights B x heads x T^2 would take more than 8 GiB");
  if (p.get_string("task") == "ep_train") check_train(p, file);
}

void RelaxModule::run(core::RunContext& ctx) const {
  const auto& p = ctx.params;
  if (p.get_string("task") == "ep_train") {
    run_train(ctx, field_spec(p, ctx.seed), solver_options(p));
    return;
  }
  auto& res = ctx.result;
  const Exec exec;
  ctx.progress.update(0.0, "field");
  TransformerField<Mem> field(field_spec(p, ctx.seed));
  const SolverOptions opt = solver_options(p);
  Vec<Mem> z("frost::relax::z", field.size());
  Kokkos::deep_copy(exec, z, field.input());
  ctx.progress.update(0.05, opt.method);
  const SolveReport rep = solve(exec, field, z, opt);
  res.set("solver", core::Value::of_string(rep.method));
  res.set("N", core::Value::of_int(static_cast<long long>(field.size())));
  res.set("converged", core::Value::of_bool(rep.converged));
  res.set("diverged", core::Value::of_bool(rep.diverged));
  res.set("iterations", core::Value::of_int(rep.iterations));
  res.set("f_evals", core::Value::of_int(rep.f_evals));
  res.set("jv_evals", core::Value::of_int(rep.jv_evals));
  res.set("gmres_iters", core::Value::of_int(rep.gmres_iters));
  res.set("final_norm", core::Value::of_real(rep.final_norm));
  res.set("final_rel", core::Value::of_real(rep.final_rel));
  res.set("seconds", core::Value::of_real(rep.seconds));
  res.set("handed_over", core::Value::of_bool(rep.handed_over));
  if (std::isfinite(rep.eps_crit_estimate))
    res.set("eps_crit_estimate", core::Value::of_real(rep.eps_crit_estimate));
  auto add = [&](const char* name, const std::vector<double>& v) {
    if (!v.empty()) res.add_f64(name, {v.size()}, v);
  };
  add("force_residual", rep.force_history);
  add("step_residual", rep.step_history);
  add("eps", rep.eps_history);
  const int probes = static_cast<int>(p.get_int("diag.hutchinson_probes"));
  if (probes > 0 && !rep.diverged && std::isfinite(rep.final_norm)) {
    // The solvers leave the field linearised at their answer z; probes keyed like the field.
    const auto draw = static_cast<std::uint32_t>(p.get_int("field.draw"));
    for (const bool nc : {false, true}) {
      const HutchinsonEstimate h =
          hutchinson_frobenius<Mem>(exec, field.size(), probes, ctx.seed, draw, nc ? 0x202 : 0x201,
                                    0, [&](const Vec<Mem>& v, const Vec<Mem>& o) {
                                      if (nc)
                                        field.nc_jvp(exec, v, o);
                                      else
                                        field.jvp(exec, v, o);
                                    });
      res.set(nc ? "jac_nc_frob2" : "jac_frob2", core::Value::of_real(h.mean));
      res.set(nc ? "jac_nc_frob2_se" : "jac_frob2_se", core::Value::of_real(h.std_error));
    }
  }
  if (p.get_bool("diag.arnoldi") && !rep.diverged && std::isfinite(rep.final_norm)) {
    ctx.progress.update(0.9, "arnoldi");
    // The solvers leave the field linearised at their answer z.
    // The start vector is keyed like the field, so runs that reach the same answer report the
    // same spectrum.
    const Spectrum s =
        arnoldi(exec, field, static_cast<int>(p.get_int("diag.steps")), ctx.seed,
                static_cast<std::uint32_t>(p.get_int("field.draw")), p.get_real("diag.tol"));
    std::vector<double> ritz;  // rows: Re mu, Im mu, relative residual
    for (std::size_t i = 0; i < s.ritz.size(); ++i) {
      ritz.push_back(s.ritz[i].real());
      ritz.push_back(s.ritz[i].imag());
      ritz.push_back(s.residual[i]);
    }
    if (!ritz.empty()) res.add_f64("ritz", {s.ritz.size(), 3}, ritz);
    res.set("ritz_converged", core::Value::of_int(s.converged));
    if (s.converged > 0) res.set("max_re_mu", core::Value::of_real(s.max_real));
    if (std::isfinite(s.eps_crit)) {
      res.set("eps_crit", core::Value::of_real(s.eps_crit));
      res.set("critical_re", core::Value::of_real(s.critical.real()));
      res.set("critical_im", core::Value::of_real(s.critical.imag()));
    }
  }
  ctx.progress.update(1.0, "done");
}

namespace {

/// The table of ep_train runs: cross-entropies (nats) against the unigram baseline.
std::string train_report(const std::vector<core::RunResult>& runs) {
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "%4s %-9s %-10s %6s %6s %6s %9s %9s %9s %9s %9s %7s %7s %8s\n",
                "run", "solver", "grad", "eps", "steps", "gated", "ce first", "ce last", "eval 0",
                "eval end", "unigram", "it free", "it nudg", "seconds");
  o << line;
  for (const auto& r : runs) {
    if (!r.ok) {
      o << "run " << r.id << " failed: " << r.error << "\n";
      continue;
    }
    auto num = [&](const char* k) { return r.number(k, std::nan("")); };
    const core::Value* s = r.find("solver");
    const core::Value* est = r.find("estimator");
    std::string grad = est ? est->s : "-";
    const double points = num("holomorphic_points");
    if (points >= 2) grad += "/h" + std::to_string(static_cast<int>(points));
    std::snprintf(
        line, sizeof line,
        "%4d %-9s %-10s %6.3g %6.0f %6.0f %9.4f %9.4f %9.4f %9.4f %9.4f %7.1f %7.1f %8.1f\n", r.id,
        s ? s->s.c_str() : "-", grad.c_str(), num("eps"), num("steps"), num("gated_steps"),
        num("train_ce_first"), num("train_ce_final"), num("eval_ce_first"), num("eval_ce_final"),
        num("unigram_entropy"), num("iters_free_mean"), num("iters_nudged_mean"), num("seconds"));
    o << line;
  }
  o << "(cross-entropies in nats; ce first/last: mean over the first/last tenth of the steps; "
       "unigram: entropy of the training split's bytes; grad: train.estimator, /hN with N "
       "holomorphic points; it nudg: mean per nudged phase)\n";
  return o.str();
}

}  // namespace

std::string RelaxModule::report(const std::vector<core::RunResult>& runs) const {
  for (const auto& r : runs) {
    const core::Value* t = r.find("task");
    if (t && t->s == "ep_train") return train_report(runs);
  }
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "%4s %-18s %5s %7s %8s %8s %11s %9s %10s %10s\n", "run",
                "solver", "conv", "iters", "F evals", "Jv", "||F||/||z||", "seconds", "eps_crit",
                "max Re mu");
  o << line;
  for (const auto& r : runs) {
    if (!r.ok) {
      o << "run " << r.id << " failed: " << r.error << "\n";
      continue;
    }
    auto num = [&](const char* k) { return r.number(k, std::nan("")); };
    const core::Value* s = r.find("solver");
    const core::Value* c = r.find("converged");
    const core::Value* d = r.find("diverged");
    std::snprintf(line, sizeof line, "%4d %-18s %5s %7.0f %8.0f %8.0f %11.3e %9.3f %10.3e %10.3e\n",
                  r.id, s ? s->s.c_str() : "-", d && d->b ? "div" : (c && c->b ? "yes" : "no"),
                  num("iterations"), num("f_evals"), num("jv_evals"), num("final_rel"),
                  num("seconds"), num("eps_crit"), num("max_re_mu"));
    o << line;
  }
  return o.str();
}

}  // namespace frost::relax
