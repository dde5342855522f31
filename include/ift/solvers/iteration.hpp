#pragma once
// Plain fixed-point iteration x ← F(x).
//
// When F is a contraction near the fixed point x* (‖∂F/∂x‖ ≤ q < 1) the error shrinks like
// q^k, so the number of iterations grows like log(tol)/log(q): fine for strong contractions,
// slow when q is close to 1 (use `Anderson` then). The residual ‖F(x) − x‖ bounds the error by
// ‖x − x*‖ ≤ ‖F(x) − x‖/(1 − q).

#include <cmath>
#include <limits>
#include <string_view>
#include <utility>

#include "ift/solution.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

/// Plain fixed-point iteration `x ← F(x)` for a scalar or an Eigen vector.
///
/// Converged when `‖F(x) − x‖₂ ≤ tol`; `residual_norm` is that norm at the returned `x`
/// (so `F(x)` itself is one step further). When `F` returns NaN or Inf the status is
/// `Status::non_finite` and `x` is the last iterate whose image was finite.
struct Iteration {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::fixed_point;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "Iteration";

  double tol = 1e-10;                ///< bound on ‖F(x) − x‖₂
  int max_iter = 10000;              ///< maximum number of updates x ← F(x)
  bool throw_on_failure = true;      ///< read by the entry points (`detail::check`)
  IterationCallback on_iteration{};  ///< called after each update with ‖F(x) − x‖₂

  /// Iterates `x ← f(x)` from `x0`.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0) const {
    Solution<X> out{x0, Status::converged, 0, std::numeric_limits<double>::quiet_NaN()};
    if (!detail::all_finite(x0)) {
      out.status = Status::non_finite;
      return out;
    }
    X fx = f(out.x);
    out.residual_norm = detail::value_norm(fx - out.x);
    if (!detail::all_finite(fx)) {
      out.status = Status::non_finite;
      return out;
    }
    for (int k = 1; out.residual_norm > tol; ++k) {
      if (k > max_iter) {
        out.status = Status::max_iterations;
        return out;
      }
      X next = fx;
      fx = f(next);
      if (!detail::all_finite(fx)) {
        out.status = Status::non_finite;
        return out;
      }
      out.x = std::move(next);
      out.iterations = k;
      out.residual_norm = detail::value_norm(fx - out.x);
      if (on_iteration) on_iteration(k, out.residual_norm);
    }
    return out;
  }
};

}  // namespace ift
