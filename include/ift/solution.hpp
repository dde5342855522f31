#pragma once
// What every solver returns, and the common options and failure policy of the built-in solvers.

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

#include <Eigen/Core>

#include "ift/errors.hpp"

namespace ift {

/// Why a solver stopped.
enum class Status {
  converged,        ///< the convergence measure fell below `tol`
  max_iterations,   ///< `max_iter` iterations without converging
  non_finite,       ///< NaN or Inf in the initial guess, θ, a residual or an iterate
  singular,         ///< a linear system inside the solver (or of the conditions) was singular
  invalid_bracket,  ///< a bracketing solver's `[lo, hi]` does not bracket a sign change
  stalled,          ///< no step reduced the convergence measure (line search or trust region failed)
  infeasible,       ///< the constraints of a constrained problem admit no point
  unbounded,        ///< the objective of a constrained problem decreases without bound on its feasible set
};

/// A readable name for a status, used in error messages.
constexpr std::string_view to_string(Status s) {
  switch (s) {
    case Status::converged:
      return "converged";
    case Status::max_iterations:
      return "reached the maximum number of iterations";
    case Status::non_finite:
      return "met a non-finite value (NaN or Inf)";
    case Status::singular:
      return "met a singular linear system";
    case Status::invalid_bracket:
      return "was given an interval that does not bracket a sign change";
    case Status::stalled:
      return "stalled: no step reduced the residual";
    case Status::infeasible:
      return "found the constraints infeasible (no point satisfies them)";
    case Status::unbounded:
      return "found the problem unbounded (the objective decreases without bound on the feasible set)";
  }
  return "unknown status";
}

/// The result of a solve. `x` carries derivatives w.r.t. θ when θ carries them.
template <class Y>
struct Solution {
  Y x;                                ///< the solution (or the last iterate when not converged)
  Status status = Status::converged;  ///< why the solver stopped
  int iterations = 0;                 ///< iterations the primal solver took
  double residual_norm = 0.0;         ///< the solver's convergence measure at `x`
  /// True when the solver converged, so that `x`'s derivatives are those of the solution x*(θ) (to the
  /// accuracy `tol` gives); false whenever `status != Status::converged`. A solve that stopped early
  /// (`throw_on_failure = false`) with `max_iterations` or `stalled` at a finite iterate x_k still
  /// returns derivatives: by the implicit rule at x_k they are the exact derivatives of the solution of
  /// the perturbed problem c(x, θ) = c(x_k, θ_k), the one x_k solves with its residual held fixed as
  /// θ moves; with `ift::Unrolled` they are the derivatives of the iterate x_k itself. They are NaN when
  /// the status is `non_finite`, `singular` or `invalid_bracket`, or when ∂c/∂x at x_k is singular or
  /// c is not finite there.
  bool derivatives_exact = true;
  /// True when the solver converged.
  explicit operator bool() const { return status == Status::converged; }
};

namespace detail {
template <class Y>
struct solution_scalar {
  using type = Y;
};
template <class Y>
requires requires { typename Y::Scalar; }
struct solution_scalar<Y> {
  using type = typename Y::Scalar;
};
}  // namespace detail

/// The result of a constrained solve: the `Solution` of min L(x, θ) s.t. eq(x, θ) = 0, ineq(x, θ) ≤ 0
/// together with the Lagrange multipliers of the Lagrangian L + νᵀeq + μᵀineq (μ ≥ 0, μᵢ = 0 on an
/// inactive constraint). The multipliers carry derivatives w.r.t. θ like `x`: they are part of the
/// state z = (x, ν, μ) the implicit rule differentiates.
template <class Y>
struct ConstrainedSolution : Solution<Y> {
  /// The scalar of `x` (itself when `x` is a scalar).
  using Scalar = typename detail::solution_scalar<Y>::type;
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> eq_multipliers;    ///< ν, one per equality constraint
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> ineq_multipliers;  ///< μ ≥ 0, one per inequality constraint
};

/// Progress callback type shared by all solvers: `(iteration, residual_norm)`.
using IterationCallback = std::function<void(int, double)>;

namespace detail {

/// Builds the message of a `SolverError`: solver, iterations, residual and reason.
inline std::string failure_message(std::string_view solver, Status status, int iterations, double residual) {
  std::ostringstream out;
  out << "ift: " << solver << " " << to_string(status) << " after " << iterations << " iteration"
      << (iterations == 1 ? "" : "s") << " (residual norm " << residual << ")";
  return out.str();
}

/// The failure policy of every built-in solver: throw `SolverError` unless the caller asked
/// for the status instead.
template <class Y>
void check(const Solution<Y>& s, std::string_view solver, bool throw_on_failure) {
  if (throw_on_failure && s.status != Status::converged)
    throw SolverError(failure_message(solver, s.status, s.iterations, s.residual_norm));
}

/// The state z = (x, ν, μ) of a primal-dual iterate on doubles (`it.x`, `it.nu`, `it.mu`): what
/// the KKT conditions of a constrained problem differentiate.
template <class Iterate>
Eigen::VectorXd primal_dual_state(const Iterate& it) {
  Eigen::VectorXd z(it.x.size() + it.nu.size() + it.mu.size());
  z << it.x, it.nu, it.mu;
  return z;
}

/// The `ConstrainedSolution` of z = (x, ν, μ) at θ's scalar, split as the iterate `it` is, with
/// its report; the derivatives are exact when the solver converged.
template <class Y, class Z, class Iterate>
ConstrainedSolution<Y> constrained_solution(const Z& z, const Iterate& it) {
  const Eigen::Index n = it.x.size(), p = it.nu.size();
  ConstrainedSolution<Y> out;
  out.x = z.head(n);
  out.eq_multipliers = z.segment(n, p);
  out.ineq_multipliers = z.tail(it.mu.size());
  out.status = it.status;
  out.iterations = it.iterations;
  out.residual_norm = it.residual_norm;
  out.derivatives_exact = it.status == Status::converged;
  return out;
}

}  // namespace detail
}  // namespace ift
