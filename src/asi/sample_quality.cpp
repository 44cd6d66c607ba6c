#include "asi/sample_quality.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "asi/energy.hpp"

namespace frost::asi {

namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;
}  // namespace

ImportanceStats importance_stats(const std::vector<double>& log_q) {
  ImportanceStats r;
  const std::size_t n = log_q.size();
  if (n == 0 || !std::all_of(log_q.begin(), log_q.end(), [](double v) { return std::isfinite(v); }))
    return {kNan, kNan, kNan};
  // a_i = ln w_i = -ln q_i; with m = max a: sum w = e^m S1, sum w^2 = e^{2m} S2, so the factors
  // e^m cancel in the ESS.
  const double m = -*std::min_element(log_q.begin(), log_q.end());
  double s1 = 0.0, s2 = 0.0;
  for (double lq : log_q) {
    const double t = std::exp(-lq - m);  // in (0, 1], one term equals 1
    s1 += t;
    s2 += t * t;
  }
  r.ess = s1 * s1 / s2;
  r.ess_fraction = r.ess / static_cast<double>(n);
  r.log_mean_weight = m + std::log(s1) - std::log(static_cast<double>(n));
  return r;
}

double mean_pair_hamming(const std::vector<std::int8_t>& states, int n1, std::size_t max_pairs) {
  if (n1 <= 0) throw std::invalid_argument("mean_pair_hamming: n1 must be positive");
  const std::size_t count = states.size() / static_cast<std::size_t>(n1);
  if (count * static_cast<std::size_t>(n1) != states.size())
    throw std::invalid_argument("mean_pair_hamming: states is not count x n1");
  if (count < 2) return kNan;
  auto distance = [&](std::size_t i, std::size_t j) {
    const std::int8_t* a = &states[i * n1];
    const std::int8_t* b = &states[j * n1];
    long d = 0;
    for (int e = 0; e < n1; ++e) d += a[e] != b[e];
    return static_cast<double>(d) / n1;
  };
  double sum = 0.0;
  std::size_t pairs = 0;
  if (count * (count - 1) / 2 <= max_pairs) {
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t j = i + 1; j < count; ++j) {
        sum += distance(i, j);
        ++pairs;
      }
  } else {
    const std::size_t k_max =
        std::min(std::max<std::size_t>(1, max_pairs / count), (count - 1) / 2);
    for (std::size_t k = 1; k <= k_max; ++k)
      for (std::size_t i = 0; i < count; ++i) {
        sum += distance(i, (i + k) % count);
        ++pairs;
      }
  }
  return sum / static_cast<double>(pairs);
}

std::size_t distinct_states(const std::vector<std::int8_t>& states, int n1) {
  if (n1 <= 0) throw std::invalid_argument("distinct_states: n1 must be positive");
  const std::size_t count = states.size() / static_cast<std::size_t>(n1);
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto row = [&](std::size_t i) { return states.begin() + static_cast<std::ptrdiff_t>(i * n1); };
  auto less = [&](std::size_t a, std::size_t b) {
    return std::lexicographical_compare(row(a), row(a) + n1, row(b), row(b) + n1);
  };
  std::sort(order.begin(), order.end(), less);
  std::size_t distinct = count > 0 ? 1 : 0;
  for (std::size_t i = 1; i < count; ++i)
    distinct += !std::equal(row(order[i - 1]), row(order[i - 1]) + n1, row(order[i]));
  return distinct;
}

MeanError mean_error(const std::vector<double>& values) {
  const std::size_t n = values.size();
  if (n == 0) return {kNan, kNan};
  double m = 0.0;
  for (double v : values) m += v;
  m /= static_cast<double>(n);
  if (n < 2) return {m, 0.0};
  double ss = 0.0;
  for (double v : values) ss += (v - m) * (v - m);
  return {m, std::sqrt(ss / static_cast<double>(n - 1) / static_cast<double>(n))};
}

double z_score(double a, double ea, double b, double eb) {
  const double s = std::sqrt(ea * ea + eb * eb);
  const double d = a - b;
  // means equal to rounding: both samplers saw the same constant (e.g. a magnetisation fixed by
  // the boundary charges)
  if (std::fabs(d) <= 1e-12 * std::max({1.0, std::fabs(a), std::fabs(b)}) && s <= 1e-12) return 0.0;
  return d / s;
}

StateObservables::StateObservables(const Lattice& lattice) : graph_(build_sampler_graph(lattice)) {
  const int n1 = lattice.edge_count();
  ax_.resize(n1);
  ay_.resize(n1);
  px_.resize(n1);
  py_.resize(n1);
  for (int e = 0; e < n1; ++e) {
    ax_[e] = lattice.island_axis[e][0];
    ay_[e] = lattice.island_axis[e][1];
    px_[e] = lattice.island_position[e][0];
    py_[e] = lattice.island_position[e][1];
  }
  square_ = graph_.square_vertices > 0;
  names_ = {"mx", "my"};
  if (square_) names_.insert(names_.end(), {"type_I", "type_II", "type_III", "type_IV"});
  names_.insert(names_.end(), {"sq_pi_pi", "sq_2pi_pi"});
}

void StateObservables::measure(const std::int8_t* spins, std::vector<double>& out) const {
  const SamplerGraph& g = graph_;
  const int n1 = g.n1;
  double mx = 0.0, my = 0.0;
  for (int e = 0; e < n1; ++e) {
    mx += spins[e] * ax_[e];
    my += spins[e] * ay_[e];
  }
  out.push_back(mx / n1);
  out.push_back(my / n1);
  if (square_) {
    double types[4] = {0, 0, 0, 0};
    for (int v = 0; v < g.n0; ++v) {
      if (g.vertex_kind[v] != kSquareVertex) continue;
      unsigned mask = 0;
      const int b = g.offsets[v], d = g.offsets[v + 1] - b;
      for (int s = b; s < b + d; ++s) {
        const unsigned in = g.slot_sign[s] * spins[g.slot_edge[s]] < 0;
        mask |= in << (s - b);
      }
      types[square_vertex_type(mask)] += 1.0;
    }
    for (double t : types) out.push_back(t / g.square_vertices);
  }
  // S_perp(q) = |M - (M.q^) q^|^2 / n1, M = sum sigma axis exp(i q.r) (a complex 2-vector)
  const double qs[2][2] = {{kPi, kPi}, {2 * kPi, kPi}};
  for (const auto& q : qs) {
    double rx = 0, ix = 0, ry = 0, iy = 0;
    for (int e = 0; e < n1; ++e) {
      const double ph = q[0] * px_[e] + q[1] * py_[e];
      const double c = std::cos(ph), s = std::sin(ph);
      rx += spins[e] * ax_[e] * c;
      ix += spins[e] * ax_[e] * s;
      ry += spins[e] * ay_[e] * c;
      iy += spins[e] * ay_[e] * s;
    }
    const double qn = std::hypot(q[0], q[1]), ux = q[0] / qn, uy = q[1] / qn;
    const double pr = rx * ux + ry * uy, pi = ix * ux + iy * uy;
    rx -= pr * ux;
    ry -= pr * uy;
    ix -= pi * ux;
    iy -= pi * uy;
    out.push_back((rx * rx + ix * ix + ry * ry + iy * iy) / n1);
  }
}

std::vector<std::int8_t> loop_mc_states(const Lattice& lattice,
                                        const std::vector<std::int8_t>& start, int chains,
                                        int per_chain, int burn_in, int thin, std::uint64_t seed,
                                        std::uint32_t run, std::uint32_t first_stream) {
  using Exec = Kokkos::DefaultExecutionSpace;
  using Mem = Exec::memory_space;
  if (chains < 1 || per_chain < 0 || burn_in < 0 || thin < 1)
    throw std::invalid_argument("loop_mc_states: bad chain settings");
  const SamplerGraph g = build_sampler_graph(lattice);
  if (g.free_edges.empty()) throw std::invalid_argument("loop_mc_states: no free island");
  SamplerConfig cfg;
  cfg.move = kShortLoop;
  cfg.thermal = false;
  cfg.seed = seed;
  cfg.run = run;
  const std::vector<double> no_field(g.n1, 0.0);
  Exec exec;
  ChainKernel<Mem> k = make_chain_kernel<Mem>(g, cfg, no_field, chains, start);
  std::vector<std::uint32_t> key_host(chains);
  std::iota(key_host.begin(), key_host.end(), first_stream);
  const Kokkos::View<const std::uint32_t*, Mem> keys =
      detail::upload<Kokkos::View<std::uint32_t*, Mem>>("frost::asi::mc_keys", key_host);
  // burn-in: loop moves until n1 flips were attempted per sweep
  for (int done = 0; done < burn_in;) {
    const int batch = std::min(burn_in - done, 64);
    run_sweeps(exec, k, batch, keys);
    done += batch;
  }
  // fix the loop moves per sweep from the burn-in statistics (as the sample task does)
  {
    auto att = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.attempted);
    auto mv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.loop_moves);
    double a = 0.0, m = 0.0;
    for (int r = 0; r < chains; ++r) {
      a += static_cast<double>(att(r));
      m += static_cast<double>(mv(r));
    }
    const double per_move = m > 0 && a > 0 ? a / m : 4.0;
    k.moves_per_sweep = std::max(1, static_cast<int>(std::lround(g.n1 / per_move)));
  }
  std::vector<std::int8_t> out;
  out.reserve(static_cast<std::size_t>(per_chain) * chains * g.n1);
  auto host = Kokkos::create_mirror_view(k.spins);
  for (int s = 0; s < per_chain; ++s) {
    run_sweeps(exec, k, thin, keys);
    Kokkos::deep_copy(host, k.spins);
    for (int c = 0; c < chains; ++c) out.insert(out.end(), &host(c, 0), &host(c, 0) + g.n1);
  }
  return out;
}

}  // namespace frost::asi
