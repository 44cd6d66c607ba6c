#include "core/bigint.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using frost::core::BigUint;
using u128 = unsigned __int128;

// Reference decimal conversion of a 128-bit value, written independently of BigUint.
std::string u128_string(u128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v != 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return s;
}

u128 random_u128(std::mt19937_64& rng, int bits) {
  u128 v = (static_cast<u128>(rng()) << 64) | rng();
  return bits >= 128 ? v : v & ((static_cast<u128>(1) << bits) - 1);
}

TEST(BigUint, ZeroAndSmallValues) {
  EXPECT_EQ(BigUint().to_string(), "0");
  EXPECT_TRUE(BigUint(0).is_zero());
  EXPECT_EQ(BigUint(1).to_string(), "1");
  EXPECT_EQ(BigUint(UINT64_MAX).to_string(), "18446744073709551615");
  EXPECT_EQ(BigUint(UINT64_MAX).to_u64(), UINT64_MAX);
  EXPECT_EQ(BigUint(0).bit_length(), 0u);
  EXPECT_EQ(BigUint(1u << 20).bit_length(), 21u);
}

TEST(BigUint, ArithmeticMatches128BitIntegers) {
  std::mt19937_64 rng(12345);
  for (int trial = 0; trial < 2000; ++trial) {
    const int bits_a = 1 + static_cast<int>(rng() % 126);
    const int bits_b = 1 + static_cast<int>(rng() % 126);
    const u128 a = random_u128(rng, bits_a), b = random_u128(rng, bits_b);  // a + b < 2^127
    const BigUint A = BigUint::from_u128(a), B = BigUint::from_u128(b);
    EXPECT_EQ((A + B).to_string(), u128_string(a + b));
    BigUint C = A;
    C += B;
    EXPECT_EQ(C, BigUint::from_u128(a + b));
    EXPECT_EQ(A < B, a < b);
    EXPECT_EQ(A == B, a == b);
    EXPECT_EQ(A <= B, a <= b);

    const std::uint64_t x = rng() >> (rng() % 64), y = rng() >> (rng() % 64);
    const u128 x64 = x;
    EXPECT_EQ(BigUint(x) * y, BigUint::from_u128(x64 * y));
    EXPECT_EQ(BigUint(x) * BigUint(y), BigUint::from_u128(x64 * y));
    const u128 small = random_u128(rng, 60);
    EXPECT_EQ(BigUint::from_u128(small) * x, BigUint::from_u128(small * x));
  }
}

TEST(BigUint, DecimalRoundTrip) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 500; ++trial) {
    const u128 a = random_u128(rng, 1 + static_cast<int>(rng() % 128));
    const std::string s = u128_string(a);
    EXPECT_EQ(BigUint::from_string(s), BigUint::from_u128(a));
    EXPECT_EQ(BigUint::from_string(s).to_string(), s);
  }
  // Long numbers with zero runs exercise the base-10^9 chunk padding.
  const std::string long_number =
      "1000000000000000000000000000000000000000000000000000000000000007";
  EXPECT_EQ(BigUint::from_string(long_number).to_string(), long_number);
  EXPECT_EQ(BigUint::from_string("000123").to_string(), "123");
  EXPECT_THROW(BigUint::from_string(""), std::invalid_argument);
  EXPECT_THROW(BigUint::from_string("12a3"), std::invalid_argument);
  EXPECT_THROW(BigUint::from_string("-5"), std::invalid_argument);
}

TEST(BigUint, Factorials) {
  BigUint f(1);
  for (std::uint64_t k = 2; k <= 30; ++k) f *= k;
  EXPECT_EQ(f.to_string(), "265252859812191058636308480000000");

  BigUint g(1);
  for (std::uint64_t k = 2; k <= 100; ++k) g *= BigUint(k);  // BigUint x BigUint path
  const std::string s = g.to_string();
  EXPECT_EQ(s.size(), 158u);
  EXPECT_EQ(s.substr(0, 20), "93326215443944152681");
  EXPECT_EQ(s.substr(s.size() - 24), std::string(24, '0'));
  EXPECT_NEAR(g.log(), std::lgamma(101.0), 1e-12 * std::lgamma(101.0));
  EXPECT_NEAR(g.to_double() / std::tgamma(101.0), 1.0, 1e-14);
}

TEST(BigUint, SquareOfFactorialViaSchoolbook) {
  BigUint f(1);
  for (std::uint64_t k = 2; k <= 30; ++k) f *= k;
  // (30!)^2, checked against the product computed digit by digit in decimal.
  const std::string a = f.to_string();
  std::vector<int> digits(2 * a.size(), 0);
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < a.size(); ++j) {
      digits[i + j + 1] += (a[i] - '0') * (a[j] - '0');
    }
  }
  for (std::size_t k = digits.size(); k-- > 1;) {
    digits[k - 1] += digits[k] / 10;
    digits[k] %= 10;
  }
  std::string expected;
  for (int d : digits) {
    if (!expected.empty() || d != 0) expected += static_cast<char>('0' + d);
  }
  EXPECT_EQ((f * f).to_string(), expected);
}

TEST(BigUint, LogBeyondDoubleRange) {
  BigUint p(1);
  for (int i = 0; i < 50; ++i) p *= std::uint64_t(1) << 40;  // 2^2000
  EXPECT_EQ(p.bit_length(), 2001u);
  EXPECT_NEAR(p.log(), 2000.0 * std::log(2.0), 1e-12);
  EXPECT_TRUE(std::isinf(p.to_double()));
  EXPECT_TRUE(std::isinf(BigUint(0).log()));
  EXPECT_THROW(p.to_u64(), std::overflow_error);
}

TEST(BigUint, AdditionCarriesAcrossManyLimbs) {
  BigUint all_ones = BigUint::from_string("340282366920938463463374607431768211455");  // 2^128-1
  all_ones += BigUint(1);
  EXPECT_EQ(all_ones.to_string(), "340282366920938463463374607431768211456");
  EXPECT_EQ(all_ones.limbs().size(), 5u);
}

}  // namespace
