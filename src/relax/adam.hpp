// Adam (Kingma & Ba) on flat parameter vectors, and the weight-norm cap: blocks of a parameter
// vector (weight matrices) projected back onto a ball of `cap` times their initial Frobenius norm.
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "relax/vec_ops.hpp"

namespace frost::relax {

struct AdamOptions {
  double lr = 3e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

/// Moment estimates of one flat parameter vector; `t` counts the steps taken (1-based in the bias
/// corrections).
template <class Mem>
struct Adam {
  using Exec = typename Mem::execution_space;
  Vec<Mem> m, v;
  long t = 0;

  Adam() = default;
  explicit Adam(std::size_t n, const std::string& name = "frost::relax::adam")
      : m(name + "_m", n), v(name + "_v", n) {}

  /// params -= lr * mhat / (sqrt(vhat) + eps).
  void step(const Exec& exec, const Vec<Mem>& params, const Vec<Mem>& grad, const AdamOptions& o) {
    ++t;
    const double c1 = 1.0 - std::pow(o.beta1, double(t)), c2 = 1.0 - std::pow(o.beta2, double(t));
    const double b1 = o.beta1, b2 = o.beta2, lr = o.lr, eps = o.eps;
    const auto M = m, Vv = v;
    Kokkos::parallel_for(
        "frost::relax::adam", Kokkos::RangePolicy<Exec>(exec, 0, params.extent(0)),
        KOKKOS_LAMBDA(const int i) {
          const double g = grad(i);
          M(i) = b1 * M(i) + (1.0 - b1) * g;
          Vv(i) = b2 * Vv(i) + (1.0 - b2) * g * g;
          params(i) -= lr * (M(i) / c1) / (Kokkos::Experimental::sqrt(Vv(i) / c2) + eps);
        });
  }
};

/// A contiguous block [offset, offset + size) of a flat parameter vector whose Frobenius norm is
/// capped at `cap` times `initial` (its norm when the cap was set up).
struct NormCapBlock {
  std::size_t offset = 0, size = 0;
  double initial = 0.0;
};

/// Records the initial norms of `blocks` in `params`.
template <class Mem>
void norm_cap_init(const typename Mem::execution_space& exec, const Vec<Mem>& params,
                   std::vector<NormCapBlock>& blocks) {
  for (auto& b : blocks) {
    const auto sub = Kokkos::subview(params, std::make_pair(b.offset, b.offset + b.size));
    b.initial = norm2(exec, sub);
  }
}

/// Scales each block whose norm exceeds cap * initial back onto that sphere. Returns how many
/// blocks were scaled.
template <class Mem>
int norm_cap_apply(const typename Mem::execution_space& exec, const Vec<Mem>& params,
                   const std::vector<NormCapBlock>& blocks, double cap) {
  int scaled = 0;
  for (const auto& b : blocks) {
    const auto sub = Kokkos::subview(params, std::make_pair(b.offset, b.offset + b.size));
    const double n = norm2(exec, sub), limit = cap * b.initial;
    if (n > limit && n > 0.0) {
      const double f = limit / n;
      Kokkos::parallel_for(
          "frost::relax::norm_cap",
          Kokkos::RangePolicy<typename Mem::execution_space>(exec, 0, b.size),
          KOKKOS_LAMBDA(const int i) { sub(i) *= f; });
      ++scaled;
    }
  }
  return scaled;
}

}  // namespace frost::relax
