// A deck value: scalar or list, with the type the parameter declaration gives it.
#pragma once

#include <string>
#include <vector>

namespace frost::core {

/// A typed deck value. Exactly the member matching `type` is meaningful.
struct Value {
  enum class Type { Bool, Int, Real, String, IntList, RealList, StringList };
  Type type = Type::String;
  bool b = false;
  long long i = 0;
  double r = 0.0;
  std::string s;
  std::vector<long long> il;
  std::vector<double> rl;
  std::vector<std::string> sl;

  static Value of_bool(bool v);
  static Value of_int(long long v);
  static Value of_real(double v);
  static Value of_string(std::string v);
  static Value of_int_list(std::vector<long long> v);
  static Value of_real_list(std::vector<double> v);
  static Value of_string_list(std::vector<std::string> v);

  /// YAML flow representation (`3`, `0.5`, `open`, `[1, 2]`); round-trips through the deck reader.
  std::string to_yaml() const;
  /// JSON representation.
  std::string to_json() const;
  bool operator==(const Value& o) const;
};

/// Human name of a type, as used in error messages and `--defaults`.
const char* type_name(Value::Type t);
/// Shortest decimal text that reads back to the same double.
std::string format_real(double v);
/// JSON string literal with escapes.
std::string json_quote(const std::string& s);

}  // namespace frost::core
