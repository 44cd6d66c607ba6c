// Node placement: the Moebius helix sphere.
//
// Node i of N has path parameter s = (i + 1/2) / N. The helix centre line on the unit sphere is
//   c(s) = (sin t cos l, sin t sin l, cos t),  cos t = 1 - 2 s,  l = 2 pi w s,
// w windings from the north to the south pole with z uniform in s (equal area per node). Each
// node sits on a ribbon of half-width h = min(0.9, ribbon_width / w) around the helix, at the
// cross-ribbon coordinate v_i = 2 frac(i g) - 1 (g the golden ratio: low-discrepancy spread):
//   x_i = normalise(c + v_i h (cos(pi tau s) n + sin(pi tau s) c)),
// where n = c x t_hat is the in-surface normal of the helix. The ribbon's width vector turns
// about the tangent by pi tau along the path: tau = 1 is one Moebius half-twist, after which the
// ribbon edge that started on the north side of the helix ends on its south side. Where the
// width vector points radially (cos = 0) the projected ribbon pinches to the helix line.
#pragma once

#include <vector>

namespace frost::core {
class ParamRegistry;
class ParamSet;
}  // namespace frost::core

namespace frost::wavefield {

/// Declares the `geometry.*` keys (windings, twist, ribbon width, drift, lazy regeneration).
void declare_geometry_params(core::ParamRegistry& reg);

/// Shape parameters of the Moebius helix sphere.
struct HelixShape {
  double windings = 8.0;      ///< w: turns of the helix from pole to pole
  double twist = 1.0;         ///< tau: half-twists of the ribbon along the whole helix
  double ribbon_width = 1.0;  ///< ribbon half-width in units of 1/w (1: spans the winding gap)
};

/// Positions (x0 y0 z0 x1 ...) of n nodes on the unit sphere.
std::vector<double> mobius_helix_nodes(int n, const HelixShape& shape);

/// The geometry over cycles: w and tau drift linearly with the cycle; the nodes are regenerated
/// only when w or tau moved more than their thresholds from the values the current nodes were
/// made with (lazy), or on any change (not lazy).
class GeometrySchedule {
 public:
  explicit GeometrySchedule(const core::ParamSet& p);
  /// The shape requested at `cycle` (before laziness).
  HelixShape requested(long cycle) const;
  /// True when the nodes must be (re)made for `cycle`, given the shape the current nodes have.
  bool needs_regeneration(long cycle, const HelixShape& current) const;
  /// True when nodes of shape `current` must be remade to get shape `want`: w or tau moved more
  /// than their thresholds (lazy), or at all (not lazy). Also used for a controller's requests.
  bool needs_regeneration(const HelixShape& want, const HelixShape& current) const;
  bool lazy() const { return lazy_; }

 private:
  HelixShape base_;
  double windings_rate_, twist_rate_, windings_threshold_, twist_threshold_;
  bool lazy_;
};

}  // namespace frost::wavefield
