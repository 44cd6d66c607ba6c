#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <vector>

#include "core/rng.hpp"

using frost::core::philox4x32;
using frost::core::PhiloxBlock;
using frost::core::RandomStream;

// Known-answer vectors published with the Philox reference implementation (Random123,
// kat_vectors: philox4x32 10 rounds).
TEST(Philox, KnownAnswerVectors) {
  struct Kat {
    PhiloxBlock ctr;
    std::uint32_t k0, k1;
    PhiloxBlock out;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
      {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
       0xffffffffu,
       0xffffffffu,
       {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
      {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
       0xa4093822u,
       0x299f31d0u,
       {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
  };
  for (const auto& k : kats) {
    PhiloxBlock got = philox4x32<10>(k.ctr, k.k0, k.k1);
    for (int w = 0; w < 4; ++w) EXPECT_EQ(got.v[w], k.out.v[w]) << "word " << w;
  }
}

TEST(RandomStream, RestartFromCounterReproducesTheStream) {
  RandomStream a(42, 3, 7);
  std::vector<std::uint32_t> first;
  for (int i = 0; i < 37; ++i) first.push_back(a.next_u32());
  RandomStream b(42, 3, 7, 13);  // resumed at draw 13
  for (int i = 13; i < 37; ++i) EXPECT_EQ(b.next_u32(), first[i]);
}

TEST(RandomStream, StreamsDifferByRunAndChain) {
  RandomStream a(1, 0, 0), b(1, 0, 1), c(1, 1, 0), d(2, 0, 0);
  int same_ab = 0, same_ac = 0, same_ad = 0;
  for (int i = 0; i < 64; ++i) {
    auto x = a.next_u32();
    same_ab += x == b.next_u32();
    same_ac += x == c.next_u32();
    same_ad += x == d.next_u32();
  }
  EXPECT_LT(same_ab + same_ac + same_ad, 3);
}

TEST(RandomStream, UniformMomentsAndBelowRange) {
  RandomStream s(7, 0, 0);
  const int n = 200000;
  double sum = 0, sum2 = 0;
  std::vector<int> hist(6, 0);
  for (int i = 0; i < n; ++i) {
    double u = s.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum2 += u * u;
    auto k = s.below(6);
    ASSERT_LT(k, 6u);
    ++hist[k];
  }
  EXPECT_NEAR(sum / n, 0.5, 4 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(sum2 / n, 1.0 / 3, 0.005);
  double chi2 = 0;
  for (int h : hist) chi2 += (h - n / 6.0) * (h - n / 6.0) / (n / 6.0);
  EXPECT_LT(chi2, 20.5);  // 5 degrees of freedom, p ~ 0.001
}

// The same draws come out of a device kernel as from host code: the stream is a pure function of
// its ids and counter.
// A free function: CUDA device lambdas cannot live in a test body (a private member function).
Kokkos::View<std::uint32_t**> kernel_draws(int chains, int draws) {
  Kokkos::View<std::uint32_t**> out("frost::test::rng", chains, draws);
  Kokkos::parallel_for(
      "frost::test::rng_draws", Kokkos::RangePolicy<>(0, chains), KOKKOS_LAMBDA(int c) {
        RandomStream s(99, 5, static_cast<std::uint32_t>(c));
        for (int d = 0; d < draws; ++d) out(c, d) = s.next_u32();
      });
  return out;
}

TEST(RandomStream, KernelMatchesHost) {
  const int chains = 16, draws = 10;
  const auto out = kernel_draws(chains, draws);
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  for (int c = 0; c < chains; ++c) {
    RandomStream s(99, 5, static_cast<std::uint32_t>(c));
    for (int d = 0; d < draws; ++d) EXPECT_EQ(host(c, d), s.next_u32());
  }
}
