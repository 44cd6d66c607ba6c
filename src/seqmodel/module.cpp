#include "seqmodel/module.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "core/error.hpp"
#include "core/line_plot.hpp"
#include "seqmodel/corpus.hpp"
#include "seqmodel/delta_lm.hpp"
#include "seqmodel/optim.hpp"
#include "seqmodel/ten_lm.hpp"

namespace frost::seqmodel {

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

constexpr std::uint32_t kChainWindows = 1;
constexpr std::uint32_t kChainProbe = 2;

/// Everything a run reads from the deck.
struct Settings {
  std::string text, precision, bptt, scan;
  double heldout = 0.1;
  TenLmShape shape;
  int chunk = 0, T = 128, B = 16;
  long steps = 0, warmup = 0, eval_every = 0;
  int eval_windows = 0;
  double lr = 0, lr_min = 0, clip = 0;
  AdamWOptions adam;
  InitOptions init;
  bool probe_scan = true, plot = true;
  std::string kind = "ten", delta_method = "auto";
  DeltaLmShape delta;
  int delta_chunk = 0;
};

Settings settings_of(const core::ParamSet& p, std::uint64_t seed, int run) {
  Settings s;
  s.text = p.get_string("text");
  s.heldout = p.get_real("heldout");
  s.precision = p.get_string("precision");
  s.shape.D = static_cast<int>(p.get_int("model.dim"));
  s.shape.L = static_cast<int>(p.get_int("model.layers"));
  s.shape.K = static_cast<int>(p.get_int("model.modes"));
  s.shape.coupled = p.get_bool("model.resonance");
  s.shape.norm_eps = p.get_real("model.norm_eps");
  s.chunk = static_cast<int>(p.get_int("model.chunk"));
  s.bptt = p.get_string("model.bptt");
  s.scan = p.get_string("model.scan");
  const auto& lr = p.get_real_list("model.lambda_range");
  s.init.lambda_min = lr.size() > 0 ? lr[0] : 0.5;
  s.init.lambda_max = lr.size() > 1 ? lr[1] : s.init.lambda_min;
  s.init.embed_std = p.get_real("model.embed_std");
  s.init.seed = seed;
  s.init.run = static_cast<std::uint32_t>(run);
  s.T = static_cast<int>(p.get_int("train.T"));
  s.B = static_cast<int>(p.get_int("train.batch"));
  s.steps = p.get_int("train.steps");
  s.warmup = p.get_int("train.warmup");
  s.lr = p.get_real("train.lr");
  s.lr_min = p.get_real("train.lr_min");
  s.clip = p.get_real("train.clip");
  s.adam.beta1 = p.get_real("train.beta1");
  s.adam.beta2 = p.get_real("train.beta2");
  s.adam.eps = p.get_real("train.eps");
  s.adam.weight_decay = p.get_real("train.weight_decay");
  s.eval_every = p.get_int("eval.every");
  s.eval_windows = static_cast<int>(p.get_int("eval.windows"));
  s.probe_scan = p.get_bool("timing.scan_probe");
  s.kind = p.get_string("model.kind");
  s.plot = p.get_bool("train.plot");
  s.delta.D = s.shape.D;
  s.delta.L = s.shape.L;
  s.delta.H = static_cast<int>(p.get_int("model.heads"));
  s.delta.d = static_cast<int>(p.get_int("model.head_dim"));
  s.delta.norm_eps = s.shape.norm_eps;
  s.delta_method = p.get_string("model.delta_method");
  s.delta_chunk = static_cast<int>(p.get_int("model.delta_chunk"));
  return s;
}

/// Per-step and per-evaluation records; all of it goes into checkpoints.
struct History {
  long step = 0;
  long adam_t = 0;
  double ten_seconds = 0.0, step_seconds = 0.0;
  std::vector<double> loss, lr, grad_norm, tokens_per_s, wall_s;
  std::vector<double> eval_step, eval_loss;

  void save(core::ByteWriter& w) const {
    w.put(step);
    w.put(adam_t);
    w.put(ten_seconds);
    w.put(step_seconds);
    for (const auto* v : {&loss, &lr, &grad_norm, &tokens_per_s, &wall_s, &eval_step, &eval_loss})
      w.put_vector(*v);
  }
  void restore(core::ByteReader& r) {
    step = r.get<long>();
    adam_t = r.get<long>();
    ten_seconds = r.get<double>();
    step_seconds = r.get<double>();
    for (auto* v : {&loss, &lr, &grad_norm, &tokens_per_s, &wall_s, &eval_step, &eval_loss})
      *v = r.get_vector<double>();
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Seconds the eigenstate scans of one training step take on their own: L P forward and L P
/// backward scans of (B, chunk, K), fenced, the fastest of three repetitions.
template <class S>
double probe_scan_seconds(const Exec& exec, const Settings& s, recurrence::EigenPlan plan, int P,
                          int Tc) {
  using EV = recurrence::EigenViews<S, Mem>;
  const int B = s.B, K = s.shape.K;
  typename EV::Seq beta("frost::seqmodel::probe_beta", B, Tc, K),
      c("frost::seqmodel::probe_c", B, Tc, K), gbeta("frost::seqmodel::probe_grad_beta", B, Tc, K);
  typename EV::State c0("frost::seqmodel::probe_c0", B, K), cT("frost::seqmodel::probe_cT", B, K),
      gc0("frost::seqmodel::probe_grad_c0", B, K);
  typename EV::Param lambda("frost::seqmodel::probe_lambda", K),
      omega("frost::seqmodel::probe_omega", K), gl("frost::seqmodel::probe_grad_lambda", K),
      gw("frost::seqmodel::probe_grad_omega", K);
  {
    auto hb = Kokkos::create_mirror_view(beta);
    auto hl = Kokkos::create_mirror_view(lambda);
    auto hw = Kokkos::create_mirror_view(omega);
    core::RandomStream rs(s.init.seed, s.init.run, kChainProbe);
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < Tc; ++t)
        for (int k = 0; k < K; ++k)
          hb(b, t, k) = Kokkos::complex<S>(S(rs.uniform() - 0.5), S(rs.uniform() - 0.5));
    for (int k = 0; k < K; ++k) {
      hl(k) = S(0.5 + 0.49 * rs.uniform());
      hw(k) = S(3.0 * rs.uniform());
    }
    Kokkos::deep_copy(beta, hb);
    Kokkos::deep_copy(lambda, hl);
    Kokkos::deep_copy(omega, hw);
  }
  double best = std::numeric_limits<double>::infinity();
  for (int rep = 0; rep < 3; ++rep) {
    exec.fence();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < s.shape.L * P; ++i) {
      recurrence::eigen_forward<Exec, S, Mem>(exec, plan.method, plan.chunk, lambda, omega, c0,
                                              beta, c, cT);
      recurrence::eigen_backward<Exec, S, Mem>(exec, plan.method, plan.chunk, lambda, omega, c0, c,
                                               beta, gbeta, gc0, gl, gw);
    }
    exec.fence();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

/// The TEN language model behind the training loop's interface: layout, work of a batch shape,
/// forward, backward and what the run reports about the model.
template <class S>
struct TenModel {
  using Flat = typename LmViews<S, Mem>::Flat;
  using Work = TenLmWork<S, Mem>;
  const Settings& s;
  TenLmLayout lay;
  Bptt bptt;
  recurrence::EigenPlan plan{recurrence::EigenMethod::kSequential, 1};
  TenLmTensors<S, Mem> prm;
  Flat piece_grads;

  TenModel(const Exec& exec, const Settings& s_)
      : s(s_),
        lay(make_layout(s_.shape)),
        bptt(s_.bptt == "chunk" ? Bptt::kChunk : Bptt::kSequence) {
    const int chunk = Work::piece_length(s.T, s.chunk);
    plan = recurrence::resolve_eigen_plan_on(exec, recurrence::parse_eigen_method(s.scan), 0, s.B,
                                             chunk, s.shape.K);
    if (s.T / chunk > 1)
      piece_grads =
          Flat(Kokkos::view_alloc(exec, std::string("frost::seqmodel::piece_grads")), lay.total);
  }
  void bind(const Flat& params) { prm = TenLmTensors<S, Mem>(params, s.shape, lay); }
  std::vector<double> initial() const { return initial_params(s.shape, lay, s.init); }
  Work work(const Exec& exec, int B) const { return Work(exec, s.shape, B, s.T, s.chunk); }
  double forward(const Exec& exec, Work& w, bool grad, TenTimer* timer) const {
    return lm_forward<Exec, S, Mem>(exec, s.shape, plan, prm, w, grad, timer);
  }
  void backward(const Exec& exec, const Flat& grads, Work& w, TenTimer* timer) const {
    lm_backward<Exec, S, Mem>(exec, s.shape, lay, plan, bptt, prm, grads, piece_grads, w, timer);
  }
  void describe(core::RunResult& res, const Work& w) const {
    res.set("pieces", core::Value::of_int(w.P));
    res.set("scan_method", core::Value::of_string(recurrence::to_string(plan.method)));
  }
  /// Seconds of the step's eigenstate scans alone (0: not measured).
  double probe(const Exec& exec, const Work& w) const {
    return s.probe_scan ? probe_scan_seconds<S>(exec, s, plan, w.P, w.chunk) : 0.0;
  }
};

/// The DeltaNet language model behind the same interface.
template <class S>
struct DeltaModel {
  using Flat = typename LmViews<S, Mem>::Flat;
  using Work = DeltaLmWork<S, Mem>;
  const Settings& s;
  DeltaLmLayout lay;
  recurrence::DeltaPlan plan;
  DeltaLmTensors<S, Mem> prm;

  DeltaModel(const Exec& exec, const Settings& s_)
      : s(s_),
        lay(make_delta_layout(s_.delta)),
        plan(recurrence::resolve_delta_plan(recurrence::parse_delta_method(s_.delta_method),
                                            s_.delta_chunk, s_.B * s_.delta.H, s_.T, s_.delta.d,
                                            exec.concurrency())) {}
  void bind(const Flat& params) { prm = DeltaLmTensors<S, Mem>(params, s.delta, lay); }
  std::vector<double> initial() const {
    return initial_delta_params(s.delta, lay, s.init.embed_std, s.init.seed, s.init.run);
  }
  Work work(const Exec& exec, int B) const { return Work(exec, s.delta, B, s.T); }
  double forward(const Exec& exec, Work& w, bool grad, TenTimer* timer) const {
    return delta_lm_forward<Exec, S, Mem>(exec, s.delta, plan, prm, w, grad, timer);
  }
  void backward(const Exec& exec, const Flat& grads, Work& w, TenTimer* timer) const {
    delta_lm_backward<Exec, S, Mem>(exec, s.delta, lay, plan, prm, grads, w, timer);
  }
  void describe(core::RunResult& res, const Work&) const {
    // The plan is resolved: auto has become sequential or chunked.
    res.set("delta_method", core::Value::of_string(recurrence::to_string(plan.method)));
    if (plan.method == recurrence::DeltaMethod::kChunked)
      res.set("delta_chunk", core::Value::of_int(plan.chunk));
  }
  double probe(const Exec&, const Work&) const { return 0.0; }
};

template <class S, class Model>
void train(core::RunContext& ctx, const Settings& s) {
  using Flat = typename LmViews<S, Mem>::Flat;
  auto& res = ctx.result;
  const Exec exec;
  const auto t_start = std::chrono::steady_clock::now();
  ByteCorpus corpus;
  try {
    corpus = load_byte_corpus(s.text, s.heldout, s.T);
  } catch (const std::runtime_error& e) {
    throw core::InputError("seqmodel.text: " + std::string(e.what()));
  }

  ctx.progress.update(0.0, "model");
  Model model(exec, s);
  const std::size_t total = model.lay.total;
  Flat params(Kokkos::view_alloc(exec, std::string("frost::seqmodel::params")), total);
  Flat grads(Kokkos::view_alloc(exec, std::string("frost::seqmodel::grads")), total);
  model.bind(params);
  auto work = model.work(exec, s.B);
  AdamW<S, Mem> adam(model.lay);

  const auto eval_starts = heldout_windows(corpus, s.T, s.eval_windows);
  auto eval_work = model.work(exec, static_cast<int>(eval_starts.size()));
  auto evaluate = [&](History& h) {
    load_batch<Exec, S, Mem>(exec, eval_work, corpus.tokens.data(), eval_starts);
    const double loss = model.forward(exec, eval_work, false, nullptr);
    h.eval_step.push_back(double(h.step));
    h.eval_loss.push_back(loss);
  };
  History h;
  if (auto blob = ctx.checkpoint.restore()) {
    core::ByteReader rd(*blob);
    h.restore(rd);
    for (const Flat* v : {&params, &adam.m, &adam.v}) {
      const auto bytes = rd.get_vector<S>();
      if (bytes.size() != total)
        throw std::runtime_error("seqmodel: checkpoint does not match the model's size");
      Kokkos::View<const S*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> hv(
          bytes.data(), bytes.size());
      Kokkos::deep_copy(*v, hv);
    }
    adam.t = h.adam_t;
  } else {
    upload<S, Mem>(model.initial(), params);
    evaluate(h);
  }
  auto save = [&]() {
    h.adam_t = adam.t;
    core::ByteWriter w;
    h.save(w);
    for (const Flat* v : {&params, &adam.m, &adam.v}) {
      auto hv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), *v);
      w.put_vector(std::vector<S>(hv.data(), hv.data() + hv.extent(0)));
    }
    ctx.checkpoint.save(w.bytes);
  };

  const double tokens_per_step = double(s.B) * s.T;
  const double wall0 = h.wall_s.empty() ? 0.0 : h.wall_s.back();
  while (h.step < s.steps) {
    exec.fence();
    const auto t0 = std::chrono::steady_clock::now();
    const auto starts =
        draw_train_windows(corpus, s.B, s.T, ctx.seed, static_cast<std::uint32_t>(ctx.run_id),
                           kChainWindows, static_cast<std::uint64_t>(h.step));
    load_batch<Exec, S, Mem>(exec, work, corpus.tokens.data(), starts);
    TenTimer timer;
    const double loss = model.forward(exec, work, true, &timer);
    model.backward(exec, grads, work, &timer);
    const double gnorm = global_norm<Exec, S, Mem>(exec, grads);
    const double lr = learning_rate(h.step, s.steps, s.warmup, s.lr, s.lr_min);
    const double scale = s.clip > 0.0 && gnorm > s.clip ? s.clip / gnorm : 1.0;
    if (std::isfinite(gnorm)) adam.step(exec, params, grads, lr, scale, s.adam);
    exec.fence();
    const double dt = seconds_since(t0);
    h.loss.push_back(loss);
    h.lr.push_back(lr);
    h.grad_norm.push_back(gnorm);
    h.tokens_per_s.push_back(tokens_per_step / dt);
    h.wall_s.push_back(wall0 + seconds_since(t_start));
    h.ten_seconds += timer.seconds;
    h.step_seconds += dt;
    ++h.step;
    if (h.step % s.eval_every == 0 || h.step == s.steps) evaluate(h);
    char msg[96];
    std::snprintf(msg, sizeof msg, "step %ld loss %.4f %.3g tok/s", h.step, loss,
                  tokens_per_step / dt);
    ctx.progress.update(double(h.step) / double(s.steps), msg);
    if (ctx.checkpoint.due(h.step) && h.step < s.steps) save();
  }
  exec.fence();

  // Results.
  const auto n = static_cast<std::uint64_t>(h.loss.size());
  const auto ne = static_cast<std::uint64_t>(h.eval_loss.size());
  std::vector<double> ppl(h.eval_loss.size());
  for (std::size_t i = 0; i < ppl.size(); ++i) ppl[i] = std::exp(h.eval_loss[i]);
  res.add_f64("train/loss", {n}, h.loss);
  res.add_f64("train/lr", {n}, h.lr);
  res.add_f64("train/grad_norm", {n}, h.grad_norm);
  res.add_f64("train/tokens_per_s", {n}, h.tokens_per_s);
  res.add_f64("train/wall_s", {n}, h.wall_s);
  res.add_f64("eval/step", {ne}, h.eval_step);
  res.add_f64("eval/loss", {ne}, h.eval_loss);
  res.add_f64("eval/perplexity", {ne}, ppl);

  res.set("model", core::Value::of_string(s.kind));
  res.set("precision", core::Value::of_string(s.precision));
  res.set("params", core::Value::of_int(static_cast<long long>(total)));
  res.set("steps", core::Value::of_int(static_cast<long long>(n)));
  model.describe(res, work);
  if (s.plot) {
    // Learning curves: loss against step and against wall time, train and held-out.
    std::vector<double> steps(n), eval_wall;
    for (std::size_t i = 0; i < n; ++i) steps[i] = double(i + 1);
    for (double e : h.eval_step) eval_wall.push_back(e < 1 ? 0.0 : h.wall_s[std::size_t(e) - 1]);
    auto curve = [&](const char* x_label, const std::vector<double>& x,
                     const std::vector<double>& ex) {
      core::LinePlot plot;
      plot.title = s.kind == "deltanet" ? "DELTANET LANGUAGE MODEL" : "TEN LANGUAGE MODEL";
      plot.x_label = x_label;
      plot.panels.push_back(
          {"LOSS NATS PER BYTE", {{"TRAIN", x, h.loss}, {"HELD OUT", ex, h.eval_loss}}, false});
      return core::line_plot_png(plot);
    };
    try {
      res.artifacts.push_back({"learning_curve.png", curve("STEP", steps, h.eval_step)});
      res.artifacts.push_back(
          {"learning_curve_wall.png", curve("WALL SECONDS", h.wall_s, eval_wall)});
    } catch (const std::exception& e) {
      res.set("plot_error", core::Value::of_string(e.what()));
    }
  }
  res.set("text_bytes", core::Value::of_int(static_cast<long long>(corpus.size())));
  res.set("heldout_bytes", core::Value::of_int(static_cast<long long>(corpus.heldout_size())));
  res.set("eval_windows", core::Value::of_int(static_cast<long long>(eval_starts.size())));
  res.set("unigram_entropy", core::Value::of_real(corpus.unigram_entropy));
  res.set("unigram_heldout_ce", core::Value::of_real(corpus.unigram_heldout_ce));
  const std::size_t tail = std::max<std::size_t>(1, h.loss.size() / 10);
  double first = 0.0, last = 0.0;
  for (std::size_t i = 0; i < tail; ++i) {
    first += h.loss[i];
    last += h.loss[h.loss.size() - tail + i];
  }
  res.set("train_loss_first", core::Value::of_real(first / double(tail)));
  res.set("train_loss_final", core::Value::of_real(last / double(tail)));
  res.set("eval_loss_initial", core::Value::of_real(h.eval_loss.front()));
  res.set("eval_loss_final", core::Value::of_real(h.eval_loss.back()));
  res.set("eval_perplexity_final", core::Value::of_real(ppl.back()));
  res.set("eval_loss_best",
          core::Value::of_real(*std::min_element(h.eval_loss.begin(), h.eval_loss.end())));
  res.set("eval_below_unigram",
          core::Value::of_bool(h.eval_loss.back() < corpus.unigram_heldout_ce));
  const double tps = h.step_seconds > 0.0 ? tokens_per_step * double(n) / h.step_seconds : 0.0;
  res.set("tokens_per_s", core::Value::of_real(tps));
  res.set("train_seconds", core::Value::of_real(h.step_seconds));
  // Fenced seconds inside the model's recurrence layers (TEN layers; DeltaNet recurrences).
  res.set("recurrence_fraction",
          core::Value::of_real(h.step_seconds > 0.0 ? h.ten_seconds / h.step_seconds : 0.0));
  if (n > 0) {
    const double scan = model.probe(exec, work);
    if (scan > 0.0) {
      res.set("scan_seconds_per_step", core::Value::of_real(scan));
      res.set("scan_fraction", core::Value::of_real(scan / (h.step_seconds / double(n))));
    }
  }
  ctx.progress.update(1.0, "done");
}

}  // namespace

void SeqModelModule::declare(core::ParamRegistry& reg) const {
  reg.add_string("text", "/usr/share/common-licenses/GPL-3",
                 "text file whose bytes are the tokens (vocabulary: all 256 byte values)");
  reg.add_real("heldout", 0.1, "fraction of the text at its end held out for evaluation")
      .min(0.01)
      .max(0.9);
  reg.add_choice("precision", "f32", {"f32", "f64"},
                 "floating-point precision of parameters, activations and kernels");
  reg.add_choice("model.kind", "ten", {"ten", "deltanet"},
                 "model: byte embedding, pre-norm residual layers of this kind (ten: TEN layers; "
                 "deltanet: delta-rule heads), RMSNorm, linear head");
  reg.add_int("model.dim", 64, "width D of the residual stream").min(1).max(1 << 14);
  reg.add_int("model.layers", 2, "number L of residual TEN blocks x <- x + TEN(RMSNorm(x))")
      .min(1)
      .max(256);
  reg.add_int("model.modes", 32, "complex eigenstate modes K per TEN layer").min(1).max(1 << 14);
  reg.add_bool("model.resonance", true,
               "resonance coupling c' = c + R c between the eigenstates and the output projection");
  reg.add_int("model.chunk", 32,
              "piece length: a window runs in pieces of this many steps, the eigenstates carried "
              "from piece to piece (0: the whole window at once); must divide train.T")
      .min(0)
      .max(1 << 24);
  reg.add_choice("model.bptt", "sequence", {"sequence", "chunk"},
                 "gradient through the carried state: sequence (exact over the whole window) or "
                 "chunk (cut at piece boundaries, as detach in the seed's reference)");
  reg.add_choice("model.scan", "auto", {"auto", "sequential", "chunked", "tiled"},
                 "eigenstate scan of the TEN layers (recurrence.method's eigenstate methods)");
  reg.add_int("model.heads", 4, "deltanet: heads H per layer").min(1).max(1024);
  reg.add_int("model.head_dim", 16,
              "deltanet: key and value width d of a head (each head's state is d x d)")
      .min(1)
      .max(recurrence::kMaxDeltaWidth);
  reg.add_choice("model.delta_method", "auto",
                 {"auto", "sequential", "chunked", "cyclic_reduction", "hillis_steele"},
                 "deltanet: method of the delta-rule recurrence (auto: sequential when its "
                 "threads fill the machine, else chunked)");
  reg.add_int("model.delta_chunk", 0,
              "deltanet: chunk length of the chunked method (0: 64, or train.T when shorter)")
      .min(0)
      .max(1 << 24);
  reg.add_real("model.norm_eps", 1e-5, "epsilon of RMSNorm (added to the mean square)")
      .min(0.0)
      .max(1.0);
  reg.add_real_list("model.lambda_range", {0.5, 0.995},
                    "[min, max] of the initial mode magnitudes lambda_k, drawn uniformly")
      .min(0.01)
      .max(0.9999);
  reg.add_real("model.embed_std", 1.0, "standard deviation of the initial byte embedding")
      .min(0.0)
      .max(100.0);
  reg.add_int("train.T", 128, "window length: bytes per training sequence").min(1).max(1 << 24);
  reg.add_int("train.batch", 16, "windows per step, drawn uniformly from the training split")
      .min(1)
      .max(1 << 20);
  reg.add_int("train.steps", 300, "optimiser steps").min(1).max(1000000000);
  reg.add_real("train.lr", 3e-3, "peak learning rate (after warm-up)").min(0.0).max(10.0);
  reg.add_real("train.lr_min", 3e-4, "learning rate at the last step (end of the cosine decay)")
      .min(0.0)
      .max(10.0);
  reg.add_int("train.warmup", 20, "steps of linear learning-rate warm-up").min(0).max(1000000000);
  reg.add_real("train.weight_decay", 0.01,
               "AdamW decoupled weight decay (weight matrices and the embedding only)")
      .min(0.0)
      .max(10.0);
  reg.add_real("train.beta1", 0.9, "AdamW first-moment decay").min(0.0).max(0.999999);
  reg.add_real("train.beta2", 0.99, "AdamW second-moment decay").min(0.0).max(0.99999999);
  reg.add_real("train.eps", 1e-8, "AdamW epsilon").min(0.0).max(1.0);
  reg.add_real("train.clip", 1.0,
               "global gradient-norm clipping threshold (0: off); the norm is reported before "
               "clipping")
      .min(0.0)
      .max(1e12);
  reg.add_bool("train.plot", true,
               "write learning_curve.png (loss against step) and learning_curve_wall.png "
               "(against wall seconds) beside frost.h5");
  reg.add_int("eval.every", 50,
              "steps between evaluations of the held-out loss (also before the first step and "
              "after the last)")
      .min(1)
      .max(1000000000);
  reg.add_int("eval.windows", 32,
              "held-out windows per evaluation: consecutive non-overlapping windows from the "
              "start of the held-out split (at most as many as fit)")
      .min(1)
      .max(1 << 20);
  reg.add_bool("timing.scan_probe", true,
               "after training, time the step's eigenstate scans alone (fenced) and report "
               "scan_fraction of the step time");
}

void SeqModelModule::check(const core::ParamSet& p, const std::string& file) const {
  auto fail = [&](const std::string& key, const std::string& what) {
    throw core::InputError(file + ": seqmodel." + key + ": " + what);
  };
  const long T = p.get_int("train.T"), chunk = p.get_int("model.chunk");
  if (chunk > 0 && chunk < T && T % chunk != 0)
    fail("model.chunk", std::to_string(chunk) + " does not divide seqmodel.train.T = " +
                            std::to_string(T) + " (use a divisor, or 0 for the whole window)");
  const auto& lr = p.get_real_list("model.lambda_range");
  if (lr.size() != 2 || lr[0] > lr[1])
    fail("model.lambda_range", "must be [min, max] with min <= max");
  if (p.get_real("train.lr_min") > p.get_real("train.lr"))
    fail("train.lr_min", "must not exceed seqmodel.train.lr");
  const double bytes = p.get_string("precision") == "f32" ? 4.0 : 8.0;
  const double R = double(p.get_int("train.batch")) * double(T);
  if (R * kVocab * bytes > 8.0 * (1ull << 30))
    fail("train.batch", "the logits of batch x T x 256 would take more than 8 GiB");
  if (p.get_string("model.kind") == "deltanet") {
    // Every layer keeps its d x d state at every step for the backward pass.
    const double d = double(p.get_int("model.head_dim"));
    const double states = R * double(p.get_int("model.heads")) * d * d *
                          double(p.get_int("model.layers") + 1) * bytes;
    if (states > 64.0 * (1ull << 30))
      fail("train.batch",
           "the deltanet states of batch x T x heads x head_dim^2 x (layers + 1) "
           "would take more than 64 GiB");
  }
  try {
    load_byte_corpus(p.get_string("text"), p.get_real("heldout"), static_cast<int>(T));
  } catch (const std::runtime_error& e) {
    fail("text", e.what());
  }
}

void SeqModelModule::run(core::RunContext& ctx) const {
  const Settings s = settings_of(ctx.params, ctx.seed, ctx.run_id);
  const bool delta = s.kind == "deltanet";
  if (s.precision == "f32")
    delta ? train<float, DeltaModel<float>>(ctx, s) : train<float, TenModel<float>>(ctx, s);
  else
    delta ? train<double, DeltaModel<double>>(ctx, s) : train<double, TenModel<double>>(ctx, s);
}

std::string SeqModelModule::report(const std::vector<core::RunResult>& runs) const {
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "%4s %4s %7s %6s %10s %10s %10s %9s %9s %10s %6s\n", "run",
                "prec", "params", "steps", "train_loss", "eval_loss", "eval_ppl", "unigram",
                "uni_held", "tokens/s", "rec%");
  o << line;
  for (const auto& r : runs) {
    if (!r.ok) {
      o << "run " << r.id << " failed: " << r.error << "\n";
      continue;
    }
    auto num = [&](const char* k) { return r.number(k, -1.0); };
    const core::Value* prec = r.find("precision");
    std::snprintf(
        line, sizeof line, "%4d %4s %7.0f %6.0f %10.4f %10.4f %10.3f %9.4f %9.4f %10.4g %5.1f%%\n",
        r.id, prec ? prec->s.c_str() : "-", num("params"), num("steps"), num("train_loss_final"),
        num("eval_loss_final"), num("eval_perplexity_final"), num("unigram_entropy"),
        num("unigram_heldout_ce"), num("tokens_per_s"), 100.0 * num("recurrence_fraction"));
    o << line;
  }
  o << "(losses in nats per byte; unigram: entropy of the training split's byte frequencies, "
       "uni_held: held-out cross-entropy under them; rec%: step time in the recurrence layers)\n";
  return o.str();
}

}  // namespace frost::seqmodel
