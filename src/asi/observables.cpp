#include "asi/observables.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "asi/cycle_basis.hpp"
#include "asi/enumerate.hpp"
#include "core/png.hpp"

namespace frost::asi {

SeriesStats series_stats(const std::vector<double>& data, int samples, int chains, double c,
                         double tolerance) {
  SeriesStats st;
  const long total = static_cast<long>(samples) * chains;
  if (total == 0) return st;
  std::vector<double> chain_mean(chains, 0.0);
  double mean = 0.0;
  for (int i = 0; i < samples; ++i)
    for (int k = 0; k < chains; ++k)
      chain_mean[k] += data[static_cast<std::size_t>(i) * chains + k];
  for (int k = 0; k < chains; ++k) {
    mean += chain_mean[k];
    chain_mean[k] /= samples;
  }
  mean /= static_cast<double>(total);
  double var = 0.0;
  for (long i = 0; i < total; ++i) var += (data[i] - mean) * (data[i] - mean);
  var = total > 1 ? var / static_cast<double>(total - 1) : 0.0;
  st.mean = mean;
  st.variance = var;
  if (tolerance < 0.0) {
    double scale = 1.0;
    for (long i = 0; i < total; ++i) scale = std::max(scale, std::fabs(data[i]));
    tolerance = 1e-12 * scale;
  }
  st.constant = true;
  for (int k = 0; k < chains && st.constant; ++k) {
    double lo = data[k], hi = data[k];
    for (int i = 1; i < samples; ++i) {
      const double x = data[static_cast<std::size_t>(i) * chains + k];
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    st.constant = hi - lo <= tolerance;
  }
  if (st.constant) {
    st.tau_int = 0.5;
    st.ess = static_cast<double>(total);
    st.error = std::sqrt(var / st.ess);
    return st;
  }
  // autocovariance about each chain's mean, averaged over chains
  auto autocov = [&](int t) {
    double s = 0.0;
    for (int k = 0; k < chains; ++k) {
      for (int i = 0; i + t < samples; ++i) {
        s += (data[static_cast<std::size_t>(i) * chains + k] - chain_mean[k]) *
             (data[static_cast<std::size_t>(i + t) * chains + k] - chain_mean[k]);
      }
    }
    return s / (static_cast<double>(samples) * chains);
  };
  const double c0 = autocov(0);
  double tau = 0.5;
  int window = 0;
  if (c0 > 0.0 && samples > 1) {
    for (int m = 1; m < samples; ++m) {
      tau += autocov(m) / c0;
      window = m;
      if (m >= c * tau) break;
    }
    if (tau < 0.5) tau = 0.5;  // noise can make the sum dip; 1/2 is the uncorrelated floor
  }
  st.tau_int = tau;
  st.window = window;
  st.ess = static_cast<double>(total) / (2.0 * tau);
  st.error = std::sqrt(var / st.ess);
  return st;
}

std::uint64_t island_key(int e) {
  std::uint64_t z = static_cast<std::uint64_t>(e) + 0x9E3779B97F4A7C15ull * 7u;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z;
}

std::uint64_t state_hash(const std::int8_t* spins, int n1) {
  std::uint64_t h = 0;
  for (int e = 0; e < n1; ++e)
    if (spins[e] > 0) h ^= island_key(e);
  return h;
}

HashSet::HashSet(std::size_t capacity) {
  std::size_t cap = 16;
  while (cap < capacity) cap <<= 1;
  table_.assign(cap, 0);
}

bool HashSet::contains(std::uint64_t h) const {
  if (h == 0) h = 1;
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = (h * 0x9E3779B97F4A7C15ull) >> 20 & mask;; i = (i + 1) & mask) {
    if (table_[i] == h) return true;
    if (table_[i] == 0) return false;
  }
}

bool HashSet::insert(std::uint64_t h) {
  if (h == 0) h = 1;
  const std::size_t mask = table_.size() - 1;
  std::size_t i = (h * 0x9E3779B97F4A7C15ull) >> 20 & mask;
  for (; table_[i] != 0; i = (i + 1) & mask) {
    if (table_[i] == h) return false;
  }
  if (2 * (size_ + 1) > table_.size()) {
    saturated_ = true;
    return false;
  }
  table_[i] = h;
  ++size_;
  return true;
}

void HashSet::restore(std::vector<std::uint64_t> table, std::size_t size, bool saturated) {
  table_ = std::move(table);
  size_ = size;
  saturated_ = saturated;
}

std::vector<std::uint64_t> sector_state_hashes(const Lattice& lattice,
                                               const std::vector<std::int8_t>& start,
                                               std::size_t max_states, int max_basis) {
  const CycleBasis basis = build_cycle_basis(lattice);
  if (basis.beta1 > max_basis) return {};
  std::vector<std::uint64_t> out;
  bool overflow = false;
  const int n1 = lattice.edge_count();
  for_each_state_in_sector(basis, start, [&](const std::vector<std::int8_t>& s) {
    if (overflow) return;
    if (out.size() >= max_states) {
      overflow = true;
      return;
    }
    out.push_back(state_hash(s.data(), n1));
  });
  if (overflow) return {};
  std::sort(out.begin(), out.end());
  return out;
}

double gamma_q(double a, double x) {
  if (x <= 0.0) return 1.0;
  const double gln = std::lgamma(a);
  if (x < a + 1.0) {  // series for P
    double sum = 1.0 / a, del = sum, ap = a;
    for (int n = 0; n < 100000; ++n) {
      ap += 1.0;
      del *= x / ap;
      sum += del;
      if (std::fabs(del) < std::fabs(sum) * 1e-15) break;
    }
    return 1.0 - sum * std::exp(-x + a * std::log(x) - gln);
  }
  // continued fraction for Q (modified Lentz)
  double b = x + 1.0 - a, cc = 1.0 / 1e-300, d = 1.0 / b, hh = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < 1e-300) d = 1e-300;
    cc = b + an / cc;
    if (std::fabs(cc) < 1e-300) cc = 1e-300;
    d = 1.0 / d;
    const double del = d * cc;
    hh *= del;
    if (std::fabs(del - 1.0) < 1e-15) break;
  }
  return std::exp(-x + a * std::log(x) - gln) * hh;
}

UniformityTest uniformity_test(const std::vector<double>& counts) {
  UniformityTest t;
  const double K = static_cast<double>(counts.size());
  const double N = std::accumulate(counts.begin(), counts.end(), 0.0);
  if (K < 2 || N <= 0) return t;
  const double expect = N / K;
  for (double c : counts) {
    t.chi2 += (c - expect) * (c - expect) / expect;
    if (c > 0) t.kl += (c / N) * std::log((c / N) * K);
  }
  t.dof = K - 1;
  t.p_value = gamma_q(0.5 * t.dof, 0.5 * t.chi2);
  return t;
}

namespace {

/// Sorted distinct values of `v`, values within 1e-13 relative of the previous kept one merged
/// (the same coordinate computed along different paths of a lattice generator).
std::vector<double> distinct_values(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::vector<double> out;
  for (double x : v) {
    if (out.empty() || x - out.back() > 1e-13 * std::max(1.0, std::fabs(x))) out.push_back(x);
  }
  return out;
}

/// Index of the entry of `table` (from distinct_values) that `x` was merged into.
int value_index(const std::vector<double>& table, double x) {
  auto it = std::upper_bound(table.begin(), table.end(), x);
  if (it == table.begin()) return 0;
  return static_cast<int>(it - table.begin()) - 1;
}

}  // namespace

StructureFactor::StructureFactor(const Lattice& lattice, int points, double qmax,
                                 std::size_t max_table)
    : points_(points), qmax_(qmax) {
  const int n1 = lattice.edge_count();
  std::vector<double> xs(n1), ys(n1);
  for (int e = 0; e < n1; ++e) {
    xs[e] = lattice.island_position[e][0];
    ys[e] = lattice.island_position[e][1];
  }
  const auto dx = distinct_values(xs), dy = distinct_values(ys);
  // the outer sum costs points^2 per line: group along the axis with fewer distinct values
  outer_is_y_ = dy.size() <= dx.size();
  inner_u_ = outer_is_y_ ? dx : dy;
  line_w_ = outer_is_y_ ? dy : dx;
  const auto& us = outer_is_y_ ? xs : ys;
  const auto& ws = outer_is_y_ ? ys : xs;
  std::vector<int> line_of(n1);
  line_begin_.assign(line_w_.size() + 1, 0);
  for (int e = 0; e < n1; ++e) {
    line_of[e] = value_index(line_w_, ws[e]);
    ++line_begin_[line_of[e] + 1];
  }
  for (std::size_t l = 0; l < line_w_.size(); ++l) line_begin_[l + 1] += line_begin_[l];
  island_.assign(n1, 0);
  inner_index_.assign(n1, 0);
  ax_.assign(n1, 0.0);
  ay_.assign(n1, 0.0);
  std::vector<int> fill(line_begin_.begin(), line_begin_.end() - 1);
  for (int e = 0; e < n1; ++e) {
    const int k = fill[line_of[e]]++;
    island_[k] = e;
    inner_index_[k] = value_index(inner_u_, us[e]);
    ax_[k] = lattice.island_axis[e][0];
    ay_[k] = lattice.island_axis[e][1];
  }
  qs_.resize(points);
  for (int i = 0; i < points; ++i) qs_[i] = q(i);
  auto tabulate = [&](const std::vector<double>& values, std::vector<double>& c,
                      std::vector<double>& s) {
    const std::size_t n = values.size() * static_cast<std::size_t>(points);
    if (n > max_table) return;  // evaluated on the fly
    c.resize(n);
    s.resize(n);
    for (std::size_t j = 0; j < values.size(); ++j) {
      for (int i = 0; i < points; ++i) {
        c[j * points + i] = std::cos(qs_[i] * values[j]);
        s[j * points + i] = std::sin(qs_[i] * values[j]);
      }
    }
  };
  tabulate(inner_u_, inner_cos_, inner_sin_);
  tabulate(line_w_, outer_cos_, outer_sin_);
  sum_.assign(static_cast<std::size_t>(points) * points, 0.0);
}

double StructureFactor::q(int i) const {
  return points_ > 1 ? -qmax_ + 2.0 * qmax_ * i / (points_ - 1) : 0.0;
}

void StructureFactor::accumulate(const std::int8_t* spins) {
  const int n = points_;
  const std::size_t nn = static_cast<std::size_t>(n) * n;
  // M_x and M_y (real and imaginary parts) as [outer q index][inner q index]
  std::vector<double> mxr(nn, 0.0), mxi(nn, 0.0), myr(nn, 0.0), myi(nn, 0.0);
  std::vector<double> pxr(n), pxi(n), pyr(n), pyi(n), ec(n), es(n);
  const bool inner_table = !inner_cos_.empty(), outer_table = !outer_cos_.empty();
  for (std::size_t l = 0; l + 1 < line_begin_.size(); ++l) {
    std::fill(pxr.begin(), pxr.end(), 0.0);
    std::fill(pxi.begin(), pxi.end(), 0.0);
    std::fill(pyr.begin(), pyr.end(), 0.0);
    std::fill(pyi.begin(), pyi.end(), 0.0);
    bool any_x = false, any_y = false;
    for (int k = line_begin_[l]; k < line_begin_[l + 1]; ++k) {
      const double sigma = spins[island_[k]];
      const double mx = sigma * ax_[k], my = sigma * ay_[k];
      const double* c;
      const double* s;
      if (inner_table) {
        c = &inner_cos_[static_cast<std::size_t>(inner_index_[k]) * n];
        s = &inner_sin_[static_cast<std::size_t>(inner_index_[k]) * n];
      } else {
        const double u = inner_u_[inner_index_[k]];
        for (int i = 0; i < n; ++i) {
          ec[i] = std::cos(qs_[i] * u);
          es[i] = std::sin(qs_[i] * u);
        }
        c = ec.data();
        s = es.data();
      }
      // most islands lie along x or y: skip the zero component
      if (mx != 0.0) {
        any_x = true;
        for (int i = 0; i < n; ++i) {
          pxr[i] += mx * c[i];
          pxi[i] += mx * s[i];
        }
      }
      if (my != 0.0) {
        any_y = true;
        for (int i = 0; i < n; ++i) {
          pyr[i] += my * c[i];
          pyi[i] += my * s[i];
        }
      }
    }
    const double* c;
    const double* s;
    if (outer_table) {
      c = &outer_cos_[l * n];
      s = &outer_sin_[l * n];
    } else {
      for (int i = 0; i < n; ++i) {
        ec[i] = std::cos(qs_[i] * line_w_[l]);
        es[i] = std::sin(qs_[i] * line_w_[l]);
      }
      c = ec.data();
      s = es.data();
    }
    // M(q_u, q_w) += P(q_u) exp(i q_w w_line)
    for (int j = 0; j < n; ++j) {
      const double cj = c[j], sj = s[j];
      double* xr = &mxr[static_cast<std::size_t>(j) * n];
      double* xi = &mxi[static_cast<std::size_t>(j) * n];
      double* yr = &myr[static_cast<std::size_t>(j) * n];
      double* yi = &myi[static_cast<std::size_t>(j) * n];
      if (any_x) {
        for (int i = 0; i < n; ++i) {
          xr[i] += pxr[i] * cj - pxi[i] * sj;
          xi[i] += pxr[i] * sj + pxi[i] * cj;
        }
      }
      if (any_y) {
        for (int i = 0; i < n; ++i) {
          yr[i] += pyr[i] * cj - pyi[i] * sj;
          yi[i] += pyr[i] * sj + pyi[i] * cj;
        }
      }
    }
  }
  const double n1 = static_cast<double>(island_.size());
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n; ++i) {
      const std::size_t a = static_cast<std::size_t>(j) * n + i;
      const int ix = outer_is_y_ ? i : j, iy = outer_is_y_ ? j : i;
      const double qx = qs_[ix], qy = qs_[iy];
      const double q2 = qx * qx + qy * qy;
      double val = mxr[a] * mxr[a] + mxi[a] * mxi[a] + myr[a] * myr[a] + myi[a] * myi[a];
      if (q2 > 0) {  // remove the component along q: |M|^2 - |q.M|^2 / q^2
        const double pr = qx * mxr[a] + qy * myr[a], pi = qx * mxi[a] + qy * myi[a];
        val -= (pr * pr + pi * pi) / q2;
      }
      sum_[static_cast<std::size_t>(iy) * n + ix] += val / n1;
    }
  }
  ++count_;
}

std::vector<double> StructureFactor::mean() const {
  std::vector<double> m(sum_.size(), 0.0);
  if (count_ > 0)
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = sum_[i] / static_cast<double>(count_);
  return m;
}

std::string StructureFactor::png(int scale) const {
  const auto m = mean();
  double lo = 1e300, hi = -1e300;
  for (double v : m) {
    lo = std::min(lo, std::log1p(std::max(v, 0.0)));
    hi = std::max(hi, std::log1p(std::max(v, 0.0)));
  }
  const int w = points_ * scale;
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(w) * w * 3);
  for (int py = 0; py < w; ++py) {
    const int iy = points_ - 1 - py / scale;
    for (int px = 0; px < w; ++px) {
      const double v =
          std::log1p(std::max(m[static_cast<std::size_t>(iy) * points_ + px / scale], 0.0));
      const double t = hi > lo ? (v - lo) / (hi - lo) : 0.0;
      core::colormap(t, &rgb[(static_cast<std::size_t>(py) * w + px) * 3]);
    }
  }
  return core::encode_png(w, w, rgb);
}

}  // namespace frost::asi
