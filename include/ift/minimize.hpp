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
struct GradientConditions {
  L objective;

  template <class Q, class Theta>
  VectorX<Q> operator()(const VectorX<Q>& x, const Theta& theta) const {
    return gradient(
        [&](const auto& xd) {
          using D = typename std::decay_t<decltype(xd)>::Scalar;
          return objective(unflat<X>(VectorX<D>(xd)), rebind<D>(theta));
        },
        x);
  }

  template <class T, class Theta>
  MatrixX<T> jacobian_x(const VectorX<T>& x, const Theta& theta) const {
    return hessian(
        [&](const auto& xd) {
          using D = typename std::decay_t<decltype(xd)>::Scalar;
          return objective(unflat<X>(VectorX<D>(xd)), rebind<D>(theta));
        },
        x);
  }

  template <class Theta>
  std::pair<Eigen::VectorXd, Eigen::VectorXd> vjp(const Eigen::VectorXd& x, const Theta& theta,
                                                  const Eigen::VectorXd& w) const {
    using D = Dual<Var, 1>;
    Tape tape;
    VectorX<D> xd(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) xd(i) = D(Var(x(i)), Var(w(i)));
    const rebind_t<Var, Theta> theta_v = rebind<Var>(theta);
    const D l = objective(unflat<X>(xd), rebind<D>(theta_v));
    const Var directional = l.v(0);
    const double seed = 1.0;
    tape.backward(std::span<const Var>(&directional, 1), std::span<const double>(&seed, 1));
    Eigen::VectorXd x_bar(x.size()), theta_bar(tree_size(theta_v));
    for (Eigen::Index i = 0; i < x.size(); ++i) x_bar(i) = tape.adjoint(xd(i).a);
    Eigen::Index k = 0;
    for_each_leaf(theta_v, [&](const Var& leaf) { theta_bar(k++) = tape.adjoint(leaf); });
    return {x_bar, theta_bar};
  }
};

template <class L, class X>
struct MinimizeProblem {
  static constexpr ProblemKind kind = ProblemKind::minimize;
  L objective;
  template <class Xq, class Pq>
  auto primal(const Xq& x, const Pq& theta) const {
    return objective(x, theta);
  }
  template <class Pd>
  double measure(const X& x, const Pd& theta) const {
    return value_norm(conditions()(flat(x), theta));
  }
  GradientConditions<L, X> conditions() const { return {objective}; }
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
requires ObjectiveFunction<L, X, P>
auto minimize(L&& objective, const X& x0, const P& theta, const Solver& solver = {},
              const Adjoint& adjoint = {}) {
  return detail::solve(detail::MinimizeProblem<std::decay_t<L>, X>{std::forward<L>(objective)}, x0, theta,
                       solver, adjoint);
}

}  // namespace ift
