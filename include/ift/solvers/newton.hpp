#pragma once
// Damped Newton's method for f(x) = 0.
//
// Each iteration solves the linearization f(x) + J d = 0 for the Newton direction
//   d = −J⁻¹ f(x),     J = ∂f/∂x by forward-mode duals (`ift::jacobian`; a `Dual<T, 1>` for a scalar x),
// and takes the step x + αd with α from a backtracking line search on the merit function
// φ(x) = ½‖f(x)‖². Since ∇φ = Jᵀf, the slope along d is φ'(0) = fᵀJd = −‖f‖² < 0: the Newton
// direction always descends, so a short enough step always decreases ‖f‖ (this is what makes
// the damped method converge from starting points where the plain one diverges). Near a regular
// root the full step α = 1 is accepted and convergence is quadratic.
//
// How J d = −f is solved is the `linear_solver` field, any `ift::LinearSolver`:
//  * dense (default `DenseLU`): J by chunked forward duals. With DenseLU the factorization of J's
//    values is checked: a zero pivot or a reciprocal condition number below n·ε means the direction
//    would carry no correct digit, and the solver stops with `Status::singular` instead of producing
//    NaN or a wild step;
//  * sparse (`BandedLU`, `SparseLU`, or a user's sparse solver): J's pattern is detected once per
//    solve, at x0, and J is filled by one forward pass per four colors of it (sparsity.hpp) — O(n)
//    per step for a banded J. With a `SparseAnalysis` in the solver's options the pattern is
//    detected once for every solve that shares the analysis, and SparseLU's symbolic analysis is
//    made once too; each step then fills J (one forward pass per four colors, into the matrix the
//    step before filled) and refactorizes numerically;
//  * matrix-free (`GMRES`, `BiCGSTAB`, `CG`): Newton–Krylov, J never formed, each product J v one
//    forward pass on `Dual<double, 1>`;
//  * `Auto`: dense for small n or a dense J, banded for a narrow band, sparse otherwise.
// A solver that reports J singular (or a Krylov method that does not converge) stops Newton with
// `Status::singular`.
//
// On AD scalars (unrolled differentiation) the arithmetic runs in the scalar type of x, so the
// derivatives flow through J, the solve and the step; J is then dense and factorized by LU in that
// scalar type, whatever `linear_solver` says. Every decision compares plain values.

#include <cmath>
#include <limits>
#include <memory>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <Eigen/Core>

#include "ift/detail/conditions.hpp"
#include "ift/dual.hpp"
#include "ift/errors.hpp"
#include "ift/linalg/any_linear_solver.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/newton_step.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {
namespace detail {

/// Newton's f as conditions c(x, θ) = f(x) with no parameters, for the Jacobian operator.
template <class F>
struct Unparameterized {
  const F& f;
  template <class V, class Theta>
  auto operator()(const V& x, const Theta&) const {
    return f(x);
  }
};

}  // namespace detail

/// Damped Newton's method with a backtracking line search on ½‖f(x)‖², for a scalar or an Eigen
/// vector (fixed or dynamic size); the Jacobian comes from forward-mode duals, densely, sparsely
/// (detected pattern) or as products only, as `linear_solver` wants.
///
/// Converged when `‖f(x)‖₂ ≤ tol`; `residual_norm` is that norm at the returned `x`. Stops with
/// `Status::singular` when J is numerically singular, `Status::stalled` when the line search
/// finds no decrease of ‖f‖ (for instance when ‖f‖ cannot get below `tol` in floating point),
/// `Status::non_finite` for NaN or Inf in `x0`, `f(x0)` or J; `x` is then the last iterate.
///
/// `ift::Newton{.linear_solver = ift::BandedLU{}}` for a banded J, `ift::SparseLU{}` for another
/// large sparse J (either with `.analysis = handle` to keep the pattern across solves),
/// `ift::GMRES{}` for Newton–Krylov, `ift::Auto{}` to choose, or any user type satisfying
/// `ift::LinearSolver`.
struct Newton {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::root;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "Newton";

  AnyLinearSolver linear_solver{};   ///< solves J d = −f(x) (vector x of double; see the file comment)
  double tol = 1e-10;                ///< bound on ‖f(x)‖₂
  int max_iter = 100;                ///< maximum number of Newton steps
  bool throw_on_failure = true;      ///< read by the entry points (`detail::check`)
  IterationCallback on_iteration{};  ///< called after each step with ‖f(x)‖₂

  /// Solves `f(x) = 0` from `x0`.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0) const {
    return solve(std::forward<F>(f), x0, std::make_shared<detail::SparsityCache>());
  }

  /// Solves `f(x) = 0` from `x0`, keeping what the sparse path learns of J's structure in `cache`:
  /// the pattern is detected at the first step and serves every step; the entry points hand it on to
  /// the implicit rule, which checks it at the solution before using it.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0, const std::shared_ptr<detail::SparsityCache>& cache) const {
    // Line searches give up on steps below this: about 33 halvings of the full step.
    constexpr double min_step = 1e-10;
    Solution<X> out{x0, Status::converged, 0, std::numeric_limits<double>::quiet_NaN()};
    X fx;
    if (!detail::start_at(f, out, fx)) return out;
    for (int k = 1; out.residual_norm > tol; ++k) {
      if (k > max_iter) {
        out.status = Status::max_iterations;
        return out;
      }
      X d;
      if constexpr (Scalar<X>) {
        // f'(x) as the tangent of f(x + ε), ε² = 0.
        const Dual<X, 1> fd = f(Dual<X, 1>(out.x, detail::constant_of<X>(1.0)));
        const X derivative = fd.tangent()(0);
        const double slope = detail::to_double(derivative);
        if (!std::isfinite(slope)) out.status = Status::non_finite;
        if (slope == 0.0) out.status = Status::singular;
        if (out.status != Status::converged) return out;
        d = -fx / derivative;
      } else if constexpr (std::is_same_v<typename X::Scalar, double>) {
        detail::require_square(fx.size(), out.x.size(), name);
        using Conds = detail::Conditions<detail::Unparameterized<std::remove_reference_t<F>>, X>;
        const detail::ConditionsJacobian<Conds, std::tuple<>> jac(Conds{{f}}, out.x, {}, cache);
        try {
          d = linear_solver.solve(jac, fx);  // taken over, then negated in place: no temporary
          d = -d;
        } catch (const SingularJacobianError& e) {
          out.status = detail::status_of(e);
        } catch (const SolverError&) {
          out.status = Status::singular;
        }
        if (out.status == Status::converged && !detail::all_finite(d)) out.status = Status::non_finite;
        if (out.status != Status::converged) return out;
      } else {
        const auto lu = detail::factor_jacobian(f, out.x, out.status, name);
        if (!lu) return out;
        d = -lu->solve(fx);
      }
      out.status = detail::residual_line_search(f, out.x, fx, out.residual_norm, d, min_step);
      if (out.status != Status::converged) return out;
      out.iterations = k;
      if (on_iteration) on_iteration(k, out.residual_norm);
    }
    return out;
  }
};

}  // namespace ift
