#pragma once
// Shared driver of the matrix-free Krylov solvers: run one of Eigen's iterative solvers on a
// `LinearOperator` and turn non-convergence into a typed error instead of a silently wrong
// derivative.

#include <limits>
#include <sstream>
#include <string_view>

#include <Eigen/Core>

#include "ift/errors.hpp"
#include "ift/linalg/linear_operator.hpp"

namespace ift::detail {

template <class EigenSolver, class Apply>
Eigen::VectorXd krylov_solve(EigenSolver& solver, std::string_view name, Apply&& apply,
                             const Eigen::VectorXd& b, double tol, int max_iter) {
  if (b.isZero(0.0)) return Eigen::VectorXd::Zero(b.size());
  const LinearOperator A(b.size(), std::forward<Apply>(apply));
  solver.setTolerance(tol);
  solver.setMaxIterations(max_iter);
  solver.compute(A);
  Eigen::VectorXd x = solver.solve(b);
  // Eigen's estimate of the residual can report success on an inconsistent (singular) system, where
  // the iterates grow without bound: the true residual ‖b − A x‖ / ‖b‖ is checked too.
  const double residual =
      x.allFinite() ? (b - A.apply(x)).norm() / b.norm() : std::numeric_limits<double>::infinity();
  if (solver.info() != Eigen::Success || !(residual <= 10 * tol + 1e-14)) {
    std::ostringstream out;
    out << "ift: " << name << " linear solve did not converge after " << solver.iterations()
        << " iterations (relative residual " << residual << ", tolerance " << tol << ")";
    throw SolverError(out.str());
  }
  return x;
}

}  // namespace ift::detail
