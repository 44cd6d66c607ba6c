// The Hutchinson Jacobian penalty (jacreg): ||A||_F^2 = E ||A e||^2 over Rademacher probes e
// (entries +-1, so E[e e^T] = I), for A = J or the learned part J_nc of the transformer field's
// Jacobian (TransformerField::nc_jvp). The penalty of training is the seed's
//   P = mean over K probes of ||J_nc e||^2 / ||e||^2  (an estimate of ||J_nc||_F^2 / N),
// taken at a fixed equilibrium z (z is not differentiated, as in the seed), with its parameter
// gradient
//   dP/dtheta = (1 / (K N)) sum_k 2 d/dtheta <w_k, J_nc(theta) e_k>,   w_k = J_nc e_k held fixed.
// Since <w, J_nc e> = d/dt <w, F(z + t e)> at t = 0 and the leak and rotation do not depend on
// theta, d/dtheta <w, J_nc e> = d/dt (dF/dtheta (z + t e))^T w: a central difference in z of the
// existing parameter VJP, O(h^2) accurate, no second derivatives written by hand. An adaptive
// controller moves the penalty's weight towards keeping P at a target (the seed's homeostat).
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "relax/transformer.hpp"
#include "relax/vec_ops.hpp"

namespace frost::relax {

/// Probe `k` of a Rademacher family keyed by (seed, run, chain): e_i = +-1, element i from the
/// Philox block at counter (k << 40) + 4 i of the stream, so every backend draws the same signs.
template <class Exec, class V>
void rademacher(const Exec& exec, std::uint64_t seed, std::uint32_t run, std::uint32_t chain,
                std::uint64_t k, const V& e) {
  Kokkos::parallel_for(
      "frost::relax::rademacher", Kokkos::RangePolicy<Exec>(exec, 0, e.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        core::RandomStream rs(seed, run, chain, (k << 40) + 4 * std::uint64_t(i));
        e(i) = (rs.next_u32() & 1u) ? 1.0 : -1.0;
      });
}

/// A Hutchinson estimate: the mean of ||A e_k||^2 over the probes and its standard error (the
/// sample standard deviation over sqrt(K); 0 for one probe).
struct HutchinsonEstimate {
  double mean = 0.0, std_error = 0.0;
  int probes = 0;
};

/// Estimates ||A||_F^2 for the n x n operator applied by `apply(e, out)` (out = A e) from probes
/// first .. first + K - 1 of the family (seed, run, chain).
template <class Mem, class Apply>
HutchinsonEstimate hutchinson_frobenius(const typename Mem::execution_space& exec, std::size_t n,
                                        int probes, std::uint64_t seed, std::uint32_t run,
                                        std::uint32_t chain, std::uint64_t first, Apply&& apply) {
  Vec<Mem> e("frost::relax::probe", n), ae("frost::relax::probe_image", n);
  std::vector<double> s(probes);
  for (int k = 0; k < probes; ++k) {
    rademacher(exec, seed, run, chain, first + std::uint64_t(k), e);
    apply(e, ae);
    s[k] = dot(exec, ae, ae);
  }
  HutchinsonEstimate r;
  r.probes = probes;
  for (double v : s) r.mean += v / probes;
  if (probes > 1) {
    double var = 0.0;
    for (double v : s) var += (v - r.mean) * (v - r.mean) / (probes - 1);
    r.std_error = std::sqrt(var / probes);
  }
  return r;
}

/// `train.jacreg.*`: the penalty weight * P added to the training objective and its controller.
struct JacregOptions {
  double weight = 0.0;      ///< starting weight of P (0: no penalty)
  int probes = 1;           ///< Rademacher probes per step
  double target = 0.0;      ///< controller's target for P (0: fixed weight)
  double adapt = 1.05;      ///< weight factor per step: * above the target, / at or below it
  double weight_min = 0.0;  ///< bounds of the adapted weight
  double weight_max = 1e3;
};

/// The seed's homeostat: the weight grows by `adapt` while the estimate is above the target and
/// shrinks by it otherwise, within [weight_min, weight_max]; unchanged without a target.
inline double jacreg_controller(double weight, double estimate, const JacregOptions& o) {
  if (!(o.target > 0.0) || !std::isfinite(estimate)) return weight;
  const double w = estimate > o.target ? weight * o.adapt : weight / o.adapt;
  return std::clamp(w, o.weight_min, o.weight_max);
}

/// P = (1 / (K N)) sum_k ||J_nc e_k||^2 at z (returned, with its standard error in `std_error`
/// when given) over probes first .. first + K - 1 of (seed, run, chain), and, when g is
/// allocated, g = dP/dtheta at fixed z (laid out like field.params()). The central differences
/// in z step h = 1e-5 max(1, rms z) along each probe. Leaves the field linearised at z.
template <class Mem>
double jacreg_penalty(const typename Mem::execution_space& exec, TransformerField<Mem>& field,
                      const Vec<Mem>& z, int probes, std::uint64_t seed, std::uint32_t run,
                      std::uint32_t chain, std::uint64_t first, const Vec<Mem>& g,
                      double* std_error = nullptr) {
  using V = Vec<Mem>;
  const std::size_t n = field.size(), np = field.params().extent(0);
  V e("frost::relax::probe", n), w("frost::relax::probe_image", n), f("frost::relax::jacreg_f", n),
      zt("frost::relax::jacreg_z", n);
  V gp, gm;
  const bool grad = g.data() != nullptr;
  if (grad) {
    gp = V("frost::relax::jacreg_gp", np);
    gm = V("frost::relax::jacreg_gm", np);
    Kokkos::deep_copy(exec, g, 0.0);
  }
  const double h = 1e-5 * std::max(1.0, norm2(exec, z) / std::sqrt(double(n)));
  const double scale = 1.0 / (double(probes) * double(n));
  std::vector<double> s(probes);
  for (int k = 0; k < probes; ++k) {
    rademacher(exec, seed, run, chain, first + std::uint64_t(k), e);
    field.eval(exec, z, f);
    field.nc_jvp(exec, e, w);
    s[k] = dot(exec, w, w) / double(n);
    if (!grad) continue;
    add_scaled(exec, z, h, e, zt);
    field.eval(exec, zt, f);
    field.param_vjp(exec, w, gp);
    add_scaled(exec, z, -h, e, zt);
    field.eval(exec, zt, f);
    field.param_vjp(exec, w, gm);
    const double c = scale / h;
    Kokkos::parallel_for(
        "frost::relax::jacreg_grad",
        Kokkos::RangePolicy<typename Mem::execution_space>(exec, 0, np),
        KOKKOS_LAMBDA(const int i) { g(i) += c * (gp(i) - gm(i)); });
  }
  field.eval(exec, z, f);
  double mean = 0.0;
  for (double v : s) mean += v / probes;
  if (std_error) {
    double var = 0.0;
    for (double v : s) var += (v - mean) * (v - mean) / std::max(probes - 1, 1);
    *std_error = probes > 1 ? std::sqrt(var / probes) : 0.0;
  }
  return mean;
}

}  // namespace frost::relax
