// Implicit differentiation at an equilibrium: the adjoint system J^T lambda = g solved by Belos
// GMRES with J^T applied matrix-free (vjp). For the transformer field dF/dx = I, so the gradient
// of a loss L(z*(x)) with respect to the input is dL/dx = -J^{-T} dL/dz; this is the reference
// that equilibrium-propagation estimates are to be compared with.
#pragma once

#include <Kokkos_Core.hpp>
#include <vector>

#include "relax/belos_adapter.hpp"
#include "relax/field.hpp"
#include "relax/vec_ops.hpp"

namespace frost::relax {

namespace detail {

/// GMRES on J^T x = g (`transpose`, applied through vjp) or J x = g (through jvp) at the field's
/// linearisation point. `x` holds the initial guess on entry and the answer on exit. The host
/// copies around each product are explicit (Belos works on host vectors).
template <class Mem>
GmresResult linearised_solve(const typename Mem::execution_space& exec, Field<Mem>& field,
                             bool transpose, const Vec<Mem>& g, const Vec<Mem>& x,
                             const GmresOptions& opt) {
  using HostV = Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  const int n = static_cast<int>(field.size());
  Vec<Mem> xin("frost::relax::linearised_x", n), yout("frost::relax::linearised_y", n);
  HostOperator op([&](const double* in, double* out) {
    Kokkos::deep_copy(exec, xin, HostV(const_cast<double*>(in), n));
    if (transpose)
      field.vjp(exec, xin, yout);
    else
      field.jvp(exec, xin, yout);
    Kokkos::deep_copy(exec, HostV(out, n), yout);
    exec.fence();
  });
  std::vector<double> rhs(n), sol(n);
  Kokkos::deep_copy(exec, HostV(rhs.data(), n), g);
  Kokkos::deep_copy(exec, HostV(sol.data(), n), x);
  exec.fence();
  const GmresResult r = gmres_solve(op, rhs, sol, opt);
  Kokkos::deep_copy(exec, x, HostV(sol.data(), n));
  exec.fence();
  return r;
}

}  // namespace detail

/// Solves J^T lambda = g at the field's linearisation point (call field.eval at the equilibrium
/// first). `lambda` holds the initial guess on entry and the answer on exit.
template <class Mem>
GmresResult adjoint_solve(const typename Mem::execution_space& exec, Field<Mem>& field,
                          const Vec<Mem>& g, const Vec<Mem>& lambda, const GmresOptions& opt) {
  return detail::linearised_solve(exec, field, true, g, lambda, opt);
}

/// Solves J u = g at the field's linearisation point: the forward sensitivity, to which
/// equilibrium propagation converges when J is not symmetric. `u` holds the initial guess on
/// entry and the answer on exit.
template <class Mem>
GmresResult forward_solve(const typename Mem::execution_space& exec, Field<Mem>& field,
                          const Vec<Mem>& g, const Vec<Mem>& u, const GmresOptions& opt) {
  return detail::linearised_solve(exec, field, false, g, u, opt);
}

}  // namespace frost::relax
