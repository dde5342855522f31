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
#include <utility>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "ift/solution.hpp"
#include "ift/solvers/line_search.hpp"
#include "ift/solvers/residual_minimizer.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

namespace detail {

/// The Levenberg–Marquardt step policy of the residual minimizer: the damping μ, ν, the scaling D
/// and A = JᵀJ at the current iterate.
template <class Residuals>
class LevenbergMarquardtStep {
 public:
  using Point = ResidualPoint<Residuals>;
  using Vector = typename Residuals::Vector;
  using Matrix = typename Residuals::Matrix;

  LevenbergMarquardtStep(const Point& start, double initial_damping, bool scaled)
      : A_(start.J.transpose() * start.J), D_(Eigen::VectorXd::Ones(start.x.size())), scaled_(scaled) {
    const Eigen::Index n = D_.size();
    if (scaled_) {
      for (Eigen::Index i = 0; i < n; ++i) {
        const double aii = to_double(A_(i, i));
        D_(i) = aii > 0.0 ? aii : 1.0;
      }
    }
    double max_ratio = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) max_ratio = std::max(max_ratio, to_double(A_(i, i)) / D_(i));
    mu_ = initial_damping * (max_ratio > 0.0 ? max_ratio : 1.0);
  }

  /// h = −(A + μD)⁻¹g; nothing when the factorization says A + μD is not positive definite.
  std::optional<Vector> model_step(const Point& point) const {
    Matrix damped = A_;
    for (Eigen::Index i = 0; i < D_.size(); ++i) damped(i, i) += mu_ * D_(i);
    const Eigen::LLT<Matrix> llt(damped);
    Vector h = llt.solve(point.gradient);
    h = -h;
    if (llt.info() != Eigen::Success || !all_finite(h)) return std::nullopt;
    return h;
  }

  /// One trial step, accepted or rejected by the gain ratio.
  std::optional<Status> advance(const Residuals& residuals, Point& point) {
    // A + μD is positive definite in exact arithmetic; a failed factorization means μ is too
    // small for the rounding in A, and is treated as a rejected step.
    const std::optional<Vector> h = model_step(point);
    bool trial_finite = true;
    if (h) {
      Vector trial = point.x + *h;
      const double trial_cost = half_squared_norm(residuals.value(trial));
      trial_finite = std::isfinite(trial_cost);
      double predicted = 0.0;
      for (Eigen::Index i = 0; i < h->size(); ++i) {
        const double hi = to_double((*h)(i));
        predicted += 0.5 * hi * (mu_ * D_(i) * hi - to_double(point.gradient(i)));
      }
      const double actual = point.cost - trial_cost;
      const double allowance = rounding_allowance(point.cost);
      const bool model_resolved = predicted > allowance;
      if (trial_finite && (model_resolved ? actual > 0.0 : actual >= -allowance)) {
        Point next = Point::at(residuals, std::move(trial));
        if (!next.finite()) return Status::non_finite;
        // Below rounding the cost cannot judge the step: it must at least reduce the gradient.
        if (model_resolved || next.gradient_norm < point.gradient_norm) {
          accept(next, model_resolved ? actual / predicted : 1.0);
          point = std::move(next);
          return std::nullopt;
        }
      }
    }
    // The damping has shrunk the step below the resolution of x: nothing is left to try.
    constexpr double epsilon = std::numeric_limits<double>::epsilon();
    if ((h && value_norm(*h) <= epsilon * (value_norm(point.x) + epsilon)) || !std::isfinite(mu_ * nu_))
      return trial_finite ? Status::stalled : Status::non_finite;
    mu_ *= nu_;
    nu_ *= 2.0;
    return std::nullopt;
  }

 private:
  /// Moves the model to the accepted iterate `next` with gain ratio ϱ.
  void accept(const Point& next, double rho) {
    A_ = next.J.transpose() * next.J;
    if (scaled_)
      for (Eigen::Index i = 0; i < D_.size(); ++i) D_(i) = std::max(D_(i), to_double(A_(i, i)));
    mu_ *= std::max(1.0 / 3.0, 1.0 - std::pow(2.0 * rho - 1.0, 3));
    nu_ = 2.0;
  }

  Matrix A_;
  Eigen::VectorXd D_;
  bool scaled_;
  double mu_ = 0.0;
  double nu_ = 2.0;
};

}  // namespace detail

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
    return detail::residual_minimize(f, x0, *this, [this](const auto& start) {
      return detail::LevenbergMarquardtStep(start, initial_damping, scaled);
    });
  }
};

}  // namespace ift
