// Observables of spin-ice Monte Carlo: autocorrelation analysis (Sokal's automatic windowing),
// exact sets of visited states, the magnetic structure factor, and uniformity tests against an
// enumerated charge sector.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "asi/lattice.hpp"
#include "asi/loop_sampler.hpp"

namespace frost::asi {

/// Statistics of one observable over `chains` independent chains.
struct SeriesStats {
  double mean = 0.0;
  double variance = 0.0;  ///< variance of single samples (pooled over chains)
  double tau_int = 0.5;   ///< integrated autocorrelation time in samples
  int window = 0;         ///< Sokal window M
  double ess = 0.0;       ///< effective sample size, N_total / (2 tau_int)
  double error = 0.0;     ///< standard error of the mean, sqrt(variance / ess)
  /// True when no chain's series varies (spread within the tolerance of series_stats): the
  /// autocorrelation is undefined, tau_int is reported as 1/2 and ess as the sample count.
  bool constant = false;
};

/// Integrated autocorrelation time with Sokal's automatic windowing: the normalised
/// autocorrelation rho(t) is averaged over chains (each chain centred on its own mean),
/// tau(M) = 1/2 + sum_{t=1}^{M} rho(t), and the window is the smallest M with M >= c tau(M)
/// (c = 5 by default; Sokal, "Monte Carlo methods in statistical mechanics", 1996). With this
/// convention an AR(1) series x_{t+1} = rho x_t + noise has tau_int = (1 + rho) / (2 (1 - rho)),
/// and the variance of a mean of N samples is 2 tau_int var / N. `data` is row-major
/// [sample][chain].
/// A chain whose values all lie within `tolerance` of each other is constant (a negative
/// tolerance means 1e-12 max(1, max |x|)); rounding in sums that produce such values would
/// otherwise leave a tiny variance whose normalised autocorrelation is 1 at every lag and drives
/// tau_int to the window limit. When every chain is constant the result has constant = true,
/// tau_int = 1/2 and ess = N (no information is lost to correlation).
SeriesStats series_stats(const std::vector<double>& data, int samples, int chains, double c = 5.0,
                         double tolerance = -1.0);

/// 64-bit hash of a configuration: XOR of per-island keys over islands with sigma = +1, so a
/// flip updates it with one XOR.
std::uint64_t island_key(int e);
std::uint64_t state_hash(const std::int8_t* spins, int n1);

/// An exact set of 64-bit state hashes with bounded memory (open addressing, at most half full).
/// When the table is full further new hashes are not stored and `saturated` is set: the count is
/// then a lower bound.
class HashSet {
 public:
  explicit HashSet(std::size_t capacity = 1024);
  /// Inserts h; true when it was new.
  bool insert(std::uint64_t h);
  bool contains(std::uint64_t h) const;
  std::size_t size() const { return size_; }
  bool saturated() const { return saturated_; }
  /// Raw table for checkpoints.
  const std::vector<std::uint64_t>& table() const { return table_; }
  void restore(std::vector<std::uint64_t> table, std::size_t size, bool saturated);

 private:
  std::vector<std::uint64_t> table_;  ///< 0 = empty; hash 0 is stored as 1
  std::size_t size_ = 0;
  bool saturated_ = false;
};

/// Sorted state hashes (state_hash) of every state of the charge sector of the ice state
/// `start`, enumerated by for_each_state_in_sector (enumerate.hpp). Empty when the cycle space
/// has more than `max_basis` loops (2^beta1 Gray-code steps) or the sector more than
/// `max_states` states.
std::vector<std::uint64_t> sector_state_hashes(const Lattice& lattice,
                                               const std::vector<std::int8_t>& start,
                                               std::size_t max_states, int max_basis = 26);

/// Comparison of visit counts with the uniform distribution over K states.
struct UniformityTest {
  double kl = 0.0;       ///< KL(empirical || uniform) in nats
  double chi2 = 0.0;     ///< Pearson chi-square
  double dof = 0.0;      ///< K - 1
  double p_value = 1.0;  ///< upper tail probability of chi2 with dof degrees of freedom
};
UniformityTest uniformity_test(const std::vector<double>& counts);

/// Regularised upper incomplete gamma function Q(a, x).
double gamma_q(double a, double x);

/// Magnetic structure factor S_perp(q) = (1/n1) |sum_e sigma_e m_perp,e exp(i q.r_e)|^2,
/// m_perp the island axis with its component along q removed (the neutron-scattering
/// projection, which shows the pinch points of the ice phase), averaged over accumulated
/// configurations on a points x points grid of q in [-qmax, qmax]^2 (1 / lattice constant).
///
/// Evaluation: exp(i q.r) = exp(i q_u u) exp(i q_w w) separates in the two coordinates. The
/// islands are grouped into lines of equal w (w the axis with fewer distinct island
/// coordinates, normally y: the rows of the lattice); per line P(q_u) = sum sigma a exp(i q_u u)
/// costs points * (islands of the line), and M(q_u, q_w) = sum_lines P(q_u) exp(i q_w w_line)
/// costs points^2 per line. The phase factors of the distinct u and w values are tabulated once
/// (the islands do not move), within a memory cap beyond which they are evaluated on the fly.
/// Coordinates equal to within 1e-13 relative (rounding in the lattice generators) share one
/// line / table entry. A configuration costs O(points n1 + points^2 lines) multiply-adds and
/// no transcendental functions, against O(points^2 n1) sines and cosines evaluated directly.
class StructureFactor {
 public:
  StructureFactor() = default;
  /// `max_table` caps the entries of each of the four phase tables (cos and sin of the inner
  /// and outer coordinates); a table that would be larger is not built and its factors are
  /// evaluated on the fly.
  StructureFactor(const Lattice& lattice, int points, double qmax,
                  std::size_t max_table = std::size_t{1} << 22);
  int points() const { return points_; }
  /// Adds one configuration (n1 spins +-1).
  void accumulate(const std::int8_t* spins);
  long count() const { return count_; }
  /// Mean S(q), row-major [iy][ix] (qy then qx).
  std::vector<double> mean() const;
  /// Grid coordinate i in 1 / lattice constant (the same grid on both axes).
  double q(int i) const;
  /// PNG of log(1 + S) with `scale` pixels per grid point, qy increasing upwards.
  std::string png(int scale) const;
  std::vector<double>& sum() { return sum_; }
  void set_count(long c) { count_ = c; }
  /// Number of lines (distinct outer coordinates) the islands are grouped into.
  int lines() const { return static_cast<int>(line_w_.size()); }

 private:
  int points_ = 0;
  double qmax_ = 0.0;
  bool outer_is_y_ = true;  ///< lines of constant y (else of constant x)
  /// Islands sorted by line: island id, index of its inner coordinate, axis components.
  std::vector<int> island_, inner_index_;
  std::vector<double> ax_, ay_;
  std::vector<int> line_begin_;  ///< lines + 1 offsets into the sorted islands
  std::vector<double> inner_u_;  ///< distinct inner coordinates
  std::vector<double> line_w_;   ///< outer coordinate of each line
  std::vector<double> qs_;       ///< grid coordinates q(i)
  /// cos / sin tables [index][i] of q(i) u and q(i) w; empty when over the memory cap.
  std::vector<double> inner_cos_, inner_sin_, outer_cos_, outer_sin_;
  std::vector<double> sum_;
  long count_ = 0;
};

}  // namespace frost::asi
