#include "core/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace frost::core {

namespace {
/// A terminal that shows an updating line. Under mpirun the launcher forwards output through a
/// pseudo-terminal even when it ends in a log file, so launched ranks print plain lines.
bool interactive_terminal() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_STEP_ID"})
    if (std::getenv(var)) return false;
  return ::isatty(STDOUT_FILENO);
}
}  // namespace

Progress::Progress(bool active, long total_runs)
    : active_(active), tty_(active && interactive_terminal()), total_(total_runs) {}

void Progress::print(const std::string& line, bool force) {
  if (!active_) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_print_).count();
  if (!force && since < (tty_ ? 0.25 : 10.0)) return;
  last_print_ = now;
  if (tty_) {
    std::printf("\r\033[K%s", line.c_str());
    dirty_ = true;
  } else {
    std::printf("%s\n", line.c_str());
  }
  std::fflush(stdout);
}

void Progress::start_run(int run_id, long runs_started) {
  run_ = run_id;
  started_ = runs_started;
  run_start_ = std::chrono::steady_clock::now();
  char buf[128];
  std::snprintf(buf, sizeof buf, "[frost] run %d started (%ld/%ld taken)", run_id, runs_started,
                total_);
  print(buf, !tty_ || true);
}

void Progress::update(double fraction, const std::string& rate) {
  if (!active_) return;
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start_).count();
  double eta = fraction > 1e-9 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  char buf[256];
  std::snprintf(buf, sizeof buf, "[frost] runs %ld/%ld | run %d: %5.1f%% %s | ETA %.0fs", started_,
                total_, run_, 100.0 * fraction, rate.c_str(), eta);
  print(buf, false);
}

void Progress::finish_run(bool ok) {
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start_).count();
  char buf[128];
  std::snprintf(buf, sizeof buf, "[frost] run %d %s in %.2fs", run_, ok ? "done" : "FAILED",
                elapsed);
  print(buf, true);
  if (tty_) {
    std::printf("\n");
    dirty_ = false;
  }
}

void Progress::close() {
  if (active_ && tty_ && dirty_) std::printf("\n");
  dirty_ = false;
}

}  // namespace frost::core
