#pragma once
// Rank-revealing QR (column pivoting) of ∂c/∂x: slower than LU, but it measures the numerical rank,
// so a nearly singular system is reported rather than solved into noise.

#include <Eigen/QR>
#include <cmath>
#include <string_view>

#include "ift/linalg/linear_solver.hpp"

namespace ift {

/// Column-pivoting Householder QR (`Eigen::ColPivHouseholderQR`); raises `SingularJacobianError`
/// when ∂c/∂x is rank deficient (condition estimated as |r₁₁| / |rₙₙ|).
struct DenseQR {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "DenseQR";

  template <class Matrix>
  /// Factorizes J (any scalar type; conditioning is judged on its values) or throws `SingularJacobianError`.
  auto factor(const Matrix& J) const {
    using Plain = typename Matrix::PlainObject;
    const Eigen::MatrixXd values = detail::values_of(J);
    detail::require_finite_jacobian(values, name);
    const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(values);
    const Eigen::Index n = values.rows();
    // With column pivoting |r₁₁| ≥ |r₂₂| ≥ …, so their ratio bounds the condition number from below.
    const double r11 = n ? std::abs(qr.matrixR()(0, 0)) : 1.0;
    const double rnn = n ? std::abs(qr.matrixR()(n - 1, n - 1)) : 1.0;
    detail::require_well_conditioned(qr.rank() < n || r11 == 0 ? 0.0 : rnn / r11, name);
    return detail::DenseFactor<Eigen::ColPivHouseholderQR<Plain>>{Eigen::ColPivHouseholderQR<Plain>(J)};
  }
};

}  // namespace ift
