#pragma once
// ift::root — x*(θ) with f(x*, θ) = 0; derivatives by the implicit rule with c = f:
//     ∂f/∂x · dx = −∂f/∂θ · dθ.

#include <utility>

#include "ift/detail/solve.hpp"
#include "ift/solvers/bisection.hpp"
#include "ift/solvers/brent.hpp"
#include "ift/solvers/broyden.hpp"
#include "ift/solvers/newton.hpp"

namespace ift {
/// Finds x with f(x, θ) = 0 from `x0` and returns it with derivatives w.r.t. θ.
///
/// `f` is written once, generic over the scalar: it is called with x and θ of one scalar type and
/// returns a residual of x's shape. `x0` is a `double` or an Eigen vector of `double`; `theta` is any
/// parameter tree, of `double`, `Dual` or `Var`. An Eigen expression as `x0` or in `theta`
/// (`Eigen::VectorXd::Zero(n)`, `2.0 * v`) is evaluated once first: `f` sees its plain object. The solver
/// runs on doubles; the derivative costs one factorization of ∂f/∂x (or Krylov solves) whatever the iteration
/// count. With `ift::Unrolled{}` the solver runs on θ's scalar instead. Throws `SolverError` on failure
/// (unless the solver's `throw_on_failure` is false), `SingularJacobianError` when ∂f/∂x is singular at the
/// root.
template <class F, class X, class P, class Solver = Newton, class Adjoint = Implicit<>>
requires detail::RejectedInputs<X, P> || ResidualFunction<F, X, P>
auto root(F&& f, const X& x0, const P& theta, const Solver& solver = {}, const Adjoint& adjoint = {}) {
  using Fd = std::decay_t<F>;
  return detail::solve_entry(
      [&]<class Xp>() {
        return detail::Problem<ProblemKind::root, Fd, Xp, detail::Conditions<Fd, Xp>>{std::forward<F>(f)};
      },
      x0, theta, solver, adjoint);
}

}  // namespace ift
