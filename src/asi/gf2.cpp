// GF(2) linear algebra on bit-packed vectors.
#include "asi/gf2.hpp"

#include <stdexcept>
#include <utility>

namespace frost::asi::gf2 {

BitVector& BitVector::operator^=(const BitVector& other) {
  if (other.size_ != size_) throw std::invalid_argument("gf2::BitVector: size mismatch in ^=");
  for (std::size_t w = 0; w < words_.size(); ++w) words_[w] ^= other.words_[w];
  return *this;
}

bool BitVector::any() const {
  for (const auto word : words_) {
    if (word != 0) return true;
  }
  return false;
}

std::size_t BitVector::count() const {
  std::size_t total = 0;
  for (const auto word : words_) total += static_cast<std::size_t>(__builtin_popcountll(word));
  return total;
}

long BitVector::lowest_set() const {
  for (std::size_t w = 0; w < words_.size(); ++w) {
    if (words_[w] != 0) return static_cast<long>(64 * w + __builtin_ctzll(words_[w]));
  }
  return -1;
}

std::size_t rank(std::vector<BitVector> vectors) {
  // Row echelon form: each kept vector has a distinct lowest set bit (its pivot), and later
  // vectors are reduced against the kept ones in order of insertion.
  std::vector<BitVector> kept;
  std::vector<long> pivot;
  for (auto& v : vectors) {
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (v.get(static_cast<std::size_t>(pivot[i]))) v ^= kept[i];
    }
    const long p = v.lowest_set();
    if (p < 0) continue;
    // Keep the set fully reduced at the new pivot so the single pass above stays correct.
    for (auto& k : kept) {
      if (k.get(static_cast<std::size_t>(p))) k ^= v;
    }
    kept.push_back(std::move(v));
    pivot.push_back(p);
  }
  return kept.size();
}

LinearSolver::LinearSolver(const std::vector<BitVector>& columns) {
  columns_ = columns.size();
  rows_ = columns.empty() ? 0 : columns.front().size();
  for (std::size_t j = 0; j < columns_; ++j) {
    if (columns[j].size() != rows_) {
      throw std::invalid_argument("gf2::LinearSolver: columns of different sizes");
    }
    BitVector column = columns[j];
    BitVector transform(columns_);
    transform.set(j);
    for (std::size_t i = 0; i < reduced_.size(); ++i) {
      if (column.get(pivot_row_[i])) {
        column ^= reduced_[i];
        transform ^= transform_[i];
      }
    }
    const long p = column.lowest_set();
    if (p < 0) continue;  // dependent column: coefficient stays zero in every solution
    for (std::size_t i = 0; i < reduced_.size(); ++i) {
      if (reduced_[i].get(static_cast<std::size_t>(p))) {
        reduced_[i] ^= column;
        transform_[i] ^= transform;
      }
    }
    pivot_row_.push_back(static_cast<std::size_t>(p));
    reduced_.push_back(std::move(column));
    transform_.push_back(std::move(transform));
  }
}

std::optional<BitVector> LinearSolver::solve(const BitVector& d) const {
  if (d.size() != rows_) throw std::invalid_argument("gf2::LinearSolver::solve: size mismatch");
  BitVector x(columns_);
  BitVector image(rows_);
  for (std::size_t i = 0; i < reduced_.size(); ++i) {
    if (!d.get(pivot_row_[i])) continue;
    x ^= transform_[i];
    image ^= reduced_[i];
  }
  if (image != d) return std::nullopt;
  return x;
}

}  // namespace frost::asi::gf2
