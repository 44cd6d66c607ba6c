// Timing of loop-coefficient recovery on square ice: O(n1) peeling against bit-packed GF(2)
// elimination (factorised once per basis, then one solve per sample), next to the operation
// count n1 * beta1^2 of dense Gaussian elimination on the n1 x beta1 loop matrix from scratch
// for every sample.
//
// Usage: bench_alpha_recovery
// Memory: the L = 200 elimination solver holds beta1 (n1 + beta1) bits, about 0.6 GB.
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "asi/alpha_recovery.hpp"
#include "asi/cycle_basis.hpp"
#include "asi/enumerate.hpp"
#include "asi/lattice_generators.hpp"
#include "core/rng.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Row {
  std::string lattice;
  int L = 0;
  int n1 = 0;
  int beta1 = 0;
  std::string method;
  double setup_s = 0.0;
  double per_sample_s = 0.0;
  double seed_ops = 0.0;  // n1 * beta1^2
};

void print(const Row& r) {
  std::printf("%-16s %4d %7d %7d  %-12s %12.4g %14.4g %12.3g\n", r.lattice.c_str(), r.L, r.n1,
              r.beta1, r.method.c_str(), r.setup_s, r.per_sample_s * 1e6, r.seed_ops);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  std::printf("%-16s %4s %7s %7s  %-12s %12s %14s %12s\n", "lattice", "L", "n1", "beta1", "method",
              "setup_s", "per_sample_us", "n1*beta1^2");
  for (const std::string boundary : {"open", "periodic"}) {
    for (const int L : {50, 200}) {
      const auto lattice = frost::asi::make_square(L, boundary);
      const auto basis = frost::asi::build_cycle_basis(lattice);
      const auto sigma = frost::asi::ice_reference_state(lattice);
      const int samples = L <= 50 ? 200 : 20;
      frost::core::RandomStream rng(1, 0, static_cast<std::uint32_t>(L));
      std::vector<std::vector<std::uint8_t>> alphas;
      std::vector<std::vector<std::int8_t>> targets;
      for (int s = 0; s < samples; ++s) {
        std::vector<std::uint8_t> alpha(basis.loop_count());
        for (auto& a : alpha) a = rng.next_u32() & 1u;
        targets.push_back(frost::asi::apply_alpha(basis, sigma, alpha));
        alphas.push_back(std::move(alpha));
      }
      const double n1 = lattice.edge_count();
      const double b = basis.beta1;
      Row base;
      base.lattice = "square_" + boundary;
      base.L = L;
      base.n1 = lattice.edge_count();
      base.beta1 = basis.beta1;
      base.seed_ops = n1 * b * b;

      Row peel = base;
      peel.method = "peeling";
      auto start = Clock::now();
      const frost::asi::AlphaPeeler peeler(lattice, basis);
      peel.setup_s = seconds_since(start);
      start = Clock::now();
      for (int s = 0; s < samples; ++s) {
        if (peeler.recover(sigma, targets[s]) != alphas[s]) {
          std::fprintf(stderr, "peeling recovered a wrong alpha\n");
          return 1;
        }
      }
      peel.per_sample_s = seconds_since(start) / samples;
      print(peel);

      Row elim = base;
      elim.method = "elimination";
      start = Clock::now();
      const frost::asi::AlphaEliminator eliminator(basis);
      elim.setup_s = seconds_since(start);
      const int solve_samples = std::min(samples, 50);
      start = Clock::now();
      for (int s = 0; s < solve_samples; ++s) {
        if (eliminator.recover(sigma, targets[s]) != alphas[s]) {
          std::fprintf(stderr, "elimination recovered a wrong alpha\n");
          return 1;
        }
      }
      elim.per_sample_s = seconds_since(start) / solve_samples;
      print(elim);
    }
  }
  std::printf(
      "\nsetup_s: one-off cost per basis (elimination: factorisation, which is also the cost of\n"
      "eliminating from scratch for a single sample); per_sample_us: one recovery given the\n"
      "prepared structure; n1*beta1^2: operations of dense elimination from scratch per sample.\n");
  return 0;
}
