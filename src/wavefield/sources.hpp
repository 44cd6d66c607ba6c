// Per-node source parameters (amplitude, wave number, frequency, phase) from the deck: a
// constant, uniform random values from the run's Philox streams, or a file.
#pragma once

#include <cstdint>
#include <string>

#include "wavefield/field.hpp"

namespace frost::core {
class ParamRegistry;
class ParamSet;
}  // namespace frost::core

namespace frost::wavefield {

/// Declares `sources.<q>.mode|value|range|file` for q in amplitude, wavenumber, frequency, phase.
void declare_source_params(core::ParamRegistry& reg);

/// The per-node parameters of n nodes. Random values of node i are draws of the stream
/// (seed, run, chain = quantity index + 1) at counter 2i, so they do not depend on n.
/// Throws InputError naming `file` (the deck) when a value file is missing or short.
SourceParams make_sources(const core::ParamSet& p, int n, std::uint64_t seed, int run,
                          const std::string& file);

/// Numbers of a value file: whitespace separated, '#' starts a comment.
std::vector<double> read_value_file(const std::string& path);

}  // namespace frost::wavefield
