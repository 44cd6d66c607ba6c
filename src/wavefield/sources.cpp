#include "wavefield/sources.hpp"

#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/params.hpp"
#include "core/rng.hpp"

namespace frost::wavefield {

namespace {

struct Quantity {
  const char* name;
  const char* what;
  double value;
  std::vector<double> range;
};

const Quantity kQuantities[] = {
    {"amplitude", "A_j", 1.0, {0.5, 1.5}},
    {"wavenumber", "k_j (1/radius)", 10.0, {5.0, 15.0}},
    {"frequency", "w_j (rad per time unit)", 1.0, {0.5, 1.5}},
    {"phase", "phi_j (rad)", 0.0, {0.0, 6.283185307179586}},
};

std::string key(const Quantity& q, const char* leaf) {
  return std::string("sources.") + q.name + "." + leaf;
}

}  // namespace

void declare_source_params(core::ParamRegistry& reg) {
  for (const auto& q : kQuantities) {
    // Frequencies and phases default to random, so the default field is not a standing pattern.
    const bool random = std::string(q.name) == "frequency" || std::string(q.name) == "phase";
    reg.add_choice(key(q, "mode"), random ? "random" : "constant", {"constant", "random", "file"},
                   std::string(q.what) + ": constant value, uniform random in range, or file");
    reg.add_real(key(q, "value"), q.value, std::string(q.what) + " when mode is constant");
    reg.add_real_list(key(q, "range"), q.range,
                      std::string(q.what) + " [low, high] when mode is random");
    reg.add_string(key(q, "file"), "",
                   std::string(q.what) + " file when mode is file: at least N numbers, node order");
  }
}

std::vector<double> read_value_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw core::InputError(path + ": cannot open value file");
  std::vector<double> v;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream ls(line);
    std::string word;
    while (ls >> word) {
      try {
        std::size_t used = 0;
        v.push_back(std::stod(word, &used));
        if (used != word.size()) throw std::invalid_argument(word);
      } catch (const std::exception&) {
        throw core::InputError(path + ": '" + word + "' is not a number");
      }
    }
  }
  return v;
}

SourceParams make_sources(const core::ParamSet& p, int n, std::uint64_t seed, int run,
                          const std::string& file) {
  SourceParams s;
  std::vector<double>* out[] = {&s.amplitude, &s.wavenumber, &s.frequency, &s.phase};
  for (int qi = 0; qi < 4; ++qi) {
    const Quantity& q = kQuantities[qi];
    auto& v = *out[qi];
    const std::string mode = p.get_string(key(q, "mode"));
    if (mode == "constant") {
      v.assign(n, p.get_real(key(q, "value")));
    } else if (mode == "random") {
      const auto& range = p.get_real_list(key(q, "range"));
      if (range.size() != 2 || !(range[0] <= range[1]))
        throw core::InputError(file + ": wavefield." + key(q, "range") +
                               ": needs two numbers [low, high] with low <= high");
      v.resize(n);
      for (int i = 0; i < n; ++i) {
        core::RandomStream rs(seed, static_cast<std::uint32_t>(run), qi + 1, 2ull * i);
        v[i] = range[0] + (range[1] - range[0]) * rs.uniform();
      }
    } else {
      const std::string path = p.get_string(key(q, "file"));
      if (path.empty())
        throw core::InputError(file + ": wavefield." + key(q, "file") + ": mode file needs a file");
      v = read_value_file(path);
      if (static_cast<int>(v.size()) < n)
        throw core::InputError(file + ": wavefield." + key(q, "file") + ": '" + path + "' has " +
                               std::to_string(v.size()) + " values, the run needs " +
                               std::to_string(n));
      v.resize(n);
    }
  }
  return s;
}

}  // namespace frost::wavefield
