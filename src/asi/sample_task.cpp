#include "asi/sample_task.hpp"

#include "asi/incidence.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "asi/energy.hpp"
#include "asi/enumerate.hpp"
#include "asi/loop_sampler.hpp"
#include "asi/observables.hpp"
#include "core/result.hpp"

namespace frost::asi {

using core::Value;

/// The type-I ground state of a square lattice (at each vertex the two horizontal arrows point
/// in and the vertical ones out, alternating from vertex to vertex), when the lattice is square
/// and the pattern closes (open, or periodic with even L); otherwise the canonical reference ice
/// state. Its sector has alternating boundary charges, the neutral sector physicists expect.
std::vector<std::int8_t> ground_or_reference_state(const Lattice& lattice) {
  if (lattice.kind == "square" && lattice.boundary != "domain_wall") {
    std::vector<std::int8_t> spins(lattice.edge_count());
    for (int e = 0; e < lattice.edge_count(); ++e) {
      const auto& tail = lattice.positions[lattice.edges[e][0]];
      const long parity = (std::lround(tail[0]) + std::lround(tail[1])) % 2;
      const bool horizontal = std::fabs(lattice.island_axis[e][0]) > 0.5;
      spins[e] = static_cast<std::int8_t>((horizontal == (parity == 0)) ? -1 : 1);
    }
    if (is_ice_state(lattice, spins)) return spins;
  }
  return ice_reference_state(lattice);
}

void declare_sample_params(core::ParamRegistry& reg) {
  reg.add_choice("sample.ensemble", "uniform", {"uniform", "thermal"},
                 "uniform: all ice states of the start state's charge sector equally likely "
                 "(loop moves only); thermal: Boltzmann weights of the energy model at each "
                 "temperature");
  reg.add_choice("sample.start", "ground_state", {"ground_state", "reference"},
                 "first state of every chain, which fixes the charge sector loop moves sample: "
                 "the type-I ground state on square lattices (charge-neutral boundary), else the "
                 "canonical reference ice state");
  reg.add_choice("sample.move", "short_loop", {"short_loop", "long_loop", "basis"},
                 "loop move: directed worm closed at its first self-intersection, "
                 "Barkema-Newman long loop (uniform ensemble only), or flips of directed "
                 "faces/windings (not ergodic in general)");
  reg.add_int("sample.chains", 4, "independent chains (each its own random stream)")
      .min(1)
      .max(1 << 20);
  reg.add_int("sample.sweeps", 2000,
              "sweeps per chain after burn-in; a sweep is n1 attempted island flips")
      .min(1);
  reg.add_int("sample.burn_in", 200, "sweeps per chain discarded before sampling").min(0);
  reg.add_int("sample.thin", 1, "sweeps between two recorded samples").min(1);
  reg.add_real_list("temperatures", {1.0},
                    "thermal ensemble: temperature ladder (energy units); more than one "
                    "temperature enables parallel tempering")
      .min(1e-6);
  reg.add_choice("thermal.model", "vertex", {"vertex", "charge", "dipolar", "pair"},
                 "vertex: square vertex-type energies eps_I..eps_IV at right-angled degree-4 "
                 "vertices, charge energy elsewhere; charge: (eps_q/2)(Q^2 - deg mod 2) at every "
                 "vertex; dipolar: point dipoles at the island centres within dipolar_cutoff "
                 "(minimum image on a torus); pair: J sum over island pairs at each vertex of "
                 "s_i s_j (s = +1 pointing in) = (J/2) sum_v (Q_v^2 - deg_v)");
  const auto t = default_type_energies();
  reg.add_real("thermal.eps_I", t[0],
               "energy of a type-I square vertex (2-in/2-out, in-arrows "
               "on opposite islands)");
  reg.add_real("thermal.eps_II", t[1],
               "energy of a type-II square vertex (2-in/2-out, in-arrows at right angles)");
  reg.add_real("thermal.eps_III", t[2],
               "energy of a type-III square vertex (3-in/1-out, 1-in/3-out)");
  reg.add_real("thermal.eps_IV", t[3], "energy of a type-IV square vertex (4-in or 4-out)");
  reg.add_real("thermal.charge_energy", 1.0,
               "eps_q of the charge energy (eps_q/2)(Q^2 - deg mod 2) at non-square vertices")
      .min(0.0);
  reg.add_real("thermal.dipolar_cutoff", 3.0,
               "dipolar model: pairs of islands closer than this many lattice constants interact")
      .min(1e-6);
  reg.add_real("thermal.dipolar_strength", 1.0,
               "dipolar model: energy unit D = mu0 m^2 / (4 pi a^3) of two unit dipoles one "
               "lattice constant apart");
  reg.add_real("thermal.pair_coupling", 1.0,
               "pair model: J of every pair of islands meeting at a vertex (J > 0 favours ice)");
  reg.add_real("thermal.field", 0.0,
               "external field h: E -= h sum_e sigma_e (axis_e . field direction)");
  reg.add_real("thermal.field_angle", 0.0, "field direction in degrees from the x axis");
  reg.add_bool("thermal.loop_moves", true,
               "thermal ensemble: add Metropolis-accepted loop moves to single-island flips");
  reg.add_int("output.states_every", 100,
              "store the configuration of every chain (temperature 0) every this many samples "
              "as dataset 'states' (0: never)")
      .min(0);
  reg.add_int("output.sq_points", 33, "structure factor grid points per axis (0: off)")
      .min(0)
      .max(512);
  reg.add_int("output.sq_every", 10,
              "samples between structure-factor accumulations (each costs about points * n1 + "
              "points^2 * rows multiply-adds per chain)")
      .min(1);
  reg.add_real("output.sq_qmax", 4.0 * 3.14159265358979323846,
               "structure factor q range [-qmax, qmax] in 1/lattice constant")
      .min(0.01);
  reg.add_int("output.distinct_capacity", 1 << 20,
              "hash-table slots for counting distinct states (count is a lower bound when half "
              "full)")
      .min(16);
  reg.add_int("output.enumerate_max", 1 << 20,
              "uniform ensemble: enumerate the sector for KL/chi2 tests when it has at most this "
              "many states (0: off)")
      .min(0);
}

namespace {

constexpr std::uint64_t kMagic = 0x66726f7374736d31ull;  // "frostsm1"
constexpr int kFixedObs = 10;

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
using Kernel = ChainKernel<Mem>;

/// Per-replica observables (layout in kFixedObs and the file below) into obs(r, :).
template <class ExecSpace, class MemorySpace>
void measure(const ExecSpace& exec, const ChainKernel<MemorySpace>& k,
             const Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace>& start,
             const Kokkos::View<std::int8_t**, Kokkos::LayoutRight, MemorySpace>& prev,
             const Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>& obs,
             const Kokkos::View<std::uint64_t*, MemorySpace>& hash,
             const Kokkos::View<const std::uint64_t*, MemorySpace>& keys,
             const Kokkos::View<const double*, MemorySpace>& ax,
             const Kokkos::View<const double*, MemorySpace>& ay, int max_degree, int counted,
             int square) {
  const int R = static_cast<int>(k.spins.extent(0));
  const int nobs = static_cast<int>(obs.extent(1));
  Kokkos::parallel_for(
      "frost::asi::measure", Kokkos::RangePolicy<ExecSpace>(exec, 0, R),
      KOKKOS_LAMBDA(const int r) {
        for (int o = 0; o < nobs; ++o) obs(r, o) = 0.0;
        double energy = 0.0, mx = 0.0, my = 0.0;
        long hp = 0, hs = 0, mono = 0;
        std::uint64_t h = 0;
        for (int e = 0; e < k.n1; ++e) {
          const int s = k.spins(r, e);
          mx += s * ax(e);
          my += s * ay(e);
          energy -= k.field_proj(e) * s;
          hp += s != prev(r, e);
          hs += s != start(r, e);
          if (s > 0) h ^= keys(e);
          prev(r, e) = static_cast<std::int8_t>(s);
        }
        for (int v = 0; v < k.n0; ++v) {
          const int kind = k.vertex_kind(v);
          if (kind == kTerminalVertex) continue;
          const int b = k.offsets(v), d = k.offsets(v + 1) - b;
          unsigned mask = 0;
          int n_in = 0;
          for (int s = b; s < b + d; ++s) {
            const int in = k.slot_sign(s) * k.spins(r, k.slot_edge(s)) < 0;
            n_in += in;
            mask |= static_cast<unsigned>(in) << (s - b);
          }
          energy += vertex_energy(k.cfg.energy, kind, d, n_in, mask);
          const int q = 2 * n_in - d;
          mono += (q < 0 ? -q : q) > (d & 1);
          if (kind == kSquareVertex) obs(r, 6 + square_vertex_type(mask)) += 1.0;
          obs(r, kFixedObs + q + max_degree) += 1.0;
        }
        if (k.cfg.energy.model == kDipolarModel) energy += k.pair_energy_of(r);
        k.energy(r) = energy;
        obs(r, 0) = energy / k.n1;
        obs(r, 1) = mx / k.n1;
        obs(r, 2) = my / k.n1;
        obs(r, 3) = counted > 0 ? static_cast<double>(mono) / counted : 0.0;
        obs(r, 4) = static_cast<double>(hp) / k.n1;
        obs(r, 5) = static_cast<double>(hs) / k.n1;
        for (int o = 6; o < 10; ++o) obs(r, o) = square > 0 ? obs(r, o) / square : 0.0;
        for (int o = kFixedObs; o < nobs; ++o) obs(r, o) = counted > 0 ? obs(r, o) / counted : 0.0;
        hash(r) = h;
      });
}

std::string charge_name(int q) {
  if (q == 0) return "charge_0";
  return std::string(q < 0 ? "charge_m" : "charge_p") + std::to_string(q < 0 ? -q : q);
}

template <class V>
void put_view(core::ByteWriter& w, const V& v) {
  auto m = Kokkos::create_mirror_view(v);
  Kokkos::deep_copy(m, v);
  w.put<std::uint64_t>(m.size());
  w.put_bytes(m.data(), m.size() * sizeof(typename V::value_type));
}

template <class V>
void get_view(core::ByteReader& rd, const V& v) {
  auto m = Kokkos::create_mirror_view(v);
  const auto n = rd.get<std::uint64_t>();
  if (n != m.size()) throw std::runtime_error("sample: checkpoint does not match the run");
  rd.read(m.data(), n * sizeof(typename V::value_type));
  Kokkos::deep_copy(v, m);
}

template <class T>
void put_vec(core::ByteWriter& w, const std::vector<T>& v) {
  w.put<std::uint64_t>(v.size());
  w.put_bytes(v.data(), v.size() * sizeof(T));
}

template <class T>
std::vector<T> get_vec(core::ByteReader& rd) {
  std::vector<T> v(rd.get<std::uint64_t>());
  rd.read(v.data(), v.size() * sizeof(T));
  return v;
}

std::string rate_text(double per_second, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g %s/s", per_second, unit);
  return buf;
}

}  // namespace

void run_sample_task(core::RunContext& ctx, const Lattice& lattice) {
  const auto& P = ctx.params;
  const bool thermal = P.get_string("sample.ensemble") == "thermal";
  const MoveSet move = parse_move_set(P.get_string("sample.move"));
  const int chains = static_cast<int>(P.get_int("sample.chains"));
  const long sweeps = P.get_int("sample.sweeps");
  const long burn_in = P.get_int("sample.burn_in");
  const long thin = P.get_int("sample.thin");
  std::vector<double> temps = thermal ? P.get_real_list("temperatures") : std::vector<double>{0.0};
  if (temps.empty()) throw std::invalid_argument("asi.temperatures must not be empty");
  const int nT = static_cast<int>(temps.size());
  const long states_every = P.get_int("output.states_every");
  const int sq_points = static_cast<int>(P.get_int("output.sq_points"));
  const long sq_every = P.get_int("output.sq_every");

  SamplerGraph g = build_sampler_graph(lattice);
  if (g.free_edges.empty()) throw std::invalid_argument("sample: the lattice has no free island");
  SamplerConfig cfg;
  cfg.move = move;
  cfg.thermal = thermal;
  cfg.loop_moves = P.get_bool("thermal.loop_moves");
  cfg.energy.model = parse_energy_model(P.get_string("thermal.model"));
  cfg.energy.charge_energy = P.get_real("thermal.charge_energy");
  cfg.energy.type_energy[0] = P.get_real("thermal.eps_I");
  cfg.energy.type_energy[1] = P.get_real("thermal.eps_II");
  cfg.energy.type_energy[2] = P.get_real("thermal.eps_III");
  cfg.energy.type_energy[3] = P.get_real("thermal.eps_IV");
  cfg.energy.pair_coupling = P.get_real("thermal.pair_coupling");
  cfg.seed = ctx.seed;
  cfg.run = static_cast<std::uint32_t>(ctx.run_id);
  const auto field =
      field_projection(lattice, P.get_real("thermal.field"), P.get_real("thermal.field_angle"));
  const auto init = P.get_string("sample.start") == "ground_state"
                        ? ground_or_reference_state(lattice)
                        : ice_reference_state(lattice);
  if (move == kLongLoop) {
    if (thermal) {
      throw std::invalid_argument(
          "asi.sample.move = long_loop needs the uniform ensemble (use short_loop or basis)");
    }
    // long loops need an out-arrow at every vertex they can reach; out-counts never change
    const auto q = vertex_charges(g, init);
    for (int v = 0; v < g.n0; ++v) {
      int free_deg = 0, fixed_q = 0;
      for (int s = g.offsets[v]; s < g.offsets[v + 1]; ++s) {
        if (g.slot_free[s]) {
          ++free_deg;
        } else {
          fixed_q -= g.slot_sign[s] * g.fixed_spin[g.slot_edge[s]];
        }
      }
      const int free_in = (q[v] - fixed_q + free_deg) / 2;
      if (free_deg > 0 && free_in == free_deg) {
        throw std::invalid_argument("asi.sample.move = long_loop: vertex " + std::to_string(v) +
                                    " is a sink in every state of the sector; use short_loop");
      }
    }
  }
  if (move == kBasisLoop && g.loop_offsets.size() < 2) {
    throw std::invalid_argument("asi.sample.move = basis: the lattice has no faces");
  }

  PairCouplings pairs;
  if (cfg.energy.model == kDipolarModel) {
    pairs = dipolar_couplings(lattice, P.get_real("thermal.dipolar_cutoff"),
                              P.get_real("thermal.dipolar_strength"));
  }

  const int R = chains * nT;
  Exec exec;
  Kernel k = make_chain_kernel<Mem>(g, cfg, field, R, init, pairs);
  Kokkos::View<std::uint32_t*, Mem> keys_rw("frost::asi::stream_keys", R);
  {
    auto m = Kokkos::create_mirror_view(keys_rw);
    for (int r = 0; r < R; ++r) m(r) = static_cast<std::uint32_t>(r);
    Kokkos::deep_copy(keys_rw, m);
  }
  const Kokkos::View<const std::uint32_t*, Mem> keys = keys_rw;
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, Mem> start("frost::asi::start", R, g.n1);
  Kokkos::View<std::int8_t**, Kokkos::LayoutRight, Mem> prev("frost::asi::prev", R, g.n1);
  Kokkos::deep_copy(start, k.spins);
  Kokkos::deep_copy(prev, k.spins);
  const int nobs = kFixedObs + 2 * g.max_degree + 1;
  Kokkos::View<double**, Kokkos::LayoutRight, Mem> obs("frost::asi::obs", R, nobs);
  Kokkos::View<std::uint64_t*, Mem> hash("frost::asi::hash", R);
  std::vector<std::uint64_t> key_host(g.n1);
  std::vector<double> axh(g.n1), ayh(g.n1);
  for (int e = 0; e < g.n1; ++e) {
    key_host[e] = island_key(e);
    axh[e] = lattice.island_axis[e][0];
    ayh[e] = lattice.island_axis[e][1];
  }
  const Kokkos::View<const std::uint64_t*, Mem> zkeys =
      detail::upload<Kokkos::View<std::uint64_t*, Mem>>("frost::asi::zobrist", key_host);
  const Kokkos::View<const double*, Mem> ax =
      detail::upload<Kokkos::View<double*, Mem>>("frost::asi::axis_x", axh);
  const Kokkos::View<const double*, Mem> ay =
      detail::upload<Kokkos::View<double*, Mem>>("frost::asi::axis_y", ayh);

  // temperature bookkeeping: replica r = c*nT + j starts at temperature j
  std::vector<int> replica_at(R), slot_of(R);
  for (int r = 0; r < R; ++r) replica_at[r] = slot_of[r] = r;
  auto set_betas = [&]() {
    auto m = Kokkos::create_mirror_view(k.beta);
    for (int r = 0; r < R; ++r) m(r) = thermal ? 1.0 / temps[slot_of[r] % nT] : 0.0;
    Kokkos::deep_copy(k.beta, m);
  };
  {
    auto m = Kokkos::create_mirror_view(k.energy);
    const double e0 = configuration_energy(g, cfg.energy, field, init, &pairs);
    for (int r = 0; r < R; ++r) m(r) = e0;
    Kokkos::deep_copy(k.energy, m);
  }
  std::vector<std::uint64_t> pt_counter(chains, 0);
  std::vector<double> swap_try(std::max(nT - 1, 0), 0.0), swap_ok(std::max(nT - 1, 0), 0.0);

  // observable names; types only when the lattice has square vertices
  std::vector<std::string> names = {
      "energy",        "mx",     "my",      "monopole_density", "hamming_prev",
      "hamming_start", "type_I", "type_II", "type_III",         "type_IV"};
  for (int q = -g.max_degree; q <= g.max_degree; ++q) names.push_back(charge_name(q));
  std::vector<int> active;
  for (int o = 0; o < nobs; ++o) {
    if (o >= 6 && o < 10 && g.square_vertices == 0) continue;
    if (o >= kFixedObs) {  // charges of the parity and range some vertex can have
      const int q = o - kFixedObs - g.max_degree;
      bool possible = false;
      for (int v = 0; v < g.n0 && !possible; ++v) {
        if (g.vertex_kind[v] == kTerminalVertex) continue;
        possible = std::abs(q) <= g.degree[v] && ((q + g.degree[v]) & 1) == 0;
      }
      if (!possible) continue;
    }
    active.push_back(o);
  }
  std::vector<std::vector<std::vector<double>>> series(nT, std::vector<std::vector<double>>(nobs));

  HashSet distinct(static_cast<std::size_t>(P.get_int("output.distinct_capacity")));
  std::vector<std::uint64_t> sector;
  const long enum_max = P.get_int("output.enumerate_max");
  if (!thermal && enum_max > 0) {
    sector = sector_state_hashes(lattice, init, static_cast<std::size_t>(enum_max));
  }
  std::vector<double> visits(sector.size(), 0.0);
  double sector_misses = 0.0;
  StructureFactor sq;
  if (sq_points > 0) sq = StructureFactor(lattice, sq_points, P.get_real("output.sq_qmax"));
  std::vector<std::int8_t> states;
  long sweep = 0, sample = 0;

  // ---- restore ----
  if (auto blob = ctx.checkpoint.restore()) {
    core::ByteReader rd(*blob);
    if (rd.get<std::uint64_t>() != kMagic || rd.get<int>() != R || rd.get<int>() != g.n1 ||
        rd.get<int>() != nobs) {
      throw std::runtime_error("sample: checkpoint does not match the run");
    }
    sweep = rd.get<long>();
    sample = rd.get<long>();
    get_view(rd, k.spins);
    get_view(rd, start);
    get_view(rd, prev);
    get_view(rd, k.stamp_now);
    get_view(rd, k.rng_counter);
    get_view(rd, k.rng_buffer);
    get_view(rd, k.rng_bits);
    get_view(rd, k.energy);
    get_view(rd, k.attempted);
    get_view(rd, k.accepted_single);
    get_view(rd, k.attempted_single);
    get_view(rd, k.accepted_loop);
    get_view(rd, k.attempted_loop);
    get_view(rd, k.loop_moves);
    k.moves_per_sweep = rd.get<int>();
    replica_at = get_vec<int>(rd);
    slot_of = get_vec<int>(rd);
    pt_counter = get_vec<std::uint64_t>(rd);
    swap_try = get_vec<double>(rd);
    swap_ok = get_vec<double>(rd);
    for (auto& per_t : series)
      for (auto& s : per_t) s = get_vec<double>(rd);
    {
      auto table = get_vec<std::uint64_t>(rd);
      const auto size = rd.get<std::uint64_t>();
      const bool sat = rd.get<std::uint8_t>() != 0;
      distinct.restore(std::move(table), size, sat);
    }
    visits = get_vec<double>(rd);
    sector_misses = rd.get<double>();
    sq.sum() = get_vec<double>(rd);
    sq.set_count(rd.get<long>());
    states = get_vec<std::int8_t>(rd);
    refresh_masks(exec, k);  // the out-masks follow the restored spins
  }
  set_betas();

  auto save = [&]() {
    core::ByteWriter w;
    w.put(kMagic);
    w.put<int>(R);
    w.put<int>(g.n1);
    w.put<int>(nobs);
    w.put<long>(sweep);
    w.put<long>(sample);
    put_view(w, k.spins);
    put_view(w, start);
    put_view(w, prev);
    put_view(w, k.stamp_now);
    put_view(w, k.rng_counter);
    put_view(w, k.rng_buffer);
    put_view(w, k.rng_bits);
    put_view(w, k.energy);
    put_view(w, k.attempted);
    put_view(w, k.accepted_single);
    put_view(w, k.attempted_single);
    put_view(w, k.accepted_loop);
    put_view(w, k.attempted_loop);
    put_view(w, k.loop_moves);
    w.put<int>(k.moves_per_sweep);
    put_vec(w, replica_at);
    put_vec(w, slot_of);
    put_vec(w, pt_counter);
    put_vec(w, swap_try);
    put_vec(w, swap_ok);
    for (const auto& per_t : series)
      for (const auto& s : per_t) put_vec(w, s);
    put_vec(w, distinct.table());
    w.put<std::uint64_t>(distinct.size());
    w.put<std::uint8_t>(distinct.saturated() ? 1 : 0);
    put_vec(w, visits);
    w.put<double>(sector_misses);
    put_vec(w, sq.sum());
    w.put<long>(sq.count());
    put_vec(w, states);
    ctx.checkpoint.save(w.bytes);
  };

  auto pt_swaps = [&]() {
    auto em = Kokkos::create_mirror_view(k.energy);
    Kokkos::deep_copy(em, k.energy);
    for (int c = 0; c < chains; ++c) {
      core::RandomStream rs(cfg.seed, cfg.run, 0x80000000u + static_cast<std::uint32_t>(c),
                            pt_counter[c]);
      for (int j = static_cast<int>(sweep % 2); j + 1 < nT; j += 2) {
        int& ra = replica_at[c * nT + j];
        int& rb = replica_at[c * nT + j + 1];
        const double delta = (1.0 / temps[j] - 1.0 / temps[j + 1]) * (em(ra) - em(rb));
        swap_try[j] += 1.0;
        if (delta >= 0.0 || rs.uniform() < std::exp(delta)) {
          swap_ok[j] += 1.0;
          std::swap(ra, rb);
          slot_of[ra] = c * nT + j;
          slot_of[rb] = c * nT + j + 1;
        }
      }
      pt_counter[c] = rs.counter();
    }
    set_betas();
  };

  auto host_spins = Kokkos::create_mirror_view(k.spins);
  auto obs_h = Kokkos::create_mirror_view(obs);
  auto hash_h = Kokkos::create_mirror_view(hash);
  auto record = [&]() {
    measure(exec, k, start, prev, obs, hash, zkeys, ax, ay, g.max_degree, g.counted_vertices,
            g.square_vertices);
    Kokkos::deep_copy(obs_h, obs);
    Kokkos::deep_copy(hash_h, hash);
    ++sample;
    for (int j = 0; j < nT; ++j) {
      for (int c = 0; c < chains; ++c) {
        const int r = replica_at[c * nT + j];
        for (int o = 0; o < nobs; ++o) series[j][o].push_back(obs_h(r, o));
      }
    }
    const bool need_sq = sq_points > 0 && sample % sq_every == 0;
    const bool need_states = states_every > 0 && sample % states_every == 0;
    if (need_sq || need_states) Kokkos::deep_copy(host_spins, k.spins);
    for (int c = 0; c < chains; ++c) {
      const int r = replica_at[c * nT];
      distinct.insert(hash_h(r));
      if (!sector.empty()) {
        auto it = std::lower_bound(sector.begin(), sector.end(), hash_h(r));
        if (it != sector.end() && *it == hash_h(r)) {
          visits[static_cast<std::size_t>(it - sector.begin())] += 1.0;
        } else {
          sector_misses += 1.0;
        }
      }
      if (need_sq) sq.accumulate(&host_spins(r, 0));
      if (need_states) states.insert(states.end(), &host_spins(r, 0), &host_spins(r, 0) + g.n1);
    }
  };

  const long total_sweeps = burn_in + sweeps;
  // Fixes the loop moves per sweep from the burn-in statistics of all replicas (see
  // loop_sampler.hpp: a trajectory-independent move count keeps recorded samples unbiased).
  auto calibrate = [&]() {
    auto att = Kokkos::create_mirror_view(k.attempted);
    auto mv = Kokkos::create_mirror_view(k.loop_moves);
    Kokkos::deep_copy(att, k.attempted);
    Kokkos::deep_copy(mv, k.loop_moves);
    double a = 0.0, m = 0.0;
    for (int r = 0; r < R; ++r) {
      a += static_cast<double>(att(r));
      m += static_cast<double>(mv(r));
    }
    // without burn-in statistics assume loops of four islands (square plaquettes)
    const double per_move = m > 0 && a > 0 ? a / m : 4.0;
    k.moves_per_sweep = std::max(1, static_cast<int>(std::lround(g.n1 / per_move)));
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto last_progress = t0;
  const long sweep_at_start = sweep;
  while (sweep < total_sweeps) {
    long batch = 1;
    if (nT == 1) {
      if (sweep < burn_in) {
        batch = std::min<long>(burn_in - sweep, 64);
      } else {
        batch = thin - (sweep - burn_in) % thin;
      }
      batch = std::min(batch, total_sweeps - sweep);
    }
    if (sweep >= burn_in && k.moves_per_sweep == 0) calibrate();
    run_sweeps(exec, k, static_cast<int>(batch), keys);
    sweep += batch;
    if (nT > 1) pt_swaps();
    if (sweep > burn_in && (sweep - burn_in) % thin == 0) record();
    bool due = false;  // ask for every sweep of the batch, so step-count triggers are not missed
    for (long s = sweep - batch + 1; s <= sweep; ++s) due = ctx.checkpoint.due(s) || due;
    if (due) save();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_progress > std::chrono::milliseconds(250) || sweep == total_sweeps) {
      const double secs = std::chrono::duration<double>(now - t0).count();
      const double rate = secs > 0 ? (sweep - sweep_at_start) * chains * nT / secs : 0.0;
      ctx.progress.update(static_cast<double>(sweep) / total_sweeps, rate_text(rate, "sweeps"));
      last_progress = now;
    }
  }
  exec.fence();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  {
    auto err = Kokkos::create_mirror_view(k.error);
    Kokkos::deep_copy(err, k.error);
    for (int r = 0; r < R; ++r)
      if (err(r)) throw std::runtime_error("sample: a long-loop walk got stuck at a sink");
  }

  // ---- results ----
  auto& res = ctx.result;
  const long done_samples = sample;
  res.set("samples", Value::of_int(done_samples * chains));
  res.set("sweeps", Value::of_int(total_sweeps));
  res.set("loop_moves_per_sweep", Value::of_int(k.moves_per_sweep));
  const double work = static_cast<double>(total_sweeps - sweep_at_start) * R;
  res.set("sweeps_per_second", Value::of_real(secs > 0 ? work / secs : 0.0));
  res.set("samples_per_second",
          Value::of_real(secs > 0 ? static_cast<double>(done_samples) * chains * nT *
                                        (total_sweeps - sweep_at_start) / total_sweeps / secs
                                  : 0.0));
  {
    auto att = Kokkos::create_mirror_view(k.attempted);
    Kokkos::deep_copy(att, k.attempted);
    double flips = 0.0;
    for (int r = 0; r < R; ++r) flips += static_cast<double>(att(r));
    res.set("flips_per_second",
            Value::of_real(secs > 0 ? flips * (total_sweeps - sweep_at_start) / total_sweeps / secs
                                    : 0.0));
  }
  std::string joined, constant_names;
  std::vector<double> table;
  double max_tau = 0.5;
  // stats[j][o]: per temperature and observable (only active observables are filled)
  std::vector<std::vector<SeriesStats>> stats(nT, std::vector<SeriesStats>(nobs));
  for (int j = 0; j < nT; ++j) {
    for (int o : active) {
      const SeriesStats st = series_stats(series[j][o], static_cast<int>(done_samples), chains);
      stats[j][o] = st;
      if (j == 0) {
        res.set(names[o], Value::of_real(st.mean));
        res.set(names[o] + "_err", Value::of_real(st.error));
        res.set("tau_int_" + names[o], Value::of_real(st.tau_int));
        res.set("ess_" + names[o], Value::of_real(st.ess));
        joined += (joined.empty() ? "" : ",") + names[o];
        table.insert(table.end(),
                     {st.mean, st.error, st.tau_int, st.ess, static_cast<double>(st.window)});
        // A series that never varies (e.g. the magnetisation of an open lattice in the uniform
        // ensemble, fixed by the boundary charges) says nothing about mixing; the Hamming
        // distances measure motion, not an equilibrium quantity.
        if (st.constant) {
          constant_names += (constant_names.empty() ? "" : ",") + names[o];
        } else if (o != 4 && o != 5) {
          max_tau = std::max(max_tau, st.tau_int);
        }
      }
      const std::string prefix = nT > 1 ? "series/T" + std::to_string(j) + "/" : "series/";
      res.add_f64(prefix + names[o],
                  {static_cast<std::uint64_t>(done_samples), static_cast<std::uint64_t>(chains)},
                  series[j][o]);
    }
  }
  res.set("observables", Value::of_string(joined));
  res.set("constant_observables", Value::of_string(constant_names));
  res.set("max_tau_int", Value::of_real(max_tau));
  res.add_f64("tau_int", {static_cast<std::uint64_t>(active.size()), 5}, table);
  if (thermal) {
    res.set("temperature", Value::of_real(temps[0]));
    static const char* const kColumns =
        "T,energy,energy_err,specific_heat,specific_heat_err,type_I,type_II,type_III,type_IV,"
        "monopole_density,tau_int_energy";
    constexpr int kCols = 11;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> by_t;  // one row of kColumns per temperature
    for (int j = 0; j < nT; ++j) {
      const auto& e = series[j][0];
      const double beta = 1.0 / temps[j];
      double m = 0.0, m2 = 0.0;
      for (double x : e) {
        m += x;
        m2 += x * x;
      }
      const double n = static_cast<double>(e.size());
      const double C = n > 0 ? beta * beta * g.n1 * (m2 / n - (m / n) * (m / n)) : 0.0;
      // error of C from the spread of per-chain estimates (chains are independent)
      std::vector<double> per_chain(chains, 0.0);
      for (int c = 0; c < chains; ++c) {
        double a = 0.0, a2 = 0.0;
        for (long i = 0; i < done_samples; ++i) {
          const double x = e[static_cast<std::size_t>(i) * chains + c];
          a += x;
          a2 += x * x;
        }
        const double nn = static_cast<double>(done_samples);
        per_chain[c] = nn > 0 ? beta * beta * g.n1 * (a2 / nn - (a / nn) * (a / nn)) : 0.0;
      }
      double cm = 0.0, cv = 0.0;
      for (double x : per_chain) cm += x / chains;
      for (double x : per_chain) cv += (x - cm) * (x - cm);
      const double cerr = chains > 1 ? std::sqrt(cv / (chains - 1) / chains) : 0.0;
      const SeriesStats& st = stats[j][0];
      const bool square = g.square_vertices > 0;
      by_t.insert(by_t.end(),
                  {temps[j], st.mean, st.error, C, cerr, square ? stats[j][6].mean : nan,
                   square ? stats[j][7].mean : nan, square ? stats[j][8].mean : nan,
                   square ? stats[j][9].mean : nan, stats[j][3].mean, st.tau_int});
      if (j == 0) {
        res.set("specific_heat", Value::of_real(C));
        res.set("specific_heat_err", Value::of_real(cerr));
      }
    }
    res.add_f64("by_temperature", {static_cast<std::uint64_t>(nT), kCols}, by_t);
    res.set("by_temperature_columns", Value::of_string(kColumns));
    auto as = Kokkos::create_mirror_view(k.accepted_single);
    auto ts = Kokkos::create_mirror_view(k.attempted_single);
    auto al = Kokkos::create_mirror_view(k.accepted_loop);
    auto tl = Kokkos::create_mirror_view(k.attempted_loop);
    Kokkos::deep_copy(as, k.accepted_single);
    Kokkos::deep_copy(ts, k.attempted_single);
    Kokkos::deep_copy(al, k.accepted_loop);
    Kokkos::deep_copy(tl, k.attempted_loop);
    double a1 = 0, t1 = 0, a2 = 0, t2 = 0;
    for (int r = 0; r < R; ++r) {
      a1 += static_cast<double>(as(r));
      t1 += static_cast<double>(ts(r));
      a2 += static_cast<double>(al(r));
      t2 += static_cast<double>(tl(r));
    }
    res.set("acceptance_single", Value::of_real(t1 > 0 ? a1 / t1 : 0.0));
    res.set("acceptance_loop", Value::of_real(t2 > 0 ? a2 / t2 : 0.0));
    if (nT > 1) {
      std::vector<double> rates(nT - 1);
      for (int j = 0; j + 1 < nT; ++j) {
        rates[j] = swap_try[j] > 0 ? swap_ok[j] / swap_try[j] : 0.0;
        res.set("swap_rate_" + std::to_string(j), Value::of_real(rates[j]));
      }
      res.add_f64("swap_rate", {static_cast<std::uint64_t>(nT - 1)}, rates);
    }
  }
  res.set("distinct_states", Value::of_int(static_cast<long long>(distinct.size())));
  res.set("distinct_states_lower_bound", Value::of_bool(distinct.saturated()));
  if (!sector.empty()) {
    const UniformityTest u = uniformity_test(visits);
    res.set("sector_states", Value::of_int(static_cast<long long>(sector.size())));
    res.set("kl_uniform", Value::of_real(u.kl));
    res.set("chi2", Value::of_real(u.chi2));
    res.set("chi2_dof", Value::of_real(u.dof));
    res.set("chi2_p_value", Value::of_real(u.p_value));
    res.set("sector_misses", Value::of_real(sector_misses));
  }
  if (!states.empty()) {
    res.add_i8("states",
               {states.size() / static_cast<std::uint64_t>(g.n1), static_cast<std::uint64_t>(g.n1)},
               states);
  }
  if (sq_points > 0 && sq.count() > 0) {
    const auto n = static_cast<std::uint64_t>(sq_points);
    res.add_f64("structure_factor", {n, n}, sq.mean());
    std::vector<double> qs(sq_points);
    for (int i = 0; i < sq_points; ++i) qs[i] = sq.q(i);
    res.add_f64("structure_factor_q", {n}, qs);
    res.artifacts.push_back({"structure_factor.png", sq.png(std::max(1, 256 / sq_points))});
  }
}

}  // namespace frost::asi
