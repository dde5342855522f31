#pragma once
// Bisection for a scalar equation f(x) = 0 on a bracket [lo, hi] with a sign change.
//
// Each iteration halves the bracket [a, b] at m = a + (b − a)/2 and keeps the half whose end
// values differ in sign, so the width after k iterations is (hi − lo)/2^k: linear convergence
// with rate 1/2, guaranteed for any continuous f, and independent of how badly f behaves
// inside the bracket. Decisions look at the signs of the values of f only, so the solver also
// runs on AD scalars (then x carries no useful derivative: the midpoints are built from the
// plain-double ends of the bracket).

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string_view>

#include "ift/solution.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

/// Bisection on the bracket `[lo, hi]` for a scalar root: robust, linear convergence.
///
/// `f(lo)` and `f(hi)` must have opposite signs (or one of them be zero), otherwise the
/// status is `Status::invalid_bracket`; `lo >= hi` or a non-finite end throws
/// `std::invalid_argument`. The initial guess passed to `solve` only fixes the scalar type and
/// is otherwise ignored. Converged when the bracket width is at most
/// `tol + 4·ε·|x|` (the second term stops at the resolution of `double`) or when `f(x)` is
/// exactly zero; `residual_norm` is that bracket width (0 for an exact zero). When not
/// converged, `x` is the midpoint of the last bracket.
struct Bisection {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::root;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "Bisection";
  /// Its iterates depend on θ only through the signs of f, so they carry no derivative:
  /// `ift::Unrolled` is refused at compile time (the implicit rule gives the exact one).
  static constexpr bool unrollable = false;

  double lo = 0.0;  ///< lower end of the bracket
  double hi = 0.0;  ///< upper end of the bracket

  double tol = 1e-12;                ///< bound on the final bracket width
  int max_iter = 100;                ///< maximum number of halvings
  bool throw_on_failure = true;      ///< read by the entry points (`detail::check`)
  IterationCallback on_iteration{};  ///< called after each halving with the bracket width

  /// Finds a root of `f` in `[lo, hi]`; `x0` (a scalar) only fixes the scalar type.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& /*x0 (ignored)*/) const {
    static_assert(Scalar<X>, "ift::Bisection solves scalar equations only: x0 must be a scalar");
    constexpr double eps = std::numeric_limits<double>::epsilon();
    Solution<X> out;
    X f_lo, f_hi;
    if (!detail::open_bracket(f, lo, hi, name, out, f_lo, f_hi)) return out;
    const double v_lo = detail::to_double(f_lo);

    // Invariant: f(a) has the sign of f(lo), f(b) the other sign. The bracket also stops
    // shrinking when no double lies strictly between its ends.
    double a = lo;
    double b = hi;
    const bool negative_at_a = v_lo < 0.0;
    const auto narrow = [&] {
      const double m = a + 0.5 * (b - a);
      out.x = X(m);
      out.residual_norm = b - a;
      return b - a <= tol + 4.0 * eps * std::abs(m) || m <= a || m >= b;
    };
    for (int k = 1; !narrow(); ++k) {
      if (k > max_iter) {
        out.status = Status::max_iterations;
        return out;
      }
      const double fm = detail::to_double(f(out.x));
      if (!std::isfinite(fm)) {
        out.status = Status::non_finite;
        return out;
      }
      out.iterations = k;
      if (fm == 0.0) {
        out.residual_norm = 0.0;
        if (on_iteration) on_iteration(k, 0.0);
        return out;
      }
      ((fm < 0.0) == negative_at_a ? a : b) = detail::to_double(out.x);
      if (on_iteration) on_iteration(k, b - a);
    }
    return out;
  }
};

}  // namespace ift
