// Charge sectors, reference ice state, Gray-code enumeration and loop-move reachability.
#include "asi/enumerate.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>

#include "asi/incidence.hpp"

namespace frost::asi {

namespace {

bool is_fixed(const Lattice& lattice, int e) {
  return !lattice.fixed_spin.empty() && lattice.fixed_spin[e] != 0;
}

bool is_terminal(const Lattice& lattice, int v) {
  return !lattice.terminal.empty() && lattice.terminal[v] != 0;
}

/// Orientations of the free islands with bounds lo_v <= indeg_v <= hi_v on the number of free
/// islands pointing into each vertex. Reversing a directed path x0 -> ... -> xk moves one unit
/// of in-degree from xk to x0 and leaves the inner vertices unchanged, so violations are
/// repaired one unit at a time along breadth-first augmenting paths. When no path exists the
/// vertices reachable in the search form a set whose in-degree cannot change in any orientation
/// (every boundary island already points the needed way), which proves infeasibility.
class Orienter {
 public:
  explicit Orienter(const Lattice& lattice) : lattice_(lattice) {
    const int n0 = lattice.vertex_count();
    incident_.resize(n0);
    for (int e = 0; e < lattice.edge_count(); ++e) {
      if (is_fixed(lattice, e)) continue;
      incident_[lattice.edges[e][0]].push_back(e);
      incident_[lattice.edges[e][1]].push_back(e);
    }
    stamp_.assign(n0, 0);
    via_.assign(n0, -1);
  }

  int free_degree(int v) const { return static_cast<int>(incident_[v].size()); }

  /// Adjusts the free islands of sigma to satisfy the bounds; false when impossible.
  bool orient(const std::vector<int>& lo, const std::vector<int>& hi,
              std::vector<std::int8_t>& sigma) {
    const int n0 = lattice_.vertex_count();
    std::vector<int> indeg(n0, 0);
    for (int v = 0; v < n0; ++v) {
      for (int e : incident_[v]) indeg[v] += head(e, sigma) == v;
      if (lo[v] > hi[v]) return false;
    }
    for (int v = 0; v < n0; ++v) {
      while (indeg[v] > hi[v]) {
        // Path x0 -> ... -> v along islands pointing towards v, ending where x0 has room.
        const int x0 = search(v, sigma, /*towards=*/true, [&](int x) { return indeg[x] < hi[x]; });
        if (x0 < 0) return false;
        reverse_path(x0, v, sigma);
        --indeg[v];
        ++indeg[x0];
      }
    }
    for (int v = 0; v < n0; ++v) {
      while (indeg[v] < lo[v]) {
        const int xk = search(v, sigma, /*towards=*/false, [&](int x) { return indeg[x] > lo[x]; });
        if (xk < 0) return false;
        reverse_path(xk, v, sigma);
        ++indeg[v];
        --indeg[xk];
      }
    }
    return true;
  }

 private:
  int head(int e, const std::vector<std::int8_t>& sigma) const {
    return sigma[e] > 0 ? lattice_.edges[e][1] : lattice_.edges[e][0];
  }
  int other(int e, int v) const {
    return lattice_.edges[e][0] == v ? lattice_.edges[e][1] : lattice_.edges[e][0];
  }

  /// Breadth-first search from `start` over free islands pointing into the current vertex
  /// (towards) or out of it; returns the first vertex != start accepted by `good`, or -1.
  template <class Good>
  int search(int start, const std::vector<std::int8_t>& sigma, bool towards, Good good) {
    ++generation_;
    std::queue<int> queue;
    stamp_[start] = generation_;
    queue.push(start);
    while (!queue.empty()) {
      const int u = queue.front();
      queue.pop();
      for (int e : incident_[u]) {
        const bool into_u = head(e, sigma) == u;
        if (into_u != towards) continue;
        const int w = other(e, u);
        if (stamp_[w] == generation_) continue;
        stamp_[w] = generation_;
        via_[w] = e;
        if (good(w)) return w;
        queue.push(w);
      }
    }
    return -1;
  }

  /// Reverses the search-tree path between `end` and the search start `start`.
  void reverse_path(int end, int start, std::vector<std::int8_t>& sigma) {
    int x = end;
    while (x != start) {
      const int e = via_[x];
      sigma[e] = static_cast<std::int8_t>(-sigma[e]);
      x = other(e, x);
    }
  }

  const Lattice& lattice_;
  std::vector<std::vector<int>> incident_;
  std::vector<unsigned> stamp_;
  std::vector<int> via_;
  unsigned generation_ = 0;
};

/// Free in-degree intervals allowed by the ice rule: with f_v the charge of the fixed islands
/// at v, Q_v = 2 indeg_v - dfree_v + f_v must be 0 (even degree) or +-1 (odd degree).
struct IceBounds {
  std::vector<int> lo;
  std::vector<int> hi;
  bool feasible = true;
};

IceBounds ice_bounds(const Lattice& lattice, const Orienter& orienter) {
  const int n0 = lattice.vertex_count();
  const auto degree = lattice.degrees();
  std::vector<int> fixed_charge(n0, 0);
  for (int e = 0; e < lattice.edge_count(); ++e) {
    if (!is_fixed(lattice, e)) continue;
    fixed_charge[lattice.edges[e][1]] += lattice.fixed_spin[e];
    fixed_charge[lattice.edges[e][0]] -= lattice.fixed_spin[e];
  }
  IceBounds bounds;
  bounds.lo.assign(n0, 0);
  bounds.hi.assign(n0, 0);
  for (int v = 0; v < n0; ++v) {
    const int dfree = orienter.free_degree(v);
    if (is_terminal(lattice, v)) {
      bounds.lo[v] = 0;
      bounds.hi[v] = dfree;
      continue;
    }
    const int parity = degree[v] % 2;
    // (dfree - f -+ parity) is even because deg = dfree + dfixed and f = dfixed mod 2.
    const int lo = (dfree - fixed_charge[v] - parity) / 2;
    const int hi = (dfree - fixed_charge[v] + parity) / 2;
    bounds.lo[v] = std::max(lo, 0);
    bounds.hi[v] = std::min(hi, dfree);
    if (bounds.lo[v] > bounds.hi[v]) bounds.feasible = false;
  }
  return bounds;
}

std::vector<std::int8_t> start_state(const Lattice& lattice) {
  std::vector<std::int8_t> sigma(lattice.edge_count(), 1);
  for (int e = 0; e < lattice.edge_count(); ++e) {
    if (is_fixed(lattice, e)) sigma[e] = lattice.fixed_spin[e];
  }
  return sigma;
}

core::BigUint power_of_two(int exponent) {
  core::BigUint value(1);
  for (int i = 0; i < exponent; ++i) value *= 2;
  return value;
}

/// A state packed one bit per island (bit set when sigma_e = -1).
using Packed = std::vector<std::uint64_t>;

struct PackedHash {
  std::size_t operator()(const Packed& p) const {
    std::uint64_t h = 0x9E3779B97F4A7C15ull;
    for (const auto w : p) {
      h ^= w + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
      h *= 0xBF58476D1CE4E5B9ull;
    }
    return static_cast<std::size_t>(h ^ (h >> 31));
  }
};

Packed pack(const std::vector<std::int8_t>& sigma) {
  Packed p((sigma.size() + 63) / 64, 0);
  for (std::size_t e = 0; e < sigma.size(); ++e) {
    if (sigma[e] < 0) p[e >> 6] |= std::uint64_t{1} << (e & 63);
  }
  return p;
}

/// loop_direction on a packed state.
int packed_direction(const CycleBasis& basis, int loop, const Packed& p) {
  int first = 0;
  for (int k = basis.offsets[loop]; k < basis.offsets[loop + 1]; ++k) {
    const int e = basis.edges[k];
    const int s = ((p[e >> 6] >> (e & 63)) & 1u) ? -1 : 1;
    const int value = s * basis.orientation[k];
    if (k == basis.offsets[loop]) {
      first = value;
    } else if (value != first) {
      return 0;
    }
  }
  return first;
}

void packed_flip(const CycleBasis& basis, int loop, Packed& p) {
  for (int k = basis.offsets[loop]; k < basis.offsets[loop + 1]; ++k) {
    const int e = basis.edges[k];
    p[e >> 6] ^= std::uint64_t{1} << (e & 63);
  }
}

bool loop_has_fixed(const Lattice& lattice, const CycleBasis& basis, int loop) {
  for (int k = basis.offsets[loop]; k < basis.offsets[loop + 1]; ++k) {
    if (is_fixed(lattice, basis.edges[k])) return true;
  }
  return false;
}

}  // namespace

std::vector<std::int8_t> ice_reference_state(const Lattice& lattice) {
  Orienter orienter(lattice);
  const IceBounds bounds = ice_bounds(lattice, orienter);
  std::vector<std::int8_t> sigma = start_state(lattice);
  if (!bounds.feasible || !orienter.orient(bounds.lo, bounds.hi, sigma)) {
    throw std::runtime_error("ice_reference_state: lattice '" + lattice.kind + "' (" +
                             lattice.boundary + ") has no ice state");
  }
  return sigma;
}

std::vector<ChargeSector> ice_charge_sectors(const Lattice& lattice, std::uint64_t max_sectors) {
  Orienter orienter(lattice);
  IceBounds bounds = ice_bounds(lattice, orienter);
  std::vector<ChargeSector> sectors;
  std::vector<std::int8_t> sigma = start_state(lattice);
  if (!bounds.feasible || !orienter.orient(bounds.lo, bounds.hi, sigma)) return sectors;
  std::vector<int> choice_vertices;  // vertices whose ice rule allows two charges
  for (int v = 0; v < lattice.vertex_count(); ++v) {
    if (!is_terminal(lattice, v) && bounds.lo[v] < bounds.hi[v]) choice_vertices.push_back(v);
  }
  // Depth-first search; level d pins vertex choice_vertices[d] to its lower (charge -1), then
  // upper (+1) in-degree, and descends only when an orientation within the bounds still exists.
  // The pinned orientation of the parent is the starting point of the child's repair.
  std::vector<int>& lo = bounds.lo;
  std::vector<int>& hi = bounds.hi;
  const std::function<void(std::size_t, const std::vector<std::int8_t>&)> search =
      [&](std::size_t depth, const std::vector<std::int8_t>& state) {
        if (depth == choice_vertices.size()) {
          if (sectors.size() >= max_sectors) {
            throw std::length_error("ice_charge_sectors: more than " + std::to_string(max_sectors) +
                                    " charge sectors");
          }
          sectors.push_back({charges_host(lattice, state), state});
          return;
        }
        const int v = choice_vertices[depth];
        const int lo_v = lo[v];
        const int hi_v = hi[v];
        for (const int target : {lo_v, hi_v}) {
          lo[v] = hi[v] = target;
          std::vector<std::int8_t> child = state;
          if (orienter.orient(lo, hi, child)) search(depth + 1, child);
        }
        lo[v] = lo_v;
        hi[v] = hi_v;
      };
  search(0, sigma);
  return sectors;
}

void for_each_state_in_sector(const CycleBasis& basis, const std::vector<std::int8_t>& reference,
                              const std::function<void(const std::vector<std::int8_t>&)>& visit) {
  if (static_cast<int>(reference.size()) != basis.edge_count) {
    throw std::invalid_argument("for_each_state_in_sector: state size differs from the edge count");
  }
  if (basis.beta1 > 40) {
    throw std::length_error("for_each_state_in_sector: beta1 = " + std::to_string(basis.beta1) +
                            " is too large to enumerate");
  }
  // Endpoints of the loop edges; the basis holds no lattice, so the walk tracks charges through
  // per-edge (tail, head) pairs recovered from the loop orientation and the caller's state.
  if (basis.loop_endpoints.size() != 2 * basis.edges.size()) {
    throw std::invalid_argument("for_each_state_in_sector: basis without loop endpoints");
  }
  const int n0 = basis.vertex_count;
  std::vector<int> shift(n0, 0);  // Q - Q_reference per vertex
  int mismatched = 0;             // vertices with shift != 0
  std::vector<std::int8_t> sigma = reference;
  visit(sigma);
  const std::uint64_t total = std::uint64_t{1} << basis.beta1;
  for (std::uint64_t k = 1; k < total; ++k) {
    const int loop = __builtin_ctzll(k);
    for (int j = basis.offsets[loop]; j < basis.offsets[loop + 1]; ++j) {
      const int e = basis.edges[j];
      const int tail = basis.loop_endpoints[2 * j];
      const int head = basis.loop_endpoints[2 * j + 1];
      // Reversing sigma_e moves charge -2 sigma_e at the head and +2 sigma_e at the tail.
      const int delta = 2 * sigma[e];
      mismatched -= (shift[head] != 0) + (shift[tail] != 0);
      shift[head] -= delta;
      shift[tail] += delta;
      mismatched += (shift[head] != 0) + (shift[tail] != 0);
      sigma[e] = static_cast<std::int8_t>(-sigma[e]);
    }
    if (mismatched == 0) visit(sigma);
  }
}

void for_each_state_in_sector(const Lattice& lattice, const std::vector<std::int8_t>& reference,
                              const std::function<void(const std::vector<std::int8_t>&)>& visit) {
  for_each_state_in_sector(build_cycle_basis(lattice), reference, visit);
}

EnumerationResult count_by_enumeration(const Lattice& lattice, const EnumerationOptions& options) {
  const CycleBasis basis = build_cycle_basis(lattice);
  if (basis.beta1 > options.max_loops) {
    throw std::length_error("count_by_enumeration: beta1 = " + std::to_string(basis.beta1) +
                            " exceeds max_loops = " + std::to_string(options.max_loops));
  }
  const auto sectors = ice_charge_sectors(lattice, options.max_sectors);
  EnumerationResult result;
  result.loops = basis.beta1;
  result.charge_sectors = core::BigUint(sectors.size());
  result.steps = core::BigUint(sectors.size()) * power_of_two(basis.beta1);
  core::BigUint total(0);
  for (const auto& sector : sectors) {
    std::uint64_t states = 0;
    for_each_state_in_sector(basis, sector.representative,
                             [&states](const std::vector<std::int8_t>&) { ++states; });
    result.sector_states.push_back(states);
    total += core::BigUint(states);
  }
  result.ice_states = total;
  return result;
}

std::vector<std::vector<std::int8_t>> all_ice_states(const Lattice& lattice,
                                                     std::uint64_t max_states) {
  const CycleBasis basis = build_cycle_basis(lattice);
  const auto sectors = ice_charge_sectors(lattice);
  std::vector<std::vector<std::int8_t>> states;
  for (const auto& sector : sectors) {
    for_each_state_in_sector(basis, sector.representative, [&](const std::vector<std::int8_t>& s) {
      if (states.size() >= max_states) {
        throw std::length_error("all_ice_states: more than " + std::to_string(max_states) +
                                " states");
      }
      states.push_back(s);
    });
  }
  return states;
}

ReachableResult reachable(const Lattice& lattice, const std::vector<std::int8_t>& reference,
                          const ReachableOptions& options) {
  if (!is_ice_state(lattice, reference)) {
    throw std::invalid_argument("reachable: the reference is not an ice state");
  }
  const CycleBasis basis = build_cycle_basis(lattice);
  const int loops = basis.loop_count();
  std::vector<char> movable(loops);
  for (int l = 0; l < loops; ++l) movable[l] = !loop_has_fixed(lattice, basis, l);
  const auto too_many = [&](std::size_t n) {
    if (n > options.max_states) {
      throw std::length_error("reachable: more than " + std::to_string(options.max_states) +
                              " states");
    }
  };
  ReachableResult result;
  result.loops = basis.beta1;
  for_each_state_in_sector(basis, reference,
                           [&result](const std::vector<std::int8_t>&) { ++result.sector_states; });

  // Mode A: one ordered pass over the loops, branching on every directed loop.
  {
    std::unordered_set<Packed, PackedHash> seen;
    std::vector<Packed> states{pack(reference)};
    seen.insert(states.front());
    for (int l = 0; l < loops; ++l) {
      if (!movable[l]) continue;
      const std::size_t before = states.size();
      for (std::size_t i = 0; i < before; ++i) {
        if (packed_direction(basis, l, states[i]) == 0) continue;
        Packed next = states[i];
        packed_flip(basis, l, next);
        if (seen.insert(next).second) states.push_back(std::move(next));
      }
      too_many(states.size());
    }
    result.reachable_states = states.size();
  }

  // Closure: breadth-first search under reversals of any directed basis loop.
  {
    std::unordered_set<Packed, PackedHash> seen;
    std::vector<Packed> frontier{pack(reference)};
    seen.insert(frontier.front());
    for (std::size_t head = 0; head < frontier.size(); ++head) {
      for (int l = 0; l < loops; ++l) {
        if (!movable[l] || packed_direction(basis, l, frontier[head]) == 0) continue;
        Packed next = frontier[head];
        packed_flip(basis, l, next);
        if (seen.insert(next).second) frontier.push_back(std::move(next));
      }
      too_many(frontier.size());
    }
    result.closure_states = frontier.size();
  }

  if (options.count_ice_states) {
    result.ice_states = count_by_enumeration(lattice).ice_states;
  }
  return result;
}

}  // namespace frost::asi
