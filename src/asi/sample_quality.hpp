// Sample quality of a trained sampler at any lattice size, against loop Monte Carlo: importance
// weights towards the uniform target, diversity (distinct states, pairwise Hamming distances)
// and per-state observables with standard errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "asi/lattice.hpp"
#include "asi/loop_sampler.hpp"

namespace frost::asi {

/// Self-normalised importance weights w_i = p(x_i) / q(x_i) towards the uniform target p = 1
/// (unnormalised), i.e. w_i = exp(-ln q_i), evaluated with log-sum-exp so that ln q of several
/// hundred nats neither overflows nor underflows.
struct ImportanceStats {
  double ess = 0.0;           ///< (sum w)^2 / sum w^2, in [1, N]
  double ess_fraction = 0.0;  ///< ess / N
  /// ln of the mean weight, ln((1/N) sum w): an unbiased-in-w estimate of ln(number of states
  /// in the support), i.e. of the entropy of the uniform target.
  double log_mean_weight = 0.0;
};
/// NaN fields when `log_q` is empty or holds a non-finite value.
ImportanceStats importance_stats(const std::vector<double>& log_q);

/// Mean normalised Hamming distance (differing islands / n1) over pairs of the `count` states
/// stored row-major in `states` (count x n1). All count (count - 1) / 2 pairs when that is at
/// most `max_pairs`; otherwise the fixed subset of pairs (i, (i + k) mod count) for
/// k = 1 .. K, K = max(1, floor(max_pairs / count)) capped at floor((count - 1) / 2), so every
/// unordered pair is used at most once and every state in the same number of pairs. NaN when
/// count < 2.
double mean_pair_hamming(const std::vector<std::int8_t>& states, int n1,
                         std::size_t max_pairs = std::size_t{1} << 22);

/// Number of distinct rows of `states` (count x n1), exact.
std::size_t distinct_states(const std::vector<std::int8_t>& states, int n1);

/// Mean and standard error of independent values (sample standard deviation / sqrt(N); 0 when
/// N < 2, NaN when N = 0).
struct MeanError {
  double mean = 0.0;
  double error = 0.0;
};
MeanError mean_error(const std::vector<double>& values);

/// z = (a - b) / sqrt(ea^2 + eb^2); 0 when both errors vanish and the means agree, +-inf when
/// only the errors vanish.
double z_score(double a, double ea, double b, double eb);

/// Cheap per-state observables, host only: magnetisation per island (m_x, m_y), the square
/// vertex-type fractions I..IV (when the lattice has square vertices) and the perpendicular
/// structure factor S_perp(q) (observables.hpp) at q = (pi, pi) and q = (2 pi, pi) (1 / lattice
/// constant).
class StateObservables {
 public:
  explicit StateObservables(const Lattice& lattice);
  const std::vector<std::string>& names() const { return names_; }
  /// Values of names() for one state (n1 spins), appended to `out`.
  void measure(const std::int8_t* spins, std::vector<double>& out) const;

 private:
  SamplerGraph graph_;
  std::vector<double> ax_, ay_, px_, py_;
  std::vector<std::string> names_;
  bool square_ = false;
};

/// Loop Monte Carlo reference (loop_sampler.hpp, uniform ensemble, short_loop moves, the kernels
/// of the sample task) in the charge sector of `start`: `chains` chains, `burn_in` sweeps (loop
/// moves until n1 flips were attempted, then the moves per sweep are fixed from their
/// statistics as in the sample task), then `per_chain` samples every `thin` sweeps. Chain c uses
/// the random stream (seed, run, first_stream + c). Returns the states row-major
/// [sample][chain][island].
std::vector<std::int8_t> loop_mc_states(const Lattice& lattice,
                                        const std::vector<std::int8_t>& start, int chains,
                                        int per_chain, int burn_in, int thin, std::uint64_t seed,
                                        std::uint32_t run, std::uint32_t first_stream = 0);

}  // namespace frost::asi
