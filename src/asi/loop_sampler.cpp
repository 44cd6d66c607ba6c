#include "asi/loop_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <unordered_map>

namespace frost::asi {

MoveSet parse_move_set(const std::string& name) {
  if (name == "short_loop") return kShortLoop;
  if (name == "long_loop") return kLongLoop;
  if (name == "basis") return kBasisLoop;
  throw std::invalid_argument("move set '" + name + "' is not one of short_loop, long_loop, basis");
}

SamplerGraph build_sampler_graph(const Lattice& lattice) {
  SamplerGraph g;
  g.n0 = lattice.vertex_count();
  g.n1 = lattice.edge_count();
  g.edge_tail.resize(g.n1);
  g.edge_head.resize(g.n1);
  g.fixed_spin.assign(g.n1, 0);
  if (!lattice.fixed_spin.empty()) g.fixed_spin = lattice.fixed_spin;
  g.degree.assign(g.n0, 0);
  for (int e = 0; e < g.n1; ++e) {
    g.edge_tail[e] = lattice.edges[e][0];
    g.edge_head[e] = lattice.edges[e][1];
    ++g.degree[g.edge_tail[e]];
    ++g.degree[g.edge_head[e]];
    if (g.fixed_spin[e] == 0) g.free_edges.push_back(e);
  }
  g.offsets.assign(g.n0 + 1, 0);
  for (int v = 0; v < g.n0; ++v) g.offsets[v + 1] = g.offsets[v] + g.degree[v];
  g.slot_edge.assign(g.offsets[g.n0], 0);
  std::vector<int> fill(g.offsets.begin(), g.offsets.end() - 1);
  for (int e = 0; e < g.n1; ++e) {
    g.slot_edge[fill[g.edge_tail[e]]++] = e;
    g.slot_edge[fill[g.edge_head[e]]++] = e;
  }
  // Sort each vertex's islands by the angle of the island seen from the vertex, so that
  // opposite islands of a square vertex are two slots apart.
  for (int v = 0; v < g.n0; ++v) {
    auto angle = [&](int e) {
      const double sgn = g.edge_tail[e] == v ? 1.0 : -1.0;
      return std::atan2(sgn * lattice.island_axis[e][1], sgn * lattice.island_axis[e][0]);
    };
    std::stable_sort(g.slot_edge.begin() + g.offsets[v], g.slot_edge.begin() + g.offsets[v + 1],
                     [&](int a, int b) { return angle(a) < angle(b); });
    g.max_degree = std::max(g.max_degree, g.degree[v]);
  }
  g.slot_sign.resize(g.slot_edge.size());
  g.slot_free.resize(g.slot_edge.size());
  for (int v = 0; v < g.n0; ++v) {
    for (int s = g.offsets[v]; s < g.offsets[v + 1]; ++s) {
      const int e = g.slot_edge[s];
      g.slot_sign[s] = g.edge_tail[e] == v ? 1 : -1;
      g.slot_free[s] = g.fixed_spin[e] == 0 ? 1 : 0;
    }
  }
  if (g.max_degree > 32) throw std::invalid_argument("sampler: vertex degree above 32");
  if (g.n0 >= (1 << 27)) throw std::invalid_argument("sampler: more than 2^27 vertices");
  g.edge_slots.assign(g.n1, 0);
  g.fixed_out.assign(g.n0, 0u);
  for (int v = 0; v < g.n0; ++v) {
    for (int s = g.offsets[v]; s < g.offsets[v + 1]; ++s) {
      const int e = g.slot_edge[s], k = s - g.offsets[v];
      g.edge_slots[e] |= g.edge_tail[e] == v ? k : k << 8;
      if (g.fixed_spin[e] != 0 && g.fixed_spin[e] == g.slot_sign[s]) g.fixed_out[v] |= 1u << k;
    }
  }
  g.slot_record.resize(g.slot_edge.size());
  for (int v = 0; v < g.n0; ++v) {
    for (int s = g.offsets[v]; s < g.offsets[v + 1]; ++s) {
      const int e = g.slot_edge[s];
      const int w = g.edge_tail[e] == v ? g.edge_head[e] : g.edge_tail[e];
      const int kw = g.edge_tail[e] == v ? g.edge_slots[e] >> 8 : g.edge_slots[e] & 0xff;
      g.slot_record[s] = static_cast<std::uint64_t>(e) << 32 | static_cast<std::uint64_t>(w) << 5 |
                         static_cast<std::uint64_t>(kw);
    }
  }
  g.vertex_kind = classify_vertices(lattice, g.offsets, g.slot_edge);
  for (int v = 0; v < g.n0; ++v) {
    g.square_vertices += g.vertex_kind[v] == kSquareVertex;
    g.counted_vertices += g.vertex_kind[v] != kTerminalVertex;
  }
  g.loop_offsets.push_back(0);
  auto add_loops = [&](const std::vector<OrientedLoop>& loops) {
    for (const auto& loop : loops) {
      for (std::size_t i = 0; i < loop.edges.size(); ++i) {
        g.loop_edges.push_back(loop.edges[i]);
        g.loop_orient.push_back(static_cast<std::int8_t>(loop.orientation[i]));
      }
      g.loop_offsets.push_back(static_cast<int>(g.loop_edges.size()));
    }
  };
  add_loops(lattice.faces);
  add_loops(lattice.windings);
  return g;
}

std::vector<int> vertex_charges(const SamplerGraph& g, const std::vector<std::int8_t>& spins) {
  std::vector<int> q(g.n0, 0);
  for (int e = 0; e < g.n1; ++e) {
    // sigma = +1: arrow into the head, out of the tail
    q[g.edge_head[e]] += spins[e];
    q[g.edge_tail[e]] -= spins[e];
  }
  return q;
}

bool is_ice_state(const SamplerGraph& g, const std::vector<std::int8_t>& spins) {
  const auto q = vertex_charges(g, spins);
  for (int v = 0; v < g.n0; ++v) {
    if (g.vertex_kind[v] == kTerminalVertex) continue;
    if (std::abs(q[v]) != (g.degree[v] & 1)) return false;
  }
  return true;
}

double configuration_energy(const SamplerGraph& g, const EnergyConstants& c,
                            const std::vector<double>& field_proj,
                            const std::vector<std::int8_t>& spins, const PairCouplings* pairs) {
  double e = 0.0;
  if (c.model == kDipolarModel) {
    if (pairs == nullptr) {
      throw std::invalid_argument("configuration_energy: the dipolar model needs its couplings");
    }
    e += pair_energy(*pairs, spins.data());
  }
  for (int v = 0; v < g.n0; ++v) {
    unsigned mask = 0;
    int n_in = 0;
    for (int s = g.offsets[v]; s < g.offsets[v + 1]; ++s) {
      const int in = g.slot_sign[s] * spins[g.slot_edge[s]] < 0;
      n_in += in;
      mask |= static_cast<unsigned>(in) << (s - g.offsets[v]);
    }
    e += vertex_energy(c, g.vertex_kind[v], g.degree[v], n_in, mask);
  }
  for (int i = 0; i < g.n1; ++i) e -= field_proj[i] * spins[i];
  return e;
}

namespace {

/// Free out-slots of v in `s`, skipping island `skip`.
std::vector<int> out_slots(const SamplerGraph& g, const std::vector<std::int8_t>& s, int v,
                           int skip) {
  std::vector<int> out;
  for (int sl = g.offsets[v]; sl < g.offsets[v + 1]; ++sl) {
    const int e = g.slot_edge[sl];
    if (g.slot_free[sl] && e != skip && g.slot_sign[sl] * s[e] > 0) out.push_back(sl);
  }
  return out;
}

int other_end(const SamplerGraph& g, int sl) {
  const int e = g.slot_edge[sl];
  return g.slot_sign[sl] > 0 ? g.edge_head[e] : g.edge_tail[e];
}

void short_walks(const SamplerGraph& g, const std::vector<std::int8_t>& s, int v,
                 std::vector<int>& pos, std::vector<int>& path, double p,
                 std::map<std::vector<std::int8_t>, double>& out) {
  const auto slots = out_slots(g, s, v, -1);
  if (slots.empty()) {
    out[s] += p;
    return;
  }
  const double q = p / static_cast<double>(slots.size());
  for (int sl : slots) {
    const int w = other_end(g, sl);
    path.push_back(g.slot_edge[sl]);
    if (pos[w] >= 0) {
      auto t = s;
      for (std::size_t i = static_cast<std::size_t>(pos[w]); i < path.size(); ++i) {
        t[path[i]] = static_cast<std::int8_t>(-t[path[i]]);
      }
      out[t] += q;
    } else {
      pos[w] = static_cast<int>(path.size());
      short_walks(g, s, w, pos, path, q, out);
      pos[w] = -1;
    }
    path.pop_back();
  }
}

}  // namespace

std::map<std::vector<std::int8_t>, double> exact_transitions(
    const SamplerGraph& g, MoveSet move, const std::vector<std::int8_t>& state) {
  std::map<std::vector<std::int8_t>, double> out;
  if (move == kBasisLoop) {
    const int K = static_cast<int>(g.loop_offsets.size()) - 1;
    for (int k = 0; k < K; ++k) {
      const int b = g.loop_offsets[k], e = g.loop_offsets[k + 1];
      const int dir = g.loop_orient[b] * state[g.loop_edges[b]];
      bool directed = true;
      for (int i = b; i < e; ++i) {
        directed = directed && g.loop_orient[i] * state[g.loop_edges[i]] == dir &&
                   g.fixed_spin[g.loop_edges[i]] == 0;
      }
      auto t = state;
      if (directed)
        for (int i = b; i < e; ++i)
          t[g.loop_edges[i]] = static_cast<std::int8_t>(-t[g.loop_edges[i]]);
      out[t] += 1.0 / K;
    }
    return out;
  }
  if (move == kShortLoop) {
    std::vector<int> pos(g.n0, -1), path;
    for (int v0 = 0; v0 < g.n0; ++v0) {
      pos[v0] = 0;
      short_walks(g, state, v0, pos, path, 1.0 / g.n0, out);
      pos[v0] = -1;
    }
    return out;
  }
  // long_loop: propagate probability mass over (current spins, position, last island, start);
  // spins as a bit mask (bit e set when sigma_e = +1) so the frontier stays compact.
  if (g.n1 > 64) throw std::invalid_argument("exact_transitions: long_loop needs n1 <= 64");
  struct Key {
    std::uint64_t s;
    int v, skip, v0;
    bool operator==(const Key& o) const {
      return s == o.s && v == o.v && skip == o.skip && v0 == o.v0;
    }
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      std::uint64_t h = k.s * 0x9E3779B97F4A7C15ull;
      h ^= (static_cast<std::uint64_t>(k.v) << 40) ^
           (static_cast<std::uint64_t>(k.skip + 1) << 20) ^ static_cast<std::uint64_t>(k.v0);
      return static_cast<std::size_t>(h ^ (h >> 29));
    }
  };
  std::uint64_t start = 0;
  for (int e = 0; e < g.n1; ++e)
    if (state[e] > 0) start |= 1ull << e;
  auto spin = [](std::uint64_t m, int e) { return (m >> e) & 1u ? 1 : -1; };
  std::unordered_map<std::uint64_t, double> absorbed;
  std::unordered_map<Key, double, KeyHash> frontier, next;
  for (int v0 = 0; v0 < g.n0; ++v0) frontier[Key{start, v0, -1, v0}] += 1.0 / g.n0;
  std::vector<int> slots;
  for (int iter = 0; iter < 1000000 && !frontier.empty(); ++iter) {
    double left = 0.0;
    for (const auto& kv : frontier) left += kv.second;
    if (left < 1e-16) break;
    next.clear();
    for (const auto& [key, p] : frontier) {
      slots.clear();
      for (int sl = g.offsets[key.v]; sl < g.offsets[key.v + 1]; ++sl) {
        const int e = g.slot_edge[sl];
        if (g.slot_free[sl] && e != key.skip && g.slot_sign[sl] * spin(key.s, e) > 0) {
          slots.push_back(sl);
        }
      }
      if (slots.empty()) {  // stuck: the move is abandoned (never happens without sinks)
        absorbed[start] += p;
        continue;
      }
      const double q = p / static_cast<double>(slots.size());
      for (int sl : slots) {
        const int e = g.slot_edge[sl];
        const std::uint64_t t = key.s ^ (1ull << e);
        const int w = other_end(g, sl);
        if (w == key.v0) {
          absorbed[t] += q;
        } else {
          next[Key{t, w, e, key.v0}] += q;
        }
      }
    }
    frontier.swap(next);
  }
  for (const auto& [m, p] : absorbed) {
    auto t = state;
    for (int e = 0; e < g.n1; ++e) t[e] = static_cast<std::int8_t>(spin(m, e));
    out[t] += p;
  }
  return out;
}

}  // namespace frost::asi
