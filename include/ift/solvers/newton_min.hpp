#pragma once
// Newton's method for minimization: Newton on ∇L(x) = 0 with the exact Hessian, globalized by
// a positive definite modification of the Hessian and Armijo backtracking.
//
//   (∇²L(x) + τI) p = −∇L(x),   x ← x + αp.
//
// τ = 0 whenever ∇²L(x) is positive definite (always near a strict minimizer, so the local
// convergence is quadratic and an unrolled solve differentiates the pure Newton map). Otherwise
// the Newton direction may point uphill or towards a saddle; τ is raised until the Cholesky
// factorization succeeds (Nocedal & Wright, Algorithm 3.3), which makes p a descent direction
// that tends to −∇L/τ as τ grows.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <Eigen/Cholesky>

#include "ift/detail/objective.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/line_search.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

namespace detail {

/// Solves (H + τI) p = −g with the smallest τ of 0, β, 2β, 4β, … (β = 10⁻³·max(1, max|Hᵢᵢ|),
/// starting at β − min Hᵢᵢ when a diagonal entry is not positive) for which the Cholesky
/// factorization succeeds. Returns false when none does within the doubling budget.
template <class Matrix, class Vector>
bool regularized_newton_direction(const Matrix& H, const Vector& g, Vector& p) {
  double min_diagonal = std::numeric_limits<double>::infinity();
  double max_diagonal = 0.0;
  for (Eigen::Index i = 0; i < H.rows(); ++i) {
    const double hii = to_double(H(i, i));
    min_diagonal = std::min(min_diagonal, hii);
    max_diagonal = std::max(max_diagonal, std::abs(hii));
  }
  const double beta = 1e-3 * std::max(1.0, max_diagonal);
  double tau = min_diagonal > 0.0 ? 0.0 : beta - min_diagonal;
  constexpr int max_attempts = 80;
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    Matrix shifted = H;
    for (Eigen::Index i = 0; i < H.rows(); ++i) shifted(i, i) += tau;
    const Eigen::LLT<Matrix> llt(shifted);
    if (llt.info() == Eigen::Success) {
      p = -llt.solve(g);
      if (all_finite(p)) return true;
    }
    tau = std::max(2.0 * tau, beta);
  }
  return false;
}

}  // namespace detail

/// Newton's method for minimization with the exact Hessian (from `ift::hessian`), a regularized
/// Cholesky solve when the Hessian is not positive definite, and Armijo backtracking; stops when
/// ‖∇L(x)‖₂ ≤ `tol`.
struct NewtonMin {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::minimize;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "NewtonMin";

  double tol = 1e-10;                ///< bound on ‖∇L(x)‖₂
  int max_iter = 100;                ///< iterations before giving up
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
    // Named variables, not a structured binding: lambdas below capture them.
    auto initial = objective.value_and_gradient(x);
    auto value = std::move(initial.first);
    auto gradient = std::move(initial.second);
    double gradient_norm = detail::value_norm(gradient);
    if (!std::isfinite(detail::to_double(value)) || !std::isfinite(gradient_norm))
      return detail::make_solution<X>(x, Status::non_finite, 0, gradient_norm);

    // Sets (H + τI)p = −∇L at x; returns why it could not, or nothing when it could.
    const auto newton_direction = [&](Vector& p) -> std::optional<Status> {
      const auto hessian = objective.hessian(x);
      if (!detail::all_finite(hessian.reshaped())) return Status::non_finite;
      if (!detail::regularized_newton_direction(hessian, gradient, p)) return Status::singular;
      return std::nullopt;
    };
    for (int k = 0;; ++k) {
      if (gradient_norm <= tol) {
        const auto polish = [&]() -> std::optional<std::pair<Vector, double>> {
          Vector p = gradient;
          if (newton_direction(p)) return std::nullopt;
          Vector polished = x + p;
          const double norm = detail::value_norm(objective.value_and_gradient(polished).second);
          return std::pair{std::move(polished), norm};
        };
        return detail::converged_solution<X>(x, k, gradient_norm, tol, on_iteration, polish);
      }
      if (k == max_iter) return detail::make_solution<X>(x, Status::max_iterations, k, gradient_norm);
      Vector direction = gradient;
      if (const auto failure = newton_direction(direction))
        return detail::make_solution<X>(x, *failure, k, gradient_norm);

      // With H + τI positive definite, ∇Lᵀp = −pᵀ(H + τI)p < 0 unless rounding has the last word.
      const double slope = detail::value_dot(gradient, direction);
      if (!(slope < 0.0)) return detail::make_solution<X>(x, Status::stalled, k, gradient_norm);
      Vector trial = x;
      const auto phi = [&](double step) {
        trial = x + step * direction;
        return detail::to_double(objective.value(trial));
      };
      const auto search = detail::backtracking_line_search(phi, detail::to_double(value), slope);
      if (search.outcome != detail::LineSearchOutcome::accepted)
        return detail::make_solution<X>(x, detail::line_search_failure(search.outcome), k, gradient_norm);

      auto [next_value, next_gradient] = objective.value_and_gradient(trial);
      if (!detail::all_finite(next_gradient))
        return detail::make_solution<X>(x, Status::non_finite, k, gradient_norm);
      x = std::move(trial);
      value = std::move(next_value);
      gradient = std::move(next_gradient);
      gradient_norm = detail::value_norm(gradient);
      if (on_iteration) on_iteration(k + 1, gradient_norm);
    }
  }
};

}  // namespace ift
