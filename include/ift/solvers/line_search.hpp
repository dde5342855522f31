#pragma once
// Line searches shared by the minimizers and Gauss–Newton.
//
// Along a descent direction p from x, a search sees the objective only through doubles:
//   φ(α) = L(x + αp),   φ'(α) = ∇L(x + αp)·p,   φ'(0) < 0.
// The caller evaluates in its own scalar type (so that an unrolled solve carries derivatives
// through the accepted iterate) and keeps what it computed at the last trial step; every search
// guarantees that its last evaluation is at the step it returns, so that state is the new iterate.
//
// Rounding: near a minimizer with L(x*) ≠ 0 the decrease a good step achieves, about ½‖∇L‖²/λ,
// falls below the rounding error of L itself (≈ ε|L|) long before ‖∇L‖ reaches a tight `tol`.
// A strict sufficient-decrease test would then reject an excellent step and stall. When the first
// trial step's predicted change α₀|φ'(0)| is itself below `rounding_allowance(φ(0))`, the values
// cannot judge the step, and both searches accept an increase up to that allowance (in the spirit
// of Hager and Zhang's approximate Wolfe conditions; the curvature test on slopes, which are
// accurate, still applies). When the proposed step promises a real decrease the tests are strict
// and also ask for φ(α) < φ(0), so a direction that only looks like descent (a wrong derivative)
// cannot creep uphill, or stand still, by steps too small to change φ.

#include <algorithm>
#include <cmath>
#include <utility>

#include "ift/solution.hpp"

namespace ift::detail {

/// How a line search ended.
enum class LineSearchOutcome {
  accepted,     ///< the returned step satisfies the search's conditions
  no_decrease,  ///< no trial step decreased the objective enough
  non_finite,   ///< every trial step gave a non-finite objective or slope
};

/// The step a line search chose and how it ended.
struct LineSearchResult {
  double step;
  LineSearchOutcome outcome;
};

/// The status a solver reports when its line search found no acceptable step.
inline Status line_search_failure(LineSearchOutcome outcome) {
  return outcome == LineSearchOutcome::non_finite ? Status::non_finite : Status::stalled;
}

/// The increase of φ attributed to rounding and accepted as "no increase".
inline double rounding_allowance(double phi0) { return 1e-12 * std::abs(phi0); }

/// The allowance a search starting with `step` uses: none unless the first step's predicted
/// change α₀|φ'(0)| is within rounding (see the top of this header).
inline double search_allowance(double phi0, double dphi0, double step) {
  const double allowance = rounding_allowance(phi0);
  return step * std::abs(dphi0) <= allowance ? allowance : 0.0;
}

/// Armijo backtracking: the first α of α₀, α₁, … with
///   φ(α) ≤ φ(0) + c₁ α φ'(0)          (c₁ = 10⁻⁴),
/// each new α the minimizer of the quadratic through φ(0), φ'(0), φ(α), kept in [α/10, α/2] so
/// the search neither crawls nor collapses; a non-finite φ(α) halves α (the step left the
/// function's domain). `phi(α)` returns φ(α) as a double. Suits Newton-type directions, whose
/// unit step is right near the solution.
template <class Phi>
LineSearchResult backtracking_line_search(Phi&& phi, double phi0, double dphi0, double step = 1.0) {
  constexpr double c1 = 1e-4;
  constexpr int max_evaluations = 60;
  const double allowance = search_allowance(phi0, dphi0, step);
  bool any_finite = false;
  for (int i = 0; i < max_evaluations; ++i) {
    const double value = phi(step);
    if (!std::isfinite(value)) {
      step *= 0.5;
      continue;
    }
    any_finite = true;
    if (value <= phi0 + c1 * step * dphi0 + allowance && (allowance > 0.0 || value < phi0))
      return {step, LineSearchOutcome::accepted};
    // The test failed, so value − φ(0) − αφ'(0) > 0 and the quadratic has a positive minimizer.
    const double quadratic = -dphi0 * step * step / (2.0 * (value - phi0 - dphi0 * step));
    step = std::clamp(quadratic, 0.1 * step, 0.5 * step);
  }
  return {step, any_finite ? LineSearchOutcome::no_decrease : LineSearchOutcome::non_finite};
}

namespace line_search {

/// A trial point of the strong Wolfe search.
struct Trial {
  double step;
  double value;
  double slope;
  bool finite;
};

/// The minimizer of the cubic interpolating φ and φ' at `a` and `b` (Nocedal & Wright eq. 3.59),
/// kept at least a tenth of the interval away from either end so the bracket shrinks
/// geometrically; the midpoint when the cubic has no minimizer or an end is not finite.
inline double cubic_step(const Trial& a, const Trial& b) {
  const double lo = std::min(a.step, b.step);
  const double hi = std::max(a.step, b.step);
  const double mid = 0.5 * (lo + hi);
  if (!a.finite || !b.finite) return mid;
  const double d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.step - b.step);
  const double discriminant = d1 * d1 - a.slope * b.slope;
  if (!(discriminant >= 0.0)) return mid;
  const double d2 = std::copysign(std::sqrt(discriminant), b.step - a.step);
  const double step = b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
  if (!std::isfinite(step)) return mid;
  const double margin = 0.1 * (hi - lo);
  return std::clamp(step, lo + margin, hi - margin);
}

}  // namespace line_search

/// A step satisfying the strong Wolfe conditions (Nocedal & Wright, Algorithms 3.5 and 3.6):
///   φ(α) ≤ φ(0) + c₁ α φ'(0)   and   |φ'(α)| ≤ c₂ |φ'(0)|     (c₁ = 10⁻⁴, c₂ = 0.9).
/// The curvature condition makes sᵀy = α(φ'(α) − φ'(0)) > 0, which quasi-Newton updates need.
/// Phase one doubles α until [α_lo, α] brackets an acceptable step; phase two shrinks the bracket
/// by safeguarded cubic interpolation, keeping at α_lo the best step with sufficient decrease.
/// A non-finite trial counts as "too long". If the evaluation budget runs out, a step α_lo > 0
/// that satisfies sufficient decrease is still returned as accepted (a quasi-Newton caller then
/// skips its update when sᵀy ≤ 0). `phi(α)` returns the pair (φ(α), φ'(α)).
template <class Phi>
LineSearchResult strong_wolfe_line_search(Phi&& phi, double phi0, double dphi0, double step = 1.0) {
  using line_search::Trial;
  constexpr double c1 = 1e-4;
  constexpr double c2 = 0.9;
  constexpr int max_evaluations = 40;
  const double allowance = search_allowance(phi0, dphi0, step);
  const auto sufficient = [&](const Trial& t) {
    return t.value <= phi0 + c1 * t.step * dphi0 + allowance && (allowance > 0.0 || t.value < phi0);
  };
  const auto curvature = [&](const Trial& t) { return std::abs(t.slope) <= -c2 * dphi0; };

  int evaluations = 0;
  bool any_finite = false;
  double last_evaluated = 0.0;
  const auto evaluate = [&](double a) {
    const auto [value, slope] = phi(a);
    ++evaluations;
    last_evaluated = a;
    const bool finite = std::isfinite(value) && std::isfinite(slope);
    any_finite = any_finite || finite;
    return Trial{a, value, slope, finite};
  };

  Trial lo{0.0, phi0, dphi0, true};
  Trial hi{};
  bool bracketed = false;
  while (!bracketed && evaluations < max_evaluations) {
    const Trial t = evaluate(step);
    if (!t.finite || !sufficient(t) || (lo.step > 0.0 && t.value > lo.value + allowance)) {
      hi = t;
      bracketed = true;
    } else if (curvature(t)) {
      return {t.step, LineSearchOutcome::accepted};
    } else if (t.slope >= 0.0) {
      hi = lo;
      lo = t;
      bracketed = true;
    } else {
      lo = t;
      step *= 2.0;
    }
  }
  while (bracketed && evaluations < max_evaluations) {
    const Trial t = evaluate(line_search::cubic_step(lo, hi));
    if (!t.finite || !sufficient(t) || t.value > lo.value + allowance) {
      hi = t;
    } else {
      if (curvature(t)) return {t.step, LineSearchOutcome::accepted};
      if (t.slope * (hi.step - lo.step) >= 0.0) hi = lo;
      lo = t;
    }
    if (std::abs(hi.step - lo.step) <= 1e-15 * std::max(hi.step, lo.step)) break;
  }
  if (lo.step > 0.0) {
    if (last_evaluated != lo.step) phi(lo.step);
    return {lo.step, LineSearchOutcome::accepted};
  }
  return {0.0, any_finite ? LineSearchOutcome::no_decrease : LineSearchOutcome::non_finite};
}

}  // namespace ift::detail
