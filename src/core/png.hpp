// Minimal PNG writer (8-bit RGB, uncompressed deflate blocks): pictures without extra libraries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace frost::core {

/// Encodes a width x height RGB image (row-major, 3 bytes a pixel) as PNG file content.
std::string encode_png(int width, int height, const std::vector<std::uint8_t>& rgb);

/// Maps t in [0, 1] to an RGB colour of a perceptually ordered dark-to-bright colour map.
void colormap(double t, std::uint8_t rgb[3]);

}  // namespace frost::core
