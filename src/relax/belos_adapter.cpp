#include "relax/belos_adapter.hpp"

#include <limits>

#include <BelosLinearProblem.hpp>
#include <BelosPseudoBlockGmresSolMgr.hpp>
#include <Teuchos_ParameterList.hpp>
#include <Teuchos_RCP.hpp>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "core/rng.hpp"

namespace frost::relax {

namespace {

const HostMultiVec& cast(const Belos::MultiVec<double>& A) {
  const auto* p = dynamic_cast<const HostMultiVec*>(&A);
  if (!p) throw std::logic_error("relax: Belos handed a foreign multivector");
  return *p;
}

}  // namespace

HostMultiVec::HostMultiVec(int n, int cols)
    : data_(std::make_shared<std::vector<double>>(static_cast<std::size_t>(n) * cols, 0.0)),
      n_(n),
      cols_(cols) {
  std::iota(cols_.begin(), cols_.end(), 0);
}

HostMultiVec::HostMultiVec(std::shared_ptr<std::vector<double>> data, int n, std::vector<int> cols)
    : data_(std::move(data)), n_(n), cols_(std::move(cols)) {}

Belos::MultiVec<double>* HostMultiVec::Clone(const int numvecs) const {
  return new HostMultiVec(n_, numvecs);  // Belos takes ownership (its interface returns raw)
}

Belos::MultiVec<double>* HostMultiVec::CloneCopy() const {
  std::vector<int> all(cols_.size());
  std::iota(all.begin(), all.end(), 0);
  return CloneCopy(all);
}

Belos::MultiVec<double>* HostMultiVec::CloneCopy(const std::vector<int>& index) const {
  auto* c = new HostMultiVec(n_, static_cast<int>(index.size()));
  for (std::size_t j = 0; j < index.size(); ++j)
    std::copy(col(index[j]), col(index[j]) + n_, c->col(static_cast<int>(j)));
  return c;
}

Belos::MultiVec<double>* HostMultiVec::CloneViewNonConst(const std::vector<int>& index) {
  std::vector<int> sub(index.size());
  for (std::size_t j = 0; j < index.size(); ++j) sub[j] = cols_[index[j]];
  return new HostMultiVec(data_, n_, sub);
}

const Belos::MultiVec<double>* HostMultiVec::CloneView(const std::vector<int>& index) const {
  std::vector<int> sub(index.size());
  for (std::size_t j = 0; j < index.size(); ++j) sub[j] = cols_[index[j]];
  return new HostMultiVec(data_, n_, sub);
}

void HostMultiVec::MvTimesMatAddMv(const double alpha, const MV& Am, const Dense& B,
                                   const double beta) {
  const auto& A = cast(Am);
  // Work on a copy: A may share storage with *this.
  std::vector<double> out(static_cast<std::size_t>(n_) * GetNumberVecs());
  for (int j = 0; j < GetNumberVecs(); ++j) {
    double* o = out.data() + static_cast<std::size_t>(j) * n_;
    const double* self = col(j);
    for (int i = 0; i < n_; ++i) o[i] = beta == 0.0 ? 0.0 : beta * self[i];
    for (int k = 0; k < A.GetNumberVecs(); ++k) {
      const double w = alpha * B(k, j);
      const double* a = A.col(k);
      for (int i = 0; i < n_; ++i) o[i] += w * a[i];
    }
  }
  for (int j = 0; j < GetNumberVecs(); ++j)
    std::copy(out.data() + static_cast<std::size_t>(j) * n_,
              out.data() + static_cast<std::size_t>(j + 1) * n_, col(j));
}

void HostMultiVec::MvAddMv(const double alpha, const MV& Am, const double beta, const MV& Bm) {
  const auto& A = cast(Am);
  const auto& B = cast(Bm);
  for (int j = 0; j < GetNumberVecs(); ++j) {
    const double* a = A.col(j);
    const double* b = B.col(j);
    double* o = col(j);
    for (int i = 0; i < n_; ++i) o[i] = alpha * a[i] + beta * b[i];
  }
}

void HostMultiVec::MvScale(const double alpha) {
  for (int j = 0; j < GetNumberVecs(); ++j)
    for (int i = 0; i < n_; ++i) col(j)[i] *= alpha;
}

void HostMultiVec::MvScale(const std::vector<double>& alpha) {
  for (int j = 0; j < GetNumberVecs(); ++j)
    for (int i = 0; i < n_; ++i) col(j)[i] *= alpha[j];
}

void HostMultiVec::MvTransMv(const double alpha, const MV& Am, Dense& B) const {
  const auto& A = cast(Am);
  for (int k = 0; k < A.GetNumberVecs(); ++k)
    for (int j = 0; j < GetNumberVecs(); ++j) {
      double s = 0.0;
      const double* a = A.col(k);
      const double* b = col(j);
      for (int i = 0; i < n_; ++i) s += a[i] * b[i];
      B(k, j) = alpha * s;
    }
}

void HostMultiVec::MvDot(const MV& Am, std::vector<double>& b) const {
  const auto& A = cast(Am);
  b.resize(GetNumberVecs());
  for (int j = 0; j < GetNumberVecs(); ++j) {
    double s = 0.0;
    for (int i = 0; i < n_; ++i) s += col(j)[i] * A.col(j)[i];
    b[j] = s;
  }
}

void HostMultiVec::MvNorm(std::vector<double>& normvec, Belos::NormType type) const {
  normvec.resize(GetNumberVecs());
  for (int j = 0; j < GetNumberVecs(); ++j) {
    double s = 0.0;
    for (int i = 0; i < n_; ++i) {
      const double v = std::abs(col(j)[i]);
      if (type == Belos::OneNorm)
        s += v;
      else if (type == Belos::InfNorm)
        s = std::max(s, v);
      else
        s += v * v;
    }
    normvec[j] = type == Belos::TwoNorm ? std::sqrt(s) : s;
  }
}

void HostMultiVec::SetBlock(const MV& Am, const std::vector<int>& index) {
  const auto& A = cast(Am);
  for (std::size_t j = 0; j < index.size(); ++j)
    std::copy(A.col(static_cast<int>(j)), A.col(static_cast<int>(j)) + n_, col(index[j]));
}

void HostMultiVec::MvRandom() {
  // Deterministic: Belos only uses random vectors as starting blocks.
  core::RandomStream rs(0x5eed, 0, 0);
  for (int j = 0; j < GetNumberVecs(); ++j)
    for (int i = 0; i < n_; ++i) col(j)[i] = 2.0 * rs.uniform() - 1.0;
}

void HostMultiVec::MvInit(const double alpha) {
  for (int j = 0; j < GetNumberVecs(); ++j) std::fill(col(j), col(j) + n_, alpha);
}

void HostMultiVec::MvPrint(std::ostream& os) const {
  for (int i = 0; i < n_; ++i) {
    for (int j = 0; j < GetNumberVecs(); ++j) os << col(j)[i] << ' ';
    os << '\n';
  }
}

void HostOperator::Apply(const Belos::MultiVec<double>& x, Belos::MultiVec<double>& y,
                         Belos::ETrans trans) const {
  if (trans != Belos::NOTRANS) throw std::logic_error("relax: HostOperator applies A only");
  const auto& X = cast(x);
  auto* Y = dynamic_cast<HostMultiVec*>(&y);
  if (!Y) throw std::logic_error("relax: Belos handed a foreign multivector");
  for (int j = 0; j < X.GetNumberVecs(); ++j) fn_(X.col(j), Y->col(j));
}

GmresResult gmres_solve(const HostOperator& A, const std::vector<double>& b, std::vector<double>& x,
                        const GmresOptions& opt) {
  using MV = Belos::MultiVec<double>;
  using OP = Belos::Operator<double>;
  const int n = static_cast<int>(b.size());
  auto X = Teuchos::rcp(new HostMultiVec(n, 1));
  auto Bv = Teuchos::rcp(new HostMultiVec(n, 1));
  std::copy(b.begin(), b.end(), Bv->col(0));
  std::copy(x.begin(), x.end(), X->col(0));
  auto op = Teuchos::rcp(&A, false);
  auto problem = Teuchos::rcp(new Belos::LinearProblem<double, MV, OP>(
      Teuchos::rcp_const_cast<OP>(Teuchos::rcp_implicit_cast<const OP>(op)),
      Teuchos::rcp_implicit_cast<MV>(X), Teuchos::rcp_implicit_cast<const MV>(Bv)));
  if (!problem->setProblem()) throw std::runtime_error("relax: Belos rejected the linear problem");
  auto params = Teuchos::rcp(new Teuchos::ParameterList());
  params->set("Maximum Iterations", opt.max_iters);
  params->set("Convergence Tolerance", opt.tol);
  params->set("Num Blocks", opt.restart);
  params->set("Maximum Restarts", opt.max_iters / std::max(1, opt.restart) + 1);
  params->set("Verbosity", static_cast<int>(Belos::Errors));
  Belos::PseudoBlockGmresSolMgr<double, MV, OP> solver(problem, params);
  GmresResult r;
  try {
    r.converged = solver.solve() == Belos::Converged;
  } catch (const std::exception&) {
    // Belos throws when a residual norm is NaN (an operator that overflowed): report an
    // unconverged solve and leave x at the initial guess, so the caller rejects the step.
    r.iterations = solver.getNumIters();
    r.achieved_tol = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  r.iterations = solver.getNumIters();
  r.achieved_tol = solver.achievedTol();
  std::copy(X->col(0), X->col(0) + n, x.begin());
  return r;
}

}  // namespace frost::relax
