// Progress of long runs on rank 0: one updating line on a terminal, plain lines otherwise.
#pragma once

#include <chrono>
#include <string>

namespace frost::core {

/// Reports run counts and the current run's progress. Silent on ranks other than 0 and when quiet.
class Progress {
 public:
  Progress(bool active, long total_runs);
  /// A new run starts on this rank.
  void start_run(int run_id, long runs_started);
  /// Fraction done of the current run, with an optional rate text ("1.2e5 sweeps/s").
  void update(double fraction, const std::string& rate = "");
  /// The current run ended.
  void finish_run(bool ok);
  /// Ends the updating line.
  void close();

 private:
  void print(const std::string& line, bool force);
  bool active_, tty_;
  long total_, started_ = 0;
  int run_ = -1;
  std::chrono::steady_clock::time_point run_start_, last_print_;
  bool dirty_ = false;
};

}  // namespace frost::core
