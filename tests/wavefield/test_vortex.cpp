#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <complex>

#include "core/rng.hpp"
#include "wavefield/hull.hpp"
#include "wavefield/vortex.hpp"

using namespace frost::wavefield;

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
using cplx = std::complex<double>;

std::vector<double> random_sphere(int n, std::uint64_t seed) {
  frost::core::RandomStream rs(seed, 0, 0);
  std::vector<double> xyz;
  for (int i = 0; i < n; ++i) {
    const double z = 2 * rs.uniform() - 1, l = 6.283185307179586 * rs.uniform();
    const double s = std::sqrt(1 - z * z);
    xyz.insert(xyz.end(), {s * std::cos(l), s * std::sin(l), z});
  }
  return xyz;
}

/// Stereographic coordinate from the south pole: counter-clockwise about +z seen from outside
/// is increasing arg zeta.
cplx zeta(const double* p) {
  return cplx(p[0], p[1]) / (1.0 + p[2]);
}

struct Planted {
  double lat, lon;
  int charge;
  std::array<double, 3> xyz() const {
    return {std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)};
  }
};

struct Detected {
  std::vector<std::array<int, 3>> tris;
  std::vector<std::int8_t> charge;
  VortexTally tally;
};

Detected detect(const std::vector<double>& xyz, const std::vector<cplx>& psi) {
  Detected d;
  d.tris = sphere_triangulation(xyz, 3).triangles;
  const int n = static_cast<int>(psi.size());
  Kokkos::View<double*, Mem> re("re", n), im("im", n), phase("phase", n);
  auto hr = Kokkos::create_mirror_view(re);
  auto hi = Kokkos::create_mirror_view(im);
  for (int i = 0; i < n; ++i) {
    hr(i) = psi[i].real();
    hi(i) = psi[i].imag();
  }
  Kokkos::deep_copy(re, hr);
  Kokkos::deep_copy(im, hi);
  Kokkos::View<std::int8_t*, Mem> charge("charge", d.tris.size());
  d.tally = topological_vortices(Exec(), triangles_view<Mem>(d.tris), re, im, phase, charge);
  auto hc = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), charge);
  d.charge.assign(hc.data(), hc.data() + hc.extent(0));
  return d;
}

/// Whether point p lies in the spherical triangle (a, b, c) (counter-clockwise from outside).
bool contains(const std::vector<double>& xyz, const std::array<int, 3>& t,
              const std::array<double, 3>& p) {
  for (int e = 0; e < 3; ++e) {
    const double* a = &xyz[3 * t[e]];
    const double* b = &xyz[3 * t[(e + 1) % 3]];
    const double n[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                         a[0] * b[1] - a[1] * b[0]};
    if (n[0] * p[0] + n[1] * p[1] + n[2] * p[2] < 0) return false;
  }
  return true;
}

}  // namespace

TEST(WavefieldVortex, PlantedSingularitiesFoundWithCharge) {
  // psi = prod (zeta - a_k) for charge +1, prod conj(zeta - b_l) for -1; as many of each, so
  // psi -> const at the south pole (no singularity there).
  const std::vector<Planted> planted = {{0.9, 0.3, +1}, {0.2, 2.0, +1},  {-0.5, 4.0, +1},
                                        {0.6, 3.5, -1}, {-0.1, 0.9, -1}, {-0.9, 5.5, -1}};
  const auto xyz = random_sphere(3000, 11);
  std::vector<cplx> psi(3000);
  for (int i = 0; i < 3000; ++i) {
    cplx v = 1.0;
    const cplx z = zeta(&xyz[3 * i]);
    for (const auto& s : planted) {
      const auto p = s.xyz();
      const cplx a = zeta(p.data());
      v *= s.charge > 0 ? (z - a) : std::conj(z - a);
    }
    psi[i] = v / std::pow(1.0 + std::norm(z), 3.0);  // same phase, tamer modulus
  }
  const Detected d = detect(xyz, psi);
  EXPECT_EQ(d.tally.count, 6);
  EXPECT_EQ(d.tally.total_charge, 0);
  for (const auto& s : planted) {
    int found = 0;
    for (std::size_t t = 0; t < d.tris.size(); ++t)
      if (contains(xyz, d.tris[t], s.xyz())) {
        EXPECT_EQ(d.charge[t], s.charge) << "lat " << s.lat << " lon " << s.lon;
        ++found;
      }
    EXPECT_EQ(found, 1);
  }
}

TEST(WavefieldVortex, PolesOfXPlusIY) {
  // psi = x + i y: charge +1 at the north pole, -1 at the south pole (seen from outside).
  const auto xyz = random_sphere(1000, 5);
  std::vector<cplx> psi;
  for (int i = 0; i < 1000; ++i) psi.emplace_back(xyz[3 * i], xyz[3 * i + 1]);
  const Detected d = detect(xyz, psi);
  ASSERT_EQ(d.tally.count, 2);
  for (std::size_t t = 0; t < d.tris.size(); ++t) {
    if (!d.charge[t]) continue;
    const double z = xyz[3 * d.tris[t][0] + 2];
    EXPECT_EQ(d.charge[t], z > 0 ? 1 : -1);
  }
}

TEST(WavefieldVortex, TotalChargeZeroOnRandomPhases) {
  // Random phases: many windings, but a closed surface always sums to zero.
  const auto xyz = random_sphere(2000, 8);
  frost::core::RandomStream rs(1, 2, 3);
  std::vector<cplx> psi;
  for (int i = 0; i < 2000; ++i) psi.push_back(std::polar(1.0, 6.283185307179586 * rs.uniform()));
  const Detected d = detect(xyz, psi);
  EXPECT_GT(d.tally.count, 100);
  EXPECT_EQ(d.tally.total_charge, 0);
}

TEST(WavefieldVortex, ThresholdCounts) {
  const int n = 10;
  Kokkos::View<double*, Mem> re("re", n), im("im", n);
  auto hi = Kokkos::create_mirror_view(im);
  for (int i = 0; i < n; ++i) hi(i) = i - 4.5;  // |field| 0.5 .. 4.5
  Kokkos::deep_copy(im, hi);
  Kokkos::View<std::int8_t*, Mem> marked("marked", n);
  EXPECT_EQ(threshold_vortices(Exec(), re, im, false, 0.3, marked), 2);  // below 1.35: 0.5, 0.5
  EXPECT_EQ(threshold_vortices(Exec(), re, im, true, 0.4, marked), 4);   // below 1.8
}

namespace {

/// The planted singularities of PlantedSingularitiesFoundWithCharge (two of each sign) times a
/// positive wave, so that the modulus varies too (threshold marks) and the phase has more
/// structure than the singularities.
std::vector<cplx> planted_field(const std::vector<double>& xyz) {
  const std::vector<Planted> planted = {
      {0.9, 0.3, +1}, {0.2, 2.0, +1}, {-0.5, 4.0, -1}, {0.6, 3.5, -1}};
  std::vector<cplx> psi;
  for (std::size_t i = 0; i < xyz.size() / 3; ++i) {
    cplx v = 1.0;
    const cplx z = zeta(&xyz[3 * i]);
    for (const auto& s : planted) {
      const auto p = s.xyz();
      v *= s.charge > 0 ? (z - zeta(p.data())) : std::conj(z - zeta(p.data()));
    }
    psi.push_back(v / std::pow(1.0 + std::norm(z), 2.0) * (1.5 + std::sin(7.0 * xyz[3 * i])));
  }
  return psi;
}

}  // namespace

TEST(WavefieldVortex, KernelsEqualHostReference) {
  // The detectors' kernels (one by one, and both at once as a cycle runs them) against the host
  // loops: equal charges, marks and counts, for planted vortices and for a random-phase field.
  const int n = 2500;
  const auto xyz = random_sphere(n, 21);
  frost::core::RandomStream rs(4, 5, 6);
  std::vector<cplx> random_psi;
  for (int i = 0; i < n; ++i)
    random_psi.push_back(std::polar(0.1 + rs.uniform(), 6.283185307179586 * rs.uniform()));
  const auto tris = sphere_triangulation(xyz, 3).triangles;
  const auto dtris = triangles_view<Mem>(tris);
  using Unmanaged =
      Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  for (const auto& psi : {planted_field(xyz), random_psi}) {
    std::vector<double> hre, him;
    for (const auto& v : psi) {
      hre.push_back(v.real());
      him.push_back(v.imag());
    }
    Kokkos::View<double*, Mem> re("re", n), im("im", n), phase("phase", n);
    Kokkos::deep_copy(re, Unmanaged(hre.data(), n));
    Kokkos::deep_copy(im, Unmanaged(him.data(), n));
    Kokkos::View<std::int8_t*, Mem> charge("charge", tris.size()), marked("marked", n);
    Kokkos::View<double, Mem> peak("peak");
    std::vector<std::int8_t> host_charge, host_marked;
    const VortexTally host = topological_vortices_host(tris, hre, him, host_charge);
    EXPECT_GT(host.count, 0);
    EXPECT_EQ(host.total_charge, 0);
    for (const bool modulus : {false, true}) {
      const long host_thr = threshold_vortices_host(hre, him, modulus, 0.2, host_marked);
      EXPECT_GT(host_thr, 0);
      const VortexTally dev = topological_vortices(Exec(), dtris, re, im, phase, charge);
      auto hc = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), charge);
      EXPECT_EQ(dev.count, host.count);
      EXPECT_EQ(dev.total_charge, host.total_charge);
      EXPECT_TRUE(std::equal(host_charge.begin(), host_charge.end(), hc.data()));
      EXPECT_EQ(threshold_vortices(Exec(), re, im, modulus, 0.2, marked), host_thr);
      auto hm = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), marked);
      EXPECT_TRUE(std::equal(host_marked.begin(), host_marked.end(), hm.data()));
      // Both at once, into cleared outputs.
      Kokkos::deep_copy(charge, std::int8_t(0));
      Kokkos::deep_copy(marked, std::int8_t(0));
      const VortexCounts both =
          detect_vortices(Exec(), dtris, re, im, modulus, 0.2, phase, charge, marked, peak);
      EXPECT_EQ(both.topological, host.count);
      EXPECT_EQ(both.total_charge, host.total_charge);
      EXPECT_EQ(both.threshold, host_thr);
      Kokkos::deep_copy(hc, charge);
      Kokkos::deep_copy(hm, marked);
      EXPECT_TRUE(std::equal(host_charge.begin(), host_charge.end(), hc.data()));
      EXPECT_TRUE(std::equal(host_marked.begin(), host_marked.end(), hm.data()));
    }
  }
}
