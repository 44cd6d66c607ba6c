#include "asi/cycle_basis.hpp"

#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "asi/directed_cycles.hpp"
#include "asi/enumerate.hpp"
#include "asi/incidence.hpp"
#include "asi/lattice_generators.hpp"
#include "core/rng.hpp"

namespace {

using frost::asi::CycleBasis;
using frost::asi::CycleBasisSource;
using frost::asi::Lattice;

/// A custom lattice: a square with a diagonal (two triangles), a pendant island and a separate
/// triangle; 3 independent cycles, 2 components.
std::string write_custom_lattice() {
  const std::string path = ::testing::TempDir() + "frost_cycle_basis_custom.txt";
  std::ofstream out(path);
  out << "v 0 0\nv 1 0\nv 1 1\nv 0 1\nv 2 2\n"  // vertices 0..4
      << "e 0 1\ne 1 2\ne 2 3\ne 3 0\ne 0 2\ne 2 4\n"
      << "v 5 0\nv 6 0\nv 5.5 1\n"  // vertices 5..7
      << "e 5 6\ne 6 7\ne 7 5\n";
  return path;
}

struct Expected {
  Lattice lattice;
  int beta1;  // closed form, or -1 when only the formula applies
  CycleBasisSource source;
};

std::vector<Expected> lattices() {
  std::vector<Expected> list;
  for (int L = 1; L <= 5; ++L) {
    list.push_back(
        {frost::asi::make_square(L, "open"), (L - 1) * (L - 1), CycleBasisSource::faces});
    list.push_back(
        {frost::asi::make_square(L, "domain_wall"), (L - 1) * (L - 1), CycleBasisSource::faces});
  }
  for (int L = 3; L <= 5; ++L) {
    list.push_back(
        {frost::asi::make_square(L, "periodic"), L * L + 1, CycleBasisSource::faces_and_windings});
  }
  for (int L = 1; L <= 3; ++L) {
    list.push_back({frost::asi::make_kagome(L, "open"), L * L, CycleBasisSource::faces});
    list.push_back({frost::asi::make_brickwork(L, "open"), L * L, CycleBasisSource::faces});
  }
  list.push_back({frost::asi::make_kagome(2, "periodic"), 5, CycleBasisSource::faces_and_windings});
  list.push_back(
      {frost::asi::make_kagome(4, "periodic"), 17, CycleBasisSource::faces_and_windings});
  list.push_back(
      {frost::asi::make_brickwork(4, "periodic"), 17, CycleBasisSource::faces_and_windings});
  for (const std::string kind : {"tetris", "shakti", "santa_fe"}) {
    for (int L = 1; L <= 2; ++L) {
      list.push_back({frost::asi::make_lattice(kind, L, "open", ""), -1, CycleBasisSource::faces});
    }
  }
  list.push_back({frost::asi::read_custom_lattice(write_custom_lattice()), 3,
                  CycleBasisSource::spanning_tree});
  return list;
}

std::string describe(const Lattice& lattice) {
  return lattice.kind + " " + lattice.boundary + " n0=" + std::to_string(lattice.vertex_count()) +
         " n1=" + std::to_string(lattice.edge_count());
}

TEST(CycleBasis, Beta1FormulaRankAndLoops) {
  for (const auto& item : lattices()) {
    const Lattice& lattice = item.lattice;
    SCOPED_TRACE(describe(lattice));
    const auto dim = frost::asi::cycle_space_dimension(lattice);
    int free_edges = 0;
    int vertices = 0;
    for (int e = 0; e < lattice.edge_count(); ++e) free_edges += lattice.fixed_spin[e] == 0;
    for (int v = 0; v < lattice.vertex_count(); ++v) vertices += lattice.terminal[v] == 0;
    EXPECT_EQ(dim.free_edges, free_edges);
    EXPECT_EQ(dim.vertices, vertices);
    EXPECT_EQ(dim.beta1, free_edges - vertices + dim.components);
    if (item.beta1 >= 0) {
      EXPECT_EQ(dim.beta1, item.beta1);
    }

    const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
    if (dim.beta1 > 0) {  // an empty basis may come from either source
      EXPECT_EQ(basis.source, item.source) << frost::asi::to_string(basis.source);
    }
    EXPECT_EQ(basis.beta1, dim.beta1);
    ASSERT_EQ(basis.loop_count(), dim.beta1);
    EXPECT_EQ(frost::asi::gf2_rank(basis), static_cast<std::size_t>(dim.beta1));
    if (basis.source == CycleBasisSource::faces_and_windings) {
      EXPECT_EQ(basis.dropped_face, static_cast<int>(lattice.faces.size()) - 1);
      EXPECT_EQ(basis.winding_count, 2);
    }
    // Every loop is an oriented cycle: it enters each vertex as often as it leaves it, uses an
    // island at most once and no fixed island; the compressed form lists the same loops.
    ASSERT_EQ(basis.offsets.size(), basis.loops.size() + 1);
    for (int l = 0; l < basis.loop_count(); ++l) {
      const auto& loop = basis.loops[l];
      ASSERT_EQ(loop.edges.size(), loop.orientation.size());
      ASSERT_EQ(basis.offsets[l + 1] - basis.offsets[l], static_cast<int>(loop.edges.size()));
      std::vector<int> balance(lattice.vertex_count(), 0);
      std::vector<int> uses(lattice.edge_count(), 0);
      for (std::size_t k = 0; k < loop.edges.size(); ++k) {
        const int e = loop.edges[k];
        EXPECT_EQ(basis.edges[basis.offsets[l] + k], e);
        EXPECT_EQ(basis.orientation[basis.offsets[l] + k], loop.orientation[k]);
        EXPECT_EQ(lattice.fixed_spin[e], 0);
        ++uses[e];
        balance[lattice.edges[e][1]] += loop.orientation[k];
        balance[lattice.edges[e][0]] -= loop.orientation[k];
      }
      for (int e = 0; e < lattice.edge_count(); ++e) EXPECT_LE(uses[e], 1);
      for (int v = 0; v < lattice.vertex_count(); ++v) EXPECT_EQ(balance[v], 0) << "loop " << l;
    }
  }
}

TEST(CycleBasis, SpanningTreeLoopsStartWithTheirNonTreeEdge) {
  const Lattice lattice = frost::asi::read_custom_lattice(write_custom_lattice());
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  ASSERT_EQ(basis.source, CycleBasisSource::spanning_tree);
  EXPECT_EQ(basis.components, 2);
  int previous = -1;
  for (const auto& loop : basis.loops) {
    EXPECT_GT(loop.edges.front(), previous);
    EXPECT_EQ(loop.orientation.front(), +1);
    previous = loop.edges.front();
  }
}

/// The plain host loop the kernel is checked against.
std::uint8_t host_directed(const CycleBasis& basis, const Lattice& lattice, int loop,
                           const std::vector<std::int8_t>& sigma) {
  int first = 0;
  for (int k = basis.offsets[loop]; k < basis.offsets[loop + 1]; ++k) {
    const int e = basis.edges[k];
    if (lattice.fixed_spin[e] != 0) return 0;
    const int value = sigma[e] * basis.orientation[k];
    if (k == basis.offsets[loop]) first = value;
    if (value != first) return 0;
  }
  return first > 0 ? 1 : first < 0 ? 2 : 0;
}

TEST(DirectedCycles, KernelMatchesHostLoop) {
  using Exec = Kokkos::DefaultExecutionSpace;
  using Memory = Exec::memory_space;
  const std::vector<Lattice> cases = {
      frost::asi::make_square(3, "open"), frost::asi::make_square(4, "periodic"),
      frost::asi::make_square(3, "domain_wall"), frost::asi::make_kagome(2, "periodic"),
      frost::asi::read_custom_lattice(write_custom_lattice())};
  for (const auto& lattice : cases) {
    SCOPED_TRACE(describe(lattice));
    const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
    const auto device_basis = frost::asi::DeviceCycleBasis<Memory>::create(basis, lattice);
    // Batch: every ice state of small sectors (many directed loops) plus random states.
    std::vector<std::vector<std::int8_t>> batch;
    const auto reference = frost::asi::ice_reference_state(lattice);
    int taken = 0;
    frost::asi::for_each_state_in_sector(basis, reference, [&](const auto& s) {
      if (taken++ < 256) batch.push_back(s);
    });
    for (int chain = 0; chain < 32; ++chain) {
      frost::core::RandomStream rng(7, 1, chain);
      std::vector<std::int8_t> s(lattice.edge_count());
      for (auto& x : s) x = (rng.next_u32() & 1u) ? 1 : -1;
      batch.push_back(s);
    }
    const int chains = static_cast<int>(batch.size());
    Kokkos::View<std::int8_t**, Memory> states("frost::asi::test_states", chains,
                                               lattice.edge_count());
    Kokkos::View<std::uint8_t**, Memory> directed("frost::asi::test_directed", chains,
                                                  basis.loop_count());
    auto states_host = Kokkos::create_mirror_view(states);
    for (int c = 0; c < chains; ++c) {
      for (int e = 0; e < lattice.edge_count(); ++e) states_host(c, e) = batch[c][e];
    }
    Kokkos::deep_copy(states, states_host);
    const Exec exec;
    frost::asi::directed_cycles(exec, device_basis, states, directed);
    exec.fence();
    auto directed_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), directed);
    int directed_count = 0;
    for (int c = 0; c < chains; ++c) {
      for (int l = 0; l < basis.loop_count(); ++l) {
        const auto expected = host_directed(basis, lattice, l, batch[c]);
        EXPECT_EQ(directed_host(c, l), expected) << "chain " << c << " loop " << l;
        directed_count += expected != 0;
        const int direction = frost::asi::loop_direction(basis, l, batch[c]);
        EXPECT_EQ(direction == 1 ? 1 : direction == -1 ? 2 : 0, expected);
      }
    }
    if (basis.loop_count() > 0) {
      EXPECT_GT(directed_count, 0);
    }
  }
}

}  // namespace
