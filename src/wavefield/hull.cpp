#include "wavefield/hull.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/rng.hpp"

namespace frost::wavefield {

namespace {

using Int = std::int64_t;
using Wide = __int128;
constexpr double kGrid = 1073741824.0;  // 2^30

struct Snapped {
  std::vector<Int> c;  // x0 y0 z0 x1 ...
  explicit Snapped(const std::vector<double>& xyz) : c(xyz.size()) {
    for (std::size_t i = 0; i < xyz.size(); ++i) c[i] = std::llround(xyz[i] * kGrid);
  }
  // Differences are below 2^32 for |coordinates| <= 2, products of three below 2^96: exact.
  int orient(int a, int b, int c3, int d) const {
    const Int* pa = &c[3 * a];
    const Int* pb = &c[3 * b];
    const Int* pc = &c[3 * c3];
    const Int* pd = &c[3 * d];
    const Wide bx = pb[0] - pa[0], by = pb[1] - pa[1], bz = pb[2] - pa[2];
    const Wide cx = pc[0] - pa[0], cy = pc[1] - pa[1], cz = pc[2] - pa[2];
    const Wide dx = pd[0] - pa[0], dy = pd[1] - pa[1], dz = pd[2] - pa[2];
    const Wide det = bx * (cy * dz - cz * dy) - by * (cx * dz - cz * dx) + bz * (cx * dy - cy * dx);
    return (det > 0) - (det < 0);
  }
  bool same(int a, int b) const {
    return c[3 * a] == c[3 * b] && c[3 * a + 1] == c[3 * b + 1] && c[3 * a + 2] == c[3 * b + 2];
  }
  bool collinear(int a, int b, int c3) const {
    const Int* pa = &c[3 * a];
    const Int* pb = &c[3 * b];
    const Int* pc = &c[3 * c3];
    const Wide bx = pb[0] - pa[0], by = pb[1] - pa[1], bz = pb[2] - pa[2];
    const Wide cx = pc[0] - pa[0], cy = pc[1] - pa[1], cz = pc[2] - pa[2];
    return by * cz - bz * cy == 0 && bz * cx - bx * cz == 0 && bx * cy - by * cx == 0;
  }
};

struct Face {
  int v[3];
  int nbr[3];  // nbr[e]: face across edge (v[e], v[e+1])
  bool alive = true;
  std::vector<int> conflicts;
};

class Hull {
 public:
  Hull(const std::vector<double>& xyz, std::uint64_t seed) : pts_(xyz) {
    n_ = static_cast<int>(xyz.size() / 3);
    if (n_ < 4) throw std::runtime_error("sphere triangulation: fewer than 4 nodes");
    order_.resize(n_);
    for (int i = 0; i < n_; ++i) order_[i] = i;
    core::RandomStream rs(seed, 0, 0x68756c6c);  // "hull"
    for (int i = n_ - 1; i > 0; --i) std::swap(order_[i], order_[rs.below(i + 1)]);
    conflict_face_.assign(n_, -1);
    start_face_.assign(n_, -1);
    end_face_.assign(n_, -1);
  }

  SphereTriangulation run() {
    initial_simplex();
    for (int p : order_)
      if (conflict_face_[p] >= 0) insert(p);
    SphereTriangulation t;
    t.nodes = n_;
    std::vector<char> used(n_, 0);
    for (const auto& f : faces_)
      if (f.alive) {
        t.triangles.push_back({f.v[0], f.v[1], f.v[2]});
        for (int k = 0; k < 3; ++k) used[f.v[k]] = 1;
      }
    for (char u : used) t.vertices += u;
    return t;
  }

 private:
  bool sees(int face, int p) const {
    const Face& f = faces_[face];
    return pts_.orient(f.v[0], f.v[1], f.v[2], p) > 0;
  }

  int add_face(int a, int b, int c) {
    Face f;
    f.v[0] = a;
    f.v[1] = b;
    f.v[2] = c;
    f.nbr[0] = f.nbr[1] = f.nbr[2] = -1;
    faces_.push_back(std::move(f));
    return static_cast<int>(faces_.size()) - 1;
  }

  static int edge_index(const Face& f, int a, int b) {
    for (int e = 0; e < 3; ++e)
      if (f.v[e] == a && f.v[(e + 1) % 3] == b) return e;
    throw std::logic_error("sphere triangulation: broken face adjacency");
  }

  void initial_simplex() {
    // Four affinely independent points, searched in insertion order.
    const int a = order_[0];
    int b = -1, c = -1, d = -1;
    for (int i : order_)
      if (!pts_.same(a, i)) {
        b = i;
        break;
      }
    if (b >= 0)
      for (int i : order_)
        if (!pts_.collinear(a, b, i)) {
          c = i;
          break;
        }
    if (c >= 0)
      for (int i : order_)
        if (pts_.orient(a, b, c, i) != 0) {
          d = i;
          break;
        }
    if (d < 0) throw std::runtime_error("sphere triangulation: the nodes span no volume");
    // Orient so that d lies below (a, b, c); the four faces then all point outwards.
    if (pts_.orient(a, b, c, d) > 0) std::swap(b, c);
    const int f0 = add_face(a, b, c), f1 = add_face(a, d, b), f2 = add_face(b, d, c),
              f3 = add_face(a, c, d);
    const int fs[4] = {f0, f1, f2, f3};
    for (int x : fs)
      for (int y : fs)
        if (x != y)
          for (int e = 0; e < 3; ++e)
            for (int g = 0; g < 3; ++g)
              if (faces_[x].v[e] == faces_[y].v[(g + 1) % 3] &&
                  faces_[x].v[(e + 1) % 3] == faces_[y].v[g])
                faces_[x].nbr[e] = y;
    for (int p : order_) {
      if (p == a || p == b || p == c || p == d) continue;
      for (int f : fs)
        if (sees(f, p)) {
          conflict_face_[p] = f;
          faces_[f].conflicts.push_back(p);
          break;
        }
    }
  }

  void insert(int p) {
    // Visible faces (connected, found from the conflict face) and the horizon around them.
    visible_.clear();
    horizon_.clear();
    const int start = conflict_face_[p];
    ++stamp_;
    mark(start);
    visible_.push_back(start);
    for (std::size_t k = 0; k < visible_.size(); ++k) {
      const int f = visible_[k];
      for (int e = 0; e < 3; ++e) {
        const int g = faces_[f].nbr[e];
        if (marked(g)) {
          if (is_visible_[g]) continue;
          horizon_.push_back({f, e});
          continue;
        }
        mark(g);
        if (sees(g, p)) {
          is_visible_[g] = 1;
          visible_.push_back(g);
        } else {
          is_visible_[g] = 0;
          horizon_.push_back({f, e});
        }
      }
    }
    // Cone of new faces from the horizon edges to p; the deleted faces keep edge directions.
    new_faces_.clear();
    for (const auto& [f, e] : horizon_) {
      const int a = faces_[f].v[e], b = faces_[f].v[(e + 1) % 3], g = faces_[f].nbr[e];
      const int nf = add_face(a, b, p);
      faces_[nf].nbr[0] = g;
      faces_[g].nbr[edge_index(faces_[g], b, a)] = nf;
      start_face_[a] = nf;
      end_face_[b] = nf;
      new_faces_.push_back(nf);
    }
    for (int nf : new_faces_) {
      Face& f = faces_[nf];
      f.nbr[1] = start_face_[f.v[1]];  // across (b, p): the new face starting at b
      f.nbr[2] = end_face_[f.v[0]];    // across (p, a): the new face ending at a
    }
    // Re-file the deleted faces' points; one that sees no new face is inside the hull.
    for (int f : visible_) {
      faces_[f].alive = false;
      for (int q : faces_[f].conflicts) {
        if (q == p) continue;
        conflict_face_[q] = -1;
        for (int nf : new_faces_)
          if (sees(nf, q)) {
            conflict_face_[q] = nf;
            faces_[nf].conflicts.push_back(q);
            break;
          }
      }
      std::vector<int>().swap(faces_[f].conflicts);
    }
    conflict_face_[p] = -1;
  }

  void mark(int f) {
    if (static_cast<int>(stamp_of_.size()) < static_cast<int>(faces_.size())) {
      stamp_of_.resize(faces_.size() * 2, 0);
      is_visible_.resize(faces_.size() * 2, 0);
    }
    stamp_of_[f] = stamp_;
    is_visible_[f] = 1;
  }
  bool marked(int f) const {
    return f < static_cast<int>(stamp_of_.size()) && stamp_of_[f] == stamp_;
  }

  Snapped pts_;
  int n_ = 0;
  std::vector<int> order_, conflict_face_, start_face_, end_face_;
  std::vector<Face> faces_;
  std::vector<int> visible_, new_faces_;
  std::vector<std::pair<int, int>> horizon_;
  std::vector<std::uint64_t> stamp_of_;
  std::vector<char> is_visible_;
  std::uint64_t stamp_ = 0;
};

}  // namespace

SphereTriangulation sphere_triangulation(const std::vector<double>& xyz, std::uint64_t seed) {
  if (xyz.size() % 3 != 0) throw std::invalid_argument("sphere triangulation: xyz not triples");
  return Hull(xyz, seed).run();
}

int orientation(const std::vector<double>& xyz, int a, int b, int c, int d) {
  // Only the four points matter; snap them alone.
  std::vector<double> four;
  for (int i : {a, b, c, d}) four.insert(four.end(), xyz.begin() + 3 * i, xyz.begin() + 3 * i + 3);
  return Snapped(four).orient(0, 1, 2, 3);
}

}  // namespace frost::wavefield
