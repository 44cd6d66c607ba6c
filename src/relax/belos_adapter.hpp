// Belos GMRES on frost's vectors: a host multivector (Belos::MultiVec) and an operator
// (Belos::Operator) that applies a shifted field Jacobian matrix-free. Belos works on host
// vectors; the operator copies each column to the field's memory space and back, explicitly.
#pragma once

#include <BelosMultiVec.hpp>
#include <BelosOperator.hpp>
#include <Teuchos_SerialDenseMatrix.hpp>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace frost::relax {

/// A column-major block of `cols` host vectors of length n. Views made by CloneView share the
/// storage of their parent and address a subset of its columns.
class HostMultiVec : public Belos::MultiVec<double> {
 public:
  using MV = Belos::MultiVec<double>;
  using Dense = Teuchos::SerialDenseMatrix<int, double>;

  HostMultiVec(int n, int cols);
  HostMultiVec(std::shared_ptr<std::vector<double>> data, int n, std::vector<int> cols);

  /// Column j (length n), contiguous.
  double* col(int j) { return data_->data() + static_cast<std::ptrdiff_t>(cols_[j]) * n_; }
  const double* col(int j) const {
    return data_->data() + static_cast<std::ptrdiff_t>(cols_[j]) * n_;
  }
  int length() const { return n_; }

  MV* Clone(const int numvecs) const override;
  MV* CloneCopy() const override;
  MV* CloneCopy(const std::vector<int>& index) const override;
  MV* CloneViewNonConst(const std::vector<int>& index) override;
  const MV* CloneView(const std::vector<int>& index) const override;
  ptrdiff_t GetGlobalLength() const override { return n_; }
  int GetNumberVecs() const override { return static_cast<int>(cols_.size()); }
  void MvTimesMatAddMv(const double alpha, const MV& A, const Dense& B, const double beta) override;
  void MvAddMv(const double alpha, const MV& A, const double beta, const MV& B) override;
  void MvScale(const double alpha) override;
  void MvScale(const std::vector<double>& alpha) override;
  void MvTransMv(const double alpha, const MV& A, Dense& B) const override;
  void MvDot(const MV& A, std::vector<double>& b) const override;
  void MvNorm(std::vector<double>& normvec, Belos::NormType type = Belos::TwoNorm) const override;
  void SetBlock(const MV& A, const std::vector<int>& index) override;
  void MvRandom() override;
  void MvInit(const double alpha) override;
  void MvPrint(std::ostream& os) const override;

 private:
  std::shared_ptr<std::vector<double>> data_;
  int n_;
  std::vector<int> cols_;
};

/// y = op(x) for each column, with `op` a host function on one vector (x, y of length n).
class HostOperator : public Belos::Operator<double> {
 public:
  using Fn = std::function<void(const double* x, double* y)>;
  explicit HostOperator(Fn fn) : fn_(std::move(fn)) {}
  void Apply(const Belos::MultiVec<double>& x, Belos::MultiVec<double>& y,
             Belos::ETrans trans = Belos::NOTRANS) const override;

 private:
  Fn fn_;
};

/// Belos options (the `relax.belos.*` keys) and what a solve reports.
struct GmresOptions {
  int max_iters = 200;  ///< total GMRES iterations
  double tol = 1e-8;    ///< relative residual ||b - A x|| / ||b||
  int restart = 50;     ///< Krylov dimension before a restart
};
struct GmresResult {
  bool converged = false;
  int iterations = 0;
  double achieved_tol = 0.0;  ///< as Belos reports it
};

/// Solves A x = b by Belos' PseudoBlockGmres from the initial guess in x (host vectors, length n).
GmresResult gmres_solve(const HostOperator& A, const std::vector<double>& b, std::vector<double>& x,
                        const GmresOptions& opt);

}  // namespace frost::relax
