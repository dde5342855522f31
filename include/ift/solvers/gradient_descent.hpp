#pragma once
// Gradient descent with a fixed step: x ← x − η ∇L(x).
//
// On a quadratic with Hessian eigenvalues in [λ_min, λ_max] the error contracts by
// max |1 − ηλ| per step, so it converges for 0 < η < 2/λ_max, slowly when λ_max/λ_min is large.
// It has no line search on purpose: it is the plain iteration of the seed notebook, and the
// unrolled baseline the implicit derivative is compared with.

#include <cmath>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ift/detail/objective.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

/// Fixed-step gradient descent `x ← x − learning_rate · ∇L(x)` until ‖∇L(x)‖₂ ≤ `tol`.
struct GradientDescent {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::minimize;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "GradientDescent";

  double learning_rate = 0.1;        ///< the step η
  double tol = 1e-10;                ///< bound on ‖∇L(x)‖₂
  int max_iter = 100000;             ///< iterations before giving up
  bool throw_on_failure = true;      ///< read by the entry points: throw `SolverError` on failure
  IterationCallback on_iteration{};  ///< called after each iteration with (k, ‖∇L‖₂)

  /// Minimizes `f` (a scalar function of a scalar or an Eigen vector) from `x0`; never throws for
  /// a failed solve, the `Status` says why it stopped and `x` is the last finite iterate.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0) const {
    using State = detail::SolverState<X>;
    using Vector = typename State::vector;
    const detail::Objective<std::remove_reference_t<F>, X> objective(f);

    Vector x = State::to_vector(x0);
    if (!detail::all_finite(x)) return detail::non_finite_start(x0);
    auto [value, gradient] = objective.value_and_gradient(x);
    if (!std::isfinite(detail::to_double(value)) || !detail::all_finite(gradient))
      return detail::make_solution<X>(x, Status::non_finite, 0, detail::value_norm(gradient));

    double gradient_norm = detail::value_norm(gradient);
    for (int k = 0;; ++k) {
      if (gradient_norm <= tol) return detail::make_solution<X>(x, Status::converged, k, gradient_norm);
      if (k == max_iter) return detail::make_solution<X>(x, Status::max_iterations, k, gradient_norm);
      Vector next = x - learning_rate * gradient;
      auto [next_value, next_gradient] = objective.value_and_gradient(next);
      if (!detail::all_finite(next) || !std::isfinite(detail::to_double(next_value)) ||
          !detail::all_finite(next_gradient))
        return detail::make_solution<X>(x, Status::non_finite, k, gradient_norm);
      x = std::move(next);
      gradient = std::move(next_gradient);
      gradient_norm = detail::value_norm(gradient);
      if (on_iteration) on_iteration(k + 1, gradient_norm);
    }
  }
};

}  // namespace ift
