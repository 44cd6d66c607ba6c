#include "asi/alpha_recovery.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "asi/enumerate.hpp"
#include "asi/gf2.hpp"
#include "asi/lattice_generators.hpp"
#include "core/rng.hpp"

namespace {

using frost::asi::AlphaEliminator;
using frost::asi::AlphaPeeler;
using frost::asi::CycleBasis;
using frost::asi::Lattice;
namespace gf2 = frost::asi::gf2;

gf2::BitVector random_vector(frost::core::RandomStream& rng, std::size_t n) {
  gf2::BitVector v(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (rng.next_u32() & 1u) v.set(i);
  }
  return v;
}

TEST(Gf2, BitVectorBasics) {
  gf2::BitVector v(130);
  EXPECT_FALSE(v.any());
  EXPECT_EQ(v.lowest_set(), -1);
  v.set(129);
  v.set(64);
  v.flip(3);
  EXPECT_TRUE(v.get(129));
  EXPECT_TRUE(v.get(64));
  EXPECT_TRUE(v.get(3));
  EXPECT_FALSE(v.get(4));
  EXPECT_EQ(v.count(), 3u);
  EXPECT_EQ(v.lowest_set(), 3);
  EXPECT_EQ(v.words().size(), 3u);
  gf2::BitVector w = v;
  w ^= v;
  EXPECT_FALSE(w.any());
  v.set(3, false);
  EXPECT_EQ(v.lowest_set(), 64);
  EXPECT_THROW(w ^= gf2::BitVector(5), std::invalid_argument);
}

TEST(Gf2, RankOfKnownSets) {
  gf2::BitVector a(70), b(70), c(70);
  a.set(0);
  a.set(69);
  b.set(69);
  c.set(0);  // c = a + b
  EXPECT_EQ(gf2::rank({a, b, c}), 2u);
  EXPECT_EQ(gf2::rank({a, b}), 2u);
  EXPECT_EQ(gf2::rank({gf2::BitVector(70)}), 0u);
  std::vector<gf2::BitVector> identity;
  for (int i = 0; i < 100; ++i) {
    identity.emplace_back(100);
    identity.back().set(i);
  }
  EXPECT_EQ(gf2::rank(identity), 100u);
}

TEST(Gf2, SolverAgreesWithBruteForce) {
  frost::core::RandomStream rng(11, 0, 0);
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t n = 5 + rng.below(90);
    const std::size_t k = 1 + rng.below(10);
    std::vector<gf2::BitVector> columns;
    for (std::size_t j = 0; j < k; ++j) columns.push_back(random_vector(rng, n));
    if (trial % 4 == 0 && k >= 2) {  // make a dependent column
      columns[k - 1] = columns[0];
      columns[k - 1] ^= columns[1];
    }
    const gf2::LinearSolver solver(columns);
    EXPECT_EQ(solver.rank(), gf2::rank(columns));
    // Half the right-hand sides lie in the column space, half are random.
    gf2::BitVector d(n);
    if (trial % 2 == 0) {
      for (std::size_t j = 0; j < k; ++j) {
        if (rng.next_u32() & 1u) d ^= columns[j];
      }
    } else {
      d = random_vector(rng, n);
    }
    bool solvable = false;
    for (std::uint32_t mask = 0; mask < (1u << k); ++mask) {
      gf2::BitVector image(n);
      for (std::size_t j = 0; j < k; ++j) {
        if ((mask >> j) & 1u) image ^= columns[j];
      }
      solvable = solvable || image == d;
    }
    const auto x = solver.solve(d);
    ASSERT_EQ(x.has_value(), solvable);
    if (x) {
      gf2::BitVector image(n);
      for (std::size_t j = 0; j < k; ++j) {
        if (x->get(j)) image ^= columns[j];
      }
      EXPECT_EQ(image, d);
    }
  }
}

std::string write_custom_lattice() {
  const std::string path = ::testing::TempDir() + "frost_alpha_custom.txt";
  std::ofstream out(path);
  // A 3 x 3 grid with both diagonals of the centre square missing and one extra chord.
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) out << "v " << c << " " << r << "\n";
  }
  out << "e 0 1\ne 1 2\ne 3 4\ne 4 5\ne 6 7\ne 7 8\ne 0 3\ne 3 6\ne 1 4\ne 4 7\ne 2 5\ne 5 8\n"
      << "e 0 4\ne 2 4\n";
  return path;
}

std::vector<Lattice> lattices() {
  return {frost::asi::make_square(2, "open"),
          frost::asi::make_square(3, "open"),
          frost::asi::make_square(6, "open"),
          frost::asi::make_square(3, "periodic"),
          frost::asi::make_square(6, "periodic"),
          frost::asi::make_square(4, "domain_wall"),
          frost::asi::make_kagome(3, "open"),
          frost::asi::make_kagome(2, "periodic"),
          frost::asi::make_kagome(4, "periodic"),
          frost::asi::make_brickwork(4, "periodic"),
          frost::asi::make_lattice("shakti", 1, "open", ""),
          frost::asi::read_custom_lattice(write_custom_lattice())};
}

std::vector<std::uint8_t> random_alpha(frost::core::RandomStream& rng, int n) {
  std::vector<std::uint8_t> alpha(n);
  for (auto& a : alpha) a = rng.next_u32() & 1u;
  return alpha;
}

TEST(AlphaRecovery, RoundTripBothMethods) {
  for (const auto& lattice : lattices()) {
    SCOPED_TRACE(lattice.kind + " " + lattice.boundary +
                 " n1=" + std::to_string(lattice.edge_count()));
    const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
    const AlphaPeeler peeler(lattice, basis);
    const AlphaEliminator eliminator(basis);
    EXPECT_EQ(eliminator.solver().rank(), static_cast<std::size_t>(basis.beta1));
    const auto sigma = frost::asi::ice_reference_state(lattice);
    frost::core::RandomStream rng(5, 0, static_cast<std::uint32_t>(lattice.edge_count()));
    for (int trial = 0; trial < 20; ++trial) {
      const auto alpha = random_alpha(rng, basis.loop_count());
      const auto sigma_prime = frost::asi::apply_alpha(basis, sigma, alpha);
      EXPECT_EQ(peeler.recover(sigma, sigma_prime), alpha);
      EXPECT_EQ(eliminator.recover(sigma, sigma_prime), alpha);
      // Recovery only sees which islands differ, so it works from any start state.
      EXPECT_EQ(peeler.recover(sigma_prime, sigma), alpha);
    }
  }
}

TEST(AlphaRecovery, MatchesBruteForceOnTinyLattices) {
  for (const auto& lattice :
       {frost::asi::make_square(3, "open"), frost::asi::make_square(3, "periodic"),
        frost::asi::make_kagome(2, "periodic")}) {
    SCOPED_TRACE(lattice.kind + " " + lattice.boundary);
    const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
    ASSERT_LE(basis.beta1, 12);
    const AlphaPeeler peeler(lattice, basis);
    const AlphaEliminator eliminator(basis);
    const auto sigma = frost::asi::ice_reference_state(lattice);
    // Every alpha, recovered by both methods, and no other alpha maps to the same state.
    const std::uint32_t total = 1u << basis.beta1;
    std::vector<std::vector<std::int8_t>> images;
    for (std::uint32_t mask = 0; mask < total; ++mask) {
      std::vector<std::uint8_t> alpha(basis.beta1);
      for (int l = 0; l < basis.beta1; ++l) alpha[l] = (mask >> l) & 1u;
      images.push_back(frost::asi::apply_alpha(basis, sigma, alpha));
    }
    for (std::uint32_t mask = 0; mask < total; mask += 7) {
      int matches = 0;
      std::uint32_t found = 0;
      for (std::uint32_t other = 0; other < total; ++other) {
        if (images[other] == images[mask]) {
          ++matches;
          found = other;
        }
      }
      ASSERT_EQ(matches, 1);
      const auto by_peeling = peeler.recover(sigma, images[mask]);
      const auto by_elimination = eliminator.recover(sigma, images[mask]);
      for (int l = 0; l < basis.beta1; ++l) {
        EXPECT_EQ(by_peeling[l], (found >> l) & 1u);
        EXPECT_EQ(by_elimination[l], (found >> l) & 1u);
      }
    }
  }
}

TEST(AlphaRecovery, RejectsStatesOfDifferentSectors) {
  const Lattice lattice = frost::asi::make_square(4, "periodic");
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  const AlphaPeeler peeler(lattice, basis);
  const AlphaEliminator eliminator(basis);
  const auto sigma = frost::asi::ice_reference_state(lattice);
  auto other = sigma;
  other[0] = static_cast<std::int8_t>(-other[0]);  // one island: not a cycle
  EXPECT_THROW(peeler.recover(sigma, other), std::invalid_argument);
  EXPECT_THROW(eliminator.recover(sigma, other), std::invalid_argument);
  EXPECT_THROW(peeler.recover(sigma, std::vector<std::int8_t>(3, 1)), std::invalid_argument);
}

TEST(AlphaRecovery, EliminationHandlesBasesThatDoNotPeel) {
  // Loops l_i + l_{i+1} (i < beta1 - 1) and the last face: still a basis, but every boundary
  // island of the open lattice now lies on two loops, so peeling finds no start.
  const Lattice lattice = frost::asi::make_square(4, "open");
  CycleBasis faces = frost::asi::build_cycle_basis(lattice);
  CycleBasis mixed = faces;
  mixed.loops.clear();
  for (int l = 0; l < faces.loop_count(); ++l) {
    std::vector<int> count(lattice.edge_count(), 0);
    for (int e : faces.loops[l].edges) ++count[e];
    if (l + 1 < faces.loop_count()) {
      for (int e : faces.loops[l + 1].edges) ++count[e];
    }
    frost::asi::OrientedLoop loop;
    for (int e = 0; e < lattice.edge_count(); ++e) {
      if (count[e] % 2 == 1) {
        loop.edges.push_back(e);
        loop.orientation.push_back(1);
      }
    }
    mixed.loops.push_back(loop);
  }
  mixed.offsets.assign(1, 0);
  mixed.edges.clear();
  mixed.orientation.clear();
  for (const auto& loop : mixed.loops) {
    for (std::size_t k = 0; k < loop.edges.size(); ++k) {
      mixed.edges.push_back(loop.edges[k]);
      mixed.orientation.push_back(1);
    }
    mixed.offsets.push_back(static_cast<int>(mixed.edges.size()));
  }
  ASSERT_EQ(frost::asi::gf2_rank(mixed), static_cast<std::size_t>(mixed.beta1));
  const AlphaEliminator eliminator(mixed);
  const auto sigma = frost::asi::ice_reference_state(lattice);
  frost::core::RandomStream rng(3, 0, 0);
  for (int trial = 0; trial < 10; ++trial) {
    const auto alpha = random_alpha(rng, mixed.loop_count());
    const auto sigma_prime = frost::asi::apply_alpha(mixed, sigma, alpha);
    EXPECT_EQ(eliminator.recover(sigma, sigma_prime), alpha);
  }
}

}  // namespace
