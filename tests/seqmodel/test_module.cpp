// The seqmodel module end to end: a short run on a small repetitive text learns (the loss falls
// well below its start and the held-out loss below the unigram baseline), the outputs are there,
// bad text files and bad chunk lengths are deck errors naming the file and key, a checkpointed
// run resumes bitwise, the shipped deck is valid, and every kernel is labelled.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/checkpoint.hpp"
#include "core/deck.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "seqmodel/module.hpp"
#include "source_dir.hpp"

namespace frost::seqmodel {
namespace {

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + name;
}

/// A text of one sentence repeated: after a few bytes of context every next byte is certain.
std::string repetitive_text() {
  const std::string path = temp_path("frost_seqmodel_repetitive.txt");
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 120; ++i) out << "the quick brown fox jumps over the lazy dog. ";
  return path;
}

/// Settings of a small, fast model on the repetitive text.
std::vector<std::string> small(const std::vector<std::string>& more = {}) {
  std::vector<std::string> s = {"seqmodel.text=" + repetitive_text(),
                                "seqmodel.model.dim=16",
                                "seqmodel.model.layers=1",
                                "seqmodel.model.modes=8",
                                "seqmodel.model.chunk=8",
                                "seqmodel.train.T=32",
                                "seqmodel.train.batch=8",
                                "seqmodel.train.steps=150",
                                "seqmodel.train.lr=0.01",
                                "seqmodel.train.lr_min=0.001",
                                "seqmodel.train.warmup=10",
                                "seqmodel.eval.every=50",
                                "seqmodel.eval.windows=8",
                                "seqmodel.timing.scan_probe=false"};
  s.insert(s.end(), more.begin(), more.end());
  return s;
}

std::vector<core::RunSpec> resolve(const std::vector<std::string>& sets) {
  const SeqModelModule m;
  const core::ParamRegistry reg = core::module_registry(m);
  core::RawDeck deck = core::parse_deck(reg.defaults_yaml(), "d.yaml", {"seqmodel"});
  core::apply_sets(deck, reg, sets);
  return core::resolve_runs(deck, reg);
}

core::RunResult run_sets(const std::vector<std::string>& sets, core::Checkpointer* ck = nullptr) {
  const SeqModelModule m;
  const auto runs = resolve(sets);
  m.check(runs[0].params, "d.yaml");
  core::RunResult result;
  core::Checkpointer none("", 0, 0.0);
  core::Progress progress(false, 1);
  core::RunContext ctx{runs[0].params, 0, 7, result, ck ? *ck : none, progress};
  m.run(ctx);
  return result;
}

double real(const core::RunResult& r, const char* k) {
  const core::Value* v = r.find(k);
  EXPECT_NE(v, nullptr) << k;
  return v ? (v->type == core::Value::Type::Int ? double(v->i) : v->r) : -1.0;
}
const core::Dataset* dataset(const core::RunResult& r, const std::string& name) {
  for (const auto& d : r.datasets)
    if (d.name == name) return &d;
  return nullptr;
}
std::vector<double> values(const core::Dataset& d) {
  std::vector<double> v(d.bytes.size() / sizeof(double));
  std::copy(d.bytes.begin(), d.bytes.end(), reinterpret_cast<char*>(v.data()));
  return v;
}

TEST(SeqModelModule, ShortRunOnRepetitiveTextLearns) {
  const core::RunResult r = run_sets(small());
  const double first = real(r, "train_loss_first"), last = real(r, "train_loss_final");
  EXPECT_GT(first, 4.0);  // an untrained model is near ln 256 = 5.55
  EXPECT_LT(last, 0.1 * first) << "first " << first << " last " << last;
  EXPECT_NEAR(real(r, "eval_loss_initial"), std::log(256.0), 0.1);
  // The held-out split repeats the sentence too: far below the context-free baseline.
  EXPECT_LT(real(r, "eval_loss_final"), 0.2 * real(r, "unigram_heldout_ce"));
  EXPECT_TRUE(r.find("eval_below_unigram")->b);
  EXPECT_NEAR(real(r, "eval_perplexity_final"), std::exp(real(r, "eval_loss_final")), 1e-9);
  EXPECT_GT(real(r, "tokens_per_s"), 0.0);
  EXPECT_EQ(real(r, "steps"), 150.0);
  for (const char* name :
       {"train/loss", "train/lr", "train/grad_norm", "train/tokens_per_s", "train/wall_s"}) {
    const core::Dataset* d = dataset(r, name);
    ASSERT_NE(d, nullptr) << name;
    EXPECT_EQ(d->shape, std::vector<std::uint64_t>{150}) << name;
  }
  const core::Dataset* ev = dataset(r, "eval/loss");
  ASSERT_NE(ev, nullptr);
  EXPECT_EQ(ev->shape, std::vector<std::uint64_t>{4});  // before step 1, after 50, 100, 150
  const auto lr = values(*dataset(r, "train/lr"));
  EXPECT_NEAR(lr[9], 0.01, 1e-12);
  EXPECT_NEAR(lr.back(), 0.001, 1e-12);
  const auto wall = values(*dataset(r, "train/wall_s"));
  for (std::size_t i = 1; i < wall.size(); ++i) EXPECT_GE(wall[i], wall[i - 1]);
  const std::string table = SeqModelModule().report({r});
  EXPECT_NE(table.find("eval_loss"), std::string::npos);
}

TEST(SeqModelModule, BadTextFilesAreDeckErrors) {
  const std::string empty = temp_path("frost_seqmodel_empty.txt");
  std::ofstream(empty).close();
  const std::string shorty = temp_path("frost_seqmodel_short.txt");
  std::ofstream(shorty) << "far too short for a window of 128 bytes in each split";
  for (const std::string& path :
       {std::string("/nonexistent/frost-seqmodel-text"), empty, shorty, ::testing::TempDir()}) {
    const auto runs = resolve({"seqmodel.text=" + path});
    const SeqModelModule m;
    try {
      m.check(runs[0].params, "deck.yaml");
      ADD_FAILURE() << "no InputError for " << path;
    } catch (const core::InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("deck.yaml"), std::string::npos) << msg;
      EXPECT_NE(msg.find("seqmodel.text"), std::string::npos) << msg;
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
    }
    // Run without the check (a library caller): the same kind of error.
    core::RunResult result;
    core::Checkpointer ck("", 0, 0.0);
    core::Progress progress(false, 1);
    core::RunContext ctx{runs[0].params, 0, 1, result, ck, progress};
    EXPECT_THROW(m.run(ctx), core::InputError) << path;
  }
}

TEST(SeqModelModule, ChunkMustDivideTheWindow) {
  const auto runs = resolve(small({"seqmodel.model.chunk=12"}));
  try {
    SeqModelModule().check(runs[0].params, "deck.yaml");
    ADD_FAILURE() << "no InputError";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("seqmodel.model.chunk"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(SeqModelModule().check(resolve(small())[0].params, "deck.yaml"));
}

TEST(SeqModelModule, ResumesBitwiseFromACheckpoint) {
  const std::vector<std::string> sets = small({"seqmodel.train.steps=20", "seqmodel.eval.every=5"});
  const core::RunResult full = run_sets(sets);
  const std::string path = temp_path("frost_seqmodel_resume.state");
  std::remove(path.c_str());
  {
    core::Checkpointer ck(path, 8, 0.0);
    run_sets(sets, &ck);  // saves after steps 8 and 16
  }
  core::Checkpointer ck(path, 0, 0.0);
  const core::RunResult resumed = run_sets(sets, &ck);  // continues from step 16
  std::remove(path.c_str());
  for (const char* name : {"train/loss", "train/grad_norm", "eval/loss"})
    EXPECT_EQ(values(*dataset(resumed, name)), values(*dataset(full, name))) << name;
  EXPECT_EQ(real(resumed, "eval_loss_final"), real(full, "eval_loss_final"));
}

TEST(SeqModelModule, ShippedDeckIsValid) {
  const std::string path = test::source_dir() + "/inputs/seqmodel/ten_char.yaml";
  const SeqModelModule m;
  const core::ParamRegistry reg = core::module_registry(m);
  const core::RawDeck deck = core::read_deck(path, {"seqmodel"});
  const auto runs = core::resolve_runs(deck, reg);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_NO_THROW(m.check(runs[0].params, path));
}

std::set<std::string>& labels() {
  static std::set<std::string> seen;
  return seen;
}
void record(const char* name, std::uint32_t, std::uint64_t* id) {
  labels().insert(name);
  *id = 0;
}
void ignore_end(std::uint64_t) {}

TEST(SeqModelModule, KernelLabels) {
  labels().clear();
  Kokkos::Tools::Experimental::set_begin_parallel_for_callback(record);
  Kokkos::Tools::Experimental::set_begin_parallel_reduce_callback(record);
  Kokkos::Tools::Experimental::set_end_parallel_for_callback(ignore_end);
  Kokkos::Tools::Experimental::set_end_parallel_reduce_callback(ignore_end);
  run_sets(small({"seqmodel.train.steps=2", "seqmodel.timing.scan_probe=true"}));
  Kokkos::Tools::Experimental::pause_tools();
  Kokkos::Tools::Experimental::set_begin_parallel_for_callback(nullptr);
  Kokkos::Tools::Experimental::set_begin_parallel_reduce_callback(nullptr);
  Kokkos::Tools::Experimental::resume_tools();
  const std::regex grammar("frost::(seqmodel|recurrence)::[a-z0-9_]+");
  int mine = 0;
  for (const auto& name : labels()) {
    if (name.rfind("Kokkos::", 0) == 0 || name.rfind("KokkosBlas::", 0) == 0 ||
        name.find("GEMM") != std::string::npos)
      continue;
    EXPECT_TRUE(std::regex_match(name, grammar)) << name;
    if (name.rfind("frost::seqmodel::", 0) == 0) ++mine;
  }
  EXPECT_GE(mine, 8);
}

}  // namespace
}  // namespace frost::seqmodel
