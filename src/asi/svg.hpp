// SVG drawing of an artificial-spin-ice state: islands as arrows, vertices as coloured discs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "asi/lattice.hpp"

namespace frost::asi {

/// Vertex type of a 4-fold square-lattice vertex in the standard classification of square
/// artificial spin ice (Wang et al., Nature 439, 303 (2006); Morgan et al., Nat. Phys. 7, 75
/// (2011)):
///   type I   (returns 1): 2-in/2-out, the two in-pointing islands are collinear (on opposite
///                         sides of the vertex): zero net moment, the ground state;
///   type II  (returns 2): 2-in/2-out, the two in-pointing islands are perpendicular: net moment;
///   type III (returns 3): 3-in/1-out or 1-in/3-out (charge +-2);
///   type IV  (returns 4): 4-in or 4-out (charge +-4).
/// Returns 0 when the vertex does not have exactly four islands. spins[e] = +1 points tail ->
/// head; an island points into `vertex` when its arrow head is at the vertex. The four islands
/// are ordered by angle around the vertex and classified by square_vertex_type(in_mask) of
/// energy.hpp (opposite islands are two apart in that order), so the pictures and the sampler
/// share one classification. O(n1): scans the islands for the vertex's incidences.
int square_vertex_type(const Lattice& lattice, int vertex, const std::vector<std::int8_t>& spins);

/// A standalone SVG document (UTF-8 text, starting with "<svg") showing one spin state:
/// every island is one <line> element with an arrow head (a <marker> polygon) pointing along
/// its spin (fixed boundary islands drawn in dark green); every non-terminal vertex is a
/// <circle> coloured by `charge` (0 grey, positive blue, negative red, saturation growing with
/// |charge| relative to the largest |charge|), or, when square_vertex_types is set, 4-fold
/// vertices coloured by square_vertex_type (I-IV) instead. Terminal vertices are small hollow
/// circles. A legend is included. Scale: 40 px per lattice constant, y axis pointing up.
/// Requires spins.size() == n1 and charge.size() == n0 (throws std::invalid_argument).
std::string draw_state_svg(const Lattice& lattice, const std::vector<std::int8_t>& spins,
                           const std::vector<int>& charge, bool square_vertex_types);

}  // namespace frost::asi
