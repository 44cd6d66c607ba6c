// Vortices of the complex field psi on the triangulated sphere.
//
// Topological: around a triangle (a, b, c), counter-clockwise seen from outside, the charge is
//   q = (d(a,b) + d(b,c) + d(c,a)) / 2 pi,   d(u,v) = wrap(arg psi_v - arg psi_u) in [-pi, pi],
// an integer in {-1, 0, 1}: the winding of the phase, nonzero where psi has a phase singularity
// inside the triangle. d is evaluated once per undirected edge (from the lower node index) and
// negated for the other direction, so the charges of a closed surface sum to exactly zero.
//
// Threshold (the reference model's detector): nodes where |field_i| (or |psi_i|) is below
// threshold * max over nodes; no charge.
//
// Both run as Kokkos kernels where the field lies (the triangulation is copied to the device once
// per geometry): detect_vortices, what a cycle runs, is two kernels and one wait for the counts.
// The *_host functions are plain loops over host vectors, the reference the tests hold the
// kernels to (equal charges, marks and counts).
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "wavefield/sincos.hpp"

namespace frost::core {
class ParamRegistry;
}

namespace frost::wavefield {

/// Declares the `vortex.*` keys (method, threshold).
void declare_vortex_params(core::ParamRegistry& reg);

/// Triangles in `MemorySpace` (node indices, counter-clockwise from outside).
template <class MemorySpace>
Kokkos::View<int* [3], MemorySpace> triangles_view(const std::vector<std::array<int, 3>>& tris) {
  Kokkos::View<int* [3], MemorySpace> v("frost::wavefield::triangles", tris.size());
  auto h = Kokkos::create_mirror_view(v);
  for (std::size_t t = 0; t < tris.size(); ++t)
    for (int k = 0; k < 3; ++k) h(t, k) = tris[t][k];
  Kokkos::deep_copy(v, h);
  return v;
}

/// Count of charged triangles and the sum of their charges.
struct VortexTally {
  long count = 0;
  long total_charge = 0;
};

/// Both detectors' counts of one field.
struct VortexCounts {
  long topological = 0;   ///< charged triangles
  long total_charge = 0;  ///< sum of their charges (0 on a closed surface)
  long threshold = 0;     ///< nodes below the magnitude threshold
};

/// The magnitude the threshold detector compares: |psi_i| or |Im psi_i|.
KOKKOS_INLINE_FUNCTION double vortex_magnitude(double re, double im, bool use_modulus) {
  return use_modulus ? Kokkos::Experimental::sqrt(re * re + im * im)
                     : Kokkos::Experimental::fabs(im);
}

/// Charge of triangle t from the node phases: the rounded winding / 2 pi (see the top).
template <class MemorySpace>
KOKKOS_INLINE_FUNCTION int triangle_charge(const Kokkos::View<int* [3], MemorySpace>& tris,
                                           const Kokkos::View<double*, MemorySpace>& phase,
                                           const int t) {
  double sum = 0.0;
  for (int e = 0; e < 3; ++e) {
    const int u = tris(t, e), v = tris(t, (e + 1) % 3);
    sum += u < v ? wrap_phase(phase(v) - phase(u)) : -wrap_phase(phase(u) - phase(v));
  }
  return static_cast<int>(Kokkos::Experimental::nearbyint(sum / 6.28318530717958647692));
}

/// Reduction over max(triangles, threshold_nodes) items: item t < triangles writes charge(t) and
/// counts it by sign; item i < threshold_nodes marks node i against threshold * peak() and
/// counts the mark.
template <class MemorySpace>
struct VortexCountKernel {
  struct value_type {
    long long positive, negative, marked;
  };
  Kokkos::View<int* [3], MemorySpace> tris;
  Kokkos::View<double*, MemorySpace> phase;
  Kokkos::View<std::int8_t*, MemorySpace> charge;
  Kokkos::View<double*, MemorySpace> re, im;
  Kokkos::View<std::int8_t*, MemorySpace> marked;
  Kokkos::View<double, MemorySpace> peak;
  bool use_modulus = false;
  double threshold = 0.0;
  int triangles = 0, threshold_nodes = 0;

  KOKKOS_INLINE_FUNCTION void init(value_type& v) const { v.positive = v.negative = v.marked = 0; }
  KOKKOS_INLINE_FUNCTION void join(volatile value_type& a, const volatile value_type& b) const {
    a.positive += b.positive;
    a.negative += b.negative;
    a.marked += b.marked;
  }
  KOKKOS_INLINE_FUNCTION void operator()(const int k, value_type& v) const {
    if (k < triangles) {
      const int q = triangle_charge(tris, phase, k);
      charge(k) = static_cast<std::int8_t>(q);
      v.positive += q > 0;
      v.negative += q < 0;
    }
    if (k < threshold_nodes) {
      const bool below = vortex_magnitude(re(k), im(k), use_modulus) < threshold * peak();
      marked(k) = below;
      v.marked += below;
    }
  }
};

/// Phase winding of every triangle into `charge` (extent = triangles), from psi = re + i im.
/// `phase` (extent = nodes) receives arg psi. Two kernels, one wait (the counts).
template <class ExecSpace, class MemorySpace>
VortexTally topological_vortices(const ExecSpace& exec,
                                 const Kokkos::View<int* [3], MemorySpace>& tris,
                                 const Kokkos::View<double*, MemorySpace>& re,
                                 const Kokkos::View<double*, MemorySpace>& im,
                                 const Kokkos::View<double*, MemorySpace>& phase,
                                 const Kokkos::View<std::int8_t*, MemorySpace>& charge) {
  const int n = static_cast<int>(re.extent(0));
  Kokkos::parallel_for(
      "frost::wavefield::phase", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const int i) { phase(i) = Kokkos::Experimental::atan2(im(i), re(i)); });
  VortexCountKernel<MemorySpace> k;
  k.tris = tris;
  k.phase = phase;
  k.charge = charge;
  k.triangles = static_cast<int>(tris.extent(0));
  typename VortexCountKernel<MemorySpace>::value_type v{0, 0, 0};
  Kokkos::parallel_reduce("frost::wavefield::winding",
                          Kokkos::RangePolicy<ExecSpace>(exec, 0, k.triangles), k, v);
  return {static_cast<long>(v.positive + v.negative), static_cast<long>(v.positive - v.negative)};
}

/// Marks nodes with |value_i| < threshold * max_j |value_j| (value = field or |psi|) in `marked`
/// and returns their number. Two kernels, two waits (the peak, the count).
template <class ExecSpace, class MemorySpace>
long threshold_vortices(const ExecSpace& exec, const Kokkos::View<double*, MemorySpace>& re,
                        const Kokkos::View<double*, MemorySpace>& im, bool use_modulus,
                        double threshold, const Kokkos::View<std::int8_t*, MemorySpace>& marked) {
  const int n = static_cast<int>(im.extent(0));
  double peak = 0.0;
  Kokkos::parallel_reduce(
      "frost::wavefield::threshold_max", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const int i, double& m) {
        const double v = vortex_magnitude(re(i), im(i), use_modulus);
        m = v > m ? v : m;
      },
      Kokkos::Max<double>(peak));
  const double cut = threshold * peak;
  long count = 0;
  Kokkos::parallel_reduce(
      "frost::wavefield::threshold", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const int i, long& cnt) {
        const bool below = vortex_magnitude(re(i), im(i), use_modulus) < cut;
        marked(i) = below;
        cnt += below;
      },
      count);
  return count;
}

/// Both detectors at once, what a cycle runs: kernel 1 writes arg psi and reduces the peak
/// magnitude into `peak` on the device (no wait); kernel 2 writes the charges and the marks and
/// reduces the counts, the one wait. Same charges, marks and counts as topological_vortices and
/// threshold_vortices.
template <class ExecSpace, class MemorySpace>
VortexCounts detect_vortices(const ExecSpace& exec, const Kokkos::View<int* [3], MemorySpace>& tris,
                             const Kokkos::View<double*, MemorySpace>& re,
                             const Kokkos::View<double*, MemorySpace>& im, bool use_modulus,
                             double threshold, const Kokkos::View<double*, MemorySpace>& phase,
                             const Kokkos::View<std::int8_t*, MemorySpace>& charge,
                             const Kokkos::View<std::int8_t*, MemorySpace>& marked,
                             const Kokkos::View<double, MemorySpace>& peak) {
  const int n = static_cast<int>(re.extent(0));
  Kokkos::parallel_reduce(
      "frost::wavefield::phase_and_peak", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const int i, double& m) {
        phase(i) = Kokkos::Experimental::atan2(im(i), re(i));
        const double v = vortex_magnitude(re(i), im(i), use_modulus);
        m = v > m ? v : m;
      },
      Kokkos::Max<double, MemorySpace>(peak));
  VortexCountKernel<MemorySpace> k;
  k.tris = tris;
  k.phase = phase;
  k.charge = charge;
  k.re = re;
  k.im = im;
  k.marked = marked;
  k.peak = peak;
  k.use_modulus = use_modulus;
  k.threshold = threshold;
  k.triangles = static_cast<int>(tris.extent(0));
  k.threshold_nodes = n;
  typename VortexCountKernel<MemorySpace>::value_type v{0, 0, 0};
  Kokkos::parallel_reduce("frost::wavefield::winding_and_threshold",
                          Kokkos::RangePolicy<ExecSpace>(exec, 0, std::max(k.triangles, n)), k, v);
  return {static_cast<long>(v.positive + v.negative), static_cast<long>(v.positive - v.negative),
          static_cast<long>(v.marked)};
}

/// Host reference of topological_vortices: std::atan2 and the same winding sum in plain loops.
VortexTally topological_vortices_host(const std::vector<std::array<int, 3>>& tris,
                                      const std::vector<double>& re, const std::vector<double>& im,
                                      std::vector<std::int8_t>& charge);

/// Host reference of threshold_vortices.
long threshold_vortices_host(const std::vector<double>& re, const std::vector<double>& im,
                             bool use_modulus, double threshold, std::vector<std::int8_t>& marked);

}  // namespace frost::wavefield
