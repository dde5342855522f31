#pragma once
// LDLᵀ (Bunch–Kaufman-like pivoting on the diagonal) of a symmetric ∂c/∂x, as in minimization where
// ∂c/∂x is the Hessian: about half the work of LU, and the transposed solve is the solve.

#include <Eigen/Cholesky>
#include <string_view>

#include "ift/linalg/linear_solver.hpp"

namespace ift {

/// Robust Cholesky (`Eigen::LDLT`) for symmetric ∂c/∂x; only the lower triangle is read.
/// Raises `SingularJacobianError` when the reciprocal condition estimate falls below epsilon.
struct LDLT {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "LDLT";

  template <class Matrix>
  /// Factorizes J (any scalar type; conditioning is judged on its values) or throws `SingularJacobianError`.
  auto factor(const Matrix& J) const {
    using Plain = typename Matrix::PlainObject;
    detail::DenseFactor<Eigen::LDLT<Plain>> f{Eigen::LDLT<Plain>(J)};
    if constexpr (std::is_same_v<typename Matrix::Scalar, double>) {
      detail::require_finite_jacobian(J, name);
      detail::require_well_conditioned(
          f.decomposition.info() == Eigen::Success ? f.decomposition.rcond() : 0.0, name);
    } else {
      const Eigen::MatrixXd values = detail::values_of(J);
      detail::require_finite_jacobian(values, name);
      const Eigen::LDLT<Eigen::MatrixXd> check(values);
      detail::require_well_conditioned(check.info() == Eigen::Success ? check.rcond() : 0.0, name);
    }
    return f;
  }
};

}  // namespace ift
