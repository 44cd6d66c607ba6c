#include "asi/transfer_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <utility>

namespace frost::asi {
namespace {

using u128 = unsigned __int128;

// Frontier state layout (bit positions):
//   0 .. L-1 : arrow on the frontier edge of column c. Vertical edges: 1 = pointing down
//              (towards larger row index). Columns without an edge there hold 0.
//   L        : the pending horizontal edge entering the next vertex from the left;
//              1 = pointing right. 0 when there is no such edge.
//   L+1      : (wrap only) the arrow chosen at the start of the row for the wrap-around edge
//              into column 0, kept to check that the row closes consistently.
// With these conventions a vertex receives "in" arrows from a top bit 1, a left bit 1, a down
// bit 0 and a right bit 0.

/// Which edges meet a vertex and which in-degrees the ice rule allows there.
struct VertexRule {
  bool top = true, left = true, down = true, right = true;
  /// allowed[in_index][out_index]: in_index = top_bit | left_bit << 1, out_index = down_bit |
  /// right_bit << 1.
  bool allowed[4][4] = {};
};

VertexRule make_rule(bool top, bool left, bool down, bool right) {
  VertexRule r;
  r.top = top;
  r.left = left;
  r.down = down;
  r.right = right;
  const int degree = int(top) + int(left) + int(down) + int(right);
  for (int in = 0; in < 4; ++in) {
    const int t = in & 1, l = (in >> 1) & 1;
    if ((t && !top) || (l && !left)) continue;  // arrow on a missing edge: dead state
    for (int out = 0; out < 4; ++out) {
      const int d = out & 1, rt = (out >> 1) & 1;
      if ((d && !down) || (rt && !right)) continue;  // missing edges always hold 0
      const int n_in = (top ? t : 0) + (left ? l : 0) + (down ? 1 - d : 0) + (right ? 1 - rt : 0);
      // Minimal charge: 2*in - degree is 0 for even degree and +-1 for odd degree.
      const int charge = 2 * n_in - degree;
      r.allowed[in][out] = (charge >= -1 && charge <= 1);
    }
  }
  return r;
}

// Accumulation with overflow detection: only the 128-bit path can overflow.
inline bool add_to(u128& acc, const u128& x) {
  return __builtin_add_overflow(acc, x, &acc);
}
inline bool add_to(double& acc, const double& x) {
  acc += x;
  return false;
}
inline bool add_to(core::BigUint& acc, const core::BigUint& x) {
  acc += x;
  return false;
}
inline bool is_zero(const u128& x) {
  return x == 0;
}
inline bool is_zero(double x) {
  return x == 0.0;
}
inline bool is_zero(const core::BigUint& x) {
  return x.is_zero();
}

/// Vector over frontier states with the elementary transfer steps applied in place.
template <class T>
class Frontier {
 public:
  Frontier(int L, bool wrap) : L_(L), wrap_(wrap), v_(std::size_t(1) << (L + 2)) {}

  T& operator[](std::size_t state) { return v_[state]; }
  std::vector<T>& values() { return v_; }
  bool overflowed() const { return overflow_; }

  /// Adds vertex c of the current row: consumes the top and left arrows, emits down and right.
  /// Only bits c and L change, so the four states differing in those bits map onto each other
  /// and the update can be done in place group by group.
  void vertex(int c, const VertexRule& rule) {
    const std::size_t bit_c = std::size_t(1) << c, bit_p = std::size_t(1) << L_;
    const std::size_t groups = std::size_t(1) << (wrap_ ? L_ : L_ - 1);
    const std::size_t low_mask = bit_c - 1;
    const int mid_bits = L_ - 1 - c;
    const std::size_t mid_mask = (std::size_t(1) << mid_bits) - 1;
    for (std::size_t g = 0; g < groups; ++g) {
      // Scatter the group index around the two fixed bit positions c and L.
      const std::size_t rest = g >> c;
      const std::size_t base =
          (g & low_mask) | ((rest & mid_mask) << (c + 1)) | ((rest >> mid_bits) << (L_ + 1));
      const std::size_t idx[4] = {base, base | bit_c, base | bit_p, base | bit_c | bit_p};
      if (is_zero(v_[idx[0]]) && is_zero(v_[idx[1]]) && is_zero(v_[idx[2]]) &&
          is_zero(v_[idx[3]])) {
        continue;
      }
      T in[4] = {std::move(v_[idx[0]]), std::move(v_[idx[1]]), std::move(v_[idx[2]]),
                 std::move(v_[idx[3]])};
      for (int out = 0; out < 4; ++out) {
        T acc{};
        for (int i = 0; i < 4; ++i) {
          if (rule.allowed[i][out]) overflow_ |= add_to(acc, in[i]);
        }
        v_[idx[out]] = std::move(acc);
      }
    }
  }

  /// Start of a row with a fixed arrow (0 or 1) on the edge entering column 0 from the left.
  void row_start_fixed(int pending) {
    if (!pending) return;
    const std::size_t bit_p = std::size_t(1) << L_;
    for (std::size_t s = 0; s < bit_p; ++s) std::swap(v_[s], v_[s | bit_p]);
  }

  /// End of a row whose last edge must hold the given arrow; resets the pending bit to 0.
  void row_end_fixed(int pending) {
    const std::size_t bit_p = std::size_t(1) << L_;
    for (std::size_t s = 0; s < bit_p; ++s) {
      if (pending) v_[s] = std::move(v_[s | bit_p]);
      v_[s | bit_p] = T{};
    }
  }

  /// Start of a periodic row: the wrap-around edge may point either way; remember the choice.
  void row_start_wrap() {
    const std::size_t bit_p = std::size_t(1) << L_, bit_h = std::size_t(1) << (L_ + 1);
    for (std::size_t s = 0; s < bit_p; ++s) v_[s | bit_p | bit_h] = v_[s];
  }

  /// End of a periodic row: the edge leaving the last column is the wrap edge chosen at the
  /// start, so only states where both agree survive.
  void row_end_wrap() {
    const std::size_t bit_p = std::size_t(1) << L_, bit_h = std::size_t(1) << (L_ + 1);
    for (std::size_t s = 0; s < bit_p; ++s) {
      overflow_ |= add_to(v_[s], v_[s | bit_p | bit_h]);
      v_[s | bit_p] = T{};
      v_[s | bit_h] = T{};
      v_[s | bit_p | bit_h] = T{};
    }
  }

 private:
  int L_;
  bool wrap_;
  std::vector<T> v_;
  bool overflow_ = false;
};

core::BigUint to_big(const u128& x) {
  return core::BigUint::from_u128(x);
}
core::BigUint to_big(const core::BigUint& x) {
  return x;
}

/// Open lattice: missing boundary edges are encoded by the vertex rules. Returns false on
/// overflow of T.
template <class T>
bool count_open(int L, core::BigUint& result) {
  Frontier<T> f(L, false);
  f[0] = T(1u);
  for (int r = 0; r < L; ++r) {
    for (int c = 0; c < L; ++c) {
      f.vertex(c, make_rule(r > 0, c > 0, r < L - 1, c < L - 1));
    }
  }
  if (f.overflowed()) return false;
  result = to_big(f[0]);
  return true;
}

/// Domain-wall boundary: top arrows point up (out), bottom arrows down (out), left arrows right
/// (in) and right arrows left (in).
template <class T>
bool count_domain_wall(int L, core::BigUint& result) {
  Frontier<T> f(L, false);
  f[0] = T(1u);  // all top boundary arrows point up: bit 0
  const VertexRule rule = make_rule(true, true, true, true);
  for (int r = 0; r < L; ++r) {
    f.row_start_fixed(1);
    for (int c = 0; c < L; ++c) f.vertex(c, rule);
    f.row_end_fixed(0);
  }
  if (f.overflowed()) return false;
  result = to_big(f[(std::size_t(1) << L) - 1]);  // all bottom arrows point down
  return true;
}

/// Symmetry classes of the arrows on the cut between the last and first rows of the torus:
/// cyclic shifts, the left-right mirror and reversal of all arrows map ice states of the torus
/// onto ice states, so states in one class occur equally often. Returns representative ->
/// class size.
std::map<std::uint32_t, std::uint64_t> cut_classes(int L) {
  const std::uint32_t n = std::uint32_t(1) << L, mask = n - 1;
  std::vector<std::uint32_t> canon(n);
  for (std::uint32_t s = 0; s < n; ++s) {
    std::uint32_t best = s;
    for (int flip = 0; flip < 2; ++flip) {
      std::uint32_t m = flip ? (~s & mask) : s;
      for (int mirror = 0; mirror < 2; ++mirror) {
        std::uint32_t x = m;
        if (mirror) {
          x = 0;
          for (int i = 0; i < L; ++i) x |= ((m >> i) & 1u) << (L - 1 - i);
        }
        for (int k = 0; k < L; ++k) {
          x = ((x << 1) | (x >> (L - 1))) & mask;
          best = std::min(best, x);
        }
      }
    }
    canon[s] = best;
  }
  std::map<std::uint32_t, std::uint64_t> classes;
  for (std::uint32_t s = 0; s < n; ++s) ++classes[canon[s]];
  return classes;
}

/// Torus: the trace of the L-th power of the row transfer matrix, one cut state at a time.
template <class T>
bool count_periodic(int L, core::BigUint& result) {
  const VertexRule rule = make_rule(true, true, true, true);
  core::BigUint total;
  for (const auto& [s, multiplicity] : cut_classes(L)) {
    Frontier<T> f(L, true);
    f[s] = T(1u);
    for (int r = 0; r < L; ++r) {
      f.row_start_wrap();
      for (int c = 0; c < L; ++c) f.vertex(c, rule);
      f.row_end_wrap();
    }
    if (f.overflowed()) return false;
    total += to_big(f[s]) * multiplicity;
  }
  result = total;
  return true;
}

template <bool (*Fast)(int, core::BigUint&), bool (*Exact)(int, core::BigUint&)>
core::BigUint count_with_fallback(int L) {
  core::BigUint result;
  if (Fast(L, result)) return result;
  Exact(L, result);
  return result;
}

/// Leading eigenvalue of a nonnegative transfer operator by power iteration. `apply` maps the
/// frontier vector through one period; `start` marks the states of the sector iterated in.
/// Returns ln(Lambda).
template <class Apply>
double log_leading_eigenvalue(int L, const std::vector<std::size_t>& start, Apply apply) {
  Frontier<double> f(L, true);
  for (std::size_t s : start) f[s] = 1.0;
  double norm = static_cast<double>(start.size());
  double log_lambda = 0.0, previous = 0.0;
  int settled = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    apply(f);
    double sum = 0.0;
    for (double x : f.values()) sum += x;
    // The 1-norm ratio converges to the Perron root because the iterates stay nonnegative.
    log_lambda = std::log(sum / norm);
    for (double& x : f.values()) x /= sum;
    norm = 1.0;
    // Several consecutive tiny changes guard against stopping early on a slow transient.
    const bool small =
        std::abs(log_lambda - previous) < 1e-15 * std::max(1.0, std::abs(log_lambda));
    settled = small ? settled + 1 : 0;
    if (iter > 10 && settled >= 3) break;
    previous = log_lambda;
  }
  return log_lambda;
}

double square_strip(int n) {
  if (n < 2 || n % 2 != 0 || n > 22) {
    throw std::invalid_argument("residual_entropy_strip(square): width must be even in [2, 22]");
  }
  // Zero-flux sector: half of the vertical arrows crossing a row cut point down.
  std::vector<std::size_t> start;
  for (std::size_t s = 0; s < (std::size_t(1) << n); ++s) {
    if (__builtin_popcountll(s) == n / 2) start.push_back(s);
  }
  const VertexRule rule = make_rule(true, true, true, true);
  const double log_lambda = log_leading_eigenvalue(n, start, [&](Frontier<double>& f) {
    f.row_start_wrap();
    for (int c = 0; c < n; ++c) f.vertex(c, rule);
    f.row_end_wrap();
  });
  return log_lambda / n;
}

double kagome_strip(int n) {
  if (n < 4 || n % 2 != 0 || n > 22) {
    throw std::invalid_argument("residual_entropy_strip(kagome): width must be even in [4, 22]");
  }
  // Brick-wall honeycomb: vertex (r,c) has a vertical edge below when r+c is even and above
  // when r+c is odd, plus both horizontal neighbours around the cylinder.
  VertexRule rules[2][2];
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 2; ++c) {
      const bool down = (r + c) % 2 == 0;
      rules[r][c] = make_rule(!down, true, down, true);
    }
  }
  // Row 0 receives vertical edges at odd columns; every state there is allowed.
  std::vector<std::size_t> start;
  for (std::size_t s = 0; s < (std::size_t(1) << n); ++s) {
    bool ok = true;
    for (int c = 0; c < n; c += 2) ok = ok && !((s >> c) & 1);
    if (ok) start.push_back(s);
  }
  const double log_lambda = log_leading_eigenvalue(n, start, [&](Frontier<double>& f) {
    for (int r = 0; r < 2; ++r) {
      f.row_start_wrap();
      for (int c = 0; c < n; ++c) f.vertex(c, rules[r][c % 2]);
      f.row_end_wrap();
    }
  });
  return log_lambda / (3.0 * n);
}

/// Value at x = 0 of the polynomial through (xs[i], ys[i]) (Neville's scheme).
double neville_at_zero(std::vector<double> xs, std::vector<double> ys) {
  const std::size_t n = xs.size();
  for (std::size_t m = 1; m < n; ++m) {
    for (std::size_t i = 0; i + m < n; ++i) {
      ys[i] = (xs[i + m] * ys[i] - xs[i] * ys[i + 1]) / (xs[i + m] - xs[i]);
    }
  }
  return ys[0];
}

}  // namespace

EntropyEstimate square_ice_entropy(int max_width) {
  if (max_width < 8) throw std::invalid_argument("square_ice_entropy: max_width must be >= 8");
  EntropyEstimate est;
  est.lattice = "square";
  // Width 2 is skipped: its double edges make it an outlier far from the scaling regime.
  for (int n = 4; n <= max_width; n += 2) {
    est.widths.push_back(n);
    est.entropy.push_back(square_strip(n));
  }
  // Extrapolate in x = 1/n^2 with a polynomial through the last k widths, k <= 5 (higher orders
  // amplify the rounding of the finite-width values without gaining accuracy at these widths).
  auto extrapolate = [&](std::size_t k, std::size_t end) {
    std::vector<double> xs, ys;
    for (std::size_t i = end - k; i < end; ++i) {
      xs.push_back(1.0 / (double(est.widths[i]) * est.widths[i]));
      ys.push_back(est.entropy[i]);
    }
    return neville_at_zero(xs, ys);
  };
  const std::size_t m = est.widths.size();
  const std::size_t k = std::min<std::size_t>(5, m - 1);
  est.entropy_extrapolated = extrapolate(k, m);
  // Spread against one order lower and against the same order one width earlier.
  est.error_estimate = std::max(std::abs(est.entropy_extrapolated - extrapolate(k - 1, m)),
                                std::abs(est.entropy_extrapolated - extrapolate(k, m - 1)));
  est.W = std::exp(est.entropy_extrapolated);
  return est;
}

EntropyEstimate kagome_ice_entropy(int max_width) {
  if (max_width < 8) throw std::invalid_argument("kagome_ice_entropy: max_width must be >= 8");
  EntropyEstimate est;
  est.lattice = "kagome";
  for (int n = 4; n <= max_width; n += 2) {
    est.widths.push_back(n);
    est.entropy.push_back(kagome_strip(n));
  }
  const std::size_t m = est.widths.size();
  est.entropy_extrapolated = est.entropy[m - 1];
  // Corrections fall off exponentially, so the next one is smaller than the last step; the last
  // step is a safe bound once the decay is established.
  est.error_estimate = std::abs(est.entropy[m - 1] - est.entropy[m - 2]);
  est.W = std::exp(est.entropy_extrapolated);
  return est;
}

core::BigUint count_square_ice(int L, const std::string& boundary) {
  if (L < 1 || L > 24) throw std::invalid_argument("count_square_ice: L must be in [1, 24]");
  if (boundary == "open") {
    return count_with_fallback<count_open<u128>, count_open<core::BigUint>>(L);
  }
  if (boundary == "periodic") {
    return count_with_fallback<count_periodic<u128>, count_periodic<core::BigUint>>(L);
  }
  if (boundary == "domain_wall") {
    return count_with_fallback<count_domain_wall<u128>, count_domain_wall<core::BigUint>>(L);
  }
  throw std::invalid_argument("count_square_ice: unknown boundary '" + boundary + "'");
}

double residual_entropy_strip(int width, const std::string& lattice) {
  if (lattice == "square") return square_strip(width);
  if (lattice == "kagome") return kagome_strip(width);
  throw std::invalid_argument("residual_entropy_strip: unknown lattice '" + lattice + "'");
}

}  // namespace frost::asi
