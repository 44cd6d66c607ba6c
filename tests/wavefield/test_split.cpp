// The target split over MPI ranks: the gathered field equals the field one rank computes, bit
// for bit, whatever the rank count (run at 1 and 2 ranks), for the direct kernel and the
// propagator, and a whole run carried by all ranks gives the results of a run on one rank.
#include <gtest/gtest.h>
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/checkpoint.hpp"
#include "core/deck.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "wavefield/field.hpp"
#include "wavefield/module.hpp"
#include "wavefield/split.hpp"

using namespace frost::wavefield;

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

/// n random nodes on the sphere with random parameters (k r up to 80 rad).
void random_sources(int n, std::vector<double>& xyz, SourceParams& p) {
  frost::core::RandomStream rs(11, 0, 0);
  for (int i = 0; i < n; ++i) {
    const double z = 2 * rs.uniform() - 1, l = 6.283185307179586 * rs.uniform();
    const double s = std::sqrt(1 - z * z);
    xyz.insert(xyz.end(), {s * std::cos(l), s * std::sin(l), z});
    p.amplitude.push_back(0.5 + rs.uniform());
    p.wavenumber.push_back(40 * rs.uniform());
    p.frequency.push_back(0.5 + rs.uniform());
    p.phase.push_back(6.283185307179586 * rs.uniform());
  }
}

std::vector<double> host(const Kokkos::View<double*, Mem>& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<double>(h.data(), h.data() + h.extent(0));
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// psi of all n nodes evaluated by the ranks of `comm` (each its slice, then gathered).
template <class Real, class Acc>
void split_psi(MPI_Comm comm, bool propagator, const WaveSources<Real, Mem>& src,
               std::vector<double>& re_out, std::vector<double>& im_out) {
  Exec exec;
  const int n = src.n;
  TargetSplit<Mem> split(comm, n);
  // NaN everywhere first: a node nobody computed cannot pass as a value.
  Kokkos::View<double*, Mem> re("frost::wavefield::test_re", n), im("frost::wavefield::test_im", n);
  Kokkos::deep_copy(re, std::nan(""));
  Kokkos::deep_copy(im, std::nan(""));
  if (propagator) {
    const auto prop = build_propagator(exec, src, split.begin(), split.end());
    apply_propagator<Acc>(exec, prop, src, re, im);
  } else {
    evaluate_psi<Acc>(exec, src, split.begin(), split.end(), re, im);
  }
  exec.fence();
  split.gather(exec, re, im);
  re_out = host(re);
  im_out = host(im);
}

template <class Real, class Acc>
void expect_split_equals_one_rank(bool propagator) {
  for (int n : {5, 203}) {
    std::vector<double> xyz;
    SourceParams p;
    random_sources(n, xyz, p);
    WaveSources<Real, Mem> src(xyz, p, 0.05, true);
    src.set_time(3.7);
    std::vector<double> re1, im1, re, im;
    split_psi<Real, Acc>(MPI_COMM_SELF, propagator, src, re1, im1);
    split_psi<Real, Acc>(MPI_COMM_WORLD, propagator, src, re, im);
    EXPECT_TRUE(same_bits(re1, re)) << "Re psi, n = " << n;
    EXPECT_TRUE(same_bits(im1, im)) << "Im psi, n = " << n;
    // And it is the field, not a consistent mistake.
    std::vector<double> ref_re, ref_im;
    psi_reference(xyz, p, 3.7, 0.05, true, ref_re, ref_im);
    double err = 0.0, scale = 0.0;
    for (int i = 0; i < n; ++i) {
      err = std::max({err, std::abs(re[i] - ref_re[i]), std::abs(im[i] - ref_im[i])});
      scale = std::max({scale, std::abs(ref_re[i]), std::abs(ref_im[i])});
    }
    EXPECT_LE(err, (sizeof(Real) == 8 ? 1e-12 : 1e-5) * scale) << "n = " << n;
  }
}

/// One wavefield run of `sets` carried by the ranks of `comm`.
frost::core::RunResult run_on(MPI_Comm comm, const std::vector<std::string>& sets) {
  using namespace frost::core;
  const WavefieldModule m;
  ParamRegistry reg = module_registry(m);
  RawDeck deck = parse_deck(reg.defaults_yaml(), "defaults", {m.name()});
  apply_sets(deck, reg, sets);
  const auto runs = resolve_runs(deck, reg);
  RunResult result;
  Checkpointer ck("", 0, 0.0);
  Progress progress(false, 1);
  RunContext ctx{runs[0].params, 0, 5, result, ck, progress, comm};
  m.run(ctx);
  return result;
}

/// Results and datasets without timings: equal bytes expected.
void expect_same_run(const frost::core::RunResult& a, const frost::core::RunResult& b) {
  ASSERT_EQ(a.results.size(), b.results.size());
  for (std::size_t k = 0; k < a.results.size(); ++k) {
    const std::string& key = a.results[k].first;
    if (key.find("second") != std::string::npos) continue;
    EXPECT_EQ(a.results[k].second.to_yaml(), b.results[k].second.to_yaml()) << key;
  }
  ASSERT_EQ(a.datasets.size(), b.datasets.size());
  for (std::size_t k = 0; k < a.datasets.size(); ++k)
    EXPECT_TRUE(a.datasets[k].bytes == b.datasets[k].bytes) << a.datasets[k].name;
}

}  // namespace

TEST(WavefieldSplit, SlicesCoverTheTargetsInOrder) {
  for (int n : {1, 7, 1000})
    for (int ranks : {1, 2, 3, 8}) {
      int next = 0;
      for (int r = 0; r < ranks; ++r) {
        const TargetSlice s = target_slice(n, r, ranks);
        EXPECT_EQ(s.begin, next);
        EXPECT_LE(s.end - s.begin, n / ranks + 1);
        EXPECT_GE(s.end - s.begin, n / ranks);
        next = s.end;
      }
      EXPECT_EQ(next, n);
    }
}

TEST(WavefieldSplit, DirectF64EqualsOneRankBitwise) {
  expect_split_equals_one_rank<double, double>(false);
}
TEST(WavefieldSplit, DirectF32EqualsOneRankBitwise) {
  expect_split_equals_one_rank<float, double>(false);
}
TEST(WavefieldSplit, PropagatorF64EqualsOneRankBitwise) {
  expect_split_equals_one_rank<double, double>(true);
}

TEST(WavefieldSplit, RunOnAllRanksEqualsRunOnOne) {
  const std::vector<std::string> sets = {
      "wavefield.nodes=150", "wavefield.cycles=4", "wavefield.output.every=2",
      "wavefield.output.picture=false", "wavefield.geometry.windings_rate=0.6"};
  expect_same_run(run_on(MPI_COMM_SELF, sets), run_on(MPI_COMM_WORLD, sets));
}

TEST(WavefieldSplit, ControlledRunOnAllRanksEqualsRunOnOne) {
  const std::vector<std::string> sets = {"wavefield.nodes=120",
                                         "wavefield.cycles=3",
                                         "wavefield.output.picture=false",
                                         "wavefield.control.enabled=true",
                                         "wavefield.control.hidden=6",
                                         "wavefield.control.generations=1",
                                         "wavefield.control.pairs=1",
                                         "wavefield.control.episode_cycles=2",
                                         "wavefield.geometry.lazy=false"};
  expect_same_run(run_on(MPI_COMM_SELF, sets), run_on(MPI_COMM_WORLD, sets));
}
