#pragma once
// BFGS: quasi-Newton minimization with a dense approximation H ≈ (∇²L)⁻¹.
//
//   p = −H ∇L(x),   x⁺ = x + αp  (α from a strong Wolfe line search),
//   s = x⁺ − x,  y = ∇L(x⁺) − ∇L(x),  ρ = 1/(sᵀy),
//   H⁺ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
//      = H + (ρ + ρ² yᵀHy) s sᵀ − ρ (Hy sᵀ + s yᵀH)      (H symmetric; O(n²) per update).
//
// H⁺ is positive definite exactly when sᵀy > 0, which the Wolfe curvature condition guarantees;
// should rounding (or a search that only achieved sufficient decrease) give sᵀy ≤ 0, the update
// is skipped rather than letting H lose definiteness. Before the first update H = I is rescaled to
// (sᵀy / yᵀy) I (Nocedal & Wright eq. 6.20), so the first trial step of the next iteration has
// about the right length. Cost per iteration: one gradient per line-search trial plus O(n²).
//
// H is built from the values of s and y, in doubles, also when the solver runs on an AD scalar
// (`ift::Unrolled`). The minimizer does not depend on H: it is a preconditioner, like the step
// length. Differentiating it would divide tangents of s and y, which do not shrink with the step,
// by sᵀy, which does; that noise keeps the carried derivative from converging. With H constant
// the tangent follows e ← (I − αH∇²L) e, which contracts as H approaches (∇²L)⁻¹, and its fixed
// point ∇²L·dx = −∂²L/∂x∂θ·dθ is the implicit derivative.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ift/detail/objective.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/line_search.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

namespace detail {

/// Whether a quasi-Newton pair (s, y) has enough curvature to update with: sᵀy > ε‖s‖‖y‖.
inline bool has_curvature(const Eigen::VectorXd& s, const Eigen::VectorXd& y) {
  return s.dot(y) > std::numeric_limits<double>::epsilon() * s.norm() * y.norm();
}

/// The values of a vector of any scalar type, as doubles.
template <class V>
Eigen::VectorXd vector_values(const V& v) {
  Eigen::VectorXd out(v.size());
  for (Eigen::Index i = 0; i < v.size(); ++i) out(i) = to_double(v(i));
  return out;
}

/// H g for a matrix of doubles and a vector of any scalar type, in that scalar's arithmetic.
template <class V>
V times_values(const Eigen::MatrixXd& H, const V& g) {
  V out = g;
  for (Eigen::Index i = 0; i < g.size(); ++i) {
    out(i) = H(i, 0) * g(0);
    for (Eigen::Index j = 1; j < g.size(); ++j) out(i) += H(i, j) * g(j);
  }
  return out;
}

/// The first trial step of a quasi-Newton solver before it has curvature information: along −∇L,
/// a step of length at most 1.
inline double first_quasi_newton_step(double gradient_norm) { return std::min(1.0, 1.0 / gradient_norm); }

}  // namespace detail

/// BFGS with a dense inverse-Hessian approximation and a strong Wolfe line search; stops when
/// ‖∇L(x)‖₂ ≤ `tol`. The default minimizer.
struct BFGS {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::minimize;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "BFGS";

  double tol = 1e-9;                 ///< bound on ‖∇L(x)‖₂
  int max_iter = 1000;               ///< iterations before giving up
  bool throw_on_failure = true;      ///< read by the entry points: throw `SolverError` on failure
  IterationCallback on_iteration{};  ///< called after each iteration with (k, ‖∇L‖₂)

  /// Minimizes `f` (a scalar function of a scalar or an Eigen vector) from `x0`; never throws for
  /// a failed solve, the `Status` says why it stopped and `x` is the last finite iterate.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0) const {
    using State = detail::SolverState<X>;
    using Vector = typename State::vector;
    using Objective = detail::Objective<std::remove_reference_t<F>, X>;
    using T = typename Objective::T;
    const Objective objective(f);

    Vector x = State::to_vector(x0);
    if (!detail::all_finite(x)) return detail::non_finite_start(x0);
    // Named variables, not a structured binding: lambdas below capture them.
    auto initial = objective.value_and_gradient(x);
    auto value = std::move(initial.first);
    auto gradient = std::move(initial.second);
    double gradient_norm = detail::value_norm(gradient);
    if (!std::isfinite(detail::to_double(value)) || !std::isfinite(gradient_norm))
      return detail::make_solution<X>(x, Status::non_finite, 0, gradient_norm);

    const Eigen::Index n = x.size();
    Eigen::MatrixXd H = Eigen::MatrixXd::Identity(n, n);
    bool scaled = false;
    for (int k = 0;; ++k) {
      if (gradient_norm <= tol) {
        const auto polish = [&] {
          Vector polished = x - detail::times_values(H, gradient);
          const double norm = detail::value_norm(objective.value_and_gradient(polished).second);
          return std::optional{std::pair{std::move(polished), norm}};
        };
        return detail::converged_solution<X>(x, k, gradient_norm, tol, on_iteration, polish);
      }
      if (k == max_iter) return detail::make_solution<X>(x, Status::max_iterations, k, gradient_norm);

      Vector direction = detail::times_values(H, gradient);
      direction = -direction;
      double slope = detail::value_dot(gradient, direction);
      if (!(slope < 0.0)) {
        // H lost definiteness to rounding: restart from steepest descent.
        H.setIdentity();
        scaled = false;
        direction = -gradient;
        slope = -gradient_norm * gradient_norm;
      }

      Vector trial = x;
      T trial_value = value;
      Vector trial_gradient = gradient;
      const auto phi = [&](double step) {
        trial = x + step * direction;
        auto [v, g] = objective.value_and_gradient(trial);
        trial_value = std::move(v);
        trial_gradient = std::move(g);
        return std::pair{detail::to_double(trial_value), detail::value_dot(trial_gradient, direction)};
      };
      const double first_step = scaled ? 1.0 : detail::first_quasi_newton_step(gradient_norm);
      const auto search = detail::strong_wolfe_line_search(phi, detail::to_double(value), slope, first_step);
      if (search.outcome != detail::LineSearchOutcome::accepted)
        return detail::make_solution<X>(x, detail::line_search_failure(search.outcome), k, gradient_norm);

      const Eigen::VectorXd s = detail::vector_values(trial) - detail::vector_values(x);
      const Eigen::VectorXd y = detail::vector_values(trial_gradient) - detail::vector_values(gradient);
      if (detail::has_curvature(s, y)) {
        const double sy = s.dot(y);
        if (!scaled) {
          H *= sy / y.squaredNorm();
          scaled = true;
        }
        const double rho = 1.0 / sy;
        const Eigen::VectorXd Hy = H * y;
        H += (rho + rho * rho * y.dot(Hy)) * (s * s.transpose()) -
             rho * (Hy * s.transpose() + s * Hy.transpose());
      }
      x = std::move(trial);
      value = std::move(trial_value);
      gradient = std::move(trial_gradient);
      gradient_norm = detail::value_norm(gradient);
      if (on_iteration) on_iteration(k + 1, gradient_norm);
    }
  }
};

}  // namespace ift
