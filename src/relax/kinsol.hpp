// The bridge to SUNDIALS KINSOL's fixed-point iteration with Anderson acceleration (KIN_FP), for
// comparing frost's Anderson solver with KINSOL's on the same map. No SUNDIALS header appears
// here: kinsol.cpp is the only file that includes them, and it is compiled against KINSOL only
// when CMake found it (FROST_HAVE_KINSOL). Without it, kinsol_available() is false and
// kinsol_fixed_point() throws the same InputError the deck check gives.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace frost::relax {

/// What the kinsol solver reports when this frost was built without SUNDIALS KINSOL (after
/// "relax.solver: ").
inline constexpr const char* kKinsolMissing =
    "kinsol: this frost was built without SUNDIALS KINSOL";

/// True when this frost was built against SUNDIALS KINSOL.
bool kinsol_available();

/// Throws core::InputError("relax.solver: kinsol: this frost was built without SUNDIALS
/// KINSOL"), prefixed by `where` and ": " when `where` is not empty, unless `available`.
void require_kinsol(bool available, const std::string& where = "");

/// KINSOL settings with no frost counterpart (relax.kinsol.*).
struct KinsolOptions {
  std::string orth = "mgs";  ///< QR update of the Anderson least squares: mgs | icwy | cgs2 | dcgs2
};

/// One KINSOL fixed-point solve, all on host arrays of length n.
struct KinsolSettings {
  long m = 5;            ///< KINSetMAA
  double beta = 1.0;     ///< KINSetDampingAA, and KINSetDamping for the steps before AA starts
  long delay = 0;        ///< KINSetDelayAA
  long max_evals = 100;  ///< KINSetNumMaxIters: KINSOL evaluates G once per iteration
  std::string orth = "mgs";
};

/// G(u) on host arrays: writes g = G(u) and returns 0, or returns a negative value to end the
/// solve (KINSOL then returns KIN_SYSFUNC_FAIL; the caller knows why it stopped).
using HostFixedPointMap = std::function<int(const double* u, double* g)>;

struct KinsolOutcome {
  int flag = 0;              ///< KINSol's return flag
  std::string flag_name;     ///< KIN_SUCCESS, KIN_MAXITER_REACHED, KIN_SYSFUNC_FAIL, ...
  long iterations = 0;       ///< KINGetNumNonlinSolvIters
  long g_evals = 0;          ///< KINGetNumFuncEvals
  std::string last_message;  ///< the last message KINSOL's error handler was given
};

/// Runs KINSol(KIN_FP) from u (length n, overwritten with KINSOL's answer). KINSOL's own stopping
/// test (on the scaled step) is switched off (fnormtol = DBL_MIN): the caller stops the solve
/// from `g` on its own criterion. Exceptions thrown by `g` are carried through KINSOL and
/// rethrown here.
KinsolOutcome kinsol_fixed_point(double* u, std::size_t n, const HostFixedPointMap& g,
                                 const KinsolSettings& s);

}  // namespace frost::relax
