#pragma once
// Projected Newton (Bertsekas, 1982) for min L(x) s.t. x ∈ C with C separable — a box, the
// nonnegative orthant, bounds on some coordinates — given by its projection P.
//
// From x with g = ∇L(x), w = ‖x − P(x − g)‖ (the measure) and ε = min(`epsilon`, w), the ε-active
// coordinates are those that a move of ε against their gradient component pushes out of C:
//   A = {i : gᵢ ≠ 0, P(v)ᵢ ≠ vᵢ},   v = x − ε·sign(g),
// which for a box is {lᵢ ≤ xᵢ ≤ lᵢ + ε, gᵢ > 0} ∪ {uᵢ − ε ≤ xᵢ ≤ uᵢ, gᵢ < 0}. The direction is Newton's
// on the free coordinates F and the negative gradient on A,
//   ∇²L_FF p_F = −g_F  (shifted to positive definite as in `NewtonMin`),   p_A = −g_A,
// and the step follows the projection arc x(α) = P(x + αp), α = 1, ½, …, with Bertsekas' Armijo test
//   L(x(α)) ≤ L(x) + σ (α g_Fᵀp_F + g_Aᵀ(x(α) − x)_A),   σ = 10⁻⁴.
// Once the active set is identified this is Newton's method on the face: quadratic convergence.
// Requires C separable: for a set that couples coordinates (a simplex, a ball, a half-space) the
// coordinate test above means nothing; use `ProjectedGradient`.
//
// Convergence measure, also `Solution::residual_norm`: ‖x − P(x − η∇L(x))‖, η = `conditions_step`.
// On an AD scalar (`ift::Unrolled`) the active set is decided on values; a converged solve takes one
// more unit step along the arc (see `carries_derivatives`).

#include <cmath>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "ift/solution.hpp"
#include "ift/solvers/newton_min.hpp"
#include "ift/solvers/proximal_gradient.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {
namespace detail {

/// The projected Newton direction at `point` (see the top of this header), and the free set F.
/// Returns why there is none, or nothing.
template <class Problem>
std::optional<Status> projected_newton_direction(const Problem& problem, const ProximalPoint<Problem>& point,
                                                 double epsilon, typename Problem::Vector& p,
                                                 std::vector<bool>& free) {
  using T = typename Problem::T;
  using Vector = typename Problem::Vector;
  const Eigen::Index n = point.x.size();
  const double width = std::min(epsilon, point.gradient_norm);
  Vector v = point.x;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double gi = to_double(point.gradient(i));
    if (gi != 0.0) v(i) -= width * (gi > 0.0 ? 1.0 : -1.0);
  }
  const Vector projected = problem.prox(v, 1.0);
  free.assign(static_cast<std::size_t>(n), true);
  std::vector<Eigen::Index> free_index;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double vi = to_double(v(i));
    const bool active = to_double(point.gradient(i)) != 0.0 &&
                        std::abs(to_double(projected(i)) - vi) > 1e-14 * (1.0 + std::abs(vi));
    free[static_cast<std::size_t>(i)] = !active;
    if (!active) free_index.push_back(i);
  }

  p = -point.gradient;
  if (free_index.empty()) return std::nullopt;
  const auto m = static_cast<Eigen::Index>(free_index.size());
  const auto hessian = problem.hessian(point.x);
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> reduced(m, m);
  Eigen::Matrix<T, Eigen::Dynamic, 1> g_free(m), p_free;
  for (Eigen::Index a = 0; a < m; ++a) {
    g_free(a) = point.gradient(free_index[static_cast<std::size_t>(a)]);
    for (Eigen::Index b = 0; b < m; ++b)
      reduced(a, b) =
          hessian(free_index[static_cast<std::size_t>(a)], free_index[static_cast<std::size_t>(b)]);
  }
  if (!all_finite(reduced.reshaped())) return Status::non_finite;
  if (!regularized_newton_direction(reduced, g_free, p_free)) return Status::singular;
  for (Eigen::Index a = 0; a < m; ++a) p(free_index[static_cast<std::size_t>(a)]) = p_free(a);
  return std::nullopt;
}

/// The projected Newton loop (see the top of this header) on `fp` from `x0`; `options` is the
/// solver struct. Never throws for a failed solve.
template <class Fp, class X, class Options>
Solution<X> projected_newton(Fp& fp, const X& x0, const Options& options) {
  using Problem = CompositeObjective<Fp, X>;
  using Point = ProximalPoint<Problem>;
  using Vector = typename Problem::Vector;
  constexpr double sigma = 1e-4;
  if (!(options.epsilon >= 0.0 && std::isfinite(options.epsilon)))
    throw std::invalid_argument("ift::ProjectedNewton: epsilon must be finite and nonnegative");
  const Problem problem(fp);

  if (!all_finite(x0)) return non_finite_start(x0);
  Point point = Point::at(problem, SolverState<X>::to_vector(x0));
  if (!point.finite()) return make_solution<X>(point.x, Status::non_finite, 0, point.gradient_norm);
  std::vector<bool> free;

  for (int k = 0;; ++k) {
    const auto stop = [&](Status status) {
      return make_solution<X>(point.x, status, k, point.gradient_norm);
    };
    if (point.gradient_norm <= options.tol) {
      const auto unit_step = [&]() -> std::optional<Vector> {
        Vector p;
        if (projected_newton_direction(problem, point, options.epsilon, p, free)) return std::nullopt;
        return Vector(problem.prox(point.x + p, 1.0) - point.x);
      };
      return converged_solution<X>(problem, point, k, options, unit_step);
    }
    if (k == options.max_iter) return stop(Status::max_iterations);

    Vector p;
    if (const auto failure = projected_newton_direction(problem, point, options.epsilon, p, free))
      return stop(*failure);
    const Eigen::VectorXd x = to_double(point.x);
    const Eigen::VectorXd g = to_double(point.gradient);
    const Eigen::VectorXd pd = to_double(p);
    double free_slope = 0.0;
    for (Eigen::Index i = 0; i < x.size(); ++i)
      if (free[static_cast<std::size_t>(i)]) free_slope += g(i) * pd(i);
    const double value = to_double(point.value);

    Vector trial;
    bool accepted = false, any_finite = false;
    double alpha = 1.0;
    for (int i = 0; i < max_backtracks && !accepted; ++i) {
      trial = problem.prox(point.x + alpha * p, 1.0);
      const Eigen::VectorXd d = to_double(trial) - x;
      double predicted = alpha * free_slope;
      for (Eigen::Index j = 0; j < x.size(); ++j)
        if (!free[static_cast<std::size_t>(j)]) predicted += g(j) * d(j);
      if (!(predicted < 0.0)) return stop(all_finite(trial) ? Status::stalled : Status::non_finite);
      const double trial_value = to_double(problem.value(trial));
      if (std::isfinite(trial_value)) {
        any_finite = true;
        accepted = trial_value <= value + sigma * predicted + rounding_allowance(value);
      }
      if (!accepted) alpha *= 0.5;
    }
    if (!accepted) return stop(any_finite ? Status::stalled : Status::non_finite);
    Point next = Point::at(problem, std::move(trial));
    if (!next.finite()) return stop(Status::non_finite);
    point = std::move(next);
    if (options.on_iteration) options.on_iteration(k + 1, point.gradient_norm);
  }
}

}  // namespace detail

/// Projected Newton for `ift::minimize_projected` over a separable set (a box and its special
/// cases): Newton on the free coordinates, gradient on the ε-active ones, Armijo along the
/// projection arc (see the top of this header), until ‖x − P(x − ∇L(x))‖₂ ≤ `tol`. Forms the dense
/// Hessian of L, for small and medium n.
struct ProjectedNewton {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::minimize_projected;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "ProjectedNewton";

  double epsilon = 1e-3;             ///< the widest band along a bound whose coordinates count as active
  double tol = 1e-10;                ///< bound on ‖x − P(x − ∇L(x))‖₂
  int max_iter = 200;                ///< iterations before giving up
  bool throw_on_failure = true;      ///< read by the entry points: throw `SolverError` on failure
  IterationCallback on_iteration{};  ///< called after each iteration with (k, the measure)

  /// Minimizes L over C for `fp` (`fp(x)` = L(x), `fp.project(y)` = P(y)) from `x0`; never throws
  /// for a failed solve (only for an `epsilon` that is negative), the `Status` says why it stopped
  /// and `x` is the last finite iterate.
  template <class Fp, class X>
  Solution<X> solve(Fp&& fp, const X& x0) const {
    return detail::projected_newton(fp, x0, *this);
  }
};

}  // namespace ift
