#include "recurrence/problem.hpp"

#include <algorithm>
#include <cmath>

#include "core/rng.hpp"

namespace frost::recurrence {

namespace {

constexpr double kPi = 3.14159265358979323846;

double sym(core::RandomStream& r) {
  return 2.0 * r.uniform() - 1.0;
}

std::size_t sz(int a, int b, int c = 1, int d = 1) {
  return static_cast<std::size_t>(a) * static_cast<std::size_t>(b) * static_cast<std::size_t>(c) *
         static_cast<std::size_t>(d);
}

}  // namespace

// --- methods and plans ---------------------------------------------------------------------

EigenMethod parse_eigen_method(const std::string& s) {
  if (s == "sequential") return EigenMethod::kSequential;
  if (s == "chunked") return EigenMethod::kChunked;
  if (s == "tiled") return EigenMethod::kTiled;
  if (s == "auto") return EigenMethod::kAuto;
  throw std::invalid_argument("unknown eigenstate method '" + s + "'");
}

std::string to_string(EigenMethod m) {
  switch (m) {
    case EigenMethod::kSequential:
      return "sequential";
    case EigenMethod::kChunked:
      return "chunked";
    case EigenMethod::kTiled:
      return "tiled";
    default:
      return "auto";
  }
}

EigenPlan resolve_eigen_plan(EigenMethod requested, int chunk, int B, int T, int K, int concurrency,
                             bool gpu) {
  const long long lanes = static_cast<long long>(B) * K;
  // Four independent (batch, mode) chains per hardware thread hide the latency of the
  // dependent complex multiply-add; below that, chunks add parallelism at the price of a second
  // read of beta.
  const long long want = 4LL * std::max(1, concurrency);
  EigenMethod m = requested;
  const long long tiled_threads = static_cast<long long>(B) * ((K + 15) / 16) * 256;
  if (m == EigenMethod::kAuto) {
    if (gpu && tiled_threads * 8 >= std::max(1, concurrency))
      m = EigenMethod::kTiled;
    else
      m = lanes >= want ? EigenMethod::kSequential : EigenMethod::kChunked;
  }
  int c = chunk;
  if (c <= 0) {
    const long long chunks = std::max<long long>(1, (want + lanes - 1) / std::max(1LL, lanes));
    c = static_cast<int>(std::max<long long>(32, (T + chunks - 1) / chunks));
  }
  return {m, std::max(1, c)};
}

DenseMethod parse_dense_method(const std::string& s) {
  if (s == "sequential") return DenseMethod::kSequential;
  if (s == "hillis_steele") return DenseMethod::kHillisSteele;
  if (s == "blelloch") return DenseMethod::kBlelloch;
  if (s == "cyclic_reduction") return DenseMethod::kCyclicReduction;
  if (s == "chunked") return DenseMethod::kChunked;
  if (s == "auto") return DenseMethod::kAuto;
  throw std::invalid_argument("unknown dense method '" + s + "'");
}

std::string to_string(DenseMethod m) {
  switch (m) {
    case DenseMethod::kSequential:
      return "sequential";
    case DenseMethod::kHillisSteele:
      return "hillis_steele";
    case DenseMethod::kBlelloch:
      return "blelloch";
    case DenseMethod::kCyclicReduction:
      return "cyclic_reduction";
    case DenseMethod::kChunked:
      return "chunked";
    default:
      return "auto";
  }
}

DensePlan resolve_dense_plan(DenseMethod requested, int chunk, int B, int T, int n,
                             int concurrency) {
  DenseMethod m = requested;
  if (m == DenseMethod::kAuto) {
    m = static_cast<long long>(B) * n >= concurrency ? DenseMethod::kSequential
                                                     : DenseMethod::kCyclicReduction;
  }
  int c = chunk;
  if (c <= 0) c = std::max(1, static_cast<int>(std::lround(std::sqrt(static_cast<double>(T)))));
  return {m, c};
}

double dense_flops(DenseMethod method, int chunk, int B, int T, int n) {
  const double mv = 2.0 * n * n, mm = 2.0 * n * n * n;
  double f = 0.0;
  switch (method) {
    case DenseMethod::kSequential:
    case DenseMethod::kAuto:
      f = T * mv;
      break;
    case DenseMethod::kHillisSteele:
      f = mv;  // fold h0
      for (long long d = 1; d < T; d *= 2) f += (T - d) * mv + std::max(0LL, T - 2 * d) * mm;
      break;
    case DenseMethod::kBlelloch: {
      long long P = 1;
      while (P < T) P *= 2;
      f = mv + T * mv;  // fold h0, final apply
      for (long long d = 1; d < P; d *= 2)
        for (long long k = 0; k < P / (2 * d); ++k) {
          const long long r = (k + 1) * 2 * d - 1, l = r - d;
          if (l - d + 1 >= T) continue;
          f += mv + (k > 0 ? mm : 0.0) + mv;  // up-sweep gemv (+ gemm), down-sweep gemv
        }
      break;
    }
    case DenseMethod::kCyclicReduction: {
      f = mv;
      int levels = 0;
      while ((2 << levels) <= T) ++levels;
      for (int l = 0; l < levels; ++l) {
        const long long c = T >> (l + 1);
        f += c * mv + std::max(0LL, c - 1) * mm;
        f += std::max(0LL, (T >> l) - c - 1) * mv;
      }
      break;
    }
    case DenseMethod::kChunked: {
      const long long L = std::max(1, chunk), nc = (T + L - 1) / L;
      if (L >= T) {
        f = T * mv;
        break;
      }
      const long long t_rest = T - std::min<long long>(L, T);  // steps of chunks j >= 1
      f = T * mv + std::max(0LL, t_rest - (nc - 1)) * mm + (nc - 1) * mv + t_rest * mv;
      break;
    }
  }
  return f * B;
}

// --- eigenstate ----------------------------------------------------------------------------

EigenProblem make_eigen_problem(int B, int T, int K, double lambda_min, double lambda_max,
                                std::uint64_t seed, std::uint32_t run) {
  EigenProblem p;
  p.B = B;
  p.T = T;
  p.K = K;
  core::RandomStream par(seed, run, 0), init(seed, run, 1), in(seed, run, 2);
  p.lambda.resize(K);
  p.omega.resize(K);
  for (int k = 0; k < K; ++k) {
    p.lambda[k] = lambda_min + (lambda_max - lambda_min) * par.uniform();
    p.omega[k] = kPi * par.uniform();
  }
  p.c0.resize(sz(B, K));
  for (auto& z : p.c0) {
    const double re = sym(init);
    z = cplx(re, sym(init));
  }
  p.beta.resize(sz(B, T, K));
  for (auto& z : p.beta) {
    const double re = sym(in);
    z = cplx(re, sym(in));
  }
  return p;
}

std::vector<cplx> make_eigen_upstream(int B, int T, int K, std::uint64_t seed, std::uint32_t run) {
  core::RandomStream r(seed, run, 3);
  std::vector<cplx> g(sz(B, T, K));
  for (auto& z : g) {
    const double re = sym(r);
    z = cplx(re, sym(r));
  }
  return g;
}

void eigen_reference_forward(const EigenProblem& p, std::vector<cplx>& c, std::vector<cplx>& cT) {
  c.assign(sz(p.B, p.T, p.K), 0.0);
  cT.assign(sz(p.B, p.K), 0.0);
  for (int b = 0; b < p.B; ++b)
    for (int k = 0; k < p.K; ++k) {
      const cplx a = std::polar(p.lambda[k], p.omega[k]);
      cplx s = p.c0[sz(b, p.K) + k];
      for (int t = 0; t < p.T; ++t) {
        s = a * s + p.beta[(sz(b, p.T) + t) * p.K + k];
        c[(sz(b, p.T) + t) * p.K + k] = s;
      }
      cT[sz(b, p.K) + k] = s;
    }
}

void eigen_reference_backward(const EigenProblem& p, const std::vector<cplx>& c,
                              const std::vector<cplx>& g, std::vector<cplx>& grad_beta,
                              std::vector<cplx>& grad_c0, std::vector<double>& grad_lambda,
                              std::vector<double>& grad_omega) {
  grad_beta.assign(sz(p.B, p.T, p.K), 0.0);
  grad_c0.assign(sz(p.B, p.K), 0.0);
  grad_lambda.assign(p.K, 0.0);
  grad_omega.assign(p.K, 0.0);
  for (int k = 0; k < p.K; ++k) {
    // Step t computes s_t = a s_{t-1} + beta_t. Going backwards, the adjoint of s_t collects g_t
    // and what step t+1 sends back; step t sends conj(a) adj to s_{t-1}, adj to beta_t and
    // adj conj(s_{t-1}) to a (complex-convention chain rule for w = a z).
    const cplx a = std::polar(p.lambda[k], p.omega[k]);
    cplx ga = 0.0;
    for (int b = 0; b < p.B; ++b) {
      cplx adj = 0.0;
      for (int t = p.T - 1; t >= 0; --t) {
        const std::size_t i = (sz(b, p.T) + t) * p.K + k;
        adj += g[i];
        grad_beta[i] = adj;
        const cplx prev = t == 0 ? p.c0[sz(b, p.K) + k] : c[i - p.K];
        ga += adj * std::conj(prev);
        adj = std::conj(a) * adj;
      }
      grad_c0[sz(b, p.K) + k] = adj;
    }
    // a = lambda e^{i omega}: dL/dtheta = Re(conj(G_a) da/dtheta).
    const cplx e = std::polar(1.0, p.omega[k]);
    grad_lambda[k] = (std::conj(ga) * e).real();
    grad_omega[k] = (std::conj(ga) * cplx(0.0, 1.0) * a).real();
  }
}

// --- dense ---------------------------------------------------------------------------------

DenseProblem make_dense_problem(int B, int T, int n, double rho, std::uint64_t seed,
                                std::uint32_t run) {
  DenseProblem p;
  p.B = B;
  p.T = T;
  p.n = n;
  core::RandomStream ra(seed, run, 4), rb(seed, run, 5), rh(seed, run, 6);
  const double scale = rho / (2.0 * std::sqrt(n / 3.0));
  p.A.resize(sz(B, T, n, n));
  for (auto& x : p.A) x = scale * sym(ra);
  p.b.resize(sz(B, T, n));
  for (auto& x : p.b) x = sym(rb);
  p.h0.resize(sz(B, n));
  for (auto& x : p.h0) x = sym(rh);
  return p;
}

std::vector<double> make_dense_upstream(int B, int T, int n, std::uint64_t seed,
                                        std::uint32_t run) {
  core::RandomStream r(seed, run, 7);
  std::vector<double> g(sz(B, T, n));
  for (auto& x : g) x = sym(r);
  return g;
}

void dense_reference_forward(const DenseProblem& p, std::vector<double>& h,
                             std::vector<double>& hT) {
  const int n = p.n;
  h.assign(sz(p.B, p.T, n), 0.0);
  hT.assign(sz(p.B, n), 0.0);
  for (int b = 0; b < p.B; ++b) {
    std::vector<double> prev(p.h0.begin() + sz(b, n), p.h0.begin() + sz(b + 1, n));
    for (int t = 0; t < p.T; ++t) {
      const double* A = &p.A[sz(b, p.T) * n * n + sz(t, n, n)];
      double* ht = &h[(sz(b, p.T) + t) * n];
      for (int i = 0; i < n; ++i) {
        double s = p.b[(sz(b, p.T) + t) * n + i];
        for (int j = 0; j < n; ++j) s += A[i * n + j] * prev[j];
        ht[i] = s;
      }
      prev.assign(ht, ht + n);
    }
    std::copy(prev.begin(), prev.end(), hT.begin() + sz(b, n));
  }
}

void dense_reference_backward(const DenseProblem& p, const std::vector<double>& h,
                              const std::vector<double>& g, std::vector<double>& grad_A,
                              std::vector<double>& grad_b, std::vector<double>& grad_h0) {
  const int n = p.n;
  grad_A.assign(p.A.size(), 0.0);
  grad_b.assign(p.b.size(), 0.0);
  grad_h0.assign(p.h0.size(), 0.0);
  for (int b = 0; b < p.B; ++b) {
    std::vector<double> adj(n, 0.0), next(n);
    for (int t = p.T - 1; t >= 0; --t) {
      const std::size_t vt = (sz(b, p.T) + t) * n;
      for (int i = 0; i < n; ++i) adj[i] += g[vt + i];
      const double* A = &p.A[vt * n];
      const double* prev = t == 0 ? &p.h0[sz(b, n)] : &h[vt - n];
      for (int i = 0; i < n; ++i) {
        grad_b[vt + i] = adj[i];
        for (int j = 0; j < n; ++j) grad_A[vt * n + sz(i, n) + j] = adj[i] * prev[j];
      }
      std::fill(next.begin(), next.end(), 0.0);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) next[j] += A[i * n + j] * adj[i];
      adj = next;
    }
    std::copy(adj.begin(), adj.end(), grad_h0.begin() + sz(b, n));
  }
}

// --- errors --------------------------------------------------------------------------------

double max_rel_error(const std::vector<double>& x, const std::vector<double>& ref) {
  if (x.size() != ref.size()) return INFINITY;
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    num = std::max(num, std::abs(x[i] - ref[i]));
    den = std::max(den, std::abs(ref[i]));
  }
  return den > 0.0 ? num / den : num;
}

double max_rel_error(const std::vector<cplx>& x, const std::vector<cplx>& ref) {
  if (x.size() != ref.size()) return INFINITY;
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    num = std::max(num, std::abs(x[i] - ref[i]));
    den = std::max(den, std::abs(ref[i]));
  }
  return den > 0.0 ? num / den : num;
}

}  // namespace frost::recurrence
