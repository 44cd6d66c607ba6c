#include "relax/kinsol.hpp"

#include <algorithm>
#include <cfloat>
#include <cstdlib>
#include <exception>
#include <memory>
#include <type_traits>

#include "core/error.hpp"

#ifdef FROST_HAVE_KINSOL
#include <kinsol/kinsol.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_types.h>
#endif

namespace frost::relax {

void require_kinsol(bool available, const std::string& where) {
  if (available) return;
  throw core::InputError((where.empty() ? std::string() : where + ": ") +
                         "relax.solver: " + kKinsolMissing);
}

#ifndef FROST_HAVE_KINSOL

bool kinsol_available() {
  return false;
}

KinsolOutcome kinsol_fixed_point(double*, std::size_t, const HostFixedPointMap&,
                                 const KinsolSettings&) {
  require_kinsol(false);
  return {};
}

#else

bool kinsol_available() {
  return true;
}

namespace {

// RAII owners of the SUNDIALS objects, released in reverse order of creation.
struct ContextFree {
  void operator()(SUNContext c) const { SUNContext_Free(&c); }
};
using ContextPtr = std::unique_ptr<std::remove_pointer_t<SUNContext>, ContextFree>;

struct VectorFree {
  void operator()(N_Vector v) const { N_VDestroy(v); }
};
using VectorPtr = std::unique_ptr<std::remove_pointer_t<N_Vector>, VectorFree>;

struct KinsolFree {
  void operator()(void* mem) const { KINFree(&mem); }
};
using KinsolPtr = std::unique_ptr<void, KinsolFree>;

struct CFree {
  void operator()(char* p) const { std::free(p); }
};

/// What the C callbacks see through KINSOL's user data.
struct Bridge {
  const HostFixedPointMap* g = nullptr;
  std::size_t n = 0;
  std::exception_ptr error;
  std::string last_message;
};

int system_fn(N_Vector uu, N_Vector gval, void* data) {
  auto* b = static_cast<Bridge*>(data);
  try {
    return (*b->g)(N_VGetArrayPointer(uu), N_VGetArrayPointer(gval)) < 0 ? -1 : 0;
  } catch (...) {
    b->error = std::current_exception();
    return -1;
  }
}

/// Keeps KINSOL's messages (the callback's early stop is reported as an unrecoverable system
/// function failure on stderr otherwise); the caller reads the flag instead.
void quiet_errors(int, const char*, const char*, char* msg, void* data) {
  static_cast<Bridge*>(data)->last_message = msg ? msg : "";
}

void check(int flag, const char* call) {
  if (flag < 0)
    throw std::runtime_error(std::string("relax.solver: kinsol: ") + call + " failed (flag " +
                             std::to_string(flag) + ")");
}

int orth_code(const std::string& orth) {
  if (orth == "mgs") return KIN_ORTH_MGS;
  if (orth == "icwy") return KIN_ORTH_ICWY;
  if (orth == "cgs2") return KIN_ORTH_CGS2;
  if (orth == "dcgs2") return KIN_ORTH_DCGS2;
  throw core::InputError("relax.kinsol.orth: '" + orth + "' is not one of mgs, icwy, cgs2, dcgs2");
}

}  // namespace

KinsolOutcome kinsol_fixed_point(double* u, std::size_t n, const HostFixedPointMap& g,
                                 const KinsolSettings& s) {
  Bridge bridge;
  bridge.g = &g;
  bridge.n = n;
  SUNContext raw_ctx = nullptr;
  check(SUNContext_Create(nullptr, &raw_ctx), "SUNContext_Create");
  ContextPtr ctx(raw_ctx);
  const auto len = static_cast<sunindextype>(n);
  VectorPtr uu(N_VNew_Serial(len, ctx.get())), scale(N_VNew_Serial(len, ctx.get()));
  if (!uu || !scale) throw std::runtime_error("relax.solver: kinsol: N_VNew_Serial failed");
  std::copy(u, u + n, N_VGetArrayPointer(uu.get()));
  N_VConst(1.0, scale.get());
  KinsolPtr mem(KINCreate(ctx.get()));
  if (!mem) throw std::runtime_error("relax.solver: kinsol: KINCreate failed");
  void* k = mem.get();
  check(KINSetErrHandlerFn(k, quiet_errors, &bridge), "KINSetErrHandlerFn");
  check(KINSetUserData(k, &bridge), "KINSetUserData");
  // Anderson settings go in before KINInit, which sizes the history and picks the QR update.
  check(KINSetMAA(k, s.m), "KINSetMAA");
  check(KINSetOrthAA(k, orth_code(s.orth)), "KINSetOrthAA");
  check(KINInit(k, system_fn, uu.get()), "KINInit");
  check(KINSetDelayAA(k, s.delay), "KINSetDelayAA");
  check(KINSetDampingAA(k, s.beta), "KINSetDampingAA");
  // KINSOL's first Anderson step and its delayed steps are damped fixed-point steps; some
  // versions take their (1 - beta) from KINSetDamping, so both are set.
  check(KINSetDamping(k, s.beta), "KINSetDamping");
  check(KINSetNumMaxIters(k, std::max(s.max_evals, 1L)), "KINSetNumMaxIters");
  check(KINSetFuncNormTol(k, DBL_MIN), "KINSetFuncNormTol");
  const int flag = KINSol(k, uu.get(), KIN_FP, scale.get(), scale.get());
  if (bridge.error) std::rethrow_exception(bridge.error);
  KinsolOutcome out;
  out.flag = flag;
  std::unique_ptr<char, CFree> name(KINGetReturnFlagName(flag));
  out.flag_name = name ? name.get() : std::to_string(flag);
  KINGetNumNonlinSolvIters(k, &out.iterations);
  KINGetNumFuncEvals(k, &out.g_evals);
  out.last_message = bridge.last_message;
  std::copy(N_VGetArrayPointer(uu.get()), N_VGetArrayPointer(uu.get()) + n, u);
  return out;
}

#endif

}  // namespace frost::relax
