#pragma once
// What the built-in primal solvers share: the kind of problem they solve and the value-level
// helpers their control flow uses. A solver runs on plain `double`, or on an AD scalar when the
// caller asks for `ift::Unrolled`; either way, decisions (convergence, line search, safeguards)
// are taken on values only.

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <Eigen/Core>

#include "ift/detail/traits.hpp"
#include "ift/solution.hpp"

namespace ift {

/// The problem a built-in solver is written for; entry points reject a solver of another kind.
enum class ProblemKind { root, fixed_point, minimize, least_squares, minimize_projected, minimize_composite };

/// A built-in solver: an option struct that names its problem kind and solves `f` from `x0`.
template <class S>
concept BuiltinSolver = requires {
  { S::kind } -> std::convertible_to<ProblemKind>;
  { S::name } -> std::convertible_to<std::string_view>;
};

/// Whether `ift::Unrolled` may run a solver on AD scalars: every solver but those that declare
/// `unrollable = false` (the bracketing methods, whose iterates carry no derivative).
template <class S>
inline constexpr bool unrollable_v = true;
template <class S>
requires requires { S::unrollable; }
inline constexpr bool unrollable_v<S> = S::unrollable;

namespace detail {

/// The step η of the conditions x − prox_{ηg}(x − η∇f(x, θ), θ) = 0 that `minimize_projected` (g the
/// indicator of C, prox_{ηg} the projection) and `minimize_composite` differentiate, and whose norm
/// their solvers bound by `tol`. Any fixed η > 0 has the same solutions and gives the same dx/dθ;
/// η = 1 makes the measure ‖∇f‖ wherever the constraint (or g) is inactive, as for `minimize`.
inline constexpr double conditions_step = 1.0;

/// Euclidean norm of the values of a scalar or an Eigen vector of any scalar type.
template <class V>
double value_norm(const V& v) {
  if constexpr (Scalar<V>) {
    return std::abs(to_double(v));
  } else {
    double sum = 0.0;
    for (Eigen::Index i = 0; i < v.size(); ++i) {
      const double vi = to_double(v(i));
      sum += vi * vi;
    }
    return std::sqrt(sum);
  }
}

/// True when every value in a scalar or an Eigen vector is finite.
template <class V>
bool all_finite(const V& v) {
  if constexpr (Scalar<V>) {
    return std::isfinite(to_double(v));
  } else {
    for (Eigen::Index i = 0; i < v.size(); ++i)
      if (!std::isfinite(to_double(v(i)))) return false;
    return true;
  }
}

/// The ends of a bracket [lo, hi] for a bracketing solver of a scalar f: f(lo) and f(hi), after the
/// checks Bisection and Brent share. Throws `std::invalid_argument` unless lo < hi are finite. Sets
/// `out` — the bracket's midpoint and width to begin with — and returns false when the solve ends
/// here: `non_finite` when f is not finite at an end, converged at an end where f is exactly 0,
/// `invalid_bracket` when f has the same sign at both ends.
template <class X, class F>
bool open_bracket(F& f, double lo, double hi, std::string_view solver, Solution<X>& out, X& f_lo, X& f_hi) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    throw std::invalid_argument("ift::" + std::string(solver) + ": the bracket needs finite lo < hi");
  out = Solution<X>{X(lo + 0.5 * (hi - lo)), Status::converged, 0, hi - lo};
  f_lo = f(X(lo));
  f_hi = f(X(hi));
  const double v_lo = to_double(f_lo), v_hi = to_double(f_hi);
  if (!std::isfinite(v_lo) || !std::isfinite(v_hi)) {
    out.status = Status::non_finite;
  } else if (v_lo == 0.0 || v_hi == 0.0) {
    out.x = X(v_lo == 0.0 ? lo : hi);
    out.residual_norm = 0.0;
  } else if ((v_lo < 0.0) == (v_hi < 0.0)) {
    out.status = Status::invalid_bracket;
  } else {
    return true;
  }
  return false;
}

/// Runs `solve_vector`, a solver written for vector states, on a state that may be a scalar: a
/// scalar problem becomes one of length one, f wrapped to take and return a vector of one entry (for
/// a root solver the update is then the scalar method, e.g. Broyden's becomes the secant method).
template <class X, class F, class SolveVector>
Solution<X> solve_state(F& f, const X& x0, const SolveVector& solve_vector) {
  if constexpr (!Scalar<X>) {
    return solve_vector(f, x0);
  } else {
    const auto fv = [&f](const auto& v) {
      using S = typename std::remove_cvref_t<decltype(v)>::Scalar;
      Eigen::Matrix<S, 1, 1> r;
      r(0) = f(v(0));
      return r;
    };
    Eigen::Matrix<X, 1, 1> v0;
    v0(0) = x0;
    const auto s = solve_vector(fv, v0);
    return {s.x(0), s.status, s.iterations, s.residual_norm};
  }
}

}  // namespace detail
}  // namespace ift
