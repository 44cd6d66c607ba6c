// Uniformity of the worm samplers on frustrated and non-square lattices: every state of the
// reference's charge sector (enumerated independently through the cycle space) is visited, with
// frequencies passing a chi-square test against the uniform distribution.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "asi/lattice_generators.hpp"
#include "asi/sample_task.hpp"
#include "core/module.hpp"

namespace frost::asi {
namespace {

core::RunResult sample(const Lattice& lat, const std::string& move, long sweeps) {
  core::ParamRegistry reg("asi");
  declare_sample_params(reg);
  std::map<std::string, core::Value> values;
  for (const auto& spec : reg.specs()) values[spec.path] = spec.default_value;
  values["asi.sample.move"] = core::Value::of_string(move);
  values["asi.sample.chains"] = core::Value::of_int(8);
  values["asi.sample.sweeps"] = core::Value::of_int(sweeps);
  values["asi.sample.thin"] = core::Value::of_int(3);
  values["asi.output.sq_points"] = core::Value::of_int(0);
  values["asi.output.states_every"] = core::Value::of_int(0);
  const core::ParamSet params("asi", values);
  core::RunResult result;
  core::Checkpointer checkpoint("", 0, 0.0);
  core::Progress progress(false, 1);
  core::RunContext ctx{params, 0, 7, result, checkpoint, progress};
  run_sample_task(ctx, lat);
  return result;
}

TEST(Uniformity, ShortLoopsOnKagomeTetrisSantaFe) {
  struct Case {
    Lattice lat;
    const char* name;
  };
  const Case cases[] = {{make_kagome(2, "periodic"), "kagome periodic 2"},
                        {make_tetris(1), "tetris 1"},
                        {make_santa_fe(1), "santa fe 1"},
                        {make_brickwork(2, "open"), "brickwork 2"}};
  for (const auto& c : cases) {
    const auto r = sample(c.lat, "short_loop", 20000);
    ASSERT_NE(r.find("sector_states"), nullptr) << c.name;
    EXPECT_GT(r.find("sector_states")->i, 1) << c.name;
    EXPECT_EQ(r.find("sector_misses")->r, 0.0) << c.name;
    EXPECT_EQ(r.find("distinct_states")->i, r.find("sector_states")->i) << c.name;
    EXPECT_GT(r.find("chi2_p_value")->r, 1e-3)
        << c.name << ": chi2 " << r.find("chi2")->r << " dof " << r.find("chi2_dof")->r;
    EXPECT_LT(r.find("kl_uniform")->r, 0.01) << c.name;
  }
}

}  // namespace
}  // namespace frost::asi
