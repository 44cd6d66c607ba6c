// Thermal sampling against exact Boltzmann sums over all 2^n1 states of tiny lattices, energy
// changes of single and loop flips against direct pair sums, and chi-square uniformity of the
// uniform-ensemble samplers over enumerated ice sectors.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "asi/energy.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/loop_sampler.hpp"
#include "asi/sample_task.hpp"
#include "core/checkpoint.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"

namespace frost::asi {
namespace {

core::ParamSet make_params(const std::map<std::string, core::Value>& overrides) {
  core::ParamRegistry reg("asi");
  declare_sample_params(reg);
  std::map<std::string, core::Value> values;
  for (const auto& spec : reg.specs()) values[spec.path] = spec.default_value;
  for (const auto& [k, v] : overrides) {
    EXPECT_TRUE(values.count("asi." + k)) << k;
    values["asi." + k] = v;
  }
  return core::ParamSet("asi", values);
}

core::RunResult run_task(const std::map<std::string, core::Value>& o, const Lattice& lat) {
  const auto params = make_params(o);
  core::RunResult result;
  core::Checkpointer checkpoint("", 0, 0.0);
  core::Progress progress(false, 1);
  core::RunContext ctx{params, 0, 99, result, checkpoint, progress};
  run_sample_task(ctx, lat);
  return result;
}

const core::Dataset& dataset(const core::RunResult& r, const std::string& name) {
  for (const auto& d : r.datasets)
    if (d.name == name) return d;
  throw std::runtime_error("no dataset " + name);
}

TEST(Energy, DefaultTypeEnergiesArePointDipoleRatios) {
  const auto t = default_type_energies();
  EXPECT_EQ(t[0], 0.0);
  EXPECT_EQ(t[1], 1.0);
  EXPECT_NEAR(t[2], 1.4459, 1e-4);
  EXPECT_NEAR(t[3], 3.7836, 1e-4);
  EXPECT_EQ(square_vertex_type(0b0101), 0);
  EXPECT_EQ(square_vertex_type(0b0011), 1);
  EXPECT_EQ(square_vertex_type(0b0111), 2);
  EXPECT_EQ(square_vertex_type(0b0000), 3);
}

/// Direct point-dipole energy: every pair i < j once, minimum image on a torus, r < cutoff.
double dipolar_reference(const Lattice& lat, double cutoff, double D,
                         const std::vector<std::int8_t>& s) {
  const int n1 = lat.edge_count();
  auto image = [](double d, double p) { return p > 0 ? d - p * std::round(d / p) : d; };
  double E = 0.0;
  for (int i = 0; i < n1; ++i) {
    for (int j = i + 1; j < n1; ++j) {
      const double dx = image(lat.island_position[j][0] - lat.island_position[i][0], lat.period[0]);
      const double dy = image(lat.island_position[j][1] - lat.island_position[i][1], lat.period[1]);
      const double r = std::sqrt(dx * dx + dy * dy);
      if (r >= cutoff) continue;
      const double mix = s[i] * lat.island_axis[i][0], miy = s[i] * lat.island_axis[i][1];
      const double mjx = s[j] * lat.island_axis[j][0], mjy = s[j] * lat.island_axis[j][1];
      E += D *
           ((mix * mjx + miy * mjy) -
            3.0 * (mix * dx + miy * dy) * (mjx * dx + mjy * dy) / (r * r)) /
           (r * r * r);
    }
  }
  return E;
}

/// Direct pair-model energy: J s_i s_j for every pair of islands at every non-terminal vertex,
/// s = +1 when the island's arrow points into the vertex.
double pair_reference(const Lattice& lat, double J, const std::vector<std::int8_t>& s) {
  double E = 0.0;
  for (int v = 0; v < lat.vertex_count(); ++v) {
    if (lat.terminal[v]) continue;
    std::vector<int> in_sign;
    for (int e = 0; e < lat.edge_count(); ++e) {
      if (lat.edges[e][1] == v) in_sign.push_back(s[e]);  // sigma = +1 points tail -> head
      if (lat.edges[e][0] == v) in_sign.push_back(-s[e]);
    }
    for (std::size_t a = 0; a < in_sign.size(); ++a)
      for (std::size_t b = a + 1; b < in_sign.size(); ++b) E += J * in_sign[a] * in_sign[b];
  }
  return E;
}

double zeeman(const std::vector<double>& f, const std::vector<std::int8_t>& s) {
  double E = 0.0;
  for (std::size_t e = 0; e < s.size(); ++e) E -= f[e] * s[e];
  return E;
}

TEST(Energy, FlipEnergyChangesMatchDirectSums) {
  struct Case {
    const char* name;
    Lattice lat;
    double cutoff;
  };
  // the cutoffs avoid distances that occur in the lattice, where rounding would decide
  const std::vector<Case> cases = {{"square_open", make_square(4, "open"), 2.2},
                                   {"square_periodic", make_square(5, "periodic"), 2.2},
                                   {"square_periodic_big_cutoff", make_square(4, "periodic"), 3.3},
                                   {"kagome_open", make_kagome(3, "open"), 2.1},
                                   {"kagome_periodic", make_kagome(4, "periodic"), 2.1}};
  for (const auto& c : cases) {
    const SamplerGraph g = build_sampler_graph(c.lat);
    const auto field = field_projection(c.lat, 0.4, 20.0);
    const double D = 0.8, J = 1.3;
    const PairCouplings pairs = dipolar_couplings(c.lat, c.cutoff, D);
    for (int model : {kDipolarModel, kPairModel, kVertexModel, kChargeModel}) {
      SamplerConfig cfg;
      cfg.thermal = true;
      cfg.energy.model = model;
      cfg.energy.pair_coupling = J;
      auto energy = [&](const std::vector<std::int8_t>& s) {
        if (model == kDipolarModel)
          return dipolar_reference(c.lat, c.cutoff, D, s) + zeeman(field, s);
        if (model == kPairModel) return pair_reference(c.lat, J, s) + zeeman(field, s);
        return configuration_energy(g, cfg.energy, field, s);
      };
      core::RandomStream rs(17, static_cast<std::uint32_t>(model), 0);
      std::vector<std::int8_t> s(g.n1);
      for (auto& x : s) x = rs.uniform() < 0.5 ? 1 : -1;
      auto k = make_chain_kernel<Kokkos::HostSpace>(g, cfg, field, 1, s, pairs);
      auto spins = [&]() {
        return std::vector<std::int8_t>(k.spins.data(), k.spins.data() + g.n1);
      };
      const std::string what = std::string(c.name) + " model " + std::to_string(model);
      EXPECT_NEAR(configuration_energy(g, cfg.energy, field, s, &pairs), energy(s), 1e-9) << what;
      if (model == kDipolarModel) {
        EXPECT_NEAR(k.pair_energy_of(0), energy(s) - zeeman(field, s), 1e-9);
      }
      double E = energy(s);
      for (int t = 0; t < 60; ++t) {
        const int e = static_cast<int>(rs.below(static_cast<std::uint32_t>(g.n1)));
        const double dE = k.flip_with_delta(0, e);
        const double E1 = energy(spins());
        EXPECT_NEAR(dE, E1 - E, 1e-9 * (1.0 + std::fabs(E))) << what << " island " << e;
        E = E1;
      }
      // loop flips: every face and winding, vertices listed along the loop
      std::vector<OrientedLoop> loops = c.lat.faces;
      loops.insert(loops.end(), c.lat.windings.begin(), c.lat.windings.end());
      for (const auto& loop : loops) {
        const int n = static_cast<int>(loop.edges.size());
        for (int i = 0; i < n; ++i) {
          const int e = loop.edges[i];
          k.estack(0, i) = e;
          k.vstack(0, i) = loop.orientation[i] > 0 ? c.lat.edges[e][0] : c.lat.edges[e][1];
        }
        const double dE = k.flip_loop_with_delta(0, 0, n);
        const double E1 = energy(spins());
        EXPECT_NEAR(dE, E1 - E, 1e-9 * (1.0 + std::fabs(E))) << what << " loop of " << n;
        E = E1;
      }
    }
  }
}

TEST(Energy, PairModelIsChargeModelPlusConstant) {
  for (const Lattice& lat : {make_kagome(3, "open"), make_square(4, "periodic")}) {
    const SamplerGraph g = build_sampler_graph(lat);
    EnergyConstants pair, charge;
    pair.model = kPairModel;
    charge.model = kChargeModel;
    pair.pair_coupling = charge.charge_energy = 0.7;
    double shift = 0.0;  // (J / 2) sum_v ((deg_v mod 2) - deg_v)
    for (int v = 0; v < g.n0; ++v) shift += 0.35 * ((g.degree[v] & 1) - g.degree[v]);
    const std::vector<double> zero(g.n1, 0.0);
    core::RandomStream rs(23, 0, 0);
    for (int t = 0; t < 20; ++t) {
      std::vector<std::int8_t> s(g.n1);
      for (auto& x : s) x = rs.uniform() < 0.5 ? 1 : -1;
      EXPECT_NEAR(configuration_energy(g, pair, zero, s),
                  configuration_energy(g, charge, zero, s) + shift, 1e-12);
      EXPECT_NEAR(configuration_energy(g, pair, zero, s), pair_reference(lat, 0.7, s), 1e-12);
    }
  }
}

TEST(Energy, DipolarCouplingsAreSymmetricAndCutOff) {
  const Lattice lat = make_square(6, "periodic");
  const PairCouplings p = dipolar_couplings(lat, 1.2, 1.0);
  ASSERT_EQ(p.offsets.size(), static_cast<std::size_t>(lat.edge_count()) + 1);
  for (int i = 0; i < lat.edge_count(); ++i) {
    // below r = 1.2 on the square lattice: 4 perpendicular islands at sqrt(1/2), 2 collinear
    // and 2 parallel ones at 1
    EXPECT_EQ(p.offsets[i + 1] - p.offsets[i], 8) << i;
    for (int q = p.offsets[i]; q < p.offsets[i + 1]; ++q) {
      const int j = p.neighbour[q];
      bool back = false;
      for (int t = p.offsets[j]; t < p.offsets[j + 1]; ++t)
        back = back || (p.neighbour[t] == i && p.coupling[t] == p.coupling[q]);
      EXPECT_TRUE(back);
    }
  }
  EXPECT_THROW(dipolar_couplings(lat, 0.0, 1.0), std::invalid_argument);
}

TEST(Energy, DipolarThermalAveragesMatchExactBoltzmannSums) {
  const Lattice lat = make_square(3, "open");  // 12 islands: 4096 states
  const int n1 = lat.edge_count();
  const double cutoff = 2.2, D = 0.5, h = 0.3;
  const std::vector<double> temps = {1.0, 2.0};
  const auto field = field_projection(lat, h, 30.0);
  std::vector<double> E(1u << n1);
  std::vector<std::int8_t> s(n1);
  double emin = 1e300;
  for (std::uint32_t m = 0; m < (1u << n1); ++m) {
    for (int e = 0; e < n1; ++e) s[e] = (m >> e) & 1 ? 1 : -1;
    E[m] = dipolar_reference(lat, cutoff, D, s) + zeeman(field, s);
    emin = std::min(emin, E[m]);
  }
  const auto r = run_task({{"sample.ensemble", core::Value::of_string("thermal")},
                           {"thermal.model", core::Value::of_string("dipolar")},
                           {"thermal.dipolar_cutoff", core::Value::of_real(cutoff)},
                           {"thermal.dipolar_strength", core::Value::of_real(D)},
                           {"thermal.field", core::Value::of_real(h)},
                           {"thermal.field_angle", core::Value::of_real(30.0)},
                           {"temperatures", core::Value::of_real_list(temps)},
                           {"sample.chains", core::Value::of_int(4)},
                           {"sample.sweeps", core::Value::of_int(20000)},
                           {"output.sq_points", core::Value::of_int(0)},
                           {"output.states_every", core::Value::of_int(0)}},
                          lat);
  const auto& bt = dataset(r, "by_temperature");
  for (std::size_t j = 0; j < temps.size(); ++j) {
    const double beta = 1.0 / temps[j];
    double Z = 0, e1 = 0, e2 = 0;
    for (double x : E) {
      const double w = std::exp(-beta * (x - emin));
      Z += w;
      e1 += w * x;
      e2 += w * x * x;
    }
    e1 /= Z;
    e2 /= Z;
    const double exact_e = e1 / n1, exact_c = beta * beta * (e2 - e1 * e1) / n1;
    const double* row = reinterpret_cast<const double*>(bt.bytes.data()) + 11 * j;
    EXPECT_NEAR(row[1], exact_e, 4.5 * row[2] + 1e-9) << "T=" << temps[j];
    EXPECT_NEAR(row[3], exact_c, 4.5 * row[4] + 0.03 * exact_c) << "T=" << temps[j];
    RecordProperty("energy_T" + std::to_string(j),
                   std::to_string(row[1]) + " exact " + std::to_string(exact_e));
  }
}

struct ThermalCase {
  int L;
  const char* boundary;
  const char* model;
  std::vector<double> temps;
  double field;
};

TEST(Energy, ThermalAveragesMatchExactBoltzmannSums) {
  const std::vector<ThermalCase> cases = {{3, "open", "vertex", {1.0}, 0.3},
                                          {3, "periodic", "charge", {0.7, 1.5}, 0.2}};
  for (const auto& c : cases) {
    const Lattice lat = make_square(c.L, c.boundary);
    const SamplerGraph g = build_sampler_graph(lat);
    EnergyConstants ec;
    ec.model = parse_energy_model(c.model);
    const auto field = field_projection(lat, c.field, 30.0);
    const int n1 = g.n1;
    for (std::size_t j = 0; j < c.temps.size(); ++j) {
      const double beta = 1.0 / c.temps[j];
      // exact sums; shift energies by the minimum to keep the weights finite
      std::vector<double> E(1u << n1);
      std::vector<std::int8_t> s(n1);
      double emin = 1e300;
      for (std::uint32_t m = 0; m < (1u << n1); ++m) {
        for (int e = 0; e < n1; ++e) s[e] = (m >> e) & 1 ? 1 : -1;
        E[m] = configuration_energy(g, ec, field, s);
        emin = std::min(emin, E[m]);
      }
      double Z = 0, e1 = 0, e2 = 0;
      for (double x : E) {
        const double w = std::exp(-beta * (x - emin));
        Z += w;
        e1 += w * x;
        e2 += w * x * x;
      }
      e1 /= Z;
      e2 /= Z;
      const double exact_e = e1 / n1, exact_c = beta * beta * (e2 - e1 * e1) / n1;
      const auto r = run_task({{"sample.ensemble", core::Value::of_string("thermal")},
                               {"thermal.model", core::Value::of_string(c.model)},
                               {"thermal.field", core::Value::of_real(c.field)},
                               {"thermal.field_angle", core::Value::of_real(30.0)},
                               {"temperatures", core::Value::of_real_list(c.temps)},
                               {"sample.chains", core::Value::of_int(4)},
                               {"sample.sweeps", core::Value::of_int(20000)},
                               {"output.sq_points", core::Value::of_int(0)},
                               {"output.states_every", core::Value::of_int(0)}},
                              lat);
      const auto& bt = dataset(r, "by_temperature");
      ASSERT_EQ(r.find("by_temperature_columns")->s,
                "T,energy,energy_err,specific_heat,specific_heat_err,type_I,type_II,type_III,"
                "type_IV,monopole_density,tau_int_energy");
      EXPECT_EQ(r.find("temperature")->r, c.temps[0]);
      const double* row = reinterpret_cast<const double*>(bt.bytes.data()) + 11 * j;
      EXPECT_EQ(row[0], c.temps[j]);
      EXPECT_NEAR(row[5] + row[6] + row[7] + row[8], 1.0, 1e-9);  // vertex-type fractions
      EXPECT_GE(row[9], 0.0);
      EXPECT_GE(row[10], 0.5);
      EXPECT_NEAR(row[1], exact_e, 4.5 * row[2] + 1e-9) << c.boundary << " T=" << c.temps[j];
      EXPECT_NEAR(row[3], exact_c, 4.5 * row[4] + 0.03 * exact_c)
          << c.boundary << " T=" << c.temps[j];
    }
  }
}

TEST(Energy, UniformSamplersVisitEveryIceStateEquallyOften) {
  struct U {
    int L;
    const char* boundary;
    const char* move;
  };
  for (const U u : {U{3, "open", "short_loop"}, U{3, "open", "long_loop"},
                    U{3, "periodic", "short_loop"}, U{3, "periodic", "long_loop"}}) {
    const Lattice lat = make_square(u.L, u.boundary);
    const auto r = run_task({{"sample.move", core::Value::of_string(u.move)},
                             {"sample.chains", core::Value::of_int(8)},
                             {"sample.sweeps", core::Value::of_int(30000)},
                             {"sample.thin", core::Value::of_int(3)},
                             {"output.sq_points", core::Value::of_int(0)},
                             {"output.states_every", core::Value::of_int(0)}},
                            lat);
    ASSERT_NE(r.find("sector_states"), nullptr) << u.boundary;
    EXPECT_EQ(r.find("sector_misses")->r, 0.0);
    EXPECT_EQ(r.find("distinct_states")->i, r.find("sector_states")->i);
    EXPECT_GT(r.find("chi2_p_value")->r, 1e-3)
        << u.boundary << " " << u.move << " chi2 " << r.find("chi2")->r << " dof "
        << r.find("chi2_dof")->r;
    EXPECT_LT(r.find("kl_uniform")->r, 0.01);
    RecordProperty(std::string(u.boundary) + "_" + u.move + "_p",
                   std::to_string(r.find("chi2_p_value")->r));
  }
}

}  // namespace
}  // namespace frost::asi
