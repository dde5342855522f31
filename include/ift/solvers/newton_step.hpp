#pragma once
// What Newton's method and Broyden's share: the damped step along a direction on the merit function
// ½‖f(x)‖², and the LU factorization of the exact Jacobian with its failures as statuses.

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <Eigen/Core>

#include "ift/derivatives.hpp"
#include "ift/errors.hpp"
#include "ift/linalg/dense.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/solver.hpp"

namespace ift::detail {

/// Backtracking (Armijo) search along d from x on φ(α) = ½‖f(x + αd)‖², for a direction with
/// slope φ'(0) = −‖f(x)‖² (exactly so for the Newton direction): accepts the first α with
///   ‖f(x + αd)‖² ≤ (1 − 2c₁α) ‖f(x)‖²,   c₁ = 10⁻⁴,
/// starting from α = 1. A rejected α is replaced by the minimizer of the quadratic through
/// φ(0), φ'(0), φ(α), clamped to [α/10, α/2]; a non-finite residual (the step left f's domain)
/// halves α. No rounding allowance is needed: at a root φ is 0, so its rounding error vanishes
/// with it. On success x, fx and norm (= ‖fx‖₂) move to the accepted point and the result is
/// `converged`; below `min_step` it gives up with `stalled` (or `non_finite` when no trial point
/// had a finite residual) and leaves them alone.
template <class F, class X>
Status residual_line_search(F& f, X& x, X& fx, double& norm, const X& d, double min_step) {
  constexpr double c1 = 1e-4;
  const double phi0 = norm * norm;
  bool any_finite = false;
  for (double step = 1.0; step >= min_step;) {
    X trial = x + step * d;
    X f_trial = f(std::as_const(trial));
    const double trial_norm = value_norm(f_trial);
    if (!std::isfinite(trial_norm) || !all_finite(trial)) {
      step *= 0.5;
      continue;
    }
    any_finite = true;
    const double phi = trial_norm * trial_norm;
    if (phi <= (1.0 - 2.0 * c1 * step) * phi0) {
      x = std::move(trial);
      fx = std::move(f_trial);
      norm = trial_norm;
      return Status::converged;
    }
    // With g(α) = ‖f(x + αd)‖² and g'(0) = −2g(0), the quadratic through g(0), g'(0), g(α) has
    // its minimizer at g(0)α²/(g(α) − g(0) + 2αg(0)), positive because the test failed.
    const double quadratic = phi0 * step * step / (phi - phi0 + 2.0 * phi0 * step);
    step = std::clamp(quadratic, 0.1 * step, 0.5 * step);
  }
  return any_finite ? Status::stalled : Status::non_finite;
}

/// Starts a solve of f(x) = 0 at `out.x`: `fx` = f(x) and `out.residual_norm` = ‖fx‖₂. False, with
/// `out.status` = `non_finite`, when x0 or f(x0) is not finite.
template <class F, class X>
bool start_at(F& f, Solution<X>& out, X& fx) {
  if (!all_finite(out.x)) {
    out.status = Status::non_finite;
    return false;
  }
  fx = f(std::as_const(out.x));
  out.residual_norm = value_norm(fx);
  if (!std::isfinite(out.residual_norm)) {
    out.status = Status::non_finite;
    return false;
  }
  return true;
}

/// Throws `std::invalid_argument` unless f returns as many residuals as x has entries.
inline void require_square(Eigen::Index residuals, Eigen::Index unknowns, std::string_view solver) {
  if (residuals != unknowns)
    throw std::invalid_argument("ift::" + std::string(solver) +
                                ": f must return as many residuals as x has entries");
}

/// The status a failed factorization of J means for a root solver: `non_finite` for NaN or Inf
/// in J (the factorization reports no condition number), else `singular`.
inline Status status_of(const SingularJacobianError& e) {
  return std::isnan(e.condition_estimate()) ? Status::non_finite : Status::singular;
}

/// J = ∂f/∂x at x in x's scalar type, LU-factorized by `DenseLU` (conditioning judged on the
/// values, with the one threshold of every linear solver); empty, with `status` set, when J is not
/// finite or numerically singular. Throws `std::invalid_argument` when f's output and x differ in
/// size.
template <class F, class X>
auto factor_jacobian(F& f, const X& x, Status& status, std::string_view solver) {
  using T = typename X::Scalar;
  std::optional<decltype(DenseLU{}.factor(std::declval<const Eigen::MatrixX<T>&>()))> out;
  const Eigen::MatrixX<T> J = ift::jacobian(f, x);
  require_square(J.rows(), J.cols(), solver);
  try {
    out.emplace(DenseLU{}.factor(J));
  } catch (const SingularJacobianError& e) {
    status = status_of(e);
  }
  return out;
}

}  // namespace ift::detail
