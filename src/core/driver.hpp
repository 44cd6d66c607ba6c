// Runs a deck: validate, expand the sweep, hand runs to ranks, collect and write results.
#pragma once

#include <string>
#include <vector>

#include "core/module.hpp"
#include "core/runtime.hpp"

namespace frost::core {

/// The command line of one invocation.
struct Options {
  std::string deck;
  std::vector<std::string> sets;  ///< key.path=value
  std::string output;             ///< output folder; empty: frost-output/<deck stem>
  bool resume = false, overwrite = false, check_only = false, quiet = false;
  std::string command_line;
};

/// Runs `opt.deck` with the module its top-level key names. Returns the exit code: 0 success,
/// 1 a run failed (completed runs are still written), 2 bad input (nothing written).
int run_deck(const Runtime& rt, const std::vector<const Module*>& modules, const Options& opt);

}  // namespace frost::core
