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

  /// ((∂c/∂x)ᵀw, (∂c/∂θ)ᵀw) = (H w, ∂²L/∂θ∂x · w): the gradient in (x, θ) of the directional
  /// derivative wᵀ∇ₓL = d/dε L(x + εw, θ), the tangent of L on `Dual<Var, 1>` with x seeded by w.
  template <class Theta>
  std::pair<Eigen::VectorXd, Eigen::VectorXd> vjp(const Eigen::VectorXd& x, const Theta& theta,
                                                  const Eigen::VectorXd& w) const {
    const auto directional = [&](const VectorX<Var>& xv, const auto& theta_v) {
      using D = Dual<Var, 1>;
      VectorX<D> xd(xv.size());
      for (Eigen::Index i = 0; i < xv.size(); ++i) xd(i) = D(xv(i), Var::constant(w(i)));
      return on_flat(xd, theta_v).v(0);
    };
    return ift::vjp(directional, x, theta, Eigen::VectorXd::Ones(1));
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
  if constexpr (!detail::accepted_inputs<X, P>()) {
    return detail::rejected_result<Solution, X, P>();
  } else {
    using Xp = plain_t<X>;
    return detail::solve(
        detail::Problem<ProblemKind::minimize, std::decay_t<L>, Xp,
                        detail::GradientConditions<std::decay_t<L>, Xp>>{std::forward<L>(objective)},
        detail::evaluated(x0), detail::evaluated(theta), solver, adjoint);
  }
}

}  // namespace ift
