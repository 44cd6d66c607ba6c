#include "asi/eign.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "asi/cycle_basis.hpp"
#include "asi/incidence.hpp"
#include "asi/lattice_generators.hpp"
#include "core/rng.hpp"

namespace {

using frost::asi::CycleBasis;
using frost::asi::DeviceCycleBasis;
using frost::asi::Eign;
using frost::asi::EignConfig;
using frost::asi::EignWorkspace;
using frost::asi::Lattice;
using Space = Kokkos::HostSpace;
using Exec = Kokkos::DefaultHostExecutionSpace;

EignConfig small_config() {
  EignConfig c;
  c.layers = 2;
  c.width = 4;
  c.equ_inputs = 2;
  c.inv_inputs = 2;
  c.readout_scale = 1.0;  // large enough that the readout gradients are not tiny
  return c;
}

// Random inputs for a batch: x0 (batch x n1 x equ_inputs), y0 (batch x n1 x inv_inputs).
struct Inputs {
  std::vector<double> x, y;
};

Inputs random_inputs(const EignConfig& c, int batch, int n1, std::uint64_t seed) {
  frost::core::RandomStream rng(seed, 1, 0);
  Inputs in;
  in.x.resize(static_cast<std::size_t>(batch) * n1 * c.equ_inputs);
  in.y.resize(static_cast<std::size_t>(batch) * n1 * c.inv_inputs);
  for (double& v : in.x) v = 2.0 * rng.uniform() - 1.0;
  for (double& v : in.y) v = 2.0 * rng.uniform() - 1.0;
  return in;
}

void load_inputs(EignWorkspace<Space>& ws, const Inputs& in) {
  auto x = ws.x[0];
  auto y = ws.y[0];
  std::copy(in.x.begin(), in.x.end(), x.data());
  std::copy(in.y.begin(), in.y.end(), y.data());
}

// Loss = sum_s c_s logit_s + sum R_x . X_K + sum R_y . Y_K with fixed random weights.
struct LossWeights {
  std::vector<double> c, rx, ry;
  std::vector<int> loops;
};

double loss(const Eign<Space>& net, EignWorkspace<Space>& ws, const DeviceCycleBasis<Space>& basis,
            const LossWeights& w) {
  net.forward(Exec(), ws);
  Kokkos::View<int*, Space> loops("loops", w.loops.size());
  for (std::size_t s = 0; s < w.loops.size(); ++s) loops(s) = w.loops[s];
  Kokkos::View<double*, Space> logits("logits", w.loops.size());
  net.loop_readout(Exec(), ws, basis, loops, logits);
  Exec().fence();
  double total = 0.0;
  for (std::size_t s = 0; s < w.c.size(); ++s) total += w.c[s] * logits(s);
  const int K = net.config().layers;
  for (std::size_t k = 0; k < w.rx.size(); ++k) total += w.rx[k] * ws.x[K].data()[k];
  for (std::size_t k = 0; k < w.ry.size(); ++k) total += w.ry[k] * ws.y[K].data()[k];
  return total;
}

TEST(Eign, GradientsMatchFiniteDifferences) {
  const Lattice lattice = frost::asi::make_square(3, "open");
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  const auto dbasis = DeviceCycleBasis<Space>::create(basis, lattice);
  const EignConfig config = small_config();
  Eign<Space> net(frost::asi::incidence_csr(lattice), config, 7);
  const int batch = 2, n1 = lattice.edge_count(), d = config.width;
  const Inputs in = random_inputs(config, batch, n1, 3);
  EignWorkspace<Space> ws;
  net.resize_workspace(ws, batch);

  LossWeights w;
  frost::core::RandomStream rng(11, 2, 0);
  w.loops = {1, 3};
  w.c = {0.7, -1.3};
  w.rx.resize(static_cast<std::size_t>(batch) * n1 * d);
  w.ry.resize(w.rx.size());
  for (double& v : w.rx) v = 2.0 * rng.uniform() - 1.0;
  for (double& v : w.ry) v = 2.0 * rng.uniform() - 1.0;

  // Analytic gradients.
  load_inputs(ws, in);
  loss(net, ws, dbasis, w);
  net.zero_grads(Exec());
  Kokkos::View<int*, Space> loops("loops", batch);
  Kokkos::View<double*, Space> dlogits("dlogits", batch);
  for (int s = 0; s < batch; ++s) {
    loops(s) = w.loops[s];
    dlogits(s) = w.c[s];
  }
  net.loop_readout_backward(Exec(), ws, dbasis, loops, dlogits);
  Exec().fence();
  const int K = config.layers;
  for (std::size_t k = 0; k < w.rx.size(); ++k) {
    ws.dx[K].data()[k] += w.rx[k];
    ws.dy[K].data()[k] += w.ry[k];
  }
  net.backward(Exec(), ws);
  Exec().fence();
  std::vector<double> grad(net.grads.data(), net.grads.data() + net.parameter_count());
  std::vector<double> gx0(ws.dx[0].data(), ws.dx[0].data() + in.x.size());
  std::vector<double> gy0(ws.dy[0].data(), ws.dy[0].data() + in.y.size());

  const double h = 1e-5;
  auto check = [&](double analytic, double numeric, const char* what, std::size_t k) {
    EXPECT_NEAR(analytic, numeric, 1e-7 * (1.0 + std::fabs(numeric))) << what << " " << k;
  };
  for (int k = 0; k < net.parameter_count(); ++k) {
    const double keep = net.params(k);
    net.params(k) = keep + h;
    load_inputs(ws, in);
    const double up = loss(net, ws, dbasis, w);
    net.params(k) = keep - h;
    const double down = loss(net, ws, dbasis, w);
    net.params(k) = keep;
    check(grad[k], (up - down) / (2 * h), "parameter", k);
  }
  for (std::size_t k = 0; k < in.x.size(); ++k) {
    Inputs moved = in;
    moved.x[k] += h;
    load_inputs(ws, moved);
    const double up = loss(net, ws, dbasis, w);
    moved.x[k] -= 2 * h;
    load_inputs(ws, moved);
    const double down = loss(net, ws, dbasis, w);
    check(gx0[k], (up - down) / (2 * h), "equivariant input", k);
  }
  for (std::size_t k = 0; k < in.y.size(); ++k) {
    Inputs moved = in;
    moved.y[k] += h;
    load_inputs(ws, moved);
    const double up = loss(net, ws, dbasis, w);
    moved.y[k] -= 2 * h;
    load_inputs(ws, moved);
    const double down = loss(net, ws, dbasis, w);
    check(gy0[k], (up - down) / (2 * h), "invariant input", k);
  }
}

// Forward pass on `lattice` with inputs `in`; returns (X_K, Y_K) flattened and loop logits of
// every basis loop (sample 0) in `logits`.
std::pair<std::vector<double>, std::vector<double>> outputs(const Lattice& lattice,
                                                            const CycleBasis& basis,
                                                            const EignConfig& config,
                                                            const Inputs& in, int batch,
                                                            std::vector<double>& logits) {
  Eign<Space> net(frost::asi::incidence_csr(lattice), config, 5);
  EignWorkspace<Space> ws;
  net.resize_workspace(ws, batch);
  load_inputs(ws, in);
  net.forward(Exec(), ws);
  Exec().fence();
  const int K = config.layers;
  std::vector<double> x(ws.x[K].data(), ws.x[K].data() + ws.x[K].size());
  std::vector<double> y(ws.y[K].data(), ws.y[K].data() + ws.y[K].size());
  // Readout of loop l on sample 0: run a batch of one per loop.
  const auto dbasis = DeviceCycleBasis<Space>::create(basis, lattice);
  EignWorkspace<Space> one;
  net.resize_workspace(one, basis.loop_count());
  Inputs first;
  const int n1 = lattice.edge_count();
  for (int l = 0; l < basis.loop_count(); ++l) {
    first.x.insert(first.x.end(), in.x.begin(), in.x.begin() + n1 * config.equ_inputs);
    first.y.insert(first.y.end(), in.y.begin(), in.y.begin() + n1 * config.inv_inputs);
  }
  load_inputs(one, first);
  net.forward(Exec(), one);
  Kokkos::View<int*, Space> loops("loops", basis.loop_count());
  for (int l = 0; l < basis.loop_count(); ++l) loops(l) = l;
  Kokkos::View<double*, Space> out("logits", basis.loop_count());
  net.loop_readout(Exec(), one, dbasis, loops, out);
  Exec().fence();
  logits.assign(out.data(), out.data() + out.size());
  return {x, y};
}

TEST(Eign, OrientationEquivariance) {
  const Lattice lattice = frost::asi::make_kagome(2, "open");
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  EignConfig config = small_config();
  config.layers = 3;
  const int batch = 3, n1 = lattice.edge_count();
  const Inputs in = random_inputs(config, batch, n1, 9);

  // Re-orient a random subset of islands: swap tail and head, negate the equivariant inputs
  // and the loops' orientation there.
  frost::core::RandomStream rng(21, 0, 0);
  std::vector<int> flip(n1, 0);
  Lattice flipped = lattice;
  CycleBasis flipped_basis = basis;
  int flipped_count = 0;
  for (int e = 0; e < n1; ++e) {
    flip[e] = rng.next_u32() & 1u;
    if (flip[e]) {
      std::swap(flipped.edges[e][0], flipped.edges[e][1]);
      ++flipped_count;
    }
  }
  ASSERT_GT(flipped_count, 0);
  for (std::size_t k = 0; k < flipped_basis.edges.size(); ++k) {
    if (flip[flipped_basis.edges[k]]) {
      flipped_basis.orientation[k] = static_cast<std::int8_t>(-flipped_basis.orientation[k]);
    }
  }
  Inputs moved = in;
  for (int s = 0; s < batch; ++s) {
    for (int e = 0; e < n1; ++e) {
      for (int i = 0; i < config.equ_inputs; ++i) {
        if (flip[e]) moved.x[(s * n1 + e) * config.equ_inputs + i] *= -1.0;
      }
    }
  }
  std::vector<double> logits, flipped_logits;
  const auto [x, y] = outputs(lattice, basis, config, in, batch, logits);
  const auto [fx, fy] = outputs(flipped, flipped_basis, config, moved, batch, flipped_logits);
  const int d = config.width;
  for (int s = 0; s < batch; ++s) {
    for (int e = 0; e < n1; ++e) {
      for (int j = 0; j < d; ++j) {
        const std::size_t k = (static_cast<std::size_t>(s) * n1 + e) * d + j;
        EXPECT_NEAR(fx[k], flip[e] ? -x[k] : x[k], 1e-12);
        EXPECT_NEAR(fy[k], y[k], 1e-12);
      }
    }
  }
  ASSERT_EQ(logits.size(), flipped_logits.size());
  for (std::size_t l = 0; l < logits.size(); ++l) EXPECT_NEAR(flipped_logits[l], logits[l], 1e-12);
  // The equivariant outputs are not trivially zero.
  double norm = 0.0;
  for (double v : x) norm += v * v;
  EXPECT_GT(norm, 1e-3);
}

TEST(Eign, EdgePermutationCommutes) {
  const Lattice lattice = frost::asi::make_square(3, "open");
  const CycleBasis basis = frost::asi::build_cycle_basis(lattice);
  const EignConfig config = small_config();
  const int batch = 2, n1 = lattice.edge_count();
  const Inputs in = random_inputs(config, batch, n1, 4);
  // perm[e] = new id of edge e: a fixed pseudo-random shuffle.
  std::vector<int> perm(n1);
  std::iota(perm.begin(), perm.end(), 0);
  frost::core::RandomStream rng(8, 0, 0);
  for (int i = n1 - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
  Lattice permuted = lattice;
  for (int e = 0; e < n1; ++e) permuted.edges[perm[e]] = lattice.edges[e];
  CycleBasis permuted_basis = basis;
  for (int& e : permuted_basis.edges) e = perm[e];
  Inputs moved = in;
  for (int s = 0; s < batch; ++s) {
    for (int e = 0; e < n1; ++e) {
      for (int i = 0; i < config.equ_inputs; ++i) {
        moved.x[(s * n1 + perm[e]) * config.equ_inputs + i] =
            in.x[(s * n1 + e) * config.equ_inputs + i];
      }
      for (int i = 0; i < config.inv_inputs; ++i) {
        moved.y[(s * n1 + perm[e]) * config.inv_inputs + i] =
            in.y[(s * n1 + e) * config.inv_inputs + i];
      }
    }
  }
  std::vector<double> logits, permuted_logits;
  const auto [x, y] = outputs(lattice, basis, config, in, batch, logits);
  const auto [px, py] = outputs(permuted, permuted_basis, config, moved, batch, permuted_logits);
  const int d = config.width;
  for (int s = 0; s < batch; ++s) {
    for (int e = 0; e < n1; ++e) {
      for (int j = 0; j < d; ++j) {
        const std::size_t k = (static_cast<std::size_t>(s) * n1 + e) * d + j;
        const std::size_t pk = (static_cast<std::size_t>(s) * n1 + perm[e]) * d + j;
        EXPECT_NEAR(px[pk], x[k], 1e-12);
        EXPECT_NEAR(py[pk], y[k], 1e-12);
      }
    }
  }
  for (std::size_t l = 0; l < logits.size(); ++l) {
    EXPECT_NEAR(permuted_logits[l], logits[l], 1e-12);
  }
}

TEST(Eign, RejectsBadConfig) {
  EignConfig c;
  c.width = frost::asi::kEignMaxWidth + 1;
  EXPECT_THROW(frost::asi::eign_layout(c), std::invalid_argument);
  c.width = 4;
  c.layers = 0;
  EXPECT_THROW(frost::asi::eign_layout(c), std::invalid_argument);
}

}  // namespace
