#pragma once
// ift::least_squares — x*(θ) = argminₓ ½‖r(x, θ)‖². The primal solver works on the residual r
// (Gauss–Newton, Levenberg–Marquardt); the derivative is the minimization rule for
// L = ½‖r‖², whose Hessian JᵀJ + Σᵢ rᵢ∇²rᵢ keeps the second-order term, so the derivative is
// exact also for problems with a nonzero residual at the optimum.

#include <utility>

#include "ift/minimize.hpp"
#include "ift/solvers/gauss_newton.hpp"
#include "ift/solvers/levenberg_marquardt.hpp"

namespace ift {
namespace detail {

/// L(x, θ) = ½‖r(x, θ)‖².
template <class R>
struct HalfSquaredNorm {
  R residual;
  template <class Xq, class Pq>
  auto operator()(const Xq& x, const Pq& theta) const {
    const auto r = flat(residual(x, theta));
    return (0.5 * r.squaredNorm());
  }
};

}  // namespace detail

/// Finds a local minimizer of ½‖r(x, θ)‖² from `x0` and returns it with derivatives w.r.t. θ (see
/// `ift::root` for the conventions). `r` returns an Eigen vector of any length.
template <class R, class X, class P, class Solver = LevenbergMarquardt, class Adjoint = Implicit<>>
requires detail::RejectedInputs<X, P> || std::invocable < const R&, const rebind_t<double, X>
&, const rebind_t<double, P>& > auto least_squares(R&& residual, const X& x0, const P& theta,
                                                   const Solver& solver = {}, const Adjoint& adjoint = {}) {
  using Rd = std::decay_t<R>;
  return detail::solve_entry(
      [&]<class Xp>() {
        return detail::Problem<ProblemKind::least_squares, Rd, Xp,
                               detail::GradientConditions<detail::HalfSquaredNorm<Rd>, Xp>>{
            std::forward<R>(residual)};
      },
      x0, theta, solver, adjoint);
}

}  // namespace ift
