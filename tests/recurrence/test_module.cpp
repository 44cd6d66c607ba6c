// The recurrence module end to end: declared keys, deck checks and small runs of both kinds.
#include <gtest/gtest.h>

#include <map>

#include "core/checkpoint.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "recurrence/module.hpp"

namespace frost::recurrence {
namespace {

core::ParamSet make_params(const std::map<std::string, core::Value>& overrides) {
  const RecurrenceModule m;
  const core::ParamRegistry reg = core::module_registry(m);
  std::map<std::string, core::Value> values;
  for (const auto& spec : reg.specs()) values[spec.path] = spec.default_value;
  for (const auto& [k, v] : overrides) {
    EXPECT_TRUE(values.count("recurrence." + k)) << k;
    values["recurrence." + k] = v;
  }
  return core::ParamSet("recurrence", values);
}

core::RunResult run_module(const std::map<std::string, core::Value>& o) {
  const auto params = make_params(o);
  RecurrenceModule().check(params, "deck.yaml");
  core::RunResult result;
  core::Checkpointer checkpoint("", 0, 0.0);
  core::Progress progress(false, 1);
  core::RunContext ctx{params, 3, 42, result, checkpoint, progress};
  RecurrenceModule().run(ctx);
  return result;
}

double real(const core::RunResult& r, const std::string& k) {
  const core::Value* v = r.find(k);
  EXPECT_NE(v, nullptr) << k;
  return v ? v->r : -1.0;
}

TEST(RecurrenceModule, EigenstateBothDirections) {
  for (const char* prec : {"f64", "f32"}) {
    const auto r = run_module({{"T", core::Value::of_int(300)},
                               {"K", core::Value::of_int(16)},
                               {"method", core::Value::of_string("chunked")},
                               {"chunk", core::Value::of_int(64)},
                               {"precision", core::Value::of_string(prec)},
                               {"direction", core::Value::of_string("both")},
                               {"repeats", core::Value::of_int(2)}});
    EXPECT_LT(real(r, "max_rel_error"), std::string(prec) == "f64" ? 1e-12 : 1e-4);
    EXPECT_GT(real(r, "forward_gbs"), 0.0);
    EXPECT_GT(real(r, "backward_floor_seconds"), 0.0);
    EXPECT_GT(real(r, "bandwidth_gbs"), 0.0);
  }
}

TEST(RecurrenceModule, DenseEveryMethod) {
  for (const char* m :
       {"auto", "sequential", "hillis_steele", "blelloch", "cyclic_reduction", "chunked"}) {
    const auto r = run_module({{"kind", core::Value::of_string("dense")},
                               {"T", core::Value::of_int(100)},
                               {"n", core::Value::of_int(8)},
                               {"batch", core::Value::of_int(2)},
                               {"method", core::Value::of_string(m)},
                               {"direction", core::Value::of_string("both")},
                               {"repeats", core::Value::of_int(1)}});
    EXPECT_LT(real(r, "max_rel_error"), 1e-12) << m;
    EXPECT_GT(real(r, "forward_gflops"), 0.0) << m;
  }
}

TEST(RecurrenceModule, RejectsDenseMethodForEigenstate) {
  const auto p = make_params({{"method", core::Value::of_string("cyclic_reduction")}});
  EXPECT_THROW(RecurrenceModule().check(p, "deck.yaml"), core::InputError);
}

TEST(RecurrenceModule, ReportHasOneLinePerRun) {
  const auto r = run_module({{"T", core::Value::of_int(64)}, {"K", core::Value::of_int(4)}});
  const std::string text = RecurrenceModule().report({r, r});
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  // The line names the method `auto` resolved to (it depends on the backend's parallelism).
  const core::Value* method = r.find("method");
  ASSERT_NE(method, nullptr);
  EXPECT_TRUE(method->s == "sequential" || method->s == "chunked" || method->s == "tiled")
      << method->s;
  EXPECT_NE(text.find(method->s), std::string::npos);
}

}  // namespace
}  // namespace frost::recurrence
