// Generators of artificial-spin-ice lattices (square, kagome, brickwork, the vertex-frustrated
// tetris / shakti / santa fe lattices) and a reader for user-supplied lattice files.
//
// Conventions shared by every generator:
//  * Lengths are in units of the length of one ordinary island, i.e. the distance between two
//    vertices joined by a single island is 1 (the "long" merged islands of shakti and santa fe
//    have length 2). For the square family this is the square lattice constant.
//  * Coordinates are mathematical: x to the right, y upwards; faces run counter-clockwise.
//  * island_position is the midpoint of the island (minimum image on a torus); island_axis is
//    the unit vector from tail to head; a spin +1 points from tail to head.
//  * faces: every bounded face of the planar embedding once (open lattices) or every face of the
//    torus once (periodic lattices), sorted by the centroid (y, then x). With
//    beta1 = n1 - n0 + components (free islands and non-terminal vertices only):
//    open: beta1 == faces.size(); periodic: beta1 == faces.size() - 1 + windings.size().
#pragma once

#include <array>
#include <string>

#include "asi/lattice.hpp"

namespace frost::asi {

/// Square artificial spin ice: islands on the bonds of the square lattice, vertices of degree
/// <= 4, lattice constant 1.
///
/// boundary = "open": L x L vertices, vertex id v = r*L + c at (x = c, y = r). Edges in canonical
///   order: the horizontal edges (r,c)-(r,c+1) row-major (id r*(L-1) + c), then the vertical
///   edges (r,c)-(r+1,c) row-major (id L*(L-1) + r*L + c). The tail is the end with the lower c
///   (resp. r), so spin +1 points to increasing x (resp. y). n0 = L^2, n1 = 2L(L-1),
///   (L-1)^2 faces. Requires L >= 1.
/// boundary = "periodic": L x L torus, horizontal edge (r,c)-(r,(c+1)%L) has id r*L + c,
///   vertical edge (r,c)-((r+1)%L,c) has id L^2 + r*L + c; n1 = 2L^2, L^2 faces, two windings,
///   period = {L, L}. Requires L >= 3 (smaller tori would have doubled edges).
/// boundary = "domain_wall": the open L x L lattice (same ids) plus 4L fixed boundary islands
///   ("stubs"), each joining a boundary vertex to its own terminal vertex one lattice constant
///   outside the grid. Stub order: left side (r = 0..L-1), right side, bottom (c = 0..L-1),
///   top; stub k has edge id 2L(L-1) + k and terminal vertex id L^2 + k. Tails are again the
///   lower-x / lower-y end. The fixed spins make the left/right stubs point into the grid and the
///   bottom/top stubs point out of it (domain-wall boundary condition of the six-vertex model):
///   the number of states with zero net charge at every interior vertex is the number of
///   alternating-sign matrices (1, 2, 7, 42, 429 for L = 1..5). Faces: the (L-1)^2 plaquettes.
///   Requires L >= 1.
Lattice make_square(int L, const std::string& boundary);

/// Kagome artificial spin ice in the convention of the ASI literature: the islands sit on the
/// sites of a kagome lattice, i.e. on the bonds of a honeycomb lattice, and the vertices are
/// the honeycomb vertices (degree 3, ice rule 2-in/1-out or 1-in/2-out). The graph is built as a
/// brickwork (see make_brickwork) with honeycomb geometry: vertex (r, c) sits at
/// x = c*sqrt(3)/2, y = 1.5*r + 0.25 when r + c is even (its third island points up) and
/// y = 1.5*r - 0.25 when r + c is odd (third island points down); every island has length 1 and
/// the hexagons are "pointy-top".
///
/// boundary = "open": L rows of L hexagons (L^2 faces); the rows are staggered so that the patch
///   is a rectangle-like "brick wall" with zigzag left and right edges. Degrees {2, 3}.
///   n0 = 2L^2 + 4L, n1 = 3L^2 + 4L - 1. Requires L >= 1.
/// boundary = "periodic": 2L x L brickwork on a torus, n0 = 2L^2, n1 = 3L^2, L^2 hexagonal faces,
///   period = {sqrt(3) L, 1.5 L}. Requires L even and L >= 2 (the stagger must close).
/// Edge order: horizontal (zigzag) islands (r,c)-(r,c+1) row-major, then vertical islands
/// (r,c)-(r+1,c) row-major; tails at the lower c (resp. r). Vertex ids row-major in (r, c).
Lattice make_kagome(int L, const std::string& boundary);

/// Brickwork lattice: the square lattice with every other vertical bond removed, keeping the
/// vertical bond (r,c)-(r+1,c) only when r + c is even. Vertices of degree 3 in the bulk; the
/// graph is the honeycomb graph drawn with square geometry (vertex (r,c) at x = c, y = r, all
/// islands of length 1). Faces are 2 x 1 bricks; L rows of L bricks, same graph, ids and
/// boundaries as make_kagome (periodic: period = {2L, L}, L even and >= 4 so that every island
/// has an unambiguous minimum image).
Lattice make_brickwork(int L, const std::string& boundary);

/// Tetris lattice (Morrison, Nelson & Nisoli, New J. Phys. 15, 045009 (2013), Fig. 1; see also
/// Gilbert et al., Nat. Phys. 12, 162 (2016), Fig. 1), open boundary, L x L unit cells of
/// 4 x 4 lattice constants on the vertex grid 0..4L x 0..4L. The square lattice is diluted
/// (3/8 of its islands removed, no islands merged) so that horizontal "backbones" of 4-fold
/// vertices alternate with "staircases" of 3-fold vertices; the plaquettes are L-shaped
/// tetrominoes and every bulk plaquette is vertex frustrated. The cell is drawn in
/// lattice_frustrated.cpp. n0 = (4L+1)^2, n1 = 20 L^2 + 8L, faces = 4 L^2.
Lattice make_tetris(int L);

/// Shakti lattice (Morrison, Nelson & Nisoli 2013, Fig. 1; Chern, Morrison & Nisoli,
/// Phys. Rev. Lett. 111, 177201 (2013), Fig. 1), open boundary, L x L unit cells of 4 x 4
/// lattice constants. A square grid of 4-fold vertices with spacing 2; each 2 x 2 square is
/// split into two 1 x 2 rectangles by one long island (length 2, two merged collinear islands)
/// through its centre, vertical and horizontal splits alternating as a checkerboard. Vertices
/// of degree 4 (grid corners) and 3 (side midpoints) in the bulk, 2 on the sample edge; every
/// bulk rectangle is vertex frustrated. Islands of the sample edge are kept (no merging there).
/// faces = 8 L^2, 4 L^2 long islands.
Lattice make_shakti(int L);

/// Santa fe lattice (Morrison, Nelson & Nisoli 2013, Fig. 1; Zhang et al., Nat. Commun. 12,
/// 6514 (2021)), open boundary, L x L unit cells of 4 x 4 lattice constants: one 2 x 2 block of
/// the cell is split shakti-like by a long island, the other blocks keep square-lattice
/// plaquettes, so frustrated and unfrustrated loops coexist (see lattice_frustrated.cpp for the
/// drawn cell and the caveat on its arrangement). faces = 12 L^2.
Lattice make_santa_fe(int L);

/// Reads a lattice from a plain-text file. Format, one item per line:
///   v X Y          a vertex at (X, Y); vertex ids are 0, 1, 2, ... in order of appearance
///   e TAIL HEAD    an island from vertex TAIL to vertex HEAD (both already declared)
///   # ...          comment (also allowed after the fields of a line); blank lines are ignored
/// Errors (malformed line, unknown vertex id, self-loop, duplicate edge in either orientation,
/// zero-length island, unreadable file) throw std::runtime_error with the message
/// "FILE:LINE: what is wrong". The result has kind "custom", boundary "open", no faces and no
/// fixed or terminal elements.
/// An HDF5 file (recognised by its signature) holds datasets `positions` (n0 x 2) and `edges`
/// (n1 x 2, tail and head ids), at the root, under `lattice/`, or under `runs/0/lattice/` (the
/// first run of a frost output file); the same checks apply, reported as "FILE: edges row R: what
/// is wrong".
Lattice read_custom_lattice(const std::string& path);

/// Builds a lattice by name: kind in {"square", "kagome", "brickwork", "tetris", "shakti",
/// "santa_fe", "custom"}; L is the linear size in the generator's unit cells (ignored for
/// custom); file is the path read for "custom" (ignored otherwise). Throws
/// std::invalid_argument for an unknown kind, an unsupported kind/boundary pair or a bad L,
/// listing what is allowed.
Lattice make_lattice(const std::string& kind, int L, const std::string& boundary,
                     const std::string& file);

namespace detail {

/// Displacement from vertex `from` to vertex `to`, reduced to the minimum image on a torus.
std::array<double, 2> vertex_displacement(const Lattice& lattice, int from, int to);

/// Fills island_position, island_axis, and (when still empty) zero fixed_spin and terminal;
/// when trace_faces is set also computes faces by walking the planar (or toroidal) embedding
/// given by the vertex positions, and for periodic lattices a pair of winding cycles.
/// Throws std::logic_error for a zero-length island.
void finish_lattice(Lattice& lattice, bool trace_faces);

}  // namespace detail

}  // namespace frost::asi
