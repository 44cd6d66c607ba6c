#include "asi/module.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "asi/enumerate.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/sample_task.hpp"
#include "asi/svg.hpp"
#include "asi/train_task.hpp"
#include "asi/transfer_matrix.hpp"
#include "core/error.hpp"

namespace frost::asi {

namespace {

const std::vector<std::string> kTasks = {"count", "entropy", "reachable", "sample", "train"};

void declare_lattice_params(core::ParamRegistry& reg) {
  reg.add_choice("lattice.kind", "square",
                 {"square", "kagome", "brickwork", "tetris", "shakti", "santa_fe", "custom"},
                 "lattice of islands");
  reg.add_int("lattice.L", 4, "linear size: vertices per side (square) or unit cells per side")
      .min(1)
      .max(100000);
  reg.add_choice(
      "lattice.boundary", "open", {"open", "periodic", "domain_wall"},
      "boundary condition (domain_wall: square only; periodic: square, kagome, brickwork)");
  reg.add_string("lattice.file", "",
                 "custom lattice file (kind: custom): lines 'v x y' and 'e tail head'");
}

Lattice lattice_of(const core::ParamSet& p) {
  return make_lattice(p.get_string("lattice.kind"), static_cast<int>(p.get_int("lattice.L")),
                      p.get_string("lattice.boundary"), p.get_string("lattice.file"));
}

void write_lattice(core::RunResult& res, const Lattice& lat) {
  std::vector<double> pos;
  for (auto& x : lat.positions) pos.insert(pos.end(), {x[0], x[1]});
  std::vector<std::int64_t> edges;
  for (auto& e : lat.edges) edges.insert(edges.end(), {e[0], e[1]});
  res.add_f64("lattice/positions", {lat.positions.size(), 2}, pos);
  res.add_i64("lattice/edges", {lat.edges.size(), 2}, edges);
}

/// Free islands, constrained vertices and independent loops (beta_1) of a lattice.
struct GraphCounts {
  long vertices = 0, edges = 0, loops = 0;
};

GraphCounts graph_counts(const Lattice& lat) {
  // Components of the graph of free islands over constrained vertices (union-find).
  std::vector<int> parent(lat.vertex_count());
  for (int v = 0; v < lat.vertex_count(); ++v) parent[v] = v;
  auto find = [&](int v) {
    while (parent[v] != v) v = parent[v] = parent[parent[v]];
    return v;
  };
  GraphCounts c;
  for (int v = 0; v < lat.vertex_count(); ++v)
    c.vertices += lat.terminal.empty() || !lat.terminal[v];
  long components = c.vertices;
  for (int e = 0; e < lat.edge_count(); ++e) {
    if (!lat.fixed_spin.empty() && lat.fixed_spin[e]) continue;
    ++c.edges;
    int a = find(lat.edges[e][0]), b = find(lat.edges[e][1]);
    if (a != b) {
      parent[a] = b;
      --components;
    }
  }
  c.loops = c.edges - c.vertices + components;
  return c;
}

void run_count(core::RunContext& ctx, const Lattice& lat) {
  const auto& p = ctx.params;
  const std::string kind = p.get_string("lattice.kind");
  const std::string method = p.get_string("count.method");
  const int L = static_cast<int>(p.get_int("lattice.L"));
  auto gc = graph_counts(lat);
  ctx.result.set("vertices", core::Value::of_int(gc.vertices));
  ctx.result.set("edges", core::Value::of_int(gc.edges));
  ctx.result.set("loops", core::Value::of_int(gc.loops));
  if (kind == "square" && method != "enumeration") {
    ctx.progress.update(0.0, "transfer matrix");
    core::BigUint n = count_square_ice(L, p.get_string("lattice.boundary"));
    ctx.result.set("ice_states", core::Value::of_string(n.to_string()));
    ctx.result.set("method", core::Value::of_string("transfer_matrix"));
    return;
  }
  EnumerationOptions opt;
  opt.max_loops = static_cast<int>(p.get_int("count.max_loops"));
  ctx.progress.update(0.0, "enumerating charge sectors");
  EnumerationResult r = count_by_enumeration(lat, opt);
  ctx.result.set("ice_states", core::Value::of_string(r.ice_states.to_string()));
  ctx.result.set("charge_sectors", core::Value::of_string(r.charge_sectors.to_string()));
  // Sectors differ in size (a sector is the ice part of a cycle-space coset); report the
  // reference state's sector, the one loop moves explore, and the size of every sector.
  auto reference = ice_reference_state(lat);
  std::vector<int> charge(lat.vertex_count(), 0);
  for (int e = 0; e < lat.edge_count(); ++e) {
    charge[lat.edges[e][1]] += reference[e];
    charge[lat.edges[e][0]] -= reference[e];
  }
  auto sectors = ice_charge_sectors(lat, opt.max_sectors);
  for (size_t s = 0; s < sectors.size() && s < r.sector_states.size(); ++s) {
    bool same = true;
    for (int v = 0; v < lat.vertex_count() && same; ++v)
      same = (!lat.terminal.empty() && lat.terminal[v]) || sectors[s].charge[v] == charge[v];
    if (same)
      ctx.result.set("sector_states",
                     core::Value::of_int(static_cast<long long>(r.sector_states[s])));
  }
  std::vector<std::int64_t> sizes(r.sector_states.begin(), r.sector_states.end());
  ctx.result.add_i64("sector_states", {sizes.size()}, sizes);
  ctx.result.set("method", core::Value::of_string("enumeration"));
}

/// The drawing of a state, when asked for.
void maybe_draw(core::RunContext& ctx, const Lattice& lat, const std::vector<std::int8_t>& spins,
                const std::string& name) {
  if (!ctx.params.get_bool("output.svg")) return;
  std::vector<int> charge(lat.vertex_count(), 0);
  for (int e = 0; e < lat.edge_count(); ++e) {
    charge[lat.edges[e][1]] += spins[e];
    charge[lat.edges[e][0]] -= spins[e];
  }
  ctx.result.artifacts.push_back({name, draw_state_svg(lat, spins, charge, lat.kind == "square")});
}

/// The picture of the last recorded state of a sampling run.
void draw_last_state(core::RunContext& ctx, const Lattice& lat) {
  for (const auto& d : ctx.result.datasets)
    if (d.name == "states" && d.dtype == core::Dataset::DType::I8 && d.shape.size() == 2 &&
        d.shape[0] > 0 && d.shape[1] == static_cast<std::uint64_t>(lat.edge_count())) {
      const auto* last =
          reinterpret_cast<const std::int8_t*>(d.bytes.data()) + (d.shape[0] - 1) * d.shape[1];
      maybe_draw(ctx, lat, std::vector<std::int8_t>(last, last + d.shape[1]), "state.svg");
      return;
    }
}

void run_reachable(core::RunContext& ctx, const Lattice& lat) {
  auto gc = graph_counts(lat);
  ctx.result.set("vertices", core::Value::of_int(gc.vertices));
  ctx.result.set("edges", core::Value::of_int(gc.edges));
  ctx.result.set("loops", core::Value::of_int(gc.loops));
  std::vector<std::int8_t> reference = ice_reference_state(lat);
  ReachableOptions opt;
  opt.max_states = static_cast<std::uint64_t>(ctx.params.get_int("reachable.max_states"));
  ReachableResult r = reachable(lat, reference, opt);
  ctx.result.set("reachable_states",
                 core::Value::of_int(static_cast<long long>(r.reachable_states)));
  ctx.result.set("closure_states", core::Value::of_int(static_cast<long long>(r.closure_states)));
  ctx.result.set("sector_states", core::Value::of_int(static_cast<long long>(r.sector_states)));
  ctx.result.set("ice_states", core::Value::of_string(r.ice_states.to_string()));
  ctx.result.add_i8("reference_state", {reference.size()}, reference);
  maybe_draw(ctx, lat, reference, "reference_state.svg");
}

void run_entropy(core::RunContext& ctx) {
  const auto& p = ctx.params;
  const std::string kind = p.get_string("lattice.kind");
  const int width = static_cast<int>(p.get_int("entropy.max_width"));
  EntropyEstimate est = kind == "kagome" ? kagome_ice_entropy(width) : square_ice_entropy(width);
  ctx.result.set("entropy", core::Value::of_real(est.entropy_extrapolated));
  ctx.result.set("entropy_error", core::Value::of_real(est.error_estimate));
  ctx.result.set("W", core::Value::of_real(est.W));
  ctx.result.set("per", core::Value::of_string(kind == "kagome" ? "spin" : "vertex"));
  std::vector<double> table;
  for (size_t k = 0; k < est.widths.size(); ++k)
    table.insert(table.end(), {double(est.widths[k]), est.entropy[k]});
  ctx.result.add_f64("entropy/width_entropy", {est.widths.size(), 2}, table);
}

}  // namespace

void AsiModule::declare(core::ParamRegistry& reg) const {
  reg.add_choice("task", "count", kTasks, "what to compute");
  declare_lattice_params(reg);
  reg.add_choice("count.method", "auto", {"auto", "transfer_matrix", "enumeration"},
                 "counting method (auto: transfer matrix for square lattices, else enumeration)");
  reg.add_int("count.max_loops", 36,
              "largest number of independent loops enumerated (2^loops states per sector)")
      .min(0)
      .max(40);
  reg.add_int("reachable.max_states", 1 << 24, "largest reachable set searched before giving up")
      .min(1);
  reg.add_bool("output.svg", true, "draw a state (islands as arrows, vertices coloured by charge)");
  declare_sample_params(reg);
  declare_train_params(reg);
  reg.add_int("entropy.max_width", 12, "widest cylinder of the row transfer matrix (even)")
      .min(8)
      .max(20);
}

void AsiModule::check(const core::ParamSet& p, const std::string& file) const {
  const std::string task = p.get_string("task"), kind = p.get_string("lattice.kind");
  const std::string boundary = p.get_string("lattice.boundary");
  auto fail = [&](const std::string& key, const std::string& what) {
    throw core::InputError(file + ": asi." + key + ": " + what);
  };
  if (task == "entropy" && kind != "square" && kind != "kagome")
    fail("lattice.kind", "task entropy supports square and kagome (got '" + kind + "')");
  if (task == "entropy" && p.get_int("entropy.max_width") % 2)
    fail("entropy.max_width", "must be even");
  if (task == "count" && kind == "square" && p.get_string("count.method") != "enumeration" &&
      p.get_int("lattice.L") > 24)
    fail("lattice.L", "the transfer matrix counts square lattices up to L = 24");
  if (task == "train" && p.get_string("train.mode") != "a" &&
      p.get_string("train.energy") == "thermal" && p.get_string("thermal.model") == "dipolar")
    fail("thermal.model", "train modes b and proposal support the vertex, charge and pair models");
  if (kind == "custom" && p.get_string("lattice.file").empty())
    fail("lattice.file", "kind custom needs a lattice file");
  if (task == "entropy") return;
  if (task == "sample" && p.get_string("sample.move") == "long_loop") {
    // A long loop ends only when the walk returns to its start, which is certain only when every
    // vertex is charge-free (even degree): charged boundary vertices can trap the walk.
    Lattice lat = lattice_of(p);
    auto deg = lat.degrees();
    for (int v = 0; v < lat.vertex_count(); ++v)
      if ((lat.terminal.empty() || !lat.terminal[v]) && deg[v] % 2)
        fail("sample.move",
             "long_loop needs a lattice whose vertices all have even degree "
             "(e.g. square periodic); use short_loop on '" +
                 kind + "' with boundary '" + boundary + "'");
  }
  try {
    if (p.get_int("lattice.L") <= 64 || kind == "custom") (void)lattice_of(p);
  } catch (const std::exception& e) {
    fail(kind == "custom" ? "lattice.file" : "lattice", e.what());
  }
}

void AsiModule::run(core::RunContext& ctx) const {
  const std::string task = ctx.params.get_string("task");
  if (task == "entropy") return run_entropy(ctx);
  Lattice lat = lattice_of(ctx.params);
  write_lattice(ctx.result, lat);
  if (task == "count") return run_count(ctx, lat);
  if (task == "reachable") return run_reachable(ctx, lat);
  if (task == "train") return run_train_task(ctx, lat);
  if (task == "sample") {
    run_sample_task(ctx, lat);
    draw_last_state(ctx, lat);
  }
}

std::string AsiModule::report(const std::vector<core::RunResult>& runs) const {
  std::ostringstream o;
  auto real = [](const core::RunResult& r, const char* key) { return r.number(key, std::nan("")); };
  bool header = false;
  for (const auto& r : runs) {
    if (!r.ok) continue;
    if (r.find("sweeps") && r.find("energy")) {
      // Monte Carlo runs: one row each, the quantities a physicist checks first.
      if (!header) {
        o << "  run  ensemble      T    energy  spec.heat  type I  type II type III  type IV  "
             "monopoles  tau_int  samples/s\n";
        header = true;
      }
      const core::Value* T = r.find("temperature");
      char line[256];
      std::snprintf(
          line, sizeof line,
          "%5d  %-8s %6s  %8.4f  %9.4f  %6.4f  %7.4f  %7.4f  %7.4f  %9.5f  %7.2f  %9.3g\n", r.id,
          T ? "thermal" : "uniform", T ? core::format_real(T->r).c_str() : "-", real(r, "energy"),
          T ? real(r, "specific_heat") : 0.0, real(r, "type_I"), real(r, "type_II"),
          real(r, "type_III"), real(r, "type_IV"), real(r, "monopole_density"),
          real(r, "max_tau_int"), real(r, "samples_per_second"));
      o << line;
      continue;
    }
    o << "run " << r.id << ":";
    for (const auto& [k, v] : r.params) o << " " << k << "=" << v.to_yaml();
    for (const auto& [k, v] : r.results)
      if (v.type != core::Value::Type::RealList) o << " " << k << "=" << v.to_yaml();
    o << "\n";
  }
  return o.str();
}

}  // namespace frost::asi
