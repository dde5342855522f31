#pragma once
// Projected gradient for min L(x) s.t. x ∈ C, C given by its Euclidean projection P: the spectral
// projected gradient method (Birgin, Martínez & Raydan, 2000).
//
// From x with g = ∇L(x), the search follows the projection arc
//   x(α) = P(x − αg),
// and accepts the first α of α₀, α₀/2, … with the Armijo condition along the arc (Bertsekas, 1976)
//   L(x(α)) ≤ L_ref + σ gᵀ(x(α) − x),   σ = 10⁻⁴,
// where gᵀ(x(α) − x) ≤ −‖x(α) − x‖²/α < 0 by the projection's variational inequality. With `bb` the
// first trial α₀ is the Barzilai–Borwein step sᵀs/sᵀy (s, y the last changes of x and ∇L), the
// inverse of a Rayleigh quotient of ∇²L, and L_ref is the largest L of the last ten iterates (the
// nonmonotone test of Grippo, Lampariello & Lucidi, which BB steps need to keep their speed); without
// it α₀ is the last accepted step and L_ref = L(x). `accelerate` runs FISTA with adaptive restart
// instead (proximal_gradient.hpp, P being the proximal map of C's indicator).
//
// Convergence measure, also `Solution::residual_norm`: ‖x − P(x − η∇L(x))‖ with the conditions'
// η = 1 (`conditions_step`), which is ‖∇L‖ where no constraint is active.
//
// On an AD scalar (`ift::Unrolled`) x carries derivatives; the steps are values (a stop-gradient),
// as in BFGS: the minimizer does not depend on them.

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <utility>

#include <Eigen/Core>

#include "ift/solution.hpp"
#include "ift/solvers/proximal_gradient.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {
namespace detail {

/// The spectral projected gradient loop (see the top of this header) on `fp` from `x0`; `options`
/// is the solver struct. Never throws for a failed solve.
template <class Fp, class X, class Options>
Solution<X> spectral_projected_gradient(Fp& fp, const X& x0, const Options& options, std::string_view name) {
  using Problem = CompositeObjective<Fp, X>;
  using Point = ProximalPoint<Problem>;
  using Vector = typename Problem::Vector;
  constexpr double sigma = 1e-4;
  constexpr double min_step = 1e-12, max_step = 1e12;
  constexpr std::size_t memory = 10;
  require_positive_step(options.step, name);
  const Problem problem(fp);

  if (!all_finite(x0)) return non_finite_start(x0);
  Point point = Point::at(problem, SolverState<X>::to_vector(x0));
  if (!point.finite()) return make_solution<X>(point.x, Status::non_finite, 0, point.gradient_norm);
  std::array<double, memory> recent;
  recent.fill(to_double(point.value));
  double step = options.step;

  for (int k = 0;; ++k) {
    const auto stop = [&](Status status) {
      return make_solution<X>(point.x, status, k, point.gradient_norm);
    };
    if (point.gradient_norm <= options.tol) return stop(Status::converged);
    if (k == options.max_iter) return stop(Status::max_iterations);

    const Eigen::VectorXd x = to_double(point.x);
    const Eigen::VectorXd g = to_double(point.gradient);
    const double reference =
        options.bb ? *std::max_element(recent.begin(), recent.end()) : to_double(point.value);
    Vector trial;
    bool accepted = false, any_finite = false;
    double alpha = step;
    for (int i = 0; i < max_backtracks && !accepted; ++i) {
      trial = problem.prox(point.x - alpha * point.gradient, alpha);
      const double slope = g.dot(to_double(trial) - x);
      // No descent along the arc: x is a fixed point of x ↦ P(x − αg) to rounding, yet the measure
      // says otherwise (a projection that is not one, or rounding at a tight `tol`).
      if (!(slope < 0.0)) return stop(all_finite(trial) ? Status::stalled : Status::non_finite);
      const double value = to_double(problem.value(trial));
      if (std::isfinite(value)) {
        any_finite = true;
        accepted = value <= reference + sigma * slope + rounding_allowance(reference);
      }
      if (!accepted) alpha *= 0.5;
    }
    if (!accepted) return stop(any_finite ? Status::stalled : Status::non_finite);
    Point next = Point::at(problem, std::move(trial));
    if (!next.finite()) return stop(Status::non_finite);

    if (options.bb) {
      const Eigen::VectorXd s = to_double(next.x) - x;
      const double sy = s.dot(to_double(next.gradient) - g);
      step = sy > 0.0 ? std::clamp(s.squaredNorm() / sy, min_step, max_step) : options.step;
    } else {
      step = alpha;
    }
    recent[static_cast<std::size_t>(k + 1) % memory] = to_double(next.value);
    point = std::move(next);
    if (options.on_iteration) options.on_iteration(k + 1, point.gradient_norm);
  }
}

}  // namespace detail

/// Projected gradient for `ift::minimize_projected`, with Barzilai–Borwein steps and Armijo
/// backtracking along the projection arc (see the top of this header), until
/// ‖x − P(x − ∇L(x))‖₂ ≤ `tol`. Works for any closed convex C.
struct ProjectedGradient {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::minimize_projected;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "ProjectedGradient";

  double step = 1.0;                 ///< the first trial step (every trial step with `bb = false`)
  bool bb = true;                    ///< Barzilai–Borwein trial steps with the nonmonotone test
  bool accelerate = false;           ///< FISTA with adaptive restart instead (`bb` unused)
  double tol = 1e-10;                ///< bound on ‖x − P(x − ∇L(x))‖₂
  int max_iter = 100000;             ///< iterations before giving up
  bool throw_on_failure = true;      ///< read by the entry points: throw `SolverError` on failure
  IterationCallback on_iteration{};  ///< called after each iteration with (k, the measure)

  /// Minimizes L over C for `fp` (`fp(x)` = L(x), `fp.project(y)` = P(y)) from `x0`; never throws
  /// for a failed solve (only for a step that is not positive), the `Status` says why it stopped
  /// and `x` is the last finite iterate.
  template <class Fp, class X>
  Solution<X> solve(Fp&& fp, const X& x0) const {
    if (accelerate) return detail::accelerated_proximal_gradient(fp, x0, *this, name);
    return detail::spectral_projected_gradient(fp, x0, *this, name);
  }
};

}  // namespace ift
