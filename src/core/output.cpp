#include "core/output.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace frost::core {

void write_file_atomic(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << content;
    out.flush();
    if (!out) throw std::runtime_error("error writing " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

namespace {

/// Closes an HDF5 handle when it goes out of scope.
class H5Handle {
 public:
  H5Handle(hid_t id, herr_t (*close)(hid_t), const std::string& what) : id_(id), close_(close) {
    if (id_ < 0) throw std::runtime_error("HDF5: cannot create " + what);
  }
  ~H5Handle() {
    if (id_ >= 0) close_(id_);
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void check(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error("HDF5: " + what + " failed");
}

void string_attribute(hid_t obj, const std::string& name, const std::string& value) {
  H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
  check(H5Tset_size(type.get(), value.empty() ? 1 : value.size()), "H5Tset_size");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset");
  H5Handle space(H5Screate(H5S_SCALAR), H5Sclose, "scalar space");
  H5Handle attr(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose, "attribute " + name);
  check(H5Awrite(attr.get(), type.get(), value.empty() ? "" : value.c_str()), "H5Awrite");
}

void numeric_attribute(hid_t obj, const std::string& name, const Value& v) {
  hsize_t n = 1;
  const void* data = nullptr;
  hid_t type = H5T_NATIVE_DOUBLE;
  long long b = 0;
  switch (v.type) {
    case Value::Type::Int:
      data = &v.i;
      type = H5T_NATIVE_LLONG;
      break;
    case Value::Type::Real:
      data = &v.r;
      break;
    case Value::Type::Bool:
      b = v.b;
      data = &b;
      type = H5T_NATIVE_LLONG;
      break;
    case Value::Type::RealList:
      n = v.rl.size();
      data = v.rl.data();
      break;
    case Value::Type::IntList:
      n = v.il.size();
      data = v.il.data();
      type = H5T_NATIVE_LLONG;
      break;
    default:
      string_attribute(obj, name, v.to_yaml());
      return;
  }
  if (n == 0) {
    string_attribute(obj, name, "[]");
    return;
  }
  H5Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose, "space");
  H5Handle attr(H5Acreate2(obj, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose, "attribute " + name);
  check(H5Awrite(attr.get(), type, data), "H5Awrite");
}

void write_dataset(hid_t group, const Dataset& d) {
  std::vector<hsize_t> dims(d.shape.begin(), d.shape.end());
  H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                 "dataspace");
  H5Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "link property list");
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), "intermediate groups");
  hid_t mem = d.dtype == Dataset::DType::F64   ? H5T_NATIVE_DOUBLE
              : d.dtype == Dataset::DType::I64 ? H5T_NATIVE_INT64
                                               : H5T_NATIVE_INT8;
  hid_t file = d.dtype == Dataset::DType::F64   ? H5T_IEEE_F64LE
               : d.dtype == Dataset::DType::I64 ? H5T_STD_I64LE
                                                : H5T_STD_I8LE;
  H5Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "dataset property list");
  bool empty = false;
  for (auto x : dims) empty |= x == 0;
  if (!dims.empty() && !empty && d.bytes.size() > (1u << 16)) {
    // Large datasets (state histories) compress well and are read a row at a time.
    std::vector<hsize_t> chunk(dims);
    chunk[0] = std::min<hsize_t>(
        dims[0],
        std::max<hsize_t>(1, (1u << 20) / std::max<std::size_t>(1, d.bytes.size() / dims[0])));
    check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), "chunk");
    check(H5Pset_deflate(dcpl.get(), 4), "deflate");
  }
  H5Handle set(
      H5Dcreate2(group, d.name.c_str(), file, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
      H5Dclose, "dataset " + d.name);
  if (!empty)
    check(H5Dwrite(set.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.bytes.data()),
          "H5Dwrite " + d.name);
}

}  // namespace

std::string summary_json(const Provenance& prov, const std::vector<RunResult>& runs) {
  std::ostringstream o;
  o << "{\n  \"frost\": {";
  for (size_t k = 0; k < prov.entries.size(); ++k)
    o << (k ? ", " : "") << "\n    " << json_quote(prov.entries[k].first) << ": "
      << json_quote(prov.entries[k].second);
  o << "\n  },\n  \"runs\": [";
  for (size_t r = 0; r < runs.size(); ++r) {
    const auto& run = runs[r];
    o << (r ? "," : "") << "\n    {\"id\": " << run.id
      << ", \"status\": " << json_quote(run.ok ? "ok" : "failed");
    if (!run.ok) o << ", \"error\": " << json_quote(run.error);
    o << ", \"rank\": " << run.rank << ",\n     \"params\": {";
    for (size_t k = 0; k < run.params.size(); ++k)
      o << (k ? ", " : "") << json_quote(run.params[k].first) << ": "
        << run.params[k].second.to_json();
    o << "},\n     \"results\": {";
    for (size_t k = 0; k < run.results.size(); ++k)
      o << (k ? "," : "") << "\n       " << json_quote(run.results[k].first) << ": "
        << run.results[k].second.to_json();
    o << "}}";
  }
  o << "\n  ]\n}\n";
  return o.str();
}

void write_outputs(const std::string& dir, const std::string& deck_yaml, const Provenance& prov,
                   const std::vector<RunResult>& runs) {
  namespace fs = std::filesystem;
  // Pictures first: they are small, and frost.h5 / summary.json mark the output as complete.
  for (const auto& run : runs)
    for (const auto& a : run.artifacts) {
      fs::path p = fs::path(dir) / "runs" / std::to_string(run.id);
      fs::create_directories(p);
      write_file_atomic((p / a.name).string(), a.content);
    }

  std::string final_path = (fs::path(dir) / "frost.h5").string();
  std::string tmp = final_path + ".tmp." + std::to_string(::getpid());
  {
    H5Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, tmp);
    string_attribute(file.get(), "deck", deck_yaml);
    for (const auto& [k, v] : prov.entries) string_attribute(file.get(), k, v);
    H5Handle all(H5Gcreate2(file.get(), "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                 "group /runs");
    for (const auto& run : runs) {
      H5Handle g(H5Gcreate2(all.get(), std::to_string(run.id).c_str(), H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT),
                 H5Gclose, "run group");
      string_attribute(g.get(), "status", run.ok ? "ok" : "failed");
      if (!run.ok) string_attribute(g.get(), "error", run.error);
      string_attribute(g.get(), "deck", run.resolved_deck);
      numeric_attribute(g.get(), "run_rank", Value::of_int(run.rank));
      numeric_attribute(g.get(), "run_seconds", Value::of_real(run.seconds));
      for (const auto& [k, v] : run.params) numeric_attribute(g.get(), "param:" + k, v);
      // A result named like one of the core's attributes keeps its value under a prefix.
      for (const auto& [k, v] : run.results)
        numeric_attribute(g.get(), H5Aexists(g.get(), k.c_str()) > 0 ? "result:" + k : k, v);
      for (const auto& d : run.datasets) write_dataset(g.get(), d);
    }
  }
  fs::rename(tmp, final_path);
  write_file_atomic((fs::path(dir) / "summary.json").string(), summary_json(prov, runs));
}

}  // namespace frost::core
