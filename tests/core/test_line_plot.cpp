#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/line_plot.hpp"

using namespace frost::core;

namespace {

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t(std::uint8_t(s[at])) << 24) |
         (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint32_t(std::uint8_t(s[at + 3]));
}

/// Independent reader for the PNGs encode_png writes: walks the chunks, checks the IHDR, and
/// undoes the zlib stream of stored deflate blocks and the per-row filter byte (must be 0).
struct Decoded {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
};
Decoded decode(const std::string& png) {
  Decoded d;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::string idat;
  std::size_t at = 8;
  bool ended = false, first = true;
  while (at + 8 <= png.size()) {
    const std::uint32_t len = be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    const std::string data = png.substr(at + 8, len);
    if (first) {
      EXPECT_EQ(type, "IHDR");
    }
    first = false;
    if (type == "IHDR") {
      EXPECT_EQ(len, 13u);
      d.width = static_cast<int>(be32(data, 0));
      d.height = static_cast<int>(be32(data, 4));
      EXPECT_EQ(data[8], 8);  // bit depth
      EXPECT_EQ(data[9], 2);  // RGB
    } else if (type == "IDAT") {
      idat += data;
    } else if (type == "IEND") {
      ended = true;
    }
    at += 12 + len;
  }
  EXPECT_TRUE(ended);
  std::string raw;
  std::size_t p = 2;  // zlib header
  while (p + 5 <= idat.size()) {
    const int final_block = idat[p] & 1;
    EXPECT_EQ((idat[p] >> 1) & 3, 0);  // stored
    const std::size_t n = std::uint8_t(idat[p + 1]) | (std::size_t(std::uint8_t(idat[p + 2])) << 8);
    raw += idat.substr(p + 5, n);
    p += 5 + n;
    if (final_block) break;
  }
  const std::size_t row = 1 + 3 * std::size_t(d.width);
  EXPECT_EQ(raw.size(), row * d.height);
  if (raw.size() != row * d.height) return d;
  for (int y = 0; y < d.height; ++y) {
    EXPECT_EQ(raw[y * row], 0);
    for (std::size_t i = 1; i < row; ++i) d.rgb.push_back(std::uint8_t(raw[y * row + i]));
  }
  return d;
}

bool has_colour(const Decoded& d, int x, int y, const std::array<std::uint8_t, 3>& c) {
  if (x < 0 || y < 0 || x >= d.width || y >= d.height || d.rgb.empty()) return false;
  const std::uint8_t* p = &d.rgb[3 * (std::size_t(y) * d.width + x)];
  return p[0] == c[0] && p[1] == c[1] && p[2] == c[2];
}

int px(double v) {
  return static_cast<int>(std::lround(v));
}

LinePlot sample_plot() {
  LinePlot plot;
  plot.title = "TEST CHART";
  plot.x_label = "EPOCH";
  PlotPanel a{"LOSS", {}, false};
  a.series.push_back({"UP", {0, 1, 2, 3, 4}, {0.0, 1.0, 4.0, 9.0, 16.0}});
  a.series.push_back({"FLAT", {0, 4}, {10.0, 10.0}});
  PlotPanel b{"KL", {}, true};
  const double nan = std::nan("");
  b.series.push_back({"", {0, 1, 2, 3, 4}, {1.0, nan, 0.1, nan, 0.01}});
  plot.panels = {a, b};
  return plot;
}

}  // namespace

TEST(LinePlot, WritesAValidPngWithTheSeriesWhereTheDataAre) {
  const LinePlot plot = sample_plot();
  const Decoded d = decode(line_plot_png(plot));
  const PlotLayout L = line_plot_layout(plot);
  EXPECT_EQ(d.width, plot.width);
  EXPECT_EQ(d.width, L.width);
  EXPECT_EQ(d.height, L.height);
  ASSERT_EQ(L.frames.size(), 2u);
  EXPECT_GT(L.frames[1].top, L.frames[0].bottom);
  // series 0 of panel 0 passes through its data points, series 1 through its own
  const PlotFrame& f = L.frames[0];
  for (int i = 0; i < 5; ++i) {
    const double x = i, y = double(i) * i;
    EXPECT_TRUE(has_colour(d, px(f.px(x)), px(f.py(y)), plot_colour(0))) << "point " << i;
  }
  EXPECT_TRUE(has_colour(d, px(f.px(2.0)), px(f.py(10.0)), plot_colour(1)));
  // a point off the curve is not painted with the series colour
  EXPECT_FALSE(has_colour(d, px(f.px(3.0)), px(f.py(1.0)), plot_colour(0)));
  // log axis: 0.1 lies half-way between 1 and 0.01; the NaN points are skipped, not drawn
  const PlotFrame& g = L.frames[1];
  EXPECT_NEAR(g.py(0.1), 0.5 * (g.py(1.0) + g.py(0.01)), 1e-9);
  EXPECT_TRUE(has_colour(d, px(g.px(2.0)), px(g.py(0.1)), plot_colour(0)));
  EXPECT_TRUE(has_colour(d, px(g.px(4.0)), px(g.py(0.01)), plot_colour(0)));
  // the data range lies inside the frame
  EXPECT_GT(f.py(16.0), f.top);
  EXPECT_LT(f.py(0.0), f.bottom);
  // the legend swatch of series 1 is drawn in the header of panel 0 (above the frame)
  bool swatch = false;
  for (int y = f.top - 22; y < f.top && !swatch; ++y)
    for (int x = f.left; x < f.right && !swatch; ++x) swatch = has_colour(d, x, y, plot_colour(1));
  EXPECT_TRUE(swatch);
}

TEST(LinePlot, TickLabelsAndErrors) {
  EXPECT_EQ(format_tick(0.0, 0.5), "0");
  EXPECT_EQ(format_tick(1e-17, 0.5), "0");
  EXPECT_EQ(format_tick(2.5, 0.5), "2.5");
  EXPECT_EQ(format_tick(-120.0, 20.0), "-120");
  EXPECT_EQ(format_tick(0.30000000000000004, 0.1), "0.3");
  EXPECT_EQ(format_tick(1e-5, 1e-7), "1e-5");
  LinePlot empty;
  EXPECT_THROW(line_plot_png(empty), std::invalid_argument);
  LinePlot bad = sample_plot();
  bad.panels[0].series[0].y.pop_back();
  EXPECT_THROW(line_plot_png(bad), std::invalid_argument);
}

TEST(LinePlot, WriteReplacesOnlyWithACompleteChart) {
  const std::string path = ::testing::TempDir() + "frost_line_plot_test.png";
  write_line_plot(path, sample_plot());
  auto slurp = [&]() {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const std::string first = slurp();
  EXPECT_EQ(first, line_plot_png(sample_plot()));
  LinePlot bad = sample_plot();
  bad.panels[0].series[0].x.clear();
  EXPECT_THROW(write_line_plot(path, bad), std::invalid_argument);
  EXPECT_EQ(slurp(), first);  // untouched
  std::remove(path.c_str());
}
