#pragma once
// Sparse LU of ∂c/∂x (Eigen's supernodal `SparseLU` with a COLAMD column ordering): for Jacobians
// whose pattern is sparse but not a narrow band — block structures, 2-D and 3-D stencils, networks
// (a narrow band goes faster through banded_lu.hpp). The Jacobian is formed by colored forward
// passes (sparsity.hpp): w colors cost ⌈w/4⌉ passes instead of n/8 for the dense Jacobian.

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <Eigen/OrderingMethods>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>

#include "ift/linalg/auto.hpp"
#include "ift/linalg/linear_solver.hpp"
#include "ift/sparsity_pattern.hpp"

namespace ift {
namespace detail {

/// A sparse LU factorization with the transposed solve the reverse rule needs. Shared, so that the
/// tape node holding it stays cheap to copy.
class SparseFactor {
 public:
  using Decomposition = Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>>;
  explicit SparseFactor(std::shared_ptr<Decomposition> lu) : lu_(std::move(lu)) {}

  /// X with J X = B (B a dense vector or matrix).
  template <class B>
  typename B::PlainObject solve(const B& b) const {
    return lu_->solve(b);
  }
  /// X with Jᵀ X = B.
  template <class B>
  typename B::PlainObject solve_transposed(const B& b) const {
    return lu_->transpose().solve(b);
  }

 private:
  std::shared_ptr<Decomposition> lu_;
};

}  // namespace detail

/// Sparse LU (`Eigen::SparseLU`, COLAMD ordering) of a sparse Jacobian. The symbolic analysis (the
/// column ordering, the elimination tree) depends on the pattern only: with an `analysis` handle it
/// is made once and every later factorization is numerical only. Raises `SingularJacobianError` on a
/// zero or tiny pivot (O(n) per factorization) and, for the implicit rule's J or a matrix given
/// directly, when the estimated reciprocal condition number (Hager–Higham, a few extra solves)
/// falls below machine epsilon.
struct SparseLU {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "SparseLU";
  /// The structure and symbolic analysis kept across solves (see `SparseAnalysis`); by default J's
  /// pattern is detected once per solve and analysed at each factorization.
  std::optional<SparseAnalysis> analysis{};

  /// Factorizes J given as an operator: in the kept pattern when there is an analysis.
  template <JacobianOperator J>
  detail::SparseFactor factor(const J& jac) const {
    return detail::with_sparse_values(jac, analysis, [&](const Eigen::SparseMatrix<double>& A) {
      return factorize(A, analysis ? &analysis->state() : nullptr, detail::is_rule_jacobian_v<J>);
    });
  }

  /// Factorizes J (any sparse expression of doubles) or throws `SingularJacobianError`. A template
  /// so that a program that includes this header without factorizing does not compile Eigen's
  /// SparseLU.
  template <class Derived>
  detail::SparseFactor factor(const Eigen::SparseMatrixBase<Derived>& expression) const {
    if constexpr (!std::is_same_v<Derived, Eigen::SparseMatrix<double>>)
      return factor(Eigen::SparseMatrix<double>(expression.derived()));
    else
      return factorize(expression.derived(), nullptr, true);
  }

  using Decomposition = detail::SparseFactor::Decomposition;

  /// Factorizes A (analysed with the decompositions `kept`, or afresh) or throws
  /// `SingularJacobianError`; estimates the condition number when `estimate`.
  template <class Sparse>
  static detail::SparseFactor factorize(const Sparse& A, detail::AnalysisState* kept, bool estimate) {
    detail::require_finite_jacobian(Eigen::Map<const Eigen::VectorXd>(A.valuePtr(), A.nonZeros()), name);
    std::shared_ptr<Decomposition> lu = analysed(A, kept);
    lu->factorize(A);
    if (lu->info() != Eigen::Success)
      detail::throw_singular(name, "singular (" + lu->lastErrorMessage() + ")",
                             std::numeric_limits<double>::infinity());
    // U's diagonal is kept in L's supernodes (as Eigen's own determinant reads it).
    const auto& supernodal = lu->matrixL().m_mapL;
    Eigen::VectorXd pivots = Eigen::VectorXd::Zero(A.cols());
    for (Eigen::Index j = 0; j < A.cols(); ++j)
      for (typename Decomposition::SCMatrix::InnerIterator it(supernodal, j); it; ++it)
        if (it.index() == j) {
          pivots(j) = it.value();
          break;
        }
    detail::require_regular_pivots(pivots, name);
    detail::SparseFactor f(std::move(lu));
    if (estimate)
      detail::require_well_conditioned(detail::rcond_estimate(f, A.cols(), detail::norm1(A)), name);
    return f;
  }

 private:
  // A decomposition analysed for A's pattern: with a kept analysis, one of its decompositions that
  // no factorization still holds (the pool grows only while factors are kept, as on a tape).
  template <class Sparse>
  static std::shared_ptr<Decomposition> analysed(const Sparse& A, detail::AnalysisState* kept) {
    if (kept)
      for (const std::shared_ptr<void>& d : kept->symbolic)
        if (d.use_count() == 1) return std::static_pointer_cast<Decomposition>(d);
    auto lu = std::make_shared<Decomposition>();
    lu->analyzePattern(A);
    if (kept) {
      kept->symbolic.push_back(lu);
      ++kept->symbolic_analyses;
    }
    return lu;
  }
};

namespace detail {

/// `SparseLU` for `Auto`, behind the hook auto.hpp reads (see the comment there).
inline std::shared_ptr<const ErasedFactor> sparse_lu_erased(const Eigen::SparseMatrix<double>& A,
                                                            AnalysisState* kept, bool estimate) {
  struct Model final : ErasedFactor {
    explicit Model(SparseFactor f) : factor(std::move(f)) {}
    SparseFactor factor;
    Eigen::MatrixXd solve(const Eigen::MatrixXd& b) const override { return factor.solve(b); }
    Eigen::MatrixXd solve_transposed(const Eigen::MatrixXd& b) const override {
      return factor.solve_transposed(b);
    }
  };
  return std::make_shared<const Model>(SparseLU::factorize(A, kept, estimate));
}

/// Sets the hook when the program starts, in every translation unit that includes this header.
inline const bool sparse_lu_registered_for_auto = (sparse_lu_for_auto() = &sparse_lu_erased, true);

}  // namespace detail
}  // namespace ift
