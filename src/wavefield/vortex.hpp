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
#pragma once

#include <Kokkos_Core.hpp>
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

/// Phase winding of every triangle into `charge` (extent = triangles), from psi = re + i im.
/// `phase` (extent = nodes) receives arg psi.
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
  const int nt = static_cast<int>(tris.extent(0));
  Kokkos::parallel_for(
      "frost::wavefield::winding", Kokkos::RangePolicy<ExecSpace>(exec, 0, nt),
      KOKKOS_LAMBDA(const int t) {
        double sum = 0.0;
        for (int e = 0; e < 3; ++e) {
          const int u = tris(t, e), v = tris(t, (e + 1) % 3);
          sum += u < v ? wrap_phase(phase(v) - phase(u)) : -wrap_phase(phase(u) - phase(v));
        }
        charge(t) =
            static_cast<std::int8_t>(Kokkos::Experimental::nearbyint(sum / 6.28318530717958647692));
      });
  long count = 0, total = 0;
  Kokkos::parallel_reduce(
      "frost::wavefield::vortex_count", Kokkos::RangePolicy<ExecSpace>(exec, 0, nt),
      KOKKOS_LAMBDA(const int t, long& cnt) { cnt += charge(t) != 0; }, count);
  Kokkos::parallel_reduce(
      "frost::wavefield::total_charge", Kokkos::RangePolicy<ExecSpace>(exec, 0, nt),
      KOKKOS_LAMBDA(const int t, long& tot) { tot += charge(t); }, total);
  return {count, total};
}

/// Marks nodes with |value_i| < threshold * max_j |value_j| (value = field or |psi|) in `marked`
/// and returns their number.
template <class ExecSpace, class MemorySpace>
long threshold_vortices(const ExecSpace& exec, const Kokkos::View<double*, MemorySpace>& re,
                        const Kokkos::View<double*, MemorySpace>& im, bool use_modulus,
                        double threshold, const Kokkos::View<std::int8_t*, MemorySpace>& marked) {
  const int n = static_cast<int>(im.extent(0));
  double peak = 0.0;
  Kokkos::parallel_reduce(
      "frost::wavefield::threshold_max", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const int i, double& m) {
        const double v = use_modulus ? Kokkos::Experimental::sqrt(re(i) * re(i) + im(i) * im(i))
                                     : Kokkos::Experimental::fabs(im(i));
        m = v > m ? v : m;
      },
      Kokkos::Max<double>(peak));
  const double cut = threshold * peak;
  long count = 0;
  Kokkos::parallel_reduce(
      "frost::wavefield::threshold", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const int i, long& cnt) {
        const double v = use_modulus ? Kokkos::Experimental::sqrt(re(i) * re(i) + im(i) * im(i))
                                     : Kokkos::Experimental::fabs(im(i));
        marked(i) = v < cut;
        cnt += v < cut;
      },
      count);
  return count;
}

}  // namespace frost::wavefield
