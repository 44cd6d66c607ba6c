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

/// Solves J^T lambda = g at the field's linearisation point (call field.eval at the equilibrium
/// first). `lambda` holds the initial guess on entry and the answer on exit. The host copies
/// around each vjp are explicit (Belos works on host vectors).
template <class Mem>
GmresResult adjoint_solve(const typename Mem::execution_space& exec, Field<Mem>& field,
                          const Vec<Mem>& g, const Vec<Mem>& lambda, const GmresOptions& opt) {
  using HostV = Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  const int n = static_cast<int>(field.size());
  Vec<Mem> xin("frost::relax::adjoint_x", n), yout("frost::relax::adjoint_y", n);
  HostOperator op([&](const double* x, double* y) {
    Kokkos::deep_copy(exec, xin, HostV(const_cast<double*>(x), n));
    field.vjp(exec, xin, yout);
    Kokkos::deep_copy(exec, HostV(y, n), yout);
    exec.fence();
  });
  std::vector<double> rhs(n), sol(n);
  Kokkos::deep_copy(exec, HostV(rhs.data(), n), g);
  Kokkos::deep_copy(exec, HostV(sol.data(), n), lambda);
  exec.fence();
  const GmresResult r = gmres_solve(op, rhs, sol, opt);
  Kokkos::deep_copy(exec, lambda, HostV(sol.data(), n));
  exec.fence();
  return r;
}

}  // namespace frost::relax
