#pragma once
// The dense direct solvers of J = ∂c/∂x, each one of Eigen's decompositions behind the protocol of
// linear_solver.hpp, all judged by the same checks (`detail::factor_dense`):
//  * `DenseLU` — LU with partial pivoting, the default: one O(n³) factorization, then O(n²) per
//    direction or adjoint;
//  * `DenseQR` — rank-revealing QR (column pivoting): slower than LU, but it measures the numerical
//    rank, so a nearly singular system is reported rather than solved into noise;
//  * `LDLT` — LDLᵀ with pivoting on the diagonal for a symmetric J, as in minimization where J is the
//    Hessian: about half the work of LU, and the transposed solve is the solve.
// Each `factor` is a template over the matrix: a fixed-size J is factorized on the stack (the implicit
// rule's path for tiny problems), and a J of AD scalars can be factorized too.

#include <cmath>
#include <string_view>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/LU>
#include <Eigen/QR>

#include "ift/linalg/linear_solver.hpp"

namespace ift {
namespace detail {

/// J⁻¹ of a J of at most 4 × 4 known at compile time, by Eigen's closed forms (cofactors), for the
/// tiny problems' rules: the condition number ‖J‖₁‖J⁻¹‖₁ is exact rather than estimated, and each
/// solve is one small product. A pivoted LU and Hager's estimate (ten solves) cost several times more
/// at these sizes — a fifth of a 2-unknown fixed point's whole forward derivative, by `perf`.
template <int n>
struct InverseFactor {
  Eigen::Matrix<double, n, n> inverse;
  template <class B>
  auto solve(const B& b) const {
    return (inverse * b).eval();
  }
  template <class B>
  auto solve_transposed(const B& b) const {
    return (inverse.transpose() * b).eval();
  }
};

/// `InverseFactor` of J after the checks every dense solver makes (J finite, 1/cond above the
/// threshold), in `solver`'s name.
template <int n>
InverseFactor<n> factor_by_inverse(const Eigen::Matrix<double, n, n>& J, std::string_view solver) {
  static_assert(n >= 1 && n <= 4, "Eigen's closed-form inverses stop at 4 x 4");
  require_finite_jacobian(J, solver);
  InverseFactor<n> f;
  double determinant = 0.0;
  bool invertible = false;
  J.computeInverseAndDetWithCheck(f.inverse, determinant, invertible, 0.0);
  const double product = invertible ? norm1(J) * norm1(f.inverse) : 0.0;
  require_well_conditioned(std::isfinite(product) && product > 0.0 ? 1.0 / product : 0.0, solver);
  return f;
}

/// P J = L U for a Newton step, judged by its pivots, O(n) (`require_regular_pivots`), as the banded
/// and sparse LUs judge a step: the condition estimate, about ten triangular solves — a third of a
/// 10-unknown Newton step, by `perf` — is for the implicit rule's J, once per derivative. (A template,
/// so that the LU is compiled only where a Newton step uses it, not in every translation unit.)
template <class Matrix>
DenseFactor<Eigen::PartialPivLU<Matrix>> dense_lu_of_step(const Matrix& J, std::string_view solver) {
  require_finite_jacobian(J, solver);
  DenseFactor<Eigen::PartialPivLU<Matrix>> f{Eigen::PartialPivLU<Matrix>(J)};
  require_regular_pivots(f.decomposition.matrixLU().diagonal(), solver);
  return f;
}

}  // namespace detail

/// Dense LU with partial pivoting (`Eigen::PartialPivLU`); raises `SingularJacobianError` when the
/// reciprocal condition estimate falls below machine epsilon.
struct DenseLU {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "DenseLU";

  /// Factorizes J (any scalar type; conditioning is judged on its values) or throws
  /// `SingularJacobianError`.
  template <class Derived>
  auto factor(const Eigen::MatrixBase<Derived>& J) const {
    return detail::factor_dense<Eigen::PartialPivLU<typename Derived::PlainObject>,
                                Eigen::PartialPivLU<Eigen::MatrixXd>>(J, name, [](const auto& lu) {
      // Eigen's estimate can be far from 0 at an exactly zero pivot (0.33 for a J with two equal
      // rows), so a zero pivot is singular by itself.
      return (lu.matrixLU().diagonal().array() == 0.0).any() ? 0.0 : lu.rcond();
    });
  }
};

/// Column-pivoting Householder QR (`Eigen::ColPivHouseholderQR`); raises `SingularJacobianError`
/// when J is rank deficient (condition estimated as |r₁₁| / |rₙₙ|).
struct DenseQR {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "DenseQR";

  /// Factorizes J (any scalar type; conditioning is judged on its values) or throws
  /// `SingularJacobianError`. With column pivoting |r₁₁| ≥ |r₂₂| ≥ …, so |rₙₙ| / |r₁₁| bounds the
  /// reciprocal condition number from above; a rank-deficient J counts as singular.
  template <class Derived>
  auto factor(const Eigen::MatrixBase<Derived>& J) const {
    return detail::factor_dense<Eigen::ColPivHouseholderQR<typename Derived::PlainObject>,
                                Eigen::ColPivHouseholderQR<Eigen::MatrixXd>>(J, name, [](const auto& qr) {
      const Eigen::Index n = qr.rows();
      if (n == 0) return 1.0;
      const double r11 = std::abs(qr.matrixR()(0, 0)), rnn = std::abs(qr.matrixR()(n - 1, n - 1));
      return qr.rank() < n || r11 == 0 ? 0.0 : rnn / r11;
    });
  }
};

/// Robust Cholesky (`Eigen::LDLT`) for symmetric J; only the lower triangle is read.
/// Raises `SingularJacobianError` when the reciprocal condition estimate falls below epsilon.
struct LDLT {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "LDLT";

  /// Factorizes J (any scalar type; conditioning is judged on its values) or throws
  /// `SingularJacobianError`.
  template <class Derived>
  auto factor(const Eigen::MatrixBase<Derived>& J) const {
    // A failed LDLᵀ (a zero pivot where no pivoting helps) counts as singular.
    return detail::factor_dense<Eigen::LDLT<typename Derived::PlainObject>, Eigen::LDLT<Eigen::MatrixXd>>(
        J, name, [](const auto& ldlt) { return ldlt.info() == Eigen::Success ? ldlt.rcond() : 0.0; });
  }
};

}  // namespace ift
