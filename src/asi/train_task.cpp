#include "asi/train_task.hpp"

#include <chrono>
#include <cmath>

#include "asi/cycle_basis.hpp"
#include "asi/enumerate.hpp"
#include "asi/neural_sampler.hpp"

namespace frost::asi {

void declare_train_params(core::ParamRegistry& reg) {
  reg.add_int("train.layers", 2, "EIGN layers K").min(1).max(16);
  reg.add_int("train.width", 8, "EIGN channels d per kind (equivariant, invariant)").min(1).max(64);
  reg.add_int("train.epochs", 100, "REINFORCE + Adam steps").min(1);
  reg.add_int("train.batch", 32, "samples per step (one batched network pass per loop)").min(1);
  reg.add_real("train.learning_rate", 1e-2, "Adam step size").min(0);
  reg.add_int("train.kl_every", 10, "epochs between exact KL evaluations (0: off)").min(0);
  reg.add_int("train.enumerate_max", 1 << 16,
              "largest sector enumerated for the exact KL to uniform (states)")
      .min(0);
}

void run_train_task(core::RunContext& ctx, const Lattice& lattice) {
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
}

}  // namespace frost::asi
