// Solvers of F(z) = 0 for a relaxation field: explicit Euler, an adaptive-step Euler with a
// fail-open floor, Anderson acceleration of the Euler map, and implicit (pseudo-transient
// backward Euler) Newton-Krylov steps with GMRES from Belos; and, for comparison, SUNDIALS
// KINSOL's Anderson-accelerated fixed-point iteration on the same map (kinsol.hpp).
//
// All of them stop on the force residual ||F(z)|| / ||z|| (never on the step residual
// ||z_{k+1} - z_k|| / ||z||, which is eps ||F|| / ||z|| for Euler and would confound small steps
// with convergence); both histories are reported.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "relax/belos_adapter.hpp"
#include "relax/field.hpp"
#include "relax/kinsol.hpp"
#include "relax/vec_ops.hpp"

namespace frost::relax {

/// `relax.adaptive.*`: step control of the adaptive solver (dimensionless step sizes).
struct AdaptiveOptions {
  double eps_min = 1e-3, eps_max = 1.0;
  double grow = 1.1, shrink = 0.5;
  double overshoot_tol = 0.0;  ///< a step overshoots when ||F|| rises by more than this (relative)
  std::string fallback =
      "anderson";  ///< anderson | implicit | none, taken when the floor overshoots
};

/// `relax.anderson.*`: Anderson acceleration of the map z -> z + eps F(z).
struct AndersonOptions {
  int m = 5;             ///< memory (points besides the base iterate)
  double beta = 1.0;     ///< mixing (damping): 1 takes the whole extrapolated residual
  double ridge = 1e-10;  ///< Tikhonov term of the least squares, relative to mean diag of the Gram
  int restart = 10;      ///< clear the history after this many iterations without a new best
  /// Residual-monotonicity gating (deck: anderson.base best): the base (never evicted, returned
  /// at the end) only moves to a point with a lower residual. false (anderson.base newest): the
  /// base is the newest point, the oldest is evicted and the last iterate is returned, as in
  /// KINSOL.
  bool gating = true;
  /// Plain damped steps z + beta eps F(z) before the history starts (KINSOL's delay).
  int delay = 0;
};

/// `relax.implicit.*`: pseudo-transient continuation. Each step solves (I/dt - J) d = F(z) (one
/// Newton iteration of backward Euler with step dt); dt grows by ||F_old|| / ||F_new|| on success
/// (switched evolution relaxation) up to dt_max, where the step becomes Newton's, and shrinks 4x
/// when the residual does not decrease.
struct ImplicitOptions {
  double dt0 = 1.0, dt_max = 1e12;
};

struct SolverOptions {
  std::string method = "anderson";  ///< euler | adaptive | anderson | implicit | kinsol
  double tol = 1e-8;                ///< stop when ||F|| / ||z|| < tol
  int max_iters = 2000;             ///< iterations (F evaluations bound for the explicit ones)
  double eps = 0.1;                 ///< Euler step; also the scale of Anderson's map
  double diverge = 1e8;             ///< diverged when ||F|| > diverge * max(||F(z0)||, 1)
  AdaptiveOptions adaptive;
  AndersonOptions anderson;
  KinsolOptions kinsol;
  ImplicitOptions implicit;
  GmresOptions belos;
};

/// What one solve did. Histories have one entry per iteration (the start included for the force
/// residual); times in seconds.
struct SolveReport {
  std::string method;  ///< the solver, "+fallback" when the adaptive one handed over
  bool converged = false, diverged = false;
  int iterations = 0;
  long f_evals = 0, jv_evals = 0, gmres_iters = 0;
  double final_norm = 0.0, final_rel = 0.0, seconds = 0.0;
  std::vector<double> force_history;  ///< ||F|| / ||z||
  std::vector<double> step_history;   ///< ||z_{k+1} - z_k|| / ||z_{k+1}||
  std::vector<double> eps_history;    ///< Euler/adaptive: eps; anderson: beta eps; implicit: dt
  bool handed_over = false;
  /// Adaptive: eps_crit estimated from the residual growth of rejected steps (NaN when none).
  double eps_crit_estimate = std::numeric_limits<double>::quiet_NaN();
};

namespace detail {

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline bool bad(double x) {
  return !std::isfinite(x);
}

/// Solves the small dense system (A) x = b in place (Gaussian elimination, partial pivoting).
/// Returns false when singular.
inline bool small_solve(std::vector<double> A, std::vector<double>& b, int n) {
  for (int c = 0; c < n; ++c) {
    int p = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(A[r * n + c]) > std::abs(A[p * n + c])) p = r;
    if (!(std::abs(A[p * n + c]) > 0.0)) return false;
    if (p != c) {
      for (int j = 0; j < n; ++j) std::swap(A[c * n + j], A[p * n + j]);
      std::swap(b[c], b[p]);
    }
    for (int r = c + 1; r < n; ++r) {
      const double f = A[r * n + c] / A[c * n + c];
      for (int j = c; j < n; ++j) A[r * n + j] -= f * A[c * n + j];
      b[r] -= f * b[c];
    }
  }
  for (int c = n - 1; c >= 0; --c) {
    for (int j = c + 1; j < n; ++j) b[c] -= A[c * n + j] * b[j];
    b[c] /= A[c * n + c];
  }
  return true;
}

/// Residual bookkeeping shared by the solvers.
template <class Mem>
struct State {
  using Exec = typename Mem::execution_space;
  Field<Mem>& field;
  const SolverOptions& opt;
  SolveReport& rep;
  double f0 = 0.0;

  double eval(const Exec& exec, const Vec<Mem>& z, const Vec<Mem>& f) {
    field.eval(exec, z, f);
    ++rep.f_evals;
    return norm2(exec, f);
  }
  double rel(double nf, double nz) const { return nf / std::max(nz, 1e-300); }
  bool diverged(double nf) const { return bad(nf) || nf > opt.diverge * std::max(f0, 1.0); }
};

template <class Mem>
void euler(const typename Mem::execution_space& exec, State<Mem>& st, const Vec<Mem>& z) {
  using V = Vec<Mem>;
  auto& rep = st.rep;
  const auto& opt = st.opt;
  V f("frost::relax::F", z.extent(0));
  double nf = st.eval(exec, z, f);
  st.f0 = nf;
  double nz = norm2(exec, z);
  rep.force_history.push_back(st.rel(nf, nz));
  for (int it = 0; it < opt.max_iters; ++it) {
    if (st.rel(nf, nz) < opt.tol) {
      rep.converged = true;
      break;
    }
    add_scaled(exec, z, opt.eps, f, z);
    const double nf_old = nf;
    nf = st.eval(exec, z, f);
    nz = norm2(exec, z);
    ++rep.iterations;
    rep.force_history.push_back(st.rel(nf, nz));
    rep.step_history.push_back(opt.eps * nf_old / std::max(nz, 1e-300));
    rep.eps_history.push_back(opt.eps);
    if (st.diverged(nf)) {
      rep.diverged = true;
      break;
    }
  }
  if (!rep.diverged && st.rel(nf, nz) < opt.tol) rep.converged = true;
  rep.final_norm = nf;
  rep.final_rel = st.rel(nf, nz);
}

/// Anderson acceleration in the affine form with the best iterate as base: among the stored
/// points (z_i, f_i = eps F(z_i)), find weights w (sum 1) minimising ||sum w_i f_i||^2 plus a ridge
/// term, and step to sum w_i (z_i + beta f_i). The base only moves to a point with a lower
/// residual (monotone gating); points that did not improve still inform later extrapolations.
/// With gating off, no restarts (restart beyond the budget), ridge 0 and delay d this is the
/// iteration KINSOL's KIN_FP takes on G(z) = z + eps F(z) with maa = m, beta_aa = beta and
/// delay_aa = d (the same affine least squares over the last m + 1 points, solved here by the
/// normal equations and there by an updated QR factorisation).
template <class Mem>
void anderson(const typename Mem::execution_space& exec, State<Mem>& st, const Vec<Mem>& z,
              int budget) {
  using V = Vec<Mem>;
  using M = Kokkos::View<double**, Kokkos::LayoutLeft, Mem>;
  auto& rep = st.rep;
  const auto& opt = st.opt;
  const auto& ao = opt.anderson;
  const int n = static_cast<int>(z.extent(0));
  const int cap = ao.m + 1;
  M Z("frost::relax::anderson_Z", n, cap), Fh("frost::relax::anderson_F", n, cap);
  const double alpha = opt.eps;
  V f("frost::relax::F", n), znew("frost::relax::znew", n);
  auto col = [&](const M& A, int i) { return Kokkos::subview(A, Kokkos::ALL, i); };
  // Slot bookkeeping: `used` slots in insertion order; `base` is the best point's slot.
  std::vector<int> order;
  double nf = st.eval(exec, z, f);
  if (rep.f_evals == 1) st.f0 = nf;
  double nz = norm2(exec, z);
  if (rep.force_history.empty()) rep.force_history.push_back(st.rel(nf, nz));
  Kokkos::deep_copy(exec, col(Z, 0), z);
  Kokkos::deep_copy(exec, col(Fh, 0), f);
  axpby(exec, 0.0, f, alpha, col(Fh, 0));  // scale in place: f_i = eps F(z_i)
  order.push_back(0);
  int base = 0, stall = 0;
  // base_rel: the base's residual (the convergence test); best_rel: the lowest seen (restarts).
  double base_rel = st.rel(nf, nz), best_rel = base_rel;
  for (int it = 0; it < budget; ++it) {
    if (base_rel < opt.tol) {
      rep.converged = true;
      break;
    }
    // The first `delay` steps are plain damped steps from the newest point (see below).
    const bool plain = it < ao.delay;
    // Least squares over the differences f_i - f_base (i != base).
    std::vector<int> others;
    for (int s : order)
      if (s != base) others.push_back(s);
    const int k = static_cast<int>(others.size());
    std::vector<double> gamma(k, 0.0);
    if (k > 0) {
      std::vector<double> G(k * k), rhs(k);
      const auto fb = col(Fh, base);
      for (int i = 0; i < k; ++i) {
        const auto fi = col(Fh, others[i]);
        for (int j = 0; j <= i; ++j) {
          const auto fj = col(Fh, others[j]);
          double s = 0.0;
          Kokkos::parallel_reduce(
              "frost::relax::anderson_gram",
              Kokkos::RangePolicy<typename Mem::execution_space>(exec, 0, n),
              KOKKOS_LAMBDA(const int q, double& acc) { acc += (fi(q) - fb(q)) * (fj(q) - fb(q)); },
              s);
          G[i * k + j] = G[j * k + i] = s;
        }
        double s = 0.0;
        Kokkos::parallel_reduce(
            "frost::relax::anderson_rhs",
            Kokkos::RangePolicy<typename Mem::execution_space>(exec, 0, n),
            KOKKOS_LAMBDA(const int q, double& acc) { acc -= (fi(q) - fb(q)) * fb(q); }, s);
        rhs[i] = s;
      }
      double tr = 0.0;
      for (int i = 0; i < k; ++i) tr += G[i * k + i];
      const double lam = ao.ridge * std::max(tr / k, 1e-300);
      for (int i = 0; i < k; ++i) G[i * k + i] += lam;
      if (small_solve(G, rhs, k) &&
          std::all_of(rhs.begin(), rhs.end(), [](double g) { return std::isfinite(g); }))
        gamma = rhs;
    }
    // Weights over all slots: base gets 1 - sum(gamma).
    Kokkos::View<double*, Kokkos::HostSpace> hw("frost::relax::anderson_w", cap);
    double sg = 0.0;
    for (int i = 0; i < k; ++i) {
      hw(others[i]) = gamma[i];
      sg += gamma[i];
    }
    hw(base) = 1.0 - sg;
    auto dw = Kokkos::create_mirror_view_and_copy(Mem(), hw);
    const double beta = ao.beta;
    const int used = cap;
    Kokkos::parallel_for(
        "frost::relax::anderson_mix",
        Kokkos::RangePolicy<typename Mem::execution_space>(exec, 0, n), KOKKOS_LAMBDA(const int q) {
          double s = 0.0;
          for (int i = 0; i < used; ++i) s += dw(i) * (Z(q, i) + beta * Fh(q, i));
          znew(q) = s;
        });
    nf = st.eval(exec, znew, f);
    nz = norm2(exec, znew);
    ++rep.iterations;
    const double r = st.rel(nf, nz);
    rep.force_history.push_back(r);
    rep.eps_history.push_back(beta * alpha);
    {
      const auto zb = col(Z, base);
      double s = 0.0;
      Kokkos::parallel_reduce(
          "frost::relax::anderson_step",
          Kokkos::RangePolicy<typename Mem::execution_space>(exec, 0, n),
          KOKKOS_LAMBDA(const int q, double& acc) { acc += (znew(q) - zb(q)) * (znew(q) - zb(q)); },
          s);
      rep.step_history.push_back(std::sqrt(s) / std::max(nz, 1e-300));
    }
    if (bad(nf)) {
      // A non-finite point carries no information: restart from the base.
      order.assign(1, base);
      continue;
    }
    // Store the point, evicting the oldest non-base slot when full.
    int slot = -1;
    if (static_cast<int>(order.size()) < cap) {
      for (int s = 0; s < cap; ++s)
        if (std::find(order.begin(), order.end(), s) == order.end()) {
          slot = s;
          break;
        }
    } else {
      for (auto itr = order.begin(); itr != order.end(); ++itr)
        if (*itr != base) {
          slot = *itr;
          order.erase(itr);
          break;
        }
    }
    order.push_back(slot);
    Kokkos::deep_copy(exec, col(Z, slot), znew);
    Kokkos::deep_copy(exec, col(Fh, slot), f);
    axpby(exec, 0.0, f, alpha, col(Fh, slot));
    const bool improved = r < best_rel;
    if (improved) best_rel = r;
    if (plain || !ao.gating || r < base_rel) {
      base = slot;
      base_rel = r;
    }
    // While delayed, the history holds the newest point alone: the next step is a plain one.
    if (plain) order.assign(1, slot);
    if (improved || plain) {
      stall = 0;
    } else if (++stall >= ao.restart) {
      order.assign(1, base);
      stall = 0;
    }
  }
  // Return the best iterate; re-evaluating keeps the field linearised there.
  Kokkos::deep_copy(exec, z, col(Z, base));
  nf = st.eval(exec, z, f);
  nz = norm2(exec, z);
  if (st.rel(nf, nz) < opt.tol) rep.converged = true;
  rep.final_norm = nf;
  rep.final_rel = st.rel(nf, nz);
}

/// SUNDIALS KINSOL's fixed-point iteration with Anderson acceleration (KINSol with KIN_FP) on
/// frost's Anderson map G(z) = z + eps F(z), so that the two solvers see the same problem.
///
/// Deck options, mapped one by one:
///   relax.eps            -> the map G itself (KIN_FP iterates u <- G(u); f_i = G(u_i) - u_i is
///                           frost's eps F(z_i))
///   relax.anderson.m     -> KINSetMAA(m) (m + 1 points in the least squares, as in frost)
///   relax.anderson.beta  -> KINSetDampingAA(beta) (and KINSetDamping(beta) for the first step)
///   relax.anderson.delay -> KINSetDelayAA(delay)
///   relax.kinsol.orth    -> KINSetOrthAA (no frost counterpart: frost solves normal equations)
///   relax.max_iters      -> KINSetNumMaxIters(max_iters + 1): KINSOL counts the evaluation at
///                           z0 as its first iteration, so both solvers try max_iters new points
///   relax.tol            -> frost's own test ||F(z)|| / ||z|| < tol, made in the wrapper of G at
///                           every point KINSOL evaluates; when it holds the wrapper ends KINSol
///                           (a negative return: KIN_SYSFUNC_FAIL, expected). KINSOL's own test on
///                           the step ||u_{k+1} - u_k|| is switched off (fnormtol = DBL_MIN), as
///                           frost never stops on the step residual.
/// frost options with no KINSOL counterpart, ignored here: relax.anderson.ridge (KINSOL's least
/// squares has no regularisation), relax.anderson.restart (KINSOL never clears its history) and
/// relax.anderson.base: best, i.e. gating (KINSOL's base is always the newest point, and it returns
/// the last iterate, not the best). relax.diverge is not used by either Anderson solver; a
/// non-finite F(z) ends the KINSOL solve as diverged (frost's Anderson restarts from its base
/// instead).
///
/// KINSOL runs on host data (the serial N_Vector): every evaluation of G copies z from the host
/// to the field's memory space and G(z) back (one deep_copy each way), so on a GPU the wrapper
/// costs two transfers of N doubles per F evaluation beside the field itself. The histories are
/// recorded by the wrapper: one force residual per evaluated point (z0 included), the step
/// ||z_k - z_{k-1}|| / ||z_k|| and beta eps per iteration.
template <class Mem>
void kinsol(const typename Mem::execution_space& exec, State<Mem>& st, const Vec<Mem>& z) {
  using V = Vec<Mem>;
  using HostU =
      Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  using HostW = Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  auto& rep = st.rep;
  const auto& opt = st.opt;
  require_kinsol(kinsol_available());
  const int n = static_cast<int>(z.extent(0));
  V u("frost::relax::kinsol_u", n), f("frost::relax::F", n);
  std::vector<double> host(n), last(n);
  Kokkos::deep_copy(exec, HostW(host.data(), n), z);
  exec.fence();
  double last_nf = 0.0, last_rel = 0.0;
  bool have_point = false;
  const HostFixedPointMap g = [&](const double* uh, double* gh) -> int {
    Kokkos::deep_copy(exec, u, HostU(uh, n));
    const double nf = st.eval(exec, u, f);
    const double nz = norm2(exec, u);
    const double r = st.rel(nf, nz);
    if (!have_point) {
      st.f0 = nf;
    } else {
      double d = 0.0;
      for (int i = 0; i < n; ++i) d += (uh[i] - last[i]) * (uh[i] - last[i]);
      ++rep.iterations;
      rep.step_history.push_back(std::sqrt(d) / std::max(nz, 1e-300));
      rep.eps_history.push_back(opt.anderson.beta * opt.eps);
    }
    rep.force_history.push_back(r);
    std::copy(uh, uh + n, last.begin());
    have_point = true;
    last_nf = nf;
    last_rel = r;
    if (bad(nf)) {
      rep.diverged = true;
      return -1;
    }
    if (r < opt.tol) return -1;  // frost's stopping test: end KINSOL here
    add_scaled(exec, u, opt.eps, f, u);
    Kokkos::deep_copy(exec, HostW(gh, n), u);
    exec.fence();
    return 0;
  };
  KinsolSettings ks;
  ks.m = opt.anderson.m;
  ks.beta = opt.anderson.beta;
  ks.delay = opt.anderson.delay;
  ks.max_evals = static_cast<long>(opt.max_iters) + 1;
  ks.orth = opt.kinsol.orth;
  kinsol_fixed_point(host.data(), static_cast<std::size_t>(n), g, ks);
  if (!have_point) throw std::runtime_error("relax.solver: kinsol: KINSOL never evaluated F");
  // The answer is the last point G was evaluated at (KINSOL's u on every return here); the field
  // is linearised there already.
  Kokkos::deep_copy(exec, z, HostU(last.data(), n));
  exec.fence();
  rep.converged = !rep.diverged && last_rel < opt.tol;
  rep.final_norm = last_nf;
  rep.final_rel = last_rel;
}

/// Pseudo-transient continuation with Newton-Krylov steps (see ImplicitOptions).
template <class Mem>
void implicit(const typename Mem::execution_space& exec, State<Mem>& st, const Vec<Mem>& z,
              int budget) {
  using V = Vec<Mem>;
  using HostV = Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  auto& rep = st.rep;
  const auto& opt = st.opt;
  const int n = static_cast<int>(z.extent(0));
  V f("frost::relax::F", n), zt("frost::relax::ztrial", n), ft("frost::relax::Ftrial", n);
  V xin("frost::relax::gmres_x", n), yout("frost::relax::gmres_y", n);
  double nf = st.eval(exec, z, f);
  if (rep.f_evals == 1) st.f0 = nf;
  double nz = norm2(exec, z);
  if (rep.force_history.empty()) rep.force_history.push_back(st.rel(nf, nz));
  double dt = opt.implicit.dt0;
  std::vector<double> rhs(n), d(n);
  for (int it = 0; it < budget; ++it) {
    if (st.rel(nf, nz) < opt.tol) {
      rep.converged = true;
      break;
    }
    const double inv_dt = 1.0 / dt;
    // y = x / dt - J x, with explicit copies host -> device -> host around the matrix-free Jv.
    HostOperator op([&](const double* x, double* y) {
      Kokkos::deep_copy(exec, xin, HostV(const_cast<double*>(x), n));
      st.field.jvp(exec, xin, yout);
      ++rep.jv_evals;
      axpby(exec, inv_dt, xin, -1.0, yout);
      Kokkos::deep_copy(exec, HostV(y, n), yout);
      exec.fence();
    });
    Kokkos::deep_copy(exec, HostV(rhs.data(), n), f);
    exec.fence();
    std::fill(d.begin(), d.end(), 0.0);
    const GmresResult g = gmres_solve(op, rhs, d, opt.belos);
    rep.gmres_iters += g.iterations;
    Kokkos::deep_copy(exec, zt, HostV(d.data(), n));
    const double nd = norm2(exec, zt);
    add_scaled(exec, z, 1.0, zt, zt);
    const double nft = st.eval(exec, zt, ft);
    const double nzt = norm2(exec, zt);
    ++rep.iterations;
    rep.eps_history.push_back(dt);
    if (!bad(nft) && nft < nf) {
      dt = std::min(dt * nf / std::max(nft, 1e-300), opt.implicit.dt_max);
      Kokkos::deep_copy(exec, z, zt);
      Kokkos::deep_copy(exec, f, ft);
      nf = nft;
      nz = nzt;
      rep.step_history.push_back(nd / std::max(nz, 1e-300));
    } else {
      // Rejected: shorter pseudo-time step, and the field is linearised at z again.
      dt *= 0.25;
      nf = st.eval(exec, z, f);
      rep.step_history.push_back(0.0);
    }
    rep.force_history.push_back(st.rel(nf, nz));
  }
  if (st.rel(nf, nz) < opt.tol) rep.converged = true;
  rep.final_norm = nf;
  rep.final_rel = st.rel(nf, nz);
}

/// Adaptive-step Euler: a step that raises the force residual by more than overshoot_tol is
/// rejected and eps shrinks; an accepted step grows eps. At the floor eps_min an overshoot does
/// not silently turn into fixed small steps: the solver estimates eps_crit from the rejected steps
/// and hands over to the fallback solver (or stops, unconverged, when the fallback is none).
template <class Mem>
void adaptive(const typename Mem::execution_space& exec, State<Mem>& st, const Vec<Mem>& z) {
  using V = Vec<Mem>;
  auto& rep = st.rep;
  const auto& opt = st.opt;
  const auto& ad = opt.adaptive;
  const int n = static_cast<int>(z.extent(0));
  V f("frost::relax::F", n), zt("frost::relax::ztrial", n), ft("frost::relax::Ftrial", n);
  double nf = st.eval(exec, z, f);
  st.f0 = nf;
  double nz = norm2(exec, z);
  rep.force_history.push_back(st.rel(nf, nz));
  double eps = std::clamp(opt.eps, ad.eps_min, ad.eps_max);
  // Rejected steps (eps, squared growth) at the current point: for a linear field
  // ||F(z + eps F)||^2 / ||F||^2 = 1 + 2 eps a + eps^2 m exactly, with a = <F, JF>/|F|^2 and
  // m = |JF|^2/|F|^2, so two of them give eps_crit = -2a/m along the direction the residual grows.
  std::vector<std::pair<double, double>> rejected;
  int it = 0;
  bool floor_hit = false;
  for (; it < opt.max_iters; ++it) {
    if (st.rel(nf, nz) < opt.tol) {
      rep.converged = true;
      break;
    }
    add_scaled(exec, z, eps, f, zt);
    const double nft = st.eval(exec, zt, ft);
    const double nzt = norm2(exec, zt);
    ++rep.iterations;
    rep.eps_history.push_back(eps);
    const double g = st.rel(nf, nz), gt = st.rel(nft, nzt);
    // Overshoot is judged on ||F|| itself: ||F|| / ||z|| also moves with ||z||, which a step
    // towards a root near the origin shrinks, and that is no sign of instability.
    if (!(nft <= nf * (1.0 + ad.overshoot_tol))) {
      rejected.emplace_back(eps, bad(nft) ? 1e300 : (nft / nf) * (nft / nf));
      rep.force_history.push_back(g);
      rep.step_history.push_back(0.0);
      if (eps <= ad.eps_min * (1.0 + 1e-12)) {
        floor_hit = true;
        break;
      }
      eps = std::max(eps * ad.shrink, ad.eps_min);
      continue;
    }
    rejected.clear();
    Kokkos::deep_copy(exec, z, zt);
    Kokkos::deep_copy(exec, f, ft);
    rep.step_history.push_back(eps * nf / std::max(nzt, 1e-300));
    nf = nft;
    nz = nzt;
    rep.force_history.push_back(gt);
    eps = std::min(eps * ad.grow, ad.eps_max);
  }
  if (floor_hit) {
    if (rejected.size() >= 2) {
      const auto [e1, r1] = rejected[rejected.size() - 2];
      const auto [e2, r2] = rejected.back();
      const double y1 = (r1 - 1.0) / e1, y2 = (r2 - 1.0) / e2;
      const double m = (y1 - y2) / (e1 - e2), two_a = y1 - m * e1;
      if (m > 0.0 && two_a < 0.0 && std::isfinite(m)) rep.eps_crit_estimate = -two_a / m;
    }
    // Overshoot persisted at the floor: eps_crit is below eps_min when no better estimate exists.
    if (!std::isfinite(rep.eps_crit_estimate)) rep.eps_crit_estimate = ad.eps_min;
    // The field's linearisation point is zt now; the fallbacks evaluate at z first.
    if (ad.fallback != "none") {
      rep.handed_over = true;
      rep.method += "+" + ad.fallback;
      const int left = std::max(opt.max_iters - it, 1);
      if (ad.fallback == "implicit")
        implicit(exec, st, z, left);
      else
        anderson(exec, st, z, left);
      return;
    }
  }
  // The last evaluation may have been a rejected trial point: linearise at the answer again.
  if (!rep.converged) nf = st.eval(exec, z, f);
  if (!rep.converged && st.rel(nf, nz) < opt.tol) rep.converged = true;
  rep.final_norm = nf;
  rep.final_rel = st.rel(nf, nz);
}

}  // namespace detail

/// Solves F(z) = 0 starting from z (overwritten with the solver's answer: the last iterate for
/// euler, adaptive and kinsol, the best one for anderson and implicit). `exec` runs every
/// kernel; kinsol also runs KINSOL on host copies of the state.
template <class Mem>
SolveReport solve(const typename Mem::execution_space& exec, Field<Mem>& field, const Vec<Mem>& z,
                  const SolverOptions& opt) {
  SolveReport rep;
  rep.method = opt.method;
  detail::State<Mem> st{field, opt, rep};
  const double t0 = detail::now();
  if (opt.method == "euler")
    detail::euler(exec, st, z);
  else if (opt.method == "adaptive")
    detail::adaptive(exec, st, z);
  else if (opt.method == "anderson")
    detail::anderson(exec, st, z, opt.max_iters);
  else if (opt.method == "implicit")
    detail::implicit(exec, st, z, opt.max_iters);
  else if (opt.method == "kinsol")
    detail::kinsol(exec, st, z);
  else
    throw std::invalid_argument("relax: unknown solver '" + opt.method + "'");
  exec.fence();
  rep.seconds = detail::now() - t0;
  return rep;
}

}  // namespace frost::relax
