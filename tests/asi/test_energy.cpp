// Thermal sampling against exact Boltzmann sums over all 2^n1 states of tiny lattices, and
// chi-square uniformity of the uniform-ensemble samplers over enumerated ice sectors.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "asi/energy.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/loop_sampler.hpp"
#include "asi/sample_task.hpp"
#include "core/checkpoint.hpp"
#include "core/progress.hpp"

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
