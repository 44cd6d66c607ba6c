// The contract between the core and a computation module: declared parameters and one entry
// point that receives a RunContext.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/checkpoint.hpp"
#include "core/params.hpp"
#include "core/progress.hpp"
#include "core/result.hpp"

namespace frost::core {

/// What one run gets from the core, and nothing else.
struct RunContext {
  const ParamSet& params;  ///< resolved parameters of this run
  int run_id;              ///< position in the sweep; keys the run's random streams
  std::uint64_t seed;      ///< the deck's seed
  RunResult& result;       ///< where the run puts its scalars, datasets and pictures
  Checkpointer& checkpoint;
  Progress& progress;
  /// The ranks that carry this run together. MPI_COMM_SELF for a run the work queue gave to one
  /// rank; all ranks for a run whose module asked for them (Module::shares_ranks). With more
  /// than one rank, every rank restores the same checkpoint, only rank 0 of `comm` should save
  /// one, and only rank 0's result is kept.
  MPI_Comm comm = MPI_COMM_SELF;
};

/// A computation module (asi, recurrence, relax, wavefield).
class Module {
 public:
  virtual ~Module() = default;
  /// The deck's top-level key.
  virtual std::string name() const = 0;
  /// One line saying what the module computes.
  virtual std::string doc() const = 0;
  /// Declares every parameter of the module (paths relative to the module key).
  virtual void declare(ParamRegistry& reg) const = 0;
  /// Checks that go beyond single keys (combinations, files). Throws InputError naming `file`.
  virtual void check(const ParamSet& /*params*/, const std::string& /*file*/) const {}
  /// True when every rank should carry this run together (RunContext::comm spans all ranks)
  /// instead of the work queue handing it to one rank: for a single run too large for one rank.
  /// Such runs go first, one after another in sweep order, on all ranks; the module splits the
  /// work and must call the same collectives on every rank.
  virtual bool shares_ranks(const ParamSet& /*params*/) const { return false; }
  /// Runs one sweep point. Throws on failure; the core records the failure and goes on.
  virtual void run(RunContext& ctx) const = 0;
  /// A short table of all runs' results, printed by rank 0 at the end.
  virtual std::string report(const std::vector<RunResult>& /*runs*/) const { return ""; }
};

/// The full registry of a module: the core's common keys plus the module's own.
ParamRegistry module_registry(const Module& m);

}  // namespace frost::core
