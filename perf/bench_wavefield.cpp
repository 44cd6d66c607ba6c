// Throughput of the wavefield pair sums on the default backend: time per evaluation of psi at
// all N nodes and pair terms per second, for the direct kernel (every pair term recomputed) and
// the propagator (G_ij kept, one matrix-vector product per evaluation), against the floor of
// the same run's sin/cos and sqrt throughput measured with small loops. An evaluation is what a
// cycle pays for the field: set_time, the field's kernels and one fence; its fixed cost (launches
// and the wait) is timed at N = 256. On devices the chunked f32 kernel is also timed with 2 and
// 4 targets per thread at N = 8,000 and 10^6 (the same sums; each staged source feeds more pairs).
// Then the vortex detectors alone, on a field kept on the device: the topological winding over the
// hull triangles, the magnitude threshold, and both at once as a cycle runs them, at N = 8,000,
// 128,000 and (when the largest N reaches it) 10^6, against the copy bandwidth, beside the host
// reference loop of the winding. Usage: bench_wavefield [largest N, default 32000].
#include <Kokkos_Core.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/floors.hpp"
#include "core/provenance.hpp"
#include "wavefield/field.hpp"
#include "wavefield/geometry.hpp"
#include "wavefield/hull.hpp"
#include "wavefield/vortex.hpp"

using namespace frost::wavefield;

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Per-second throughput of `op` over a 4096-element array, repeated for ~0.3 s.
template <class Op>
double loop_rate(Op op) {
  std::vector<double> x(4096), y(4096);
  for (int i = 0; i < 4096; ++i) x[i] = 0.37 + 0.013 * i;
  long done = 0;
  const double t0 = now();
  double t = t0;
  while (t - t0 < 0.3) {
    for (int r = 0; r < 50; ++r)
      for (int i = 0; i < 4096; ++i) y[i] += op(x[i] + r);
    done += 50 * 4096;
    t = now();
  }
  volatile double sink = y[17];
  (void)sink;
  return done / (t - t0);
}

/// Floors of this run on the default backend (harness rows): sin+cos pairs/s and copy bytes/s.
struct DeviceFloors {
  double sincos32 = 0, sincos64 = 0, bandwidth = 0;
};

template <class Real, class Acc, int PerThread = 0, bool UnitSinCos = true>
void bench(const char* label, int n, const std::vector<double>& xyz, const SourceParams& p,
           bool propagator, const DeviceFloors& floors, bool chunked = false,
           ChunkedShape shape = {}) {
  Exec exec;
  WaveSources<Real, Mem> src(xyz, p, 0.05, true);
  Kokkos::View<double*, Mem> re("frost::wavefield::bench_re", n),
      im("frost::wavefield::bench_im", n);
  const double pairs = double(n) * n;
  double setup = 0.0;
  Propagator<Real, Mem> prop;
  if (propagator) {
    const double t0 = now();
    prop = build_propagator(exec, src, 0, n);
    exec.fence();
    setup = now() - t0;
  }
  // One untimed call (first-use allocations such as the chunked kernel's partial sums), then
  // repeat to about a second (at least once).
  if (!propagator) {
    if (chunked)
      evaluate_psi_chunked<Acc, PerThread, UnitSinCos>(exec, src, 0, n, re, im, shape);
    else
      evaluate_psi<Acc>(exec, src, 0, n, re, im);
    exec.fence();
  }
  int reps = 0;
  const double t0 = now();
  do {
    src.set_time(0.1 * reps);
    if (propagator)
      apply_propagator<Acc>(exec, prop, src, re, im);
    else if (chunked)
      evaluate_psi_chunked<Acc, PerThread, UnitSinCos>(exec, src, 0, n, re, im, shape);
    else
      evaluate_psi<Acc>(exec, src, 0, n, re, im);
    exec.fence();
    ++reps;
  } while (now() - t0 < 1.0);
  const double per = (now() - t0) / reps;
  std::printf("%7d  %-22s %12.4g %12.3g %10.3g %5d\n", n, label, per, pairs / per, setup, reps);
  // A direct pair term costs one sin+cos (plus a sqrt and a division); a propagator term streams
  // one stored complex coefficient.
  const std::string kernel = std::string("wavefield ") + label, size = "N=" + std::to_string(n);
  if (propagator) {
    const double bytes_per_pair = double(Propagator<Real, Mem>::bytes(n, n)) / pairs;
    frost::core::print_row(kernel.c_str(), size.c_str(), per, pairs / per * bytes_per_pair, "B/s",
                           floors.bandwidth, "copy bandwidth");
  } else {
    frost::core::print_row(kernel.c_str(), size.c_str(), per, pairs / per, "pairs/s",
                           sizeof(Real) == 4 ? floors.sincos32 : floors.sincos64, "sin+cos rate");
  }
  std::fflush(stdout);
}

/// Mean seconds per call of f (fenced), repeated for about `budget` seconds after one warm-up.
template <class F>
double mean_time(const Exec& exec, double budget, F&& f) {
  f();
  exec.fence();
  int reps = 0;
  const double t0 = now();
  do {
    f();
    exec.fence();
    ++reps;
  } while (now() - t0 < budget);
  return (now() - t0) / reps;
}

/// The detectors on n Moebius-helix nodes (their hull triangulation copied to the device once)
/// for the field of 32 of the nodes as sources, e^{i (k r + phi_m)} / (r + 0.05) with k = 10: the
/// time does not depend on the values, and these give a few hundred windings.
void bench_detection(int n, double bandwidth) {
  Exec exec;
  HelixShape shape;
  const auto xyz = mobius_helix_nodes(n, shape);
  const double t_hull = now();
  const SphereTriangulation tri = sphere_triangulation(xyz, 1);
  const double hull_seconds = now() - t_hull;
  const int nt = static_cast<int>(tri.triangles.size());
  std::vector<double> hre(n, 0.0), him(n, 0.0);
  for (int m = 0; m < 32; ++m) {
    const int j = static_cast<int>(static_cast<long long>(n) * m / 32);
    for (int i = 0; i < n; ++i) {
      double r2 = 0.0;
      for (int d = 0; d < 3; ++d) {
        const double dd = xyz[3 * i + d] - xyz[3 * j + d];
        r2 += dd * dd;
      }
      const double r = std::sqrt(r2), w = 1.0 / (r + 0.05);
      hre[i] += w * std::cos(10.0 * r + 0.7 * m);
      him[i] += w * std::sin(10.0 * r + 0.7 * m);
    }
  }
  Kokkos::View<double*, Mem> re("frost::wavefield::bench_re", n),
      im("frost::wavefield::bench_im", n), phase("frost::wavefield::bench_phase", n);
  Kokkos::View<std::int8_t*, Mem> charge("frost::wavefield::bench_charge", nt),
      marked("frost::wavefield::bench_marked", n);
  Kokkos::View<double, Mem> peak("frost::wavefield::bench_peak");
  using Unmanaged =
      Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  Kokkos::deep_copy(re, Unmanaged(hre.data(), n));
  Kokkos::deep_copy(im, Unmanaged(him.data(), n));
  const auto tris = triangles_view<Mem>(tri.triangles);
  constexpr double kThreshold = 0.05;

  VortexTally tally;
  long thresholded = 0;
  VortexCounts both;
  const double t_top = mean_time(
      exec, 0.5, [&] { tally = topological_vortices(exec, tris, re, im, phase, charge); });
  const auto dev_charge = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), charge);
  const double t_thr = mean_time(exec, 0.5, [&] {
    thresholded = threshold_vortices(exec, re, im, false, kThreshold, marked);
  });
  const auto dev_marked = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), marked);
  const double t_both = mean_time(exec, 0.5, [&] {
    both = detect_vortices(exec, tris, re, im, false, kThreshold, phase, charge, marked, peak);
  });
  std::vector<std::int8_t> host_charge, host_marked;
  VortexTally host_tally;
  const double t_host = mean_time(exec, 0.5, [&] {
    host_tally = topological_vortices_host(tri.triangles, hre, him, host_charge);
  });
  const long host_thr = threshold_vortices_host(hre, him, false, kThreshold, host_marked);
  int charge_diff = 0, marked_diff = 0;
  for (int t = 0; t < nt; ++t) charge_diff += dev_charge(t) != host_charge[t];
  for (int i = 0; i < n; ++i) marked_diff += dev_marked(i) != host_marked[i];
  std::printf(
      "detection N=%d: %d triangles (hull %.3g s on the host, once per geometry); topological "
      "%ld (charge %ld), threshold %ld; both at once %ld (charge %ld), %ld; host loops %ld "
      "(charge %ld), %ld; charges differing from the host loop %d, marks %d\n",
      n, nt, hull_seconds, tally.count, tally.total_charge, thresholded, both.topological,
      both.total_charge, both.threshold, host_tally.count, host_tally.total_charge, host_thr,
      charge_diff, marked_diff);
  // Bytes each detector must move at least: psi in (16 B/node), the phase out and back in for
  // the winding (16 B/node), the triangles in (12 B) and the charges out (1 B); the threshold
  // reads psi twice (peak, then marks) and writes a mark per node; both at once add up to
  // 49 B/node and 13 B/triangle.
  const double top_bytes = 32.0 * n + 13.0 * nt, thr_bytes = 33.0 * n,
               both_bytes = 49.0 * n + 13.0 * nt;
  const std::string size = "N=" + std::to_string(n) + " (" + std::to_string(nt) + " tri)";
  const std::string where = std::string(" (") + Exec::name() + " kernels)";
  frost::core::print_row(("wavefield vortex topological" + where).c_str(), size.c_str(), t_top,
                         top_bytes / t_top, "B/s", bandwidth, "copy bandwidth");
  frost::core::print_row(("wavefield vortex threshold" + where).c_str(), size.c_str(), t_thr,
                         thr_bytes / t_thr, "B/s", bandwidth, "copy bandwidth");
  frost::core::print_row(("wavefield vortex both, per cycle" + where).c_str(), size.c_str(), t_both,
                         both_bytes / t_both, "B/s", bandwidth, "copy bandwidth");
  frost::core::print_row("wavefield vortex topological (host loop)", size.c_str(), t_host,
                         top_bytes / t_host, "B/s", 0.0, "reference only");
  std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  const int largest = argc > 1 ? std::atoi(argv[1]) : 32000;
  std::printf("backend %s, commit %s\n", Exec::name(), frost::core::frost_commit().c_str());
  const double rate_sin = loop_rate([](double x) { return std::sin(x); });
  const double rate_sincos = loop_rate([](double x) {
    double s, c;
    reduced_sincos(x, s, c);
    return s + c;
  });
  const double rate_sincos_f = loop_rate([](double x) {
    float s, c;
    reduced_sincos(static_cast<float>(x), s, c);
    return double(s + c);
  });
  const double rate_quarter_f = loop_rate([](double x) {
    float s, c;
    quarter_turn_sincos(static_cast<float>(x), s, c);
    return double(s + c);
  });
  const double rate_sqrt = loop_rate([](double x) { return std::sqrt(x); });
  const double rate_pair_sqrt = loop_rate([](double x) { return pair_sqrt(x); });
  std::printf(
      "floor (host loops, per second): std::sin %.3g, reduced_sincos f64 %.3g, f32 %.3g, "
      "quarter_turn_sincos f32 %.3g, std::sqrt %.3g, pair_sqrt %.3g\n",
      rate_sin, rate_sincos, rate_sincos_f, rate_quarter_f, rate_sqrt, rate_pair_sqrt);
  std::printf(
      "a direct pair term needs one sincos, one sqrt and one division: at most %.3g "
      "pairs/s (f64) from sincos and sqrt alone\n",
      1.0 / (1.0 / rate_sincos + 1.0 / rate_pair_sqrt));
  std::printf("\n%7s  %-22s %12s %12s %10s %5s\n", "N", "kernel", "s/eval", "pairs/s", "setup_s",
              "reps");
  const Exec exec;
  const bool host = Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible;
  DeviceFloors floors;
  floors.sincos32 = frost::core::sincos_rate<Exec, float>(exec);
  floors.sincos64 = frost::core::sincos_rate<Exec, double>(exec);
  floors.bandwidth = frost::core::copy_bandwidth(exec, std::size_t(1) << 28);
  std::printf("floors (%s, this run): sin+cos f32 %.3g/s, f64 %.3g/s, copy %.3g B/s\n",
              Exec::name(), floors.sincos32, floors.sincos64, floors.bandwidth);
  for (int n : {2000, 8000, 32000, 128000, 1000000}) {
    if (n > largest) break;
    HelixShape shape;
    const auto xyz = mobius_helix_nodes(n, shape);
    SourceParams p;
    for (int i = 0; i < n; ++i) {
      p.amplitude.push_back(1.0);
      p.wavenumber.push_back(10.0);
      p.frequency.push_back(1.0 + 1e-3 * i);
      p.phase.push_back(0.1 * i);
    }
    if (n <= (host ? 8000 : 128000)) bench<double, double>("direct f64", n, xyz, p, false, floors);
    bench<float, double>("direct f32 (f64 sums)", n, xyz, p, false, floors);
    // Hosts run the per-target kernel; the chunked one (what devices run) is timed beside it.
    if (host && n <= 8000) {
      bench<double, double>("chunked f64", n, xyz, p, false, floors, true);
      bench<float, double>("chunked f32 (f64 sums)", n, xyz, p, false, floors, true);
    }
    // Devices: the default picks the targets per thread (chunked_targets_per_thread); the rows
    // below fix it, and at n = 8,000 also the chunk (which changes the sums' association, so it
    // is a function of n in the field itself), to show what the choice is worth.
    if (!host && (n == 8000 || n == 1000000)) {
      bench<float, double, 1>("chunked f32, 1 tgt/thread", n, xyz, p, false, floors, true);
      bench<float, double, 2>("chunked f32, 2 tgt/thread", n, xyz, p, false, floors, true);
      bench<float, double, 4>("chunked f32, 4 tgt/thread", n, xyz, p, false, floors, true);
    }
    if (!host && (n == 8000 || n == 1000000)) {
      // sin and cos by the polynomial instead of the special-function unit (pair_sincos)
      bench<float, double, 1, false>("chunked f32, 1 tgt, poly", n, xyz, p, false, floors, true);
      bench<float, double, 4, false>("chunked f32, 4 tgt, poly", n, xyz, p, false, floors, true);
    }
    if (!host && n == 8000) {
      for (int chunk : {64, 256}) {
        ChunkedShape fixed;
        fixed.chunk = chunk;
        const std::string c = ", chunk " + std::to_string(chunk);
        bench<float, double, 1>(("chunked f32, 1 tgt" + c).c_str(), n, xyz, p, false, floors, true,
                                fixed);
        bench<float, double, 2>(("chunked f32, 2 tgt" + c).c_str(), n, xyz, p, false, floors, true,
                                fixed);
        bench<float, double, 4>(("chunked f32, 4 tgt" + c).c_str(), n, xyz, p, false, floors, true,
                                fixed);
      }
    }
    if (Propagator<double, Mem>::bytes(n, n) <= 1.1e9)
      bench<double, double>("propagator f64", n, xyz, p, true, floors);
    if (Propagator<float, Mem>::bytes(n, n) <= 1.1e9)
      bench<float, double>("propagator f32", n, xyz, p, true, floors);
  }
  {
    // The fixed cost of one evaluation (launches and the wait): a field too small to fill the
    // device.
    const int n = 256;
    HelixShape shape;
    const auto xyz = mobius_helix_nodes(n, shape);
    SourceParams p;
    for (int i = 0; i < n; ++i) {
      p.amplitude.push_back(1.0);
      p.wavenumber.push_back(10.0);
      p.frequency.push_back(1.0 + 1e-3 * i);
      p.phase.push_back(0.1 * i);
    }
    bench<float, double>("direct f32 (fixed cost)", n, xyz, p, false, floors);
  }
  std::printf("\nvortex detection alone (the field stays on the device):\n");
  for (int n : {8000, 128000, 1000000}) {
    if (n > 128000 && n > largest) break;
    bench_detection(n, floors.bandwidth);
  }
  std::printf(
      "\nN = 32000 runs f32 direct only (the f64 direct sum takes ~30 s per evaluation on "
      "one core; a propagator would need 8 GB).\n");
  return 0;
}
