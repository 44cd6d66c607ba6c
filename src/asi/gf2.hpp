// Linear algebra over GF(2) on bit-packed vectors: rank, and the solution of C x = d for a fixed
// matrix C (factorised once, solved many times). Used for cycle-basis checks and loop-coefficient
// recovery on any cycle basis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace frost::asi::gf2 {

/// A vector over GF(2), bit-packed: component i is bit (i % 64) of word i / 64.
/// Invariant: the unused high bits of the last word are zero, so word-wise comparisons, counts
/// and hashes see only the components.
class BitVector {
 public:
  BitVector() = default;
  /// The zero vector with `size` components.
  explicit BitVector(std::size_t size) : size_(size), words_((size + 63) / 64, 0) {}

  std::size_t size() const { return size_; }
  bool get(std::size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1u; }
  void set(std::size_t i, bool value = true) {
    const std::uint64_t bit = std::uint64_t{1} << (i & 63);
    words_[i >> 6] = value ? (words_[i >> 6] | bit) : (words_[i >> 6] & ~bit);
  }
  void flip(std::size_t i) { words_[i >> 6] ^= std::uint64_t{1} << (i & 63); }

  /// Component-wise sum (XOR); both vectors must have the same size.
  BitVector& operator^=(const BitVector& other);
  /// True when some component is 1.
  bool any() const;
  /// Number of components equal to 1.
  std::size_t count() const;
  /// Index of the lowest component equal to 1, or -1 for the zero vector.
  long lowest_set() const;

  const std::vector<std::uint64_t>& words() const { return words_; }

  friend bool operator==(const BitVector& a, const BitVector& b) {
    return a.size_ == b.size_ && a.words_ == b.words_;
  }
  friend bool operator!=(const BitVector& a, const BitVector& b) { return !(a == b); }

 private:
  std::size_t size_ = 0;
  std::vector<std::uint64_t> words_;
};

/// Rank over GF(2) of a set of vectors of equal size, by Gaussian elimination on the packed words
/// (O(k^2 n / 64) word operations for k vectors of n components).
std::size_t rank(std::vector<BitVector> vectors);

/// Solver for C x = d over GF(2), C an n x k matrix given by its k columns.
///
/// The constructor brings C to fully reduced column-echelon form R = C T by column operations
/// (T invertible k x k): every column j of R has a pivot row p_j where it is the only column
/// with a 1. Then C x = d has the solution x = T y with y_j = d[p_j], provided R y = d.
/// Cost: O(k^2 n / 64) word operations to factorise (k (n + k) / 8 bytes of memory), O(k n / 64)
/// per solve. Columns need not be independent; rank() reports the rank, and solve() then returns
/// the solution with zero coefficients on the dependent directions.
class LinearSolver {
 public:
  LinearSolver() = default;
  /// Factorises the matrix whose columns are `columns` (all of one size n).
  explicit LinearSolver(const std::vector<BitVector>& columns);

  std::size_t rows() const { return rows_; }
  std::size_t columns() const { return columns_; }
  std::size_t rank() const { return pivot_row_.size(); }

  /// A solution x (k components) of C x = d (n components), or nullopt when d is not in the
  /// column space of C.
  std::optional<BitVector> solve(const BitVector& d) const;

 private:
  std::size_t rows_ = 0;
  std::size_t columns_ = 0;
  std::vector<std::size_t> pivot_row_;  ///< pivot row of each non-zero reduced column
  std::vector<BitVector> reduced_;      ///< non-zero columns of R (n components each)
  std::vector<BitVector> transform_;    ///< matching columns of T (k components each)
};

}  // namespace frost::asi::gf2
