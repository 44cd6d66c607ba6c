// Parameter declarations: every deck key is declared once, with its type, default, allowed values
// and one line of documentation, next to the code that reads it. Validation and `frost --defaults`
// are generated from these declarations.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/value.hpp"

namespace frost::core {

/// Declaration of one deck key. `path` is the full dotted path ("asi.lattice.L").
struct ParamSpec {
  std::string path;
  Value default_value;
  std::optional<double> min, max;    ///< inclusive bounds for numbers (each element of a list)
  std::vector<std::string> choices;  ///< allowed strings; empty when any string is allowed
  std::string doc;

  Value::Type type() const { return default_value.type; }
  /// "int >= 1", "one of {open, periodic}", ...
  std::string allowed() const;
};

/// Fluent handle returned by ParamRegistry::add_*, to attach bounds.
class ParamHandle {
 public:
  explicit ParamHandle(ParamSpec& spec) : spec_(&spec) {}
  ParamHandle& min(double v) {
    spec_->min = v;
    return *this;
  }
  ParamHandle& max(double v) {
    spec_->max = v;
    return *this;
  }

 private:
  ParamSpec* spec_;
};

/// The declared parameters of one module, in declaration order. Paths given to add_* are relative
/// to the module's top-level key.
class ParamRegistry {
 public:
  explicit ParamRegistry(std::string module) : module_(std::move(module)) {}
  const std::string& module() const { return module_; }

  ParamHandle add_bool(const std::string& path, bool def, const std::string& doc);
  ParamHandle add_int(const std::string& path, long long def, const std::string& doc);
  ParamHandle add_real(const std::string& path, double def, const std::string& doc);
  ParamHandle add_string(const std::string& path, const std::string& def, const std::string& doc);
  ParamHandle add_choice(const std::string& path, const std::string& def,
                         std::vector<std::string> choices, const std::string& doc);
  ParamHandle add_real_list(const std::string& path, std::vector<double> def,
                            const std::string& doc);
  ParamHandle add_int_list(const std::string& path, std::vector<long long> def,
                           const std::string& doc);

  /// The declaration for a full path, or nullptr.
  const ParamSpec* find(const std::string& full_path) const;
  const std::vector<ParamSpec>& specs() const { return specs_; }
  /// The declared full path closest to `full_path` (edit distance), for "did you mean" messages.
  std::string closest(const std::string& full_path) const;
  /// A commented YAML deck with every parameter at its default: runs as it is.
  std::string defaults_yaml() const;

 private:
  ParamHandle add(const std::string& path, Value def, const std::string& doc);
  std::string module_;
  std::vector<ParamSpec> specs_;
};

/// Resolved values of one run: every declared parameter, defaults filled in.
class ParamSet {
 public:
  ParamSet() = default;
  ParamSet(std::string module, std::map<std::string, Value> values)
      : module_(std::move(module)), values_(std::move(values)) {}

  bool get_bool(const std::string& path) const;
  long long get_int(const std::string& path) const;
  double get_real(const std::string& path) const;
  const std::string& get_string(const std::string& path) const;
  const std::vector<double>& get_real_list(const std::string& path) const;
  const std::vector<long long>& get_int_list(const std::string& path) const;
  const Value& get(const std::string& path) const;

  const std::string& module() const { return module_; }
  const std::map<std::string, Value>& values() const { return values_; }
  /// The resolved deck as nested YAML.
  std::string to_yaml() const;

 private:
  std::string module_;
  std::map<std::string, Value> values_;  ///< keyed by full path
};

/// Converts `v` (as read from YAML or the command line) to the declared type, checking bounds and
/// choices. Throws InputError naming `where` (file) and the key.
Value coerce(const ParamSpec& spec, const Value& v, const std::string& where);
/// Parses command-line text ("3", "0.5", "open", "[1, 2]") as a value of the declared type.
Value parse_text(const ParamSpec& spec, const std::string& text, const std::string& where);
/// Levenshtein distance.
std::size_t edit_distance(const std::string& a, const std::string& b);
/// Nested YAML from full-path -> value pairs, keys in the given order.
std::string nested_yaml(const std::vector<std::pair<std::string, std::string>>& flat,
                        const std::map<std::string, std::string>& comments = {});

}  // namespace frost::core
