#pragma once
// ift::minimize — x*(θ) = argminₓ L(x, θ); the implicit rule with the stationarity conditions
// c = ∇ₓL:
//     H · dx = −∂²L/∂x∂θ · dθ,   H = ∂²L/∂x²,
// and in reverse λ = H⁻¹x̄ (H is symmetric), θ̄ = −∂²L/∂θ∂x · λ. Both (Hλ and ∂²L/∂θ∂x·λ) are
// gradients of the directional derivative λᵀ∇ₓL = d/dε L(x + ελ, θ), taken by reverse over forward
// (`Dual<Var>`) at the cost of a few evaluations of L, never by forming a mixed Hessian.

#include <utility>

#include "ift/detail/solve.hpp"
#include "ift/solvers/bfgs.hpp"
#include "ift/solvers/gradient_descent.hpp"
#include "ift/solvers/lbfgs.hpp"
#include "ift/solvers/newton_min.hpp"

namespace ift {
namespace detail {

/// The stationarity conditions c(x, θ) = ∇ₓL(x, θ) of an objective L, with the two shortcuts the
/// implicit core uses: ∂c/∂x is the Hessian, and VJPs come from one reverse-over-forward pass.
template <class L, class X>
struct GradientConditions : JacobianShortcut, VjpShortcut, SymmetricJacobian {
  /// c for the objective `L{a}` (an objective, or what `L` is made of).
  template <class A>
  requires(!std::is_same_v<std::remove_cvref_t<A>, GradientConditions>) explicit GradientConditions(A&& a)
      : objective{std::forward<A>(a)} {}
  L objective;

  /// L as a function of a flat x.
  template <class V, class Theta>
  auto on_flat(const V& x, const Theta& theta) const {
    using D = typename V::Scalar;
    return objective(state_of<X>(x), rebind<D>(theta));
  }

  template <class Q, class Theta>
  VectorX<Q> operator()(const VectorX<Q>& x, const Theta& theta) const {
    return gradient([&](const auto& xd) { return on_flat(xd, theta); }, x);
  }

  template <class T, class Theta>
  MatrixX<T> jacobian_x(const VectorX<T>& x, const Theta& theta) const {
    return hessian([&](const auto& xd) { return on_flat(xd, theta); }, x);
  }

  /// ((∂c/∂x)ᵀw, (∂c/∂θ)ᵀw) = (H w, ∂²L/∂θ∂x · w): one reverse-over-forward pass of L.
  template <class Vector, class Theta>
  std::pair<Vector, Vector> vjp(const Vector& x, const Theta& theta, const Vector& w) const {
    return hessian_vector_products([&](const auto& xd, const auto& theta_v) { return on_flat(xd, theta_v); },
                                   x, theta, w);
  }
};

}  // namespace detail

/// An objective L(x, θ): callable with a state and parameters of one scalar type, returning a scalar.
template <class L, class X, class P>
concept ObjectiveFunction = State<X> &&
    requires(const L& l, const rebind_t<double, X>& x, const rebind_t<double, P>& p) {
  { l(x, p) } -> std::convertible_to<double>;
};

/// Finds a local minimizer of L(·, θ) from `x0` and returns it with derivatives w.r.t. θ (see
/// `ift::root` for the conventions). The rule needs the Hessian at the minimizer to be
/// nonsingular (a strict minimizer); otherwise `SingularJacobianError`.
template <class L, class X, class P, class Solver = BFGS, class Adjoint = Implicit<>>
requires detail::RejectedInputs<X, P> || ObjectiveFunction<L, X, P>
auto minimize(L&& objective, const X& x0, const P& theta, const Solver& solver = {},
              const Adjoint& adjoint = {}) {
  using Ld = std::decay_t<L>;
  return detail::solve_entry(
      [&]<class Xp>() {
        return detail::Problem<ProblemKind::minimize, Ld, Xp, detail::GradientConditions<Ld, Xp>>{
            std::forward<L>(objective)};
      },
      x0, theta, solver, adjoint);
}

}  // namespace ift
