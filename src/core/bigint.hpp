// Arbitrary-precision unsigned integers, used for exact state counts that overflow 128 bits.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace frost::core {

/// Arbitrary-precision unsigned integer.
/// Invariant: limbs_ holds the value in base 2^32, least significant limb first, with no
/// leading (most significant) zero limbs; zero is the empty vector. All operations are exact.
class BigUint {
 public:
  /// Zero, or the value of a 64-bit integer.
  BigUint(std::uint64_t value = 0);  // NOLINT(google-explicit-constructor): numeric literal use

  /// The value of a 128-bit unsigned integer.
  static BigUint from_u128(unsigned __int128 value);

  /// Parses a non-empty string of decimal digits (no sign, no spaces).
  /// Throws std::invalid_argument on any other character or on an empty string.
  static BigUint from_string(const std::string& decimal);

  /// Decimal representation without leading zeros ("0" for zero).
  std::string to_string() const;

  /// Nearest double (approximately; correct to about 1 ulp), +infinity beyond the double range.
  double to_double() const;

  /// Natural logarithm, accurate to about 1e-15 relative even when the value exceeds the double
  /// range. Returns -infinity for zero.
  double log() const;

  /// Number of significant bits (0 for zero).
  std::size_t bit_length() const;

  bool is_zero() const { return limbs_.empty(); }

  /// The value when it fits in 64 bits; throws std::overflow_error otherwise.
  std::uint64_t to_u64() const;

  BigUint& operator+=(const BigUint& other);
  BigUint& operator*=(std::uint64_t factor);
  BigUint& operator*=(const BigUint& other);

  /// Divides in place by a non-zero 32-bit divisor and returns the remainder.
  std::uint32_t divmod_small(std::uint32_t divisor);

  friend BigUint operator+(BigUint a, const BigUint& b) { return a += b; }
  friend BigUint operator*(BigUint a, std::uint64_t b) { return a *= b; }
  friend BigUint operator*(std::uint64_t a, BigUint b) { return b *= a; }
  friend BigUint operator*(const BigUint& a, const BigUint& b);

  friend bool operator==(const BigUint& a, const BigUint& b) { return a.limbs_ == b.limbs_; }
  friend bool operator!=(const BigUint& a, const BigUint& b) { return !(a == b); }
  friend bool operator<(const BigUint& a, const BigUint& b);
  friend bool operator>(const BigUint& a, const BigUint& b) { return b < a; }
  friend bool operator<=(const BigUint& a, const BigUint& b) { return !(b < a); }
  friend bool operator>=(const BigUint& a, const BigUint& b) { return !(a < b); }

  /// Limbs in base 2^32, least significant first (read-only view of the representation).
  const std::vector<std::uint32_t>& limbs() const { return limbs_; }

 private:
  void trim();
  std::vector<std::uint32_t> limbs_;
};

/// Writes the decimal representation.
std::ostream& operator<<(std::ostream& os, const BigUint& value);

}  // namespace frost::core
