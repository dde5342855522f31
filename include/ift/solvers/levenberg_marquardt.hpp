#pragma once
// Levenberg–Marquardt for nonlinear least squares, min F(x) = ½‖r(x)‖², with Nielsen's damping
// update (Madsen, Nielsen & Tingleff, "Methods for non-linear least squares problems", 2004,
// Algorithm 3.16).
//
// With A = JᵀJ and g = Jᵀr, each iteration solves the damped normal equations
//   (A + μD) h = −g,
// where D = I (Levenberg, `scaled = false`) or D = diag(A) (Marquardt, `scaled = true`; each entry
// the largest diagonal seen so far, as MINPACK does, so the damping cannot collapse in a
// direction the residual stops seeing, and 1 for a parameter the residual does not depend on).
// A + μD is positive definite for μ > 0 even when J is rank deficient. Large μ gives a short
// step along −D⁻¹g, small μ the Gauss–Newton step. The step is judged by the gain ratio
//   ϱ = (F(x) − F(x + h)) / (L(0) − L(h)),   L(0) − L(h) = ½ hᵀ(μDh − g),
// the actual reduction over the one the linear model predicts:
//   ϱ > 0:  accept, μ ← μ · max(1/3, 1 − (2ϱ − 1)³), ν ← 2;
//   else:   reject, μ ← μν, ν ← 2ν.
// Nielsen's smooth update avoids the oscillation of the classic ×10 / ÷10 rule, and doubling ν
// makes repeated rejections raise μ ever faster. μ₀ = τ · maxᵢ Aᵢᵢ/Dᵢ with τ = `initial_damping`.
//
// Rounding: once the predicted reduction is below the rounding error of F, ϱ is noise; such a
// step is accepted (ϱ taken as 1) when F did not grow beyond rounding and the gradient norm went
// down, the one test the values can still decide. The damping values μ, D take no part in
// derivatives: they are plain doubles.

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

/// Levenberg–Marquardt with Nielsen's damping update; stops when ‖Jᵀr‖₂ ≤ `tol` or r = 0.
/// Every trial step, accepted or rejected, counts as one iteration. The default least-squares
/// solver.
struct LevenbergMarquardt {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::least_squares;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "LevenbergMarquardt";

  double initial_damping = 1e-3;     ///< τ in μ₀ = τ · maxᵢ (JᵀJ)ᵢᵢ / Dᵢ
  bool scaled = true;                ///< D = diag(JᵀJ) (Marquardt) instead of D = I (Levenberg)
  double tol = 1e-10;                ///< bound on ‖Jᵀr‖₂, the gradient of ½‖r‖²
  int max_iter = 500;                ///< iterations (trial steps) before giving up
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
    Matrix A = J.transpose() * J;
    Vector gradient = J.transpose() * r;
    double gradient_norm = detail::value_norm(gradient);
    double cost = detail::half_squared_norm(r);
    if (!std::isfinite(cost) || !detail::all_finite(J.reshaped()))
      return detail::make_solution<X>(x, Status::non_finite, 0, gradient_norm);

    const Eigen::Index n = x.size();
    Eigen::VectorXd D = Eigen::VectorXd::Ones(n);
    const auto update_scaling = [&] {
      if (!scaled) return;
      for (Eigen::Index i = 0; i < n; ++i) D(i) = std::max(D(i), detail::to_double(A(i, i)));
    };
    if (scaled) {
      for (Eigen::Index i = 0; i < n; ++i) {
        const double aii = detail::to_double(A(i, i));
        D(i) = aii > 0.0 ? aii : 1.0;
      }
    }
    double mu = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) mu = std::max(mu, detail::to_double(A(i, i)) / D(i));
    mu = initial_damping * (mu > 0.0 ? mu : 1.0);
    double nu = 2.0;
    constexpr double epsilon = std::numeric_limits<double>::epsilon();

    // (A + μD)h = −g; the factorization reports whether A + μD was positive definite.
    const auto damped_step = [&](Vector& h) {
      Matrix damped = A;
      for (Eigen::Index i = 0; i < n; ++i) damped(i, i) += mu * D(i);
      const Eigen::LLT<Matrix> llt(damped);
      h = llt.solve(gradient);
      h = -h;
      return llt.info() == Eigen::Success && detail::all_finite(h);
    };
    for (int k = 0;; ++k) {
      if (gradient_norm <= tol || cost == 0.0) {
        const auto polish = [&]() -> std::optional<std::pair<Vector, double>> {
          Vector h = gradient;
          if (!damped_step(h)) return std::nullopt;
          Vector polished = x + h;
          const auto [next_r, next_J] = residuals.value_and_jacobian(polished);
          const Vector next_gradient = next_J.transpose() * next_r;
          return std::pair{std::move(polished), detail::value_norm(next_gradient)};
        };
        return detail::converged_solution<X>(x, k, gradient_norm, tol, on_iteration, polish);
      }
      if (k == max_iter) return detail::make_solution<X>(x, Status::max_iterations, k, gradient_norm);

      Vector step = gradient;
      // A + μD is positive definite in exact arithmetic; a failed factorization means μ is too
      // small for the rounding in A, and is treated as a rejected step.
      const bool solved = damped_step(step);
      const Vector trial = x + step;
      const double trial_cost = solved ? detail::half_squared_norm(residuals.value(trial))
                                       : std::numeric_limits<double>::quiet_NaN();

      double predicted = 0.0;
      for (Eigen::Index i = 0; i < n; ++i) {
        const double hi = detail::to_double(step(i));
        predicted += 0.5 * hi * (mu * D(i) * hi - detail::to_double(gradient(i)));
      }
      const double actual = cost - trial_cost;
      const double allowance = detail::rounding_allowance(cost);
      const bool model_resolved = predicted > allowance;
      bool accept =
          solved && std::isfinite(trial_cost) && (model_resolved ? actual > 0.0 : actual >= -allowance);
      if (accept) {
        auto [next_r, next_J] = residuals.value_and_jacobian(trial);
        if (!detail::all_finite(next_J.reshaped()))
          return detail::make_solution<X>(x, Status::non_finite, k, gradient_norm);
        Vector next_gradient = next_J.transpose() * next_r;
        const double next_gradient_norm = detail::value_norm(next_gradient);
        // Below rounding the cost cannot judge the step: it must at least reduce the gradient.
        accept = model_resolved || next_gradient_norm < gradient_norm;
        if (accept) {
          x = trial;
          r = std::move(next_r);
          J = std::move(next_J);
          A = J.transpose() * J;
          gradient = std::move(next_gradient);
          gradient_norm = next_gradient_norm;
          cost = trial_cost;
          update_scaling();
          const double rho = model_resolved ? actual / predicted : 1.0;
          mu *= std::max(1.0 / 3.0, 1.0 - std::pow(2.0 * rho - 1.0, 3));
          nu = 2.0;
        }
      }
      if (!accept) {
        // The damping has shrunk the step below the resolution of x: nothing is left to try.
        if ((solved && detail::value_norm(step) <= epsilon * (detail::value_norm(x) + epsilon)) ||
            !std::isfinite(mu * nu))
          return detail::make_solution<X>(
              x, solved && !std::isfinite(trial_cost) ? Status::non_finite : Status::stalled, k,
              gradient_norm);
        mu *= nu;
        nu *= 2.0;
      }
      if (on_iteration) on_iteration(k + 1, gradient_norm);
    }
  }
};

}  // namespace ift
