// Reader for user-supplied lattices in the plain-text "v X Y" / "e TAIL HEAD" format.
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "asi/lattice_generators.hpp"

namespace frost::asi {

Lattice read_custom_lattice(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ":0: cannot open the lattice file");
  Lattice lattice;
  lattice.kind = "custom";
  lattice.boundary = "open";
  std::set<std::pair<int, int>> seen_edges;  // (smaller id, larger id)
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
      if (!std::isfinite(x) || !std::isfinite(y)) fail("vertex coordinates must be finite");
      lattice.positions.push_back({x, y});
    } else if (tag == "e") {
      long tail = 0;
      long head = 0;
      if (!(fields >> tail >> head) || (fields >> extra)) {
        fail("malformed edge line, expected 'e TAIL HEAD': '" + raw + "'");
      }
      const long known = lattice.vertex_count();
      if (tail < 0 || tail >= known || head < 0 || head >= known) {
        fail("edge " + std::to_string(tail) + " " + std::to_string(head) +
             " uses an unknown vertex id (vertices 0.." + std::to_string(known - 1) +
             " declared so far)");
      }
      if (tail == head) fail("self-loop at vertex " + std::to_string(tail));
      const std::pair<int, int> key{static_cast<int>(std::min(tail, head)),
                                    static_cast<int>(std::max(tail, head))};
      if (!seen_edges.insert(key).second) {
        fail("duplicate edge between vertices " + std::to_string(key.first) + " and " +
             std::to_string(key.second));
      }
      const auto& a = lattice.positions[tail];
      const auto& b = lattice.positions[head];
      if (std::hypot(b[0] - a[0], b[1] - a[1]) <= 1e-12) {
        fail("island of zero length (vertices at the same position)");
      }
      lattice.edges.push_back({static_cast<int>(tail), static_cast<int>(head)});
    } else {
      fail("unknown line type '" + tag + "', expected 'v' or 'e'");
    }
  }
  detail::finish_lattice(lattice, false);
  return lattice;
}

}  // namespace frost::asi
