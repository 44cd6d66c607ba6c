#include "core/deck.hpp"

#include <Teuchos_ParameterList.hpp>
#include <Teuchos_YamlParameterListHelpers.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace frost::core {

namespace {

Value entry_value(const Teuchos::ParameterEntry& e, const std::string& where,
                  const std::string& path) {
  if (e.isType<bool>()) return Value::of_bool(Teuchos::getValue<bool>(e));
  if (e.isType<int>()) return Value::of_int(Teuchos::getValue<int>(e));
  if (e.isType<long long>()) return Value::of_int(Teuchos::getValue<long long>(e));
  if (e.isType<double>()) return Value::of_real(Teuchos::getValue<double>(e));
  if (e.isType<std::string>()) return Value::of_string(Teuchos::getValue<std::string>(e));
  if (e.isType<Teuchos::Array<int>>()) {
    auto a = Teuchos::getValue<Teuchos::Array<int>>(e);
    return Value::of_int_list(std::vector<long long>(a.begin(), a.end()));
  }
  if (e.isType<Teuchos::Array<long long>>()) {
    auto a = Teuchos::getValue<Teuchos::Array<long long>>(e);
    return Value::of_int_list(std::vector<long long>(a.begin(), a.end()));
  }
  if (e.isType<Teuchos::Array<double>>()) {
    auto a = Teuchos::getValue<Teuchos::Array<double>>(e);
    return Value::of_real_list(std::vector<double>(a.begin(), a.end()));
  }
  if (e.isType<Teuchos::Array<std::string>>()) {
    auto a = Teuchos::getValue<Teuchos::Array<std::string>>(e);
    return Value::of_string_list(std::vector<std::string>(a.begin(), a.end()));
  }
  throw InputError(where + ": " + path + ": unsupported value type");
}

void flatten(const Teuchos::ParameterList& list, const std::string& prefix,
             std::vector<std::pair<std::string, Value>>& out, const std::string& where) {
  for (auto it = list.begin(); it != list.end(); ++it) {
    const std::string& name = list.name(it);
    const auto& e = list.entry(it);
    std::string path = prefix.empty() ? name : prefix + "." + name;
    if (e.isList())
      flatten(Teuchos::getValue<Teuchos::ParameterList>(e), path, out, where);
    else
      out.emplace_back(path, entry_value(e, where, path));
  }
}

std::vector<Value> axis_values(const Teuchos::ParameterEntry& e, const std::string& where,
                               const std::string& key) {
  std::string ctx = where + ": sweep." + key;
  if (e.isList()) {
    const auto& spec = Teuchos::getValue<Teuchos::ParameterList>(e);
    bool lin = spec.isParameter("linspace"), log = spec.isParameter("logspace");
    if (spec.numParams() != 1 || !(lin || log))
      throw InputError(ctx +
                       ": expected a list of values, {linspace: [a, b, n]} or "
                       "{logspace: [a, b, n]}");
    Value v = entry_value(spec.getEntry(lin ? "linspace" : "logspace"), where, key);
    std::vector<double> abn;
    if (v.type == Value::Type::RealList) abn = v.rl;
    if (v.type == Value::Type::IntList) abn.assign(v.il.begin(), v.il.end());
    if (abn.size() != 3 || abn[2] < 1 || std::floor(abn[2]) != abn[2] ||
        (log && (abn[0] <= 0 || abn[1] <= 0)))
      throw InputError(ctx + ": expected [start, stop, count] with count >= 1" +
                       std::string(log ? " and start, stop > 0" : ""));
    int n = static_cast<int>(abn[2]);
    std::vector<Value> out;
    for (int k = 0; k < n; ++k) {
      double f = n == 1 ? 0.0 : static_cast<double>(k) / (n - 1);
      double x = lin ? abn[0] + f * (abn[1] - abn[0])
                     : std::exp(std::log(abn[0]) + f * (std::log(abn[1]) - std::log(abn[0])));
      out.push_back(Value::of_real(x));
    }
    return out;
  }
  Value v = entry_value(e, where, key);
  std::vector<Value> out;
  switch (v.type) {
    case Value::Type::IntList:
      for (auto x : v.il) out.push_back(Value::of_int(x));
      break;
    case Value::Type::RealList:
      for (auto x : v.rl) out.push_back(Value::of_real(x));
      break;
    case Value::Type::StringList:
      for (auto& x : v.sl) out.push_back(Value::of_string(x));
      break;
    default:
      out.push_back(v);
  }
  if (out.empty()) throw InputError(ctx + ": empty list of values");
  return out;
}

}  // namespace

namespace {

/// Teuchos reads one top-level list per document, so the deck is cut at its top-level keys
/// (lines starting in column 0) and each section is parsed on its own.
std::vector<std::pair<std::string, std::string>> top_level_sections(const std::string& yaml,
                                                                    const std::string& file) {
  std::vector<std::pair<std::string, std::string>> sections;
  std::istringstream in(yaml);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool top = !line.empty() && line[0] != ' ' && line[0] != '\t' && line[0] != '#';
    if (top && (line == "---" || line == "...")) continue;
    if (top) {
      auto colon = line.find(':');
      if (colon == std::string::npos || colon == 0)
        throw InputError(file + ":" + std::to_string(number) +
                         ": malformed YAML: expected 'key:' at the top level, got '" + line + "'");
      sections.emplace_back(line.substr(0, colon), "");
    } else if (sections.empty()) {
      auto first = line.find_first_not_of(" \t");
      if (first != std::string::npos && line[first] != '#')
        throw InputError(file + ":" + std::to_string(number) +
                         ": malformed YAML: indented text before the first top-level key");
      continue;
    }
    sections.back().second += line + "\n";
  }
  return sections;
}

Teuchos::RCP<Teuchos::ParameterList> parse_section(const std::string& text,
                                                   const std::string& file) {
  try {
    return Teuchos::getParametersFromYamlString(text);
  } catch (const std::exception& ex) {
    std::string msg = ex.what();
    // Teuchos prefixes messages with source locations; keep the parser's own words.
    auto pos = msg.rfind("\n\n");
    if (pos != std::string::npos) msg = msg.substr(pos + 2);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    throw InputError(file + ": malformed YAML: " + msg);
  }
}

}  // namespace

RawDeck parse_deck(const std::string& yaml, const std::string& file,
                   const std::vector<std::string>& modules) {
  RawDeck deck;
  deck.file = file;
  std::string allowed;
  for (auto& m : modules) allowed += (allowed.empty() ? "" : ", ") + m;
  auto sections = top_level_sections(yaml, file);
  if (sections.empty())
    throw InputError(file + ": empty deck (allowed top-level keys: " + allowed + ", sweep)");
  for (const auto& [name, text] : sections) {
    bool is_module = std::find(modules.begin(), modules.end(), name) != modules.end();
    if (!is_module && name != "sweep")
      throw InputError(file + ": top-level key '" + name +
                       "' is not a module or 'sweep' (allowed: " + allowed + ", sweep)");
    auto list = parse_section(text, file);
    // A one-key document comes back as the list named after that key; a scalar value does not.
    if (list->name() != name || list->numParams() == 0)
      throw InputError(file + ": " + name + ": expected a block of keys below it");
    if (name == "sweep") {
      for (auto s = list->begin(); s != list->end(); ++s) {
        const auto& key = list->name(s);
        if (key == "zip") {
          Value z = entry_value(list->entry(s), file, "sweep.zip");
          if (z.type != Value::Type::Bool)
            throw InputError(file + ": sweep.zip: expected true or false");
          deck.zip = z.b;
          continue;
        }
        deck.sweep.emplace_back(key, axis_values(list->entry(s), file, key));
      }
    } else {
      if (!deck.module.empty())
        throw InputError(file + ": two module keys ('" + deck.module + "' and '" + name +
                         "'): one deck runs one module");
      deck.module = name;
      flatten(*list, name, deck.keys, file);
    }
  }
  if (deck.module.empty()) throw InputError(file + ": no module key (allowed: " + allowed + ")");
  return deck;
}

RawDeck read_deck(const std::string& file, const std::vector<std::string>& modules) {
  std::ifstream in(file);
  if (!in) throw InputError(file + ": cannot read deck file (missing or unreadable)");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_deck(ss.str(), file, modules);
}

namespace {
const ParamSpec& lookup(const ParamRegistry& reg, const std::string& path,
                        const std::string& where) {
  const ParamSpec* spec = reg.find(path);
  if (!spec)
    throw InputError(where + ": unknown key '" + path + "' (did you mean '" + reg.closest(path) +
                     "'? `frost --defaults " + reg.module() + "` lists all keys)");
  return *spec;
}
}  // namespace

void apply_sets(RawDeck& deck, const ParamRegistry& reg, const std::vector<std::string>& sets) {
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError("--set " + s + ": expected key.path=value");
    std::string path = s.substr(0, eq);
    const ParamSpec& spec = lookup(reg, path, "--set");
    Value v = parse_text(spec, s.substr(eq + 1), "--set");
    bool replaced = false;
    for (auto& kv : deck.keys)
      if (kv.first == path) {
        kv.second = v;
        replaced = true;
      }
    if (!replaced) deck.keys.emplace_back(path, v);
    // A value set on the command line wins over a sweep of the same key.
    deck.sweep.erase(std::remove_if(deck.sweep.begin(), deck.sweep.end(),
                                    [&](auto& ax) { return ax.first == path; }),
                     deck.sweep.end());
  }
}

std::vector<RunSpec> resolve_runs(const RawDeck& deck, const ParamRegistry& reg) {
  std::map<std::string, Value> base;
  for (const auto& s : reg.specs()) base[s.path] = s.default_value;
  for (const auto& [path, v] : deck.keys)
    base[path] = coerce(lookup(reg, path, deck.file), v, deck.file);

  std::vector<std::pair<const ParamSpec*, std::vector<Value>>> axes;
  for (const auto& [path, values] : deck.sweep) {
    const ParamSpec& spec = lookup(reg, path, deck.file + ": sweep");
    std::vector<Value> typed;
    for (const auto& v : values) typed.push_back(coerce(spec, v, deck.file + ": sweep"));
    axes.emplace_back(&spec, std::move(typed));
  }
  std::size_t count = axes.empty() ? 1 : (deck.zip ? axes[0].second.size() : 1);
  for (const auto& ax : axes) {
    if (deck.zip && ax.second.size() != count)
      throw InputError(deck.file +
                       ": sweep: with zip: true every key needs the same number of "
                       "values");
    if (!deck.zip) count *= ax.second.size();
  }
  std::vector<RunSpec> runs;
  for (std::size_t r = 0; r < count; ++r) {
    RunSpec run;
    run.id = static_cast<int>(r);
    auto values = base;
    std::size_t rest = r;
    // Product order: the last axis varies fastest.
    std::vector<std::size_t> index(axes.size());
    for (std::size_t a = axes.size(); a-- > 0;) {
      if (deck.zip) {
        index[a] = r;
      } else {
        index[a] = rest % axes[a].second.size();
        rest /= axes[a].second.size();
      }
    }
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const Value& v = axes[a].second[index[a]];
      values[axes[a].first->path] = v;
      run.overrides.emplace_back(axes[a].first->path, v);
    }
    run.params = ParamSet(reg.module(), std::move(values));
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace frost::core
