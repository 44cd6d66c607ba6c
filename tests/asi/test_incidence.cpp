#include "asi/incidence.hpp"

#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "asi/enumerate.hpp"
#include "asi/lattice_generators.hpp"
#include "core/rng.hpp"

namespace {

using frost::asi::Lattice;

struct Case {
  std::string kind;
  int L;
  std::string boundary;
};

std::vector<Case> cases() {
  return {{"square", 1, "open"},     {"square", 4, "open"},        {"square", 3, "periodic"},
          {"square", 5, "periodic"}, {"square", 3, "domain_wall"}, {"kagome", 2, "open"},
          {"kagome", 2, "periodic"}, {"brickwork", 2, "open"},     {"brickwork", 4, "periodic"}};
}

Lattice build(const Case& c) {
  return frost::asi::make_lattice(c.kind, c.L, c.boundary, "");
}

std::string name(const Case& c) {
  return c.kind + " " + c.boundary + " L=" + std::to_string(c.L);
}

TEST(Incidence, EveryColumnHasOneHeadAndOneTail) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(name(c));
    const Lattice lattice = build(c);
    const auto csr = frost::asi::incidence_csr(lattice);
    ASSERT_EQ(csr.rows, lattice.vertex_count());
    ASSERT_EQ(csr.cols, lattice.edge_count());
    const auto degree = lattice.degrees();
    std::vector<int> plus(csr.cols, 0), minus(csr.cols, 0);
    for (int v = 0; v < csr.rows; ++v) {
      EXPECT_EQ(csr.row_map[v + 1] - csr.row_map[v], degree[v]);
      for (int k = csr.row_map[v]; k < csr.row_map[v + 1]; ++k) {
        const int e = csr.entries[k];
        if (csr.values[k] > 0) {
          EXPECT_EQ(lattice.edges[e][1], v);
          ++plus[e];
        } else {
          EXPECT_EQ(lattice.edges[e][0], v);
          ++minus[e];
        }
        if (k > csr.row_map[v]) {
          EXPECT_LT(csr.entries[k - 1], e);
        }
      }
    }
    for (int e = 0; e < csr.cols; ++e) {
      EXPECT_EQ(plus[e], 1);
      EXPECT_EQ(minus[e], 1);
    }
  }
}

TEST(Incidence, DeviceMatrixMatchesHost) {
  using Device = Kokkos::DefaultExecutionSpace::device_type;
  const Lattice lattice = frost::asi::make_square(4, "domain_wall");
  const auto csr = frost::asi::incidence_csr(lattice);
  const auto incidence = frost::asi::Incidence<Device>::create(lattice);
  EXPECT_EQ(incidence.vertex_count(), lattice.vertex_count());
  EXPECT_EQ(incidence.edge_count(), lattice.edge_count());
  auto row_map =
      Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), incidence.B1.graph.row_map);
  auto entries =
      Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), incidence.B1.graph.entries);
  auto values = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), incidence.B1.values);
  ASSERT_EQ(row_map.extent(0), csr.row_map.size());
  ASSERT_EQ(entries.extent(0), csr.entries.size());
  for (std::size_t i = 0; i < csr.row_map.size(); ++i) EXPECT_EQ(row_map(i), csr.row_map[i]);
  for (std::size_t k = 0; k < csr.entries.size(); ++k) {
    EXPECT_EQ(entries(k), csr.entries[k]);
    EXPECT_EQ(values(k), csr.values[k]);
  }
}

TEST(Incidence, ChargesKernelMatchesHostLoop) {
  using Exec = Kokkos::DefaultExecutionSpace;
  using Device = Exec::device_type;
  const int chains = 7;
  for (const auto& c : cases()) {
    SCOPED_TRACE(name(c));
    const Lattice lattice = build(c);
    const int n0 = lattice.vertex_count();
    const int n1 = lattice.edge_count();
    const auto incidence = frost::asi::Incidence<Device>::create(lattice);
    Kokkos::View<std::int8_t**, Device> states("frost::asi::test_states", chains, n1);
    Kokkos::View<int**, Device> q("frost::asi::test_charges", chains, n0);
    auto states_host = Kokkos::create_mirror_view(states);
    std::vector<std::vector<std::int8_t>> sigma(chains, std::vector<std::int8_t>(n1));
    for (int chain = 0; chain < chains; ++chain) {
      frost::core::RandomStream rng(2024, 0, chain);
      for (int e = 0; e < n1; ++e) {
        sigma[chain][e] = (rng.next_u32() & 1u) ? 1 : -1;
        states_host(chain, e) = sigma[chain][e];
      }
    }
    Kokkos::deep_copy(states, states_host);
    const Exec exec;
    frost::asi::charges(exec, incidence, states, q);
    exec.fence();
    auto q_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), q);
    for (int chain = 0; chain < chains; ++chain) {
      const auto expected = frost::asi::charges_host(lattice, sigma[chain]);
      int total = 0;
      for (int v = 0; v < n0; ++v) {
        EXPECT_EQ(q_host(chain, v), expected[v]);
        total += q_host(chain, v);
      }
      EXPECT_EQ(total, 0);  // every island adds +1 at its head and -1 at its tail
    }
  }
}

TEST(Incidence, IceRuleCheck) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(name(c));
    const Lattice lattice = build(c);
    auto sigma = frost::asi::ice_reference_state(lattice);
    EXPECT_TRUE(frost::asi::is_ice_state(lattice, sigma));
    const auto degree = lattice.degrees();
    // Reversing one free island between two even-degree, non-terminal vertices moves both
    // charges by 2 and must break the ice rule.
    for (int e = 0; e < lattice.edge_count(); ++e) {
      const int a = lattice.edges[e][0];
      const int b = lattice.edges[e][1];
      if (lattice.fixed_spin[e] != 0 || lattice.terminal[a] || lattice.terminal[b]) continue;
      if (degree[a] % 2 != 0 || degree[b] % 2 != 0) continue;
      sigma[e] = static_cast<std::int8_t>(-sigma[e]);
      EXPECT_FALSE(frost::asi::is_ice_state(lattice, sigma));
      sigma[e] = static_cast<std::int8_t>(-sigma[e]);
    }
    // A fixed island set against its boundary value is never an ice state.
    for (int e = 0; e < lattice.edge_count(); ++e) {
      if (lattice.fixed_spin[e] == 0) continue;
      sigma[e] = static_cast<std::int8_t>(-sigma[e]);
      EXPECT_FALSE(frost::asi::is_ice_state(lattice, sigma));
      sigma[e] = static_cast<std::int8_t>(-sigma[e]);
    }
  }
}

}  // namespace
