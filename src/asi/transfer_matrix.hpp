// Exact counting of ice states by transfer matrices, and residual entropies of ice models from
// the leading eigenvalue of row transfer matrices on cylinders.
#pragma once

#include <string>
#include <vector>

#include "core/bigint.hpp"

namespace frost::asi {

/// Exact number of ice states of the L x L square lattice.
///
/// Ice rule: every vertex carries the smallest possible charge |in - out|, i.e. 2-in-2-out at
/// degree 4, 2-in-1-out or 1-in-2-out at degree 3, 1-in-1-out at degree 2.
/// boundary:
///  - "open": L x L vertex grid, edges between grid neighbours (boundary vertices of degree 3,
///    corners of degree 2). L >= 1.
///  - "periodic": L x L torus with edges (r,c)-(r,(c+1)%L) and (r,c)-((r+1)%L,c), 2L^2 edges.
///    For L = 2 these are double edges; for L = 1 the vertex carries two self-loops (each
///    contributes one in and one out arrow). L >= 1.
///  - "domain_wall": L x L vertices of degree 4 whose boundary arrows are fixed, horizontal ones
///    pointing in and vertical ones pointing out (counts alternating sign matrices). L >= 1.
/// Method: vertex-by-vertex ("broken row") transfer matrix over the frontier of open edges,
/// accumulated in 128-bit integers with overflow detection and redone in BigUint on overflow.
/// Throws std::invalid_argument for an unknown boundary or L < 1 (or L too large to hold the
/// frontier in a bitmask, L > 24).
core::BigUint count_square_ice(int L, const std::string& boundary);

/// Finite-width residual entropy (dimensionless, in units of k_B) of an ice model on an
/// infinitely long cylinder of the given circumference, from the leading eigenvalue Lambda of the
/// row transfer matrix (power iteration in double precision).
/// lattice:
///  - "square": six-vertex ice on the square lattice, width = vertices around the cylinder (even,
///    >= 2). Returns ln(Lambda) / width = ln W_width, the entropy per vertex. The power iteration
///    runs in the zero-flux sector (as many up as down arrows crossing a row cut), which holds
///    the leading eigenvalue.
///  - "kagome": kagome ice, spins on the edges of a honeycomb lattice drawn as a brick wall,
///    2-in-1-out or 1-in-2-out at every vertex; width = vertices per brick row (even, >= 4).
///    Returns ln(Lambda_2) / (3 width), the entropy per spin, with Lambda_2 the leading
///    eigenvalue of the two-row transfer matrix (a brick row holds width horizontal and width/2
///    vertical spins, so two rows hold 3 width spins).
/// Throws std::invalid_argument for an unknown lattice or an unsupported width (max 22).
double residual_entropy_strip(int width, const std::string& lattice);

/// Residual entropy of an ice model extrapolated to infinite width.
struct EntropyEstimate {
  std::string lattice;                ///< "square" (entropy per vertex) or "kagome" (per spin)
  std::vector<int> widths;            ///< cylinder widths used
  std::vector<double> entropy;        ///< finite-width entropies, same order as widths
  double entropy_extrapolated = 0.0;  ///< estimate of the infinite-width entropy S
  double W = 0.0;                     ///< exp(S): states per vertex (square) or per spin (kagome)
  double error_estimate = 0.0;        ///< estimated absolute error of entropy_extrapolated
};

/// Square-ice entropy per vertex from even widths 2..max_width (max_width >= 8), extrapolated
/// in 1/n^2: ln W_n = S + a/n^2 + b/n^4 + ... (conformal corrections, c = 1) by polynomial
/// (Neville) extrapolation to 1/n^2 = 0 over the largest widths. The error estimate is the
/// spread between extrapolations of neighbouring orders.
EntropyEstimate square_ice_entropy(int max_width);

/// Kagome-ice entropy per spin from even widths 4..max_width (max_width >= 8). The kagome-ice
/// ensemble has short-range correlations, so finite-width corrections decay exponentially; the
/// estimate is the widest strip and the error the change over the last width step.
EntropyEstimate kagome_ice_entropy(int max_width);

}  // namespace frost::asi
