#pragma once
// Damped Newton's method for f(x) = 0.
//
// Each iteration solves the linearization f(x) + J d = 0 for the Newton direction
//   d = −J⁻¹ f(x),     J = ∂f/∂x by forward-mode duals (`ift::jacobian`; a `Dual<T, 1>` for a scalar x),
// and takes the step x + αd with α from a backtracking line search on the merit function
// φ(x) = ½‖f(x)‖². Since ∇φ = Jᵀf, the slope along d is φ'(0) = fᵀJd = −‖f‖² < 0: the Newton
// direction always descends, so a short enough step always decreases ‖f‖ (this is what makes
// the damped method converge from starting points where the plain one diverges). Near a regular
// root the full step α = 1 is accepted and convergence is quadratic.
//
// How J d = −f is solved is the `linear_solver` field, any `ift::LinearSolver`:
//  * dense (default `DenseLU`): J by chunked forward duals. With DenseLU the factorization of J's
//    values is checked: a zero pivot or a reciprocal condition number below n·ε means the direction
//    would carry no correct digit, and the solver stops with `Status::singular` instead of producing
//    NaN or a wild step;
//  * sparse (`SparseLU`, or a user's sparse solver): J's pattern is detected once per solve, at x0,
//    and J is filled by one forward pass per four colors of it (sparsity.hpp) — O(n) per step for a
//    banded J;
//  * matrix-free (`GMRES`, `BiCGSTAB`, `CG`): Newton–Krylov, J never formed, each product J v one
//    forward pass on `Dual<double, 1>`;
//  * `Auto`: dense for small n or a dense pattern, sparse otherwise, decided once per solve.
// A solver that reports J singular (or a Krylov method that does not converge) stops Newton with
// `Status::singular`.
//
// On AD scalars (unrolled differentiation) the arithmetic runs in the scalar type of x, so the
// derivatives flow through J, the solve and the step; J is then dense and factorized by LU in that
// scalar type, whatever `linear_solver` says. Every decision compares plain values.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <Eigen/Core>
#include <Eigen/LU>

#include "ift/derivatives.hpp"
#include "ift/dual.hpp"
#include "ift/errors.hpp"
#include "ift/linalg/any_linear_solver.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/solver.hpp"
#include "ift/sparsity.hpp"
#include "ift/tree.hpp"

namespace ift {
namespace detail {

/// Backtracking (Armijo) search along d from x on φ(α) = ½‖f(x + αd)‖², for a direction with
/// slope φ'(0) = −‖f(x)‖² (exactly so for the Newton direction): accepts the first α with
///   ‖f(x + αd)‖² ≤ (1 − 2c₁α) ‖f(x)‖²,   c₁ = 10⁻⁴,
/// starting from α = 1. A rejected α is replaced by the minimizer of the quadratic through
/// φ(0), φ'(0), φ(α), clamped to [α/10, α/2]; a non-finite residual (the step left f's domain)
/// halves α. No rounding allowance is needed: at a root φ is 0, so its rounding error vanishes
/// with it. On success x, fx and norm (= ‖fx‖₂) move to the accepted point and the result is
/// `converged`; below `min_step` it gives up with `stalled` (or `non_finite` when no trial point
/// had a finite residual) and leaves them alone.
template <class F, class X>
Status residual_line_search(F& f, X& x, X& fx, double& norm, const X& d, double min_step) {
  constexpr double c1 = 1e-4;
  const double phi0 = norm * norm;
  bool any_finite = false;
  for (double step = 1.0; step >= min_step;) {
    X trial = x + step * d;
    X f_trial = f(std::as_const(trial));
    const double trial_norm = value_norm(f_trial);
    if (!std::isfinite(trial_norm) || !all_finite(trial)) {
      step *= 0.5;
      continue;
    }
    any_finite = true;
    const double phi = trial_norm * trial_norm;
    if (phi <= (1.0 - 2.0 * c1 * step) * phi0) {
      x = std::move(trial);
      fx = std::move(f_trial);
      norm = trial_norm;
      return Status::converged;
    }
    // With g(α) = ‖f(x + αd)‖² and g'(0) = −2g(0), the quadratic through g(0), g'(0), g(α) has
    // its minimizer at g(0)α²/(g(α) − g(0) + 2αg(0)), positive because the test failed.
    const double quadratic = phi0 * step * step / (phi - phi0 + 2.0 * phi0 * step);
    step = std::clamp(quadratic, 0.1 * step, 0.5 * step);
  }
  return any_finite ? Status::stalled : Status::non_finite;
}

/// The Jacobian of f at x in x's scalar type T, with the LU factorization of its values; the
/// status is `non_finite` for a NaN or Inf entry and `singular` when the values' LU has a zero
/// pivot or a reciprocal condition number below n·ε.
template <class T>
struct CheckedJacobian {
  Eigen::MatrixX<T> J;
  Eigen::PartialPivLU<Eigen::MatrixXd> values_lu;
  Status status;
};

template <class F, class X>
CheckedJacobian<typename X::Scalar> checked_jacobian(F& f, const X& x, std::string_view solver) {
  using T = typename X::Scalar;
  CheckedJacobian<T> out{ift::jacobian(f, x), {}, Status::converged};
  const Eigen::MatrixXd values = out.J.unaryExpr([](const T& v) { return to_double(v); });
  if (values.rows() != values.cols())
    throw std::invalid_argument(std::string("ift::") + std::string(solver) +
                                ": f must return as many residuals as x has entries");
  if (!values.allFinite()) {
    out.status = Status::non_finite;
    return out;
  }
  out.values_lu.compute(values);
  const double n = static_cast<double>(values.rows());
  if ((out.values_lu.matrixLU().diagonal().array() == 0.0).any() ||
      !(out.values_lu.rcond() >= n * std::numeric_limits<double>::epsilon()))
    out.status = Status::singular;
  return out;
}

/// The Newton direction d = −J⁻¹f(x) on doubles, J formed and solved as the linear solver wants;
/// keeps the sparsity pattern (and its coloring) found at the first step for the whole solve.
class NewtonStep {
 public:
  explicit NewtonStep(const AnyLinearSolver& ls) : ls_(ls), form_(ls.form()) {}

  template <class F, class X>
  Status direction(F& f, const X& x, const X& fx, X& d, std::string_view solver) {
    if (fx.size() != x.size())
      throw std::invalid_argument(std::string("ift::") + std::string(solver) +
                                  ": f must return as many residuals as x has entries");
    if (form_ == AnyLinearSolver::Form::automatic) decide(f, x);
    try {
      switch (form_) {
        case AnyLinearSolver::Form::matrix_free: {
          const auto apply = [&](const Eigen::VectorXd& v) -> Eigen::VectorXd { return jvp(f, x, v).second; };
          d = -ls_.solve(apply, Eigen::VectorXd(fx));
          return d.allFinite() ? Status::converged : Status::non_finite;
        }
        case AnyLinearSolver::Form::sparse: {
          if (!pattern_) {
            pattern_ = sparsity_pattern(f, x);
            coloring_ = color_columns(*pattern_);
          }
          const Eigen::SparseMatrix<double> J = sparse_jacobian(f, x, *pattern_, coloring_);
          if (!Eigen::Map<const Eigen::VectorXd>(J.valuePtr(), J.nonZeros()).allFinite())
            return Status::non_finite;
          d = -ls_.solve(J, Eigen::VectorXd(fx));
          return Status::converged;
        }
        default: {
          if (form_ == AnyLinearSolver::Form::dense && !ls_.target<DenseLU>()) {
            const Eigen::MatrixXd J = ift::jacobian(f, x);
            if (!J.allFinite()) return Status::non_finite;
            d = -ls_.solve(J, Eigen::VectorXd(fx));
            return Status::converged;
          }
          const auto jac = checked_jacobian(f, x, solver);
          if (jac.status == Status::converged) d = -jac.values_lu.solve(fx);
          return jac.status;
        }
      }
    } catch (const SingularJacobianError&) {
      return Status::singular;
    } catch (const SolverError&) {
      return Status::singular;
    }
  }

 private:
  // Auto: dense below its threshold, else by the pattern at the first step.
  template <class F, class X>
  void decide(F& f, const X& x) {
    form_ = AnyLinearSolver::Form::dense;
    if (x.size() < ls_.dense_below()) return;
    pattern_ = sparsity_pattern(f, x);
    if (!ls_.prefers_sparse(*pattern_)) return;
    coloring_ = color_columns(*pattern_);
    form_ = AnyLinearSolver::Form::sparse;
  }

  const AnyLinearSolver& ls_;
  AnyLinearSolver::Form form_;
  std::optional<SparsityPattern> pattern_;
  ColumnColoring coloring_;
};

}  // namespace detail

/// Damped Newton's method with a backtracking line search on ½‖f(x)‖², for a scalar or an Eigen
/// vector (fixed or dynamic size); the Jacobian comes from forward-mode duals, densely, sparsely
/// (detected pattern) or as products only, as `linear_solver` wants.
///
/// Converged when `‖f(x)‖₂ ≤ tol`; `residual_norm` is that norm at the returned `x`. Stops with
/// `Status::singular` when J is numerically singular, `Status::stalled` when the line search
/// finds no decrease of ‖f‖ (for instance when ‖f‖ cannot get below `tol` in floating point),
/// `Status::non_finite` for NaN or Inf in `x0`, `f(x0)` or J; `x` is then the last iterate.
///
/// `ift::Newton{.linear_solver = ift::SparseLU{}}` for large sparse J, `ift::GMRES{}` for
/// Newton–Krylov, `ift::Auto{}` to choose, or any user type satisfying `ift::LinearSolver`.
struct Newton {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::root;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "Newton";

  AnyLinearSolver linear_solver{};   ///< solves J d = −f(x) (vector x of double; see the file comment)
  double tol = 1e-10;                ///< bound on ‖f(x)‖₂
  int max_iter = 100;                ///< maximum number of Newton steps
  bool throw_on_failure = true;      ///< read by the entry points (`detail::check`)
  IterationCallback on_iteration{};  ///< called after each step with ‖f(x)‖₂

  /// Solves `f(x) = 0` from `x0`.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0) const {
    // Line searches give up on steps below this: about 33 halvings of the full step.
    constexpr double min_step = 1e-10;
    Solution<X> out{x0, Status::converged, 0, std::numeric_limits<double>::quiet_NaN()};
    if (!detail::all_finite(x0)) {
      out.status = Status::non_finite;
      return out;
    }
    X fx = f(std::as_const(out.x));
    out.residual_norm = detail::value_norm(fx);
    if (!std::isfinite(out.residual_norm)) {
      out.status = Status::non_finite;
      return out;
    }
    std::optional<detail::NewtonStep> step;
    if constexpr (!Scalar<X>) step.emplace(linear_solver);
    for (int k = 1; out.residual_norm > tol; ++k) {
      if (k > max_iter) {
        out.status = Status::max_iterations;
        return out;
      }
      X d;
      if constexpr (Scalar<X>) {
        // f'(x) as the tangent of f(x + ε), ε² = 0.
        const Dual<X, 1> fd = f(Dual<X, 1>(out.x, detail::constant_of<X>(1.0)));
        const X derivative = fd.tangent()(0);
        const double slope = detail::to_double(derivative);
        if (!std::isfinite(slope)) out.status = Status::non_finite;
        if (slope == 0.0) out.status = Status::singular;
        if (out.status != Status::converged) return out;
        d = -fx / derivative;
      } else if constexpr (std::is_same_v<typename X::Scalar, double>) {
        out.status = step->direction(f, out.x, fx, d, name);
        if (out.status != Status::converged) return out;
      } else {
        const auto jac = detail::checked_jacobian(f, out.x, name);
        if (jac.status != Status::converged) {
          out.status = jac.status;
          return out;
        }
        d = -jac.J.partialPivLu().solve(fx);
      }
      out.status = detail::residual_line_search(f, out.x, fx, out.residual_norm, d, min_step);
      if (out.status != Status::converged) return out;
      out.iterations = k;
      if (on_iteration) on_iteration(k, out.residual_norm);
    }
    return out;
  }
};

}  // namespace ift
