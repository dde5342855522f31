#pragma once
// The driver every entry point shares: run the primal solver on doubles (or, for `Unrolled`, on θ's
// AD scalar), apply the failure policy, then hand the solution to the implicit core.

#include <array>
#include <concepts>
#include <cstddef>
#include <limits>
#include <memory>
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

/// A problem of one kind: the user's function `f`, which the primal solver iterates on, and the
/// conditions c(x, θ) = 0 the implicit rule differentiates — f for a root, F − x for a fixed point,
/// ∇ₓL for a minimizer, ∇ₓ½‖r‖² for least squares. Every `Solution` reports ‖c(x, θ)‖₂ as its
/// convergence measure. A problem made of several functions (`ProximalProblem`: an objective and a
/// projection or prox) provides the same `kind`, `measure` and `conditions`, and a `bind(θ)` instead
/// of `primal` (see `bind_parameters`).
template <ProblemKind Kind, class F, class X, class Conds>
struct Problem {
  static constexpr ProblemKind kind = Kind;
  F f;
  template <class Xq, class Pq>
  auto primal(const Xq& x, const Pq& theta) const {
    return f(x, theta);
  }
  template <class Pd>
  double measure(const X& x, const Pd& theta) const {
    return value_norm(conditions()(flat(x), theta));
  }
  Conds conditions() const { return Conds{f}; }
};

/// The entry point that solves a kind of problem, for messages (in `ProblemKind`'s order).
constexpr std::string_view entry_name(ProblemKind kind) {
  constexpr std::array<std::string_view, 6> names{
      "ift::root",          "ift::fixed_point",        "ift::minimize",
      "ift::least_squares", "ift::minimize_projected", "ift::minimize_composite"};
  return names[static_cast<std::size_t>(kind)];
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

/// f(·, θ) of a problem with one function f.
template <class Problem, class Theta>
auto bind_primal(const Problem& problem, const Theta& theta) {
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

/// The problem as a function of x alone, θ bound. Solvers differentiate it (Newton's Jacobian, a
/// minimizer's gradient) by calling it with x of a derivative scalar; θ is then rebound to that
/// scalar so user functions always see x and θ of one scalar type. A problem made of more than one
/// function (an objective and a projection) binds itself: its `bind(θ)` gives what its solvers call.
template <class Problem, class Theta>
auto bind_parameters(const Problem& problem, const Theta& theta) {
  if constexpr (requires { problem.bind(theta); }) {
    return problem.bind(theta);
  } else {
    return bind_primal(problem, theta);
  }
}

/// Runs a built-in solver, or a user's callable `solve(fp, x0)` returning the state or a `Solution`
/// of it (its convergence measure is then evaluated here, so every result reports one).
template <class Problem, class Solver, class Fp, class X, class Theta>
Solution<X> run_solver(const Problem& problem, const Solver& solver, Fp& fp, const X& x0, const Theta& theta,
                       const std::shared_ptr<SparsityCache>& structure = {}) {
  if constexpr (BuiltinSolver<Solver>) {
    static_assert(
        Solver::kind == Problem::kind,
        "ift: this solver is written for another kind of problem (for example a root solver passed to "
        "ift::fixed_point); see the solver's `kind`");
    if constexpr (requires { solver.solve(fp, x0, structure); })
      if (structure) return solver.solve(fp, x0, structure);
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
  } else {
    require_finite_input(x0, entry_name(Problem::kind), "x0");
    require_finite_input(theta, entry_name(Problem::kind), "theta");
    if constexpr (std::is_same_v<Adjoint, Unrolled>) {
      static_assert(
          unrollable_v<Solver>,
          "ift::Unrolled: this solver's iterates carry no derivative (Bisection and Brent move by the "
          "signs of f only, so unrolling them would give dx/dtheta = 0); use the implicit rule, "
          "ift::Implicit<> (the default)");
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
      auto fp = bind_parameters(problem, theta_d);
      // A solver that learns J's sparsity structure (Newton's sparse path) keeps it here for the rule,
      // which checks it at x* before use: one detection per solve instead of two.
      std::shared_ptr<SparsityCache> structure;
      if constexpr (
          requires { requires X::SizeAtCompileTime == Eigen::Dynamic; } &&
          requires { solver.solve(fp, x0, structure); })
        structure = std::make_shared<SparsityCache>();
      const Solution<X> s = run_solver(problem, solver, fp, x0, theta_d, structure);
      check(s, name, throws_on_failure(solver));
      if (!s)
        return Solution<Y>{early_stop_derivatives(problem.conditions(), s, theta, adjoint.linear_solver),
                           s.status, s.iterations, s.residual_norm, false};
      if (structure) structure->detected_elsewhere = structure->pattern.has_value();
      return Solution<Y>{
          implicit_conditions(problem.conditions(), s.x, theta, adjoint.linear_solver, NoFactor{}, structure),
          s.status, s.iterations, s.residual_norm, true};
    }
  }
}

/// The body of every entry point: `make_problem.template operator()<Xp>()` builds the problem for the
/// plain state type Xp, which is solved from x0; inputs that `accepted_inputs` rejects get a
/// placeholder result instead (the compilation has then failed with one message, and the problem's
/// types are never formed).
template <class X, class P, class MakeProblem, class Solver, class Adjoint>
auto solve_entry(const MakeProblem& make_problem, const X& x0, const P& theta, const Solver& solver,
                 const Adjoint& adjoint) {
  if constexpr (!accepted_inputs<X, P>())
    return rejected_result<Solution, X, P>();
  else
    return solve(make_problem.template operator()<plain_t<X>>(), evaluated(x0), evaluated(theta), solver,
                 adjoint);
}

}  // namespace ift::detail
