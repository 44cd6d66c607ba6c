// Throughput of the wavefield pair sums on the default backend: time per evaluation of psi at
// all N nodes and pair terms per second, for the direct kernel (every pair term recomputed) and
// the propagator (G_ij kept, one matrix-vector product per evaluation), against the floor of
// the same run's sin/cos and sqrt throughput measured with small loops. Usage:
// bench_wavefield [largest N, default 32000].
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

template <class Real, class Acc>
void bench(const char* label, int n, const std::vector<double>& xyz, const SourceParams& p,
           bool propagator, const DeviceFloors& floors, bool chunked = false) {
  Exec exec;
  WaveSources<Real, Mem> src(xyz, p, 0.05, true);
  Kokkos::View<double*, Mem> re("re", n), im("im", n);
  const double pairs = double(n) * n;
  double setup = 0.0;
  Propagator<Real, Mem> prop;
  if (propagator) {
    const double t0 = now();
    prop = build_propagator(exec, src, 0, n);
    exec.fence();
    setup = now() - t0;
  }
  // Repeat to about a second (at least once).
  int reps = 0;
  const double t0 = now();
  do {
    src.set_time(0.1 * reps);
    if (propagator)
      apply_propagator<Acc>(exec, prop, src, re, im);
    else if (chunked)
      evaluate_psi_chunked<Acc>(exec, src, 0, n, re, im);
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
  const double rate_sqrt = loop_rate([](double x) { return std::sqrt(x); });
  const double rate_pair_sqrt = loop_rate([](double x) { return pair_sqrt(x); });
  std::printf(
      "floor (host loops, per second): std::sin %.3g, reduced_sincos f64 %.3g, f32 %.3g, "
      "std::sqrt %.3g, pair_sqrt %.3g\n",
      rate_sin, rate_sincos, rate_sincos_f, rate_sqrt, rate_pair_sqrt);
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
    if (Propagator<double, Mem>::bytes(n, n) <= 1.1e9)
      bench<double, double>("propagator f64", n, xyz, p, true, floors);
    if (Propagator<float, Mem>::bytes(n, n) <= 1.1e9)
      bench<float, double>("propagator f32", n, xyz, p, true, floors);
  }
  std::printf(
      "\nN = 32000 runs f32 direct only (the f64 direct sum takes ~30 s per evaluation on "
      "one core; a propagator would need 8 GB).\n");
  return 0;
}
