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

#include <cmath>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <Eigen/QR>

#include "ift/detail/objective.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/line_search.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

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
    using State = detail::SolverState<X>;
    using Vector = typename State::vector;
    using Residuals = detail::Residuals<std::remove_reference_t<F>, X>;
    using Matrix = typename Residuals::Matrix;
    const Residuals residuals(f);

    Vector x = State::to_vector(x0);
    if (!detail::all_finite(x)) return detail::non_finite_start(x0);
    // Named variables, not a structured binding: lambdas below capture them.
    auto initial = residuals.value_and_jacobian(x);
    auto r = std::move(initial.first);
    auto J = std::move(initial.second);
    Vector gradient = J.transpose() * r;
    double gradient_norm = detail::value_norm(gradient);
    double cost = detail::half_squared_norm(r);
    if (!std::isfinite(cost) || !detail::all_finite(J.reshaped()))
      return detail::make_solution<X>(x, Status::non_finite, 0, gradient_norm);

    for (int k = 0;; ++k) {
      if (gradient_norm <= tol || cost == 0.0) {
        const auto polish = [&] {
          const Vector step = Eigen::ColPivHouseholderQR<Matrix>(J).solve(-r);
          Vector polished = x + step;
          const auto [next_r, next_J] = residuals.value_and_jacobian(polished);
          const Vector next_gradient = next_J.transpose() * next_r;
          return std::optional{std::pair{std::move(polished), detail::value_norm(next_gradient)}};
        };
        return detail::converged_solution<X>(x, k, gradient_norm, tol, on_iteration, polish);
      }
      if (k == max_iter) return detail::make_solution<X>(x, Status::max_iterations, k, gradient_norm);

      Vector direction = Eigen::ColPivHouseholderQR<Matrix>(J).solve(-r);
      double slope = detail::value_dot(gradient, direction);
      if (!(slope < 0.0)) {
        // Only rounding can get here (see above); steepest descent is still downhill.
        direction = -gradient;
        slope = -gradient_norm * gradient_norm;
      }
      Vector trial = x;
      const auto phi = [&](double step) {
        trial = x + step * direction;
        return detail::half_squared_norm(residuals.value(trial));
      };
      const auto search = detail::backtracking_line_search(phi, cost, slope);
      if (search.outcome != detail::LineSearchOutcome::accepted)
        return detail::make_solution<X>(x, detail::line_search_failure(search.outcome), k, gradient_norm);

      auto [next_r, next_J] = residuals.value_and_jacobian(trial);
      const double next_cost = detail::half_squared_norm(next_r);
      if (!std::isfinite(next_cost) || !detail::all_finite(next_J.reshaped()))
        return detail::make_solution<X>(x, Status::non_finite, k, gradient_norm);
      x = std::move(trial);
      r = std::move(next_r);
      J = std::move(next_J);
      cost = next_cost;
      gradient = J.transpose() * r;
      gradient_norm = detail::value_norm(gradient);
      if (on_iteration) on_iteration(k + 1, gradient_norm);
    }
  }
};

}  // namespace ift
