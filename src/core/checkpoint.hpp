// Checkpoints: a module saves its whole state every N steps or M seconds; after a kill, --resume
// restores it and the run ends bitwise identical to an uninterrupted one (all randomness is
// counter-based, so the state includes the stream counters).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace frost::core {

class ParamRegistry;

/// Declares the checkpoint keys every module has (`<module>.checkpoint.*`).
void declare_checkpoint_params(ParamRegistry& reg);

/// Snapshot store of one run. Snapshots are written atomically (temporary file, rename), so a
/// kill at any moment leaves the previous snapshot intact.
class Checkpointer {
 public:
  /// `path` empty disables saving. every_steps <= 0 and every_seconds <= 0 disable the triggers.
  Checkpointer(std::string path, long every_steps, double every_seconds);

  /// The state saved by an earlier invocation (only when resuming), or nothing.
  std::optional<std::vector<char>> restore() const;
  /// True when a snapshot is due after `step` (a module's own step count).
  bool due(long step);
  /// Saves `state` atomically.
  void save(const std::vector<char>& state);
  bool enabled() const { return !path_.empty(); }

 private:
  std::string path_;
  long every_steps_;
  double every_seconds_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace frost::core
