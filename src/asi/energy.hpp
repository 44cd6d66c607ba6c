// Energy models of artificial spin ice used by the thermal sampler: vertex energies (square
// vertex types I-IV, or a charge energy on any lattice), a pair coupling of the islands meeting
// at a vertex, point dipoles with a cutoff radius, and the Zeeman energy of a uniform field.
//
// Square vertex types (Wang et al., Nature 439, 303 (2006)): at a degree-4 vertex with the four
// islands at right angles,
//   type I   2-in/2-out, the two in-arrows on opposite islands (zero net moment, 2 states),
//   type II  2-in/2-out, the two in-arrows on perpendicular islands (net moment, 4 states),
//   type III 3-in/1-out or 1-in/3-out (charge +-2, 8 states),
//   type IV  4-in or 4-out (charge +-4, 2 states).
// Default type energies are the point-dipole energies of the four islands meeting at one vertex
// (dipoles at distance 1/2 from the vertex), shifted so that E_I = 0 and scaled so that
// E_II = 1: E_I : E_II : E_III : E_IV = 0 : 1 : 1.446 : 3.784. Point dipoles give
// E_I = 4 - 12 sqrt(2), E_II = -4, E_III = 0, E_IV = 4 + 12 sqrt(2) in units of
// mu0 m^2 / (4 pi a^3), which is where these ratios come from.
//
// Pair model (any lattice): every two islands i, j meeting at a vertex v interact with
// J s_i s_j, s = +1 when the island's arrow points into v and -1 when it points out, so
//   E = J sum_v sum_{i<j at v} s_i s_j = (J / 2) sum_v (Q_v^2 - deg_v),
// using (sum_i s_i)^2 = Q_v^2 and s_i^2 = 1 (Q_v = #in - #out, fixed islands included). This is
// the charge model with eps_q = J up to the constant (J / 2) sum_v ((deg_v mod 2) - deg_v): both
// give the same Boltzmann weights, and J > 0 favours the ice rule. Terminal vertices carry no
// energy in either model.
//
// Dipolar model: point dipoles m_i = sigma_i axis_i at the island centres (lengths in lattice
// constants, energies in units of D = mu0 m^2 / (4 pi a^3) times thermal.dipolar_strength),
//   E = D sum_{i<j, r_ij < r_c} [(m_i . m_j) - 3 (m_i . r^_ij)(m_j . r^_ij)] / r_ij^3
//     = sum_{i<j} J_ij sigma_i sigma_j,
// with r_ij the minimum-image separation on a torus, so each pair interacts once, through its
// nearest image. The couplings J_ij are tabulated once in a symmetric neighbour list (CSR).
#pragma once

#include <Kokkos_Core.hpp>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "asi/lattice.hpp"

namespace frost::asi {

/// How a vertex's energy and type observables are evaluated.
enum VertexKind : std::uint8_t {
  kGeneralVertex = 0,  ///< charge energy, charge histogram only
  kSquareVertex = 1,   ///< degree 4 with islands at right angles: vertex types I-IV
  kTerminalVertex = 2  ///< anchors fixed boundary islands: no energy, no observables
};

/// Energy model selector.
enum EnergyModelKind : int {
  kChargeModel = 0,   ///< E = (eps_q / 2) sum_v (Q_v^2 - (deg_v mod 2))
  kVertexModel = 1,   ///< type energies at square vertices, charge energy elsewhere
  kDipolarModel = 2,  ///< E = sum_{i<j} J_ij sigma_i sigma_j from a PairCouplings table
  kPairModel = 3      ///< E = (J / 2) sum_v (Q_v^2 - deg_v): pairs of islands at a vertex
};

/// Plain constants of the energy model, copied by value into kernels.
struct EnergyConstants {
  int model = kVertexModel;
  double charge_energy = 1.0;  ///< eps_q of the charge model
  double type_energy[4] = {0.0, 1.0, 1.4459, 3.7836};
  double pair_coupling = 1.0;  ///< J of the pair model
};

/// Default square vertex energies (see the file comment).
inline std::array<double, 4> default_type_energies() {
  const double r2 = 1.4142135623730951;
  const double e1 = 4.0 - 12.0 * r2, e2 = -4.0, e3 = 0.0, e4 = 4.0 + 12.0 * r2;
  const double s = e2 - e1;
  return {0.0, 1.0, (e3 - e1) / s, (e4 - e1) / s};
}

/// Vertex type 0..3 (I..IV) of a square vertex from the bit mask of in-pointing islands, the bits
/// numbering the four islands in angular order (so bits i and i+2 are opposite islands).
KOKKOS_INLINE_FUNCTION int square_vertex_type(unsigned in_mask) {
  const int n_in = static_cast<int>((in_mask & 1u) + ((in_mask >> 1) & 1u) + ((in_mask >> 2) & 1u) +
                                    ((in_mask >> 3) & 1u));
  if (n_in == 2) return (in_mask == 5u || in_mask == 10u) ? 0 : 1;
  if (n_in == 1 || n_in == 3) return 2;
  return 3;
}

/// Energy of one vertex with `n_in` of its `degree` islands pointing in (`in_mask` as above,
/// only read for square vertices). Ice vertices of the charge model have energy zero; the
/// dipolar model has no vertex energy (its energy is the pair sum of the couplings table).
KOKKOS_INLINE_FUNCTION double vertex_energy(const EnergyConstants& c, int kind, int degree,
                                            int n_in, unsigned in_mask) {
  if (kind == kTerminalVertex) return 0.0;
  if (c.model == kVertexModel && kind == kSquareVertex) {
    return c.type_energy[square_vertex_type(in_mask)];
  }
  const int q = 2 * n_in - degree;
  if (c.model == kPairModel) return 0.5 * c.pair_coupling * static_cast<double>(q * q - degree);
  if (c.model == kDipolarModel) return 0.0;
  return 0.5 * c.charge_energy * static_cast<double>(q * q - (degree & 1));
}

/// Symmetric pair couplings in CSR form: the partners of island i are
/// neighbour[offsets[i] .. offsets[i+1]) with coupling[] the energy J_ij of sigma_i sigma_j
/// (every pair is listed in both rows, J_ij = J_ji, no self pairs), so that
/// E = sum_{i<j} J_ij sigma_i sigma_j and flipping island i changes E by
/// -2 sigma_i sum_j J_ij sigma_j. Empty (no offsets) when the model has no pair table.
struct PairCouplings {
  std::vector<int> offsets;
  std::vector<int> neighbour;
  std::vector<double> coupling;
  /// Number of listed partners (twice the number of pairs).
  std::size_t entries() const { return neighbour.size(); }
};

/// Point-dipole couplings of all island pairs closer than `cutoff` lattice constants
/// (J_ij = strength [(a_i . a_j) - 3 (a_i . r^)(a_j . r^)] / r^3, see the file comment), with
/// the minimum image on periodic lattices. Pairs within 1e-10 relative of the cutoff count as
/// at the cutoff and are left out, so that rounding cannot split symmetry-equivalent pairs.
/// Built with a cell list in O(n1 * neighbours). Throws std::invalid_argument when
/// cutoff <= 0 or two islands share a position.
PairCouplings dipolar_couplings(const Lattice& lattice, double cutoff, double strength);

/// sum_{i<j} J_ij sigma_i sigma_j of a configuration.
double pair_energy(const PairCouplings& pairs, const std::int8_t* spins);

/// Kind of every vertex. `slot_edge` lists the islands of vertex v in
/// [offsets[v], offsets[v+1]) sorted by the angle of the island direction seen from v; a vertex
/// is square when it has four islands whose consecutive angles differ by 90 degrees.
std::vector<std::uint8_t> classify_vertices(const Lattice& lattice, const std::vector<int>& offsets,
                                            const std::vector<int>& slot_edge);

/// Zeeman coefficients: the energy of island e is -field_proj[e] * sigma_e with
/// field_proj[e] = h (axis_e . (cos angle, sin angle)).
std::vector<double> field_projection(const Lattice& lattice, double h, double angle_degrees);

/// Parses "charge", "vertex", "dipolar" or "pair". Throws std::invalid_argument otherwise.
EnergyModelKind parse_energy_model(const std::string& name);

}  // namespace frost::asi
