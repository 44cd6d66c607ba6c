#include "core/result.hpp"

#include <cstring>
#include <numeric>
#include <stdexcept>

namespace frost::core {

void RunResult::set(const std::string& key, Value v) {
  for (auto& kv : results)
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  results.emplace_back(key, std::move(v));
}

const Value* RunResult::find(const std::string& key) const {
  for (auto& kv : results)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

double RunResult::number(const std::string& key, double missing) const {
  const Value* v = find(key);
  if (!v) return missing;
  if (v->type == Value::Type::Int) return double(v->i);
  if (v->type == Value::Type::Real) return v->r;
  return missing;
}

namespace {
template <class T>
Dataset make_dataset(const std::string& name, Dataset::DType dt, std::vector<std::uint64_t> shape,
                     const std::vector<T>& data) {
  std::uint64_t n = std::accumulate(shape.begin(), shape.end(), std::uint64_t{1},
                                    std::multiplies<std::uint64_t>());
  if (n != data.size())
    throw std::logic_error("dataset " + name + ": shape does not match data size");
  Dataset d;
  d.name = name;
  d.dtype = dt;
  d.shape = std::move(shape);
  d.bytes.resize(data.size() * sizeof(T));
  if (!data.empty()) std::memcpy(d.bytes.data(), data.data(), d.bytes.size());
  return d;
}
}  // namespace

void RunResult::add_f64(const std::string& name, std::vector<std::uint64_t> shape,
                        const std::vector<double>& data) {
  datasets.push_back(make_dataset(name, Dataset::DType::F64, std::move(shape), data));
}
void RunResult::add_i64(const std::string& name, std::vector<std::uint64_t> shape,
                        const std::vector<std::int64_t>& data) {
  datasets.push_back(make_dataset(name, Dataset::DType::I64, std::move(shape), data));
}
void RunResult::add_i8(const std::string& name, std::vector<std::uint64_t> shape,
                       const std::vector<std::int8_t>& data) {
  datasets.push_back(make_dataset(name, Dataset::DType::I8, std::move(shape), data));
}

void ByteWriter::put_string(const std::string& s) {
  put<std::uint64_t>(s.size());
  bytes.insert(bytes.end(), s.begin(), s.end());
}
void ByteWriter::put_bytes(const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  bytes.insert(bytes.end(), p, p + n);
}
void ByteReader::read(void* out, std::size_t n) {
  if (pos_ + n > bytes_.size()) throw std::runtime_error("truncated record");
  if (n) std::memcpy(out, bytes_.data() + pos_, n);
  pos_ += n;
}
std::string ByteReader::get_string() {
  auto n = get<std::uint64_t>();
  if (pos_ + n > bytes_.size()) throw std::runtime_error("truncated record");
  std::string s(bytes_.data() + pos_, n);
  pos_ += n;
  return s;
}

namespace {
void put_value(ByteWriter& w, const Value& v) {
  w.put<std::uint8_t>(static_cast<std::uint8_t>(v.type));
  switch (v.type) {
    case Value::Type::Bool:
      w.put<std::uint8_t>(v.b);
      break;
    case Value::Type::Int:
      w.put<long long>(v.i);
      break;
    case Value::Type::Real:
      w.put<double>(v.r);
      break;
    case Value::Type::String:
      w.put_string(v.s);
      break;
    case Value::Type::IntList:
      w.put<std::uint64_t>(v.il.size());
      w.put_bytes(v.il.data(), v.il.size() * sizeof(long long));
      break;
    case Value::Type::RealList:
      w.put<std::uint64_t>(v.rl.size());
      w.put_bytes(v.rl.data(), v.rl.size() * sizeof(double));
      break;
    case Value::Type::StringList:
      w.put<std::uint64_t>(v.sl.size());
      for (auto& s : v.sl) w.put_string(s);
      break;
  }
}
Value get_value(ByteReader& r) {
  Value v;
  v.type = static_cast<Value::Type>(r.get<std::uint8_t>());
  switch (v.type) {
    case Value::Type::Bool:
      v.b = r.get<std::uint8_t>();
      break;
    case Value::Type::Int:
      v.i = r.get<long long>();
      break;
    case Value::Type::Real:
      v.r = r.get<double>();
      break;
    case Value::Type::String:
      v.s = r.get_string();
      break;
    case Value::Type::IntList:
      v.il.resize(r.get<std::uint64_t>());
      r.read(v.il.data(), v.il.size() * sizeof(long long));
      break;
    case Value::Type::RealList:
      v.rl.resize(r.get<std::uint64_t>());
      r.read(v.rl.data(), v.rl.size() * sizeof(double));
      break;
    case Value::Type::StringList: {
      auto n = r.get<std::uint64_t>();
      for (std::uint64_t k = 0; k < n; ++k) v.sl.push_back(r.get_string());
      break;
    }
  }
  return v;
}
void put_pairs(ByteWriter& w, const std::vector<std::pair<std::string, Value>>& kv) {
  w.put<std::uint64_t>(kv.size());
  for (auto& [k, v] : kv) {
    w.put_string(k);
    put_value(w, v);
  }
}
std::vector<std::pair<std::string, Value>> get_pairs(ByteReader& r) {
  std::vector<std::pair<std::string, Value>> kv(r.get<std::uint64_t>());
  for (auto& p : kv) {
    p.first = r.get_string();
    p.second = get_value(r);
  }
  return kv;
}
constexpr std::uint32_t kResultMagic = 0x46525231;  // "FRR1"
}  // namespace

std::vector<char> serialize(const RunResult& res) {
  ByteWriter w;
  w.put(kResultMagic);
  w.put<int>(res.id);
  w.put<std::uint8_t>(res.ok);
  w.put_string(res.error);
  w.put<int>(res.rank);
  w.put<double>(res.seconds);
  w.put_string(res.resolved_deck);
  put_pairs(w, res.params);
  put_pairs(w, res.results);
  w.put<std::uint64_t>(res.datasets.size());
  for (auto& d : res.datasets) {
    w.put_string(d.name);
    w.put<std::uint8_t>(static_cast<std::uint8_t>(d.dtype));
    w.put<std::uint64_t>(d.shape.size());
    for (auto s : d.shape) w.put<std::uint64_t>(s);
    w.put<std::uint64_t>(d.bytes.size());
    w.put_bytes(d.bytes.data(), d.bytes.size());
  }
  w.put<std::uint64_t>(res.artifacts.size());
  for (auto& a : res.artifacts) {
    w.put_string(a.name);
    w.put_string(a.content);
  }
  return std::move(w.bytes);
}

RunResult deserialize(const std::vector<char>& bytes) {
  ByteReader r(bytes);
  if (r.get<std::uint32_t>() != kResultMagic) throw std::runtime_error("not a frost run record");
  RunResult res;
  res.id = r.get<int>();
  res.ok = r.get<std::uint8_t>();
  res.error = r.get_string();
  res.rank = r.get<int>();
  res.seconds = r.get<double>();
  res.resolved_deck = r.get_string();
  res.params = get_pairs(r);
  res.results = get_pairs(r);
  res.datasets.resize(r.get<std::uint64_t>());
  for (auto& d : res.datasets) {
    d.name = r.get_string();
    d.dtype = static_cast<Dataset::DType>(r.get<std::uint8_t>());
    d.shape.resize(r.get<std::uint64_t>());
    for (auto& s : d.shape) s = r.get<std::uint64_t>();
    d.bytes.resize(r.get<std::uint64_t>());
    r.read(d.bytes.data(), d.bytes.size());
  }
  res.artifacts.resize(r.get<std::uint64_t>());
  for (auto& a : res.artifacts) {
    a.name = r.get_string();
    a.content = r.get_string();
  }
  return res;
}

}  // namespace frost::core
