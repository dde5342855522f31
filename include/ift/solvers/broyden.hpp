#pragma once
// Broyden's "good" quasi-Newton method for f(x) = 0.
//
// It starts from the exact Jacobian J₀ = ∂f/∂x(x₀) (forward-mode duals) and afterwards keeps an
// approximation H ≈ J⁻¹ that it corrects from the secant pair s = x_{k+1} − x_k,
// y = f(x_{k+1}) − f(x_k) instead of re-evaluating J. Broyden's update of J is the smallest
// (in the Frobenius norm) change that satisfies the secant equation J₊s = y,
//   J₊ = J + (y − Js) sᵀ / (sᵀs),
// and by Sherman–Morrison its inverse is the rank-one correction
//   H₊ = H + (s − Hy) sᵀH / (sᵀHy),
// so each iteration costs one evaluation of f and O(n²) work. The step x + αd with d = −H f
// comes from the backtracking search of `Newton` on ½‖f‖². The method is restarted from a
// fresh Jacobian at the current x when the update would divide by a vanishing sᵀHy or when the
// quasi-Newton direction yields no decrease of ‖f‖ over a short search (H has drifted from J⁻¹);
// only a failure with a fresh Jacobian, whose direction descends, ends the solve as `stalled`.
//
// The arithmetic runs in the scalar type of x, so on AD scalars the derivatives flow through
// the iterations; every decision compares plain values.

#include <cmath>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>

#include <Eigen/Core>
#include <Eigen/LU>

#include "ift/solution.hpp"
#include "ift/solvers/newton_step.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

/// Broyden's good method: exact Jacobian at the start and after restarts, rank-one updates of
/// its inverse in between, a backtracking line search on ½‖f(x)‖²; for a scalar or an Eigen
/// vector (fixed or dynamic size).
///
/// Converged when `‖f(x)‖₂ ≤ tol`; `residual_norm` is that norm at the returned `x`. The
/// failure statuses are those of `Newton`.
struct Broyden {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::root;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "Broyden";

  double tol = 1e-10;                ///< bound on ‖f(x)‖₂
  int max_iter = 100;                ///< maximum number of steps
  bool throw_on_failure = true;      ///< read by the entry points (`detail::check`)
  IterationCallback on_iteration{};  ///< called after each step with ‖f(x)‖₂

  /// Solves `f(x) = 0` from `x0`.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0) const {
    return detail::solve_state(f, x0, [this](auto& g, const auto& v0) { return this->solve_vector(g, v0); });
  }

 private:
  // Searches along a quasi-Newton direction stop at this step and restart from a fresh
  // Jacobian; searches along the exact Newton direction go on to `newton_min_step`.
  static constexpr double quasi_newton_min_step = 1e-2;
  static constexpr double newton_min_step = 1e-10;

  template <class F, class X>
  Solution<X> solve_vector(F& f, const X& x0) const {
    using T = typename X::Scalar;
    Solution<X> out{x0, Status::converged, 0, std::numeric_limits<double>::quiet_NaN()};
    X fx;
    if (!detail::start_at(f, out, fx)) return out;

    Eigen::MatrixX<T> H;  // the approximate inverse Jacobian
    bool have_inverse = false;
    bool fresh = false;  // H is the exact inverse at the current x
    for (int k = 1; out.residual_norm > tol; ++k) {
      if (k > max_iter) {
        out.status = Status::max_iterations;
        return out;
      }
      const X x_old = out.x;
      const X f_old = fx;
      for (;;) {
        if (!have_inverse) {
          const auto lu = detail::factor_jacobian(f, out.x, out.status, name);
          if (!lu) return out;
          H = lu->decomposition.inverse();
          have_inverse = true;
          fresh = true;
        }
        X d = H * fx;
        d = -d;
        const Status search = detail::residual_line_search(f, out.x, fx, out.residual_norm, d,
                                                           fresh ? newton_min_step : quasi_newton_min_step);
        if (search == Status::converged) break;
        if (fresh) {
          out.status = search;
          return out;
        }
        have_inverse = false;
      }

      // Sherman–Morrison form of the good Broyden update; a vanishing sᵀHy (relative to
      // ‖s‖‖Hy‖) would blow the correction up, so the next step starts from a fresh J instead.
      const X s = out.x - x_old;
      const X y = fx - f_old;
      const X Hy = H * y;
      const T sHy = s.dot(Hy);
      const double scale = detail::value_norm(s) * detail::value_norm(Hy);
      if (std::abs(detail::to_double(sHy)) > std::sqrt(std::numeric_limits<double>::epsilon()) * scale) {
        H += ((s - Hy) / sHy) * (s.transpose() * H);
        fresh = false;
      } else {
        have_inverse = false;
      }
      out.iterations = k;
      if (on_iteration) on_iteration(k, out.residual_norm);
    }
    return out;
  }
};

}  // namespace ift
