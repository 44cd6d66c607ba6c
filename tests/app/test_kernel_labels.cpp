// Every kernel frost launches carries a label of the form frost::<module>::<step>: checked by
// running each module's default deck under Kokkos Tools callbacks that record the labels.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <regex>
#include <set>
#include <string>

#include "asi/module.hpp"
#include "core/deck.hpp"
#include "recurrence/module.hpp"
#include "relax/module.hpp"
#include "wavefield/module.hpp"

namespace {

std::set<std::string>& labels() {
  static std::set<std::string> seen;
  return seen;
}
void record(const char* name, std::uint32_t, std::uint64_t* id) {
  labels().insert(name);
  *id = 0;
}
void ignore_end(std::uint64_t) {}

/// Runs a module on its defaults with `sets` applied, recording every kernel label.
void run_module(const frost::core::Module& m, const std::vector<std::string>& sets) {
  using namespace frost::core;
  ParamRegistry reg = module_registry(m);
  RawDeck deck = parse_deck(reg.defaults_yaml(), "defaults", {m.name()});
  apply_sets(deck, reg, sets);
  auto runs = resolve_runs(deck, reg);
  RunResult result;
  Checkpointer ck("", 0, 0.0);
  Progress progress(false, 1);
  RunContext ctx{runs[0].params, 0, 1, result, ck, progress};
  Kokkos::Tools::Experimental::set_begin_parallel_for_callback(record);
  Kokkos::Tools::Experimental::set_begin_parallel_reduce_callback(record);
  Kokkos::Tools::Experimental::set_begin_parallel_scan_callback(record);
  Kokkos::Tools::Experimental::set_end_parallel_for_callback(ignore_end);
  Kokkos::Tools::Experimental::set_end_parallel_reduce_callback(ignore_end);
  Kokkos::Tools::Experimental::set_end_parallel_scan_callback(ignore_end);
  m.run(ctx);
  Kokkos::Tools::Experimental::pause_tools();
  Kokkos::Tools::Experimental::set_begin_parallel_for_callback(nullptr);
  Kokkos::Tools::Experimental::set_begin_parallel_reduce_callback(nullptr);
  Kokkos::Tools::Experimental::set_begin_parallel_scan_callback(nullptr);
  Kokkos::Tools::Experimental::resume_tools();
}

}  // namespace

TEST(KernelLabels, EveryKernelIsNamedByModuleAndStep) {
  labels().clear();
  run_module(frost::asi::AsiModule(),
             {"asi.task=sample", "asi.sample.sweeps=20", "asi.sample.burn_in=5"});
  run_module(frost::asi::AsiModule(),
             {"asi.task=sample", "asi.sample.ensemble=thermal", "asi.sample.sweeps=20"});
  run_module(frost::recurrence::RecurrenceModule(), {});
  run_module(frost::relax::RelaxModule(), {});
  run_module(frost::wavefield::WavefieldModule(), {"wavefield.cycles=1"});
  run_module(frost::wavefield::WavefieldModule(),
             {"wavefield.nodes=100", "wavefield.cycles=2", "wavefield.control.enabled=true",
              "wavefield.control.hidden=4", "wavefield.control.generations=1",
              "wavefield.control.pairs=1", "wavefield.control.episode_cycles=1"});
  run_module(frost::asi::AsiModule(), {"asi.task=train", "asi.train.mode=b", "asi.train.epochs=2"});
  run_module(frost::asi::AsiModule(),
             {"asi.task=train", "asi.train.mode=proposal", "asi.train.epochs=2"});
  const std::regex grammar(
      "frost::(asi|recurrence|wavefield|relax|core)::[a-z0-9_]+(::[a-z0-9_]+)?");
  int frost_kernels = 0;
  for (const auto& name : labels()) {
    // Kokkos' own kernels (view initialisation, deep copies) and Kokkos Kernels' (GEMMs, some
    // named "... Dot Product Based GEMM" on GPUs) carry their libraries' labels.
    if (name.rfind("Kokkos::", 0) == 0 || name.rfind("KokkosBlas::", 0) == 0 ||
        name.find("GEMM") != std::string::npos)
      continue;
    EXPECT_TRUE(std::regex_match(name, grammar)) << "kernel label '" << name << "'";
    ++frost_kernels;
  }
  EXPECT_GT(frost_kernels, 3);
}
