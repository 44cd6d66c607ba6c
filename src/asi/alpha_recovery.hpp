// Recovery of loop coefficients: given two states sigma, sigma' of one charge sector, find
// alpha in GF(2)^beta1 with sigma' = sigma * (-1)^(C alpha), C the n1 x beta1 matrix of the
// basis loops over GF(2). The flipped set d = {e : sigma_e != sigma'_e} is then a cycle, and
// alpha is its (unique) coordinate vector in the basis.
#pragma once

#include <cstdint>
#include <vector>

#include "asi/cycle_basis.hpp"
#include "asi/gf2.hpp"
#include "asi/lattice.hpp"

namespace frost::asi {

/// sigma * (-1)^(C alpha): sigma with every basis loop l with alpha[l] = 1 reversed.
std::vector<std::int8_t> apply_alpha(const CycleBasis& basis, const std::vector<std::int8_t>& sigma,
                                     const std::vector<std::uint8_t>& alpha);

/// O(n1) recovery by peeling. Every edge of the flipped set d carries the sum of the
/// coefficients of the basis loops through it; an edge that only one still-unknown loop passes
/// through fixes that loop's coefficient, which is then removed from d. For the faces of an
/// open planar lattice this is leaf peeling of the dual tree from the outer face; for a
/// fundamental-cycle basis every non-tree edge lies on exactly one loop. On a torus the winding
/// coefficients are read first, as the parities of d across dual cycles ("cuts") that cross one
/// winding each an odd number of times and every face boundary an even number of times; the
/// faces then peel from the dropped face.
class AlphaPeeler {
 public:
  /// Precomputes the edge-to-loop incidence and, on a torus, the cuts (O(n1 + loop lengths)).
  /// `lattice` must be the one `basis` was built from; `basis` is referenced, not copied, and
  /// must outlive the peeler.
  AlphaPeeler(const Lattice& lattice, const CycleBasis& basis);

  /// alpha (one 0/1 entry per basis loop) with sigma_prime = apply_alpha(basis, sigma, alpha).
  /// Throws std::invalid_argument when sigma and sigma_prime are not in one charge sector (d is
  /// not a cycle) and std::logic_error when the basis does not peel (not a face or
  /// fundamental-cycle basis).
  std::vector<std::uint8_t> recover(const std::vector<std::int8_t>& sigma,
                                    const std::vector<std::int8_t>& sigma_prime) const;

 private:
  const CycleBasis* basis_;
  int face_loops_ = 0;                  ///< loops peeled (all but the windings)
  std::vector<int> edge_loop_offsets_;  ///< per edge: the peeled loops through it (CSR)
  std::vector<int> edge_loops_;
  std::vector<int> start_queue_;               ///< edges on exactly one peeled loop
  std::vector<std::vector<int>> winding_cut_;  ///< per winding: edges of its dual cut
};

/// Recovery for any basis by bit-packed Gaussian elimination over GF(2): the basis matrix is
/// factorised once (gf2::LinearSolver, O(beta1^2 n1 / 64)), each recovery then costs
/// O(beta1 (n1 + beta1) / 64) word operations.
class AlphaEliminator {
 public:
  explicit AlphaEliminator(const CycleBasis& basis);

  /// Same contract as AlphaPeeler::recover (throws std::invalid_argument when d is not in the
  /// cycle space spanned by the basis).
  std::vector<std::uint8_t> recover(const std::vector<std::int8_t>& sigma,
                                    const std::vector<std::int8_t>& sigma_prime) const;

  const gf2::LinearSolver& solver() const { return solver_; }

 private:
  int edge_count_ = 0;
  gf2::LinearSolver solver_;
};

}  // namespace frost::asi
