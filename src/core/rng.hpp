// Counter-based random numbers: Philox-4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random
// numbers: as easy as 1, 2, 3", SC'11). A stream is keyed by (seed, run, chain) and indexed by a
// 64-bit draw counter, so every number is a pure function of ids: the same on any rank count,
// backend or thread schedule, and after a restart that restores the counter.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace frost::core {

/// One Philox-4x32 block: 128-bit counter, 64-bit key.
struct PhiloxBlock {
  std::uint32_t v[4];
};

/// Philox-4x32 with `Rounds` rounds applied to counter `ctr` under key (k0, k1).
template <int Rounds = 10>
KOKKOS_INLINE_FUNCTION PhiloxBlock philox4x32(PhiloxBlock ctr, std::uint32_t k0, std::uint32_t k1) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int r = 0; r < Rounds; ++r) {
    if (r > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const std::uint64_t p0 = static_cast<std::uint64_t>(kM0) * ctr.v[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(kM1) * ctr.v[2];
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32),
                        lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32),
                        lo1 = static_cast<std::uint32_t>(p1);
    ctr = PhiloxBlock{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

/// A random stream keyed by (seed, run, chain). Draw d of the stream is word (d mod 4) of the
/// Philox block with counter (d/4 low, d/4 high, chain, run) and key (seed low, seed high).
/// The stream's whole state is `counter`, so saving it in a checkpoint restores the stream.
class RandomStream {
 public:
  RandomStream() = default;
  KOKKOS_INLINE_FUNCTION RandomStream(std::uint64_t seed, std::uint32_t run, std::uint32_t chain,
                                      std::uint64_t counter = 0)
      : k0_(static_cast<std::uint32_t>(seed)),
        k1_(static_cast<std::uint32_t>(seed >> 32)),
        run_(run),
        chain_(chain),
        counter_(counter) {}

  /// Next 32 random bits.
  KOKKOS_INLINE_FUNCTION std::uint32_t next_u32() {
    const std::uint64_t block = counter_ >> 2;
    const int word = static_cast<int>(counter_ & 3u);
    if (block != cached_block_ || !cache_valid_) {
      cache_ = philox4x32<10>(PhiloxBlock{{static_cast<std::uint32_t>(block),
                                           static_cast<std::uint32_t>(block >> 32), chain_, run_}},
                              k0_, k1_);
      cached_block_ = block;
      cache_valid_ = true;
    }
    ++counter_;
    return cache_.v[word];
  }
  /// Next 64 random bits.
  KOKKOS_INLINE_FUNCTION std::uint64_t next_u64() {
    const std::uint64_t hi = next_u32();
    return (hi << 32) | next_u32();
  }
  /// Uniform double in [0, 1) with 53 random bits.
  KOKKOS_INLINE_FUNCTION double uniform() { return (next_u64() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 for n < 2^32 is
  /// removed by rejection).
  KOKKOS_INLINE_FUNCTION std::uint32_t below(std::uint32_t n) {
    std::uint64_t m = static_cast<std::uint64_t>(next_u32()) * n;
    std::uint32_t low = static_cast<std::uint32_t>(m);
    if (low < n) {
      const std::uint32_t threshold = static_cast<std::uint32_t>(-n) % n;
      while (low < threshold) {
        m = static_cast<std::uint64_t>(next_u32()) * n;
        low = static_cast<std::uint32_t>(m);
      }
    }
    return static_cast<std::uint32_t>(m >> 32);
  }
  KOKKOS_INLINE_FUNCTION std::uint64_t counter() const { return counter_; }

 private:
  std::uint32_t k0_ = 0, k1_ = 0, run_ = 0, chain_ = 0;
  std::uint64_t counter_ = 0;
  std::uint64_t cached_block_ = 0;
  bool cache_valid_ = false;
  PhiloxBlock cache_{{0, 0, 0, 0}};
};

}  // namespace frost::core
