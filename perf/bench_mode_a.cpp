// Mode A (LoopMPVAN) cost per sample and per training epoch, whole-lattice against
// receptive-patch evaluation, open square lattices, K = 2 layers, d = 8 channels, batch 64.
//
// Cost model per sample (network rows = edge rows of one pass, each O(K d^2)):
//   full:  passes * n1      rows <= beta1 n1      ~ O(L^4 K d^2)   (the seed's wall)
//   patch: passes * |patch| rows <= beta1 |patch| ~ O(L^2 K d^2)   (|patch| independent of L)
// passes = steps of the last sample() call at which some sample of the batch had its loop
// directed (the sampler skips the others), at most beta1.
// Measured: sample() calls of Bm samples (s/sample = time / calls / Bm) and train_step calls of
// Bm samples (sampling, teacher-forced forward and backward, Adam), each repeated until a tenth
// (a fifth) of the row budget has passed. Both scale linearly in the
// batch, so the epoch time at B = 64 is 64/Bm times the measured one; Bm < 64 only for
// whole-lattice rows where a full batch would take too long (the per-step overhead is then shared
// by fewer samples, so the scaled figure is an upper bound). The last column projects 2000 epochs.
// Usage: bench_mode_a [seconds per row budget, default 20] [L list, default 4 6 10 20 50].
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "asi/cycle_basis.hpp"
#include "asi/enumerate.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/neural_sampler.hpp"
#include "core/runtime.hpp"
#include "core/version.hpp"

using namespace frost::asi;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr int kLayers = 2;
constexpr int kWidth = 8;
constexpr int kBatch = 64;
constexpr int kEpochs = 2000;

struct Row {
  int L = 0, n1 = 0, loops = 0, measured_batch = 0, passes = 0;
  std::string evaluation;
  double mean_patch = 0, max_patch = 0, rows_per_sample = 0;
  double sample_s = 0, epoch_s = 0;
};

Row run(int L, LoopEvaluation evaluation, double budget) {
  using Exec = Kokkos::DefaultExecutionSpace;
  const Exec exec;
  const Lattice lat = make_square(L, "open");
  const CycleBasis basis = build_cycle_basis(lat);
  LoopSamplerNetConfig config;
  config.network.layers = kLayers;
  config.network.width = kWidth;
  config.evaluation = evaluation;
  // Bounds the whole-lattice teacher workspace (entries x n1 rows) at L = 50.
  config.max_teacher_batch = evaluation == LoopEvaluation::full ? 256 : 4096;
  LoopAutoregressiveSampler<Exec::memory_space> sampler(lat, basis, ice_reference_state(lat),
                                                        config);
  Row r;
  r.L = L;
  r.n1 = lat.edge_count();
  r.loops = basis.loop_count();
  r.evaluation = evaluation == LoopEvaluation::full ? "full" : "patch";
  r.mean_patch = evaluation == LoopEvaluation::full ? r.n1 : sampler.mean_patch_edges();
  r.max_patch = evaluation == LoopEvaluation::full ? r.n1 : sampler.max_patch_edges();

  // One sample first, to size the measured batch within the budget (an epoch costs about four
  // times the sampling: forward, backward and the replay).
  double t = now();
  sampler.sample(exec, 1, 0);
  const double one = now() - t;
  r.measured_batch =
      evaluation == LoopEvaluation::patch
          ? kBatch
          : std::clamp(static_cast<int>(budget / (5.0 * std::max(one, 1e-9))), 1, kBatch);
  // Repeated (new runs, so new samples) until a tenth of the budget has passed: small rows
  // would otherwise time a few milliseconds of a shared machine.
  int calls = 0;
  t = now();
  do {
    sampler.sample(exec, r.measured_batch, 1 + calls++);
  } while (now() - t < 0.1 * budget);
  r.sample_s = (now() - t) / calls / r.measured_batch;
  r.passes = sampler.last_sample_passes();
  calls = 0;
  t = now();
  do {
    sampler.train_step(exec, r.measured_batch, 1000 + calls++);
  } while (now() - t < 0.2 * budget);
  r.epoch_s = (now() - t) / calls * kBatch / r.measured_batch;
  r.rows_per_sample = double(r.passes) * r.mean_patch;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  frost::core::Runtime rt(argc, argv);
  const double budget = argc > 1 ? std::atof(argv[1]) : 20.0;
  std::vector<int> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {4, 6, 10, 20, 50};
  std::printf(
      "bench_mode_a: frost %s, Kokkos backend %s, open square, K=%d, d=%d, batch %d, "
      "budget %.0f s per row\n",
      FROST_GIT_COMMIT_STRING, Kokkos::DefaultExecutionSpace::name(), kLayers, kWidth, kBatch,
      budget);
  std::printf("%4s %6s %6s %6s %-6s %8s %6s %12s %4s %12s %12s %14s\n", "L", "n1", "beta1",
              "passes", "eval", "|patch|", "max", "rows/sample", "Bm", "s/sample", "s/epoch(64)",
              "2000 ep (h)");
  std::vector<Row> rows;
  for (int L : sizes) {
    for (LoopEvaluation ev : {LoopEvaluation::full, LoopEvaluation::patch}) {
      const Row r = run(L, ev, budget);
      std::printf("%4d %6d %6d %6d %-6s %8.1f %6.0f %12.4g %4d %12.4g %12.4g %14.4g\n", r.L, r.n1,
                  r.loops, r.passes, r.evaluation.c_str(), r.mean_patch, r.max_patch,
                  r.rows_per_sample, r.measured_batch, r.sample_s, r.epoch_s,
                  r.epoch_s * kEpochs / 3600.0);
      std::fflush(stdout);
      rows.push_back(r);
    }
  }
  // Speed-up of patch over full per L: measured time ratio next to the cost-model ratio n1 /
  // mean |patch|.
  std::printf("\n%4s %16s %16s %16s\n", "L", "sample speed-up", "epoch speed-up",
              "model n1/|patch|");
  for (std::size_t k = 0; k + 1 < rows.size(); k += 2) {
    const Row& f = rows[k];
    const Row& p = rows[k + 1];
    std::printf("%4d %16.3g %16.3g %16.3g\n", f.L, f.sample_s / p.sample_s, f.epoch_s / p.epoch_s,
                f.mean_patch / p.mean_patch);
  }
  return 0;
}
