// sin and cos of one argument for the pair kernels: quadrant reduction by Cody-Waite splitting of
// pi/2 (reduced_sincos, arguments in radians) or by rounding alone (quarter_turn_sincos,
// arguments in quarter turns), and minimax polynomials on [-pi/4, pi/4] (the Cephes sin/cos
// coefficients). Branch-free, so a loop over targets vectorises, and usable inside Kokkos kernels
// on any backend. Also the reduction of the source phases phi - w t (reduced_source_phase).
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace frost::wavefield {

/// Bit pattern and Newton steps of the reciprocal square root, per precision.
template <class Real>
struct RsqrtConstants;
template <>
struct RsqrtConstants<double> {
  using Bits = std::int64_t;
  static constexpr Bits kMagic = 0x5fe6eb50c7b537a9LL;
  static constexpr int kSteps = 4;  // 3.4e-2 -> 1.7e-3 -> 4.5e-6 -> 3e-11 -> rounding
  static constexpr double kTiny = 1e-300;
};
template <>
struct RsqrtConstants<float> {
  using Bits = std::int32_t;
  static constexpr Bits kMagic = 0x5f375a86;
  static constexpr int kSteps = 3;
  static constexpr float kTiny = 1e-30f;
};

/// sqrt(v) for v >= 0 inside the pair kernel. On hosts it is v * rsqrt(v) with Newton steps
/// (within 2 ulp): a libm sqrt call must be able to set errno, which GCC keeps as a branch that
/// stops the target-block loop from vectorising (no optimize attribute or pragma removes it).
/// Devices use their own sqrt. v = 0 gives 0 (the j = i pair).
template <class Real>
KOKKOS_INLINE_FUNCTION Real pair_sqrt(Real v) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__) || defined(__SYCL_DEVICE_ONLY__)
  return Kokkos::Experimental::sqrt(v);
#else
  using K = RsqrtConstants<Real>;
  const Real x = v + K::kTiny;
  typename K::Bits bits;
  std::memcpy(&bits, &x, sizeof x);
  bits = K::kMagic - (bits >> 1);
  Real y;
  std::memcpy(&y, &bits, sizeof y);
  const Real half_x = Real(0.5) * x;
  for (int step = 0; step < K::kSteps; ++step) y = y * (Real(1.5) - half_x * y * y);
  return v * y;
#endif
}

/// Constants of the reduction and the polynomials, per precision.
template <class Real>
struct SinCosConstants;

template <>
struct SinCosConstants<double> {
  // pi/2 = kPio2Hi + kPio2Mid + kPio2Lo; the first two have 33 significant bits, so n * part is
  // exact for |n| < 2^20 (arguments up to about 1.6e6).
  static constexpr double kTwoOverPi = 6.36619772367581382433e-01;
  static constexpr double kPio2 = 1.57079632679489661923;
  static constexpr double kPio2Hi = 1.57079632673412561417e+00;
  static constexpr double kPio2Mid = 6.07710050630396597660e-11;
  static constexpr double kPio2Lo = 2.02226624871116645580e-21;
  // Adding and subtracting 1.5 * 2^52 rounds to the nearest integer (round-to-even mode).
  static constexpr double kRoundMagic = 6755399441055744.0;
  KOKKOS_INLINE_FUNCTION static double sin_poly(double r, double z) {
    return r + r * z *
                   (((((1.58962301576546568060e-10 * z - 2.50507477628578072866e-8) * z +
                       2.75573136213857245213e-6) *
                          z -
                      1.98412698295895385996e-4) *
                         z +
                     8.33333333332211858878e-3) *
                        z -
                    1.66666666666666307295e-1);
  }
  KOKKOS_INLINE_FUNCTION static double cos_poly(double z) {
    return 1.0 - 0.5 * z +
           z * z *
               (((((-1.13585365213876817300e-11 * z + 2.08757008419747316778e-9) * z -
                   2.75573141792967388112e-7) *
                      z +
                  2.48015872888517045348e-5) *
                     z -
                 1.38888888888730564116e-3) *
                    z +
                4.16666666666665929218e-2);
  }
};

template <>
struct SinCosConstants<float> {
  // pi/2 in three parts of 8, 12 and 24 bits (Cephes sinf): exact products for |n| < 2^11, a
  // few ulp of phase beyond; the pair kernel keeps |argument| below 2 k_max + 2 pi.
  static constexpr float kTwoOverPi = 0.636619772367581343f;
  static constexpr float kPio2 = 1.57079632679489661923f;
  static constexpr float kPio2Hi = 1.5703125f;
  static constexpr float kPio2Mid = 4.837512969970703125e-4f;
  static constexpr float kPio2Lo = 7.54978995489188216e-8f;
  static constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23
  KOKKOS_INLINE_FUNCTION static float sin_poly(float r, float z) {
    return r + r * z * ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f);
  }
  KOKKOS_INLINE_FUNCTION static float cos_poly(float z) {
    return 1.0f - 0.5f * z +
           z * z *
               ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f);
  }
};

namespace detail {
/// sin and cos of x = q pi/2 + r from the quadrant q (the low bits of `shifted`, in which the
/// rounding of q was done) and r in [-pi/4, pi/4].
template <class Real>
KOKKOS_INLINE_FUNCTION void sincos_from_quadrant(Real shifted, Real r, Real& s, Real& c) {
  using K = SinCosConstants<Real>;
  const Real z = r * r;
  const Real sp = K::sin_poly(r, z);
  const Real cp = K::cos_poly(z);
  // The quadrant's low bits are the low mantissa bits of `shifted`: reading them avoids a
  // float-to-int conversion, which runs at a quarter of the FMA rate on GPUs.
  typename RsqrtConstants<Real>::Bits bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  const int q = static_cast<int>(bits & 3);
  const bool swap = (q & 1) != 0;
  const Real sr = swap ? cp : sp;
  const Real cr = swap ? sp : cp;
  if constexpr (sizeof(Real) == 4) {
    // float: the signs by flipping the sign bit (XOR with bit 1 of q, resp. q + 1, moved to the
    // top): the bits of a negation without a compare and select per result (GPUs). Double keeps
    // the selects: without SSE4.1 the 64-bit integer tests stop GCC vectorising the host loop.
    std::uint32_t s_bits, c_bits;
    std::memcpy(&s_bits, &sr, sizeof s_bits);
    std::memcpy(&c_bits, &cr, sizeof c_bits);
    s_bits ^= static_cast<std::uint32_t>(q & 2) << 30;
    c_bits ^= static_cast<std::uint32_t>((q + 1) & 2) << 30;
    std::memcpy(&s, &s_bits, sizeof s);
    std::memcpy(&c, &c_bits, sizeof c);
  } else {
    s = (q & 2) ? -sr : sr;
    c = ((q + 1) & 2) ? -cr : cr;
  }
}
}  // namespace detail

/// sin(x) and cos(x) for |x| below about 1e6 (double) or 1e4 (float); accurate to a few ulp of the
/// result plus the rounding of x itself. The caller reduces large phases before (see field.hpp).
template <class Real>
KOKKOS_INLINE_FUNCTION void reduced_sincos(Real x, Real& s, Real& c) {
  using K = SinCosConstants<Real>;
  const Real shifted = x * K::kTwoOverPi + K::kRoundMagic;
  const Real n = shifted - K::kRoundMagic;
  const Real r = ((x - n * K::kPio2Hi) - n * K::kPio2Mid) - n * K::kPio2Lo;
  detail::sincos_from_quadrant(shifted, r, s, c);
}

/// sin and cos of the angle u pi/2 (u in quarter turns, |u| below 2^21 in float, 2^50 in double).
/// What the pair kernels call: with wave numbers and phases stored in quarter turns, the
/// reduction is one rounding to the nearest integer q and u - q, which is exact (|u - q| <= 1/2
/// and u, q in the same or adjacent binades), then one product by pi/2 (an error below 1 ulp of
/// r). reduced_sincos needs the product by 2/pi and three Cody-Waite products instead; the
/// accuracy is the same, since the rounding of the argument itself (k r + phase, either unit)
/// dominates both.
template <class Real>
KOKKOS_INLINE_FUNCTION void quarter_turn_sincos(Real u, Real& s, Real& c) {
  using K = SinCosConstants<Real>;
  const Real shifted = u + K::kRoundMagic;
  const Real n = shifted - K::kRoundMagic;
  detail::sincos_from_quadrant(shifted, (u - n) * K::kPio2, s, c);
}

/// sin and cos of u quarter turns inside the pair sums. CUDA's float path hands them to the
/// special-function unit (__sincosf: absolute error 2^-21.4 on [-pi, pi]) after an exact
/// reduction to half a turn either side, since the rest of a pair term already keeps the
/// fused-multiply-add pipes busy and the polynomial would add some twenty operations there. The
/// error, below 1e-6 rad, stays under the rounding of k r + phase itself (an ulp of 50 quarter
/// turns is 6e-6 rad). Everywhere else: quarter_turn_sincos. Kernels that must cancel a pair
/// term (the j = i term) call this same function. kUnit = false: the polynomial everywhere (for
/// comparing the two).
template <bool kUnit = true, class Real>
KOKKOS_INLINE_FUNCTION void pair_sincos(Real u, Real& s, Real& c) {
#if defined(__CUDA_ARCH__)
  if constexpr (kUnit && std::is_same_v<Real, float>) {
    constexpr float kRound = 12582912.0f;  // 1.5 2^23: adding it rounds to an integer
    const float turns = 0.25f * u;
    const float whole = (turns + kRound) - kRound;
    __sincosf((turns - whole) * 6.28318530717958647692f, &s, &c);
    return;
  }
#endif
  quarter_turn_sincos(u, s, c);
}

/// a * b + c with one rounding on every backend (the source phase reduction needs the exact
/// error of a product; per source, never per pair, so a software fma on old hosts costs nothing).
KOKKOS_INLINE_FUNCTION double fused_multiply_add(double a, double b, double c) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return ::fma(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

/// phi - w t reduced to about [-pi, pi] (radians), accurate to a few ulp of pi for |w t| below
/// 2pi 2^21 = 1.3e7: w t = p + e exactly (p its rounding, e = fma(w, t, -p)), n = round((p -
/// phi) / 2pi) and 2pi = C1 + C2 (Cody-Waite) with C1 of 32 significant bits, so that n C1 is
/// exact and p - n C1 is small and exact up to its own rounding; then phi - (p - n C1) + n C2 - e
/// adds terms of at most a few units. A single product n 2pi would carry the rounding of 2pi
/// times n, and phi - w t rounded first half an ulp of w t (1e-12 at w t = 1e4), into the phase of
/// every pair term. Beyond 1.3e7, n C1 rounds and the error grows like ulp(w t).
KOKKOS_INLINE_FUNCTION double reduced_source_phase(double phi, double w, double t) {
  constexpr double kInvTwoPi = 0.159154943091895335769;
  constexpr double kTwoPiHi = 0x1.921fb544p+2;        // 6.28318530693650245667
  constexpr double kTwoPiLo = 0x1.0b4611a626331p-32;  // 2 pi - kTwoPiHi, rounded
  const double p = w * t;
  const double e = fused_multiply_add(w, t, -p);
  const double n = Kokkos::Experimental::nearbyint((p - phi) * kInvTwoPi);
  const double near = p - n * kTwoPiHi;
  return ((phi - near) + n * kTwoPiLo) - e;
}

/// x - 2 pi round(x / 2 pi), in [-pi, pi]: phase differences (the vortex winding).
KOKKOS_INLINE_FUNCTION double wrap_phase(double x) {
  constexpr double kTwoPi = 6.28318530717958647692;
  return x - kTwoPi * Kokkos::Experimental::nearbyint(x / kTwoPi);
}

}  // namespace frost::wavefield
