#include "core/checkpoint.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/output.hpp"
#include "core/params.hpp"

namespace frost::core {

void declare_checkpoint_params(ParamRegistry& reg) {
  reg.add_int("checkpoint.every_steps", 0,
              "save a run's state every this many steps of its module (0: off)")
      .min(0);
  reg.add_real("checkpoint.every_seconds", 300.0,
               "save a run's state when this many seconds passed since the last save (0: off)")
      .min(0);
}

Checkpointer::Checkpointer(std::string path, long every_steps, double every_seconds)
    : path_(std::move(path)),
      every_steps_(every_steps),
      every_seconds_(every_seconds),
      last_(std::chrono::steady_clock::now()) {}

std::optional<std::vector<char>> Checkpointer::restore() const {
  if (path_.empty() || !std::filesystem::exists(path_)) return std::nullopt;
  std::ifstream in(path_, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool Checkpointer::due(long step) {
  if (path_.empty()) return false;
  if (every_steps_ > 0 && step % every_steps_ == 0) return true;
  if (every_seconds_ > 0) {
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_).count();
    if (dt >= every_seconds_) return true;
  }
  return false;
}

void Checkpointer::save(const std::vector<char>& state) {
  if (path_.empty()) return;
  write_file_atomic(path_, std::string(state.begin(), state.end()));
  last_ = std::chrono::steady_clock::now();
}

}  // namespace frost::core
