#pragma once
// ift::minimize_projected — x*(θ) = argmin_{x ∈ C(θ)} L(x, θ), C a closed convex set given by its
// Euclidean projection proj(y, θ). The implicit rule differentiates the fixed-point conditions of
// projected gradient,
//     c(x, θ) = x − proj(x − η∇ₓL(x, θ), θ) = 0,   η = 1 (`conditions_step`),
// the proximal-gradient conditions of ift::minimize_composite with g the indicator of C (see
// minimize_composite.hpp for the Jacobians, the choice of η and what a point where proj is not
// differentiable returns). For a box, ∂proj/∂y is the 0/1 diagonal of the free coordinates, so the
// derivative is the unconstrained one on the free coordinates with the active ones held at their
// bounds: dx_A = ∂bound/∂θ · dθ, H_FF dx_F = −(∂²L/∂x_F∂θ dθ + H_FA dx_A).

#include <concepts>
#include <type_traits>
#include <utility>

#include "ift/minimize_composite.hpp"
#include "ift/solvers/projected_gradient.hpp"
#include "ift/solvers/projected_newton.hpp"

namespace ift {

/// The functions of a constrained problem: L(x, θ) returning a scalar, and a projection proj(y, θ)
/// returning a state; both callable with a state and parameters of one scalar type.
template <class L, class Proj, class X, class P>
concept ProjectedFunctions = State<X> &&
    requires(const L& l, const Proj& proj, const rebind_t<double, X>& x, const rebind_t<double, P>& p) {
  { l(x, p) } -> std::convertible_to<double>;
  {proj(x, p)};
};

/// Finds a minimizer of L(x, θ) over C(θ) from `x0`, C given by `proj(y, θ)`, its Euclidean
/// projection, and returns it with derivatives w.r.t. θ by the implicit rule on the projected-gradient
/// conditions (see the top of this header); conventions as `ift::minimize` (`Solution`,
/// `throw_on_failure`, `Implicit<>` or `Unrolled`, θ a tree). Solvers: `ProjectedGradient` (any C),
/// `ProjectedNewton` (separable C: boxes). A user solver `solve(fp, x0)` gets `fp(x)` = L(x, θ) and
/// `fp.project(y)` = proj(y, θ) on doubles.
template <class L, class Proj, class X, class P, class Solver = ProjectedGradient, class Adjoint = Implicit<>>
requires detail::RejectedInputs<X, P> || ProjectedFunctions<L, Proj, X, P>
auto minimize_projected(L&& objective, Proj&& proj, const X& x0, const P& theta, const Solver& solver = {},
                        const Adjoint& adjoint = {}) {
  return detail::solve_entry(
      [&]<class Xp>() {
        return detail::ProximalProblem<ProblemKind::minimize_projected, std::decay_t<L>, std::decay_t<Proj>,
                                       Xp>{std::forward<L>(objective), std::forward<Proj>(proj)};
      },
      x0, theta, solver, adjoint);
}

}  // namespace ift
