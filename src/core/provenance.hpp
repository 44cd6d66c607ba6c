// Where a result came from: version, commit, date, ranks, backend, devices, command line.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace frost::core {

/// Ordered key/value description of the build and the invocation, written into every output.
struct Provenance {
  std::vector<std::pair<std::string, std::string>> entries;
  /// Build and runtime facts; `command_line` and `ranks` describe this invocation.
  static Provenance collect(const std::string& command_line, int ranks);
};

/// Text printed by `frost --version`.
std::string version_text();
/// The frost version string and build commit.
std::string frost_version();
std::string frost_commit();

}  // namespace frost::core
