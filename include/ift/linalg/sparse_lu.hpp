#pragma once
// Sparse LU of ∂c/∂x (Eigen's supernodal `SparseLU` with a COLAMD column ordering): for Jacobians
// whose pattern is sparse — banded, block, PDE stencils. The Jacobian is formed by colored forward
// passes (sparsity.hpp): for a band of width w, w directional derivatives and O(n w²) work to
// factorize, instead of n directional derivatives and O(n³) for the dense LU.

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include <Eigen/OrderingMethods>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>

#include "ift/linalg/linear_solver.hpp"

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

/// Sparse LU (`Eigen::SparseLU`, COLAMD ordering) of a sparse Jacobian. Raises
/// `SingularJacobianError` when the factorization meets a zero pivot or when the estimated reciprocal
/// condition number (Hager–Higham, a few extra solves) falls below machine epsilon.
struct SparseLU {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "SparseLU";

  /// Factorizes J (any sparse expression of doubles) or throws `SingularJacobianError`. A template
  /// so that a program that includes this header without factorizing does not compile Eigen's
  /// SparseLU.
  template <class Derived>
  detail::SparseFactor factor(const Eigen::SparseMatrixBase<Derived>& expression) const {
    if constexpr (!std::is_same_v<Derived, Eigen::SparseMatrix<double>>) {
      return factor(Eigen::SparseMatrix<double>(expression.derived()));
    } else {
      const Eigen::SparseMatrix<double>& J = expression.derived();
      detail::require_finite_jacobian(Eigen::Map<const Eigen::VectorXd>(J.valuePtr(), J.nonZeros()), name);
      auto lu = std::make_shared<detail::SparseFactor::Decomposition>();
      lu->compute(J);
      if (lu->info() != Eigen::Success)
        throw SingularJacobianError(
            "ift: SparseLU: the conditions' Jacobian dc/dx at the solution is singular (" +
                lu->lastErrorMessage() + "); the implicit function theorem gives no derivative here",
            std::numeric_limits<double>::infinity());
      detail::SparseFactor f(std::move(lu));
      double norm1 = 0.0;
      for (Eigen::Index j = 0; j < J.outerSize(); ++j) norm1 = std::max(norm1, J.col(j).cwiseAbs().sum());
      detail::require_well_conditioned(detail::rcond_estimate(f, J.cols(), norm1), name);
      return f;
    }
  }
};

}  // namespace ift
