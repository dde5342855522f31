#pragma once
// The matrix-free Krylov solvers, Eigen's iterative solvers driven by products with J = ∂c/∂x:
//  * `GMRES` — restarted GMRES for a general J, O(n · restart) memory;
//  * `BiCGSTAB` — short recurrences for a nonsymmetric J, O(n) memory, less robust than GMRES;
//  * `CG` — conjugate gradients for a symmetric positive definite J (a Hessian at a strict minimum).
// Their "factorization" of J is J itself, as an operator; each solve runs the iteration with
// products v ↦ J v (one forward pass each) or, for the transposed solve of the reverse rule,
// w ↦ Jᵀ w (one reverse sweep each, c recorded once per solve). J is never formed. Non-convergence
// is a typed error, never a silently wrong derivative.

#include <limits>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <utility>

#include <Eigen/Core>
#include <Eigen/IterativeLinearSolvers>
#include <unsupported/Eigen/IterativeSolvers>

#include "ift/errors.hpp"
#include "ift/linalg/linear_operator.hpp"
#include "ift/linalg/linear_solver.hpp"

namespace ift::detail {

/// Runs one of Eigen's iterative solvers on A x = b, A given by `apply(v) = A v`, and checks the
/// true residual.
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

/// A Krylov method's factorization of J: the method's options and J as an operator (held by
/// value when it can be copied — the reverse rule keeps it until the backward pass — else by
/// reference, for the type-erased J of Newton's steps, used at once).
template <class Method, class J>
class KrylovFactor {
 public:
  KrylovFactor(const Method& method, const J& jac) : method_(method), jac_(jac) {}

  /// X with J X = B, column by column.
  template <class B>
  Eigen::MatrixXd solve(const B& b) const {
    return columns(b, [this](const Eigen::VectorXd& v) { return Eigen::VectorXd(jac_.apply(v)); });
  }
  /// X with Jᵀ X = B, column by column, from one recording of c.
  template <class B>
  Eigen::MatrixXd solve_transposed(const B& b) const {
    auto transposed = jac_.transposed();
    return columns(b, [&transposed](const Eigen::VectorXd& w) { return Eigen::VectorXd(transposed(w)); });
  }

 private:
  template <class B, class Apply>
  Eigen::MatrixXd columns(const B& b, const Apply& apply) const {
    Eigen::MatrixXd out(b.rows(), b.cols());
    for (Eigen::Index k = 0; k < b.cols(); ++k) out.col(k) = method_.solve(apply, Eigen::VectorXd(b.col(k)));
    return out;
  }

  Method method_;
  std::conditional_t<std::is_copy_constructible_v<J>, J, const J&> jac_;
};

}  // namespace ift::detail

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

  /// J as an operator: each solve with J or Jᵀ is one run of the iteration.
  template <JacobianOperator J>
  detail::KrylovFactor<GMRES, J> factor(const J& jac) const {
    return {*this, jac};
  }

  /// Solves A x = b given only `apply(v) = A v`; throws `SolverError` when it does not converge.
  template <class Apply>
  Eigen::VectorXd solve(Apply&& apply, const Eigen::VectorXd& b) const {
    Eigen::GMRES<detail::LinearOperator, Eigen::IdentityPreconditioner> solver;
    solver.set_restart(restart);
    return detail::krylov_solve(solver, name, std::forward<Apply>(apply), b, tol, max_iter);
  }
};

namespace detail {

/// Eigen's BiCGSTAB, for a nonsymmetric J.
struct BiCGSTABIteration {
  static constexpr std::string_view name = "BiCGSTAB";
  using Solver = Eigen::BiCGSTAB<LinearOperator, Eigen::IdentityPreconditioner>;
};
/// Eigen's conjugate gradients, for a symmetric positive definite J; both triangles are used, since
/// the operator is only known by its products.
struct CGIteration {
  static constexpr std::string_view name = "CG";
  using Solver =
      Eigen::ConjugateGradient<LinearOperator, Eigen::Lower | Eigen::Upper, Eigen::IdentityPreconditioner>;
};

/// A Krylov method with short recurrences (O(n) memory) and no options beyond the common ones.
template <class Iteration>
struct ShortRecurrence {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = Iteration::name;
  /// Bound on the relative residual ‖b − A x‖ / ‖b‖.
  double tol = 1e-12;
  /// Maximum number of iterations before `SolverError`.
  int max_iter = 1000;

  /// J as an operator: each solve with J or Jᵀ is one run of the iteration.
  template <JacobianOperator J>
  KrylovFactor<ShortRecurrence, J> factor(const J& jac) const {
    return {*this, jac};
  }

  /// Solves A x = b given only `apply(v) = A v`; throws `SolverError` when it does not converge.
  template <class Apply>
  Eigen::VectorXd solve(Apply&& apply, const Eigen::VectorXd& b) const {
    typename Iteration::Solver solver;
    return krylov_solve(solver, name, std::forward<Apply>(apply), b, tol, max_iter);
  }
};

}  // namespace detail

/// Matrix-free BiCGSTAB (`Eigen::BiCGSTAB`): `tol`, `max_iter`.
using BiCGSTAB = detail::ShortRecurrence<detail::BiCGSTABIteration>;
/// Matrix-free conjugate gradients (`Eigen::ConjugateGradient`) for a symmetric positive definite J:
/// `tol`, `max_iter`.
using CG = detail::ShortRecurrence<detail::CGIteration>;

}  // namespace ift
