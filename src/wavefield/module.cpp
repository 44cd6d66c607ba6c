#include "wavefield/module.hpp"

#include <Kokkos_Core.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "core/error.hpp"
#include "wavefield/field.hpp"
#include "wavefield/geometry.hpp"
#include "wavefield/hull.hpp"
#include "wavefield/picture.hpp"
#include "wavefield/sources.hpp"
#include "wavefield/vortex.hpp"

namespace frost::wavefield {

namespace {

using core::Value;
using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
constexpr std::uint64_t kMagic = 0x66726f7374776631ull;  // "frostwf1"

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class T>
std::vector<T> to_host(const Kokkos::View<T*, Mem>& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<T>(h.data(), h.data() + h.extent(0));
}

/// Everything a run accumulates; saved whole in checkpoints.
struct History {
  long next_cycle = 0;
  HelixShape shape;  // of the current nodes
  long regenerations = 0;
  bool geometry_recorded = false;  // the current nodes are the last entry of snap_positions
  std::vector<std::int64_t> count_topological, count_threshold, total_charge;
  std::vector<double> field_rms, shape_w, shape_tau;
  // Snapshots
  std::vector<std::int64_t> snap_cycle, snap_geometry;
  std::vector<double> snap_time, snap_field, snap_psi_re, snap_positions;
  std::vector<double> vortex_positions;
  std::vector<std::int64_t> vortex_snapshot;
  std::vector<std::int8_t> vortex_charge;
  double field_seconds = 0.0, vortex_seconds = 0.0, setup_seconds = 0.0;

  void save(core::ByteWriter& w) const {
    w.put(kMagic);
    w.put(next_cycle);
    w.put(shape.windings);
    w.put(shape.twist);
    w.put(shape.ribbon_width);
    w.put(regenerations);
    w.put<std::uint8_t>(geometry_recorded);
    w.put_vector(count_topological);
    w.put_vector(count_threshold);
    w.put_vector(total_charge);
    w.put_vector(field_rms);
    w.put_vector(shape_w);
    w.put_vector(shape_tau);
    w.put_vector(snap_cycle);
    w.put_vector(snap_geometry);
    w.put_vector(snap_time);
    w.put_vector(snap_field);
    w.put_vector(snap_psi_re);
    w.put_vector(snap_positions);
    w.put_vector(vortex_positions);
    w.put_vector(vortex_snapshot);
    w.put_vector(vortex_charge);
    w.put(field_seconds);
    w.put(vortex_seconds);
    w.put(setup_seconds);
  }
  void restore(core::ByteReader& rd) {
    if (rd.get<std::uint64_t>() != kMagic)
      throw std::runtime_error("wavefield: checkpoint does not match the run");
    next_cycle = rd.get<long>();
    shape.windings = rd.get<double>();
    shape.twist = rd.get<double>();
    shape.ribbon_width = rd.get<double>();
    regenerations = rd.get<long>();
    geometry_recorded = rd.get<std::uint8_t>() != 0;
    count_topological = rd.get_vector<std::int64_t>();
    count_threshold = rd.get_vector<std::int64_t>();
    total_charge = rd.get_vector<std::int64_t>();
    field_rms = rd.get_vector<double>();
    shape_w = rd.get_vector<double>();
    shape_tau = rd.get_vector<double>();
    snap_cycle = rd.get_vector<std::int64_t>();
    snap_geometry = rd.get_vector<std::int64_t>();
    snap_time = rd.get_vector<double>();
    snap_field = rd.get_vector<double>();
    snap_psi_re = rd.get_vector<double>();
    snap_positions = rd.get_vector<double>();
    vortex_positions = rd.get_vector<double>();
    vortex_snapshot = rd.get_vector<std::int64_t>();
    vortex_charge = rd.get_vector<std::int8_t>();
    field_seconds = rd.get<double>();
    vortex_seconds = rd.get<double>();
    setup_seconds = rd.get<double>();
  }
};

bool use_propagator(const core::ParamSet& p, int n) {
  const std::string method = p.get_string("field.method");
  if (method != "auto") return method == "propagator";
  const double bytes_per = p.get_string("field.precision") == "f32" ? 4.0 : 8.0;
  return 2.0 * bytes_per * n * n <= p.get_real("field.propagator_memory_mb") * 1048576.0;
}

template <class Real, class Acc>
void run_cycles(core::RunContext& ctx) {
  const auto& P = ctx.params;
  const int n = static_cast<int>(P.get_int("nodes"));
  const long cycles = P.get_int("cycles");
  const double dt = P.get_real("dt");
  const long every = P.get_int("output.every");
  const bool snapshots = P.get_bool("output.snapshots");
  const bool topological = P.get_string("vortex.method") == "topological";
  const bool propagator = use_propagator(P, n);
  const GeometrySchedule schedule(P);
  Exec exec;

  const auto t_setup = std::chrono::steady_clock::now();
  const SourceParams params = make_sources(P, n, ctx.seed, ctx.run_id, P.module());
  History h;
  h.shape = schedule.requested(0);
  if (auto blob = ctx.checkpoint.restore()) {
    core::ByteReader rd(*blob);
    h.restore(rd);
  }
  std::vector<double> xyz = mobius_helix_nodes(n, h.shape);
  SphereTriangulation tri = sphere_triangulation(xyz, ctx.seed);
  WaveSources<Real, Mem> src(xyz, params, P.get_real("field.softening"),
                             P.get_bool("field.include_self"));
  auto tris = triangles_view<Mem>(tri.triangles);
  Propagator<Real, Mem> prop;
  if (propagator) prop = build_propagator(exec, src, 0, n);
  Kokkos::View<double*, Mem> re("frost::wavefield::psi_re", n), im("frost::wavefield::psi_im", n),
      phase("frost::wavefield::arg_psi", n);
  Kokkos::View<std::int8_t*, Mem> charge("frost::wavefield::charge", tri.triangles.size()),
      marked("frost::wavefield::marked", n);
  exec.fence();
  h.setup_seconds += seconds_since(t_setup);
  // The geometry of the snapshots: index of its entry in snap_positions (one per geometry used).
  long geometry_index = static_cast<long>(h.snap_positions.size() / (3 * std::size_t(n))) - 1;

  auto save = [&]() {
    core::ByteWriter w;
    h.save(w);
    ctx.checkpoint.save(w.bytes);
  };
  auto last_progress = std::chrono::steady_clock::now();
  for (long c = h.next_cycle; c < cycles; ++c) {
    if (schedule.needs_regeneration(c, h.shape)) {
      const auto t0 = std::chrono::steady_clock::now();
      h.shape = schedule.requested(c);
      ++h.regenerations;
      xyz = mobius_helix_nodes(n, h.shape);
      tri = sphere_triangulation(xyz, ctx.seed);
      src.set_positions(xyz);
      tris = triangles_view<Mem>(tri.triangles);
      charge = Kokkos::View<std::int8_t*, Mem>("frost::wavefield::charge", tri.triangles.size());
      if (propagator) prop = build_propagator(exec, src, 0, n);
      exec.fence();
      h.geometry_recorded = false;
      h.setup_seconds += seconds_since(t0);
    }
    const double t = c * dt;
    auto t0 = std::chrono::steady_clock::now();
    src.set_time(t);
    if (propagator)
      apply_propagator<Acc>(exec, prop, src, re, im);
    else
      evaluate_psi<Acc>(exec, src, 0, n, re, im);
    const double field_rms = rms(exec, im);
    exec.fence();
    h.field_seconds += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const VortexTally tally = topological_vortices(exec, tris, re, im, phase, charge);
    const long thresholded =
        threshold_vortices(exec, re, im, P.get_string("vortex.threshold_quantity") == "modulus",
                           P.get_real("vortex.threshold"), marked);
    exec.fence();
    h.vortex_seconds += seconds_since(t0);
    h.count_topological.push_back(tally.count);
    h.count_threshold.push_back(thresholded);
    h.total_charge.push_back(tally.total_charge);
    h.field_rms.push_back(field_rms);
    h.shape_w.push_back(h.shape.windings);
    h.shape_tau.push_back(h.shape.twist);

    if (c % every == 0 || c == cycles - 1) {
      if (!h.geometry_recorded) {
        h.snap_positions.insert(h.snap_positions.end(), xyz.begin(), xyz.end());
        ++geometry_index;
        h.geometry_recorded = true;
      }
      const long s = static_cast<long>(h.snap_cycle.size());
      h.snap_cycle.push_back(c);
      h.snap_time.push_back(t);
      h.snap_geometry.push_back(geometry_index);
      const auto field = to_host(im);
      if (snapshots) {
        const auto psi_re = to_host(re);
        h.snap_field.insert(h.snap_field.end(), field.begin(), field.end());
        h.snap_psi_re.insert(h.snap_psi_re.end(), psi_re.begin(), psi_re.end());
      }
      std::vector<VortexMark> marks;
      if (topological) {
        const auto q = to_host(charge);
        for (std::size_t k = 0; k < q.size(); ++k) {
          if (q[k] == 0) continue;
          double p[3] = {0, 0, 0};
          for (int v : tri.triangles[k])
            for (int d = 0; d < 3; ++d) p[d] += xyz[3 * v + d];
          const double len = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
          marks.push_back({{p[0] / len, p[1] / len, p[2] / len}, q[k]});
        }
      } else {
        const auto m = to_host(marked);
        for (int i = 0; i < n; ++i)
          if (m[i]) marks.push_back({{xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]}, 0});
      }
      for (const auto& mk : marks) {
        h.vortex_positions.insert(h.vortex_positions.end(), mk.position.begin(), mk.position.end());
        h.vortex_charge.push_back(static_cast<std::int8_t>(mk.charge));
        h.vortex_snapshot.push_back(s);
      }
      if (c == cycles - 1 && P.get_bool("output.picture"))
        ctx.result.artifacts.push_back(
            {"field.png", render_sphere_png(xyz, tri.triangles, field, marks,
                                            static_cast<int>(P.get_int("output.picture_size")))});
    }
    h.next_cycle = c + 1;
    if (ctx.checkpoint.due(c + 1) && c + 1 < cycles) save();
    if (seconds_since(last_progress) > 0.25 || c == cycles - 1) {
      char rate[64];
      std::snprintf(rate, sizeof rate, "%.3g pairs/s",
                    double(n) * n * (h.count_topological.size()) / std::max(h.field_seconds, 1e-9));
      ctx.progress.update(double(c + 1) / cycles, rate);
      last_progress = std::chrono::steady_clock::now();
    }
  }

  // ---- results ----
  auto& R = ctx.result;
  const double done = static_cast<double>(h.count_topological.size());
  R.set("nodes", Value::of_int(n));
  R.set("hull_vertices", Value::of_int(tri.vertices));
  R.set("triangles", Value::of_int(static_cast<long long>(tri.triangles.size())));
  R.set("cycles", Value::of_int(cycles));
  R.set("field_method", Value::of_string(propagator ? "propagator" : "direct"));
  R.set("seconds_per_cycle", Value::of_real((h.field_seconds + h.vortex_seconds) / done));
  R.set("field_seconds_per_cycle", Value::of_real(h.field_seconds / done));
  R.set("vortex_seconds_per_cycle", Value::of_real(h.vortex_seconds / done));
  R.set("setup_seconds", Value::of_real(h.setup_seconds));
  R.set("pair_evaluations_per_second",
        Value::of_real(double(n) * n * done / std::max(h.field_seconds, 1e-12)));
  R.set("field_rms", Value::of_real(h.field_rms.back()));
  const long last_top = h.count_topological.back(), last_thr = h.count_threshold.back();
  R.set("vortex_count", Value::of_int(topological ? last_top : last_thr));
  R.set("vortex_count_topological", Value::of_int(last_top));
  R.set("vortex_count_threshold", Value::of_int(last_thr));
  R.set("total_charge", Value::of_int(h.total_charge.back()));
  R.set("regenerations", Value::of_int(h.regenerations));
  const auto nc = static_cast<std::uint64_t>(done);
  R.add_i64("vortex_counts", {nc}, topological ? h.count_topological : h.count_threshold);
  R.add_i64("cycles/vortex_count_topological", {nc}, h.count_topological);
  R.add_i64("cycles/vortex_count_threshold", {nc}, h.count_threshold);
  R.add_i64("cycles/total_charge", {nc}, h.total_charge);
  R.add_f64("cycles/field_rms", {nc}, h.field_rms);
  R.add_f64("cycles/windings", {nc}, h.shape_w);
  R.add_f64("cycles/twist", {nc}, h.shape_tau);
  const auto ns = static_cast<std::uint64_t>(h.snap_cycle.size());
  const auto un = static_cast<std::uint64_t>(n);
  R.add_i64("snapshots/cycle", {ns}, h.snap_cycle);
  R.add_f64("snapshots/time", {ns}, h.snap_time);
  R.add_i64("snapshots/geometry", {ns}, h.snap_geometry);
  R.add_f64("geometry/positions", {h.snap_positions.size() / (3 * un), un, 3}, h.snap_positions);
  std::vector<std::int64_t> flat_tris;
  for (const auto& t : tri.triangles) flat_tris.insert(flat_tris.end(), t.begin(), t.end());
  R.add_i64("geometry/last_triangles", {tri.triangles.size(), 3}, flat_tris);
  if (snapshots) {
    R.add_f64("snapshots/field", {ns, un}, h.snap_field);
    R.add_f64("snapshots/psi_re", {ns, un}, h.snap_psi_re);
  }
  const auto nv = static_cast<std::uint64_t>(h.vortex_charge.size());
  R.add_f64("vortices/positions", {nv, 3}, h.vortex_positions);
  R.add_i8("vortices/charge", {nv}, h.vortex_charge);
  R.add_i64("vortices/snapshot", {nv}, h.vortex_snapshot);
}

}  // namespace

void WavefieldModule::declare(core::ParamRegistry& reg) const {
  reg.add_int("nodes", 2000, "N: source and target nodes on the sphere").min(4).max(1 << 24);
  reg.add_int("cycles", 10, "time steps; cycle c evaluates the field at t = c dt").min(1);
  reg.add_real("dt", 0.1, "time step (deck time unit)").min(0.0);
  declare_geometry_params(reg);
  declare_source_params(reg);
  declare_field_params(reg);
  reg.add_choice("field.method", "auto", {"auto", "direct", "propagator"},
                 "direct: every pair term recomputed each cycle; propagator: exp(i k_j r_ij) / "
                 "(r_ij + eps) kept per geometry (N^2 complex values), each cycle a "
                 "matrix-vector product; auto: propagator when it fits "
                 "field.propagator_memory_mb");
  reg.add_real("field.propagator_memory_mb", 1024.0,
               "auto: largest propagator (MiB) kept in memory")
      .min(0.0);
  declare_vortex_params(reg);
  reg.add_int("output.every", 5,
              "cycles between snapshots (field, vortices); the last cycle "
              "always has one")
      .min(1);
  reg.add_bool("output.snapshots", true, "store the field and Re psi at every node in snapshots");
  reg.add_bool("output.picture", true,
               "field.png: both hemispheres of the last cycle with the vortices");
  reg.add_int("output.picture_size", 320, "pixels per hemisphere view").min(32).max(4096);
}

void WavefieldModule::check(const core::ParamSet& p, const std::string& file) const {
  // Value files: readable and long enough (make_sources throws InputError naming them).
  for (const char* q : {"amplitude", "wavenumber", "frequency", "phase"}) {
    const std::string base = std::string("sources.") + q + ".";
    if (p.get_string(base + "mode") == "file") {
      const std::string path = p.get_string(base + "file");
      if (path.empty())
        throw core::InputError(file + ": wavefield." + base + "file: mode file needs a file");
      const auto v = read_value_file(path);
      if (static_cast<long long>(v.size()) < p.get_int("nodes"))
        throw core::InputError(file + ": wavefield." + base + "file: '" + path + "' has " +
                               std::to_string(v.size()) + " values, nodes is " +
                               std::to_string(p.get_int("nodes")));
    }
    const auto& range = p.get_real_list(base + "range");
    if (range.size() != 2 || !(range[0] <= range[1]))
      throw core::InputError(file + ": wavefield." + base +
                             "range: needs two numbers [low, high] with low <= high");
  }
  if (p.get_string("field.method") == "propagator") {
    const double n = static_cast<double>(p.get_int("nodes"));
    const double bytes = 2.0 * (p.get_string("field.precision") == "f32" ? 4 : 8) * n * n;
    if (bytes > 64.0 * 1073741824.0)
      throw core::InputError(file + ": wavefield.field.method: the propagator of " +
                             std::to_string(p.get_int("nodes")) +
                             " nodes needs more than 64 GiB; use direct");
  }
}

void WavefieldModule::run(core::RunContext& ctx) const {
  const bool f32 = ctx.params.get_string("field.precision") == "f32";
  const bool native = ctx.params.get_string("field.accumulate") == "native";
  if (!f32) return run_cycles<double, double>(ctx);
  if (native) return run_cycles<float, float>(ctx);
  run_cycles<float, double>(ctx);
}

std::string WavefieldModule::report(const std::vector<core::RunResult>& runs) const {
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "%5s %7s %6s %10s %10s %10s %8s %8s %7s\n", "run", "nodes",
                "cycles", "s/cycle", "pairs/s", "field_rms", "vort.top", "vort.thr", "charge");
  o << line;
  for (const auto& r : runs) {
    if (!r.ok) continue;
    auto num = [&](const char* k) {
      const Value* v = r.find(k);
      return !v ? 0.0 : v->type == Value::Type::Int ? double(v->i) : v->r;
    };
    std::snprintf(line, sizeof line, "%5d %7.0f %6.0f %10.4g %10.3g %10.4g %8.0f %8.0f %7.0f", r.id,
                  num("nodes"), num("cycles"), num("seconds_per_cycle"),
                  num("pair_evaluations_per_second"), num("field_rms"),
                  num("vortex_count_topological"), num("vortex_count_threshold"),
                  num("total_charge"));
    o << line;
    for (const auto& [k, v] : r.params) o << " " << k << "=" << v.to_yaml();
    o << "\n";
  }
  return o.str();
}

}  // namespace frost::wavefield
