#pragma once
// Proximal gradient for min f(x) + g(x), f smooth and g given by its proximal map
// prox_{αg}(y) = argmin_z ½‖z − y‖² + α g(z): FISTA (Beck & Teboulle, 2009) with backtracking on the
// step and the adaptive restart of O'Donoghue & Candès (2015). A projection onto C is the proximal
// map of C's indicator, so the same loop is the accelerated projected gradient method.
//
// One iteration from the extrapolated point y, with f(y) and ∇f(y):
//   x⁺ = prox_{αg}(y − α∇f(y)),
// accepted when the quadratic model of f at y bounds f at x⁺ (true for every α ≤ 1/Lip(∇f)),
//   f(x⁺) ≤ f(y) + ∇f(y)ᵀ(x⁺ − y) + ‖x⁺ − y‖²/(2α),
// else α is halved and kept halved (backtracking FISTA); then
//   t⁺ = (1 + √(1 + 4t²))/2,   y⁺ = x⁺ + (t − 1)/t⁺ · (x⁺ − x),
// unless (y − x⁺)ᵀ(x⁺ − x) > 0: the step went against the gradient mapping at y, momentum is working
// uphill, and the method restarts from t = 1, y⁺ = x⁺. Restarts give back the linear convergence
// plain FISTA loses to oscillation on strongly convex problems.
//
// Convergence measure, also `Solution::residual_norm`: the residual of the conditions the derivative
// is taken of, ‖x − prox_{ηg}(x − η∇f(x))‖ with η = `conditions_step` (1), at x (not y): one more
// gradient per iteration.
//
// On an AD scalar (`ift::Unrolled`) x and y carry derivatives; α, t and the restart test are values
// (a stop-gradient): the minimizer depends on none of them, and with them constant the carried
// derivative follows the linearised iteration, whose fixed point is the implicit derivative.

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <Eigen/Core>

#include "ift/detail/objective.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/line_search.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {
namespace detail {

/// What a proximal-gradient solver sees of its problem `fp`: the smooth part f, `fp(x)`, with its
/// derivatives (`Objective`), and the proximal map of g with step α — `fp.prox(y, α)` for
/// `minimize_composite`, `fp.project(y)` whatever α for `minimize_projected`.
template <class Fp, class X>
class CompositeObjective : public Objective<Fp, X> {
 public:
  using typename Objective<Fp, X>::T;
  using typename Objective<Fp, X>::Vector;

  explicit CompositeObjective(Fp& fp) : Objective<Fp, X>(fp), fp_(fp) {}

  /// prox_{αg}(y). A y that is not finite (a step overflowed) is returned as it is, for the caller's
  /// finite checks: user maps (and ift::project_box, which throws) never see NaN or Inf.
  Vector prox(const Vector& y, double step) const {
    if (!all_finite(y)) return y;
    const auto map = [&](const auto& state) {
      if constexpr (requires { fp_.project(state); })
        return fp_.project(state);
      else
        return fp_.prox(state, step);
    };
    if constexpr (Scalar<X>)
      return Vector::Constant(T(map(y(0))));
    else
      return Vector(map(SolverState<X>::from_vector(y)));
  }

  /// ‖x − prox_{ηg}(x − η∇f(x))‖ for η = `conditions_step`, given ∇f(x).
  double measure(const Vector& x, const Vector& gradient) const {
    constexpr double eta = conditions_step;
    const Vector moved = prox(x - eta * gradient, eta);
    return value_norm(Vector(x - moved));
  }

 private:
  Fp& fp_;
};

/// A point of the smooth part: x, f(x) and ∇f(x) in the solver's scalar.
template <class Problem>
struct SmoothPoint {
  using Vector = typename Problem::Vector;
  Vector x;
  typename Problem::T value;
  Vector gradient;

  static SmoothPoint at(const Problem& problem, Vector x) {
    auto [value, gradient] = problem.value_and_gradient(x);
    return {std::move(x), std::move(value), std::move(gradient)};
  }
  bool finite() const { return all_finite(x) && std::isfinite(to_double(value)) && all_finite(gradient); }
};

/// An iterate: a `SmoothPoint` and its convergence measure (named `gradient_norm`, the norm of the
/// gradient mapping at step 1, for `converged_solution`).
template <class Problem>
struct ProximalPoint : SmoothPoint<Problem> {
  double gradient_norm = 0.0;

  static ProximalPoint at(const Problem& problem, typename Problem::Vector x) {
    ProximalPoint p{SmoothPoint<Problem>::at(problem, std::move(x))};
    p.gradient_norm = problem.measure(p.x, p.gradient);
    return p;
  }
  bool finite() const { return SmoothPoint<Problem>::finite() && std::isfinite(gradient_norm); }
};

/// Throws `std::invalid_argument` unless a solver's initial step is positive and finite.
inline void require_positive_step(double step, std::string_view solver) {
  if (!(step > 0.0 && std::isfinite(step)))
    throw std::invalid_argument("ift::" + std::string(solver) + ": the step must be positive and finite");
}

/// Halvings of the step before a backtracking search gives up.
inline constexpr int max_backtracks = 60;

/// FISTA with backtracking and adaptive restart (see the top of this header) on `fp` from `x0`;
/// `options` is the solver struct (`step`, `tol`, `max_iter`, `on_iteration`). Never throws for a
/// failed solve: the `Status` says why it stopped and `x` is the last finite iterate.
template <class Fp, class X, class Options>
Solution<X> accelerated_proximal_gradient(Fp& fp, const X& x0, const Options& options,
                                          std::string_view name) {
  using Problem = CompositeObjective<Fp, X>;
  using Point = ProximalPoint<Problem>;
  using Smooth = SmoothPoint<Problem>;
  using Vector = typename Problem::Vector;
  require_positive_step(options.step, name);
  const Problem problem(fp);

  if (!all_finite(x0)) return non_finite_start(x0);
  Point point = Point::at(problem, SolverState<X>::to_vector(x0));
  if (!point.finite()) return make_solution<X>(point.x, Status::non_finite, 0, point.gradient_norm);
  Smooth extrapolated = point;
  double t = 1.0;
  double step = options.step;

  for (int k = 0;; ++k) {
    const auto stop = [&](Status status) {
      return make_solution<X>(point.x, status, k, point.gradient_norm);
    };
    if (point.gradient_norm <= options.tol) return stop(Status::converged);
    if (k == options.max_iter) return stop(Status::max_iterations);

    const Eigen::VectorXd y = to_double(extrapolated.x);
    const Eigen::VectorXd gy = to_double(extrapolated.gradient);
    const double fy = to_double(extrapolated.value);
    Vector trial;
    bool accepted = false, any_finite = false;
    for (int i = 0; i < max_backtracks && !accepted; ++i) {
      trial = problem.prox(extrapolated.x - step * extrapolated.gradient, step);
      const double value = to_double(problem.value(trial));
      if (std::isfinite(value) && all_finite(trial)) {
        any_finite = true;
        const Eigen::VectorXd d = to_double(trial) - y;
        accepted = value <= fy + gy.dot(d) + d.squaredNorm() / (2.0 * step) + rounding_allowance(fy);
      }
      if (!accepted) step *= 0.5;
    }
    if (!accepted) return stop(any_finite ? Status::stalled : Status::non_finite);
    Point next = Point::at(problem, std::move(trial));
    if (!next.finite()) return stop(Status::non_finite);

    const Eigen::VectorXd x_new = to_double(next.x);
    const Eigen::VectorXd x_old = to_double(point.x);
    if ((y - x_new).dot(x_new - x_old) > 0.0) {
      t = 1.0;
      extrapolated = next;
    } else {
      const double t_next = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t * t));
      const double momentum = (t - 1.0) / t_next;
      t = t_next;
      if (momentum == 0.0)
        extrapolated = next;
      else
        extrapolated = Smooth::at(problem, Vector(next.x + momentum * (next.x - point.x)));
      if (!extrapolated.finite()) extrapolated = next;
    }
    point = std::move(next);
    if (options.on_iteration) options.on_iteration(k + 1, point.gradient_norm);
  }
}

}  // namespace detail

/// FISTA with backtracking and adaptive restart for `ift::minimize_composite`: min f(x) + g(x) until
/// ‖x − prox_g(x − ∇f(x))‖₂ ≤ `tol` (see the top of this header).
struct ProximalGradient {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::minimize_composite;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "ProximalGradient";

  double step = 1.0;                 ///< the first trial step α; backtracking only shrinks it
  double tol = 1e-10;                ///< bound on ‖x − prox_g(x − ∇f(x))‖₂
  int max_iter = 100000;             ///< iterations before giving up
  bool throw_on_failure = true;      ///< read by the entry points: throw `SolverError` on failure
  IterationCallback on_iteration{};  ///< called after each iteration with (k, the measure)

  /// Minimizes f + g for `fp` (`fp(x)` = f(x), `fp.prox(y, α)` = prox_{αg}(y)) from `x0`; never
  /// throws for a failed solve (only for a step that is not positive), the `Status` says why it
  /// stopped and `x` is the last finite iterate.
  template <class Fp, class X>
  Solution<X> solve(Fp&& fp, const X& x0) const {
    return detail::accelerated_proximal_gradient(fp, x0, *this, name);
  }
};

}  // namespace ift
