// What one run produces: scalar results, datasets and files. Serialisable, so results travel to
// rank 0 over MPI and survive in the checkpoint folder for --resume.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/value.hpp"

namespace frost::core {

/// An n-dimensional array destined for the run's HDF5 group. `name` may contain '/' for subgroups.
struct Dataset {
  enum class DType : std::uint8_t { F64, I64, I8 };
  std::string name;
  DType dtype = DType::F64;
  std::vector<std::uint64_t> shape;
  std::vector<char> bytes;  ///< row-major, native byte order
};

/// A file written beside frost.h5 under runs/<id>/ (pictures).
struct Artifact {
  std::string name;
  std::string content;
};

/// Everything one run produces.
struct RunResult {
  int id = 0;
  bool ok = true;
  std::string error;  ///< what went wrong, when !ok
  int rank = 0;       ///< the rank that ran it
  double seconds = 0.0;
  std::string resolved_deck;
  std::vector<std::pair<std::string, Value>> params;   ///< sweep values of this run
  std::vector<std::pair<std::string, Value>> results;  ///< scalar results, in insertion order
  std::vector<Dataset> datasets;
  std::vector<Artifact> artifacts;

  void set(const std::string& key, Value v);
  /// A dataset of doubles (shape given; data.size() must equal the product).
  void add_f64(const std::string& name, std::vector<std::uint64_t> shape,
               const std::vector<double>& data);
  void add_i64(const std::string& name, std::vector<std::uint64_t> shape,
               const std::vector<std::int64_t>& data);
  void add_i8(const std::string& name, std::vector<std::uint64_t> shape,
              const std::vector<std::int8_t>& data);
  const Value* find(const std::string& key) const;
  /// The scalar result `key` as a number (an integer converted), or `missing` when it is absent
  /// or not a number (report tables).
  double number(const std::string& key, double missing) const;
};

std::vector<char> serialize(const RunResult& r);
RunResult deserialize(const std::vector<char>& bytes);

/// Appends and reads plain binary values (checkpoints and results).
class ByteWriter {
 public:
  template <class T>
  void put(const T& v) {
    const char* p = reinterpret_cast<const char*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s);
  void put_bytes(const void* data, std::size_t n);
  /// A length-prefixed array of plain values.
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    put_bytes(v.data(), v.size() * sizeof(T));
  }
  std::vector<char> bytes;
};

class ByteReader {
 public:
  explicit ByteReader(const std::vector<char>& b) : bytes_(b) {}
  template <class T>
  T get() {
    T v;
    read(&v, sizeof(T));
    return v;
  }
  std::string get_string();
  /// Reads what ByteWriter::put_vector wrote.
  template <class T>
  std::vector<T> get_vector() {
    std::vector<T> v(get<std::uint64_t>());
    read(v.data(), v.size() * sizeof(T));
    return v;
  }
  void read(void* out, std::size_t n);
  bool done() const { return pos_ == bytes_.size(); }

 private:
  const std::vector<char>& bytes_;
  std::size_t pos_ = 0;
};

}  // namespace frost::core
