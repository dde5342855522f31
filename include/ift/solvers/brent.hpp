#pragma once
// Brent–Dekker root finding for a scalar equation f(x) = 0 on a bracket [lo, hi].
//
// The method keeps three points: b, the best estimate (smallest |f|); a, the previous b; and c,
// the end of the current bracket, so that f(b) and f(c) always differ in sign. Each step tries
// an interpolation through the known values:
//   secant (a = c):  x = b − f(b)·(b − a)/(f(b) − f(a));
//   inverse quadratic interpolation: x is the value at y = 0 of the quadratic in y through
//   (f(a), a), (f(b), b), (f(c), c).
// The interpolated step is taken only when it lands less than three quarters of the way from b
// to c and is shorter than half the step before last; otherwise the step bisects [b, c]. So the
// convergence is superlinear on smooth roots while the bracket never grows and at worst halves
// every other step — Brent's guarantee of at most about the square of the bisection count.
// A step is never shorter than the resolution tol1 = 2ε|b| + tol/2, which lets the bracket
// close on the side of b.
//
// All quantities are held in the scalar type of x, so on AD scalars the derivative of f flows
// through the interpolation formulas; every decision compares plain values.

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string_view>

#include "ift/solution.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

/// Brent–Dekker's method on the bracket `[lo, hi]` for a scalar root: inverse quadratic
/// interpolation and secant steps safeguarded by bisection.
///
/// `f(lo)` and `f(hi)` must have opposite signs (or one of them be zero), otherwise the
/// status is `Status::invalid_bracket`; `lo >= hi` or a non-finite end throws
/// `std::invalid_argument`. The initial guess passed to `solve` only fixes the scalar type and
/// is otherwise ignored. Converged when the bracket width is at most `tol + 4·ε·|x|` or
/// `f(x)` is exactly zero; `residual_norm` is that bracket width (0 for an exact zero). When not
/// converged, `x` is the best point so far (the midpoint of `[lo, hi]` when the ends do not
/// bracket a sign change or `f` is not finite there).
struct Brent {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::root;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "Brent";
  /// Its iterates depend on θ only through the signs of f, so they carry no derivative:
  /// `ift::Unrolled` is refused at compile time (the implicit rule gives the exact one).
  static constexpr bool unrollable = false;

  double lo = 0.0;  ///< lower end of the bracket
  double hi = 0.0;  ///< upper end of the bracket

  double tol = 1e-12;                ///< bound on the final bracket width
  int max_iter = 100;                ///< maximum number of evaluations of `f` after the two ends
  bool throw_on_failure = true;      ///< read by the entry points (`detail::check`)
  IterationCallback on_iteration{};  ///< called after each step with the bracket width

  /// Finds a root of `f` in `[lo, hi]`; `x0` (a scalar) only fixes the scalar type.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& /*x0 (ignored)*/) const {
    static_assert(Scalar<X>, "ift::Brent solves scalar equations only: x0 must be a scalar");
    constexpr double eps = std::numeric_limits<double>::epsilon();
    const auto val = [](const X& y) { return detail::to_double(y); };
    Solution<X> out;
    X fa, fb;
    if (!detail::open_bracket(f, lo, hi, name, out, fa, fb)) return out;
    X a = X(lo);
    X b = X(hi);

    // d is the last step, e the one before it.
    X c = a;
    X fc = fa;
    X d = b - a;
    X e = d;
    for (int k = 0;; ++k) {
      if ((val(fb) < 0.0) == (val(fc) < 0.0)) {  // the bracket is [a, b]: restore c on a's side
        c = a;
        fc = fa;
        d = b - a;
        e = d;
      }
      if (std::abs(val(fc)) < std::abs(val(fb))) {  // make b the point with the smaller |f|
        a = b;
        b = c;
        c = a;
        fa = fb;
        fb = fc;
        fc = fa;
      }
      const double tol1 = 2.0 * eps * std::abs(val(b)) + 0.5 * tol;
      const X xm = 0.5 * (c - b);  // half the bracket, signed towards c
      out.x = b;
      out.iterations = k;
      out.residual_norm = val(fb) == 0.0 ? 0.0 : std::abs(val(c) - val(b));
      if (k > 0 && on_iteration) on_iteration(k, out.residual_norm);
      if (std::abs(val(xm)) <= tol1 || val(fb) == 0.0) return out;
      if (k == max_iter) {
        out.status = Status::max_iterations;
        return out;
      }

      if (std::abs(val(e)) >= tol1 && std::abs(val(fa)) > std::abs(val(fb))) {
        // Interpolate; the step is p/q with the sign folded into q so that p ≥ 0.
        const X s = fb / fa;
        X p;
        X q;
        if (val(a) == val(c)) {
          p = 2.0 * xm * s;
          q = 1.0 - s;
        } else {
          const X qa = fa / fc;
          const X r = fb / fc;
          p = s * (2.0 * xm * qa * (qa - r) - (b - a) * (r - 1.0));
          q = (qa - 1.0) * (r - 1.0) * (s - 1.0);
        }
        if (val(p) > 0.0)
          q = -q;
        else
          p = -p;
        const double bound =
            std::min(3.0 * val(xm) * val(q) - std::abs(tol1 * val(q)), std::abs(val(e) * val(q)));
        if (2.0 * val(p) < bound) {
          e = d;
          d = p / q;
        } else {
          d = xm;
          e = d;
        }
      } else {
        d = xm;
        e = d;
      }
      a = b;
      fa = fb;
      b = std::abs(val(d)) > tol1 ? X(b + d) : X(b + std::copysign(tol1, val(xm)));
      fb = f(b);
      if (!std::isfinite(val(fb))) {
        out.status = Status::non_finite;
        return out;
      }
    }
  }
};

}  // namespace ift
