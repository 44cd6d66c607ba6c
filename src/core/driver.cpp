#include "core/driver.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/deck.hpp"
#include "core/error.hpp"
#include "core/output.hpp"
#include "core/provenance.hpp"
#include "core/work_queue.hpp"

namespace frost::core {

namespace fs = std::filesystem;

ParamRegistry module_registry(const Module& m) {
  ParamRegistry reg(m.name());
  reg.add_int("seed", 1,
              "seed of all random streams of the run (streams are keyed by seed, run, chain)")
      .min(0);
  declare_checkpoint_params(reg);
  m.declare(reg);
  return reg;
}

namespace {

/// The base deck with every default filled in, plus the sweep block as given.
std::string resolved_deck_yaml(const RawDeck& deck, const ParamRegistry& reg,
                               const std::vector<RunSpec>& runs) {
  std::vector<std::pair<std::string, std::string>> flat;
  for (const auto& s : reg.specs()) {
    Value v = s.default_value;
    for (const auto& [k, x] : deck.keys)
      if (k == s.path) v = coerce(s, x, deck.file);
    flat.emplace_back(s.path, v.to_yaml());
  }
  std::string out = nested_yaml(flat);
  if (!deck.sweep.empty()) {
    out += "sweep:\n";
    if (deck.zip) out += "  zip: true\n";
    for (const auto& [k, values] : deck.sweep) {
      out += "  " + k + ": [";
      for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + values[i].to_yaml();
      out += "]\n";
    }
  }
  out += "# " + std::to_string(runs.size()) + " run(s)\n";
  return out;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Broadcasts a string from rank 0.
std::string broadcast(MPI_Comm comm, std::string s) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  long n = static_cast<long>(s.size());
  MPI_Bcast(&n, 1, MPI_LONG, 0, comm);
  s.resize(n);
  MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
  return s;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

}  // namespace

int run_deck(const Runtime& rt, const std::vector<const Module*>& modules, const Options& opt) {
  const bool root = rt.rank() == 0;
  auto say_error = [&](const std::string& msg) {
    if (root) std::fprintf(stderr, "frost: error: %s\n", msg.c_str());
  };

  // 1. Validate everything before anything is written.
  std::vector<std::string> names;
  for (auto* m : modules) names.push_back(m->name());
  RawDeck deck;
  const Module* module = nullptr;
  std::vector<RunSpec> runs;
  std::string deck_yaml;
  ParamRegistry reg("");
  try {
    deck = read_deck(opt.deck, names);
    for (auto* m : modules)
      if (m->name() == deck.module) module = m;
    reg = module_registry(*module);
    apply_sets(deck, reg, opt.sets);
    runs = resolve_runs(deck, reg);
    for (const auto& r : runs) module->check(r.params, opt.deck);
    deck_yaml = resolved_deck_yaml(deck, reg, runs);
  } catch (const InputError& e) {
    say_error(e.what());
    return kInputErrorExit;
  }
  if (opt.check_only) {
    if (root)
      std::printf("%s: valid %s deck, %zu run(s)\n", opt.deck.c_str(), deck.module.c_str(),
                  runs.size());
    return 0;
  }

  // 2. The output folder: never overwritten without --overwrite; --resume continues it.
  fs::path dir = opt.output.empty() ? fs::path("frost-output") / fs::path(opt.deck).stem()
                                    : fs::path(opt.output);
  fs::path ckdir = dir / "checkpoints";
  std::string problem;
  if (root) {
    try {
      if (fs::exists(dir) && !opt.resume) {
        if (!opt.overwrite)
          problem = dir.string() +
                    ": output directory exists (use --overwrite to replace it or "
                    "--resume to continue it)";
        else
          fs::remove_all(dir);
      }
      if (problem.empty() && opt.resume && fs::exists(ckdir / "deck.yaml") &&
          read_text(ckdir / "deck.yaml") != deck_yaml)
        problem = dir.string() +
                  ": --resume with a deck that differs from the one the run started "
                  "with (" +
                  (ckdir / "deck.yaml").string() + ")";
      if (problem.empty() && opt.resume && fs::exists(dir / "summary.json") && !fs::exists(ckdir))
        problem = dir.string() + ": this output is complete; nothing to resume";
      if (problem.empty()) {
        fs::create_directories(ckdir);
        if (!fs::exists(ckdir / "deck.yaml"))
          write_file_atomic((ckdir / "deck.yaml").string(), deck_yaml);
      }
    } catch (const std::exception& e) {
      problem = dir.string() + ": " + e.what();
    }
  }
  problem = broadcast(rt.comm(), problem);
  if (!problem.empty()) {
    say_error(problem);
    return kInputErrorExit;
  }

  // 3. Runs finished by an earlier invocation are kept, not redone.
  std::vector<RunResult> done;
  std::string pending_list;
  if (root) {
    for (const auto& r : runs) {
      fs::path f = ckdir / ("run-" + std::to_string(r.id) + ".done");
      bool ok = false;
      if (opt.resume && fs::exists(f)) {
        std::string bytes = read_text(f);
        RunResult res = deserialize(std::vector<char>(bytes.begin(), bytes.end()));
        if (res.ok) {
          done.push_back(std::move(res));
          ok = true;
        }
      }
      if (!ok) pending_list += std::to_string(r.id) + " ";
    }
  }
  pending_list = broadcast(rt.comm(), pending_list);
  std::vector<int> pending;
  {
    std::istringstream in(pending_list);
    for (int id; in >> id;) pending.push_back(id);
  }
  if (root && !opt.quiet && !done.empty())
    std::printf("[frost] resuming %s: %zu of %zu run(s) already done\n", dir.string().c_str(),
                done.size(), runs.size());

  // 4. Runs a module shares over all ranks go first, in order, on every rank; the others are
  // taken by ranks from the shared queue.
  std::vector<int> shared, queued;
  for (int id : pending) (module->shares_ranks(runs[id].params) ? shared : queued).push_back(id);
  Progress progress(root && !opt.quiet, static_cast<long>(pending.size()));
  std::vector<RunResult> mine;
  auto run_one = [&](const RunSpec& spec, long ordinal, MPI_Comm comm) {
    int comm_rank = 0;
    MPI_Comm_rank(comm, &comm_rank);
    RunResult res;
    res.id = spec.id;
    res.rank = rt.rank();
    res.params = spec.overrides;
    res.resolved_deck = spec.params.to_yaml();
    Checkpointer ck((ckdir / ("run-" + std::to_string(spec.id) + ".state")).string(),
                    static_cast<long>(spec.params.get_int("checkpoint.every_steps")),
                    spec.params.get_real("checkpoint.every_seconds"));
    progress.start_run(spec.id, ordinal);
    auto t0 = std::chrono::steady_clock::now();
    try {
      RunContext ctx{spec.params, spec.id, static_cast<std::uint64_t>(spec.params.get_int("seed")),
                     res,         ck,      progress,
                     comm};
      module->run(ctx);
    } catch (const std::exception& e) {
      res.ok = false;
      res.error = e.what();
      std::fprintf(stderr, "frost: error: rank %d, run %d: %s\n", rt.rank(), spec.id, e.what());
    }
    // A shared run fails when it failed on any of its ranks.
    int ok = res.ok, all_ok = ok;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
    if (!all_ok) {
      res.ok = false;
      if (res.error.empty()) res.error = "failed on another rank of the run";
      res.results.clear();
      res.datasets.clear();
      res.artifacts.clear();
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.finish_run(res.ok);
    if (comm_rank != 0) return;
    auto bytes = serialize(res);
    write_file_atomic((ckdir / ("run-" + std::to_string(spec.id) + ".done")).string(),
                      std::string(bytes.begin(), bytes.end()));
    mine.push_back(std::move(res));
  };
  for (std::size_t k = 0; k < shared.size(); ++k)
    run_one(runs[shared[k]], static_cast<long>(k) + 1, rt.comm());
  {
    WorkQueue queue(rt.comm(), static_cast<long>(queued.size()));
    for (long item; (item = queue.next()) >= 0;)
      run_one(runs[queued[item]], static_cast<long>(shared.size()) + item + 1, MPI_COMM_SELF);
  }
  progress.close();

  // 5. Results travel to rank 0, which writes the output.
  std::vector<char> packed;
  for (const auto& r : mine) {
    auto b = serialize(r);
    std::uint64_t n = b.size();
    packed.insert(packed.end(), reinterpret_cast<char*>(&n), reinterpret_cast<char*>(&n) + 8);
    packed.insert(packed.end(), b.begin(), b.end());
  }
  int my_size = static_cast<int>(packed.size());
  std::vector<int> sizes(rt.size()), offsets(rt.size());
  MPI_Gather(&my_size, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, rt.comm());
  std::vector<char> all;
  if (root) {
    long total = 0;
    for (int r = 0; r < rt.size(); ++r) {
      offsets[r] = static_cast<int>(total);
      total += sizes[r];
    }
    all.resize(total);
  }
  MPI_Gatherv(packed.data(), my_size, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR,
              0, rt.comm());
  int exit_code = 0;
  if (root) {
    for (size_t pos = 0; pos < all.size();) {
      std::uint64_t n = 0;
      std::copy(all.begin() + pos, all.begin() + pos + 8, reinterpret_cast<char*>(&n));
      pos += 8;
      done.push_back(deserialize(std::vector<char>(all.begin() + pos, all.begin() + pos + n)));
      pos += n;
    }
    std::sort(done.begin(), done.end(),
              [](const RunResult& a, const RunResult& b) { return a.id < b.id; });
    std::vector<std::string> failures;
    for (const auto& r : done)
      if (!r.ok)
        failures.push_back("run " + std::to_string(r.id) + " (rank " + std::to_string(r.rank) +
                           "): " + r.error);
    try {
      auto prov = Provenance::collect(opt.command_line, rt.size());
      write_outputs(dir.string(), deck_yaml, prov, done);
      if (failures.empty()) fs::remove_all(ckdir);
      if (!opt.quiet) {
        std::string table = module->report(done);
        if (!table.empty()) std::printf("%s", table.c_str());
      }
      std::printf("[frost] %zu run(s), %zu failed; results in %s (frost.h5, summary.json)\n",
                  done.size(), failures.size(), dir.string().c_str());
    } catch (const std::exception& e) {
      failures.push_back(std::string("writing output: ") + e.what());
    }
    if (!failures.empty()) {
      std::fprintf(stderr, "frost: error: %zu failure(s):\n  %s\n", failures.size(),
                   join(failures, "\n  ").c_str());
      if (fs::exists(ckdir))
        std::fprintf(stderr,
                     "frost: completed runs are kept; rerun with --resume to retry the "
                     "failed ones\n");
      exit_code = 1;
    }
    std::fflush(stdout);
  }
  MPI_Bcast(&exit_code, 1, MPI_INT, 0, rt.comm());
  return exit_code;
}

}  // namespace frost::core
