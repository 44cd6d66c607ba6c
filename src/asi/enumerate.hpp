// Exact enumeration of ice states through the cycle space: charge sectors, a canonical
// reference ice state, Gray-code walks over one sector, and the states reachable by reversing
// directed basis loops.
//
// Every state sigma (fixed islands at their fixed values) has charges Q = B1 sigma; a charge
// sector is the set of ice states with one charge vector. Two states sigma, sigma' of one sector
// differ on a cycle d (an element of the GF(2) cycle space), so the sector lies in the coset
// {sigma (-1)^(C alpha) : alpha in GF(2)^beta1} of any of its states. The coset holds 2^beta1
// states, but reversing a loop that is not a directed cycle changes charges, so in general only
// some of them keep Q: sector sizes differ and are below 2^beta1. Q mod 4 is constant on a coset
// (Q_v = 2 indeg_v - deg_v, and indeg_v mod 2 is fixed by the coset), and ice charges lie in
// {-1, 0, 1}, which are distinct mod 4: the ice states of the coset of an ice state are exactly
// its sector. Walking the coset with a Gray code and keeping the states that obey the ice rule
// therefore enumerates one sector exactly, and the ice states are the union of the sectors,
// which are found by an independent search over charge assignments (orientation / flow test).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "asi/cycle_basis.hpp"
#include "asi/lattice.hpp"
#include "core/bigint.hpp"

namespace frost::asi {

/// A canonical ice state of `lattice`: start from sigma = +1 on every free island (fixed
/// islands at their fixed value) and repair vertices whose charge breaks the ice rule by
/// reversing directed paths to vertices with slack (augmenting paths found breadth-first), the
/// usual method for orientations with in-degree bounds. Deterministic.
/// Throws std::runtime_error when the lattice has no ice state.
std::vector<std::int8_t> ice_reference_state(const Lattice& lattice);

/// One charge sector: the charge vector (n0 entries; terminal vertices included) and one state
/// with exactly these charges.
struct ChargeSector {
  std::vector<int> charge;
  std::vector<std::int8_t> representative;
};

/// Every realisable ice-rule charge vector. Depth-first search over the vertices whose ice rule
/// allows two charges (odd degree), choosing -1 before +1; a partial choice is kept only when an
/// orientation with in-degrees inside the remaining allowed intervals exists, so the search
/// visits O(sectors x vertices) nodes. Throws std::length_error beyond max_sectors sectors.
std::vector<ChargeSector> ice_charge_sectors(const Lattice& lattice,
                                             std::uint64_t max_sectors = std::uint64_t{1} << 20);

/// Calls `visit` once for every state of the charge sector of the ice state `reference` (the
/// ice states with its charges). Gray-code walk over alpha in GF(2)^beta1: step k reverses basis
/// loop ctz(k) and updates the charges of the loop's vertices, O(loop length) per step, and the
/// states whose charges all equal the reference's are visited. 2^beta1 steps; throws
/// std::length_error when beta1 > 40. The state passed to `visit` is only valid during the call.
void for_each_state_in_sector(const CycleBasis& basis, const std::vector<std::int8_t>& reference,
                              const std::function<void(const std::vector<std::int8_t>&)>& visit);

/// Same, building the cycle basis of `lattice` first.
void for_each_state_in_sector(const Lattice& lattice, const std::vector<std::int8_t>& reference,
                              const std::function<void(const std::vector<std::int8_t>&)>& visit);

/// Limits for count_by_enumeration.
struct EnumerationOptions {
  int max_loops = 36;  ///< std::length_error when beta1 is larger (2^beta1 steps per sector)
  std::uint64_t max_sectors = std::uint64_t{1} << 20;  ///< see ice_charge_sectors
};

/// Exact ice-state count, sector by sector.
struct EnumerationResult {
  core::BigUint ice_states;                  ///< states obeying the ice rule, all sectors
  core::BigUint charge_sectors;              ///< realisable ice-rule charge vectors
  std::vector<std::uint64_t> sector_states;  ///< states per sector, ice_charge_sectors order
  int loops = 0;                             ///< beta1
  core::BigUint steps;                       ///< Gray-code steps taken, sectors x 2^beta1
};

/// Counts the ice states of `lattice`: finds the charge sectors (ice_charge_sectors) and walks
/// each with for_each_state_in_sector. Cost O(sectors 2^beta1 loop length).
EnumerationResult count_by_enumeration(const Lattice& lattice,
                                       const EnumerationOptions& options = {});

/// Every ice state of a small lattice, sector by sector in ice_charge_sectors order, each
/// sector in Gray-code order. Throws std::length_error beyond max_states states.
std::vector<std::vector<std::int8_t>> all_ice_states(const Lattice& lattice,
                                                     std::uint64_t max_states = std::uint64_t{1}
                                                                                << 22);

/// Limits for reachable.
struct ReachableOptions {
  std::uint64_t max_states = std::uint64_t{1} << 24;  ///< std::length_error beyond this
  /// Also count all ice states (count_by_enumeration; sectors x 2^beta1 Gray-code steps).
  bool count_ice_states = true;
};

/// States reachable from a reference ice state by reversing directed basis loops.
struct ReachableResult {
  /// Ordered single pass (loop-move Mode A): loops i = 0 .. beta1-1 in basis order; at step i a
  /// loop that is a directed cycle of the current state may be reversed or not, any other loop
  /// is skipped. The figure counts the distinct end states over all decision sequences.
  std::uint64_t reachable_states = 0;
  /// Closure: the connected component of the reference under reversals of directed basis loops
  /// in any order, repeats allowed.
  std::uint64_t closure_states = 0;
  std::uint64_t sector_states = 0;  ///< states of the reference's charge sector
  core::BigUint ice_states;         ///< all ice states (zero when not counted)
  int loops = 0;                    ///< beta1
};

/// Breadth-first search over bit-packed states with a hash set, once per figure; the sector is
/// walked with for_each_state_in_sector (so beta1 <= 40).
ReachableResult reachable(const Lattice& lattice, const std::vector<std::int8_t>& reference,
                          const ReachableOptions& options = {});

}  // namespace frost::asi
