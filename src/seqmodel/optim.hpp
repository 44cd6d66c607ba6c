// Training pieces of the sequence models on one flat parameter vector: initialisation from
// counter-based streams, the global gradient norm, AdamW (decoupled weight decay) with
// gradient-norm clipping, and the learning-rate schedule (linear warm-up, cosine decay).
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "seqmodel/ten_lm.hpp"

namespace frost::seqmodel {

/// How the parameters start. Streams: block i of the layout draws from (seed, run, kInitChain + i).
struct InitOptions {
  double embed_std = 1.0;                       ///< embedding entries
  double lambda_min = 0.5, lambda_max = 0.995;  ///< mode magnitudes, uniform
  std::uint64_t seed = 1;
  std::uint32_t run = 0;
};

inline constexpr std::uint32_t kInitChain = 1000;

/// The initial parameters on the host (double), laid out by `lay`: embedding uniform with std
/// embed_std; norm gains 1; W_in uniform with std 1/sqrt(D) (beta of unit scale); lambda uniform in
/// [lambda_min, lambda_max] (theta = logit lambda); omega uniform in [0, pi); resonance 0 (the
/// coupling starts as the identity); W_out uniform with std 0.2/sqrt(2K) (the states grow like
/// 1/sqrt(1 - lambda^2)); head uniform with std 0.1/sqrt(D) (logits near 0: the untrained loss is
/// near ln 256); biases 0.
inline std::vector<double> initial_params(const TenLmShape& s, const TenLmLayout& lay,
                                          const InitOptions& o) {
  std::vector<double> x(lay.total, 0.0);
  const double r3 = std::sqrt(3.0), pi = 3.14159265358979323846;
  for (std::size_t i = 0; i < lay.blocks.size(); ++i) {
    const ParamBlock& b = lay.blocks[i];
    core::RandomStream rs(o.seed, o.run, kInitChain + static_cast<std::uint32_t>(i));
    auto uniform_std = [&](double sd) {
      for (std::size_t k = 0; k < b.size; ++k)
        x[b.offset + k] = sd * r3 * (2.0 * rs.uniform() - 1.0);
    };
    const std::string& n = b.name;
    auto ends_with = [&](const char* suffix) {
      const std::string t(suffix);
      return n.size() >= t.size() && n.compare(n.size() - t.size(), t.size(), t) == 0;
    };
    if (n == "embed") {
      uniform_std(o.embed_std);
    } else if (ends_with("norm")) {
      for (std::size_t k = 0; k < b.size; ++k) x[b.offset + k] = 1.0;
    } else if (ends_with("w_in")) {
      uniform_std(1.0 / std::sqrt(double(s.D)));
    } else if (ends_with("theta")) {
      for (std::size_t k = 0; k < b.size; ++k) {
        const double l = o.lambda_min + (o.lambda_max - o.lambda_min) * rs.uniform();
        x[b.offset + k] = std::log(l / (1.0 - l));
      }
    } else if (ends_with("omega")) {
      for (std::size_t k = 0; k < b.size; ++k) x[b.offset + k] = pi * rs.uniform();
    } else if (ends_with("w_out")) {
      uniform_std(0.2 / std::sqrt(2.0 * s.K));
    } else if (n == "head_w") {
      uniform_std(0.1 / std::sqrt(double(s.D)));
    }
  }
  return x;
}

/// Copies host doubles into a device vector of scalar S.
template <class S, class Mem>
void upload(const std::vector<double>& h, const Kokkos::View<S*, Mem>& d) {
  auto m = Kokkos::create_mirror_view(d);
  for (std::size_t i = 0; i < h.size(); ++i) m(i) = static_cast<S>(h[i]);
  Kokkos::deep_copy(d, m);
}
template <class S, class Mem>
std::vector<double> download(const Kokkos::View<S*, Mem>& d) {
  auto m = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), d);
  std::vector<double> h(d.extent(0));
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<double>(m(i));
  return h;
}

/// Euclidean norm of a flat vector: partial sums (double) over fixed blocks on the device, added
/// on the host in order, so the result does not depend on the thread count.
template <class Exec, class S, class Mem>
double global_norm(const Exec& exec, const Kokkos::View<S*, Mem>& g) {
  const std::size_t n = g.extent(0), L = 2048, nb = (n + L - 1) / L;
  Kokkos::View<double*, Mem> part(Kokkos::view_alloc(exec, Kokkos::WithoutInitializing,
                                                     std::string("frost::seqmodel::norm_partial")),
                                  nb);
  Kokkos::parallel_for(
      "frost::seqmodel::norm_partial", Kokkos::RangePolicy<Exec>(exec, 0, nb),
      KOKKOS_LAMBDA(std::size_t j) {
        const std::size_t i0 = j * L, i1 = i0 + L < n ? i0 + L : n;
        double s = 0.0;
        for (std::size_t i = i0; i < i1; ++i) s += double(g(i)) * double(g(i));
        part(j) = s;
      });
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), part);
  double s = 0.0;
  for (std::size_t j = 0; j < nb; ++j) s += h(j);
  return std::sqrt(s);
}

/// AdamW settings.
struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.99, eps = 1e-8, weight_decay = 0.01;
};

/// AdamW (Loshchilov & Hutter) on a flat vector: moments m, v; `decay` (0 or 1 per element) marks
/// the entries weight decay applies to. `t` counts the steps taken.
template <class S, class Mem>
struct AdamW {
  Kokkos::View<S*, Mem> m, v, decay;
  long t = 0;

  AdamW() = default;
  /// `Layout`: a model layout with `total` and named `blocks` (TenLmLayout, DeltaLmLayout).
  template <class Layout>
  explicit AdamW(const Layout& lay)
      : m("frost::seqmodel::adam_m", lay.total),
        v("frost::seqmodel::adam_v", lay.total),
        decay("frost::seqmodel::adam_decay_mask", lay.total) {
    auto h = Kokkos::create_mirror_view(decay);
    for (const auto& b : lay.blocks)
      for (std::size_t k = 0; k < b.size; ++k) h(b.offset + k) = b.decay ? S(1) : S(0);
    Kokkos::deep_copy(decay, h);
  }

  /// One step with learning rate `lr` on gradients scaled by `grad_scale` (the clipping factor):
  /// p -= lr (mhat / (sqrt(vhat) + eps) + weight_decay decay p).
  template <class Exec>
  void step(const Exec& exec, const Kokkos::View<S*, Mem>& p, const Kokkos::View<S*, Mem>& g,
            double lr, double grad_scale, const AdamWOptions& o) {
    ++t;
    const S c1 = S(1.0 - std::pow(o.beta1, double(t))), c2 = S(1.0 - std::pow(o.beta2, double(t)));
    const S b1 = S(o.beta1), b2 = S(o.beta2), eps = S(o.eps), wd = S(o.weight_decay), a = S(lr),
            gs = S(grad_scale);
    const auto M = m, Vv = v, dm = decay;
    Kokkos::parallel_for(
        "frost::seqmodel::adamw", Kokkos::RangePolicy<Exec>(exec, 0, p.extent(0)),
        KOKKOS_LAMBDA(std::size_t i) {
          const S gi = g(i) * gs;
          M(i) = b1 * M(i) + (S(1) - b1) * gi;
          Vv(i) = b2 * Vv(i) + (S(1) - b2) * gi * gi;
          const S upd = (M(i) / c1) / (Kokkos::Experimental::sqrt(Vv(i) / c2) + eps);
          p(i) -= a * (upd + wd * dm(i) * p(i));
        });
  }
};

/// Learning rate of step `step` (0-based) of `steps`: linear warm-up from lr / warmup to lr over
/// the first `warmup` steps, then cosine decay from lr to lr_min at the last step.
inline double learning_rate(long step, long steps, long warmup, double lr, double lr_min) {
  if (step < warmup) return lr * double(step + 1) / double(warmup);
  const long span = steps - warmup - 1;
  const double q = span > 0 ? double(step - warmup) / double(span) : 1.0;
  return lr_min + 0.5 * (lr - lr_min) * (1.0 + std::cos(3.14159265358979323846 * q));
}

}  // namespace frost::seqmodel
