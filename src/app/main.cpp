// frost: command line and dispatch to the module named by the deck's top-level key.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "asi/module.hpp"
#include "core/driver.hpp"
#include "core/error.hpp"
#include "core/provenance.hpp"
#include "core/runtime.hpp"
#include "recurrence/module.hpp"
#include "relax/module.hpp"
#include "seqmodel/module.hpp"
#include "wavefield/module.hpp"

namespace {

const char* kUsage =
    "usage: frost DECK.yaml [--set key.path=value ...] [--output DIR] [--resume] [--overwrite]\n"
    "                       [--quiet]\n"
    "       frost --check DECK.yaml [--set key.path=value ...]\n"
    "       frost --defaults [MODULE]\n"
    "       frost --version\n"
    "       frost --help\n";

std::vector<const frost::core::Module*> all_modules() {
  static const frost::asi::AsiModule asi;
  static const frost::recurrence::RecurrenceModule recurrence;
  static const frost::relax::RelaxModule relax;
  static const frost::wavefield::WavefieldModule wavefield;
  static const frost::seqmodel::SeqModelModule seqmodel;
  return {&asi, &recurrence, &relax, &wavefield, &seqmodel};
}

}  // namespace

int main(int argc, char** argv) {
  frost::core::Runtime rt(argc, argv);
  const bool root = rt.rank() == 0;
  frost::core::Options opt;
  std::string defaults_module;
  bool want_defaults = false, want_version = false;
  for (int i = 0; i < argc; ++i) opt.command_line += (i ? " " : "") + std::string(argv[i]);
  auto usage_error = [&](const std::string& msg) {
    if (root) std::fprintf(stderr, "frost: error: %s\n%s", msg.c_str(), kUsage);
    return frost::core::kInputErrorExit;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)flag;
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      if (root) std::printf("%s", kUsage);
      return 0;
    } else if (a == "--version") {
      want_version = true;
    } else if (a == "--defaults") {
      want_defaults = true;
      if (i + 1 < argc && argv[i + 1][0] != '-') defaults_module = argv[++i];
    } else if (a == "--check") {
      opt.check_only = true;
    } else if (a == "--resume") {
      opt.resume = true;
    } else if (a == "--overwrite") {
      opt.overwrite = true;
    } else if (a == "--quiet" || a == "-q") {
      opt.quiet = true;
    } else if (a == "--set" || a.rfind("--set=", 0) == 0) {
      const char* v = a == "--set" ? value("--set") : argv[i] + 6;
      if (!v) return usage_error("--set needs key.path=value");
      opt.sets.push_back(v);
    } else if (a == "--output" || a == "-o") {
      const char* v = value("--output");
      if (!v) return usage_error("--output needs a folder");
      opt.output = v;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option '" + a + "'");
    } else if (opt.deck.empty()) {
      opt.deck = a;
    } else {
      return usage_error("more than one deck given ('" + opt.deck + "' and '" + a + "')");
    }
  }
  if (want_version) {
    if (root) std::printf("%s", frost::core::version_text().c_str());
    return 0;
  }
  if (want_defaults) {
    std::string names;
    for (auto* m : all_modules()) {
      names += (names.empty() ? "" : ", ") + m->name();
      if (defaults_module.empty() || defaults_module == m->name()) {
        if (root)
          std::printf("# %s: %s\n%s", m->name().c_str(), m->doc().c_str(),
                      frost::core::module_registry(*m).defaults_yaml().c_str());
        if (defaults_module.empty()) break;  // the flagship module's deck runs as it is
        return 0;
      }
    }
    if (!defaults_module.empty())
      return usage_error("--defaults: unknown module '" + defaults_module + "' (allowed: " + names +
                         ")");
    return 0;
  }
  if (opt.deck.empty()) return usage_error("no deck given");
  return frost::core::run_deck(rt, all_modules(), opt);
}
