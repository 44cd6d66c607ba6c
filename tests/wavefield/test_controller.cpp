// The control cycle's parts: the Kokkos LSTM step against a plain float64 loop, the evolution
// strategy on a tiny deterministic problem, the request bounds, and a controlled run.
#include <gtest/gtest.h>
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/checkpoint.hpp"
#include "core/deck.hpp"
#include "core/progress.hpp"
#include "wavefield/controller.hpp"
#include "wavefield/module.hpp"

using namespace frost::wavefield;

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

std::vector<double> host(const Kokkos::View<double*, Mem>& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<double>(h.data(), h.data() + h.extent(0));
}

void device(const std::vector<double>& values, const Kokkos::View<double*, Mem>& v) {
  auto h = Kokkos::create_mirror_view(v);
  for (std::size_t k = 0; k < values.size(); ++k) h(k) = values[k];
  Kokkos::deep_copy(v, h);
}

double sig(double a) {
  return 1.0 / (1.0 + std::exp(-a));
}

/// The LSTM written out plainly: theta in the LstmShape layout, gates i, f, g, o.
struct ReferenceLstm {
  LstmShape s;
  std::vector<double> theta, h, c;
  std::vector<double> step(const std::vector<double>& x) {
    const int ni = s.inputs, nh = s.hidden;
    std::vector<double> z(x), a(4 * nh), y(s.outputs);
    z.insert(z.end(), h.begin(), h.end());
    for (int r = 0; r < 4 * nh; ++r) {
      a[r] = theta[s.gate_bias() + r];
      for (int k = 0; k < ni + nh; ++k) a[r] += theta[r * (ni + nh) + k] * z[k];
    }
    for (int u = 0; u < nh; ++u) {
      c[u] = sig(a[nh + u]) * c[u] + sig(a[u]) * std::tanh(a[2 * nh + u]);
      h[u] = sig(a[3 * nh + u]) * std::tanh(c[u]);
    }
    for (int m = 0; m < s.outputs; ++m) {
      double v = theta[s.output_bias() + m];
      for (int u = 0; u < nh; ++u) v += theta[s.output_weights() + m * nh + u] * h[u];
      y[m] = std::tanh(v);
    }
    return y;
  }
};

/// Loss of a tiny problem: an LSTM (2 inputs, 4 units, 1 output) fed a constant input for 5 steps
/// should end at output 0.5.
double tiny_loss(const Exec& exec, const LstmShape& s, const Kokkos::View<double*, Mem>& theta) {
  LstmState<Mem> st(s);
  device({1.0, -0.5}, st.x);
  lstm_reset(exec, st);
  for (int t = 0; t < 5; ++t) lstm_step(exec, s, theta, st);
  const double y = host(st.y)[0];
  return (y - 0.5) * (y - 0.5);
}

frost::core::RunResult run_controlled(const std::vector<std::string>& extra,
                                      const std::string& checkpoint = "") {
  using namespace frost::core;
  const WavefieldModule m;
  ParamRegistry reg = module_registry(m);
  RawDeck deck = parse_deck(reg.defaults_yaml(), "defaults", {m.name()});
  std::vector<std::string> sets = {"wavefield.nodes=200", "wavefield.cycles=6",
                                   "wavefield.output.picture=false",
                                   "wavefield.control.enabled=true"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  apply_sets(deck, reg, sets);
  const auto runs = resolve_runs(deck, reg);
  m.check(runs[0].params, "test");
  RunResult result;
  Checkpointer ck(checkpoint, checkpoint.empty() ? 0 : 4, 0.0);
  Progress progress(false, 1);
  RunContext ctx{runs[0].params, 0, 3, result, ck, progress};
  m.run(ctx);
  return result;
}

double real(const frost::core::RunResult& r, const char* key) {
  const frost::core::Value* v = r.find(key);
  EXPECT_NE(v, nullptr) << key;
  return !v ? 0.0 : v->type == frost::core::Value::Type::Int ? double(v->i) : v->r;
}

}  // namespace

TEST(WavefieldController, LstmStepMatchesPlainLoop) {
  Exec exec;
  const LstmShape s{7, 33, 3};
  Kokkos::View<double*, Mem> theta("frost::wavefield::test_theta", s.size());
  lstm_initialise(exec, s, 9, 2, theta);
  // Larger weights than the initialisation so every gate leaves its linear range.
  auto th = host(theta);
  for (auto& v : th) v *= 4.0;
  device(th, theta);
  ReferenceLstm ref{s, th, std::vector<double>(s.hidden, 0.0), std::vector<double>(s.hidden, 0.0)};
  LstmState<Mem> st(s);
  lstm_reset(exec, st);
  for (int t = 0; t < 6; ++t) {
    std::vector<double> x(s.inputs);
    for (int k = 0; k < s.inputs; ++k) x[k] = std::sin(1.3 * t + k);
    device(x, st.x);
    lstm_step(exec, s, theta, st);
    const auto want = ref.step(x);
    const auto got = host(st.y), h = host(st.h), c = host(st.c);
    for (int m = 0; m < s.outputs; ++m) EXPECT_NEAR(got[m], want[m], 1e-13) << "t " << t;
    for (int u = 0; u < s.hidden; ++u) {
      EXPECT_NEAR(h[u], ref.h[u], 1e-13);
      EXPECT_NEAR(c[u], ref.c[u], 1e-13);
    }
  }
}

TEST(WavefieldController, InitialisationLayout) {
  Exec exec;
  const LstmShape s{2, 5, 1};
  EXPECT_EQ(s.size(), std::size_t(4 * 5 * 7 + 4 * 5 + 5 + 1));
  Kokkos::View<double*, Mem> theta("frost::wavefield::test_theta", s.size());
  lstm_initialise(exec, s, 1, 0, theta);
  const auto th = host(theta);
  for (int r = 0; r < 20; ++r) EXPECT_EQ(th[s.gate_bias() + r], r / 5 == 1 ? 1.0 : 0.0);
  for (std::size_t q = 0; q < s.gate_bias(); ++q) EXPECT_LE(std::abs(th[q]), 1 / std::sqrt(5.0));
}

TEST(WavefieldController, EvolutionStrategyImprovesTinyProblem) {
  Exec exec;
  const LstmShape s{2, 4, 1};
  Kokkos::View<double*, Mem> theta("frost::wavefield::test_theta", s.size()),
      trial("frost::wavefield::test_trial", s.size());
  lstm_initialise(exec, s, 5, 0, theta);
  EsSettings es;
  es.pairs = 8;
  es.sigma = 0.05;
  es.learning_rate = 0.003;
  es.seed = 5;
  const double start = tiny_loss(exec, s, theta);
  ASSERT_GT(start, 0.01);
  double loss = start;
  for (int g = 0; g < 30; ++g) {
    std::vector<double> plus(es.pairs), minus(es.pairs);
    for (int p = 0; p < es.pairs; ++p) {
      es_perturb(exec, es, g, p, +1, theta, trial);
      plus[p] = tiny_loss(exec, s, trial);
      es_perturb(exec, es, g, p, -1, theta, trial);
      minus[p] = tiny_loss(exec, s, trial);
    }
    es_update(exec, es, g, plus, minus, theta);
    const double next = tiny_loss(exec, s, theta);
    if (g == 0) {
      EXPECT_LT(next, start) << "the first step";
    }
    loss = next;
  }
  EXPECT_LT(loss, 0.05 * start);
}

TEST(WavefieldController, NoiseIsAntitheticAndStandard) {
  Exec exec;
  EsSettings es;
  es.sigma = 1.0;
  const int n = 20000;
  Kokkos::View<double*, Mem> zero("frost::wavefield::test_zero", n),
      plus("frost::wavefield::test_plus", n), minus("frost::wavefield::test_minus", n);
  es_perturb(exec, es, 3, 1, +1, zero, plus);
  es_perturb(exec, es, 3, 1, -1, zero, minus);
  const auto p = host(plus), m = host(minus);
  double mean = 0.0, var = 0.0;
  for (int q = 0; q < n; ++q) {
    EXPECT_EQ(p[q], -m[q]);
    mean += p[q] / n;
    var += p[q] * p[q] / n;
  }
  EXPECT_NEAR(mean, 0.0, 0.03);
  EXPECT_NEAR(var, 1.0, 0.05);
}

TEST(WavefieldController, RequestsStayInBounds) {
  ControlSettings cs;
  cs.windings_bounds = {2.0, 6.0};
  cs.twist_bounds = {-1.0, 1.0};
  cs.scale_bounds = {0.5, 2.0};
  cs.windings_step = 10.0;
  cs.twist_step = 10.0;
  cs.scale_step = 10.0;
  ControlRequest req;
  req.shape.windings = 4.0;
  const double up[3] = {0.9, 0.9, 0.9}, down[3] = {-0.9, -0.9, -0.9};
  cs.adjust(up, req);
  EXPECT_EQ(req.shape.windings, 6.0);
  EXPECT_EQ(req.shape.twist, 1.0);
  EXPECT_EQ(req.scale, 2.0);
  cs.adjust(down, req);
  EXPECT_EQ(req.shape.windings, 2.0);
  EXPECT_EQ(req.shape.twist, -1.0);
  EXPECT_EQ(req.scale, 0.5);
}

TEST(WavefieldController, ControlledRunTrainsAndReportsTheCycleSplit) {
  const auto r = run_controlled({"wavefield.control.hidden=16", "wavefield.control.generations=2",
                                 "wavefield.control.pairs=2", "wavefield.control.episode_cycles=3",
                                 "wavefield.control.target_vortices=40"});
  // 2 generations x (1 centre + 4 trials) x 3 cycles, a final centre evaluation, the 6 cycles.
  EXPECT_EQ(real(r, "timed_cycles"), 2 * 5 * 3 + 3 + 6);
  EXPECT_GT(real(r, "controller_seconds_per_cycle"), 0.0);
  EXPECT_NEAR(real(r, "seconds_share_evolution") + real(r, "seconds_share_controller") +
                  real(r, "seconds_share_detection"),
              1.0, 1e-12);
  EXPECT_GE(real(r, "control_objective"), 0.0);
  // Deterministic: the same run again gives the same objective bit for bit.
  const auto again =
      run_controlled({"wavefield.control.hidden=16", "wavefield.control.generations=2",
                      "wavefield.control.pairs=2", "wavefield.control.episode_cycles=3",
                      "wavefield.control.target_vortices=40"});
  EXPECT_EQ(real(r, "control_objective_trained"), real(again, "control_objective_trained"));
  EXPECT_EQ(real(r, "control_objective"), real(again, "control_objective"));
}

TEST(WavefieldController, ResumedRunEqualsUninterruptedRun) {
  int rank = 0;  // one file per rank when several run the test
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const std::string path =
      ::testing::TempDir() + "frost_wavefield_control." + std::to_string(rank) + ".state";
  std::remove(path.c_str());
  const std::vector<std::string> sets = {
      "wavefield.control.hidden=8", "wavefield.control.generations=5",
      "wavefield.control.pairs=1",  "wavefield.control.episode_cycles=2",
      "wavefield.cycles=9",         "wavefield.geometry.windings_threshold=0.05"};
  const auto whole = run_controlled(sets);
  // The first run leaves its last snapshot (cycle 8 of 9); a second run continues from it.
  run_controlled(sets, path);
  ASSERT_TRUE(std::ifstream(path).good()) << "no snapshot was saved";
  const auto resumed = run_controlled(sets, path);
  std::remove(path.c_str());
  for (const auto& [key, value] : whole.results) {
    if (key.find("second") != std::string::npos) continue;
    ASSERT_NE(resumed.find(key), nullptr) << key;
    EXPECT_EQ(value.to_yaml(), resumed.find(key)->to_yaml()) << key;
  }
  ASSERT_EQ(whole.datasets.size(), resumed.datasets.size());
  for (std::size_t k = 0; k < whole.datasets.size(); ++k)
    EXPECT_TRUE(whole.datasets[k].bytes == resumed.datasets[k].bytes) << whole.datasets[k].name;
}
