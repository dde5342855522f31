#pragma once
// Gradient descent with a fixed step: x ← x − η ∇L(x).
//
// On a quadratic with Hessian eigenvalues in [λ_min, λ_max] the error contracts by
// max |1 − ηλ| per step, so it converges for 0 < η < 2/λ_max, slowly when λ_max/λ_min is large.
// It has no line search on purpose: it is the plain iteration of the seed notebook, and the
// unrolled baseline the implicit derivative is compared with. Its step is not Newton-like, so an
// unrolled solve takes no polish step either.

#include <optional>
#include <string_view>

#include "ift/solution.hpp"
#include "ift/solvers/line_search_minimizer.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

namespace detail {

/// The steepest-descent direction policy: p = −∇L, taken with the fixed step η.
struct SteepestDescentDirection {
  static constexpr LineSearchType line_search = LineSearchType::none;
  static constexpr bool newton_type = false;

  double learning_rate;

  double first_step(double) const { return learning_rate; }

  template <class Objective>
  std::optional<Status> operator()(const Objective&, const MinimizerPoint<Objective>& point,
                                   typename Objective::Vector& p) const {
    p = -point.gradient;
    return std::nullopt;
  }

  /// p is −∇L already: there is nothing to forget.
  bool restart() const { return true; }

  template <class Point>
  void update(const Point&, const Point&) const {}
};

}  // namespace detail

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
    return detail::line_search_minimize(f, x0, detail::SteepestDescentDirection{learning_rate}, *this);
  }
};

}  // namespace ift
