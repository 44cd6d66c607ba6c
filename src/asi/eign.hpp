// EIGN: an edge-level message-passing network with orientation-equivariant and
// orientation-invariant channels (Fuchsgruber, Poštuvan, Günnemann & Geisler, "Graph Neural
// Networks for Edge Signals: Orientation Equivariance and Invariance", ICLR 2025,
// arXiv:2410.16935), with a hand-written forward and backward pass batched over samples.
//
// Symmetry. Re-orienting island e (swapping its tail and head) multiplies column e of B1 by -1:
// B1 -> B1 S with S = diag(s), s_e = +-1, while |B1| is unchanged. A spin state transforms as an
// equivariant signal, sigma -> S sigma. The network carries, per edge, d equivariant channels X
// (X -> S X) and d invariant channels Y (Y -> Y). The four edge operators
//   L_equ     = B1^T B1      (equ -> equ):  S B1^T B1 S (S X)   = S (L_equ X)
//   L_inv     = |B1|^T |B1|  (inv -> inv):  unchanged
//   L_equ_inv = |B1|^T B1    (equ -> inv):  |B1|^T B1 S (S X)   = L_equ_inv X
//   L_inv_equ = B1^T |B1|    (inv -> equ):  S B1^T |B1| Y       = S (L_inv_equ Y)
// keep the symmetry without any extra sign matrix (S^2 = 1), and so do linear maps acting on the
// channel index only (they commute with the row scaling S). An equivariant channel admits no
// bias, an odd nonlinearity only (tanh here) and a norm without mean subtraction (RMS norm);
// invariant channels take a bias, a full LayerNorm and SiLU.
//
// Layer l (inputs X (n1 x dx), Y (n1 x dy); output width d; per-row operations act on the
// channels of one edge of one sample):
//   A  = X W1 + (L_equ X) W2 + (L_inv_equ Y) W3                     (equivariant, n1 x d)
//   C  = Y W4 + (L_inv Y) W5 + (L_equ_inv X) W6 + b                 (invariant,   n1 x d)
//   X' = tanh(gx * A / rms(A)),            rms(A) = sqrt(mean_j A_j^2 + eps)
//   Y' = silu(gy * (C - mean C) / sqrt(var C + eps) + by)
// i.e. 4 sparse operator products, 6 linear maps and 2 norms per layer. The sparse products go
// through the vertices: U = B1 X and V = |B1| Y (one pass over the CSR rows of B1), then
// L_equ X = B1^T U, L_equ_inv X = |B1|^T U, L_inv Y = |B1|^T V, L_inv_equ Y = B1^T V (one pass
// over the rows of B1^T, two entries each).
//
// Loop readout (for loop samplers): for a basis loop with edges e_k traversed with orientation
// o_k (+1 tail -> head), logit = (1/len) sum_k (o_k X_{e_k} . rx + Y_{e_k} . ry) + rb. Since o_k
// and X_{e_k} change sign together under re-orientation, the logit is invariant.
//
// Causal masks (edge-autoregressive samplers): with a sampling order rank(e) over the islands,
// every operator keeps only the pairs (e, f) with rank(f) < rank(e) in the first layer and
// rank(f) <= rank(e) in later layers, and the first layer drops its self term X W1 (the spin of
// island e itself). By induction, output row e then depends only on the input rows of islands
// earlier than e (the MADE / PixelCNN construction), provided the invariant inputs do not depend
// on the state. The masked products are evaluated edge by edge through the two vertices of e
// (L[e, f] = sum_v B[v, e] B[v, f] and the like), O(degree^2) per island; their adjoints keep
// the mirrored pairs (rank(f) > rank(e), resp. >=). Re-orientation symmetry is unaffected: the
// masks depend on the islands, not on their orientation.
//
// Receptive field. Every operator couples edges through a shared vertex only, and the norms act
// on the channels of one edge, so layer l's output on edge e depends on layer l-1's rows within
// one vertex hop of e (e itself and the edges sharing a vertex with it). The readout of a loop
// reads layer K on the loop's edges, hence depends on the input rows within K hops of the loop.
// A pass on the subgraph of those edges (with all the vertices they touch) computes layer l
// exactly on the edges within K-l hops: a vertex of such an edge has all its edges in the patch.
// The rows further out are wrong but never read by the readout. Keeping the CSR entries of every
// row in the whole lattice's order makes the patch logits bitwise equal to the whole-lattice
// ones (same operations in the same order), and the loop-readout gradients too (rows outside the
// receptive field receive exactly zero adjoints in both).
//
// Everything is double precision (the gradient tests compare with finite differences).
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "asi/cycle_basis.hpp"
#include "asi/incidence.hpp"

namespace frost::asi {

/// Widths are capped so that per-row kernels keep their channel vectors in registers/stack.
constexpr int kEignMaxWidth = 64;

/// Shape of an EIGN network.
struct EignConfig {
  int layers = 2;          ///< K >= 1
  int width = 8;           ///< d, channels per kind and layer, 1..kEignMaxWidth
  int equ_inputs = 1;      ///< equivariant input channels (e.g. the spin sigma_e)
  int inv_inputs = 1;      ///< invariant input channels (e.g. a constant 1)
  double norm_eps = 1e-5;  ///< added to the mean square in both norms (dimensionless)
  /// Scale of the initial loop readout weights; small so that the first flip probabilities are
  /// close to 1/2.
  double readout_scale = 0.1;
};

/// Offsets of one layer's tensors in the flat parameter vector (row-major, input index first).
struct EignLayerLayout {
  int dx = 0, dy = 0;  ///< input widths
  int w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0;
  int b = 0, gx = 0, gy = 0, by = 0;
};

/// Parameter layout: the K layers, then the loop readout rx (d), ry (d), rb (1).
struct EignLayout {
  std::vector<EignLayerLayout> layers;
  int rx = 0, ry = 0, rb = 0;
  int size = 0;
};

/// Validates `config` (std::invalid_argument) and lays out its parameters.
EignLayout eign_layout(const EignConfig& config);

/// Initial parameters on the host: weights uniform in +-sqrt(3 / fan_in) (unit-variance
/// outputs for unit-variance inputs), gains 1, biases 0, readout weights scaled by
/// config.readout_scale. Drawn from core::RandomStream(seed, 0, 0): reproducible.
std::vector<double> eign_initial_parameters(const EignConfig& config, std::uint64_t seed);

/// Host CSR of B1^T (rows = edges, entries = vertices, values +-1) from the CSR of B1.
IncidenceCsr transpose_incidence(const IncidenceCsr& b1);

/// Host form of EignGraphs: graphs stored back to back (see EignGraphs).
struct EignGraphsHost {
  int count = 0, max_vertices = 0, max_edges = 0;
  std::vector<int> vertex_offset, edge_offset;  ///< count + 1 entries each
  IncidenceCsr b1;  ///< rows = all vertices in order; entries = edge ids local to their graph
  IncidenceCsr bt;  ///< rows = all edges in order; entries = vertex ids local to their graph
};

/// Concatenates graphs (each a host CSR of B1 with local numbering); the row order of each
/// CSR and of its transpose (transpose_incidence) is kept.
EignGraphsHost concatenate_graphs(const std::vector<IncidenceCsr>& graphs);

/// The receptive patch of a set of edges (e.g. a loop) for a `layers`-layer network: the edges
/// within `layers` vertex hops of `seeds`, in increasing order, the vertices they touch, in
/// increasing order, and B1 restricted to them with local numbering, each row's entries in the
/// order of `b1` (see the file comment).
struct EignPatch {
  std::vector<int> edges;     ///< global edge ids
  std::vector<int> vertices;  ///< global vertex ids
  IncidenceCsr b1;            ///< vertices x edges, local ids
};
EignPatch receptive_patch(const IncidenceCsr& b1, const IncidenceCsr& bt,
                          const std::vector<int>& seeds, int layers);

/// Graphs on which a batched pass runs, sample s on graph graph_of(s), its rows numbered locally
/// (0 .. edge count - 1 of that graph); rows beyond are padding, never read. One graph is the
/// whole lattice; one per loop gives the receptive patches of Mode A.
template <class MemorySpace>
struct EignGraphs {
  int count = 0, max_vertices = 0, max_edges = 0;
  Kokkos::View<int*, MemorySpace> vertex_offset, edge_offset;  ///< count + 1 entries each
  Kokkos::View<int*, MemorySpace> b_row_map, b_entries, t_row_map, t_entries;
  Kokkos::View<std::int8_t*, MemorySpace> b_values, t_values;

  /// Copies `host` to MemorySpace.
  static EignGraphs create(const EignGraphsHost& host) {
    auto to_device = [](const char* label, const auto& v) {
      using T = typename std::decay_t<decltype(v)>::value_type;
      Kokkos::View<T*, MemorySpace> view(
          Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), v.size());
      Kokkos::deep_copy(
          view, Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
                    v.data(), v.size()));
      return view;
    };
    EignGraphs g;
    g.count = host.count;
    g.max_vertices = host.max_vertices;
    g.max_edges = host.max_edges;
    g.vertex_offset = to_device("frost::asi::eign_vertex_offset", host.vertex_offset);
    g.edge_offset = to_device("frost::asi::eign_edge_offset", host.edge_offset);
    g.b_row_map = to_device("frost::asi::eign_b_row_map", host.b1.row_map);
    g.b_entries = to_device("frost::asi::eign_b_entries", host.b1.entries);
    g.b_values = to_device("frost::asi::eign_b_values", host.b1.values);
    g.t_row_map = to_device("frost::asi::eign_bt_row_map", host.bt.row_map);
    g.t_entries = to_device("frost::asi::eign_bt_entries", host.bt.entries);
    g.t_values = to_device("frost::asi::eign_bt_values", host.bt.values);
    return g;
  }
};

template <class MemorySpace>
using EignTensor = Kokkos::View<double***, Kokkos::LayoutRight, MemorySpace>;

/// Activations of one forward pass over a batch (samples x n1 x channels), kept for backward.
/// Sized by Eign::resize_workspace; reusable across calls with the same batch size.
template <class MemorySpace>
struct EignWorkspace {
  int batch = 0;
  int edges = 0, vertices = 0;                ///< rows per sample of the edge and vertex tensors
  std::vector<EignTensor<MemorySpace>> x, y;  ///< K + 1 entries: inputs, then layer outputs
  std::vector<EignTensor<MemorySpace>> px, qx, py, qy;  ///< operator products per layer
  std::vector<EignTensor<MemorySpace>> ahat, chat;      ///< normalised pre-activations
  std::vector<Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>> arms, cstd;
  EignTensor<MemorySpace> u, v;                 ///< vertex sums (samples x n0 x max width)
  EignTensor<MemorySpace> da, dc;               ///< backward: gradients of A and C
  EignTensor<MemorySpace> g2, g3, g5, g6;       ///< backward: dA W2^T, dA W3^T, dC W5^T, dC W6^T
  std::vector<EignTensor<MemorySpace>> dx, dy;  ///< backward: gradients of x[l], y[l]
};

namespace detail {

KOKKOS_INLINE_FUNCTION double eign_sigmoid(double z) {
  return z >= 0 ? 1.0 / (1.0 + Kokkos::Experimental::exp(-z))
                : Kokkos::Experimental::exp(z) / (1.0 + Kokkos::Experimental::exp(z));
}

}  // namespace detail

/// An EIGN network over one lattice graph, with parameters and their gradients in MemorySpace.
/// Batched tensors are views (samples x n1 x channels), LayoutRight. The graph is fixed at
/// construction; the batch size is per call. Invariants: params and grads have layout().size
/// entries; backward accumulates into grads (call zero_grads first).
template <class MemorySpace>
class Eign {
 public:
  using memory_space = MemorySpace;
  using tensor_type = EignTensor<MemorySpace>;
  using vector_type = Kokkos::View<double*, MemorySpace>;

  /// Builds the network on the graph of `b1` (host CSR of the signed incidence, n0 x n1) with
  /// parameters eign_initial_parameters(config, seed).
  Eign(const IncidenceCsr& b1, const EignConfig& config, std::uint64_t seed);

  const EignConfig& config() const { return config_; }

  /// Makes the network causal over islands (see the file comment): rank[e] is island e's
  /// position in the sampling order, a permutation of 0 .. n1-1 (std::invalid_argument
  /// otherwise). Irreversible; parameters are kept.
  void set_causal_order(const std::vector<int>& rank);
  bool causal() const { return causal_; }
  const EignLayout& layout() const { return layout_; }
  int edge_count() const { return n1_; }
  int vertex_count() const { return n0_; }
  int parameter_count() const { return layout_.size; }

  vector_type params;  ///< flat parameters (see EignLayout)
  vector_type grads;   ///< flat gradients, same layout

  /// Sets every gradient to zero.
  template <class ExecSpace>
  void zero_grads(const ExecSpace& exec) const {
    Kokkos::deep_copy(exec, grads, 0.0);
  }

  /// Allocates `ws` for `batch` samples (no-op when already that size).
  void resize_workspace(EignWorkspace<MemorySpace>& ws, int batch) const {
    resize_workspace(ws, batch, whole_);
  }
  /// Allocates `ws` for `batch` samples on graphs of `graphs` (rows: its largest graph).
  void resize_workspace(EignWorkspace<MemorySpace>& ws, int batch,
                        const EignGraphs<MemorySpace>& graphs) const;

  /// The whole lattice as one graph.
  const EignGraphs<MemorySpace>& whole_graph() const { return whole_; }

  /// Forward pass: reads ws.x[0] (batch x n1 x equ_inputs) and ws.y[0] (batch x n1 x
  /// inv_inputs), which the caller fills after resize_workspace, and writes ws.x[K], ws.y[K]
  /// (batch x n1 x d) plus everything backward needs. Asynchronous on `exec`.
  template <class ExecSpace>
  void forward(const ExecSpace& exec, EignWorkspace<MemorySpace>& ws) const {
    forward_on(exec, ws, whole_, {});
  }

  /// Forward pass of sample s on graph graph_of(s) of `graphs` (local rows; see EignGraphs),
  /// `ws` sized by resize_workspace(ws, batch, graphs). Not for causal networks (their masks
  /// are defined on the whole lattice): std::logic_error.
  template <class ExecSpace>
  void forward(const ExecSpace& exec, EignWorkspace<MemorySpace>& ws,
               const EignGraphs<MemorySpace>& graphs,
               const Kokkos::View<const int*, MemorySpace>& graph_of) const {
    if (causal_) throw std::logic_error("eign: causal networks run on the whole lattice only");
    forward_on(exec, ws, graphs, graph_of);
  }

  /// Backward pass after forward on the same workspace: reads ws.dx[K], ws.dy[K] (gradients of
  /// the loss with respect to the outputs; the caller fills them, e.g. via
  /// loop_readout_backward), adds the parameter gradients to `grads` and leaves the input
  /// gradients in ws.dx[0], ws.dy[0]. Asynchronous on `exec`.
  template <class ExecSpace>
  void backward(const ExecSpace& exec, EignWorkspace<MemorySpace>& ws) const {
    backward_on(exec, ws, whole_, {});
  }

  /// Backward pass after forward(exec, ws, graphs, graph_of) with the same graphs.
  template <class ExecSpace>
  void backward(const ExecSpace& exec, EignWorkspace<MemorySpace>& ws,
                const EignGraphs<MemorySpace>& graphs,
                const Kokkos::View<const int*, MemorySpace>& graph_of) const {
    if (causal_) throw std::logic_error("eign: causal networks run on the whole lattice only");
    backward_on(exec, ws, graphs, graph_of);
  }

  /// Per-sample loop logits after forward: logits(s) = readout of basis loop loops(s) of
  /// sample s (see the file comment).
  template <class ExecSpace>
  void loop_readout(const ExecSpace& exec, const EignWorkspace<MemorySpace>& ws,
                    const DeviceCycleBasis<MemorySpace>& basis,
                    const Kokkos::View<const int*, MemorySpace>& loops,
                    const vector_type& logits) const;

  /// Sets ws.dx[K], ws.dy[K] to the gradient of sum_s dlogits(s) * logits(s) and adds the
  /// readout parameter gradients to `grads`. Asynchronous on `exec`.
  template <class ExecSpace>
  void loop_readout_backward(const ExecSpace& exec, EignWorkspace<MemorySpace>& ws,
                             const DeviceCycleBasis<MemorySpace>& basis,
                             const Kokkos::View<const int*, MemorySpace>& loops,
                             const Kokkos::View<const double*, MemorySpace>& dlogits) const;

 private:
  EignConfig config_;
  EignLayout layout_;
  int n0_ = 0, n1_ = 0;
  // B1 by vertex rows and B1^T by edge rows (values +-1).
  Kokkos::View<int*, MemorySpace> b_row_map_, b_entries_, t_row_map_, t_entries_;
  Kokkos::View<std::int8_t*, MemorySpace> b_values_, t_values_;
  bool causal_ = false;
  Kokkos::View<int*, MemorySpace> rank_;  ///< causal order; empty when not causal
  EignGraphs<MemorySpace> whole_;         ///< the same B1 views as one graph

  // Implementation steps (kernels in detail::).
  using graph_map = Kokkos::View<const int*, MemorySpace>;  ///< empty: every sample on graph 0
  template <class ExecSpace>
  void forward_on(const ExecSpace& exec, EignWorkspace<MemorySpace>& ws,
                  const EignGraphs<MemorySpace>& graphs, const graph_map& graph_of) const;
  template <class ExecSpace>
  void backward_on(const ExecSpace& exec, EignWorkspace<MemorySpace>& ws,
                   const EignGraphs<MemorySpace>& graphs, const graph_map& graph_of) const;
  template <class ExecSpace>
  void masked_products(const ExecSpace& exec, int layer, EignWorkspace<MemorySpace>& ws) const;
  template <class ExecSpace>
  void masked_adjoint(const ExecSpace& exec, int layer, EignWorkspace<MemorySpace>& ws) const;

  template <class ExecSpace>
  void vertex_sum(const ExecSpace& exec, const tensor_type& in, int in_width, bool in_signed,
                  const tensor_type& in2, int in2_width, bool in2_signed, const tensor_type& out,
                  int width, int batch, const EignGraphs<MemorySpace>& graphs,
                  const graph_map& graph_of) const;
  template <class ExecSpace>
  void edge_gather(const ExecSpace& exec, const tensor_type& in, int width,
                   const tensor_type& out_signed, const tensor_type& out_abs, bool accumulate,
                   int batch, const EignGraphs<MemorySpace>& graphs,
                   const graph_map& graph_of) const;
  template <class ExecSpace>
  void weight_gradient(const ExecSpace& exec, const tensor_type& in, int din,
                       const tensor_type& dout, int offset, int batch,
                       const EignGraphs<MemorySpace>& graphs, const graph_map& graph_of) const;
};

// ---------------------------------------------------------------------------------------------
// Implementation.

template <class MemorySpace>
Eign<MemorySpace>::Eign(const IncidenceCsr& b1, const EignConfig& config, std::uint64_t seed)
    : config_(config), layout_(eign_layout(config)), n0_(b1.rows), n1_(b1.cols) {
  const IncidenceCsr bt = transpose_incidence(b1);
  auto to_device_int = [](const char* label, const std::vector<int>& host) {
    Kokkos::View<int*, MemorySpace> view(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), host.size());
    Kokkos::deep_copy(
        view, Kokkos::View<const int*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
                  host.data(), host.size()));
    return view;
  };
  auto to_device_i8 = [](const char* label, const std::vector<std::int8_t>& host) {
    Kokkos::View<std::int8_t*, MemorySpace> view(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), host.size());
    Kokkos::deep_copy(
        view, Kokkos::View<const std::int8_t*, Kokkos::HostSpace,
                           Kokkos::MemoryTraits<Kokkos::Unmanaged>>(host.data(), host.size()));
    return view;
  };
  b_row_map_ = to_device_int("frost::asi::eign_b_row_map", b1.row_map);
  b_entries_ = to_device_int("frost::asi::eign_b_entries", b1.entries);
  b_values_ = to_device_i8("frost::asi::eign_b_values", b1.values);
  t_row_map_ = to_device_int("frost::asi::eign_bt_row_map", bt.row_map);
  t_entries_ = to_device_int("frost::asi::eign_bt_entries", bt.entries);
  t_values_ = to_device_i8("frost::asi::eign_bt_values", bt.values);
  whole_.count = 1;
  whole_.max_vertices = n0_;
  whole_.max_edges = n1_;
  whole_.vertex_offset = to_device_int("frost::asi::eign_vertex_offset", {0, n0_});
  whole_.edge_offset = to_device_int("frost::asi::eign_edge_offset", {0, n1_});
  whole_.b_row_map = b_row_map_;
  whole_.b_entries = b_entries_;
  whole_.b_values = b_values_;
  whole_.t_row_map = t_row_map_;
  whole_.t_entries = t_entries_;
  whole_.t_values = t_values_;
  const std::vector<double> init = eign_initial_parameters(config, seed);
  params = vector_type("frost::asi::eign_params", init.size());
  grads = vector_type("frost::asi::eign_grads", init.size());
  Kokkos::deep_copy(
      params,
      Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
          init.data(), init.size()));
}

template <class MemorySpace>
void Eign<MemorySpace>::set_causal_order(const std::vector<int>& rank) {
  if (static_cast<int>(rank.size()) != n1_) {
    throw std::invalid_argument("eign: causal order needs one rank per island");
  }
  std::vector<char> seen(n1_, 0);
  for (int r : rank) {
    if (r < 0 || r >= n1_ || seen[r]) {
      throw std::invalid_argument("eign: causal order must be a permutation of 0..n1-1");
    }
    seen[r] = 1;
  }
  rank_ = Kokkos::View<int*, MemorySpace>(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::eign_rank"), n1_);
  Kokkos::deep_copy(
      rank_, Kokkos::View<const int*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
                 rank.data(), rank.size()));
  causal_ = true;
}

// The kernels below are named functors rather than lambdas: CUDA's extended host-device lambdas
// in member templates instantiated by several translation units can call through a null host
// function pointer when run on a host execution space.
namespace detail {

template <class MemorySpace>
using EignIndexView = Kokkos::View<int*, MemorySpace>;
template <class MemorySpace>
using EignSignView = Kokkos::View<std::int8_t*, MemorySpace>;

/// One row (s, e) of the masked operator products px = M_equ X, qx = M_equ_inv X,
/// qy = M_inv_equ Y, py = M_inv Y through the two vertices of island e.
template <class MemorySpace>
struct EignMaskedProducts {
  EignTensor<MemorySpace> x, y, px, qx, py, qy;
  EignGraphs<MemorySpace> graph;  ///< B1 and its transpose (one graph)
  EignIndexView<MemorySpace> rank;
  int dx, dy;
  bool strict;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    double apx[kEignMaxWidth], aqx[kEignMaxWidth], apy[kEignMaxWidth], aqy[kEignMaxWidth];
    for (int j = 0; j < dx; ++j) apx[j] = aqx[j] = 0.0;
    for (int j = 0; j < dy; ++j) apy[j] = aqy[j] = 0.0;
    const int re = rank(e);
    for (int k = graph.t_row_map(e); k < graph.t_row_map(e + 1); ++k) {
      const int v = graph.t_entries(k);
      const double be = graph.t_values(k);
      for (int m = graph.b_row_map(v); m < graph.b_row_map(v + 1); ++m) {
        const int f = graph.b_entries(m);
        const int rf = rank(f);
        if (strict ? rf >= re : rf > re) continue;
        const double bf = graph.b_values(m);
        for (int j = 0; j < dx; ++j) {
          const double xv = x(s, f, j);
          apx[j] += be * bf * xv;
          aqx[j] += bf * xv;
        }
        for (int j = 0; j < dy; ++j) {
          const double yv = y(s, f, j);
          aqy[j] += be * yv;
          apy[j] += yv;
        }
      }
    }
    for (int j = 0; j < dx; ++j) {
      px(s, e, j) = apx[j];
      qx(s, e, j) = aqx[j];
    }
    for (int j = 0; j < dy; ++j) {
      py(s, e, j) = apy[j];
      qy(s, e, j) = aqy[j];
    }
  }
};

/// One row (s, e) of the adjoint of the masked products, accumulated into dxi, dyi.
template <class MemorySpace>
struct EignMaskedAdjoint {
  EignTensor<MemorySpace> dxi, dyi, g2, g3, g5, g6;
  EignGraphs<MemorySpace> graph;  ///< B1 and its transpose (one graph)
  EignIndexView<MemorySpace> rank;
  int dx, dy;
  bool strict;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    const int re = rank(e);
    for (int k = graph.t_row_map(e); k < graph.t_row_map(e + 1); ++k) {
      const int v = graph.t_entries(k);
      const double be = graph.t_values(k);
      for (int m = graph.b_row_map(v); m < graph.b_row_map(v + 1); ++m) {
        const int f = graph.b_entries(m);
        const int rf = rank(f);
        if (strict ? rf <= re : rf < re) continue;
        const double bf = graph.b_values(m);
        for (int j = 0; j < dx; ++j) dxi(s, e, j) += be * (bf * g2(s, f, j) + g6(s, f, j));
        for (int j = 0; j < dy; ++j) dyi(s, e, j) += bf * g3(s, f, j) + g5(s, f, j);
      }
    }
  }
};

/// Vertex row (s, v) of out = B1 in (+ B1 in2), each with signed or absolute entries.
template <class MemorySpace>
struct EignVertexSum {
  EignIndexView<MemorySpace> row_map, entries, offset;
  EignSignView<MemorySpace> values;
  Kokkos::View<const int*, MemorySpace> graph_of;
  EignTensor<MemorySpace> in, in2, out;
  int in_width, in2_width, width;
  bool in_signed, in2_signed, per_sample, has2;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int v) const {
    const int g = per_sample ? graph_of(s) : 0;
    const int row = offset(g) + v;
    if (row >= offset(g + 1)) return;
    for (int j = 0; j < width; ++j) out(s, v, j) = 0.0;
    for (int k = row_map(row); k < row_map(row + 1); ++k) {
      const int e = entries(k);
      const double val = values(k);
      const double w1 = in_signed ? val : Kokkos::Experimental::fabs(val);
      for (int j = 0; j < in_width; ++j) out(s, v, j) += w1 * in(s, e, j);
      if (has2) {
        const double w2 = in2_signed ? val : Kokkos::Experimental::fabs(val);
        for (int j = 0; j < in2_width; ++j) out(s, v, j) += w2 * in2(s, e, j);
      }
    }
  }
};

/// Edge row (s, e) of B1^T in (signed) and |B1|^T in (absolute), set or accumulated.
template <class MemorySpace>
struct EignEdgeGather {
  EignIndexView<MemorySpace> row_map, entries, offset;
  EignSignView<MemorySpace> values;
  Kokkos::View<const int*, MemorySpace> graph_of;
  EignTensor<MemorySpace> in, out_signed, out_abs;
  int width;
  bool per_sample, want_signed, want_abs, accumulate;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    const int g = per_sample ? graph_of(s) : 0;
    const int row = offset(g) + e;
    if (row >= offset(g + 1)) return;
    for (int j = 0; j < width; ++j) {
      double sum_signed = 0.0, sum_abs = 0.0;
      for (int k = row_map(row); k < row_map(row + 1); ++k) {
        const double x = in(s, entries(k), j);
        sum_signed += values(k) * x;
        sum_abs += x;  // |B1| entries are 1
      }
      if (want_signed) out_signed(s, e, j) = (accumulate ? out_signed(s, e, j) : 0.0) + sum_signed;
      if (want_abs) out_abs(s, e, j) = (accumulate ? out_abs(s, e, j) : 0.0) + sum_abs;
    }
  }
};

/// Weight (i, j) of a linear map's gradient: sum over samples and rows of in(., ., i) dout(., .,
/// j).
template <class MemorySpace>
struct EignWeightGradient {
  Kokkos::View<double*, MemorySpace> grads;
  EignTensor<MemorySpace> in, dout;
  EignIndexView<MemorySpace> edge_offset;
  Kokkos::View<const int*, MemorySpace> graph_of;
  int d, offset, batch;
  bool per_sample;

  KOKKOS_INLINE_FUNCTION void operator()(const int i, const int j) const {
    double sum = 0.0;
    for (int s = 0; s < batch; ++s) {
      const int gs = per_sample ? graph_of(s) : 0;
      const int n1 = edge_offset(gs + 1) - edge_offset(gs);
      for (int e = 0; e < n1; ++e) sum += in(s, e, i) * dout(s, e, j);
    }
    grads(offset + i * d + j) += sum;
  }
};

/// Row (s, e) of one layer's forward pass: the six linear maps, both norms, tanh and SiLU.
template <class MemorySpace>
struct EignLayerForward {
  Kokkos::View<double*, MemorySpace> p;
  EignTensor<MemorySpace> x, y, px, qx, py, qy, ahat, chat, xo, yo;
  Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> arms, cstd;
  EignIndexView<MemorySpace> edge_offset;
  Kokkos::View<const int*, MemorySpace> graph_of;
  EignLayerLayout lay;
  int d;
  double eps, self_x;
  bool per_sample;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    const int g = per_sample ? graph_of(s) : 0;
    if (e >= edge_offset(g + 1) - edge_offset(g)) return;
    const int dx = lay.dx, dy = lay.dy;
    double a[kEignMaxWidth], c[kEignMaxWidth];
    for (int j = 0; j < d; ++j) {
      a[j] = 0.0;
      c[j] = p(lay.b + j);
    }
    for (int i = 0; i < dx; ++i) {
      const double xi = self_x * x(s, e, i), pxi = px(s, e, i), qxi = qx(s, e, i);
      for (int j = 0; j < d; ++j) {
        a[j] += xi * p(lay.w1 + i * d + j) + pxi * p(lay.w2 + i * d + j);
        c[j] += qxi * p(lay.w6 + i * d + j);
      }
    }
    for (int i = 0; i < dy; ++i) {
      const double yi = y(s, e, i), pyi = py(s, e, i), qyi = qy(s, e, i);
      for (int j = 0; j < d; ++j) {
        a[j] += qyi * p(lay.w3 + i * d + j);
        c[j] += yi * p(lay.w4 + i * d + j) + pyi * p(lay.w5 + i * d + j);
      }
    }
    double ms = 0.0, mean = 0.0;
    for (int j = 0; j < d; ++j) {
      ms += a[j] * a[j];
      mean += c[j];
    }
    const double rms = Kokkos::Experimental::sqrt(ms / d + eps);
    mean /= d;
    double var = 0.0;
    for (int j = 0; j < d; ++j) var += (c[j] - mean) * (c[j] - mean);
    const double sd = Kokkos::Experimental::sqrt(var / d + eps);
    arms(s, e) = rms;
    cstd(s, e) = sd;
    for (int j = 0; j < d; ++j) {
      const double ah = a[j] / rms;
      const double ch = (c[j] - mean) / sd;
      ahat(s, e, j) = ah;
      chat(s, e, j) = ch;
      xo(s, e, j) = Kokkos::Experimental::tanh(p(lay.gx + j) * ah);
      const double z = p(lay.gy + j) * ch + p(lay.by + j);
      yo(s, e, j) = z * eign_sigmoid(z);
    }
  }
};

/// Row (s, e) of the backward pass through a layer's nonlinearities and norms to dA, dC.
template <class MemorySpace>
struct EignBackwardNorm {
  Kokkos::View<double*, MemorySpace> p;
  EignTensor<MemorySpace> ahat, chat, xo, dxo, dyo, da, dc;
  Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> arms, cstd;
  EignIndexView<MemorySpace> edge_offset;
  Kokkos::View<const int*, MemorySpace> graph_of;
  EignLayerLayout lay;
  int d;
  bool per_sample;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    const int gs = per_sample ? graph_of(s) : 0;
    if (e >= edge_offset(gs + 1) - edge_offset(gs)) return;
    double dah[kEignMaxWidth], dch[kEignMaxWidth];
    double dot_a = 0.0, mean_c = 0.0, dot_c = 0.0;
    for (int j = 0; j < d; ++j) {
      const double xv = xo(s, e, j);
      dah[j] = dxo(s, e, j) * (1.0 - xv * xv) * p(lay.gx + j);
      const double z = p(lay.gy + j) * chat(s, e, j) + p(lay.by + j);
      const double sg = eign_sigmoid(z);
      dch[j] = dyo(s, e, j) * sg * (1.0 + z * (1.0 - sg)) * p(lay.gy + j);
      dot_a += dah[j] * ahat(s, e, j);
      mean_c += dch[j];
      dot_c += dch[j] * chat(s, e, j);
    }
    dot_a /= d;
    mean_c /= d;
    dot_c /= d;
    const double r = arms(s, e), sd = cstd(s, e);
    for (int j = 0; j < d; ++j) {
      da(s, e, j) = (dah[j] - ahat(s, e, j) * dot_a) / r;
      dc(s, e, j) = (dch[j] - mean_c - chat(s, e, j) * dot_c) / sd;
    }
  }
};

/// Channel j of the gain and norm-bias gradients: reductions over samples and rows.
template <class MemorySpace>
struct EignBackwardGains {
  Kokkos::View<double*, MemorySpace> p, grads;
  EignTensor<MemorySpace> ahat, chat, xo, dxo, dyo, dc;
  EignIndexView<MemorySpace> edge_offset;
  Kokkos::View<const int*, MemorySpace> graph_of;
  EignLayerLayout lay;
  int batch;
  bool per_sample;

  KOKKOS_INLINE_FUNCTION void operator()(const int j) const {
    double sgx = 0.0, sgy = 0.0, sby = 0.0, sb = 0.0;
    for (int s = 0; s < batch; ++s) {
      const int gs = per_sample ? graph_of(s) : 0;
      const int n1 = edge_offset(gs + 1) - edge_offset(gs);
      for (int e = 0; e < n1; ++e) {
        const double xv = xo(s, e, j);
        sgx += dxo(s, e, j) * (1.0 - xv * xv) * ahat(s, e, j);
        const double z = p(lay.gy + j) * chat(s, e, j) + p(lay.by + j);
        const double sg = eign_sigmoid(z);
        const double dz = dyo(s, e, j) * sg * (1.0 + z * (1.0 - sg));
        sgy += dz * chat(s, e, j);
        sby += dz;
        sb += dc(s, e, j);
      }
    }
    grads(lay.gx + j) += sgx;
    grads(lay.gy + j) += sgy;
    grads(lay.by + j) += sby;
    grads(lay.b + j) += sb;
  }
};

/// Row (s, e) of the input gradients dA W1^T, dC W4^T and the operator inputs
/// G2 = dA W2^T, G3 = dA W3^T, G5 = dC W5^T, G6 = dC W6^T.
template <class MemorySpace>
struct EignBackwardLinear {
  Kokkos::View<double*, MemorySpace> p;
  EignTensor<MemorySpace> da, dc, dxi, dyi, g2, g3, g5, g6;
  EignIndexView<MemorySpace> edge_offset;
  Kokkos::View<const int*, MemorySpace> graph_of;
  EignLayerLayout lay;
  int d;
  bool self_x, per_sample;

  KOKKOS_INLINE_FUNCTION void operator()(const int s, const int e) const {
    const int gs = per_sample ? graph_of(s) : 0;
    if (e >= edge_offset(gs + 1) - edge_offset(gs)) return;
    for (int i = 0; i < lay.dx; ++i) {
      double s1 = 0.0, s2 = 0.0, s6 = 0.0;
      for (int j = 0; j < d; ++j) {
        s1 += da(s, e, j) * p(lay.w1 + i * d + j);
        s2 += da(s, e, j) * p(lay.w2 + i * d + j);
        s6 += dc(s, e, j) * p(lay.w6 + i * d + j);
      }
      dxi(s, e, i) = self_x ? s1 : 0.0;
      g2(s, e, i) = s2;
      g6(s, e, i) = s6;
    }
    for (int i = 0; i < lay.dy; ++i) {
      double s4 = 0.0, s3 = 0.0, s5 = 0.0;
      for (int j = 0; j < d; ++j) {
        s4 += dc(s, e, j) * p(lay.w4 + i * d + j);
        s3 += da(s, e, j) * p(lay.w3 + i * d + j);
        s5 += dc(s, e, j) * p(lay.w5 + i * d + j);
      }
      dyi(s, e, i) = s4;
      g3(s, e, i) = s3;
      g5(s, e, i) = s5;
    }
  }
};

/// Sample s's loop logit: the mean over the loop's edges of o_k X . rx + Y . ry, plus rb.
template <class MemorySpace>
struct EignLoopReadout {
  Kokkos::View<double*, MemorySpace> p, logits;
  EignTensor<MemorySpace> x, y;
  EignIndexView<MemorySpace> offsets, edges;
  EignSignView<MemorySpace> orientation;
  Kokkos::View<const int*, MemorySpace> loops;
  int d, rx, ry, rb;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    const int loop = loops(s);
    const int begin = offsets(loop), end = offsets(loop + 1);
    double sum = 0.0;
    for (int k = begin; k < end; ++k) {
      const int e = edges(k);
      const double o = orientation(k);
      for (int j = 0; j < d; ++j) sum += o * x(s, e, j) * p(rx + j) + y(s, e, j) * p(ry + j);
    }
    logits(s) = (end > begin ? sum / (end - begin) : 0.0) + p(rb);
  }
};

/// Sample s's output gradients on its loop's edges (a basis loop holds an edge once).
template <class MemorySpace>
struct EignLoopReadoutAdjoint {
  Kokkos::View<double*, MemorySpace> p;
  EignTensor<MemorySpace> dx, dy;
  EignIndexView<MemorySpace> offsets, edges;
  EignSignView<MemorySpace> orientation;
  Kokkos::View<const int*, MemorySpace> loops;
  Kokkos::View<const double*, MemorySpace> dlogits;
  int d, rx, ry;

  KOKKOS_INLINE_FUNCTION void operator()(const int s) const {
    const int loop = loops(s);
    const int begin = offsets(loop), end = offsets(loop + 1);
    if (end == begin) return;
    const double scale = dlogits(s) / (end - begin);
    for (int k = begin; k < end; ++k) {
      const int e = edges(k);
      const double o = orientation(k);
      for (int j = 0; j < d; ++j) {
        dx(s, e, j) = scale * o * p(rx + j);
        dy(s, e, j) = scale * p(ry + j);
      }
    }
  }
};

/// Readout parameter j's gradient (j = d: the bias), serial over samples.
template <class MemorySpace>
struct EignLoopReadoutGradient {
  Kokkos::View<double*, MemorySpace> grads;
  EignTensor<MemorySpace> x, y;
  EignIndexView<MemorySpace> offsets, edges;
  EignSignView<MemorySpace> orientation;
  Kokkos::View<const int*, MemorySpace> loops;
  Kokkos::View<const double*, MemorySpace> dlogits;
  int d, rx, ry, rb, batch;

  KOKKOS_INLINE_FUNCTION void operator()(const int j) const {
    double sx = 0.0, sy = 0.0, sb = 0.0;
    for (int s = 0; s < batch; ++s) {
      const int loop = loops(s);
      const int begin = offsets(loop), end = offsets(loop + 1);
      sb += dlogits(s);
      if (end == begin || j == d) continue;
      const double scale = dlogits(s) / (end - begin);
      for (int k = begin; k < end; ++k) {
        const int e = edges(k);
        sx += scale * orientation(k) * x(s, e, j);
        sy += scale * y(s, e, j);
      }
    }
    if (j < d) {
      grads(rx + j) += sx;
      grads(ry + j) += sy;
    } else {
      grads(rb) += sb;
    }
  }
};

}  // namespace detail

// Masked operator products of layer `layer` into ws.px, qx, py, qy (see the file comment):
// px = M_equ X, qx = M_equ_inv X, qy = M_inv_equ Y, py = M_inv Y.
template <class MemorySpace>
template <class ExecSpace>
void Eign<MemorySpace>::masked_products(const ExecSpace& exec, int layer,
                                        EignWorkspace<MemorySpace>& ws) const {
  const detail::EignMaskedProducts<MemorySpace> kernel{ws.x[layer],
                                                       ws.y[layer],
                                                       ws.px[layer],
                                                       ws.qx[layer],
                                                       ws.py[layer],
                                                       ws.qy[layer],
                                                       whole_,
                                                       rank_,
                                                       layout_.layers[layer].dx,
                                                       layout_.layers[layer].dy,
                                                       layer == 0};
  Kokkos::parallel_for("frost::asi::eign_masked_products",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {ws.batch, n1_}),
                       kernel);
}

// Adjoint of masked_products, accumulated into ws.dx[layer], ws.dy[layer]:
// dX += M_equ^T G2 + M_equ_inv^T G6, dY += M_inv^T G5 + M_inv_equ^T G3.
template <class MemorySpace>
template <class ExecSpace>
void Eign<MemorySpace>::masked_adjoint(const ExecSpace& exec, int layer,
                                       EignWorkspace<MemorySpace>& ws) const {
  const detail::EignMaskedAdjoint<MemorySpace> kernel{ws.dx[layer],
                                                      ws.dy[layer],
                                                      ws.g2,
                                                      ws.g3,
                                                      ws.g5,
                                                      ws.g6,
                                                      whole_,
                                                      rank_,
                                                      layout_.layers[layer].dx,
                                                      layout_.layers[layer].dy,
                                                      layer == 0};
  Kokkos::parallel_for("frost::asi::eign_masked_adjoint",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {ws.batch, n1_}),
                       kernel);
}

template <class MemorySpace>
void Eign<MemorySpace>::resize_workspace(EignWorkspace<MemorySpace>& ws, int batch,
                                         const EignGraphs<MemorySpace>& graphs) const {
  const int n1 = graphs.max_edges, n0 = graphs.max_vertices;
  if (ws.batch == batch && ws.edges == n1 && ws.vertices == n0 && !ws.x.empty()) return;
  const int K = config_.layers;
  const int d = config_.width;
  const int wmax = std::max(d, std::max(config_.equ_inputs, config_.inv_inputs));
  auto t3 = [](const char* label, int a, int b, int c) {
    return tensor_type(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), a, b,
                       c);
  };
  ws = EignWorkspace<MemorySpace>{};
  ws.batch = batch;
  ws.edges = n1;
  ws.vertices = n0;
  for (int l = 0; l <= K; ++l) {
    const int wx = l == 0 ? config_.equ_inputs : d;
    const int wy = l == 0 ? config_.inv_inputs : d;
    ws.x.push_back(t3("frost::asi::eign_x", batch, n1, wx));
    ws.y.push_back(t3("frost::asi::eign_y", batch, n1, wy));
    ws.dx.push_back(t3("frost::asi::eign_dx", batch, n1, wx));
    ws.dy.push_back(t3("frost::asi::eign_dy", batch, n1, wy));
  }
  for (int l = 0; l < K; ++l) {
    const int wx = layout_.layers[l].dx;
    const int wy = layout_.layers[l].dy;
    ws.px.push_back(t3("frost::asi::eign_px", batch, n1, wx));
    ws.qx.push_back(t3("frost::asi::eign_qx", batch, n1, wx));
    ws.py.push_back(t3("frost::asi::eign_py", batch, n1, wy));
    ws.qy.push_back(t3("frost::asi::eign_qy", batch, n1, wy));
    ws.ahat.push_back(t3("frost::asi::eign_ahat", batch, n1, d));
    ws.chat.push_back(t3("frost::asi::eign_chat", batch, n1, d));
    ws.arms.emplace_back(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::eign_arms"),
                         batch, n1);
    ws.cstd.emplace_back(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frost::asi::eign_cstd"),
                         batch, n1);
  }
  ws.u = t3("frost::asi::eign_u", batch, n0, wmax);
  ws.v = t3("frost::asi::eign_v", batch, n0, wmax);
  ws.da = t3("frost::asi::eign_da", batch, n1, d);
  ws.dc = t3("frost::asi::eign_dc", batch, n1, d);
  ws.g2 = t3("frost::asi::eign_g2", batch, n1, wmax);
  ws.g3 = t3("frost::asi::eign_g3", batch, n1, wmax);
  ws.g5 = t3("frost::asi::eign_g5", batch, n1, wmax);
  ws.g6 = t3("frost::asi::eign_g6", batch, n1, wmax);
}

// out(s, v, j) = sum_k val_k in(s, e_k, j) (signed) or |val_k| in(...), plus the same for in2.
template <class MemorySpace>
template <class ExecSpace>
void Eign<MemorySpace>::vertex_sum(const ExecSpace& exec, const tensor_type& in, int in_width,
                                   bool in_signed, const tensor_type& in2, int in2_width,
                                   bool in2_signed, const tensor_type& out, int width, int batch,
                                   const EignGraphs<MemorySpace>& graphs,
                                   const graph_map& graph_of) const {
  const detail::EignVertexSum<MemorySpace> kernel{graphs.b_row_map,
                                                  graphs.b_entries,
                                                  graphs.vertex_offset,
                                                  graphs.b_values,
                                                  graph_of,
                                                  in,
                                                  in2,
                                                  out,
                                                  in_width,
                                                  in2_width,
                                                  width,
                                                  in_signed,
                                                  in2_signed,
                                                  graph_of.extent(0) > 0,
                                                  in2_width > 0};
  Kokkos::parallel_for("frost::asi::eign_vertex_sum",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {batch, graphs.max_vertices}),
                       kernel);
}

// out_signed(s, e, j) (=|+=) sum_k val_k in(s, v_k, j); out_abs likewise with |val_k|. An
// output with extent 0 is skipped.
template <class MemorySpace>
template <class ExecSpace>
void Eign<MemorySpace>::edge_gather(const ExecSpace& exec, const tensor_type& in, int width,
                                    const tensor_type& out_signed, const tensor_type& out_abs,
                                    bool accumulate, int batch,
                                    const EignGraphs<MemorySpace>& graphs,
                                    const graph_map& graph_of) const {
  const detail::EignEdgeGather<MemorySpace> kernel{graphs.t_row_map,
                                                   graphs.t_entries,
                                                   graphs.edge_offset,
                                                   graphs.t_values,
                                                   graph_of,
                                                   in,
                                                   out_signed,
                                                   out_abs,
                                                   width,
                                                   graph_of.extent(0) > 0,
                                                   out_signed.extent(0) > 0,
                                                   out_abs.extent(0) > 0,
                                                   accumulate};
  Kokkos::parallel_for("frost::asi::eign_edge_gather",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {batch, graphs.max_edges}),
                       kernel);
}

// grads[offset + i*d + j] += sum_{s,e} in(s, e, i) dout(s, e, j): the weight gradient of a
// linear map, one thread per weight (the reduction over rows is serial per weight).
template <class MemorySpace>
template <class ExecSpace>
void Eign<MemorySpace>::weight_gradient(const ExecSpace& exec, const tensor_type& in, int din,
                                        const tensor_type& dout, int offset, int batch,
                                        const EignGraphs<MemorySpace>& graphs,
                                        const graph_map& graph_of) const {
  const int d = config_.width;
  const detail::EignWeightGradient<MemorySpace> kernel{
      grads, in, dout, graphs.edge_offset, graph_of, d, offset, batch, graph_of.extent(0) > 0};
  Kokkos::parallel_for("frost::asi::eign_weight_gradient",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                           exec, {0, 0}, {din, d}),
                       kernel);
}

template <class MemorySpace>
template <class ExecSpace>
void Eign<MemorySpace>::forward_on(const ExecSpace& exec, EignWorkspace<MemorySpace>& ws,
                                   const EignGraphs<MemorySpace>& graphs,
                                   const graph_map& graph_of) const {
  const int batch = ws.batch;
  const bool per_sample = graph_of.extent(0) > 0;
  const tensor_type none;
  for (int l = 0; l < config_.layers; ++l) {
    const EignLayerLayout lay = layout_.layers[l];
    const int dx = lay.dx, dy = lay.dy;
    if (causal_) {
      masked_products(exec, l, ws);
    } else {
      // U = B1 X, then L_equ X = B1^T U and L_equ_inv X = |B1|^T U.
      vertex_sum(exec, ws.x[l], dx, true, none, 0, true, ws.u, dx, batch, graphs, graph_of);
      edge_gather(exec, ws.u, dx, ws.px[l], ws.qx[l], false, batch, graphs, graph_of);
      // V = |B1| Y, then L_inv_equ Y = B1^T V and L_inv Y = |B1|^T V.
      vertex_sum(exec, ws.y[l], dy, false, none, 0, false, ws.v, dy, batch, graphs, graph_of);
      edge_gather(exec, ws.v, dy, ws.qy[l], ws.py[l], false, batch, graphs, graph_of);
    }
    // The first causal layer must not see an island's own spin.
    const double self_x = causal_ && l == 0 ? 0.0 : 1.0;
    const detail::EignLayerForward<MemorySpace> kernel{params,        ws.x[l],
                                                       ws.y[l],       ws.px[l],
                                                       ws.qx[l],      ws.py[l],
                                                       ws.qy[l],      ws.ahat[l],
                                                       ws.chat[l],    ws.x[l + 1],
                                                       ws.y[l + 1],   ws.arms[l],
                                                       ws.cstd[l],    graphs.edge_offset,
                                                       graph_of,      lay,
                                                       config_.width, config_.norm_eps,
                                                       self_x,        per_sample};
    Kokkos::parallel_for("frost::asi::eign_forward",
                         Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>>(
                             exec, {0, 0}, {batch, graphs.max_edges}),
                         kernel);
  }
}

template <class MemorySpace>
template <class ExecSpace>
void Eign<MemorySpace>::backward_on(const ExecSpace& exec, EignWorkspace<MemorySpace>& ws,
                                    const EignGraphs<MemorySpace>& graphs,
                                    const graph_map& graph_of) const {
  const int batch = ws.batch;
  const bool per_sample = graph_of.extent(0) > 0;
  const int d = config_.width;
  const tensor_type none;
  for (int l = config_.layers - 1; l >= 0; --l) {
    const EignLayerLayout lay = layout_.layers[l];
    const int dx = lay.dx, dy = lay.dy;
    const Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>, Kokkos::IndexType<int>> rows(
        exec, {0, 0}, {batch, graphs.max_edges});
    // Through the nonlinearities and norms to dA, dC (per row).
    const detail::EignBackwardNorm<MemorySpace> norm{
        params, ws.ahat[l], ws.chat[l], ws.x[l + 1], ws.dx[l + 1],       ws.dy[l + 1],
        ws.da,  ws.dc,      ws.arms[l], ws.cstd[l],  graphs.edge_offset, graph_of,
        lay,    d,          per_sample};
    Kokkos::parallel_for("frost::asi::eign_backward_norm", rows, norm);
    // Gains and norm bias: reductions over rows, one thread per channel.
    const detail::EignBackwardGains<MemorySpace> gains{
        params,       grads,        ws.ahat[l], ws.chat[l],         ws.x[l + 1],
        ws.dx[l + 1], ws.dy[l + 1], ws.dc,      graphs.edge_offset, graph_of,
        lay,          batch,        per_sample};
    Kokkos::parallel_for("frost::asi::eign_backward_gains",
                         Kokkos::RangePolicy<ExecSpace>(exec, 0, d), gains);
    // Weight gradients of the six linear maps.
    const bool self_x = !(causal_ && l == 0);
    if (self_x) weight_gradient(exec, ws.x[l], dx, ws.da, lay.w1, batch, graphs, graph_of);
    weight_gradient(exec, ws.px[l], dx, ws.da, lay.w2, batch, graphs, graph_of);
    weight_gradient(exec, ws.qy[l], dy, ws.da, lay.w3, batch, graphs, graph_of);
    weight_gradient(exec, ws.y[l], dy, ws.dc, lay.w4, batch, graphs, graph_of);
    weight_gradient(exec, ws.py[l], dy, ws.dc, lay.w5, batch, graphs, graph_of);
    weight_gradient(exec, ws.qx[l], dx, ws.dc, lay.w6, batch, graphs, graph_of);
    // Input gradients: local terms dA W1^T, dC W4^T, and the operator inputs
    // G2 = dA W2^T, G3 = dA W3^T, G5 = dC W5^T, G6 = dC W6^T.
    auto dxi = ws.dx[l], dyi = ws.dy[l];
    const detail::EignBackwardLinear<MemorySpace> linear{
        params,   ws.da, ws.dc, dxi,    dyi,       ws.g2, ws.g3, ws.g5, ws.g6, graphs.edge_offset,
        graph_of, lay,   d,     self_x, per_sample};
    Kokkos::parallel_for("frost::asi::eign_backward_linear", rows, linear);
    // Adjoints of the operators (L_equ and L_inv are symmetric, L_equ_inv^T = L_inv_equ):
    //   dX += L_equ G2 + L_inv_equ G6 = B1^T (B1 G2 + |B1| G6)
    //   dY += L_inv G5 + L_equ_inv G3 = |B1|^T (|B1| G5 + B1 G3)
    // G2, G6 have width dx; G5, G3 width dy.
    if (causal_) {
      masked_adjoint(exec, l, ws);
    } else {
      vertex_sum(exec, ws.g2, dx, true, ws.g6, dx, false, ws.u, dx, batch, graphs, graph_of);
      edge_gather(exec, ws.u, dx, dxi, none, true, batch, graphs, graph_of);
      vertex_sum(exec, ws.g5, dy, false, ws.g3, dy, true, ws.v, dy, batch, graphs, graph_of);
      edge_gather(exec, ws.v, dy, none, dyi, true, batch, graphs, graph_of);
    }
  }
}

template <class MemorySpace>
template <class ExecSpace>
void Eign<MemorySpace>::loop_readout(const ExecSpace& exec, const EignWorkspace<MemorySpace>& ws,
                                     const DeviceCycleBasis<MemorySpace>& basis,
                                     const Kokkos::View<const int*, MemorySpace>& loops,
                                     const vector_type& logits) const {
  const int K = config_.layers;
  const detail::EignLoopReadout<MemorySpace> kernel{
      params, logits,        ws.x[K],    ws.y[K],    basis.offsets, basis.edges, basis.orientation,
      loops,  config_.width, layout_.rx, layout_.ry, layout_.rb};
  Kokkos::parallel_for("frost::asi::eign_loop_readout",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, ws.batch), kernel);
}

template <class MemorySpace>
template <class ExecSpace>
void Eign<MemorySpace>::loop_readout_backward(
    const ExecSpace& exec, EignWorkspace<MemorySpace>& ws,
    const DeviceCycleBasis<MemorySpace>& basis, const Kokkos::View<const int*, MemorySpace>& loops,
    const Kokkos::View<const double*, MemorySpace>& dlogits) const {
  const int K = config_.layers;
  Kokkos::deep_copy(exec, ws.dx[K], 0.0);
  Kokkos::deep_copy(exec, ws.dy[K], 0.0);
  const int d = config_.width;
  const detail::EignLoopReadoutAdjoint<MemorySpace> adjoint{
      params, ws.dx[K], ws.dy[K], basis.offsets, basis.edges, basis.orientation,
      loops,  dlogits,  d,        layout_.rx,    layout_.ry};
  Kokkos::parallel_for("frost::asi::eign_loop_readout_backward",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, ws.batch), adjoint);
  const detail::EignLoopReadoutGradient<MemorySpace> gradient{
      grads,   ws.x[K], ws.y[K],    basis.offsets, basis.edges, basis.orientation, loops,
      dlogits, d,       layout_.rx, layout_.ry,    layout_.rb,  ws.batch};
  Kokkos::parallel_for("frost::asi::eign_loop_readout_gradient",
                       Kokkos::RangePolicy<ExecSpace>(exec, 0, d + 1), gradient);
}

}  // namespace frost::asi
