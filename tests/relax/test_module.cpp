// The relax module end to end: declared keys, deck checks, the decks under inputs/relax/ (the
// solver sweep converges; in the stiff deck euler diverges and the other solvers converge), the
// report, and the kernel labels.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "core/checkpoint.hpp"
#include "core/deck.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "relax/module.hpp"

namespace frost::relax {
namespace {

std::string deck_path(const std::string& name) {
  const std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/../../inputs/relax/" + name;
}

std::vector<core::RunResult> run_deck(const std::string& name) {
  const RelaxModule m;
  const core::ParamRegistry reg = core::module_registry(m);
  const core::RawDeck deck = core::read_deck(deck_path(name), {"relax"});
  std::vector<core::RunResult> out;
  for (const auto& spec : core::resolve_runs(deck, reg)) {
    m.check(spec.params, name);
    core::RunResult result;
    result.id = spec.id;
    core::Checkpointer checkpoint("", 0, 0.0);
    core::Progress progress(false, 1);
    core::RunContext ctx{spec.params, spec.id, 42, result, checkpoint, progress};
    m.run(ctx);
    out.push_back(result);
  }
  return out;
}

bool flag(const core::RunResult& r, const char* k) {
  const core::Value* v = r.find(k);
  EXPECT_NE(v, nullptr) << k;
  return v && v->b;
}
double real(const core::RunResult& r, const char* k) {
  const core::Value* v = r.find(k);
  EXPECT_NE(v, nullptr) << k;
  return v ? (v->type == core::Value::Type::Int ? double(v->i) : v->r) : -1.0;
}
bool has_dataset(const core::RunResult& r, const std::string& name) {
  for (const auto& d : r.datasets)
    if (d.name == name) return true;
  return false;
}

TEST(RelaxModule, SolversDeckConverges) {
  const auto runs = run_deck("solvers.yaml");
  ASSERT_EQ(runs.size(), 4u);
  for (const auto& r : runs) {
    EXPECT_TRUE(flag(r, "converged")) << r.id;
    EXPECT_LT(real(r, "final_rel"), 1e-8) << r.id;
    EXPECT_LT(real(r, "max_re_mu"), 0.0) << r.id;
    EXPECT_GT(real(r, "eps_crit"), 0.1) << r.id;  // euler at the deck's eps is stable here
    EXPECT_TRUE(has_dataset(r, "force_residual")) << r.id;
    EXPECT_TRUE(has_dataset(r, "ritz")) << r.id;
  }
  const std::string table = RelaxModule().report(runs);
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 5);
}

TEST(RelaxModule, StiffDeckEulerDivergesOthersConverge) {
  const auto runs = run_deck("stiff.yaml");
  ASSERT_EQ(runs.size(), 4u);
  for (const auto& r : runs) {
    const std::string solver = r.find("solver")->s;
    if (solver == "euler") {
      EXPECT_TRUE(flag(r, "diverged"));
      EXPECT_FALSE(flag(r, "converged"));
    } else {
      EXPECT_TRUE(flag(r, "converged")) << solver;
      EXPECT_FALSE(flag(r, "handed_over")) << solver;
      // At the answer, the deck's eps = 0.2 is above the Euler stability limit.
      EXPECT_LT(real(r, "eps_crit"), 0.2) << solver;
      EXPECT_LT(real(r, "max_re_mu"), 0.0) << solver;
    }
  }
}

TEST(RelaxModule, RejectsWidthNotMultipleOfHeads) {
  const RelaxModule m;
  const core::ParamRegistry reg = core::module_registry(m);
  core::RawDeck deck = core::parse_deck(reg.defaults_yaml(), "d.yaml", {"relax"});
  core::apply_sets(deck, reg, {"relax.field.C=30", "relax.field.heads=4"});
  const auto runs = core::resolve_runs(deck, reg);
  EXPECT_THROW(m.check(runs[0].params, "d.yaml"), core::InputError);
}

std::set<std::string>& labels() {
  static std::set<std::string> seen;
  return seen;
}
void record(const char* name, std::uint32_t, std::uint64_t* id) {
  labels().insert(name);
  *id = 0;
}
void ignore_end(std::uint64_t) {}

TEST(RelaxModule, KernelLabels) {
  const RelaxModule m;
  const core::ParamRegistry reg = core::module_registry(m);
  for (const char* solver : {"euler", "adaptive", "anderson", "implicit"}) {
    core::RawDeck deck = core::parse_deck(reg.defaults_yaml(), "defaults", {"relax"});
    core::apply_sets(deck, reg,
                     {std::string("relax.solver=") + solver, "relax.field.T=4", "relax.field.C=8",
                      "relax.field.heads=2", "relax.max_iters=5", "relax.diag.steps=3"});
    const auto runs = core::resolve_runs(deck, reg);
    core::RunResult result;
    core::Checkpointer ck("", 0, 0.0);
    core::Progress progress(false, 1);
    core::RunContext ctx{runs[0].params, 0, 1, result, ck, progress};
    Kokkos::Tools::Experimental::set_begin_parallel_for_callback(record);
    Kokkos::Tools::Experimental::set_begin_parallel_reduce_callback(record);
    Kokkos::Tools::Experimental::set_end_parallel_for_callback(ignore_end);
    Kokkos::Tools::Experimental::set_end_parallel_reduce_callback(ignore_end);
    m.run(ctx);
    Kokkos::Tools::Experimental::pause_tools();
    Kokkos::Tools::Experimental::set_begin_parallel_for_callback(nullptr);
    Kokkos::Tools::Experimental::set_begin_parallel_reduce_callback(nullptr);
    Kokkos::Tools::Experimental::resume_tools();
  }
  const std::regex grammar("frost::relax::[a-z0-9_]+");
  int n = 0;
  for (const auto& name : labels()) {
    if (name.rfind("Kokkos::", 0) == 0) continue;
    EXPECT_TRUE(std::regex_match(name, grammar)) << name;
    ++n;
  }
  EXPECT_GT(n, 10);
}

}  // namespace
}  // namespace frost::relax
