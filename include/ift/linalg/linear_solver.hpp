#pragma once
// The adjoint linear solvers: how the implicit rule solves with ∂c/∂x.
//
// Two families satisfy `ift::LinearSolver`:
//  * direct solvers (`DenseLU`, `DenseQR`, `LDLT`) form ∂c/∂x densely and factorise it once;
//    the factorisation serves every tangent direction (forward mode) and the transposed adjoint
//    solve (reverse mode), and is kept from the forward pass to the backward pass;
//  * matrix-free solvers (`GMRES`, `BiCGSTAB`, `CG`) see ∂c/∂x only through products
//    v ↦ (∂c/∂x)v (forward mode, one JVP of c each) or w ↦ (∂c/∂x)ᵀw (reverse mode, one VJP each),
//    so ∂c/∂x is never formed and large n stays practical.
//
// A user type plugs in by satisfying one of the two concepts below.

#include <cmath>
#include <concepts>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

#include <Eigen/Core>

#include "ift/detail/traits.hpp"
#include "ift/errors.hpp"

namespace ift {

/// A direct solver: `factor(J)` returns an object with `solve(B)` (J X = B) and
/// `solve_transposed(B)` (Jᵀ X = B), and throws `SingularJacobianError` when J is singular.
template <class LS>
concept DirectLinearSolver = requires(const LS& ls, const Eigen::MatrixXd& J) {
  {ls.factor(J).solve(J)};
  {ls.factor(J).solve_transposed(J)};
};

/// A matrix-free solver: `solve(apply, b)` solves A x = b given only `apply(v) = A v`
/// (`Eigen::VectorXd` in and out), and throws `SolverError` when it does not converge.
template <class LS>
concept MatrixFreeLinearSolver = requires(const LS& ls, const Eigen::VectorXd& b,
                                          std::function<Eigen::VectorXd(const Eigen::VectorXd&)> apply) {
  { ls.solve(apply, b) } -> std::convertible_to<Eigen::VectorXd>;
};

/// Anything the implicit rule can use to solve with ∂c/∂x.
template <class LS>
concept LinearSolver = DirectLinearSolver<LS> || MatrixFreeLinearSolver<LS>;

namespace detail {

/// Throws `SingularJacobianError` when the reciprocal condition estimate `rcond` of ∂c/∂x says the
/// implicit function theorem does not apply numerically: below machine epsilon the computed
/// derivative would carry no correct digits.
inline void require_well_conditioned(double rcond, std::string_view solver) {
  if (rcond > std::numeric_limits<double>::epsilon()) return;
  const double condition = rcond > 0 ? 1.0 / rcond : std::numeric_limits<double>::infinity();
  std::ostringstream out;
  out << "ift: " << solver << ": the conditions' Jacobian dc/dx at the solution is "
      << (std::isfinite(condition) ? "numerically singular" : "singular") << " (condition estimate "
      << condition << "); the implicit function theorem gives no derivative here";
  throw SingularJacobianError(out.str(), condition);
}

/// Throws when ∂c/∂x holds NaN or Inf: the derivative would be silently wrong.
template <class Matrix>
void require_finite_jacobian(const Matrix& values, std::string_view solver) {
  if (values.allFinite()) return;
  throw SingularJacobianError(
      "ift: " + std::string(solver) + ": the conditions' Jacobian dc/dx at the solution is not finite",
      std::numeric_limits<double>::quiet_NaN());
}

/// The values (as double) of a matrix of any scalar type.
template <class Matrix>
Eigen::MatrixXd values_of(const Matrix& m) {
  return m.unaryExpr([](const auto& s) { return to_double(s); });
}

/// A factorisation together with the transposed solve the reverse rule needs.
template <class Decomposition>
struct DenseFactor {
  Decomposition decomposition;
  template <class B>
  auto solve(const B& b) const {
    return decomposition.solve(b).eval();
  }
  template <class B>
  auto solve_transposed(const B& b) const {
    return decomposition.transpose().solve(b).eval();
  }
};

}  // namespace detail
}  // namespace ift
