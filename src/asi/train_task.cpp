#include "asi/train_task.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <stdexcept>
#include <unordered_map>

#include "asi/cycle_basis.hpp"
#include "asi/enumerate.hpp"
#include "asi/learned_proposal.hpp"
#include "asi/loop_sampler.hpp"
#include "asi/mode_b.hpp"
#include "asi/neural_sampler.hpp"
#include "asi/observables.hpp"
#include "asi/sample_quality.hpp"
#include "core/line_plot.hpp"

namespace frost::asi {

void declare_train_params(core::ParamRegistry& reg) {
  reg.add_choice("train.mode", "a", {"a", "b", "proposal"},
                 "sampler: a = over the basis loops (every sample an ice state), b = over the "
                 "islands with an annealed ice penalty, proposal = Metropolis-Hastings with "
                 "network loop proposals (exact for any weights)");
  reg.add_int("train.layers", 2, "EIGN layers K").min(1).max(16);
  reg.add_int("train.width", 8, "EIGN channels d per kind (equivariant, invariant)").min(1).max(64);
  reg.add_choice("train.evaluation", "patch", {"patch", "full"},
                 "mode a: network pass per loop step on the loop's receptive patch (O(1) in L, "
                 "logits identical) or on the whole lattice");
  reg.add_int("train.epochs", 100, "REINFORCE + Adam steps").min(1);
  reg.add_int("train.batch", 32, "samples per step (one batched network pass per loop)").min(1);
  reg.add_real("train.learning_rate", 1e-2, "Adam step size").min(0);
  reg.add_int("train.kl_every", 10, "epochs between exact KL evaluations (0: off)").min(0);
  reg.add_int("train.samples", 256,
              "mode a: samples drawn after training for the quality metrics (distinct states, "
              "Hamming distance, importance ESS, observables against loop Monte Carlo; 0: off)")
      .min(0)
      .max(1 << 20);
  reg.add_int("train.mc_chains", 16,
              "mode a metrics: loop Monte Carlo reference chains (short_loop, uniform ensemble)")
      .min(1)
      .max(1 << 16);
  reg.add_int("train.mc_burn_in", 1000, "mode a metrics: loop Monte Carlo sweeps discarded").min(0);
  reg.add_int("train.mc_thin", 20,
              "mode a metrics: loop Monte Carlo sweeps between recorded samples (each chain "
              "records ceil(train.samples / train.mc_chains))")
      .min(1);
  reg.add_bool(
      "train.plot", true,
      "write the training curve as train_curve.png under runs/<id>/ (proposal: when trained)");
  reg.add_int("train.enumerate_max", 1 << 16,
              "largest sector enumerated for the exact KL to uniform (states)")
      .min(0);
  // Mode B.
  reg.add_real("train.anneal.t_start", 1.0,
               "mode b: temperature T at the first epoch (energy units)")
      .min(1e-6);
  reg.add_real("train.anneal.t_end", 0.1, "mode b: temperature T at the end of the annealing")
      .min(1e-6);
  reg.add_real("train.anneal.lambda_start", 0.5,
               "mode b: weight lambda of the ice penalty ||B1 sigma||^2 at the first epoch")
      .min(1e-9);
  reg.add_real("train.anneal.lambda_end", 5.0, "mode b: lambda at the end of the annealing")
      .min(1e-9);
  reg.add_real("train.anneal.fraction", 0.8,
               "mode b: fraction of the epochs over which T and lambda move geometrically")
      .min(0)
      .max(1);
  reg.add_choice("train.energy", "none", {"none", "thermal"},
                 "modes b and proposal: H = 0 (uniform over ice states) or the thermal.model "
                 "energy (vertex, charge or pair) with the thermal.* constants");
  // Learned proposals.
  reg.add_real("train.proposal.temperature", 1.0,
               "proposal with energy thermal: target exp(-H / T) (energy units)")
      .min(1e-6);
  reg.add_int("train.proposal.train_epochs", 0,
              "proposal: training steps on the mean acceptance before sampling (0: random weights)")
      .min(0);
  reg.add_real("train.proposal.entropy_weight", 0.5,
               "proposal training: weight of the proposal entropy next to the mean acceptance")
      .min(0);
  reg.add_int("train.proposal.chains", 16, "proposal: chains, one network pass over all per step")
      .min(1);
  reg.add_int("train.proposal.burn_in", 200, "proposal: steps per chain discarded").min(0);
  reg.add_int("train.proposal.steps", 2000, "proposal: recorded steps per chain").min(2);
}

namespace {

EnergyConstants thermal_constants(const core::ParamSet& p) {
  EnergyConstants c;
  c.model = parse_energy_model(p.get_string("thermal.model"));
  c.charge_energy = p.get_real("thermal.charge_energy");
  c.type_energy[0] = p.get_real("thermal.eps_I");
  c.type_energy[1] = p.get_real("thermal.eps_II");
  c.type_energy[2] = p.get_real("thermal.eps_III");
  c.type_energy[3] = p.get_real("thermal.eps_IV");
  c.pair_coupling = p.get_real("thermal.pair_coupling");
  if (c.model == kDipolarModel) {
    throw std::invalid_argument(
        "train: thermal.model dipolar is not supported by modes b and proposal");
  }
  return c;
}

/// Column c of a row-major table with `cols` columns.
std::vector<double> column(const std::vector<double>& table, int cols, int c) {
  std::vector<double> out;
  for (std::size_t i = static_cast<std::size_t>(c); i < table.size(); i += cols)
    out.push_back(table[i]);
  return out;
}

bool any_finite(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

/// Adds train_curve.png (written beside frost.h5 under runs/<id>/, atomically, by the output
/// stage) when train.plot is set. A chart that cannot be drawn is reported, not fatal.
void attach_plot(core::RunContext& ctx, const core::LinePlot& plot) {
  if (!ctx.params.get_bool("train.plot")) return;
  try {
    ctx.result.artifacts.push_back({"train_curve.png", core::line_plot_png(plot)});
  } catch (const std::exception& e) {
    ctx.result.set("plot_error", core::Value::of_string(e.what()));
  }
}

void run_mode_a(core::RunContext& ctx, const Lattice& lattice);

/// Mode B: annealed REINFORCE; exact ice mass and KL to uniform over the ice states when they
/// can be enumerated.
void run_mode_b(core::RunContext& ctx, const Lattice& lattice) {
  using Exec = Kokkos::DefaultExecutionSpace;
  using Memory = Exec::memory_space;
  const auto& p = ctx.params;
  Exec exec;
  EdgeSamplerConfig config;
  config.network.layers = static_cast<int>(p.get_int("train.layers"));
  config.network.width = static_cast<int>(p.get_int("train.width"));
  config.learning_rate = p.get_real("train.learning_rate");
  config.seed = ctx.seed;
  config.with_energy = p.get_string("train.energy") == "thermal";
  if (config.with_energy) config.energy = thermal_constants(p);
  EdgeAutoregressiveSampler<Memory> sampler(lattice, config);
  const int epochs = static_cast<int>(p.get_int("train.epochs"));
  const int batch = static_cast<int>(p.get_int("train.batch"));
  const int kl_every = static_cast<int>(p.get_int("train.kl_every"));
  AnnealSchedule schedule;
  schedule.t_start = p.get_real("train.anneal.t_start");
  schedule.t_end = p.get_real("train.anneal.t_end");
  schedule.lambda_start = p.get_real("train.anneal.lambda_start");
  schedule.lambda_end = p.get_real("train.anneal.lambda_end");
  schedule.epochs =
      std::max(1, static_cast<int>(std::lround(p.get_real("train.anneal.fraction") * epochs)));

  // All ice states (every sector: Mode B is not confined to one), when few enough.
  std::vector<std::vector<std::int8_t>> ice;
  if (build_cycle_basis(lattice).beta1 <= 30) {
    try {
      ice = all_ice_states(lattice, static_cast<std::uint64_t>(p.get_int("train.enumerate_max")));
    } catch (const std::length_error&) {
      ice.clear();
    }
  }
  // q summed over the ice states, and KL of q conditioned on them to uniform over them.
  auto exact_ice = [&](double& mass, double& kl) {
    const std::vector<double> lq = sampler.log_q(exec, ice);
    mass = 0.0;
    for (double v : lq) mass += std::exp(v);
    kl = 0.0;
    const double log_n = std::log(static_cast<double>(ice.size()));
    for (double v : lq) {
      const double qc = std::exp(v) / mass;
      if (qc > 0.0) kl += qc * (std::log(qc) + log_n);
    }
  };

  constexpr int kColumns = 11;
  std::vector<double> curve, violations;
  double mass = std::nan(""), kl = std::nan("");
  const auto t0 = std::chrono::steady_clock::now();
  EdgeTrainStats stats;
  double tail_violations = 0.0;
  const int tail = std::max(1, epochs / 10);
  for (int e = 0; e < epochs; ++e) {
    stats = sampler.train_step(exec, batch, static_cast<std::uint32_t>(ctx.run_id) * 1000003u + e,
                               schedule.temperature(e), schedule.penalty_weight(e));
    double mass_now = std::nan(""), kl_now = std::nan("");
    if (!ice.empty() && kl_every > 0 && ((e + 1) % kl_every == 0 || e + 1 == epochs)) {
      exact_ice(mass_now, kl_now);
      mass = mass_now;
      kl = kl_now;
    }
    if (e >= epochs - tail) tail_violations += stats.violation_fraction / tail;
    violations.push_back(stats.violation_fraction);
    curve.insert(curve.end(), {double(e), stats.loss, stats.mean_log_q, stats.mean_energy,
                               stats.mean_penalty, stats.violation_fraction, stats.temperature,
                               stats.penalty_weight, stats.grad_norm, mass_now, kl_now});
    ctx.progress.update(double(e + 1) / epochs, "training");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto& res = ctx.result;
  // Columns: epoch, loss, mean ln q, mean H, mean penalty, violation fraction, T, lambda,
  // gradient norm, exact ice mass, exact KL to uniform on the ice states (NaN when not
  // evaluated).
  res.add_f64("train/curve", {static_cast<std::uint64_t>(epochs), kColumns}, curve);
  res.add_f64("train/violation_fraction", {static_cast<std::uint64_t>(epochs)}, violations);
  res.set("mode", core::Value::of_string("b"));
  {
    const std::vector<double> x = column(curve, kColumns, 0);
    core::LinePlot plot;
    plot.title = "MODE B TRAINING";
    plot.x_label = "EPOCH";
    plot.panels.push_back({"MEAN LN Q", {{"", x, column(curve, kColumns, 2)}}, false});
    plot.panels.push_back({"ICE VIOLATION FRACTION", {{"", x, violations}}, false});
    const std::vector<double> kls = column(curve, kColumns, 10);
    if (any_finite(kls)) plot.panels.push_back({"KL TO UNIFORM ON ICE", {{"", x, kls}}, true});
    attach_plot(ctx, plot);
  }
  res.set("islands", core::Value::of_int(lattice.edge_count()));
  res.set("epochs", core::Value::of_int(epochs));
  res.set("loss", core::Value::of_real(stats.loss));
  res.set("mean_log_q", core::Value::of_real(stats.mean_log_q));
  res.set("violation_fraction", core::Value::of_real(tail_violations));
  res.set("ice_mass", core::Value::of_real(mass));
  res.set("kl_uniform_ice", core::Value::of_real(kl));
  res.set("ice_states", core::Value::of_int(static_cast<long long>(ice.size())));
  res.set("max_log_q_mismatch", core::Value::of_real(stats.max_log_q_mismatch));
  res.set("epochs_per_second", core::Value::of_real(secs > 0 ? epochs / secs : 0.0));
  // One network pass per free island per epoch serves the whole batch.
  res.set(
      "eign_sample_passes_per_second",
      core::Value::of_real(secs > 0 ? double(epochs) * batch * lattice.edge_count() / secs : 0.0));
}

/// Learned proposals: optional training, then recorded chains with acceptance, ESS of the net
/// moment and the vertex energy, and a uniformity test when the reachable set is enumerable.
void run_proposal(core::RunContext& ctx, const Lattice& lattice) {
  using Exec = Kokkos::DefaultExecutionSpace;
  using Memory = Exec::memory_space;
  const auto& p = ctx.params;
  Exec exec;
  const CycleBasis basis = build_cycle_basis(lattice);
  const std::vector<std::int8_t> reference = ice_reference_state(lattice);
  ProposalConfig config;
  config.network.layers = static_cast<int>(p.get_int("train.layers"));
  config.network.width = static_cast<int>(p.get_int("train.width"));
  config.learning_rate = p.get_real("train.learning_rate");
  config.entropy_weight = p.get_real("train.proposal.entropy_weight");
  config.seed = ctx.seed;
  if (p.get_string("train.energy") == "thermal") {
    config.energy = thermal_constants(p);
    config.beta = 1.0 / p.get_real("train.proposal.temperature");
  }
  LearnedProposalSampler<Memory> sampler(lattice, basis, config);
  const int chains = static_cast<int>(p.get_int("train.proposal.chains"));
  const int train_epochs = static_cast<int>(p.get_int("train.proposal.train_epochs"));
  const std::uint32_t run = static_cast<std::uint32_t>(ctx.run_id);
  auto& res = ctx.result;
  const auto t_train = std::chrono::steady_clock::now();
  if (train_epochs > 0) {
    sampler.start(exec, reference, chains, run, static_cast<std::uint32_t>(chains));
    std::vector<double> curve;
    for (int e = 0; e < train_epochs; ++e) {
      const ProposalTrainStats st = sampler.train_step(exec);
      curve.insert(curve.end(), {double(e), st.mean_acceptance, st.mean_entropy, st.grad_norm});
      ctx.progress.update(0.5 * (e + 1) / train_epochs, "training proposals");
    }
    // Columns: epoch, mean acceptance probability, mean proposal entropy (nats), gradient norm.
    res.add_f64("train/curve", {static_cast<std::uint64_t>(train_epochs), 4}, curve);
    const std::vector<double> x = column(curve, 4, 0);
    core::LinePlot plot;
    plot.title = "PROPOSAL TRAINING";
    plot.x_label = "EPOCH";
    plot.panels.push_back({"MEAN ACCEPTANCE", {{"", x, column(curve, 4, 1)}}, false});
    plot.panels.push_back({"PROPOSAL ENTROPY", {{"", x, column(curve, 4, 2)}}, false});
    attach_plot(ctx, plot);
  }
  const double train_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_train).count();

  // The reachable set (closure under directed basis-loop reversals), when small enough.
  const std::size_t limit = static_cast<std::size_t>(p.get_int("train.enumerate_max"));
  const int n1 = lattice.edge_count();
  std::unordered_map<std::uint64_t, double> visits;
  {
    std::deque<std::vector<std::int8_t>> queue = {reference};
    visits[state_hash(reference.data(), n1)] = 0.0;
    while (!queue.empty() && visits.size() <= limit) {
      const std::vector<std::int8_t> s = queue.front();
      queue.pop_front();
      for (int i = 0; i < basis.loop_count(); ++i) {
        if (loop_direction(basis, i, s) == 0) continue;
        std::vector<std::int8_t> t = s;
        flip_loop(basis, i, t);
        if (visits.emplace(state_hash(t.data(), n1), 0.0).second) queue.push_back(t);
      }
    }
    if (!queue.empty()) visits.clear();  // too large to enumerate
  }

  // Recorded chains; fresh streams (chains 0 .. chains-1), the weights now frozen.
  const int burn_in = static_cast<int>(p.get_int("train.proposal.burn_in"));
  const int steps = static_cast<int>(p.get_int("train.proposal.steps"));
  sampler.start(exec, reference, chains, run);
  const SamplerGraph graph = build_sampler_graph(lattice);
  const EnergyConstants vertex_model;
  const std::vector<double> no_field(n1, 0.0);
  std::vector<double> mx, my, en;         // [step][chain]
  std::vector<std::uint64_t> trajectory;  // state hashes, [step][chain]
  std::vector<std::int8_t> s(n1);
  double step_secs = 0.0;
  auto timed_steps = [&](int count) {
    const auto t = std::chrono::steady_clock::now();
    sampler.step(exec, count);
    exec.fence();
    step_secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  timed_steps(burn_in);
  const double burn_secs = step_secs;
  step_secs = 0.0;
  for (int k = 0; k < steps; ++k) {
    timed_steps(1);
    auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), sampler.states());
    for (int c = 0; c < chains; ++c) {
      double x = 0.0, y = 0.0;
      for (int e = 0; e < n1; ++e) {
        s[e] = host(c, e);
        x += s[e] * lattice.island_axis[e][0];
        y += s[e] * lattice.island_axis[e][1];
      }
      mx.push_back(x / n1);
      my.push_back(y / n1);
      en.push_back(configuration_energy(graph, vertex_model, no_field, s) / n1);
      if (!visits.empty()) trajectory.push_back(state_hash(s.data(), n1));
    }
    ctx.progress.update(0.5 + 0.5 * (k + 1) / steps, "sampling");
  }
  auto proposed = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), sampler.proposed());
  auto accepted = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), sampler.accepted());
  std::vector<double> acceptance(chains);
  double total_proposed = 0.0, total_accepted = 0.0;
  for (int c = 0; c < chains; ++c) {
    acceptance[c] = proposed(c) ? double(accepted(c)) / double(proposed(c)) : 0.0;
    total_proposed += double(proposed(c));
    total_accepted += double(accepted(c));
  }
  const SeriesStats smx = series_stats(mx, steps, chains);
  const SeriesStats smy = series_stats(my, steps, chains);
  const SeriesStats sen = series_stats(en, steps, chains);
  const double ess = std::min({smx.ess, smy.ess, sen.ess});
  res.add_f64("proposal/acceptance", {static_cast<std::uint64_t>(chains)}, acceptance);
  // Per observable (m_x, m_y, vertex energy per island): tau_int in steps, ESS.
  res.add_f64("proposal/tau_ess", {3, 2},
              {smx.tau_int, smx.ess, smy.tau_int, smy.ess, sen.tau_int, sen.ess});
  res.set("mode", core::Value::of_string("proposal"));
  res.set("loops", core::Value::of_int(basis.beta1));
  res.set("trained_epochs", core::Value::of_int(train_epochs));
  res.set("training_seconds", core::Value::of_real(train_secs));
  res.set("acceptance_rate",
          core::Value::of_real(total_proposed > 0 ? total_accepted / total_proposed : 0.0));
  res.set("ess", core::Value::of_real(ess));
  res.set("ess_per_second", core::Value::of_real(step_secs > 0 ? ess / step_secs : 0.0));
  res.set("steps_per_second",
          core::Value::of_real(step_secs > 0 ? double(steps) * chains / step_secs : 0.0));
  res.set("burn_in_seconds", core::Value::of_real(burn_secs));
  res.set("max_tau_int", core::Value::of_real(std::max({smx.tau_int, smy.tau_int, sen.tau_int})));
  if (!visits.empty()) {
    // Consecutive states are correlated; counting every ceil(2 tau)-th step keeps the
    // chi-square test's independence assumption roughly true.
    const int thin = std::max(
        1, static_cast<int>(std::ceil(2.0 * std::max({smx.tau_int, smy.tau_int, sen.tau_int}))));
    for (int k = 0; k < steps; k += thin) {
      for (int c = 0; c < chains; ++c) {
        auto it = visits.find(trajectory[static_cast<std::size_t>(k) * chains + c]);
        if (it == visits.end()) throw std::logic_error("proposal chain left the reachable set");
        it->second += 1.0;
      }
    }
    res.set("uniformity_thin", core::Value::of_int(thin));
    std::vector<double> counts;
    double visited = 0.0;
    for (const auto& [h, n] : visits) {
      counts.push_back(n);
      visited += n > 0 ? 1.0 : 0.0;
    }
    const UniformityTest u = uniformity_test(counts);
    res.set("reachable_states", core::Value::of_int(static_cast<long long>(counts.size())));
    res.set("coverage", core::Value::of_real(visited / counts.size()));
    res.set("kl_empirical_uniform", core::Value::of_real(u.kl));
    res.set("chi2_per_dof", core::Value::of_real(u.dof > 0 ? u.chi2 / u.dof : 0.0));
    res.set("chi2_p_value", core::Value::of_real(u.p_value));
  }
}

}  // namespace

void run_train_task(core::RunContext& ctx, const Lattice& lattice) {
  const std::string mode = ctx.params.get_string("train.mode");
  if (mode == "b") return run_mode_b(ctx, lattice);
  if (mode == "proposal") return run_proposal(ctx, lattice);
  run_mode_a(ctx, lattice);
}

namespace {

/// Sample quality after training (train.samples > 0): N samples of the trained sampler
/// (streams (seed, run_id * 1000003 + epochs, 2^30 + i): keys no training step uses) against
/// loop Monte Carlo in the same charge sector (streams (seed, run_id * 1000003 + epochs + 1,
/// 3 * 2^29 + c)). Mode A samples are independent, so their standard errors are s / sqrt(N);
/// the Monte Carlo errors come from series_stats (autocorrelation over the chains' recorded
/// samples), so thinning that is too short shows up as larger errors, not as false agreement.
template <class Exec, class Sampler>
void mode_a_quality(core::RunContext& ctx, const Lattice& lattice, const Exec& exec,
                    Sampler& sampler, int epochs) {
  const auto& p = ctx.params;
  const int n = static_cast<int>(p.get_int("train.samples"));
  if (n <= 0) return;
  const int n1 = lattice.edge_count();
  const std::uint32_t run =
      static_cast<std::uint32_t>(ctx.run_id) * 1000003u + static_cast<std::uint32_t>(epochs);
  constexpr int kChunk = 256;  // samples per sample() call (bounds memory; results do not depend
                               // on it: every sample has its own stream)
  std::vector<std::int8_t> nn_states;
  std::vector<double> nn_log_q;
  nn_states.reserve(static_cast<std::size_t>(n) * n1);
  const auto t0 = std::chrono::steady_clock::now();
  for (int first = 0; first < n; first += kChunk) {
    const int count = std::min(kChunk, n - first);
    auto batch = sampler.sample(exec, count, run, (1u << 30) + static_cast<std::uint32_t>(first));
    auto lq = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), batch.log_q);
    auto st = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), batch.states);
    for (int i = 0; i < count; ++i) {
      nn_log_q.push_back(lq(i));
      nn_states.insert(nn_states.end(), &st(i, 0), &st(i, 0) + n1);
    }
  }
  const double nn_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int chains = std::min(static_cast<int>(p.get_int("train.mc_chains")), n);
  const int per_chain = std::max(2, (n + chains - 1) / chains);
  const int burn_in = static_cast<int>(p.get_int("train.mc_burn_in"));
  const int thin = static_cast<int>(p.get_int("train.mc_thin"));
  const auto t1 = std::chrono::steady_clock::now();
  const std::vector<std::int8_t> mc_states = loop_mc_states(
      lattice, sampler.reference(), chains, per_chain, burn_in, thin, ctx.seed, run + 1u, 3u << 29);
  const double mc_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  const int mc_n = per_chain * chains;

  const StateObservables observables(lattice);
  const auto& names = observables.names();
  const int nobs = static_cast<int>(names.size());
  auto measure_all = [&](const std::vector<std::int8_t>& states, int count) {
    std::vector<double> table;  // [state][observable]
    table.reserve(static_cast<std::size_t>(count) * nobs);
    for (int i = 0; i < count; ++i) observables.measure(&states[std::size_t(i) * n1], table);
    return table;
  };
  const std::vector<double> nn_table = measure_all(nn_states, n);
  const std::vector<double> mc_table = measure_all(mc_states, mc_n);

  auto& res = ctx.result;
  const ImportanceStats is = importance_stats(nn_log_q);
  res.set("nn_samples", core::Value::of_int(n));
  res.set("nn_distinct_states",
          core::Value::of_int(static_cast<long long>(distinct_states(nn_states, n1))));
  res.set("nn_mean_hamming", core::Value::of_real(mean_pair_hamming(nn_states, n1)));
  res.set("nn_ess", core::Value::of_real(is.ess));
  res.set("nn_ess_fraction", core::Value::of_real(is.ess_fraction));
  res.set("nn_log_states_estimate", core::Value::of_real(is.log_mean_weight));
  res.set("nn_sample_seconds", core::Value::of_real(nn_secs));
  res.set("mc_samples", core::Value::of_int(mc_n));
  res.set("mc_chains", core::Value::of_int(chains));
  res.set("mc_burn_in", core::Value::of_int(burn_in));
  res.set("mc_thin", core::Value::of_int(thin));
  res.set("mc_distinct_states",
          core::Value::of_int(static_cast<long long>(distinct_states(mc_states, n1))));
  res.set("mc_mean_hamming", core::Value::of_real(mean_pair_hamming(mc_states, n1)));
  res.set("mc_seconds", core::Value::of_real(mc_secs));
  std::string joined;
  std::vector<double> table;  // per observable: nn mean, nn error, mc mean, mc error, z, mc tau
  double max_abs_z = 0.0, max_tau = 0.5;
  for (int o = 0; o < nobs; ++o) {
    std::vector<double> a;
    for (int i = 0; i < n; ++i) a.push_back(nn_table[std::size_t(i) * nobs + o]);
    std::vector<double> b;  // [sample][chain], as series_stats wants
    for (int i = 0; i < mc_n; ++i) b.push_back(mc_table[std::size_t(i) * nobs + o]);
    const MeanError nn = mean_error(a);
    const SeriesStats mc = series_stats(b, per_chain, chains);
    const double z = z_score(nn.mean, nn.error, mc.mean, mc.error);
    if (std::isfinite(z)) max_abs_z = std::max(max_abs_z, std::fabs(z));
    if (!mc.constant) max_tau = std::max(max_tau, mc.tau_int);
    const std::string& name = names[o];
    res.set("nn_" + name, core::Value::of_real(nn.mean));
    res.set("nn_" + name + "_err", core::Value::of_real(nn.error));
    res.set("mc_" + name, core::Value::of_real(mc.mean));
    res.set("mc_" + name + "_err", core::Value::of_real(mc.error));
    res.set("z_" + name, core::Value::of_real(z));
    joined += (joined.empty() ? "" : ",") + name;
    table.insert(table.end(), {nn.mean, nn.error, mc.mean, mc.error, z, mc.tau_int});
  }
  res.set("quality_observables", core::Value::of_string(joined));
  res.set("quality_max_abs_z", core::Value::of_real(max_abs_z));
  res.set("mc_max_tau_int", core::Value::of_real(max_tau));
  const auto un = static_cast<std::uint64_t>(n), umc = static_cast<std::uint64_t>(mc_n),
             uobs = static_cast<std::uint64_t>(nobs);
  // Rows: the observables of quality_observables; columns: Mode A mean, its standard error,
  // loop Monte Carlo mean, its standard error, z-score, Monte Carlo tau_int (recorded samples).
  res.add_f64("quality/observables", {uobs, 6}, table);
  res.add_f64("quality/nn_log_q", {un}, nn_log_q);
  res.add_f64("quality/nn_values", {un, uobs}, nn_table);   // [sample][observable]
  res.add_f64("quality/mc_values", {umc, uobs}, mc_table);  // [sample * chains + chain][obs]
}

/// Mode A: REINFORCE towards uniform over the reachable states, exact KL when enumerable.
void run_mode_a(core::RunContext& ctx, const Lattice& lattice) {
  using Exec = Kokkos::DefaultExecutionSpace;
  using Memory = Exec::memory_space;
  const auto& p = ctx.params;
  Exec exec;
  const CycleBasis basis = build_cycle_basis(lattice);
  const std::vector<std::int8_t> reference = ice_reference_state(lattice);
  LoopSamplerNetConfig config;
  config.network.layers = static_cast<int>(p.get_int("train.layers"));
  config.network.width = static_cast<int>(p.get_int("train.width"));
  config.learning_rate = p.get_real("train.learning_rate");
  config.seed = ctx.seed;
  config.evaluation =
      p.get_string("train.evaluation") == "full" ? LoopEvaluation::full : LoopEvaluation::patch;
  LoopAutoregressiveSampler<Memory> sampler(lattice, basis, reference, config);

  // The whole sector, when small enough, gives the exact KL of q to uniform on its support.
  std::vector<std::vector<std::int8_t>> sector;
  const long limit = p.get_int("train.enumerate_max");
  if (basis.beta1 <= 30) {
    bool overflow = false;
    for_each_state_in_sector(basis, reference, [&](const std::vector<std::int8_t>& s) {
      if (static_cast<long>(sector.size()) >= limit) overflow = true;
      if (!overflow) sector.push_back(s);
    });
    if (overflow) sector.clear();
  }

  const int epochs = static_cast<int>(p.get_int("train.epochs"));
  const int batch = static_cast<int>(p.get_int("train.batch"));
  const int kl_every = static_cast<int>(p.get_int("train.kl_every"));
  std::vector<double> curve;  // epoch, mean ln q, grad norm, exact KL (NaN when not evaluated)
  double kl = std::nan(""), support = std::nan("");
  auto t0 = std::chrono::steady_clock::now();
  LoopTrainStats stats;
  for (int e = 0; e < epochs; ++e) {
    stats = sampler.train_step(exec, batch, static_cast<std::uint32_t>(ctx.run_id) * 1000003u + e);
    double kl_now = std::nan("");
    if (!sector.empty() && kl_every > 0 && ((e + 1) % kl_every == 0 || e + 1 == epochs)) {
      ExactKl ex = sampler.exact_kl_to_uniform(exec, sector);
      kl_now = kl = ex.kl;
      support = static_cast<double>(ex.support);
    }
    curve.insert(curve.end(), {double(e), stats.mean_log_q, stats.grad_norm, kl_now});
    ctx.progress.update(double(e + 1) / epochs, "training");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto& res = ctx.result;
  res.add_f64("train/curve", {static_cast<std::uint64_t>(epochs), 4}, curve);
  res.set("loops", core::Value::of_int(basis.beta1));
  res.set("epochs", core::Value::of_int(epochs));
  res.set("mean_log_q", core::Value::of_real(stats.mean_log_q));
  res.set("entropy_estimate", core::Value::of_real(-stats.mean_log_q));
  res.set("kl_uniform", core::Value::of_real(kl));
  res.set("support_states", core::Value::of_real(support));
  res.set("sector_states", core::Value::of_int(static_cast<long long>(sector.size())));
  res.set("epochs_per_second", core::Value::of_real(secs > 0 ? epochs / secs : 0.0));
  // One network pass per loop per epoch serves the whole batch.
  res.set("eign_sample_passes_per_second",
          core::Value::of_real(secs > 0 ? double(epochs) * batch * basis.beta1 / secs : 0.0));
  res.set("mode", core::Value::of_string("a"));
  ctx.progress.update(1.0, "sample metrics");
  mode_a_quality(ctx, lattice, exec, sampler, epochs);

  const std::vector<double> x = column(curve, 4, 0);
  core::LinePlot plot;
  plot.title = "MODE A TRAINING, " + lattice.kind + " " + lattice.boundary + ", " +
               std::to_string(lattice.edge_count()) + " ISLANDS";
  plot.x_label = "EPOCH";
  core::PlotPanel lnq{"MEAN LN Q", {{"BATCH MEAN", x, column(curve, 4, 1)}}, false};
  if (!sector.empty()) {  // the uniform target's ln q
    const double target = -std::log(static_cast<double>(sector.size()));
    lnq.series.push_back({"-LN SECTOR", {x.front(), x.back()}, {target, target}});
    if (std::isfinite(support) && support > 0) {  // the states Mode A reaches (exact KL)
      const double reach = -std::log(support);
      lnq.series.push_back({"-LN SUPPORT", {x.front(), x.back()}, {reach, reach}});
    }
  } else if (const core::Value* est = res.find("nn_log_states_estimate")) {
    if (std::isfinite(est->r)) {
      lnq.series.push_back({"-LN STATES IS ESTIMATE", {x.front(), x.back()}, {-est->r, -est->r}});
    }
  }
  plot.panels.push_back(lnq);
  const std::vector<double> kls = column(curve, 4, 3);
  if (any_finite(kls)) plot.panels.push_back({"EXACT KL TO UNIFORM", {{"", x, kls}}, true});
  plot.panels.push_back({"GRADIENT NORM", {{"", x, column(curve, 4, 2)}}, true});
  attach_plot(ctx, plot);
}

}  // namespace

}  // namespace frost::asi
