#include "core/params.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace frost::core {

std::string ParamSpec::allowed() const {
  std::ostringstream o;
  o << type_name(type());
  if (!choices.empty()) {
    o << ", one of {";
    for (size_t k = 0; k < choices.size(); ++k) o << (k ? ", " : "") << choices[k];
    o << "}";
  }
  if (min && max)
    o << " in [" << format_real(*min) << ", " << format_real(*max) << "]";
  else if (min)
    o << " >= " << format_real(*min);
  else if (max)
    o << " <= " << format_real(*max);
  return o.str();
}

ParamHandle ParamRegistry::add(const std::string& path, Value def, const std::string& doc) {
  ParamSpec s;
  s.path = module_ + "." + path;
  s.default_value = std::move(def);
  s.doc = doc;
  specs_.push_back(std::move(s));
  return ParamHandle(specs_.back());
}
ParamHandle ParamRegistry::add_bool(const std::string& p, bool d, const std::string& doc) {
  return add(p, Value::of_bool(d), doc);
}
ParamHandle ParamRegistry::add_int(const std::string& p, long long d, const std::string& doc) {
  return add(p, Value::of_int(d), doc);
}
ParamHandle ParamRegistry::add_real(const std::string& p, double d, const std::string& doc) {
  return add(p, Value::of_real(d), doc);
}
ParamHandle ParamRegistry::add_string(const std::string& p, const std::string& d,
                                      const std::string& doc) {
  return add(p, Value::of_string(d), doc);
}
ParamHandle ParamRegistry::add_choice(const std::string& p, const std::string& d,
                                      std::vector<std::string> choices, const std::string& doc) {
  auto h = add(p, Value::of_string(d), doc);
  specs_.back().choices = std::move(choices);
  return h;
}
ParamHandle ParamRegistry::add_real_list(const std::string& p, std::vector<double> d,
                                         const std::string& doc) {
  return add(p, Value::of_real_list(std::move(d)), doc);
}
ParamHandle ParamRegistry::add_int_list(const std::string& p, std::vector<long long> d,
                                        const std::string& doc) {
  return add(p, Value::of_int_list(std::move(d)), doc);
}

const ParamSpec* ParamRegistry::find(const std::string& full_path) const {
  for (const auto& s : specs_)
    if (s.path == full_path) return &s;
  return nullptr;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string ParamRegistry::closest(const std::string& full_path) const {
  std::string best;
  std::size_t best_d = ~std::size_t(0);
  for (const auto& s : specs_) {
    // Compare the last component too, so a misspelled leaf under the right parent wins.
    std::size_t d = edit_distance(full_path, s.path);
    if (d < best_d) {
      best_d = d;
      best = s.path;
    }
  }
  return best;
}

namespace {
/// Keys of one YAML block, in order of first appearance; each leaf or sub-block once.
struct YamlNode {
  std::vector<std::string> order;
  std::map<std::string, YamlNode> children;
  std::map<std::string, std::string> leaf;  ///< name -> value text
  std::map<std::string, std::string> comment;
};

void emit(const YamlNode& node, int depth, std::ostringstream& o) {
  for (const auto& name : node.order) {
    std::string indent(2 * depth, ' ');
    auto c = node.comment.find(name);
    if (c != node.comment.end()) o << indent << "# " << c->second << "\n";
    auto l = node.leaf.find(name);
    if (l != node.leaf.end()) {
      o << indent << name << ": " << l->second << "\n";
    } else {
      o << indent << name << ":\n";
      emit(node.children.at(name), depth + 1, o);
    }
  }
}
}  // namespace

std::string nested_yaml(const std::vector<std::pair<std::string, std::string>>& flat,
                        const std::map<std::string, std::string>& comments) {
  // Keys that share a section are grouped under one block however they were declared, since
  // YAML forbids repeating a block.
  YamlNode root;
  for (const auto& [path, text] : flat) {
    std::vector<std::string> parts;
    std::stringstream ss(path);
    for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
    YamlNode* node = &root;
    for (size_t k = 0; k < parts.size(); ++k) {
      const std::string& name = parts[k];
      bool last = k + 1 == parts.size();
      bool known = node->leaf.count(name) || node->children.count(name);
      if (!known) node->order.push_back(name);
      if (last) {
        node->leaf[name] = text;
        auto c = comments.find(path);
        if (c != comments.end()) node->comment[name] = c->second;
      } else {
        node = &node->children[name];
      }
    }
  }
  std::ostringstream o;
  emit(root, 0, o);
  return o.str();
}

std::string ParamRegistry::defaults_yaml() const {
  std::vector<std::pair<std::string, std::string>> flat;
  std::map<std::string, std::string> comments;
  for (const auto& s : specs_) {
    flat.emplace_back(s.path, s.default_value.to_yaml());
    comments[s.path] = s.doc + " (" + s.allowed() + "; default " + s.default_value.to_yaml() + ")";
  }
  return "# frost deck for module '" + module_ + "': every parameter at its default.\n" +
         nested_yaml(flat, comments);
}

namespace {
[[noreturn]] void fail(const std::string& where, const ParamSpec& spec, const std::string& what) {
  throw InputError(where + ": " + spec.path + ": " + what + " (allowed: " + spec.allowed() + ")");
}

double check_bounds(const ParamSpec& spec, double x, const std::string& where) {
  if (std::isnan(x) || (spec.min && x < *spec.min) || (spec.max && x > *spec.max))
    fail(where, spec, "value " + format_real(x) + " out of range");
  return x;
}

long long as_integer(const ParamSpec& spec, const Value& v, const std::string& where) {
  if (v.type == Value::Type::Int) return v.i;
  if (v.type == Value::Type::Real && std::floor(v.r) == v.r && std::fabs(v.r) < 9e15)
    return static_cast<long long>(v.r);
  fail(where, spec,
       std::string("expected an integer, got ") + type_name(v.type) + " " + v.to_yaml());
}

double as_real(const ParamSpec& spec, const Value& v, const std::string& where) {
  if (v.type == Value::Type::Real) return v.r;
  if (v.type == Value::Type::Int) return static_cast<double>(v.i);
  fail(where, spec, std::string("expected a number, got ") + type_name(v.type) + " " + v.to_yaml());
}
}  // namespace

Value coerce(const ParamSpec& spec, const Value& v, const std::string& where) {
  switch (spec.type()) {
    case Value::Type::Bool:
      if (v.type != Value::Type::Bool)
        fail(where, spec, "expected true or false, got " + v.to_yaml());
      return v;
    case Value::Type::Int: {
      long long x = as_integer(spec, v, where);
      check_bounds(spec, static_cast<double>(x), where);
      return Value::of_int(x);
    }
    case Value::Type::Real:
      return Value::of_real(check_bounds(spec, as_real(spec, v, where), where));
    case Value::Type::String: {
      if (v.type != Value::Type::String)
        fail(where, spec, std::string("expected a string, got ") + v.to_yaml());
      if (!spec.choices.empty() &&
          std::find(spec.choices.begin(), spec.choices.end(), v.s) == spec.choices.end())
        fail(where, spec, "value '" + v.s + "' not allowed");
      return v;
    }
    case Value::Type::RealList: {
      std::vector<double> out;
      if (v.type == Value::Type::RealList)
        out = v.rl;
      else if (v.type == Value::Type::IntList)
        out.assign(v.il.begin(), v.il.end());
      else if (v.type == Value::Type::Real || v.type == Value::Type::Int)
        out.push_back(as_real(spec, v, where));
      else
        fail(where, spec, std::string("expected a list of numbers, got ") + v.to_yaml());
      for (double x : out) check_bounds(spec, x, where);
      return Value::of_real_list(out);
    }
    case Value::Type::IntList: {
      std::vector<long long> out;
      if (v.type == Value::Type::IntList)
        out = v.il;
      else if (v.type == Value::Type::Int)
        out.push_back(v.i);
      else
        fail(where, spec, std::string("expected a list of integers, got ") + v.to_yaml());
      for (long long x : out) check_bounds(spec, static_cast<double>(x), where);
      return Value::of_int_list(out);
    }
    case Value::Type::StringList:
      if (v.type != Value::Type::StringList) fail(where, spec, "expected a list of strings");
      return v;
  }
  return v;
}

namespace {
std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}
Value parse_scalar(const std::string& text) {
  std::string t = trim(text);
  if (t == "true") return Value::of_bool(true);
  if (t == "false") return Value::of_bool(false);
  char* end = nullptr;
  long long i = std::strtoll(t.c_str(), &end, 10);
  if (!t.empty() && end && *end == '\0') return Value::of_int(i);
  double r = std::strtod(t.c_str(), &end);
  if (!t.empty() && end && *end == '\0') return Value::of_real(r);
  if (t.size() >= 2 && (t.front() == '"' || t.front() == '\'') && t.back() == t.front())
    t = t.substr(1, t.size() - 2);
  return Value::of_string(t);
}
}  // namespace

Value parse_text(const ParamSpec& spec, const std::string& text, const std::string& where) {
  std::string t = trim(text);
  bool is_list = spec.type() == Value::Type::RealList || spec.type() == Value::Type::IntList ||
                 spec.type() == Value::Type::StringList;
  if (!is_list) return coerce(spec, parse_scalar(t), where);
  if (!t.empty() && t.front() == '[') {
    if (t.back() != ']') fail(where, spec, "unterminated list '" + t + "'");
    t = t.substr(1, t.size() - 2);
  }
  std::vector<Value> items;
  std::stringstream ss(t);
  for (std::string item; std::getline(ss, item, ',');)
    if (!trim(item).empty()) items.push_back(parse_scalar(item));
  if (spec.type() == Value::Type::StringList) {
    std::vector<std::string> out;
    for (auto& v : items) out.push_back(v.type == Value::Type::String ? v.s : v.to_yaml());
    return Value::of_string_list(out);
  }
  std::vector<double> reals;
  bool all_int = true;
  for (auto& v : items) {
    if (v.type == Value::Type::Int)
      reals.push_back(static_cast<double>(v.i));
    else if (v.type == Value::Type::Real) {
      reals.push_back(v.r);
      all_int = false;
    } else
      fail(where, spec, "list element '" + v.to_yaml() + "' is not a number");
  }
  if (all_int && spec.type() == Value::Type::IntList) {
    std::vector<long long> ints(reals.begin(), reals.end());
    return coerce(spec, Value::of_int_list(ints), where);
  }
  return coerce(spec, Value::of_real_list(reals), where);
}

const Value& ParamSet::get(const std::string& path) const {
  auto it = values_.find(module_ + "." + path);
  if (it == values_.end())
    throw std::logic_error("parameter " + module_ + "." + path + " was read but never declared");
  return it->second;
}
bool ParamSet::get_bool(const std::string& p) const {
  return get(p).b;
}
long long ParamSet::get_int(const std::string& p) const {
  return get(p).i;
}
double ParamSet::get_real(const std::string& p) const {
  return get(p).r;
}
const std::string& ParamSet::get_string(const std::string& p) const {
  return get(p).s;
}
const std::vector<double>& ParamSet::get_real_list(const std::string& p) const {
  return get(p).rl;
}
const std::vector<long long>& ParamSet::get_int_list(const std::string& p) const {
  return get(p).il;
}

std::string ParamSet::to_yaml() const {
  std::vector<std::pair<std::string, std::string>> flat;
  for (const auto& [k, v] : values_) flat.emplace_back(k, v.to_yaml());
  return nested_yaml(flat);
}

}  // namespace frost::core
