// Line charts as PNG without extra libraries: one or more panels stacked vertically that share
// the x axis, each with its own y axis (linear or log10), ticks labelled in a built-in 3x5
// bitmap font, one colour per series and a legend in the panel's header. Used for training
// curves; the encoder is core::encode_png.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace frost::core {

/// One line. Points whose x or y is not finite (or y <= 0 on a log axis) are skipped: the line
/// joins the neighbouring drawable points. A series with few points (< 40) also gets markers.
struct PlotSeries {
  std::string label;
  std::vector<double> x, y;
};

/// One panel: its series share a y axis.
struct PlotPanel {
  std::string y_label;  ///< written in the panel header, before the legend
  std::vector<PlotSeries> series;
  bool log_y = false;  ///< log10 axis (only y > 0 drawn)
};

/// A chart: title on top, panels from top to bottom, one x axis label at the bottom.
struct LinePlot {
  std::string title;
  std::string x_label;
  std::vector<PlotPanel> panels;
  int width = 720;         ///< pixels
  int panel_height = 240;  ///< pixels of each panel's plotting area
};

/// Where data lands in panel p: the frame (pixels, inclusive) and the axis ranges (y_min/y_max
/// in log10 units on a log axis; x_min and x_max map to 4 pixels inside the frame).
struct PlotFrame {
  int left = 0, top = 0, right = 0, bottom = 0;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  bool log_y = false;
  /// Pixel column / row of a data value (not clipped; NaN when y is not drawable).
  double px(double x) const;
  double py(double y) const;
};

/// Colour of the i-th series of a panel (a fixed palette, cycled).
std::array<std::uint8_t, 3> plot_colour(int i);

/// Image size and one frame per panel, as line_plot_png lays them out.
struct PlotLayout {
  int width = 0, height = 0;
  std::vector<PlotFrame> frames;
};
PlotLayout line_plot_layout(const LinePlot& plot);

/// RGB pixels (row-major, 3 bytes a pixel) of the chart, size line_plot_layout(plot).
std::vector<std::uint8_t> line_plot_pixels(const LinePlot& plot);

/// PNG file content of the chart. Throws std::invalid_argument when there is no panel or the
/// x and y of a series differ in length.
std::string line_plot_png(const LinePlot& plot);

/// Writes line_plot_png(plot) to `path` atomically (a temporary file beside it, then a rename):
/// an existing file is replaced only by a complete chart. Throws std::runtime_error on failure.
void write_line_plot(const std::string& path, const LinePlot& plot);

/// Tick label text: at most about 7 characters ("0", "0.25", "-120", "1.5e-05").
std::string format_tick(double value, double step);

}  // namespace frost::core
