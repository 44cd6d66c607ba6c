#include <gtest/gtest.h>

#include "core/deck.hpp"
#include "core/error.hpp"
#include "core/params.hpp"

using namespace frost::core;

namespace {
ParamRegistry toy_registry() {
  ParamRegistry reg("toy");
  reg.add_int("size.L", 4, "linear size").min(1).max(100);
  reg.add_real("temperature", 1.0, "temperature").min(0);
  reg.add_choice("boundary", "open", {"open", "periodic"}, "boundary");
  reg.add_bool("verbose", false, "talk");
  reg.add_real_list("ladder", {1.0, 2.0}, "temperatures");
  return reg;
}
const std::vector<std::string> kModules = {"toy", "other"};

std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  try {
    auto deck = parse_deck(yaml, "deck.yaml", kModules);
    apply_sets(deck, toy_registry(), sets);
    resolve_runs(deck, toy_registry());
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Deck, SingleModuleDeckResolvesDefaults) {
  auto deck = parse_deck("toy:\n  size:\n    L: 7\n  temperature: 2\n", "d.yaml", kModules);
  EXPECT_EQ(deck.module, "toy");
  auto runs = resolve_runs(deck, toy_registry());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].params.get_int("size.L"), 7);
  EXPECT_EQ(runs[0].params.get_real("temperature"), 2.0);  // int promoted to real
  EXPECT_EQ(runs[0].params.get_string("boundary"), "open");
  EXPECT_EQ(runs[0].params.get_real_list("ladder"), (std::vector<double>{1.0, 2.0}));
}

TEST(Deck, SweepProductLinspaceAndZip) {
  const char* yaml =
      "toy:\n  size:\n    L: 3\nsweep:\n  toy.size.L: [2, 4]\n"
      "  toy.temperature: {linspace: [1.0, 2.0, 3]}\n";
  auto runs = resolve_runs(parse_deck(yaml, "d.yaml", kModules), toy_registry());
  ASSERT_EQ(runs.size(), 6u);
  // The last axis varies fastest.
  EXPECT_EQ(runs[0].params.get_int("size.L"), 2);
  EXPECT_DOUBLE_EQ(runs[1].params.get_real("temperature"), 1.5);
  EXPECT_EQ(runs[3].params.get_int("size.L"), 4);
  EXPECT_DOUBLE_EQ(runs[5].params.get_real("temperature"), 2.0);
  EXPECT_EQ(runs[4].overrides.size(), 2u);

  const char* zipped =
      "toy:\n  verbose: true\nsweep:\n  zip: true\n  toy.size.L: [2, 4, 8]\n"
      "  toy.temperature: {logspace: [1.0, 100.0, 3]}\n";
  runs = resolve_runs(parse_deck(zipped, "d.yaml", kModules), toy_registry());
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[2].params.get_int("size.L"), 8);
  EXPECT_NEAR(runs[1].params.get_real("temperature"), 10.0, 1e-12);
}

TEST(Deck, SetOverridesDeckAndSweep) {
  auto deck =
      parse_deck("toy:\n  size:\n    L: 3\nsweep:\n  toy.size.L: [2, 4]\n", "d.yaml", kModules);
  apply_sets(deck, toy_registry(),
             {"toy.size.L=9", "toy.boundary=periodic", "toy.ladder=[0.5, 1]"});
  auto runs = resolve_runs(deck, toy_registry());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].params.get_int("size.L"), 9);
  EXPECT_EQ(runs[0].params.get_string("boundary"), "periodic");
  EXPECT_EQ(runs[0].params.get_real_list("ladder"), (std::vector<double>{0.5, 1.0}));
}

TEST(Deck, ErrorsNameFileKeyAndAllowedValues) {
  std::string e = error_of("toy:\n  size:\n    l: 3\n");
  EXPECT_NE(e.find("deck.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'toy.size.l'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'toy.size.L'"), std::string::npos) << e;

  e = error_of("toy:\n  size:\n    L: abc\n");
  EXPECT_NE(e.find("toy.size.L"), std::string::npos) << e;
  EXPECT_NE(e.find("expected an integer"), std::string::npos) << e;

  e = error_of("toy:\n  size:\n    L: 1000\n");
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
  EXPECT_NE(e.find("int in [1.0, 100.0]"), std::string::npos) << e;

  e = error_of("toy:\n  boundary: twisted\n");
  EXPECT_NE(e.find("one of {open, periodic}"), std::string::npos) << e;

  e = error_of("toy:\n  size: [1, 2\n");
  EXPECT_NE(e.find("malformed YAML"), std::string::npos) << e;

  e = error_of("nosuch:\n  a: 1\n");
  EXPECT_NE(e.find("not a module"), std::string::npos) << e;

  e = error_of("toy:\n  verbose: true\n", {"toy.temperature=-1"});
  EXPECT_NE(e.find("--set"), std::string::npos) << e;
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;

  e = error_of("toy:\n  verbose: true\nsweep:\n  toy.size.L: [2, 0]\n");
  EXPECT_NE(e.find("sweep"), std::string::npos) << e;
}

TEST(Params, DefaultsDeckReadsBackToDefaults) {
  auto reg = toy_registry();
  std::string yaml = reg.defaults_yaml();
  auto runs = resolve_runs(parse_deck(yaml, "defaults.yaml", kModules), reg);
  ASSERT_EQ(runs.size(), 1u);
  for (const auto& s : reg.specs())
    EXPECT_TRUE(runs[0].params.values().at(s.path) == s.default_value) << s.path;
  EXPECT_NE(yaml.find("# linear size (int in [1.0, 100.0]; default 4)"), std::string::npos) << yaml;
}

TEST(Params, ResolvedDeckRoundTrips) {
  auto deck = parse_deck("toy:\n  temperature: 0.1\n  boundary: periodic\n", "d.yaml", kModules);
  auto runs = resolve_runs(deck, toy_registry());
  auto again =
      resolve_runs(parse_deck(runs[0].params.to_yaml(), "r.yaml", kModules), toy_registry());
  EXPECT_EQ(again[0].params.values().size(), runs[0].params.values().size());
  for (const auto& [k, v] : runs[0].params.values())
    EXPECT_TRUE(again[0].params.values().at(k) == v) << k;
}

TEST(Params, EditDistance) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(Params, DefaultsGroupSectionsDeclaredApart) {
  ParamRegistry reg("toy");
  reg.add_int("output.a", 1, "first");
  reg.add_int("size.L", 4, "size");
  reg.add_bool("output.b", true, "declared later");
  std::string yaml = reg.defaults_yaml();
  EXPECT_EQ(yaml.find("output:"), yaml.rfind("output:")) << yaml;
  auto runs = resolve_runs(parse_deck(yaml, "defaults.yaml", {"toy"}), reg);
  EXPECT_TRUE(runs[0].params.get_bool("output.b"));
}
