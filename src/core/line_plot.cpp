#include "core/line_plot.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "core/png.hpp"

namespace frost::core {

namespace {

constexpr int kScale = 2;                 // font pixels per glyph pixel
constexpr int kAdvance = 4 * kScale;      // glyph width 3 plus one column of space
constexpr int kGlyphHeight = 5 * kScale;  // glyph rows
constexpr int kLeft = 78, kRight = 18, kTop = 8, kTitle = 28, kHeader = 22, kTicks = 22;
constexpr int kXLabel = 22, kInset = 4;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// 3x5 glyphs: five rows of three pixels, one octal digit per row (4 = left, 2 = middle,
// 1 = right); the table of perf/plot_scaling.py.
constexpr const char* kGlyphChars = "0123456789.-%/:_()=+ ABCDEFGHIJKLMNOPQRSTUVWXYZ,<>";
constexpr const char* kGlyphRows[] = {
    "75557", "26227", "71747", "71317", "55711", "74717", "74757", "71122", "75757", "75717",
    "00002", "00700", "51245", "11244", "02020", "00007", "12221", "42224", "07070", "02720",
    "00000", "25755", "65656", "34443", "65556", "74647", "74644", "34553", "55755", "72227",
    "11152", "55655", "44447", "57555", "65555", "25552", "65644", "25563", "65655", "34216",
    "72222", "55557", "55552", "55575", "55255", "55222", "71247", "00024", "12421", "42124"};

using Rgb = std::array<std::uint8_t, 3>;
constexpr Rgb kBlack = {0, 0, 0}, kGrey = {110, 110, 110}, kLight = {228, 228, 228};

struct Canvas {
  int w, h;
  std::vector<std::uint8_t> px;
  Canvas(int width, int height)
      : w(width), h(height), px(static_cast<std::size_t>(width) * height * 3, 255) {}
  void set(int x, int y, const Rgb& c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    std::uint8_t* p = &px[3 * (static_cast<std::size_t>(y) * w + x)];
    p[0] = c[0];
    p[1] = c[1];
    p[2] = c[2];
  }
  /// Square of side 2r+1 around (x, y), clipped to [x0, x1] x [y0, y1].
  void dot(int x, int y, const Rgb& c, int r, int x0, int y0, int x1, int y1) {
    for (int yy = std::max(y - r, y0); yy <= std::min(y + r, y1); ++yy)
      for (int xx = std::max(x - r, x0); xx <= std::min(x + r, x1); ++xx) set(xx, yy, c);
  }
  void line(double ax, double ay, double bx, double by, const Rgb& c, int r, int x0, int y0, int x1,
            int y1) {
    const int n = static_cast<int>(std::ceil(std::max(std::fabs(bx - ax), std::fabs(by - ay))));
    for (int k = 0; k <= n; ++k) {
      const double t = n > 0 ? double(k) / n : 0.0;
      dot(static_cast<int>(std::lround(ax + t * (bx - ax))),
          static_cast<int>(std::lround(ay + t * (by - ay))), c, r, x0, y0, x1, y1);
    }
  }
  void hline(int xa, int xb, int y, const Rgb& c) {
    for (int x = xa; x <= xb; ++x) set(x, y, c);
  }
  void vline(int x, int ya, int yb, const Rgb& c) {
    for (int y = ya; y <= yb; ++y) set(x, y, c);
  }
  /// Text with its top at y; align: 0 left, 1 right, 2 centred at x.
  void text(int x, int y, const std::string& s, const Rgb& c, int align = 0) {
    const int width = static_cast<int>(s.size()) * kAdvance - kScale;
    if (align == 1) x -= width;
    if (align == 2) x -= width / 2;
    const std::string chars = kGlyphChars;
    for (char ch : s) {
      const auto at = chars.find(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
      if (at != std::string::npos) {
        for (int row = 0; row < 5; ++row) {
          const int bits = kGlyphRows[at][row] - '0';
          for (int col = 0; col < 3; ++col) {
            if (!(bits & (4 >> col))) continue;
            for (int dy = 0; dy < kScale; ++dy)
              for (int dx = 0; dx < kScale; ++dx)
                set(x + col * kScale + dx, y + row * kScale + dy, c);
          }
        }
      }
      x += kAdvance;
    }
  }
};

int text_width(const std::string& s) {
  return static_cast<int>(s.size()) * kAdvance;
}

/// 1, 2 or 5 times a power of ten, near raw.
double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1.0;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * mag;
}

std::vector<double> ticks(double lo, double hi, double step) {
  std::vector<double> t;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step && t.size() < 64;
       k += 1.0)
    t.push_back(k * step);
  return t;
}

bool drawable(double x, double y, bool log_y) {
  return std::isfinite(x) && std::isfinite(y) && (!log_y || y > 0);
}

void check(const LinePlot& plot) {
  if (plot.panels.empty()) throw std::invalid_argument("line plot: no panel");
  if (plot.width < 160 || plot.panel_height < 40)
    throw std::invalid_argument("line plot: too small (width >= 160, panel_height >= 40)");
  for (const auto& p : plot.panels)
    for (const auto& s : p.series)
      if (s.x.size() != s.y.size())
        throw std::invalid_argument("line plot: series '" + s.label + "' has " +
                                    std::to_string(s.x.size()) + " x and " +
                                    std::to_string(s.y.size()) + " y values");
}

}  // namespace

double PlotFrame::px(double x) const {
  // the first and last x sit kInset pixels inside the frame, clear of its border
  return left + kInset + (x - x_min) / (x_max - x_min) * (right - left - 2 * kInset);
}

double PlotFrame::py(double y) const {
  if (log_y) y = y > 0 ? std::log10(y) : kNan;
  return bottom - (y - y_min) / (y_max - y_min) * (bottom - top);
}

std::array<std::uint8_t, 3> plot_colour(int i) {
  static const Rgb palette[] = {{31, 119, 180}, {214, 39, 40},  {44, 160, 44}, {148, 103, 189},
                                {255, 127, 14}, {23, 190, 207}, {140, 86, 75}};
  constexpr int n = sizeof(palette) / sizeof(palette[0]);
  return palette[((i % n) + n) % n];
}

std::string format_tick(double value, double step) {
  if (std::fabs(value) < std::fabs(step) * 1e-6) return "0";
  std::string best;
  char buf[32];
  const double a = std::fabs(value);
  if (a >= 1e-3 && a < 1e6) {  // plain decimals, as many as the step needs
    const double st = std::max(std::fabs(step), a * 1e-9);
    const int decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(st) - 1e-9)), 0, 9);
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    best = buf;
    if (best.find('.') != std::string::npos) {  // 0.50 -> 0.5
      while (best.back() == '0') best.pop_back();
      if (best.back() == '.') best.pop_back();
    }
    return best;
  }
  for (int prec = 1; prec <= 8; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, value);
    best = buf;
    if (std::fabs(std::strtod(buf, nullptr) - value) <= std::fabs(step) * 1e-3) break;
  }
  // compact exponent: e-05 -> e-5, e+03 -> e3
  const auto e = best.find('e');
  if (e != std::string::npos) {
    std::string mant = best.substr(0, e), exp = best.substr(e + 1);
    const bool neg = !exp.empty() && exp[0] == '-';
    if (!exp.empty() && (exp[0] == '-' || exp[0] == '+')) exp.erase(0, 1);
    while (exp.size() > 1 && exp[0] == '0') exp.erase(0, 1);
    best = mant + "e" + (neg ? "-" : "") + exp;
  }
  return best;
}

PlotLayout line_plot_layout(const LinePlot& plot) {
  check(plot);
  PlotLayout L;
  L.width = plot.width;
  // shared x range over every drawable point
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin;
  for (const auto& p : plot.panels)
    for (const auto& s : p.series)
      for (std::size_t i = 0; i < s.x.size(); ++i)
        if (drawable(s.x[i], s.y[i], p.log_y)) {
          xmin = std::min(xmin, s.x[i]);
          xmax = std::max(xmax, s.x[i]);
        }
  if (!(xmin <= xmax)) xmin = 0.0, xmax = 1.0;
  if (xmin == xmax) xmin -= 1.0, xmax += 1.0;
  int y = kTop + (plot.title.empty() ? 0 : kTitle);
  for (const auto& p : plot.panels) {
    PlotFrame f;
    f.log_y = p.log_y;
    f.left = kLeft;
    f.right = plot.width - kRight;
    f.top = y + kHeader;
    f.bottom = f.top + plot.panel_height - 1;
    f.x_min = xmin;
    f.x_max = xmax;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : p.series)
      for (std::size_t i = 0; i < s.x.size(); ++i)
        if (drawable(s.x[i], s.y[i], p.log_y)) {
          const double v = p.log_y ? std::log10(s.y[i]) : s.y[i];
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
    if (!(lo <= hi)) lo = 0.0, hi = 1.0;
    if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(hi))) {
      const double pad = p.log_y ? 0.5 : std::max(0.5, 0.1 * std::fabs(hi));
      lo -= pad;
      hi += pad;
    } else {
      const double pad = 0.05 * (hi - lo);
      lo -= pad;
      hi += pad;
    }
    f.y_min = lo;
    f.y_max = hi;
    L.frames.push_back(f);
    y = f.bottom + 1 + kTicks;
  }
  L.height = y + (plot.x_label.empty() ? 4 : kXLabel);
  return L;
}

std::vector<std::uint8_t> line_plot_pixels(const LinePlot& plot) {
  const PlotLayout L = line_plot_layout(plot);
  Canvas cv(L.width, L.height);
  if (!plot.title.empty()) cv.text(L.width / 2, kTop + 4, plot.title, kBlack, 2);
  for (std::size_t pi = 0; pi < plot.panels.size(); ++pi) {
    const PlotPanel& p = plot.panels[pi];
    const PlotFrame& f = L.frames[pi];
    // header: y label and legend
    int hx = f.left;
    const int hy = f.top - kHeader + 5;
    if (!p.y_label.empty()) {
      cv.text(hx, hy, p.y_label, kBlack);
      hx += text_width(p.y_label) + 2 * kAdvance;
    }
    for (std::size_t si = 0; si < p.series.size(); ++si) {
      const std::string& label = p.series[si].label;
      if (label.empty()) continue;
      const Rgb c = plot_colour(static_cast<int>(si));
      for (int t = 0; t < 3; ++t) cv.hline(hx, hx + 17, hy + 4 + t, c);
      cv.text(hx + 22, hy, label, kGrey);
      hx += 22 + text_width(label) + kAdvance;
    }
    // grid, ticks and labels
    const double xstep = nice_step((f.x_max - f.x_min) / 6.0);
    for (double t : ticks(f.x_min, f.x_max, xstep)) {
      const int x = static_cast<int>(std::lround(f.px(t)));
      cv.vline(x, f.top, f.bottom, kLight);
      cv.vline(x, f.bottom + 1, f.bottom + 4, kBlack);
      cv.text(x, f.bottom + 7, format_tick(t, xstep), kBlack, 2);
    }
    double ystep = nice_step((f.y_max - f.y_min) / 5.0);
    if (p.log_y && f.y_max - f.y_min >= 2.0) ystep = std::max(1.0, std::round(ystep));
    for (double t : ticks(f.y_min, f.y_max, ystep)) {
      const int yy = static_cast<int>(
          std::lround(f.bottom - (t - f.y_min) / (f.y_max - f.y_min) * (f.bottom - f.top)));
      cv.hline(f.left, f.right, yy, kLight);
      cv.hline(f.left - 4, f.left - 1, yy, kBlack);
      const std::string label = p.log_y ? format_tick(std::pow(10.0, t), std::pow(10.0, t) * 1e-2)
                                        : format_tick(t, ystep);
      cv.text(f.left - 7, yy - kGlyphHeight / 2, label, kBlack, 1);
    }
    // frame
    cv.hline(f.left, f.right, f.top, kBlack);
    cv.hline(f.left, f.right, f.bottom, kBlack);
    cv.vline(f.left, f.top, f.bottom, kBlack);
    cv.vline(f.right, f.top, f.bottom, kBlack);
    // series, clipped to the inside of the frame
    for (std::size_t si = 0; si < p.series.size(); ++si) {
      const PlotSeries& s = p.series[si];
      const Rgb c = plot_colour(static_cast<int>(si));
      std::size_t count = 0;
      for (std::size_t i = 0; i < s.x.size(); ++i) count += drawable(s.x[i], s.y[i], p.log_y);
      const bool markers = count < 40;
      const int thickness = count > 300 ? 0 : 1;  // long noisy curves stay legible
      double lx = kNan, ly = kNan;
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!drawable(s.x[i], s.y[i], p.log_y)) continue;
        const double X = f.px(s.x[i]), Y = f.py(s.y[i]);
        if (std::isfinite(lx)) {
          cv.line(lx, ly, X, Y, c, thickness, f.left + 1, f.top + 1, f.right - 1, f.bottom - 1);
        } else {
          cv.dot(static_cast<int>(std::lround(X)), static_cast<int>(std::lround(Y)), c, 1,
                 f.left + 1, f.top + 1, f.right - 1, f.bottom - 1);
        }
        if (markers)
          cv.dot(static_cast<int>(std::lround(X)), static_cast<int>(std::lround(Y)), c, 2,
                 f.left + 1, f.top + 1, f.right - 1, f.bottom - 1);
        lx = X;
        ly = Y;
      }
    }
  }
  if (!plot.x_label.empty()) {
    cv.text(L.width / 2, L.height - kXLabel + 4, plot.x_label, kBlack, 2);
  }
  return cv.px;
}

std::string line_plot_png(const LinePlot& plot) {
  const PlotLayout L = line_plot_layout(plot);
  return encode_png(L.width, L.height, line_plot_pixels(plot));
}

void write_line_plot(const std::string& path, const LinePlot& plot) {
  const std::string png = line_plot_png(plot);  // fails before any file is touched
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(png.data(), static_cast<std::streamsize>(png.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw std::runtime_error("line plot: cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("line plot: cannot rename " + tmp + " to " + path);
  }
}

}  // namespace frost::core
