#pragma once
// The driver every entry point shares: run the primal solver on doubles (or, for `Unrolled`, on θ's
// AD scalar), apply the failure policy, then hand the solution to the implicit core.

#include <concepts>
#include <limits>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ift/implicit.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/solver.hpp"

namespace ift::detail {

template <class T>
inline constexpr bool is_solution_v = false;
template <class Y>
inline constexpr bool is_solution_v<Solution<Y>> = true;

template <class Solver>
constexpr std::string_view solver_name() {
  if constexpr (BuiltinSolver<Solver>)
    return Solver::name;
  else
    return "user solver";
}

template <class Solver>
bool throws_on_failure(const Solver& solver) {
  if constexpr (requires { bool(solver.throw_on_failure); })
    return solver.throw_on_failure;
  else
    return true;
}

/// True for the kinds whose user function maps the state to a vector of the state's size.
constexpr bool returns_state(ProblemKind kind) {
  return kind == ProblemKind::root || kind == ProblemKind::fixed_point;
}

/// Whether what the user function returns for the state type X can be a state of X's shape, as far
/// as the types tell: both scalars, or Eigen objects whose sizes agree where both are fixed.
template <class Problem, class X, class Pd>
constexpr bool residual_shape_fits() {
  if constexpr (!returns_state(Problem::kind)) {
    return true;
  } else {
    using R = std::decay_t<decltype(std::declval<const Problem&>().primal(std::declval<const X&>(),
                                                                          std::declval<const Pd&>()))>;
    if constexpr (Scalar<X> || Scalar<R>) {
      return Scalar<X> && Scalar<R>;
    } else if constexpr (requires { R::SizeAtCompileTime; }) {
      constexpr int r_size = R::SizeAtCompileTime, x_size = X::SizeAtCompileTime;
      return r_size == Eigen::Dynamic || x_size == Eigen::Dynamic || r_size == x_size;
    } else {
      return false;
    }
  }
}

/// Throws `std::invalid_argument` when f(x, θ) (root) or F(x, θ) (fixed point) returns a vector whose
/// size differs from x's: the run-time counterpart of `residual_shape_fits`, checked at every call
/// (a size comparison) before a solver combines vectors of different lengths.
template <ProblemKind kind, class R, class Xq>
void check_residual_size(const R& r, const Xq& x) {
  if constexpr (returns_state(kind) && !Scalar<Xq> && !Scalar<R>) {
    if (r.size() != x.size()) {
      std::ostringstream out;
      out << (kind == ProblemKind::root ? "ift::root: f(x, theta)" : "ift::fixed_point: F(x, theta)")
          << " returns " << r.size() << " values for x of size " << x.size()
          << "; it must return one value per entry of x (check x0's size)";
      throw std::invalid_argument(out.str());
    }
  }
}

/// The problem as a function of x alone, θ bound. Solvers differentiate it (Newton's Jacobian, a
/// minimizer's gradient) by calling it with x of a derivative scalar; θ is then rebound to that
/// scalar so user functions always see x and θ of one scalar type.
template <class Problem, class Theta>
auto bind_parameters(const Problem& problem, const Theta& theta) {
  return [&problem, &theta](const auto& x) {
    using Q = state_scalar_t<std::decay_t<decltype(x)>>;
    if constexpr (std::is_same_v<Q, tree_scalar_t<Theta>>) {
      auto r = problem.primal(x, theta);
      check_residual_size<Problem::kind>(r, x);
      return r;
    } else {
      auto r = problem.primal(x, rebind<Q>(theta));
      check_residual_size<Problem::kind>(r, x);
      return r;
    }
  };
}

/// Runs a built-in solver, or a user's callable `solve(fp, x0)` returning the state or a `Solution`
/// of it (its convergence measure is then evaluated here, so every result reports one).
template <class Problem, class Solver, class Fp, class X, class Theta>
Solution<X> run_solver(const Problem& problem, const Solver& solver, Fp& fp, const X& x0,
                       const Theta& theta) {
  if constexpr (BuiltinSolver<Solver>) {
    static_assert(
        Solver::kind == Problem::kind,
        "ift: this solver is written for another kind of problem (for example a root solver passed to "
        "ift::fixed_point); see the solver's `kind`");
    return solver.solve(fp, x0);
  } else {
    static_assert(
        std::invocable<const Solver&, Fp&, const X&>,
        "ift: a solver must be a built-in solver struct or a callable solve(fp, x0) returning the state "
        "(same type as x0) or an ift::Solution of it");
    using Result = std::invoke_result_t<const Solver&, Fp&, const X&>;
    if constexpr (is_solution_v<Result>) {
      return solver(fp, x0);
    } else {
      static_assert(std::is_convertible_v<Result, X>,
                    "ift: a user solver must return the state (same type as x0) or an ift::Solution of it");
      Solution<X> s{X(solver(fp, x0)), Status::converged, 0, 0.0};
      s.residual_norm =
          problem.measure(unflat<X>(flat(s.x).unaryExpr([](const auto& v) { return to_double(v); }).eval()),
                          base_values(theta));
      if (!std::isfinite(s.residual_norm) || !all_finite(s.x)) s.status = Status::non_finite;
      return s;
    }
  }
}

/// x with derivatives that are NaN: what a failed solve returns when its last iterate gives no
/// derivative either (see `early_stop_derivatives`). NaN says so rather than a plausible zero.
template <class P>
auto undefined_derivatives_flat(const Eigen::VectorXd& x, const P& theta) {
  using S = tree_scalar_t<P>;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if constexpr (std::is_arithmetic_v<S>) {
    return VectorX<S>(x.template cast<S>());
  } else if constexpr (is_dual_v<S>) {
    using T = value_type_t<S>;
    const VectorX<T> inner = undefined_derivatives_flat(x, value(theta));
    Eigen::Index directions = 0;
    for_each_leaf(theta, [&](const auto& leaf) {
      if constexpr (is_dual_v<decltype(leaf)>) directions = std::max<Eigen::Index>(directions, leaf.v.size());
    });
    VectorX<S> out(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      out(i).a = inner(i);
      out(i).v = VectorX<T>::Constant(directions, T(nan));
    }
    return out;
  } else {
    Tape* tape = Tape::active();
    if (tape == nullptr) throw TapeError("ift: the parameters hold Vars but no ift::Tape is active");
    std::vector<Var> inputs;
    for_each_leaf(theta, [&](const auto& leaf) {
      if constexpr (is_var_v<decltype(leaf)>) inputs.push_back(leaf);
    });
    const std::vector<double> partials(inputs.size(), nan);
    VectorX<Var> out(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) out(i) = tape->record(x(i), inputs, partials);
    return out;
  }
}

/// The derivatives of a solve that stopped early at x_k (status other than `converged`). After
/// `max_iterations` or `stalled` at a finite x_k the implicit rule is applied there: x_k solves
/// c(x, θ) = r_k exactly with r_k = c(x_k, θ) held fixed, and the rule gives that problem's exact
/// derivatives (∂c/∂x · dx = −∂c/∂θ · dθ needs no c = 0). When the iterate is not finite, the solver
/// stopped on a singular system or never iterated (`invalid_bracket`), or ∂c/∂x at x_k is singular
/// or c not finite there, the derivatives are NaN.
template <class Problem, class X, class P, class LS>
auto early_stop_derivatives(const Problem& problem, const Solution<X>& s, const P& theta, const LS& ls) {
  const bool iterated = s.status == Status::max_iterations || s.status == Status::stalled;
  if (iterated && all_finite(s.x) && all_finite(problem.conditions()(flat(s.x), base_values(theta)))) {
    try {
      return implicit_conditions(problem.conditions(), s.x, theta, ls);
    } catch (const SingularJacobianError&) {
      // ∂c/∂x is singular at x_k: no derivative, NaN below.
    }
  }
  return unflat<X>(undefined_derivatives_flat(flat(s.x), theta));
}

/// Solves `problem` from `x0` with parameters `theta` and attaches derivatives as `adjoint` says.
template <class Problem, class X, class P, class Solver, class Adjoint>
auto solve(const Problem& problem, const X& x0, const P& theta, const Solver& solver,
           const Adjoint& adjoint) {
  static_assert(State<X>, "ift: the initial guess must be a scalar or an Eigen column vector");
  constexpr bool shape_fits = residual_shape_fits<Problem, X, rebind_t<double, P>>();
  static_assert(
      shape_fits,
      "ift: the function returns a value whose shape differs from x0's (a vector of another "
      "fixed size, or a vector for a scalar x0): root and fixed_point need one value per entry of x");
  using S = tree_scalar_t<P>;
  using Y = rebind_t<S, X>;
  constexpr std::string_view name = solver_name<Solver>();

  if constexpr (!shape_fits) {
    return Solution<Y>{};  // never run: the assertion above is then the only error reported
  } else if constexpr (std::is_same_v<Adjoint, Unrolled>) {
    // The solver itself runs on θ's scalar, so derivatives flow through every iteration.
    const Y x0_s = rebind<S>(x0);
    auto fp = bind_parameters(problem, theta);
    Solution<Y> s = run_solver(problem, solver, fp, x0_s, theta);
    check(s, name, throws_on_failure(solver));
    s.derivatives_exact = s.status == Status::converged;
    return s;
  } else {
    static_assert(is_implicit_v<Adjoint>,
                  "ift: the adjoint must be ift::Implicit<LinearSolver> or ift::Unrolled");
    const auto theta_d = base_values(theta);
    Solution<X> s;
    if (!all_finite(flatten(theta_d))) {
      s = Solution<X>{x0, Status::non_finite, 0, std::numeric_limits<double>::quiet_NaN()};
    } else {
      auto fp = bind_parameters(problem, theta_d);
      s = run_solver(problem, solver, fp, x0, theta_d);
    }
    check(s, name, throws_on_failure(solver));
    if (!s)
      return Solution<Y>{early_stop_derivatives(problem, s, theta, adjoint.linear_solver), s.status,
                         s.iterations, s.residual_norm, false};
    return Solution<Y>{implicit_conditions(problem.conditions(), s.x, theta, adjoint.linear_solver), s.status,
                       s.iterations, s.residual_norm, true};
  }
}

}  // namespace ift::detail
