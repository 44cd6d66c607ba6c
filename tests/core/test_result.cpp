#include <gtest/gtest.h>

#include "core/png.hpp"
#include "core/result.hpp"

using namespace frost::core;

TEST(RunResult, SerializationRoundTrip) {
  RunResult r;
  r.id = 5;
  r.ok = false;
  r.error = "boom";
  r.rank = 1;
  r.params = {{"asi.lattice.L", Value::of_int(8)}};
  r.set("energy", Value::of_real(-1.25));
  r.set("count", Value::of_string("123456789012345678901234567890"));
  r.set("ladder", Value::of_real_list({0.5, 1.5}));
  r.add_f64("series/energy", {2, 2}, {1, 2, 3, 4});
  r.add_i8("states", {1, 3}, {1, -1, 1});
  r.artifacts.push_back({"state.svg", "<svg/>"});
  RunResult back = deserialize(serialize(r));
  EXPECT_EQ(back.id, 5);
  EXPECT_FALSE(back.ok);
  EXPECT_EQ(back.error, "boom");
  ASSERT_EQ(back.results.size(), 3u);
  EXPECT_TRUE(*back.find("energy") == Value::of_real(-1.25));
  EXPECT_TRUE(*back.find("ladder") == Value::of_real_list({0.5, 1.5}));
  ASSERT_EQ(back.datasets.size(), 2u);
  EXPECT_EQ(back.datasets[0].shape, (std::vector<std::uint64_t>{2, 2}));
  EXPECT_EQ(back.datasets[1].bytes.size(), 3u);
  EXPECT_EQ(back.artifacts[0].content, "<svg/>");
  EXPECT_THROW(r.add_f64("bad", {3}, {1.0}), std::logic_error);
}

TEST(RunResult, NumberReadsIntegersAndReals) {
  RunResult r;
  r.set("steps", Value::of_int(7));
  r.set("loss", Value::of_real(2.5));
  r.set("model", Value::of_string("ten"));
  EXPECT_EQ(r.number("steps", -1.0), 7.0);
  EXPECT_EQ(r.number("loss", -1.0), 2.5);
  EXPECT_EQ(r.number("model", -1.0), -1.0);  // not a number
  EXPECT_EQ(r.number("absent", -3.0), -3.0);
}

TEST(Png, HeaderAndChecksums) {
  std::vector<std::uint8_t> rgb(3 * 4 * 2, 200);
  std::string png = encode_png(4, 2, rgb);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  // The IEND chunk's CRC is the fixed value AE 42 60 82 of the PNG specification.
  EXPECT_EQ(png.substr(png.size() - 8), std::string("IEND\xae\x42\x60\x82", 8));
  EXPECT_THROW(encode_png(4, 2, std::vector<std::uint8_t>(5)), std::invalid_argument);
}

TEST(Value, JsonAndYamlText) {
  EXPECT_EQ(Value::of_real(0.1).to_yaml(), "0.1");
  EXPECT_EQ(Value::of_real(2).to_yaml(), "2.0");
  EXPECT_EQ(Value::of_string("open").to_yaml(), "open");
  EXPECT_EQ(Value::of_string("1.5").to_yaml(), "\"1.5\"");
  EXPECT_EQ(Value::of_string("a\"b").to_json(), "\"a\\\"b\"");
  EXPECT_EQ(Value::of_real(1.0 / 0.0).to_json(), "null");
}
