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

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "ift/solution.hpp"
#include "ift/solvers/line_search_minimizer.hpp"
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

/// The Newton direction policy: (∇²L + τI) p = −∇L with Armijo backtracking from the unit step.
struct NewtonDirection {
  static constexpr LineSearchType line_search = LineSearchType::armijo;
  static constexpr bool newton_type = true;

  double first_step(double) const { return 1.0; }

  /// Fails with `non_finite` for a non-finite Hessian and `singular` when no shift τ factors.
  template <class Objective>
  std::optional<Status> operator()(const Objective& objective, const MinimizerPoint<Objective>& point,
                                   typename Objective::Vector& p) const {
    const auto hessian = objective.hessian(point.x);
    if (!all_finite(hessian.reshaped())) return Status::non_finite;
    if (!regularized_newton_direction(hessian, point.gradient, p)) return Status::singular;
    return std::nullopt;
  }

  /// With H + τI positive definite, ∇Lᵀp = −pᵀ(H + τI)p < 0 unless rounding has the last word;
  /// there is no memory to forget, so the solve stalls.
  bool restart() const { return false; }

  template <class Point>
  void update(const Point&, const Point&) const {}
};

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
    return detail::line_search_minimize(f, x0, detail::NewtonDirection{}, *this);
  }
};

}  // namespace ift
