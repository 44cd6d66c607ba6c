// The vertex-frustrated lattices of Morrison, Nelson & Nisoli, New J. Phys. 15, 045009 (2013):
// tetris, shakti and santa fe. All three are square lattices (lattice constant 1) with some
// islands removed; in shakti and santa fe some pairs of collinear islands meeting at a vertex of
// degree 2 are merged into one long island (length 2) and that vertex disappears.
//
// Frustration bookkeeping used to check the unit cells below (vertex ground states of the
// square geometry, where perpendicular island pairs couple more strongly than collinear ones):
// walking around a loop, the arrows "reverse" at a vertex of degree >= 3 that the loop passes
// straight through and "continue" at every turn and at every vertex of degree 2. A loop whose
// number of reversals is odd cannot have all its vertices in their ground state: it is vertex
// frustrated.
#include <map>
#include <stdexcept>
#include <utility>

#include "asi/lattice_generators.hpp"

namespace frost::asi {

namespace {

/// A square grid of vertices (x, y), 0 <= x <= width, 0 <= y <= height, with a mask of the
/// islands that are kept and the vertices whose two collinear islands are merged into one.
struct DilutedSquare {
  int width = 0;
  int height = 0;
  std::vector<char> horizontal;  ///< island (x,y)-(x+1,y) kept; index y*width + x
  std::vector<char> vertical;    ///< island (x,y)-(x,y+1) kept; index y*(width+1) + x
  std::vector<char> merged;      ///< vertex (x,y) merged away; index y*(width+1) + x

  DilutedSquare(int w, int h)
      : width(w),
        height(h),
        horizontal(static_cast<std::size_t>(w) * (h + 1), 0),
        vertical(static_cast<std::size_t>(w + 1) * h, 0),
        merged(static_cast<std::size_t>(w + 1) * (h + 1), 0) {}

  int vertex(int x, int y) const { return y * (width + 1) + x; }
  bool has_horizontal(int x, int y) const {
    return x >= 0 && x < width && y >= 0 && y <= height && horizontal[y * width + x];
  }
  bool has_vertical(int x, int y) const {
    return x >= 0 && x <= width && y >= 0 && y < height && vertical[y * (width + 1) + x];
  }
  int degree(int x, int y) const {
    return has_horizontal(x - 1, y) + has_horizontal(x, y) + has_vertical(x, y - 1) +
           has_vertical(x, y);
  }
  bool straight_degree_two(int x, int y) const {
    return degree(x, y) == 2 && ((has_horizontal(x - 1, y) && has_horizontal(x, y)) ||
                                 (has_vertical(x, y - 1) && has_vertical(x, y)));
  }
};

/// Removes islands that end at a vertex of degree 1, repeatedly, so that every remaining island
/// lies on a loop (open samples end without dangling islands).
void prune_dangling_islands(DilutedSquare& grid) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (int y = 0; y <= grid.height; ++y) {
      for (int x = 0; x <= grid.width; ++x) {
        if (grid.degree(x, y) != 1) continue;
        if (grid.has_horizontal(x - 1, y)) grid.horizontal[y * grid.width + x - 1] = 0;
        if (grid.has_horizontal(x, y)) grid.horizontal[y * grid.width + x] = 0;
        if (grid.has_vertical(x, y - 1)) grid.vertical[(y - 1) * (grid.width + 1) + x] = 0;
        if (grid.has_vertical(x, y)) grid.vertical[y * (grid.width + 1) + x] = 0;
        changed = true;
      }
    }
  }
}

/// Builds the lattice of a diluted square grid: vertices of nonzero degree that are not merged
/// away, numbered row-major (y, then x); islands in canonical order (horizontal row-major by
/// their left end, then vertical row-major by their lower end), a merged island listed at its
/// first half; tails at the lower-x (lower-y) end.
Lattice build_diluted_square(DilutedSquare grid, const std::string& kind) {
  prune_dangling_islands(grid);
  // A merge only applies where the vertex still joins exactly two collinear islands.
  for (int y = 0; y <= grid.height; ++y) {
    for (int x = 0; x <= grid.width; ++x) {
      auto& flag = grid.merged[grid.vertex(x, y)];
      if (flag && !grid.straight_degree_two(x, y)) flag = 0;
    }
  }
  Lattice lattice;
  lattice.kind = kind;
  lattice.boundary = "open";
  std::map<int, int> id;  // grid vertex -> lattice vertex
  for (int y = 0; y <= grid.height; ++y) {
    for (int x = 0; x <= grid.width; ++x) {
      if (grid.degree(x, y) == 0 || grid.merged[grid.vertex(x, y)]) continue;
      id[grid.vertex(x, y)] = lattice.vertex_count();
      lattice.positions.push_back({static_cast<double>(x), static_cast<double>(y)});
    }
  }
  for (int y = 0; y <= grid.height; ++y) {
    for (int x = 0; x < grid.width; ++x) {
      if (!grid.has_horizontal(x, y) || grid.merged[grid.vertex(x, y)]) continue;
      int end = x + 1;
      while (grid.merged[grid.vertex(end, y)]) ++end;
      lattice.edges.push_back({id.at(grid.vertex(x, y)), id.at(grid.vertex(end, y))});
    }
  }
  for (int y = 0; y < grid.height; ++y) {
    for (int x = 0; x <= grid.width; ++x) {
      if (!grid.has_vertical(x, y) || grid.merged[grid.vertex(x, y)]) continue;
      int end = y + 1;
      while (grid.merged[grid.vertex(x, end)]) ++end;
      lattice.edges.push_back({id.at(grid.vertex(x, y)), id.at(grid.vertex(x, end))});
    }
  }
  detail::finish_lattice(lattice, true);
  return lattice;
}

/// Marks the islands of a 2 x 2 block with lower-left corner (x0, y0): its four sides, and the
/// centre. centre = 'v': one long vertical island through the centre (merged there);
/// 'h': one long horizontal island; '+': all four centre islands (ordinary square plaquettes).
void add_block(DilutedSquare& grid, int x0, int y0, char centre) {
  for (int k = 0; k < 2; ++k) {
    grid.horizontal[y0 * grid.width + x0 + k] = 1;
    grid.horizontal[(y0 + 2) * grid.width + x0 + k] = 1;
    grid.vertical[(y0 + k) * (grid.width + 1) + x0] = 1;
    grid.vertical[(y0 + k) * (grid.width + 1) + x0 + 2] = 1;
  }
  const int cx = x0 + 1;
  const int cy = y0 + 1;
  if (centre == 'v' || centre == '+') {
    grid.vertical[y0 * (grid.width + 1) + cx] = 1;
    grid.vertical[cy * (grid.width + 1) + cx] = 1;
  }
  if (centre == 'h' || centre == '+') {
    grid.horizontal[cy * grid.width + x0] = 1;
    grid.horizontal[cy * grid.width + x0 + 1] = 1;
  }
  if (centre != '+') grid.merged[grid.vertex(cx, cy)] = 1;
}

void require_positive(int L, const char* name) {
  if (L < 1) throw std::invalid_argument(std::string(name) + ": L must be >= 1");
}

}  // namespace

// Tetris unit cell (4 x 4 lattice constants, x to the right, y up; 'o' a vertex, '-' and '|'
// islands; neighbouring cells share their boundary rows and columns):
//
//   y=4  o-o-o-o-o     backbone: 4-fold vertices at even x (in the bulk), joined through
//        |   |   |     straight 2-fold vertices at odd x
//   y=3  o o-o o-o     staircase row: 3-fold vertices at even x, corners at odd x
//        | | | | |
//   y=2  o o o o o     straight 2-fold vertices
//        | | | | |
//   y=1  o-o o-o o     staircase row: 3-fold vertices at even x, corners at odd x
//        |   |   |
//   y=0  o-o-o-o-o     backbone
//
// Every path (2k,0)-(2k,1)-(2k+1,1)-(2k+1,3)-(2k+2,3)-(2k+2,4) is a staircase from one
// backbone to the next. The cell removes 3/8 of the square lattice's islands (as stated by
// Gilbert et al., Nat. Phys. 12, 162 (2016)), its plaquettes are L-shaped tetrominoes (four
// unit squares, two per 2 x 4 period), and every plaquette of the bulk has exactly one
// reversal, so every minimal loop is vertex frustrated. The cell is a reconstruction from
// these published properties: among all decimations of the square lattice with a 2 x 4 period
// it is the only one (up to symmetry) that removes 3/8 of the islands, has only tetromino
// plaquettes, has both 3- and 4-fold vertices, and frustrates every plaquette. No islands are
// merged: the 2-fold vertices are kept.
Lattice make_tetris(int L) {
  require_positive(L, "make_tetris");
  DilutedSquare grid(4 * L, 4 * L);
  for (int y = 0; y <= grid.height; ++y) {
    for (int x = 0; x < grid.width; ++x) {
      const int row = y % 4;
      const bool keep = row == 0 || (row == 1 && x % 2 == 0) || (row == 3 && x % 2 == 1);
      grid.horizontal[y * grid.width + x] = keep;
    }
  }
  for (int y = 0; y < grid.height; ++y) {
    for (int x = 0; x <= grid.width; ++x) {
      const int row = y % 4;  // island from row to row + 1
      const bool keep = row == 1 || row == 2 || x % 2 == 0;
      grid.vertical[y * (grid.width + 1) + x] = keep;
    }
  }
  return build_diluted_square(grid, "tetris");
}

// Shakti unit cell (4 x 4 lattice constants; a long island of length 2 is drawn '---' or as a
// '|' where the merged vertex would be):
//
//   y=4  o-o-o-o-o
//        |   | | |
//   y=3  o---o | o     block (0,1): horizontal long island; block (1,1): vertical one
//        |   | | |
//   y=2  o-o-o-o-o
//        | | |   |
//   y=1  o | o---o     block (0,0): vertical long island; block (1,0): horizontal one
//        | | |   |
//   y=0  o-o-o-o-o
//
// 2 x 2 blocks with lower-left corner (2i, 2j); the block's centre island is vertical when
// i + j is even and horizontal when i + j is odd (checkerboard). In the bulk the block corners
// are 4-fold and the side midpoints 3-fold (2-fold on the sample edge); each 1 x 2 rectangle
// has one reversal (a 3-fold side midpoint passed straight through) and is frustrated; 1/4 of
// the square lattice's islands are removed.
Lattice make_shakti(int L) {
  require_positive(L, "make_shakti");
  DilutedSquare grid(4 * L, 4 * L);
  for (int j = 0; j < 2 * L; ++j) {
    for (int i = 0; i < 2 * L; ++i) add_block(grid, 2 * i, 2 * j, (i + j) % 2 == 0 ? 'v' : 'h');
  }
  return build_diluted_square(grid, "shakti");
}

// Santa fe unit cell (4 x 4 lattice constants, drawn as above):
//
//   y=4  o-o-o-o-o
//        | | |   |
//   y=3  o-o-o---o     block (0,1): square plaquettes; block (1,1): horizontal long island
//        | | |   |
//   y=2  o-o-o-o-o
//        | | | | |
//   y=1  o | o-o-o     block (0,0): vertical long island; block (1,0): square plaquettes
//        | | | | |
//   y=0  o-o-o-o-o
//
// The two shakti-like blocks (the diagonal of the cell) carry a long island as in shakti; the
// two others keep all square-lattice islands. The 1 x 2 rectangles of the shakti-like blocks are
// frustrated (one reversal each), the unit squares of the square-like blocks are not, so
// frustrated and unfrustrated plaquettes coexist, the defining property of santa fe. The
// published figure could not be consulted; this cell follows the published description
// (shakti-like and square-like plaquettes mixed in one 4 x 4 cell) and may differ from the
// original arrangement.
Lattice make_santa_fe(int L) {
  require_positive(L, "make_santa_fe");
  DilutedSquare grid(4 * L, 4 * L);
  for (int j = 0; j < 2 * L; ++j) {
    for (int i = 0; i < 2 * L; ++i) {
      const bool shakti_like = (i % 2) == (j % 2);
      const char centre = shakti_like ? ((i % 2 == 0) ? 'v' : 'h') : '+';
      add_block(grid, 2 * i, 2 * j, centre);
    }
  }
  return build_diluted_square(grid, "santa_fe");
}

}  // namespace frost::asi
