#pragma once
// Conjugate gradients, matrix-free: for symmetric positive definite ∂c/∂x, such as the Hessian at a
// strict minimizer. Then (∂c/∂x)ᵀ = ∂c/∂x and forward and reverse solves are the same problem.

#include <string_view>

#include <Eigen/Core>
#include <Eigen/IterativeLinearSolvers>

#include "ift/linalg/krylov.hpp"

namespace ift {

/// Matrix-free conjugate gradients (`Eigen::ConjugateGradient`, both triangles used since the
/// operator is only known by its products). `tol` bounds the relative residual.
struct CG {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "CG";
  /// Bound on the relative residual ‖b − A x‖ / ‖b‖.
  double tol = 1e-12;
  /// Maximum number of iterations before `SolverError`.
  int max_iter = 1000;

  template <class Apply>
  /// Solves A x = b given only `apply(v) = A v`; throws `SolverError` when it does not converge.
  Eigen::VectorXd solve(Apply&& apply, const Eigen::VectorXd& b) const {
    Eigen::ConjugateGradient<detail::LinearOperator, Eigen::Lower | Eigen::Upper,
                             Eigen::IdentityPreconditioner>
        solver;
    return detail::krylov_solve(solver, name, std::forward<Apply>(apply), b, tol, max_iter);
  }
};

}  // namespace ift
