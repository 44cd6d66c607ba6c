// Output of one invocation: DIR/frost.h5 (resolved deck, provenance, a group per run) and
// DIR/summary.json (the same scalars, readable without HDF5). Every file is written under a
// temporary name and renamed, so a reader never sees a half-written file.
#pragma once

#include <string>
#include <vector>

#include "core/provenance.hpp"
#include "core/result.hpp"

namespace frost::core {

/// Writes `content` to `path` atomically (temporary file in the same folder, then rename).
void write_file_atomic(const std::string& path, const std::string& content);

/// Writes frost.h5, summary.json and the runs' artifacts into `dir` (which must exist).
void write_outputs(const std::string& dir, const std::string& deck_yaml, const Provenance& prov,
                   const std::vector<RunResult>& runs);

/// The summary.json text.
std::string summary_json(const Provenance& prov, const std::vector<RunResult>& runs);

}  // namespace frost::core
