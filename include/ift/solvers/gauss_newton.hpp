#pragma once
// Gauss–Newton for nonlinear least squares, min ½‖r(x)‖², with Armijo backtracking.
//
// Linearizing r(x + p) ≈ r + Jp gives the step as the linear least-squares problem
//   p = argmin ‖Jp + r‖₂,
// solved by column-pivoted Householder QR of J rather than the normal equations JᵀJ p = −Jᵀr,
// whose condition number is κ(J)². When J is rank deficient the rank-revealing QR returns a basic
// solution: Jp = −Pr with P the projector onto range(J), so ∇(½‖r‖²)ᵀp = rᵀJp = −‖Pr‖² < 0 unless
// Jᵀr = 0. The step is therefore a descent direction whenever the solver has not converged, and
// a singular J needs no special case. Convergence is quadratic for a zero residual and linear,
// at a rate that grows with the residual's size and curvature, otherwise.

#include <optional>
#include <string_view>
#include <utility>

#include <Eigen/QR>

#include "ift/solution.hpp"
#include "ift/solvers/line_search.hpp"
#include "ift/solvers/residual_minimizer.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

namespace detail {

/// The Gauss–Newton step policy of the residual minimizer.
struct GaussNewtonStep {
  /// p = argmin ‖Jp + r‖₂.
  template <class Residuals>
  std::optional<typename Residuals::Vector> model_step(const ResidualPoint<Residuals>& point) const {
    using Matrix = typename Residuals::Matrix;
    return typename Residuals::Vector(Eigen::ColPivHouseholderQR<Matrix>(point.J).solve(-point.r));
  }

  /// Armijo backtracking on ½‖r‖² along the model step.
  template <class Residuals>
  std::optional<Status> advance(const Residuals& residuals, ResidualPoint<Residuals>& point) const {
    using Vector = typename Residuals::Vector;
    Vector direction = *model_step(point);
    double slope = value_dot(point.gradient, direction);
    if (!(slope < 0.0)) {
      // Only rounding can get here (see above); steepest descent is still downhill.
      direction = -point.gradient;
      slope = -point.gradient_norm * point.gradient_norm;
    }
    Vector trial;
    const auto phi = [&](double step) {
      trial = point.x + step * direction;
      return half_squared_norm(residuals.value(trial));
    };
    const auto search = backtracking_line_search(phi, point.cost, slope);
    if (search.outcome != LineSearchOutcome::accepted) return line_search_failure(search.outcome);
    auto next = ResidualPoint<Residuals>::at(residuals, std::move(trial));
    if (!next.finite()) return Status::non_finite;
    point = std::move(next);
    return std::nullopt;
  }
};

}  // namespace detail

/// Gauss–Newton with a QR solve of the linearized problem and Armijo backtracking on ½‖r‖²;
/// stops when ‖Jᵀr‖₂ ≤ `tol` or r = 0.
struct GaussNewton {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::least_squares;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "GaussNewton";

  double tol = 1e-10;                ///< bound on ‖Jᵀr‖₂, the gradient of ½‖r‖²
  int max_iter = 200;                ///< iterations before giving up
  bool throw_on_failure = true;      ///< read by the entry points: throw `SolverError` on failure
  IterationCallback on_iteration{};  ///< called after each iteration with (k, ‖Jᵀr‖₂)

  /// Minimizes ½‖f(x)‖² (`f` returns an Eigen vector of residuals) from `x0`; never throws for a
  /// failed solve, the `Status` says why it stopped and `x` is the last finite iterate.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0) const {
    return detail::residual_minimize(f, x0, *this, [](const auto&) { return detail::GaussNewtonStep{}; });
  }
};

}  // namespace ift
