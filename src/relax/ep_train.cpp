#include "relax/ep_train.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <stdexcept>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "relax/adam.hpp"
#include "relax/ep.hpp"
#include "relax/holomorphic.hpp"
#include "relax/jacreg.hpp"
#include "relax/readout.hpp"

namespace frost::relax {

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
using V = Vec<Mem>;
using I = Kokkos::View<int*, Mem>;

// Random chains of the training run, keyed by (seed, field.draw) like the field's own (chains
// 0..12), so the runs of a sweep over solvers start from the same weights and see the same
// windows.
constexpr std::uint32_t kChainReadout = 0x101, kChainEmbed = 0x102, kChainWindows = 0x103,
                        kChainEval = 0x104, kChainJacreg = 0x105;

std::vector<double> to_host(const V& v) {
  std::vector<double> h(v.extent(0));
  Kokkos::deep_copy(
      Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(h.data(),
                                                                                        h.size()),
      v);
  return h;
}
void from_host(const std::vector<double>& h, const V& v) {
  if (h.size() != v.extent(0))
    throw std::runtime_error("relax: checkpoint does not match the deck");
  Kokkos::deep_copy(
      v, Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
             h.data(), h.size()));
}

/// Everything a run carries from step to step besides the device tensors (saved in checkpoints).
struct History {
  long step = 0;
  std::vector<double> ce, free_rel;
  // steps x (1 + nudged phases): free, then +beta, -beta (or the holomorphic phases in order).
  std::vector<std::int64_t> iters, f_evals;
  std::vector<std::int8_t> gated;
  std::vector<std::int64_t> eval_step;
  std::vector<double> eval_ce;
  std::vector<std::int64_t> eval_unconverged;
  long gated_steps = 0, capped = 0;
  std::array<long, 3> adam_t{0, 0, 0};
  std::vector<double> cap_initial;
  // Per update (gated steps have none): the penalty P (an estimate of ||J_nc||_F^2 / N) and the
  // weight it was added with.
  std::vector<double> jacreg, jacreg_weight;

  void save(core::ByteWriter& w) const {
    w.put(step);
    w.put_vector(ce);
    w.put_vector(free_rel);
    w.put_vector(iters);
    w.put_vector(f_evals);
    w.put_vector(gated);
    w.put_vector(eval_step);
    w.put_vector(eval_ce);
    w.put_vector(eval_unconverged);
    w.put(gated_steps);
    w.put(capped);
    w.put(adam_t);
    w.put_vector(cap_initial);
    w.put_vector(jacreg);
    w.put_vector(jacreg_weight);
  }
  void restore(core::ByteReader& r) {
    step = r.get<long>();
    ce = r.get_vector<double>();
    free_rel = r.get_vector<double>();
    iters = r.get_vector<std::int64_t>();
    f_evals = r.get_vector<std::int64_t>();
    gated = r.get_vector<std::int8_t>();
    eval_step = r.get_vector<std::int64_t>();
    eval_ce = r.get_vector<double>();
    eval_unconverged = r.get_vector<std::int64_t>();
    gated_steps = r.get<long>();
    capped = r.get<long>();
    adam_t = r.get<std::array<long, 3>>();
    cap_initial = r.get_vector<double>();
    jacreg = r.get_vector<double>();
    jacreg_weight = r.get_vector<double>();
  }
};

/// Window starts for B sequences of T + 1 tokens in [lo, hi): keyed by (seed, draw, chain) and
/// the step (each step's draws start at counter step * 2^32).
void draw_windows(const CharCorpus& c, std::size_t lo, std::size_t hi, int B, int T,
                  std::uint64_t seed, std::uint32_t draw, std::uint32_t chain, std::uint64_t step,
                  std::vector<int>& in, std::vector<int>& out) {
  core::RandomStream rs(seed, draw, chain, step << 32);
  const std::uint32_t span = static_cast<std::uint32_t>(hi - lo - T);
  for (int b = 0; b < B; ++b) {
    const std::size_t s = lo + rs.below(span);
    for (int t = 0; t < T; ++t) {
      in[b * T + t] = c.tokens[s + t];
      out[b * T + t] = c.tokens[s + t + 1];
    }
  }
}

/// x(r, :) = E(tok(r), :) for the R rows of width C.
void embed(const Exec& exec, const I& tok, const V& E, const V& x, int R, int C) {
  Kokkos::parallel_for(
      "frost::relax::embed", Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>(exec, {0, 0}, {R, C}),
      KOKKOS_LAMBDA(const int r, const int j) { x(r * C + j) = E(tok(r) * C + j); });
}

/// gE(v, :) = sum over rows r with tok(r) = v of gx(r, :) (a gather per vocabulary entry, so no
/// two threads write one element).
void embed_gradient(const Exec& exec, const I& tok, const V& gx, const V& gE, int NV, int R,
                    int C) {
  Kokkos::parallel_for(
      "frost::relax::embed_grad",
      Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>(exec, {0, 0}, {NV, C}),
      KOKKOS_LAMBDA(const int v, const int j) {
        double s = 0.0;
        for (int r = 0; r < R; ++r)
          if (tok(r) == v) s += gx(r * C + j);
        gE(v * C + j) = s;
      });
}

}  // namespace

CharCorpus load_corpus(const std::string& path, double heldout, int window) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path + "'");
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("cannot read '" + path + "'");
  if (bytes.empty()) throw std::runtime_error("'" + path + "' is empty");
  CharCorpus c;
  std::array<int, 256> id;
  id.fill(-1);
  std::array<bool, 256> seen{};
  for (unsigned char b : bytes) seen[b] = true;
  for (int b = 0; b < 256; ++b)
    if (seen[b]) {
      id[b] = static_cast<int>(c.vocab.size());
      c.vocab.push_back(static_cast<unsigned char>(b));
    }
  c.tokens.reserve(bytes.size());
  for (unsigned char b : bytes) c.tokens.push_back(id[b]);
  const std::size_t n = bytes.size();
  c.train_end = n - static_cast<std::size_t>(std::llround(heldout * double(n)));
  const std::size_t need = static_cast<std::size_t>(window) + 2;
  if (c.train_end < need || n - c.train_end < need)
    throw std::runtime_error("'" + path + "' has " + std::to_string(n) +
                             " bytes; the training and held-out splits need at least " +
                             std::to_string(need) + " each (window T + 2)");
  std::vector<double> count(c.vocab.size(), 0.0);
  for (std::size_t i = 0; i < c.train_end; ++i) count[c.tokens[i]] += 1.0;
  const double nt = double(c.train_end);
  for (double k : count)
    if (k > 0.0) c.unigram_entropy -= k / nt * std::log(k / nt);
  const double denom = nt + double(c.vocab.size());
  for (std::size_t i = c.train_end; i < n; ++i)
    c.unigram_heldout_ce -= std::log((count[c.tokens[i]] + 1.0) / denom);
  c.unigram_heldout_ce /= double(n - c.train_end);
  return c;
}

void declare_train_params(core::ParamRegistry& reg) {
  reg.add_string("train.text", "/usr/share/common-licenses/GPL-3",
                 "ep_train: text file whose bytes are the tokens (vocabulary: its distinct bytes)");
  reg.add_real("train.heldout", 0.1,
               "ep_train: fraction of the text at its end held out for evaluation")
      .min(0.01)
      .max(0.9);
  reg.add_int("train.steps", 300,
              "ep_train: training steps (each: free phase, two nudged phases, one update of "
              "B windows of field.T tokens)")
      .min(1)
      .max(100000000);
  reg.add_real("train.beta", 1.0,
               "ep_train: nudge beta of the phases F(z) -/+ beta dL/dz = 0, L the mean "
               "cross-entropy over the B*T positions")
      .min(1e-12)
      .max(1e6);
  reg.add_real("train.lr", 3e-3, "ep_train: Adam step size").min(0.0).max(10.0);
  reg.add_real("train.adam.beta1", 0.9, "ep_train: Adam first-moment decay").min(0.0).max(0.999999);
  reg.add_real("train.adam.beta2", 0.999, "ep_train: Adam second-moment decay")
      .min(0.0)
      .max(0.99999999);
  reg.add_real("train.adam.eps", 1e-8, "ep_train: Adam epsilon").min(0.0).max(1.0);
  reg.add_real("train.weight_cap", 0.0,
               "ep_train: after every update, each weight matrix (Wq, Wk, Wv, Wo, W1, W2 of the "
               "field and the readout) is projected back to this times its initial Frobenius "
               "norm (0: no cap; otherwise at least 1)")
      .min(0.0)
      .max(1e6);
  reg.add_real("train.embed_scale", 1.0, "ep_train: std of the embedding E (V x C) at the start")
      .min(0.0)
      .max(1e6);
  reg.add_real("train.readout_scale", 1.0,
               "ep_train: std of the readout W (C x V) at the start, times sqrt(C)")
      .min(0.0)
      .max(1e6);
  reg.add_choice("train.estimator", "ep", {"ep", "asym_ep"},
                 "ep_train: gradient estimator. ep: nudged phases F(z) -/+ beta dL/dz = 0 (the "
                 "forward sensitivity -J^-1 dL/dz, biased by the asymmetry of J); asym_ep: the "
                 "AsymEP correction -(J* - J*^T)(z - z*) at the free equilibrium z* inside both "
                 "nudged phases (same solver), which makes the estimate converge to the "
                 "implicit gradient -J^-T dL/dz; each evaluation also costs a Jv and a J^T v");
  reg.add_int("train.holomorphic_points", 0,
              "ep_train: 0: the real nudges +-beta; N >= 2: holomorphic EP, the nudged phases of "
              "train.estimator at the N complex nudges beta e^(2 pi i n / N) (complex states, "
              "realified for relax.solver), the gradient from their Fourier mean (error O(beta^N) "
              "against O(beta^2)); the conjugate phases are not solved, so floor(N/2) + 1 are")
      .min(0)
      .max(64);
  reg.add_real("train.jacreg.weight", 0.0,
               "ep_train: starting weight of the Hutchinson Jacobian penalty P = mean over "
               "probes e of ||J_nc e||^2 / ||e||^2 at the free equilibrium (J_nc: Jacobian of "
               "Attn + FFN; estimates ||J_nc||_F^2 / N); its parameter gradient joins the field's "
               "(0: off, P not computed)")
      .min(0.0)
      .max(1e6);
  reg.add_int("train.jacreg.probes", 1, "ep_train: Rademacher probes per step of the penalty")
      .min(1)
      .max(1024);
  reg.add_real("train.jacreg.target", 0.0,
               "ep_train: the controller's target for P: the weight grows by train.jacreg.adapt "
               "per step while P is above it and shrinks by it otherwise (0: fixed weight)")
      .min(0.0)
      .max(1e12);
  reg.add_real("train.jacreg.adapt", 1.05, "ep_train: the controller's factor per step")
      .min(1.0)
      .max(10.0);
  reg.add_real("train.jacreg.weight_min", 0.0, "ep_train: lower bound of the adapted weight")
      .min(0.0)
      .max(1e6);
  reg.add_real("train.jacreg.weight_max", 1e3, "ep_train: upper bound of the adapted weight")
      .min(0.0)
      .max(1e6);
  reg.add_bool("train.gate", true,
               "ep_train: skip the update (and count it) when the free or a nudged phase does "
               "not reach relax.tol");
  reg.add_int("train.eval_every", 25,
              "ep_train: steps between evaluations of the held-out cross-entropy (also after "
              "the last step)")
      .min(1)
      .max(100000000);
  reg.add_int("train.eval_batches", 4,
              "ep_train: batches of field.B held-out windows per evaluation (the same windows "
              "every time)")
      .min(1)
      .max(1000000);
}

void check_train(const core::ParamSet& p, const std::string& file) {
  const std::string path = p.get_string("train.text");
  try {
    load_corpus(path, p.get_real("train.heldout"), static_cast<int>(p.get_int("field.T")));
  } catch (const std::runtime_error& e) {
    throw core::InputError(file + ": relax.train.text: " + e.what());
  }
  const double cap = p.get_real("train.weight_cap");
  if (cap != 0.0 && cap < 1.0)
    throw core::InputError(file + ": relax.train.weight_cap: must be 0 (no cap) or at least 1");
  if (p.get_int("train.holomorphic_points") == 1)
    throw core::InputError(file +
                           ": relax.train.holomorphic_points: must be 0 (the real pair) or at "
                           "least 2");
  if (p.get_real("train.jacreg.weight_min") > p.get_real("train.jacreg.weight_max"))
    throw core::InputError(file +
                           ": relax.train.jacreg.weight_min: must not exceed "
                           "relax.train.jacreg.weight_max");
}

void run_train(core::RunContext& ctx, const TransformerSpec& spec, const SolverOptions& opt) {
  const auto& p = ctx.params;
  auto& res = ctx.result;
  const Exec exec;
  const auto t_start = std::chrono::steady_clock::now();
  const std::string path = p.get_string("train.text");
  CharCorpus corpus;
  try {
    corpus = load_corpus(path, p.get_real("train.heldout"), spec.T);
  } catch (const std::runtime_error& e) {
    throw core::InputError("relax.train.text: " + std::string(e.what()));
  }
  const int B = spec.B, T = spec.T, C = spec.C, R = B * T;
  const int NV = static_cast<int>(corpus.vocab.size());
  const long steps = p.get_int("train.steps");
  const double beta = p.get_real("train.beta"), cap = p.get_real("train.weight_cap");
  const bool gate = p.get_bool("train.gate");
  const long eval_every = p.get_int("train.eval_every");
  const int eval_batches = static_cast<int>(p.get_int("train.eval_batches"));
  AdamOptions ao;
  ao.lr = p.get_real("train.lr");
  ao.beta1 = p.get_real("train.adam.beta1");
  ao.beta2 = p.get_real("train.adam.beta2");
  ao.eps = p.get_real("train.adam.eps");
  const bool asym = p.get_string("train.estimator") == "asym_ep";
  const int holo = static_cast<int>(p.get_int("train.holomorphic_points"));
  // Solved nudged phases per step: the real pair, or n = 0..floor(N/2) of the N on the circle.
  const int phases = holo >= 2 ? holo / 2 + 1 : 2;
  JacregOptions jr;
  jr.weight = p.get_real("train.jacreg.weight");
  jr.probes = static_cast<int>(p.get_int("train.jacreg.probes"));
  jr.target = p.get_real("train.jacreg.target");
  jr.adapt = p.get_real("train.jacreg.adapt");
  jr.weight_min = p.get_real("train.jacreg.weight_min");
  jr.weight_max = p.get_real("train.jacreg.weight_max");
  const bool jacreg_on = jr.weight > 0.0;

  ctx.progress.update(0.0, "model");
  TransformerField<Mem> field(spec);
  // AsymEP keeps J at the free equilibrium in a second instance (parameters and input copied in
  // before each step's nudged phases).
  std::optional<TransformerField<Mem>> at_root;
  if (asym) at_root.emplace(field.twin(exec));
  CrossEntropyReadout<Mem> ro(R, C, NV);
  ro.init(p.get_real("train.readout_scale"), spec.seed, spec.run, kChainReadout);
  // Holomorphic EP's complex extensions of the field and the readout (parameters, input, weights
  // and targets copied in before each step's nudged phases).
  std::optional<TransformerField<Mem, Complex>> cfield;
  std::optional<CrossEntropyReadout<Mem, Complex>> cro;
  if (holo >= 2) {
    cfield.emplace(field.holomorphic_twin(exec));
    cro.emplace(ro.holomorphic_twin(exec));
  }
  V E("frost::relax::embedding", std::size_t(NV) * C);
  {
    auto h = Kokkos::create_mirror_view(E);
    core::RandomStream rs(spec.seed, spec.run, kChainEmbed);
    const double sd = p.get_real("train.embed_scale");
    for (std::size_t i = 0; i < h.extent(0); ++i)
      h(i) = sd * std::sqrt(3.0) * (2.0 * rs.uniform() - 1.0);
    Kokkos::deep_copy(E, h);
  }
  const V theta = field.params(), W = ro.weights();
  const std::size_t np = theta.extent(0);
  Adam<Mem> adam_theta(np, "frost::relax::adam_theta"), adam_w(W.extent(0), "frost::relax::adam_w"),
      adam_e(E.extent(0), "frost::relax::adam_e");
  // Capped blocks: the field's weight matrices (offsets in the flat theta, Params::over's order)
  // and the readout.
  const int Hf = C * spec.ffn_mult;
  std::vector<NormCapBlock> theta_blocks;
  {
    std::size_t off = 4 * std::size_t(C);
    for (int k = 0; k < 4; ++k, off += std::size_t(C) * C)
      theta_blocks.push_back({off, std::size_t(C) * C, 0.0});
    theta_blocks.push_back({off, std::size_t(C) * Hf, 0.0});
    off += std::size_t(C) * Hf;
    theta_blocks.push_back({off, std::size_t(Hf) * C, 0.0});
  }
  std::vector<NormCapBlock> w_blocks{{0, W.extent(0), 0.0}};

  History h;
  if (auto blob = ctx.checkpoint.restore()) {
    core::ByteReader rd(*blob);
    h.restore(rd);
    from_host(rd.get_vector<double>(), theta);
    from_host(rd.get_vector<double>(), W);
    from_host(rd.get_vector<double>(), E);
    for (Adam<Mem>* a : {&adam_theta, &adam_w, &adam_e}) {
      from_host(rd.get_vector<double>(), a->m);
      from_host(rd.get_vector<double>(), a->v);
    }
    adam_theta.t = h.adam_t[0];
    adam_w.t = h.adam_t[1];
    adam_e.t = h.adam_t[2];
    for (std::size_t i = 0; i < theta_blocks.size(); ++i)
      theta_blocks[i].initial = h.cap_initial[i];
    w_blocks[0].initial = h.cap_initial.back();
  } else {
    norm_cap_init(exec, theta, theta_blocks);
    norm_cap_init(exec, W, w_blocks);
    for (const auto& b : theta_blocks) h.cap_initial.push_back(b.initial);
    h.cap_initial.push_back(w_blocks[0].initial);
  }
  auto save = [&]() {
    h.adam_t = {adam_theta.t, adam_w.t, adam_e.t};
    core::ByteWriter w;
    h.save(w);
    w.put_vector(to_host(theta));
    w.put_vector(to_host(W));
    w.put_vector(to_host(E));
    for (Adam<Mem>* a : {&adam_theta, &adam_w, &adam_e}) {
      w.put_vector(to_host(a->m));
      w.put_vector(to_host(a->v));
    }
    ctx.checkpoint.save(w.bytes);
  };

  const std::size_t n = field.size();
  const V x = field.input();
  V z("frost::relax::ep_z", n), zp("frost::relax::ep_zp", n), zm("frost::relax::ep_zm", n);
  V gx("frost::relax::ep_gx", n), gtheta("frost::relax::ep_gtheta", np);
  V gpen = jacreg_on ? V("frost::relax::jacreg_gtheta", np) : V();
  // The weight for the next update (after a restore: the controller's step after the last one).
  double jweight =
      h.jacreg.empty() ? jr.weight : jacreg_controller(h.jacreg_weight.back(), h.jacreg.back(), jr);
  V gw("frost::relax::ep_gw", W.extent(0)), ge("frost::relax::ep_ge", E.extent(0));
  I tok("frost::relax::tokens", R);
  const auto htok = Kokkos::create_mirror_view(tok);
  const auto hy = Kokkos::create_mirror_view(ro.targets());
  std::vector<int> win_in(R), win_out(R);
  auto load_batch = [&]() {
    for (int r = 0; r < R; ++r) {
      htok(r) = win_in[r];
      hy(r) = win_out[r];
    }
    Kokkos::deep_copy(exec, tok, htok);
    Kokkos::deep_copy(exec, ro.targets(), hy);
    embed(exec, tok, E, x, R, C);
    Kokkos::deep_copy(exec, z, x);
  };
  auto evaluate = [&]() {
    double sum = 0.0;
    long unconverged = 0;
    for (int k = 0; k < eval_batches; ++k) {
      draw_windows(corpus, corpus.train_end, corpus.tokens.size(), B, T, spec.seed, spec.run,
                   kChainEval, std::uint64_t(k), win_in, win_out);
      load_batch();
      const SolveReport r = solve(exec, field, z, opt);
      if (!r.converged) ++unconverged;
      sum += ro.gradient(exec, z, V());
    }
    h.eval_step.push_back(h.step);
    h.eval_ce.push_back(sum / eval_batches);
    h.eval_unconverged.push_back(unconverged);
  };

  if (h.step == 0 && h.eval_step.empty()) evaluate();
  while (h.step < steps) {
    draw_windows(corpus, 0, corpus.train_end, B, T, spec.seed, spec.run, kChainWindows,
                 std::uint64_t(h.step), win_in, win_out);
    load_batch();
    // Free phase from z0 = x.
    const SolveReport fr = solve(exec, field, z, opt);
    const double ce = ro.gradient(exec, z, V());
    h.ce.push_back(ce);
    h.free_rel.push_back(fr.final_rel);
    std::vector<std::int64_t> it(1 + phases, 0), fe(1 + phases, 0);
    it[0] = fr.iterations;
    fe[0] = fr.f_evals;
    bool ok = fr.converged && std::isfinite(ce);
    if (ok || !gate) {
      // Nudged phases from z*.
      if (asym) {
        Kokkos::deep_copy(exec, at_root->params(), theta);
        Kokkos::deep_copy(exec, at_root->input(), x);
      }
      if (holo >= 2) {
        Kokkos::deep_copy(exec, cfield->params(), theta);
        TransformerField<Mem>::copy_to_complex(exec, x, cfield->input());
        ro.copy_into(exec, *cro);
        const HolomorphicEpReport hr = holomorphic_ep_input_gradient(
            exec, *cfield, *cro, z, beta, holo, opt, gx, asym ? &*at_root : nullptr);
        for (int k = 0; k < phases; ++k) {
          it[1 + k] = hr.phases[k].iterations;
          fe[1 + k] = hr.phases[k].f_evals;
        }
        ok = ok && hr.converged();
      } else {
        const EpReport er =
            asym ? asym_ep_nudged_phases(exec, field, *at_root, ro, z, beta, opt, zp, zm)
                 : ep_nudged_phases(exec, field, ro, z, beta, opt, zp, zm);
        it[1] = er.plus.iterations;
        it[2] = er.minus.iterations;
        fe[1] = er.plus.f_evals;
        fe[2] = er.minus.f_evals;
        ok = ok && er.plus.converged && er.minus.converged;
      }
    }
    h.iters.insert(h.iters.end(), it.begin(), it.end());
    h.f_evals.insert(h.f_evals.end(), fe.begin(), fe.end());
    const bool skip = gate && !ok;
    h.gated.push_back(skip ? 1 : 0);
    if (skip) {
      ++h.gated_steps;
    } else {
      // EP gradients of theta and x (holomorphic EP has g_x already), then the readout's own
      // gradient at z* and E's through x.
      if (holo >= 2)
        ep_param_gradient(exec, field, z, gx, gtheta);
      else
        ep_gradients(exec, field, z, zp, zm, beta, gx, gtheta);
      if (jacreg_on) {
        // The penalty's gradient at the free equilibrium, added with the current weight; then
        // the controller moves the weight.
        const double pen =
            jacreg_penalty(exec, field, z, jr.probes, spec.seed, spec.run, kChainJacreg,
                           std::uint64_t(h.step) * std::uint64_t(jr.probes), gpen);
        axpby(exec, jweight, gpen, 1.0, gtheta);
        h.jacreg.push_back(pen);
        h.jacreg_weight.push_back(jweight);
        jweight = jacreg_controller(jweight, pen, jr);
      }
      ro.gradient(exec, z, V());
      ro.weight_gradient(exec, z, gw);
      embed_gradient(exec, tok, gx, ge, NV, R, C);
      adam_theta.step(exec, theta, gtheta, ao);
      adam_w.step(exec, W, gw, ao);
      adam_e.step(exec, E, ge, ao);
      if (cap > 0.0) {
        h.capped += norm_cap_apply(exec, theta, theta_blocks, cap);
        h.capped += norm_cap_apply(exec, W, w_blocks, cap);
      }
    }
    ++h.step;
    if (h.step % eval_every == 0 || h.step == steps) evaluate();
    char msg[96];
    std::snprintf(msg, sizeof msg, "step %ld ce %.4f", h.step, ce);
    ctx.progress.update(double(h.step) / double(steps), msg);
    if (ctx.checkpoint.due(h.step) && h.step < steps) save();
  }
  exec.fence();

  // Results.
  const auto S = static_cast<std::uint64_t>(h.ce.size());
  res.set("task", core::Value::of_string("ep_train"));
  res.set("solver", core::Value::of_string(opt.method));
  res.set("estimator", core::Value::of_string(asym ? "asym_ep" : "ep"));
  res.set("holomorphic_points", core::Value::of_int(holo));
  res.set("eps", core::Value::of_real(opt.eps));
  res.set("beta", core::Value::of_real(beta));
  res.set("steps", core::Value::of_int(static_cast<long long>(S)));
  res.set("vocab", core::Value::of_int(NV));
  res.set("text_bytes", core::Value::of_int(static_cast<long long>(corpus.tokens.size())));
  res.set("params_field", core::Value::of_int(static_cast<long long>(np)));
  res.set("unigram_entropy", core::Value::of_real(corpus.unigram_entropy));
  res.set("unigram_heldout_ce", core::Value::of_real(corpus.unigram_heldout_ce));
  res.set("gated_steps", core::Value::of_int(h.gated_steps));
  res.set("capped_blocks", core::Value::of_int(h.capped));
  const std::size_t tail = std::max<std::size_t>(1, h.ce.size() / 10);
  double first = 0.0, last = 0.0;
  for (std::size_t i = 0; i < tail; ++i) {
    first += h.ce[i];
    last += h.ce[h.ce.size() - tail + i];
  }
  res.set("train_ce_first", core::Value::of_real(first / double(tail)));
  res.set("train_ce_final", core::Value::of_real(last / double(tail)));
  res.set("eval_ce_first", core::Value::of_real(h.eval_ce.front()));
  res.set("eval_ce_final", core::Value::of_real(h.eval_ce.back()));
  double best = std::numeric_limits<double>::infinity();
  for (double e : h.eval_ce)
    if (e < best) best = e;
  res.set("eval_ce_best", core::Value::of_real(best));
  const std::size_t width = 1 + static_cast<std::size_t>(phases);
  std::vector<double> mean_it(width, 0.0);
  for (std::size_t s = 0; s < S; ++s)
    for (std::size_t k = 0; k < width; ++k)
      mean_it[k] += double(h.iters[width * s + k]) / double(S);
  res.set("iters_free_mean", core::Value::of_real(mean_it[0]));
  if (holo < 2) {
    res.set("iters_plus_mean", core::Value::of_real(mean_it[1]));
    res.set("iters_minus_mean", core::Value::of_real(mean_it[2]));
  }
  double nudged = 0.0;
  for (std::size_t k = 1; k < width; ++k) nudged += mean_it[k] / double(phases);
  res.set("iters_nudged_mean", core::Value::of_real(nudged));
  res.set("seconds",
          core::Value::of_real(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count()));
  res.add_f64("train/ce", {S}, h.ce);
  res.add_f64("train/free_residual", {S}, h.free_rel);
  res.add_i64("train/iterations", {S, width}, h.iters);
  res.add_i64("train/f_evals", {S, width}, h.f_evals);
  res.add_i8("train/gated", {S}, h.gated);
  if (!h.jacreg.empty()) {
    const auto SJ = static_cast<std::uint64_t>(h.jacreg.size());
    res.add_f64("train/jacreg", {SJ}, h.jacreg);
    res.add_f64("train/jacreg_weight", {SJ}, h.jacreg_weight);
    res.set("jacreg_first", core::Value::of_real(h.jacreg.front()));
    res.set("jacreg_final", core::Value::of_real(h.jacreg.back()));
    res.set("jacreg_weight_final", core::Value::of_real(jweight));
  }
  const auto NE = static_cast<std::uint64_t>(h.eval_ce.size());
  res.add_i64("eval/step", {NE}, h.eval_step);
  res.add_f64("eval/ce", {NE}, h.eval_ce);
  res.add_i64("eval/unconverged", {NE}, h.eval_unconverged);
  ctx.progress.update(1.0, "done");
}

}  // namespace frost::relax
