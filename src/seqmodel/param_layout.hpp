// Named blocks of a model's flat parameter vector and the builder that lays them out.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace frost::seqmodel {

/// One named block of the flat parameter vector: [offset, offset + size). `decay`: AdamW's weight
/// decay applies (weight matrices and the embedding; not gains, biases or mode parameters).
struct ParamBlock {
  std::string name;
  std::size_t offset = 0, size = 0;
  bool decay = false;
};

/// Lays blocks out one after another in the order they are added. Blocks start on multiples of 8
/// elements (complex views need 2-element alignment); the gaps are zero and stay zero (their
/// gradients are zero). Checkpoints store the vector by offset and the initial values draw one
/// random stream per block index, so the order of the add calls is part of both.
class ParamLayoutBuilder {
 public:
  /// Appends a block of n elements; returns its offset.
  std::size_t add(const std::string& name, std::size_t n, bool decay) {
    blocks_.push_back({name, end_, n, decay});
    const std::size_t at = end_;
    end_ += (n + 7) / 8 * 8;
    return at;
  }
  /// Offset of the next block: after the last one, the length of the flat vector.
  std::size_t end() const { return end_; }
  const std::vector<ParamBlock>& blocks() const { return blocks_; }

 private:
  std::vector<ParamBlock> blocks_;
  std::size_t end_ = 0;
};

}  // namespace frost::seqmodel
