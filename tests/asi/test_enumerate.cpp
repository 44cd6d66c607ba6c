#include "asi/enumerate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "asi/cycle_basis.hpp"
#include "asi/incidence.hpp"
#include "asi/lattice_generators.hpp"
#include "asi/transfer_matrix.hpp"

namespace {

using frost::asi::Lattice;
using frost::core::BigUint;

/// Exhaustive search over all states (free islands assigned in id order, a branch dropped as
/// soon as a vertex whose islands are all assigned breaks the ice rule): the ice states and
/// their charge vectors.
struct BruteForce {
  std::vector<std::vector<std::int8_t>> ice_states;
  std::set<std::vector<int>> charge_vectors;
};

BruteForce brute_force(const Lattice& lattice) {
  const int n0 = lattice.vertex_count();
  const int n1 = lattice.edge_count();
  const auto degree = lattice.degrees();
  std::vector<std::vector<int>> closes(n1 + 1);  // vertices complete once edges < e are set
  std::vector<int> last(n0, -1);
  for (int e = 0; e < n1; ++e) {
    last[lattice.edges[e][0]] = e;
    last[lattice.edges[e][1]] = e;
  }
  for (int v = 0; v < n0; ++v) closes[last[v] + 1].push_back(v);
  BruteForce out;
  std::vector<std::int8_t> sigma(n1, 0);
  std::vector<int> q(n0, 0);
  const std::function<void(int)> assign = [&](int e) {
    for (int v : closes[e]) {
      if (!lattice.terminal[v] && std::abs(q[v]) != degree[v] % 2) return;
    }
    if (e == n1) {
      out.ice_states.push_back(sigma);
      out.charge_vectors.insert(q);
      return;
    }
    for (const int s : {1, -1}) {
      if (lattice.fixed_spin[e] != 0 && lattice.fixed_spin[e] != s) continue;
      sigma[e] = static_cast<std::int8_t>(s);
      q[lattice.edges[e][1]] += s;
      q[lattice.edges[e][0]] -= s;
      assign(e + 1);
      q[lattice.edges[e][1]] -= s;
      q[lattice.edges[e][0]] += s;
    }
  };
  assign(0);
  return out;
}

std::string write_custom_lattice() {
  const std::string path = ::testing::TempDir() + "frost_enumerate_custom.txt";
  std::ofstream out(path);
  // A wheel: hub 0 and rim 1..5 (odd degrees on the rim and a degree-5 hub), plus a pendant
  // path 5 - 6 - 7, plus a separate square 8..11.
  out << "v 0 0\nv 2 0\nv 0.6 1.9\nv -1.6 1.2\nv -1.6 -1.2\nv 0.6 -1.9\nv 1.5 -3\nv 2.5 -3\n"
      << "e 0 1\ne 0 2\ne 0 3\ne 0 4\ne 0 5\ne 1 2\ne 2 3\ne 3 4\ne 4 5\ne 5 1\ne 5 6\ne 6 7\n"
      << "v 5 0\nv 6 0\nv 6 1\nv 5 1\ne 8 9\ne 9 10\ne 10 11\ne 11 8\n";
  return path;
}

std::vector<Lattice> small_lattices() {
  return {frost::asi::make_square(1, "open"),
          frost::asi::make_square(2, "open"),
          frost::asi::make_square(3, "open"),
          frost::asi::make_square(3, "periodic"),
          frost::asi::make_square(2, "domain_wall"),
          frost::asi::make_square(3, "domain_wall"),
          frost::asi::make_kagome(1, "open"),
          frost::asi::make_kagome(2, "periodic"),
          frost::asi::make_brickwork(2, "open"),
          frost::asi::make_lattice("shakti", 1, "open", ""),
          frost::asi::make_lattice("tetris", 1, "open", ""),
          frost::asi::make_lattice("santa_fe", 1, "open", ""),
          frost::asi::read_custom_lattice(write_custom_lattice())};
}

std::string describe(const Lattice& lattice) {
  return lattice.kind + " " + lattice.boundary + " n1=" + std::to_string(lattice.edge_count());
}

TEST(Enumerate, CountsMatchBruteForce) {
  for (const auto& lattice : small_lattices()) {
    SCOPED_TRACE(describe(lattice));
    const BruteForce exact = brute_force(lattice);
    const auto result = frost::asi::count_by_enumeration(lattice);
    EXPECT_EQ(result.ice_states, BigUint(exact.ice_states.size()));
    EXPECT_EQ(result.charge_sectors, BigUint(exact.charge_vectors.size()));
    EXPECT_EQ(result.loops, frost::asi::cycle_space_dimension(lattice).beta1);
    EXPECT_EQ(result.steps, BigUint(exact.charge_vectors.size() << result.loops));
    const auto sectors = frost::asi::ice_charge_sectors(lattice);
    ASSERT_EQ(result.sector_states.size(), sectors.size());
    std::map<std::vector<int>, std::uint64_t> per_charge;
    for (const auto& state : exact.ice_states)
      ++per_charge[frost::asi::charges_host(lattice, state)];
    std::set<std::vector<int>> found;
    for (std::size_t i = 0; i < sectors.size(); ++i) {
      const auto& sector = sectors[i];
      EXPECT_TRUE(frost::asi::is_ice_state(lattice, sector.representative));
      EXPECT_EQ(frost::asi::charges_host(lattice, sector.representative), sector.charge);
      found.insert(sector.charge);
      const std::uint64_t in_sector = per_charge[sector.charge];
      EXPECT_EQ(result.sector_states[i], in_sector);
      EXPECT_LE(in_sector, std::uint64_t{1} << result.loops);
    }
    EXPECT_EQ(found, exact.charge_vectors);

    auto all = frost::asi::all_ice_states(lattice);
    std::sort(all.begin(), all.end());
    auto expected = exact.ice_states;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(all, expected);
  }
}

TEST(Enumerate, PinnedSmallCounts) {
  // Values established by the brute force above: periodic 3 x 3 square ice, open 2 x 2, 3 x 3.
  EXPECT_EQ(frost::asi::count_by_enumeration(frost::asi::make_square(3, "periodic")).ice_states,
            BigUint(brute_force(frost::asi::make_square(3, "periodic")).ice_states.size()));
  const auto periodic = frost::asi::all_ice_states(frost::asi::make_square(3, "periodic"));
  EXPECT_EQ(periodic.size(), 148u);
  EXPECT_EQ(frost::asi::all_ice_states(frost::asi::make_square(2, "open")).size(), 2u);
}

TEST(Enumerate, AgreesWithTransferMatrix) {
  for (const auto& [L, boundary] : std::vector<std::pair<int, std::string>>{
           {4, "open"}, {5, "open"}, {4, "periodic"}, {5, "domain_wall"}}) {
    SCOPED_TRACE(boundary + " L=" + std::to_string(L));
    EXPECT_EQ(frost::asi::count_by_enumeration(frost::asi::make_square(L, boundary)).ice_states,
              frost::asi::count_square_ice(L, boundary));
  }
}

TEST(Enumerate, DomainWallGivesAlternatingSignMatrices) {
  const std::vector<std::uint64_t> asm_counts = {1, 2, 7, 42};
  for (int L = 1; L <= 4; ++L) {
    SCOPED_TRACE(L);
    const auto result = frost::asi::count_by_enumeration(frost::asi::make_square(L, "domain_wall"));
    EXPECT_EQ(result.ice_states, BigUint(asm_counts[L - 1]));
  }
}

TEST(Enumerate, IceChargeVectorsWithZeroSumAreRealisable) {
  // Without fixed islands, an ice-rule charge vector (0 at even, +-1 at odd degree) is
  // realisable exactly when it sums to zero on every connected component.
  for (const auto& lattice :
       {frost::asi::make_square(3, "open"), frost::asi::make_square(4, "open"),
        frost::asi::make_kagome(2, "open"), frost::asi::make_brickwork(2, "open"),
        frost::asi::read_custom_lattice(write_custom_lattice())}) {
    SCOPED_TRACE(describe(lattice));
    const auto degree = lattice.degrees();
    std::vector<int> component(lattice.vertex_count(), -1);
    int components = 0;
    for (int root = 0; root < lattice.vertex_count(); ++root) {
      if (component[root] >= 0) continue;
      std::vector<int> stack{root};
      component[root] = components;
      while (!stack.empty()) {
        const int u = stack.back();
        stack.pop_back();
        for (const auto& edge : lattice.edges) {
          for (int side = 0; side < 2; ++side) {
            if (edge[side] == u && component[edge[1 - side]] < 0) {
              component[edge[1 - side]] = components;
              stack.push_back(edge[1 - side]);
            }
          }
        }
      }
      ++components;
    }
    std::vector<int> odd;
    for (int v = 0; v < lattice.vertex_count(); ++v) {
      if (degree[v] % 2) odd.push_back(v);
    }
    ASSERT_LE(odd.size(), 20u);
    std::uint64_t balanced = 0;
    for (std::uint32_t mask = 0; mask < (1u << odd.size()); ++mask) {
      std::vector<int> sum(components, 0);
      for (std::size_t i = 0; i < odd.size(); ++i)
        sum[component[odd[i]]] += (mask >> i) & 1u ? 1 : -1;
      balanced += std::all_of(sum.begin(), sum.end(), [](int s) { return s == 0; });
    }
    EXPECT_EQ(frost::asi::ice_charge_sectors(lattice).size(), balanced);
  }
}

TEST(Enumerate, GrayCodeVisitsEverySectorStateOnce) {
  for (const auto& lattice :
       {frost::asi::make_square(4, "open"), frost::asi::make_square(4, "periodic"),
        frost::asi::make_square(4, "domain_wall"), frost::asi::make_kagome(2, "open")}) {
    SCOPED_TRACE(describe(lattice));
    const auto basis = frost::asi::build_cycle_basis(lattice);
    const auto reference = frost::asi::ice_reference_state(lattice);
    const auto charge = frost::asi::charges_host(lattice, reference);
    std::set<std::vector<std::int8_t>> seen;
    frost::asi::for_each_state_in_sector(basis, reference, [&](const std::vector<std::int8_t>& s) {
      EXPECT_TRUE(frost::asi::is_ice_state(lattice, s));
      EXPECT_EQ(frost::asi::charges_host(lattice, s), charge);
      seen.insert(s);
    });
    EXPECT_GE(seen.size(), 1u);
    EXPECT_LE(seen.size(), std::size_t{1} << basis.beta1);
    // Every directed-loop reversal of a visited state is a visited state.
    for (const auto& s : seen) {
      for (int l = 0; l < basis.loop_count(); ++l) {
        if (frost::asi::loop_direction(basis, l, s) == 0) continue;
        auto next = s;
        frost::asi::flip_loop(basis, l, next);
        EXPECT_EQ(seen.count(next), 1u);
      }
    }
  }
}

TEST(Enumerate, ReferenceStateOnLargeLattices) {
  for (const auto& lattice :
       {frost::asi::make_square(50, "open"), frost::asi::make_square(50, "periodic"),
        frost::asi::make_square(30, "domain_wall"), frost::asi::make_kagome(20, "open"),
        frost::asi::make_kagome(20, "periodic"), frost::asi::make_brickwork(20, "periodic"),
        frost::asi::make_lattice("tetris", 4, "open", ""),
        frost::asi::make_lattice("santa_fe", 4, "open", ""),
        frost::asi::read_custom_lattice(write_custom_lattice())}) {
    SCOPED_TRACE(describe(lattice));
    const auto sigma = frost::asi::ice_reference_state(lattice);
    EXPECT_TRUE(frost::asi::is_ice_state(lattice, sigma));
    EXPECT_EQ(frost::asi::ice_reference_state(lattice), sigma);  // deterministic
  }
}

TEST(Enumerate, LatticeWithoutIceStates) {
  // One vertex with two fixed islands both pointing into it (charge 2, degree 2).
  Lattice lattice;
  lattice.kind = "test";
  lattice.boundary = "open";
  lattice.positions = {{0.0, 0.0}, {-1.0, 0.0}, {1.0, 0.0}, {0.0, 1.0}};
  lattice.edges = {{1, 0}, {2, 0}};
  lattice.fixed_spin = {1, 1};
  lattice.terminal = {0, 1, 1, 0};
  EXPECT_THROW(frost::asi::ice_reference_state(lattice), std::runtime_error);
  EXPECT_TRUE(frost::asi::ice_charge_sectors(lattice).empty());
  EXPECT_TRUE(frost::asi::count_by_enumeration(lattice).ice_states.is_zero());
}

/// Mode A by plain recursion over decisions (independent of the library's set-based pass).
void mode_a(const frost::asi::CycleBasis& basis, int loop, std::vector<std::int8_t>& sigma,
            std::set<std::vector<std::int8_t>>& out) {
  if (loop == basis.loop_count()) {
    out.insert(sigma);
    return;
  }
  mode_a(basis, loop + 1, sigma, out);
  if (frost::asi::loop_direction(basis, loop, sigma) != 0) {
    frost::asi::flip_loop(basis, loop, sigma);
    mode_a(basis, loop + 1, sigma, out);
    frost::asi::flip_loop(basis, loop, sigma);
  }
}

TEST(Enumerate, ReachableStates) {
  for (const auto& lattice :
       {frost::asi::make_square(3, "open"), frost::asi::make_square(4, "open"),
        frost::asi::make_square(3, "periodic"), frost::asi::make_square(4, "domain_wall"),
        frost::asi::make_kagome(2, "periodic")}) {
    SCOPED_TRACE(describe(lattice));
    const auto basis = frost::asi::build_cycle_basis(lattice);
    const auto reference = frost::asi::ice_reference_state(lattice);
    const auto result = frost::asi::reachable(lattice, reference);
    std::set<std::vector<std::int8_t>> expected;
    auto sigma = reference;
    mode_a(basis, 0, sigma, expected);
    EXPECT_EQ(result.reachable_states, expected.size());

    EXPECT_EQ(result.ice_states, frost::asi::count_by_enumeration(lattice).ice_states);
    EXPECT_LE(result.reachable_states, result.closure_states);
    EXPECT_LE(result.closure_states, result.sector_states);
    EXPECT_GE(result.reachable_states, 1u);
    // Closure by brute force: components of the sector under directed-loop reversals.
    std::map<std::vector<std::int8_t>, int> index;
    std::vector<std::vector<std::int8_t>> states;
    frost::asi::for_each_state_in_sector(basis, reference, [&](const std::vector<std::int8_t>& s) {
      index[s] = static_cast<int>(states.size());
      states.push_back(s);
    });
    std::vector<char> seen(states.size(), 0);
    std::vector<int> stack{index[reference]};
    seen[stack.back()] = 1;
    std::uint64_t closure = 0;
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      ++closure;
      for (int l = 0; l < basis.loop_count(); ++l) {
        if (frost::asi::loop_direction(basis, l, states[i]) == 0) continue;
        auto next = states[i];
        frost::asi::flip_loop(basis, l, next);
        const int j = index.at(next);
        if (!seen[j]) {
          seen[j] = 1;
          stack.push_back(j);
        }
      }
    }
    EXPECT_EQ(result.closure_states, closure);
    EXPECT_EQ(result.sector_states, states.size());
  }
}

}  // namespace
