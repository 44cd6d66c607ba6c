#include "core/value.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace frost::core {

Value Value::of_bool(bool v) {
  Value x;
  x.type = Type::Bool;
  x.b = v;
  return x;
}
Value Value::of_int(long long v) {
  Value x;
  x.type = Type::Int;
  x.i = v;
  return x;
}
Value Value::of_real(double v) {
  Value x;
  x.type = Type::Real;
  x.r = v;
  return x;
}
Value Value::of_string(std::string v) {
  Value x;
  x.type = Type::String;
  x.s = std::move(v);
  return x;
}
Value Value::of_int_list(std::vector<long long> v) {
  Value x;
  x.type = Type::IntList;
  x.il = std::move(v);
  return x;
}
Value Value::of_real_list(std::vector<double> v) {
  Value x;
  x.type = Type::RealList;
  x.rl = std::move(v);
  return x;
}
Value Value::of_string_list(std::vector<std::string> v) {
  Value x;
  x.type = Type::StringList;
  x.sl = std::move(v);
  return x;
}

std::string format_real(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  char buf[64];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s(buf);
  // Keep a decimal mark so YAML reads it back as a real, not an integer.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace {
std::string yaml_string(const std::string& s) {
  // Quote strings YAML would read as something else.
  bool plain = !s.empty();
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '/' ||
          c == '.'))
      plain = false;
  if (plain) {
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    if (end && *end == '\0') plain = false;
    if (s == "true" || s == "false" || s == "null" || s == "yes" || s == "no") plain = false;
  }
  return plain ? s : json_quote(s);
}
double json_real(double v) {
  return v;
}
}  // namespace

std::string Value::to_yaml() const {
  std::ostringstream o;
  switch (type) {
    case Type::Bool:
      return b ? "true" : "false";
    case Type::Int:
      return std::to_string(i);
    case Type::Real:
      return format_real(r);
    case Type::String:
      return yaml_string(s);
    case Type::IntList:
      o << "[";
      for (size_t k = 0; k < il.size(); ++k) o << (k ? ", " : "") << il[k];
      o << "]";
      return o.str();
    case Type::RealList:
      o << "[";
      for (size_t k = 0; k < rl.size(); ++k) o << (k ? ", " : "") << format_real(rl[k]);
      o << "]";
      return o.str();
    case Type::StringList:
      o << "[";
      for (size_t k = 0; k < sl.size(); ++k) o << (k ? ", " : "") << yaml_string(sl[k]);
      o << "]";
      return o.str();
  }
  return "";
}

std::string Value::to_json() const {
  auto real = [](double v) {
    if (!std::isfinite(v)) return std::string("null");
    std::string s = format_real(json_real(v));
    return s;
  };
  std::ostringstream o;
  switch (type) {
    case Type::Bool:
      return b ? "true" : "false";
    case Type::Int:
      return std::to_string(i);
    case Type::Real:
      return real(r);
    case Type::String:
      return json_quote(s);
    case Type::IntList:
      o << "[";
      for (size_t k = 0; k < il.size(); ++k) o << (k ? ", " : "") << il[k];
      o << "]";
      return o.str();
    case Type::RealList:
      o << "[";
      for (size_t k = 0; k < rl.size(); ++k) o << (k ? ", " : "") << real(rl[k]);
      o << "]";
      return o.str();
    case Type::StringList:
      o << "[";
      for (size_t k = 0; k < sl.size(); ++k) o << (k ? ", " : "") << json_quote(sl[k]);
      o << "]";
      return o.str();
  }
  return "null";
}

bool Value::operator==(const Value& o) const {
  if (type != o.type) return false;
  switch (type) {
    case Type::Bool:
      return b == o.b;
    case Type::Int:
      return i == o.i;
    case Type::Real:
      return r == o.r;
    case Type::String:
      return s == o.s;
    case Type::IntList:
      return il == o.il;
    case Type::RealList:
      return rl == o.rl;
    case Type::StringList:
      return sl == o.sl;
  }
  return false;
}

const char* type_name(Value::Type t) {
  switch (t) {
    case Value::Type::Bool:
      return "bool";
    case Value::Type::Int:
      return "int";
    case Value::Type::Real:
      return "real";
    case Value::Type::String:
      return "string";
    case Value::Type::IntList:
      return "int list";
    case Value::Type::RealList:
      return "real list";
    case Value::Type::StringList:
      return "string list";
  }
  return "?";
}

}  // namespace frost::core
