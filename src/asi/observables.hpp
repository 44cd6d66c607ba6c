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
class StructureFactor {
 public:
  StructureFactor() = default;
  StructureFactor(const Lattice& lattice, int points, double qmax);
  int points() const { return points_; }
  /// Adds one configuration.
  void accumulate(const std::int8_t* spins);
  long count() const { return count_; }
  /// Mean S(q), row-major [iy][ix] (qy then qx).
  std::vector<double> mean() const;
  double q(int i) const;
  /// PNG of log(1 + S) with `scale` pixels per grid point, qy increasing upwards.
  std::string png(int scale) const;
  std::vector<double>& sum() { return sum_; }
  void set_count(long c) { count_ = c; }

 private:
  int points_ = 0;
  double qmax_ = 0.0;
  std::vector<double> x_, y_, ax_, ay_;
  std::vector<double> sum_;
  long count_ = 0;
};

}  // namespace frost::asi
