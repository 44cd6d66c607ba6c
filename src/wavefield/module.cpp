#include "wavefield/module.hpp"

#include <Kokkos_Core.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "core/error.hpp"
#include "wavefield/controller.hpp"
#include "wavefield/field.hpp"
#include "wavefield/geometry.hpp"
#include "wavefield/hull.hpp"
#include "wavefield/picture.hpp"
#include "wavefield/sources.hpp"
#include "wavefield/split.hpp"
#include "wavefield/vortex.hpp"

namespace frost::wavefield {

namespace {

using core::Value;
using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
constexpr std::uint64_t kMagic = 0x66726f7374776632ull;  // "frostwf2"

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class T>
std::vector<T> to_host(const Kokkos::View<T*, Mem>& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<T>(h.data(), h.data() + h.extent(0));
}

void copy_to(const Exec& exec, const std::vector<double>& values,
             const Kokkos::View<double*, Mem>& v) {
  Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> h(
      values.data(), values.size());
  Kokkos::deep_copy(exec, v, h);
  exec.fence();
}

/// Everything a run accumulates; saved whole in checkpoints.
struct History {
  long next_cycle = 0;
  HelixShape shape;    // of the current nodes
  double scale = 1.0;  // wave-number scale of the current sources
  long regenerations = 0;
  bool geometry_recorded = false;  // the current nodes are the last entry of snap_positions
  std::vector<std::int64_t> count_topological, count_threshold, total_charge;
  std::vector<double> field_rms, shape_w, shape_tau, shape_scale;
  // Snapshots
  std::vector<std::int64_t> snap_cycle, snap_geometry;
  std::vector<double> snap_time, snap_field, snap_psi_re, snap_positions;
  std::vector<double> vortex_positions;
  std::vector<std::int64_t> vortex_snapshot;
  std::vector<std::int8_t> vortex_charge;
  // Time split over every evaluated cycle (training episodes included)
  long timed_cycles = 0;
  double field_seconds = 0.0, gather_seconds = 0.0, vortex_seconds = 0.0, setup_seconds = 0.0,
         controller_seconds = 0.0;
  // The control cycle: trained parameters, the objective of each generation's centre, and the
  // controller's state within the run's cycles.
  long generation = 0;
  std::vector<double> theta, train_objective, lstm_h, lstm_c;
  ControlRequest request;
  long previous_count = -1;
  double modulus_ref = 0.0, objective_sum = 0.0;

  void save(core::ByteWriter& w) const {
    w.put(kMagic);
    w.put(next_cycle);
    w.put(shape.windings);
    w.put(shape.twist);
    w.put(shape.ribbon_width);
    w.put(scale);
    w.put(regenerations);
    w.put<std::uint8_t>(geometry_recorded);
    w.put_vector(count_topological);
    w.put_vector(count_threshold);
    w.put_vector(total_charge);
    w.put_vector(field_rms);
    w.put_vector(shape_w);
    w.put_vector(shape_tau);
    w.put_vector(shape_scale);
    w.put_vector(snap_cycle);
    w.put_vector(snap_geometry);
    w.put_vector(snap_time);
    w.put_vector(snap_field);
    w.put_vector(snap_psi_re);
    w.put_vector(snap_positions);
    w.put_vector(vortex_positions);
    w.put_vector(vortex_snapshot);
    w.put_vector(vortex_charge);
    w.put(timed_cycles);
    w.put(field_seconds);
    w.put(gather_seconds);
    w.put(vortex_seconds);
    w.put(setup_seconds);
    w.put(controller_seconds);
    w.put(generation);
    w.put_vector(theta);
    w.put_vector(train_objective);
    w.put_vector(lstm_h);
    w.put_vector(lstm_c);
    w.put(request.shape.windings);
    w.put(request.shape.twist);
    w.put(request.shape.ribbon_width);
    w.put(request.scale);
    w.put(previous_count);
    w.put(modulus_ref);
    w.put(objective_sum);
  }
  void restore(core::ByteReader& rd) {
    if (rd.get<std::uint64_t>() != kMagic)
      throw std::runtime_error("wavefield: checkpoint does not match the run");
    next_cycle = rd.get<long>();
    shape.windings = rd.get<double>();
    shape.twist = rd.get<double>();
    shape.ribbon_width = rd.get<double>();
    scale = rd.get<double>();
    regenerations = rd.get<long>();
    geometry_recorded = rd.get<std::uint8_t>() != 0;
    count_topological = rd.get_vector<std::int64_t>();
    count_threshold = rd.get_vector<std::int64_t>();
    total_charge = rd.get_vector<std::int64_t>();
    field_rms = rd.get_vector<double>();
    shape_w = rd.get_vector<double>();
    shape_tau = rd.get_vector<double>();
    shape_scale = rd.get_vector<double>();
    snap_cycle = rd.get_vector<std::int64_t>();
    snap_geometry = rd.get_vector<std::int64_t>();
    snap_time = rd.get_vector<double>();
    snap_field = rd.get_vector<double>();
    snap_psi_re = rd.get_vector<double>();
    snap_positions = rd.get_vector<double>();
    vortex_positions = rd.get_vector<double>();
    vortex_snapshot = rd.get_vector<std::int64_t>();
    vortex_charge = rd.get_vector<std::int8_t>();
    timed_cycles = rd.get<long>();
    field_seconds = rd.get<double>();
    gather_seconds = rd.get<double>();
    vortex_seconds = rd.get<double>();
    setup_seconds = rd.get<double>();
    controller_seconds = rd.get<double>();
    generation = rd.get<long>();
    theta = rd.get_vector<double>();
    train_objective = rd.get_vector<double>();
    lstm_h = rd.get_vector<double>();
    lstm_c = rd.get_vector<double>();
    request.shape.windings = rd.get<double>();
    request.shape.twist = rd.get<double>();
    request.shape.ribbon_width = rd.get<double>();
    request.scale = rd.get<double>();
    previous_count = rd.get<long>();
    modulus_ref = rd.get<double>();
    objective_sum = rd.get<double>();
  }
};

/// Whether psi comes from a propagator: `rows` targets of n sources fit the memory budget.
bool use_propagator(const core::ParamSet& p, int rows, int n) {
  const std::string method = p.get_string("field.method");
  if (method != "auto") return method == "propagator";
  const double bytes_per = p.get_string("field.precision") == "f32" ? 4.0 : 8.0;
  return 2.0 * bytes_per * rows * n <= p.get_real("field.propagator_memory_mb") * 1048576.0;
}

/// The sphere of one run on one rank: nodes, sources, triangulation, this rank's share of the
/// field (gathered to all nodes each cycle), the detection buffers, and the time each part took.
template <class Real, class Acc>
struct SphereField {
  int n;
  std::uint64_t seed;
  bool propagator, topological, threshold_modulus, controlled;
  double threshold;
  Exec exec;
  TargetSplit<Mem> split;
  SourceParams params;
  HelixShape shape;
  double scale = 1.0;
  std::vector<double> xyz;
  SphereTriangulation tri;
  WaveSources<Real, Mem> src;
  Kokkos::View<int* [3], Mem> tris;
  Propagator<Real, Mem> prop;
  Kokkos::View<double*, Mem> re, im, phase;
  Kokkos::View<std::int8_t*, Mem> charge, marked;
  Kokkos::View<double, Mem> peak;  // the threshold detector's largest magnitude
  History& h;                      // where the times go

  SphereField(const core::RunContext& ctx, History& history)
      : n(static_cast<int>(ctx.params.get_int("nodes"))),
        seed(ctx.seed),
        topological(ctx.params.get_string("vortex.method") == "topological"),
        threshold_modulus(ctx.params.get_string("vortex.threshold_quantity") == "modulus"),
        controlled(ctx.params.get_bool("control.enabled")),
        threshold(ctx.params.get_real("vortex.threshold")),
        split(ctx.comm, n),
        params(make_sources(ctx.params, n, ctx.seed, ctx.run_id, ctx.params.module())),
        shape(history.shape),
        scale(history.scale),
        xyz(mobius_helix_nodes(n, shape)),
        tri(sphere_triangulation(xyz, seed)),
        src(xyz, params, ctx.params.get_real("field.softening"),
            ctx.params.get_bool("field.include_self")),
        tris(triangles_view<Mem>(tri.triangles)),
        re("frost::wavefield::psi_re", n),
        im("frost::wavefield::psi_im", n),
        phase("frost::wavefield::arg_psi", n),
        charge("frost::wavefield::charge", tri.triangles.size()),
        marked("frost::wavefield::marked", n),
        peak("frost::wavefield::peak_magnitude"),
        h(history) {
    propagator = use_propagator(ctx.params, split.end() - split.begin(), n);
    if (scale != 1.0) src.set_wavenumbers(scaled_wavenumbers());
    if (propagator) prop = build_propagator(exec, src, split.begin(), split.end());
    exec.fence();
  }

  std::vector<double> scaled_wavenumbers() const {
    std::vector<double> k = params.wavenumber;
    for (double& v : k) v *= scale;
    return k;
  }

  /// Nodes of `s` (when the shape differs) and wave numbers scaled by `k_scale` (when it
  /// differs); counts as setup time.
  void reshape(const HelixShape& s, double k_scale) {
    const auto t0 = std::chrono::steady_clock::now();
    const bool new_nodes = s.windings != shape.windings || s.twist != shape.twist ||
                           s.ribbon_width != shape.ribbon_width;
    const bool new_k = k_scale != scale;
    if (!new_nodes && !new_k) return;
    if (new_nodes) {
      shape = s;
      xyz = mobius_helix_nodes(n, shape);
      tri = sphere_triangulation(xyz, seed);
      src.set_positions(xyz);
      tris = triangles_view<Mem>(tri.triangles);
      charge = Kokkos::View<std::int8_t*, Mem>("frost::wavefield::charge", tri.triangles.size());
    }
    if (new_k) {
      scale = k_scale;
      src.set_wavenumbers(scaled_wavenumbers());
    }
    if (propagator) prop = build_propagator(exec, src, split.begin(), split.end());
    exec.fence();
    h.setup_seconds += seconds_since(t0);
  }

  /// Field at time t (this rank's targets, then gathered) and its vortices. The field's kernels
  /// are queued without a wait; the first wait is the rms (or the gather between ranks).
  CycleObservation step(double t, double& field_rms, long& thresholded, long& top_count) {
    auto t0 = std::chrono::steady_clock::now();
    src.set_time(t);
    if (propagator)
      apply_propagator<Acc>(exec, prop, src, re, im);
    else
      evaluate_psi<Acc>(exec, src, split.begin(), split.end(), re, im);
    if (split.ranks() > 1) {
      exec.fence();
      const auto t_gather = std::chrono::steady_clock::now();
      split.gather(exec, re, im);
      h.gather_seconds += seconds_since(t_gather);
    }
    field_rms = rms(exec, im);
    CycleObservation obs;
    if (controlled) obs.mean_modulus = mean_modulus(exec, re, im);  // both reductions waited
    h.field_seconds += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const VortexCounts counts = detect_vortices(exec, tris, re, im, threshold_modulus, threshold,
                                                phase, charge, marked, peak);
    h.vortex_seconds += seconds_since(t0);
    ++h.timed_cycles;
    thresholded = counts.threshold;
    top_count = counts.topological;
    obs.count = topological ? counts.topological : counts.threshold;
    obs.total_charge = counts.total_charge;
    return obs;
  }
};

/// The LSTM controller of a run: parameters, a perturbed copy for training, recurrent state.
struct Controller {
  ControlSettings cs;
  Kokkos::View<double*, Mem> theta, trial;
  LstmState<Mem> state;
  Kokkos::View<double*, Kokkos::HostSpace> x_host;

  explicit Controller(const ControlSettings& settings)
      : cs(settings),
        theta("frost::wavefield::lstm_theta", settings.lstm.size()),
        trial("frost::wavefield::lstm_trial", settings.lstm.size()),
        state(settings.lstm),
        x_host("frost::wavefield::lstm_x_host", ControlSettings::kInputs) {}

  /// One controller step with parameters `th`: features of `obs` in, request adjusted.
  void step(const Exec& exec, const Kokkos::View<double*, Mem>& th, const CycleObservation& obs,
            long previous, double modulus_ref, ControlRequest& req) {
    const auto x = cs.features(obs, previous, modulus_ref, req);
    for (int k = 0; k < ControlSettings::kInputs; ++k) x_host(k) = x[k];
    Kokkos::deep_copy(exec, state.x, x_host);
    lstm_step(exec, cs.lstm, th, state);
    auto y = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), state.y);
    cs.adjust(y.data(), req);
  }
};

/// Applies the controller's request when it moved past the laziness thresholds (or at all when
/// geometry.lazy is off). Returns true when the nodes were remade.
template <class Real, class Acc>
bool apply_request(SphereField<Real, Acc>& sf, const GeometrySchedule& schedule,
                   const ControlSettings& cs, const ControlRequest& req) {
  const double dlog = std::abs(std::log(req.scale) - std::log(sf.scale));
  const bool move_shape = schedule.needs_regeneration(req.shape, sf.shape);
  const bool move_scale = schedule.lazy() ? dlog > cs.scale_threshold : dlog > 0.0;
  if (!move_shape && !move_scale) return false;
  sf.reshape(req.shape, req.scale);
  return move_shape;
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
  const GeometrySchedule schedule(P);
  const ControlSettings cs(P, ctx.seed, ctx.run_id);
  int comm_rank = 0;
  MPI_Comm_rank(ctx.comm, &comm_rank);
  const bool keeper = comm_rank == 0;  // the rank whose result the core keeps

  const auto t_setup = std::chrono::steady_clock::now();
  History h;
  h.shape = schedule.requested(0);
  h.request.shape = h.shape;
  if (auto blob = ctx.checkpoint.restore()) {
    core::ByteReader rd(*blob);
    h.restore(rd);
  }
  SphereField<Real, Acc> sf(ctx, h);
  Exec& exec = sf.exec;
  h.setup_seconds += seconds_since(t_setup);
  auto save = [&]() {
    if (!keeper) return;
    h.shape = sf.shape;
    h.scale = sf.scale;
    core::ByteWriter w;
    h.save(w);
    ctx.checkpoint.save(w.bytes);
  };

  // ---- the control cycle's training: whole episodes from t = 0 and the deck's shape ----
  std::optional<Controller> ctl;
  const HelixShape initial = schedule.requested(0);
  if (cs.enabled) {
    ctl.emplace(cs);
    if (h.theta.empty())
      lstm_initialise(exec, cs.lstm, ctx.seed, static_cast<std::uint32_t>(ctx.run_id), ctl->theta);
    else
      copy_to(exec, h.theta, ctl->theta);
    auto episode = [&](const Kokkos::View<double*, Mem>& th) {
      ControlRequest req{initial, 1.0};
      sf.reshape(req.shape, req.scale);
      lstm_reset(exec, ctl->state);
      double loss = 0.0, ref = 0.0, rms_unused = 0.0;
      long previous = -1, thr_unused = 0, top_unused = 0;
      for (int k = 0; k < cs.episode_cycles; ++k) {
        const CycleObservation obs = sf.step(k * dt, rms_unused, thr_unused, top_unused);
        loss += cs.loss(obs.count);
        if (k == 0) ref = obs.mean_modulus;
        const auto t0 = std::chrono::steady_clock::now();
        ctl->step(exec, th, obs, previous, ref, req);
        h.controller_seconds += seconds_since(t0);
        previous = obs.count;
        apply_request(sf, schedule, cs, req);
      }
      return loss / cs.episode_cycles;
    };
    for (long g = h.generation; g <= cs.generations; ++g) {
      if (static_cast<long>(h.train_objective.size()) == g)
        h.train_objective.push_back(episode(ctl->theta));
      if (g == cs.generations) break;
      std::vector<double> plus(cs.es.pairs), minus(cs.es.pairs);
      for (int p = 0; p < cs.es.pairs; ++p) {
        es_perturb(exec, cs.es, static_cast<int>(g), p, +1, ctl->theta, ctl->trial);
        plus[p] = episode(ctl->trial);
        es_perturb(exec, cs.es, static_cast<int>(g), p, -1, ctl->theta, ctl->trial);
        minus[p] = episode(ctl->trial);
      }
      es_update(exec, cs.es, static_cast<int>(g), plus, minus, ctl->theta);
      h.generation = g + 1;
      h.theta = to_host(ctl->theta);
      if (ctx.checkpoint.due(h.generation)) save();
      ctx.progress.update(0.5 * double(g + 1) / (cs.generations + 1), "training");
    }
    h.theta = to_host(ctl->theta);
    // The run's own cycles start again from t = 0 and the deck's shape.
    if (h.next_cycle == 0) {
      h.request = {initial, 1.0};
      sf.reshape(initial, 1.0);
      lstm_reset(exec, ctl->state);
    } else {
      copy_to(exec, h.lstm_h, ctl->state.h);
      copy_to(exec, h.lstm_c, ctl->state.c);
    }
    exec.fence();
  }

  // The geometry of the snapshots: index of its entry in snap_positions (one per geometry used).
  long geometry_index = static_cast<long>(h.snap_positions.size() / (3 * std::size_t(n))) - 1;
  auto last_progress = std::chrono::steady_clock::now();
  for (long c = h.next_cycle; c < cycles; ++c) {
    if (!cs.enabled && schedule.needs_regeneration(c, sf.shape)) {
      sf.reshape(schedule.requested(c), sf.scale);
      ++h.regenerations;
      h.geometry_recorded = false;
    }
    const double t = c * dt;
    double field_rms = 0.0;
    long thresholded = 0, top_count = 0;
    const CycleObservation obs = sf.step(t, field_rms, thresholded, top_count);
    h.count_topological.push_back(top_count);
    h.count_threshold.push_back(thresholded);
    h.total_charge.push_back(obs.total_charge);
    h.field_rms.push_back(field_rms);
    h.shape_w.push_back(sf.shape.windings);
    h.shape_tau.push_back(sf.shape.twist);
    h.shape_scale.push_back(sf.scale);
    const std::vector<double> xyz = sf.xyz;  // the nodes this cycle was evaluated on
    const SphereTriangulation& tri = sf.tri;

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
      const auto field = to_host(sf.im);
      if (snapshots) {
        const auto psi_re = to_host(sf.re);
        h.snap_field.insert(h.snap_field.end(), field.begin(), field.end());
        h.snap_psi_re.insert(h.snap_psi_re.end(), psi_re.begin(), psi_re.end());
      }
      std::vector<VortexMark> marks;
      if (topological) {
        const auto q = to_host(sf.charge);
        for (std::size_t k = 0; k < q.size(); ++k) {
          if (q[k] == 0) continue;
          double p[3] = {0, 0, 0};
          for (int v : tri.triangles[k])
            for (int d = 0; d < 3; ++d) p[d] += xyz[3 * v + d];
          const double len = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
          marks.push_back({{p[0] / len, p[1] / len, p[2] / len}, q[k]});
        }
      } else {
        const auto m = to_host(sf.marked);
        for (int i = 0; i < n; ++i)
          if (m[i]) marks.push_back({{xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]}, 0});
      }
      for (const auto& mk : marks) {
        h.vortex_positions.insert(h.vortex_positions.end(), mk.position.begin(), mk.position.end());
        h.vortex_charge.push_back(static_cast<std::int8_t>(mk.charge));
        h.vortex_snapshot.push_back(s);
      }
      if (keeper && c == cycles - 1 && P.get_bool("output.picture"))
        ctx.result.artifacts.push_back(
            {"field.png", render_sphere_png(xyz, tri.triangles, field, marks,
                                            static_cast<int>(P.get_int("output.picture_size")))});
    }
    if (cs.enabled) {
      // Controller after detection; its request shapes the next cycle.
      h.objective_sum += cs.loss(obs.count);
      if (c == 0) h.modulus_ref = obs.mean_modulus;
      const auto t0 = std::chrono::steady_clock::now();
      ctl->step(exec, ctl->theta, obs, h.previous_count, h.modulus_ref, h.request);
      h.controller_seconds += seconds_since(t0);
      h.previous_count = obs.count;
      if (apply_request(sf, schedule, cs, h.request)) {
        ++h.regenerations;
        h.geometry_recorded = false;
      }
    }
    h.next_cycle = c + 1;
    if (ctx.checkpoint.due(c + 1) && c + 1 < cycles) {
      if (cs.enabled) {
        h.lstm_h = to_host(ctl->state.h);
        h.lstm_c = to_host(ctl->state.c);
      }
      save();
    }
    if (seconds_since(last_progress) > 0.25 || c == cycles - 1) {
      char rate[64];
      std::snprintf(rate, sizeof rate, "%.3g pairs/s",
                    double(n) * n * h.timed_cycles / std::max(h.field_seconds, 1e-9));
      const double base = cs.enabled ? 0.5 : 0.0;
      ctx.progress.update(base + (1.0 - base) * double(c + 1) / cycles, rate);
      last_progress = std::chrono::steady_clock::now();
    }
  }

  // ---- results ----
  auto& R = ctx.result;
  const SphereTriangulation& tri = sf.tri;
  const double timed = static_cast<double>(std::max(h.timed_cycles, 1L));
  const double cycle_seconds = h.field_seconds + h.vortex_seconds + h.controller_seconds;
  R.set("nodes", Value::of_int(n));
  R.set("hull_vertices", Value::of_int(tri.vertices));
  R.set("triangles", Value::of_int(static_cast<long long>(tri.triangles.size())));
  R.set("cycles", Value::of_int(cycles));
  R.set("timed_cycles", Value::of_int(h.timed_cycles));
  R.set("field_method", Value::of_string(sf.propagator ? "propagator" : "direct"));
  R.set("seconds_per_cycle", Value::of_real(cycle_seconds / timed));
  R.set("field_seconds_per_cycle", Value::of_real(h.field_seconds / timed));
  R.set("gather_seconds_per_cycle", Value::of_real(h.gather_seconds / timed));
  R.set("vortex_seconds_per_cycle", Value::of_real(h.vortex_seconds / timed));
  R.set("controller_seconds_per_cycle", Value::of_real(h.controller_seconds / timed));
  if (cycle_seconds > 0.0) {
    // The seed's cycle breakdown: evolution, controller, detection as shares of a cycle.
    R.set("seconds_share_evolution", Value::of_real(h.field_seconds / cycle_seconds));
    R.set("seconds_share_controller", Value::of_real(h.controller_seconds / cycle_seconds));
    R.set("seconds_share_detection", Value::of_real(h.vortex_seconds / cycle_seconds));
  }
  R.set("setup_seconds", Value::of_real(h.setup_seconds));
  R.set("pair_evaluations_per_second",
        Value::of_real(double(n) * n * timed / std::max(h.field_seconds, 1e-12)));
  R.set("field_rms", Value::of_real(h.field_rms.back()));
  const long last_top = h.count_topological.back(), last_thr = h.count_threshold.back();
  R.set("vortex_count", Value::of_int(topological ? last_top : last_thr));
  R.set("vortex_count_topological", Value::of_int(last_top));
  R.set("vortex_count_threshold", Value::of_int(last_thr));
  R.set("total_charge", Value::of_int(h.total_charge.back()));
  R.set("regenerations", Value::of_int(h.regenerations));
  const auto nc = static_cast<std::uint64_t>(h.count_topological.size());
  R.add_i64("vortex_counts", {nc}, topological ? h.count_topological : h.count_threshold);
  R.add_i64("cycles/vortex_count_topological", {nc}, h.count_topological);
  R.add_i64("cycles/vortex_count_threshold", {nc}, h.count_threshold);
  R.add_i64("cycles/total_charge", {nc}, h.total_charge);
  R.add_f64("cycles/field_rms", {nc}, h.field_rms);
  R.add_f64("cycles/windings", {nc}, h.shape_w);
  R.add_f64("cycles/twist", {nc}, h.shape_tau);
  R.add_f64("cycles/wavenumber_scale", {nc}, h.shape_scale);
  if (cs.enabled) {
    R.set("control_objective", Value::of_real(h.objective_sum / double(nc)));
    R.set("control_objective_untrained", Value::of_real(h.train_objective.front()));
    R.set("control_objective_trained", Value::of_real(h.train_objective.back()));
    R.set("control_parameters", Value::of_int(static_cast<long long>(cs.lstm.size())));
    R.add_f64("control/objective", {h.train_objective.size()}, h.train_objective);
  }
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
  reg.add_choice("split", "runs", {"runs", "targets"},
                 "runs: the work queue gives each run to one rank; targets: all ranks carry each "
                 "run together, each evaluating psi for a contiguous slice of the nodes (all "
                 "sources), gathered every cycle (bitwise equal to one rank)");
  declare_control_params(reg);
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
  for (const char* key : {"windings_bounds", "twist_bounds", "scale_bounds"}) {
    const auto& b = p.get_real_list(std::string("control.") + key);
    if (b.size() != 2 || !(b[0] <= b[1]))
      throw core::InputError(file + ": wavefield.control." + key +
                             ": needs two numbers [low, high] with low <= high");
  }
  if (p.get_bool("control.enabled") &&
      (p.get_real("geometry.windings_rate") != 0.0 || p.get_real("geometry.twist_rate") != 0.0))
    throw core::InputError(file +
                           ": wavefield.control.enabled: the controller moves w and tau; set "
                           "geometry.windings_rate and geometry.twist_rate to 0");
  if (p.get_string("field.method") == "propagator") {
    const double n = static_cast<double>(p.get_int("nodes"));
    const double bytes = 2.0 * (p.get_string("field.precision") == "f32" ? 4 : 8) * n * n;
    if (bytes > 64.0 * 1073741824.0)
      throw core::InputError(file + ": wavefield.field.method: the propagator of " +
                             std::to_string(p.get_int("nodes")) +
                             " nodes needs more than 64 GiB; use direct");
  }
}

bool WavefieldModule::shares_ranks(const core::ParamSet& params) const {
  return params.get_string("split") == "targets";
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
