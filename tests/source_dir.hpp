// Where the tests find files of the source tree (the decks under inputs/).
#pragma once

#include <cstdlib>
#include <string>

#ifndef FROST_SOURCE_DIR
#error "FROST_SOURCE_DIR must be defined (tests/CMakeLists.txt sets it)"
#endif

namespace frost::test {

/// The root of the source tree: the environment variable FROST_SOURCE_DIR when set and not empty
/// (a tree unpacked somewhere else than where the tests were built), else the root the build was
/// configured from.
inline std::string source_dir() {
  if (const char* env = std::getenv("FROST_SOURCE_DIR"); env != nullptr && *env != '\0') return env;
  return FROST_SOURCE_DIR;
}

}  // namespace frost::test
