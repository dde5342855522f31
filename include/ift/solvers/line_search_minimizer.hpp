#pragma once
// The line-search minimizer: one loop behind GradientDescent, NewtonMin, BFGS and LBFGS, which
// differ only in their search direction (the split of Ceres' LineSearchMinimizer and
// LineSearchDirection).
//
// From x with g = ∇L(x), an iteration asks a direction policy for p, makes sure p points downhill,
// and moves along it by a step α the policy's line search picks:
//   x⁺ = x + αp,   gᵀp < 0.
// The loop owns everything else: the state, the finite checks, the stopping test ‖g‖₂ ≤ `tol`, the
// iteration budget, the progress callback, the polish step of an unrolled solve (see
// `carries_derivatives`) and the `Solution`.
//
// A direction policy `D` provides
//   D::line_search                    how α is chosen (`LineSearchType`);
//   D::newton_type                    whether the unit step along p approximates Newton's step, so
//                                     that one more such step from the converged point polishes
//                                     the derivative an unrolled solve carries;
//   d.first_step(‖g‖₂)                the first trial α (the step itself for `LineSearchType::none`);
//   d(objective, point, p)            sets p at `point`; returns why there is none, or nothing;
//   d.restart()                       called when gᵀp ≥ 0: forgets what the policy has learned and
//                                     returns true to go on along −g, or false to stall;
//   d.update(point, next)             learns from an accepted step.
//
// The quasi-Newton policy shared by BFGS and L-BFGS is here too; the two differ only in how they
// store the inverse-Hessian approximation H.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include <Eigen/Core>

#include "ift/detail/objective.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/line_search.hpp"
#include "ift/solvers/solver.hpp"

namespace ift::detail {

/// How a direction policy's step α along p is chosen.
enum class LineSearchType {
  none,          ///< α = `first_step`, taken as it is (fixed-step gradient descent)
  armijo,        ///< Armijo backtracking on L alone: Newton's unit step is right near x*
  strong_wolfe,  ///< the strong Wolfe conditions on L and ∇L: they keep sᵀy > 0 for quasi-Newton
};

/// An iterate of the line-search minimizer: x, L(x) and ∇L(x) in the solver's scalar, and ‖∇L(x)‖₂.
template <class Objective>
struct MinimizerPoint {
  using Vector = typename Objective::Vector;

  Vector x;
  typename Objective::T value;
  Vector gradient;
  double gradient_norm = 0.0;

  /// Evaluates L and ∇L at x.
  static MinimizerPoint at(const Objective& objective, Vector x) {
    auto [value, gradient] = objective.value_and_gradient(x);
    const double norm = value_norm(gradient);
    return {std::move(x), std::move(value), std::move(gradient), norm};
  }

  /// Whether x, L(x) and ‖∇L(x)‖₂ (the measure the loop compares) are finite.
  bool finite() const {
    return all_finite(x) && std::isfinite(to_double(value)) && std::isfinite(gradient_norm);
  }
};

/// Searches along p from `from` with the line search `type`, leaving in `to` the last point
/// evaluated: the new iterate when the search accepted.
template <LineSearchType type, class Objective>
LineSearchOutcome search_along(const Objective& objective, const MinimizerPoint<Objective>& from,
                               const typename Objective::Vector& p, double slope, double first_step,
                               MinimizerPoint<Objective>& to) {
  using Point = MinimizerPoint<Objective>;
  if constexpr (type == LineSearchType::none) {
    to = Point::at(objective, from.x + first_step * p);
    return LineSearchOutcome::accepted;
  } else if constexpr (type == LineSearchType::armijo) {
    // Trial steps need L only; ∇L is evaluated once, at the accepted step.
    typename Objective::Vector trial;
    const auto phi = [&](double step) {
      trial = from.x + step * p;
      return to_double(objective.value(trial));
    };
    const auto search = backtracking_line_search(phi, to_double(from.value), slope, first_step);
    if (search.outcome == LineSearchOutcome::accepted) to = Point::at(objective, std::move(trial));
    return search.outcome;
  } else {
    const auto phi = [&](double step) {
      to = Point::at(objective, from.x + step * p);
      return std::pair{to_double(to.value), value_dot(to.gradient, p)};
    };
    return strong_wolfe_line_search(phi, to_double(from.value), slope, first_step).outcome;
  }
}

/// Minimizes `f` (a scalar function of a scalar or an Eigen vector) from `x0` along the directions
/// of `direction`; `options` is the solver struct (`tol`, `max_iter`, `on_iteration`). Never
/// throws for a failed solve: the `Status` says why it stopped and `x` is the last finite iterate.
template <class F, class X, class Direction, class Options>
Solution<X> line_search_minimize(F& f, const X& x0, Direction direction, const Options& options) {
  using Objective = detail::Objective<F, X>;
  using Point = MinimizerPoint<Objective>;
  using Vector = typename Objective::Vector;
  const Objective objective(f);

  if (!all_finite(x0)) return non_finite_start(x0);
  Point point = Point::at(objective, SolverState<X>::to_vector(x0));
  if (!point.finite()) return make_solution<X>(point.x, Status::non_finite, 0, point.gradient_norm);

  for (int k = 0;; ++k) {
    const auto stop = [&](Status status) {
      return make_solution<X>(point.x, status, k, point.gradient_norm);
    };
    if (point.gradient_norm <= options.tol) {
      const auto newton_step = [&]() -> std::optional<Vector> {
        Vector p;
        if (!Direction::newton_type || direction(objective, point, p)) return std::nullopt;
        return p;
      };
      return converged_solution<X>(objective, point, k, options, newton_step);
    }
    if (k == options.max_iter) return stop(Status::max_iterations);

    Vector p;
    if (const auto failure = direction(objective, point, p)) return stop(*failure);
    double slope = value_dot(point.gradient, p);
    if (!(slope < 0.0)) {
      if (!direction.restart()) return stop(Status::stalled);
      p = -point.gradient;
      slope = -point.gradient_norm * point.gradient_norm;
    }
    Point next;
    const LineSearchOutcome outcome = search_along<Direction::line_search>(
        objective, point, p, slope, direction.first_step(point.gradient_norm), next);
    if (outcome != LineSearchOutcome::accepted) return stop(line_search_failure(outcome));
    if (!next.finite()) return stop(Status::non_finite);

    direction.update(point, next);
    point = std::move(next);
    if (options.on_iteration) options.on_iteration(k + 1, point.gradient_norm);
  }
}

/// Whether a quasi-Newton pair (s, y) has enough curvature to update with: sᵀy > ε‖s‖‖y‖.
template <class Vector>
bool has_curvature(const Vector& s, const Vector& y) {
  return s.dot(y) > std::numeric_limits<double>::epsilon() * s.norm() * y.norm();
}

/// Σⱼ uⱼ qⱼ for u of doubles and q of any scalar type, in q's arithmetic.
template <class U, class Q>
typename Q::Scalar dot_with_values(const U& u, const Q& q) {
  typename Q::Scalar sum = u(0) * q(0);
  for (Eigen::Index j = 1; j < q.size(); ++j) sum += u(j) * q(j);
  return sum;
}

/// The quasi-Newton direction p = −H∇L, with H ≈ (∇²L)⁻¹ an `InverseHessian` (dense for BFGS,
/// limited memory for L-BFGS) that provides `empty()` (no curvature information yet: H = I),
/// `clear()`, `add(s, y)` (a pair with sᵀy > 0) and `apply(g)` (H g in g's arithmetic).
///
/// H is built from the values of s = x⁺ − x and y = ∇L(x⁺) − ∇L(x), in doubles, also when the
/// solver runs on an AD scalar (`ift::Unrolled`). The minimizer does not depend on H: it is a
/// preconditioner, like the step length. Differentiating it would divide tangents of s and y, which
/// do not shrink with the step, by sᵀy, which does; that noise keeps the carried derivative from
/// converging. With H constant the tangent follows e ← (I − αH∇²L) e, which contracts as H
/// approaches (∇²L)⁻¹, and its fixed point ∇²L·dx = −∂²L/∂x∂θ·dθ is the implicit derivative.
template <class InverseHessian>
struct QuasiNewtonDirection {
  static constexpr LineSearchType line_search = LineSearchType::strong_wolfe;
  static constexpr bool newton_type = true;

  InverseHessian inverse_hessian;

  /// Without curvature information p = −∇L, so the first trial step is capped at length 1; after,
  /// the unit step of p = −H∇L has about the right length.
  double first_step(double gradient_norm) const {
    return inverse_hessian.empty() ? std::min(1.0, 1.0 / gradient_norm) : 1.0;
  }

  template <class Objective>
  std::optional<Status> operator()(const Objective&, const MinimizerPoint<Objective>& point,
                                   typename Objective::Vector& p) const {
    p = inverse_hessian.apply(point.gradient);
    p = -p;
    return std::nullopt;
  }

  /// H lost definiteness to rounding: restart from steepest descent.
  bool restart() {
    inverse_hessian.clear();
    return true;
  }

  /// A pair with sᵀy ≤ 0 would make H indefinite; it is skipped (the Wolfe curvature condition
  /// rules it out except for rounding, or a search that only achieved sufficient decrease).
  template <class Point>
  void update(const Point& from, const Point& to) {
    Eigen::VectorXd s = to_double(to.x) - to_double(from.x);
    Eigen::VectorXd y = to_double(to.gradient) - to_double(from.gradient);
    if (has_curvature(s, y)) inverse_hessian.add(std::move(s), std::move(y));
  }
};

}  // namespace ift::detail
