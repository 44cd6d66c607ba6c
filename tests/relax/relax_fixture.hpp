// What the relax tests share: random vectors keyed by (seed, chain), cosine and relative error of
// two vectors, the small transformer field and cross-entropy readout of the EP tests, and tight
// solver options.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

#include "core/rng.hpp"
#include "relax/field.hpp"
#include "relax/readout.hpp"
#include "relax/solvers.hpp"
#include "relax/transformer.hpp"
#include "relax/vec_ops.hpp"

namespace frost::relax::test {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
using V = Vec<Mem>;

/// n values uniform in [-scale, scale) from the stream (seed, 0, chain).
inline V random_vec(int n, std::uint64_t seed, std::uint32_t chain, double scale = 1.0) {
  V v("v", n);
  auto h = Kokkos::create_mirror_view(v);
  core::RandomStream rs(seed, 0, chain);
  for (int i = 0; i < n; ++i) h(i) = scale * (2.0 * rs.uniform() - 1.0);
  Kokkos::deep_copy(v, h);
  return v;
}

inline double cosine(const V& a, const V& b) {
  const Exec exec;
  return dot(exec, a, b) / (norm2(exec, a) * norm2(exec, b));
}

/// |a - b| / |b|.
inline double rel_err(const V& a, const V& b) {
  const Exec exec;
  V d("d", a.extent(0));
  add_scaled(exec, a, -1.0, b, d);
  return norm2(exec, d) / norm2(exec, b);
}

/// B = 1, T = 4, C = 8, two heads: small enough for finite differences over every parameter.
inline TransformerSpec small_spec(std::uint64_t seed) {
  TransformerSpec s;
  s.B = 1;
  s.T = 4;
  s.C = 8;
  s.heads = 2;
  s.c = 1.0;
  s.init_scale = 1.0;
  s.seed = seed;
  return s;
}

/// Random readout weights from (seed, 0, chain) and targets below `vocab` from
/// (seed, target_run, chain).
inline void setup_readout(CrossEntropyReadout<Mem>& ro, std::uint64_t seed,
                          std::uint32_t target_run, std::uint32_t chain, int vocab) {
  ro.init(1.5, seed, 0, chain);
  auto hy = Kokkos::create_mirror_view(ro.targets());
  core::RandomStream rs(seed, target_run, chain);
  for (std::size_t r = 0; r < hy.extent(0); ++r) hy(r) = static_cast<int>(rs.below(vocab));
  Kokkos::deep_copy(ro.targets(), hy);
}

/// Converged to rounding: residual 1e-13, GMRES 1e-12.
inline SolverOptions tight(const char* method) {
  SolverOptions o;
  o.method = method;
  o.tol = 1e-13;
  o.max_iters = 20000;
  o.eps = 0.2;
  o.belos.tol = 1e-12;
  return o;
}

}  // namespace frost::relax::test
