#pragma once
// BiCGSTAB, matrix-free: for nonsymmetric ∂c/∂x with short recurrences (O(n) memory), at the price of
// less robust convergence than GMRES.

#include <string_view>

#include <Eigen/Core>
#include <Eigen/IterativeLinearSolvers>

#include "ift/linalg/krylov.hpp"

namespace ift {

/// Matrix-free BiCGSTAB (`Eigen::BiCGSTAB`). `tol` bounds the relative residual.
struct BiCGSTAB {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "BiCGSTAB";
  /// Bound on the relative residual ‖b − A x‖ / ‖b‖.
  double tol = 1e-12;
  /// Maximum number of iterations before `SolverError`.
  int max_iter = 1000;

  template <class Apply>
  /// Solves A x = b given only `apply(v) = A v`; throws `SolverError` when it does not converge.
  Eigen::VectorXd solve(Apply&& apply, const Eigen::VectorXd& b) const {
    Eigen::BiCGSTAB<detail::LinearOperator, Eigen::IdentityPreconditioner> solver;
    return detail::krylov_solve(solver, name, std::forward<Apply>(apply), b, tol, max_iter);
  }
};

}  // namespace ift
