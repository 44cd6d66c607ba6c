// Readers for user-supplied lattices: plain text ("v X Y" / "e TAIL HEAD") or HDF5 (datasets
// positions n0 x 2 and edges n1 x 2, as frost itself writes them under lattice/).
#include <hdf5.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "asi/lattice_generators.hpp"

namespace frost::asi {

namespace {

/// Adds checked vertices and islands; `where()` names the place of the current item in messages.
class CustomLatticeBuilder {
 public:
  CustomLatticeBuilder() {
    lattice.kind = "custom";
    lattice.boundary = "open";
  }
  template <class Fail>
  void vertex(double x, double y, const Fail& fail) {
    if (!std::isfinite(x) || !std::isfinite(y)) fail("vertex coordinates must be finite");
    lattice.positions.push_back({x, y});
  }
  template <class Fail>
  void edge(long tail, long head, const Fail& fail) {
    const long known = lattice.vertex_count();
    if (tail < 0 || tail >= known || head < 0 || head >= known) {
      fail("edge " + std::to_string(tail) + " " + std::to_string(head) +
           " uses an unknown vertex id (vertices 0.." + std::to_string(known - 1) + ")");
    }
    if (tail == head) fail("self-loop at vertex " + std::to_string(tail));
    const std::pair<int, int> key{static_cast<int>(std::min(tail, head)),
                                  static_cast<int>(std::max(tail, head))};
    if (!seen_edges_.insert(key).second) {
      fail("duplicate edge between vertices " + std::to_string(key.first) + " and " +
           std::to_string(key.second));
    }
    const auto& a = lattice.positions[tail];
    const auto& b = lattice.positions[head];
    if (std::hypot(b[0] - a[0], b[1] - a[1]) <= 1e-12) {
      fail("island of zero length (vertices at the same position)");
    }
    lattice.edges.push_back({static_cast<int>(tail), static_cast<int>(head)});
  }
  Lattice lattice;

 private:
  std::set<std::pair<int, int>> seen_edges_;  // (smaller id, larger id)
};

/// Reads an n x 2 dataset as doubles; `name` or lattice/`name`.
std::vector<double> read_pairs(hid_t file, const std::string& path, const std::string& name) {
  std::string found;
  for (const std::string& candidate : {name, "lattice/" + name, "runs/0/lattice/" + name})
    if (found.empty() &&
        H5Lexists(file, candidate.substr(0, candidate.find('/')).c_str(), H5P_DEFAULT) > 0 &&
        H5Lexists(file, candidate.c_str(), H5P_DEFAULT) > 0)
      found = candidate;
  if (found.empty())
    throw std::runtime_error(path + ": no dataset '" + name + "' (nor 'lattice/" + name +
                             "'): an HDF5 lattice holds positions (n0 x 2) and edges (n1 x 2)");
  hid_t set = H5Dopen2(file, found.c_str(), H5P_DEFAULT);
  hid_t space = H5Dget_space(set);
  hsize_t dims[2] = {0, 0};
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank == 2) H5Sget_simple_extent_dims(space, dims, nullptr);
  std::vector<double> data(rank == 2 ? dims[0] * dims[1] : 0);
  herr_t status = rank == 2 && dims[1] == 2
                      ? H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data())
                      : -1;
  H5Sclose(space);
  H5Dclose(set);
  if (status < 0)
    throw std::runtime_error(path + ": dataset '" + found + "' must be a readable n x 2 array");
  return data;
}

Lattice read_hdf5_lattice(const std::string& path) {
  H5E_auto2_t handler;
  void* data = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &handler, &data);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported as exceptions instead
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    H5Eset_auto2(H5E_DEFAULT, handler, data);
    throw std::runtime_error(path + ": cannot open the HDF5 lattice file");
  }
  CustomLatticeBuilder builder;
  try {
    const auto positions = read_pairs(file, path, "positions");
    const auto edges = read_pairs(file, path, "edges");
    std::size_t row = 0;
    std::string what = "positions";
    const auto fail = [&](const std::string& msg) {
      throw std::runtime_error(path + ": " + what + " row " + std::to_string(row) + ": " + msg);
    };
    for (row = 0; row < positions.size() / 2; ++row)
      builder.vertex(positions[2 * row], positions[2 * row + 1], fail);
    what = "edges";
    for (row = 0; row < edges.size() / 2; ++row) {
      const double t = edges[2 * row], h = edges[2 * row + 1];
      if (t != std::floor(t) || h != std::floor(h)) fail("vertex ids must be integers");
      builder.edge(static_cast<long>(t), static_cast<long>(h), fail);
    }
  } catch (...) {
    H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, handler, data);
    throw;
  }
  H5Fclose(file);
  H5Eset_auto2(H5E_DEFAULT, handler, data);
  detail::finish_lattice(builder.lattice, false);
  return builder.lattice;
}

}  // namespace

Lattice read_custom_lattice(const std::string& path) {
  {
    std::ifstream probe(path, std::ios::binary);
    char magic[8] = {};
    if (probe.read(magic, 8) && std::string(magic, 8) == std::string("\x89HDF\r\n\x1a\n", 8))
      return read_hdf5_lattice(path);
  }
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ":0: cannot open the lattice file");
  CustomLatticeBuilder builder;
  std::string raw;
  int line_number = 0;
  const auto fail = [&](const std::string& what) {
    throw std::runtime_error(path + ":" + std::to_string(line_number) + ": " + what);
  };
  while (std::getline(in, raw)) {
    ++line_number;
    const std::string line = raw.substr(0, raw.find('#'));
    std::istringstream fields(line);
    std::string tag;
    if (!(fields >> tag)) continue;  // blank or comment-only line
    std::string extra;
    if (tag == "v") {
      double x = 0.0;
      double y = 0.0;
      if (!(fields >> x >> y) || (fields >> extra)) {
        fail("malformed vertex line, expected 'v X Y': '" + raw + "'");
      }
      builder.vertex(x, y, fail);
    } else if (tag == "e") {
      long tail = 0;
      long head = 0;
      if (!(fields >> tail >> head) || (fields >> extra)) {
        fail("malformed edge line, expected 'e TAIL HEAD': '" + raw + "'");
      }
      builder.edge(tail, head, fail);
    } else {
      fail("unknown line type '" + tag + "', expected 'v' or 'e'");
    }
  }
  detail::finish_lattice(builder.lattice, false);
  return builder.lattice;
}

}  // namespace frost::asi
