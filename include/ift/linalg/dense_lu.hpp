#pragma once
// Dense LU with partial pivoting of ∂c/∂x: the default adjoint solver.
// Cost: one O(n³) factorization, then O(n²) per direction or adjoint.

#include <Eigen/LU>
#include <string_view>

#include "ift/linalg/linear_solver.hpp"

namespace ift {

/// Dense LU with partial pivoting (`Eigen::PartialPivLU`); raises `SingularJacobianError` when the
/// reciprocal condition estimate falls below machine epsilon.
struct DenseLU {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "DenseLU";

  template <class Matrix>
  /// Factorizes J (any scalar type; conditioning is judged on its values) or throws `SingularJacobianError`.
  auto factor(const Matrix& J) const {
    using Plain = typename Matrix::PlainObject;
    detail::DenseFactor<Eigen::PartialPivLU<Plain>> f{Eigen::PartialPivLU<Plain>(J)};
    if constexpr (std::is_same_v<typename Matrix::Scalar, double>) {
      detail::require_finite_jacobian(J, name);
      detail::require_well_conditioned(f.decomposition.rcond(), name);
    } else {
      // Conditioning is a property of the values; the AD parts only ride along.
      const Eigen::MatrixXd values = detail::values_of(J);
      detail::require_finite_jacobian(values, name);
      detail::require_well_conditioned(values.partialPivLu().rcond(), name);
    }
    return f;
  }
};

}  // namespace ift
