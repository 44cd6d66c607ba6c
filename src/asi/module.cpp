#include "asi/module.hpp"

#include <cstdio>
#include <sstream>

#include "asi/lattice_generators.hpp"
#include "asi/transfer_matrix.hpp"
#include "core/error.hpp"

namespace frost::asi {

namespace {

const std::vector<std::string> kTasks = {"count", "entropy"};

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
  throw std::runtime_error("count: enumeration is not available for lattice '" + kind + "'");
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
  if (kind == "custom" && p.get_string("lattice.file").empty())
    fail("lattice.file", "kind custom needs a lattice file");
  if (task == "entropy") return;
  try {
    if (p.get_int("lattice.L") <= 64 || kind == "custom") (void)lattice_of(p);
  } catch (const std::exception& e) {
    fail(kind == "custom" ? "lattice.file" : "lattice",
         e.what() + std::string(" (boundary '") + boundary + "')");
  }
}

void AsiModule::run(core::RunContext& ctx) const {
  const std::string task = ctx.params.get_string("task");
  if (task == "entropy") return run_entropy(ctx);
  Lattice lat = lattice_of(ctx.params);
  write_lattice(ctx.result, lat);
  if (task == "count") return run_count(ctx, lat);
}

std::string AsiModule::report(const std::vector<core::RunResult>& runs) const {
  std::ostringstream o;
  for (const auto& r : runs) {
    if (!r.ok) continue;
    o << "run " << r.id << ":";
    for (const auto& [k, v] : r.params) o << " " << k << "=" << v.to_yaml();
    for (const auto& [k, v] : r.results)
      if (v.type != core::Value::Type::RealList) o << " " << k << "=" << v.to_yaml();
    o << "\n";
  }
  return o.str();
}

}  // namespace frost::asi
