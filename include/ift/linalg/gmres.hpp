#pragma once
// Restarted GMRES, matrix-free (Eigen's unsupported GMRES driven by JVPs/VJPs of the conditions):
// for general nonsymmetric ∂c/∂x. Never forms ∂c/∂x, so memory is O(n · restart).

#include <string_view>

#include <Eigen/Core>
#include <unsupported/Eigen/IterativeSolvers>

#include "ift/linalg/krylov.hpp"

namespace ift {

/// Matrix-free restarted GMRES. `tol` bounds the relative residual ‖b − A x‖ / ‖b‖.
struct GMRES {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "GMRES";
  /// Krylov subspace dimension between restarts (memory O(n · restart)).
  int restart = 30;
  /// Bound on the relative residual ‖b − A x‖ / ‖b‖.
  double tol = 1e-12;
  /// Maximum number of iterations before `SolverError`.
  int max_iter = 1000;

  template <class Apply>
  /// Solves A x = b given only `apply(v) = A v`; throws `SolverError` when it does not converge.
  Eigen::VectorXd solve(Apply&& apply, const Eigen::VectorXd& b) const {
    Eigen::GMRES<detail::LinearOperator, Eigen::IdentityPreconditioner> solver;
    solver.set_restart(restart);
    return detail::krylov_solve(solver, name, std::forward<Apply>(apply), b, tol, max_iter);
  }
};

}  // namespace ift
