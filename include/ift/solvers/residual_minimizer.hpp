#pragma once
// The residual minimizer: one loop behind GaussNewton and LevenbergMarquardt, which minimize
// F(x) = ½‖r(x)‖² from the residual r and its Jacobian J rather than from F alone, and differ only
// in the step they take from the linearization r(x + h) ≈ r + Jh.
//
// The loop owns the state, the evaluation of r, J and the gradient g = Jᵀr of F, the finite checks,
// the stopping test (‖g‖₂ ≤ `tol`, or r = 0 where g vanishes whatever J is), the iteration budget,
// the progress callback, the polish step of an unrolled solve (see `carries_derivatives`) and the
// `Solution`. A step policy `S` provides
//   s.model_step(point)         the step h the method's model of F proposes at `point`, or nothing
//                               when its linear system cannot be solved (the polish takes x + h);
//   s.advance(residuals, point)  one iteration: moves `point` to the next iterate, or leaves it
//                               after a rejected trial, and returns why the solve must stop, if it
//                               must. `point` is changed only to a point whose `finite()` holds.

#include <cmath>
#include <utility>

#include "ift/detail/objective.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/solver.hpp"

namespace ift::detail {

/// An iterate of a least-squares solver: x, r(x), J(x) and g = Jᵀr in the solver's scalar, with
/// the values ½‖r‖² and ‖g‖₂ the control flow compares.
template <class Residuals>
struct ResidualPoint {
  using Vector = typename Residuals::Vector;

  Vector x;
  typename Residuals::ResidualVector r;
  typename Residuals::Matrix J;
  Vector gradient;
  double cost = 0.0;
  double gradient_norm = 0.0;

  /// Evaluates r and J at x.
  static ResidualPoint at(const Residuals& residuals, Vector x) {
    auto [r, J] = residuals.value_and_jacobian(x);
    Vector gradient = J.transpose() * r;
    const double cost = half_squared_norm(r);
    const double norm = value_norm(gradient);
    return {std::move(x), std::move(r), std::move(J), std::move(gradient), cost, norm};
  }

  /// Whether ½‖r‖² and every entry of J are finite.
  bool finite() const { return std::isfinite(cost) && all_finite(J.reshaped()); }
};

/// Minimizes ½‖f(x)‖² (`f` returns an Eigen vector of residuals) from `x0` with the step policy
/// `make_step(start)` builds from the first iterate; `options` is the solver struct (`tol`,
/// `max_iter`, `on_iteration`). Never throws for a failed solve: the `Status` says why it stopped
/// and `x` is the last finite iterate.
template <class F, class X, class Options, class MakeStep>
Solution<X> residual_minimize(F& f, const X& x0, const Options& options, MakeStep&& make_step) {
  using Residuals = detail::Residuals<F, X>;
  using Point = ResidualPoint<Residuals>;
  const Residuals residuals(f);

  if (!all_finite(x0)) return non_finite_start(x0);
  Point point = Point::at(residuals, SolverState<X>::to_vector(x0));
  if (!point.finite()) return make_solution<X>(point.x, Status::non_finite, 0, point.gradient_norm);

  auto step = make_step(std::as_const(point));
  for (int k = 0;; ++k) {
    if (point.gradient_norm <= options.tol || point.cost == 0.0)
      return converged_solution<X>(residuals, point, k, options, [&] { return step.model_step(point); });
    if (k == options.max_iter)
      return make_solution<X>(point.x, Status::max_iterations, k, point.gradient_norm);
    if (const auto failure = step.advance(residuals, point))
      return make_solution<X>(point.x, *failure, k, point.gradient_norm);
    if (options.on_iteration) options.on_iteration(k + 1, point.gradient_norm);
  }
}

}  // namespace ift::detail
