#include "core/bigint.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <stdexcept>

namespace frost::core {

BigUint::BigUint(std::uint64_t value) {
  while (value != 0) {
    limbs_.push_back(static_cast<std::uint32_t>(value));
    value >>= 32;
  }
}

BigUint BigUint::from_u128(unsigned __int128 value) {
  BigUint result;
  while (value != 0) {
    result.limbs_.push_back(static_cast<std::uint32_t>(value));
    value >>= 32;
  }
  return result;
}

void BigUint::trim() {
  while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
}

BigUint BigUint::from_string(const std::string& decimal) {
  if (decimal.empty()) throw std::invalid_argument("BigUint::from_string: empty string");
  BigUint result;
  // Consume nine digits at a time: 10^9 < 2^32 keeps each step a single-limb multiply-add.
  std::size_t pos = 0;
  while (pos < decimal.size()) {
    const std::size_t chunk = std::min<std::size_t>(9, decimal.size() - pos);
    std::uint64_t chunk_value = 0;
    std::uint64_t scale = 1;
    for (std::size_t i = 0; i < chunk; ++i) {
      const char ch = decimal[pos + i];
      if (ch < '0' || ch > '9') {
        throw std::invalid_argument("BigUint::from_string: not a decimal digit in '" + decimal +
                                    "'");
      }
      chunk_value = chunk_value * 10 + static_cast<std::uint64_t>(ch - '0');
      scale *= 10;
    }
    result *= scale;
    result += BigUint(chunk_value);
    pos += chunk;
  }
  return result;
}

std::uint32_t BigUint::divmod_small(std::uint32_t divisor) {
  if (divisor == 0) throw std::domain_error("BigUint::divmod_small: division by zero");
  std::uint64_t remainder = 0;
  for (std::size_t i = limbs_.size(); i-- > 0;) {
    const std::uint64_t cur = (remainder << 32) | limbs_[i];
    limbs_[i] = static_cast<std::uint32_t>(cur / divisor);
    remainder = cur % divisor;
  }
  trim();
  return static_cast<std::uint32_t>(remainder);
}

std::string BigUint::to_string() const {
  if (limbs_.empty()) return "0";
  BigUint work = *this;
  std::vector<std::uint32_t> chunks;  // base 10^9, least significant first
  while (!work.is_zero()) chunks.push_back(work.divmod_small(1000000000u));
  std::string out = std::to_string(chunks.back());
  for (std::size_t i = chunks.size() - 1; i-- > 0;) {
    const std::string part = std::to_string(chunks[i]);
    out.append(9 - part.size(), '0');
    out += part;
  }
  return out;
}

double BigUint::to_double() const {
  const double l = log();
  if (limbs_.empty()) return 0.0;
  if (l > std::log(std::numeric_limits<double>::max())) {
    return std::numeric_limits<double>::infinity();
  }
  // Top three limbs carry 65..96 significant bits, more than the 53 a double keeps.
  double mantissa = 0.0;
  const std::size_t n = limbs_.size();
  const std::size_t top = std::min<std::size_t>(3, n);
  for (std::size_t i = 0; i < top; ++i) mantissa = mantissa * 4294967296.0 + limbs_[n - 1 - i];
  return std::ldexp(mantissa, static_cast<int>(32 * (n - top)));
}

double BigUint::log() const {
  if (limbs_.empty()) return -std::numeric_limits<double>::infinity();
  double mantissa = 0.0;
  const std::size_t n = limbs_.size();
  const std::size_t top = std::min<std::size_t>(3, n);
  for (std::size_t i = 0; i < top; ++i) mantissa = mantissa * 4294967296.0 + limbs_[n - 1 - i];
  // Splitting off the exponent keeps the mantissa finite for arbitrarily long numbers.
  return std::log(mantissa) + static_cast<double>(32 * (n - top)) * std::log(2.0);
}

std::size_t BigUint::bit_length() const {
  if (limbs_.empty()) return 0;
  std::size_t bits = 32 * (limbs_.size() - 1);
  std::uint32_t top = limbs_.back();
  while (top != 0) {
    ++bits;
    top >>= 1;
  }
  return bits;
}

std::uint64_t BigUint::to_u64() const {
  if (limbs_.size() > 2) throw std::overflow_error("BigUint::to_u64: value exceeds 64 bits");
  std::uint64_t v = 0;
  for (std::size_t i = limbs_.size(); i-- > 0;) v = (v << 32) | limbs_[i];
  return v;
}

BigUint& BigUint::operator+=(const BigUint& other) {
  if (other.limbs_.size() > limbs_.size()) limbs_.resize(other.limbs_.size(), 0);
  std::uint64_t carry = 0;
  std::size_t i = 0;
  for (; i < other.limbs_.size(); ++i) {
    const std::uint64_t sum = static_cast<std::uint64_t>(limbs_[i]) + other.limbs_[i] + carry;
    limbs_[i] = static_cast<std::uint32_t>(sum);
    carry = sum >> 32;
  }
  // Propagate the carry only as far as it reaches instead of over the whole number.
  for (; carry != 0 && i < limbs_.size(); ++i) {
    const std::uint64_t sum = static_cast<std::uint64_t>(limbs_[i]) + carry;
    limbs_[i] = static_cast<std::uint32_t>(sum);
    carry = sum >> 32;
  }
  if (carry != 0) limbs_.push_back(static_cast<std::uint32_t>(carry));
  return *this;
}

BigUint& BigUint::operator*=(std::uint64_t factor) {
  if (factor == 0 || limbs_.empty()) {
    limbs_.clear();
    return *this;
  }
  unsigned __int128 carry = 0;
  for (auto& limb : limbs_) {
    const unsigned __int128 cur = static_cast<unsigned __int128>(limb) * factor + carry;
    limb = static_cast<std::uint32_t>(cur);
    carry = cur >> 32;
  }
  while (carry != 0) {
    limbs_.push_back(static_cast<std::uint32_t>(carry));
    carry >>= 32;
  }
  return *this;
}

BigUint operator*(const BigUint& a, const BigUint& b) {
  BigUint result;
  if (a.is_zero() || b.is_zero()) return result;
  const auto& x = a.limbs_;
  const auto& y = b.limbs_;
  std::vector<std::uint32_t> out(x.size() + y.size(), 0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::uint64_t carry = 0;
    // x[i]*y[j] + out + carry < 2^64 because (2^32-1)^2 + 2*(2^32-1) = 2^64-1.
    for (std::size_t j = 0; j < y.size(); ++j) {
      const std::uint64_t cur = static_cast<std::uint64_t>(x[i]) * y[j] + out[i + j] + carry;
      out[i + j] = static_cast<std::uint32_t>(cur);
      carry = cur >> 32;
    }
    out[i + y.size()] = static_cast<std::uint32_t>(carry);
  }
  result.limbs_ = std::move(out);
  result.trim();
  return result;
}

BigUint& BigUint::operator*=(const BigUint& other) {
  *this = *this * other;
  return *this;
}

bool operator<(const BigUint& a, const BigUint& b) {
  if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() < b.limbs_.size();
  for (std::size_t i = a.limbs_.size(); i-- > 0;) {
    if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i];
  }
  return false;
}

std::ostream& operator<<(std::ostream& os, const BigUint& value) {
  return os << value.to_string();
}

}  // namespace frost::core
