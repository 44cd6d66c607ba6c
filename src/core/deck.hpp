// Input decks: Teuchos YAML parameter lists. The top-level key names the module; an optional
// `sweep:` block expands keys into runs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/params.hpp"
#include "core/value.hpp"

namespace frost::core {

/// A deck as read from its file: flat full-path values and the sweep block, unvalidated.
struct RawDeck {
  std::string file;                                               ///< path as given, for messages
  std::string module;                                             ///< the top-level module key
  std::vector<std::pair<std::string, Value>> keys;                ///< module keys in file order
  std::vector<std::pair<std::string, std::vector<Value>>> sweep;  ///< expanded axis values
  bool zip = false;  ///< zip sweep axes instead of product
};

/// One point of a sweep: its id and the values that differ from the base deck.
struct RunSpec {
  int id = 0;
  std::vector<std::pair<std::string, Value>> overrides;  ///< sweep values, full paths
  ParamSet params;                                       ///< resolved parameters
};

/// Reads and parses a deck file. Throws InputError for a missing file or malformed YAML, and when
/// the top-level key is not one of `modules`.
RawDeck read_deck(const std::string& file, const std::vector<std::string>& modules);
/// Reads a deck from YAML text (tests); `file` names it in messages.
RawDeck parse_deck(const std::string& yaml, const std::string& file,
                   const std::vector<std::string>& modules);

/// Applies `--set key.path=value` assignments (full paths) to the deck's keys, typed by `reg`.
void apply_sets(RawDeck& deck, const ParamRegistry& reg, const std::vector<std::string>& sets);

/// Validates the deck against the module's declarations and expands the sweep into runs with all
/// parameters resolved. Throws InputError on the first problem (unknown key with the closest
/// declared one, wrong type, out of range, not allowed).
std::vector<RunSpec> resolve_runs(const RawDeck& deck, const ParamRegistry& reg);

}  // namespace frost::core
