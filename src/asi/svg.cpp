// SVG drawing of an artificial-spin-ice state.
#include "asi/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "asi/energy.hpp"
#include "asi/lattice_generators.hpp"

namespace frost::asi {

namespace {

constexpr double kPixelsPerUnit = 40.0;
constexpr double kMargin = 30.0;
constexpr double kLegendWidth = 170.0;

/// Fixed-point number for SVG attributes.
std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

/// "#rrggbb" from components in [0, 1].
std::string rgb(double r, double g, double b) {
  const auto byte = [](double v) {
    return static_cast<int>(std::lround(255.0 * std::clamp(v, 0.0, 1.0)));
  };
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", byte(r), byte(g), byte(b));
  return buffer;
}

/// Charge colour: grey for 0, blue for positive, red for negative; the saturation grows with
/// |charge| / largest |charge|.
std::string charge_colour(int charge, int largest) {
  if (charge == 0) return "#9e9e9e";
  const double strength =
      0.35 + 0.65 * std::min(1.0, std::abs(charge) / double(std::max(largest, 1)));
  const double pale = 1.0 - strength;
  return charge > 0 ? rgb(pale, pale, 1.0) : rgb(1.0, pale, pale);
}

const char* vertex_type_colour(int type) {
  switch (type) {
    case 1:
      return "#2e7d32";  // type I
    case 2:
      return "#1565c0";  // type II
    case 3:
      return "#f9a825";  // type III
    case 4:
      return "#c62828";  // type IV
    default:
      return "#9e9e9e";
  }
}

}  // namespace

int square_vertex_type(const Lattice& lattice, int vertex, const std::vector<std::int8_t>& spins) {
  // Islands of the vertex with their direction seen from it, then the in-mask in angular order
  // classified by the one classification the sampler uses (energy.hpp).
  struct Island {
    double angle;
    bool in;
  };
  std::vector<Island> islands;
  for (int e = 0; e < lattice.edge_count(); ++e) {
    const bool is_tail = lattice.edges[e][0] == vertex;
    const bool is_head = lattice.edges[e][1] == vertex;
    if (!is_tail && !is_head) continue;
    const double sign = is_tail ? 1.0 : -1.0;  // axis points away from the vertex when tail
    islands.push_back(
        {std::atan2(sign * lattice.island_axis[e][1], sign * lattice.island_axis[e][0]),
         (spins[e] > 0) == is_head});
  }
  if (islands.size() != 4) return 0;
  std::stable_sort(islands.begin(), islands.end(),
                   [](const Island& a, const Island& b) { return a.angle < b.angle; });
  unsigned mask = 0;
  for (int k = 0; k < 4; ++k) mask |= static_cast<unsigned>(islands[k].in) << k;
  return square_vertex_type(mask) + 1;
}

std::string draw_state_svg(const Lattice& lattice, const std::vector<std::int8_t>& spins,
                           const std::vector<int>& charge, bool square_vertex_types) {
  if (static_cast<int>(spins.size()) != lattice.edge_count()) {
    throw std::invalid_argument("draw_state_svg: one spin per island required");
  }
  if (static_cast<int>(charge.size()) != lattice.vertex_count()) {
    throw std::invalid_argument("draw_state_svg: one charge per vertex required");
  }
  double x_min = 0.0, x_max = 0.0, y_min = 0.0, y_max = 0.0;
  for (int v = 0; v < lattice.vertex_count(); ++v) {
    const auto& p = lattice.positions[v];
    if (v == 0) {
      x_min = x_max = p[0];
      y_min = y_max = p[1];
    }
    x_min = std::min(x_min, p[0]);
    x_max = std::max(x_max, p[0]);
    y_min = std::min(y_min, p[1]);
    y_max = std::max(y_max, p[1]);
  }
  if (lattice.period[0] > 0.0) x_max = std::max(x_max, x_min + lattice.period[0]);
  if (lattice.period[1] > 0.0) y_max = std::max(y_max, y_min + lattice.period[1]);
  const double drawing_width = (x_max - x_min) * kPixelsPerUnit + 2 * kMargin;
  const double drawing_height = (y_max - y_min) * kPixelsPerUnit + 2 * kMargin;
  const double width = drawing_width + kLegendWidth;
  const double height = std::max(drawing_height, 190.0);
  const auto sx = [&](double x) { return kMargin + (x - x_min) * kPixelsPerUnit; };
  const auto sy = [&](double y) { return drawing_height - kMargin - (y - y_min) * kPixelsPerUnit; };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << number(width)
      << "\" height=\"" << number(height) << "\" viewBox=\"0 0 " << number(width) << ' '
      << number(height) << "\">\n";
  svg << "<defs>\n";
  for (const char* id : {"free", "fixed"}) {
    const char* colour = std::string(id) == "free" ? "#212121" : "#1b5e20";
    svg << "<marker id=\"head-" << id
        << "\" viewBox=\"0 0 10 10\" refX=\"8\" refY=\"5\" markerWidth=\"5\" markerHeight=\"5\" "
           "orient=\"auto\"><polygon points=\"0,0 10,5 0,10\" fill=\""
        << colour << "\"/></marker>\n";
  }
  svg << "</defs>\n";
  svg << "<rect x=\"0\" y=\"0\" width=\"" << number(width) << "\" height=\"" << number(height)
      << "\" fill=\"white\"/>\n";

  svg << "<g id=\"islands\" stroke-width=\"3\">\n";
  for (int e = 0; e < lattice.edge_count(); ++e) {
    const auto d = detail::vertex_displacement(lattice, lattice.edges[e][0], lattice.edges[e][1]);
    const double half_length = 0.32 * std::hypot(d[0], d[1]);
    const double direction = spins[e] >= 0 ? 1.0 : -1.0;
    const auto& c = lattice.island_position[e];
    const auto& a = lattice.island_axis[e];
    const double x1 = c[0] - direction * half_length * a[0];
    const double y1 = c[1] - direction * half_length * a[1];
    const double x2 = c[0] + direction * half_length * a[0];
    const double y2 = c[1] + direction * half_length * a[1];
    const bool fixed = !lattice.fixed_spin.empty() && lattice.fixed_spin[e] != 0;
    svg << "<line x1=\"" << number(sx(x1)) << "\" y1=\"" << number(sy(y1)) << "\" x2=\""
        << number(sx(x2)) << "\" y2=\"" << number(sy(y2)) << "\" stroke=\""
        << (fixed ? "#1b5e20" : "#212121") << "\" marker-end=\"url(#head-"
        << (fixed ? "fixed" : "free") << ")\"/>\n";
  }
  svg << "</g>\n";

  int largest = 0;
  for (int q : charge) largest = std::max(largest, std::abs(q));
  svg << "<g id=\"vertices\" stroke=\"#424242\" stroke-width=\"1\">\n";
  for (int v = 0; v < lattice.vertex_count(); ++v) {
    const auto& p = lattice.positions[v];
    const bool terminal = !lattice.terminal.empty() && lattice.terminal[v] != 0;
    if (terminal) {
      svg << "<circle cx=\"" << number(sx(p[0])) << "\" cy=\"" << number(sy(p[1]))
          << "\" r=\"3\" fill=\"none\"/>\n";
      continue;
    }
    std::string fill = charge_colour(charge[v], largest);
    if (square_vertex_types) {
      const int type = square_vertex_type(lattice, v, spins);
      if (type != 0) fill = vertex_type_colour(type);
    }
    svg << "<circle cx=\"" << number(sx(p[0])) << "\" cy=\"" << number(sy(p[1]))
        << "\" r=\"6\" fill=\"" << fill << "\"><title>vertex " << v << ", charge " << charge[v]
        << "</title></circle>\n";
  }
  svg << "</g>\n";

  // Legend (circles and text only, so that <line> elements are exactly the islands).
  const double lx = drawing_width + 10.0;
  double ly = 24.0;
  svg << "<g id=\"legend\" font-family=\"sans-serif\" font-size=\"12\">\n";
  const auto entry = [&](const std::string& colour, const std::string& label) {
    svg << "<circle cx=\"" << number(lx + 6) << "\" cy=\"" << number(ly - 4) << "\" r=\"6\" fill=\""
        << colour << "\" stroke=\"#424242\"/><text x=\"" << number(lx + 18) << "\" y=\""
        << number(ly) << "\">" << label << "</text>\n";
    ly += 20.0;
  };
  if (square_vertex_types) {
    entry(vertex_type_colour(1), "type I (2-in/2-out)");
    entry(vertex_type_colour(2), "type II (2-in/2-out)");
    entry(vertex_type_colour(3), "type III (3-in/1-out)");
    entry(vertex_type_colour(4), "type IV (4-in/4-out)");
  }
  entry(charge_colour(0, largest), "charge 0");
  entry(charge_colour(std::max(largest, 1), largest),
        "charge +" + std::to_string(std::max(largest, 1)));
  entry(charge_colour(-std::max(largest, 1), largest),
        "charge -" + std::to_string(std::max(largest, 1)));
  svg << "<text x=\"" << number(lx) << "\" y=\"" << number(ly)
      << "\">arrows: island moments</text>\n";
  svg << "</g>\n";
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace frost::asi
