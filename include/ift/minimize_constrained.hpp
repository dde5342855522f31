#pragma once
// ift::minimize_constrained — x*(θ) = argmin L(x, θ) s.t. eq(x, θ) = 0, ineq(x, θ) ≤ 0, with its
// multipliers. The primal-dual answer z* = (x, ν, μ) comes from the augmented Lagrangian method on
// doubles; derivatives from the implicit rule on the KKT conditions of kkt.hpp at z*, where the active
// set is read off the solution (μᵢ > 0 active, μᵢ = 0 inactive). A degenerate active set (an active
// constraint with μᵢ ≈ 0) is refused with `SingularJacobianError`, never differentiated.

#include <limits>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "ift/implicit.hpp"
#include "ift/kkt.hpp"
#include "ift/solvers/augmented_lagrangian.hpp"

namespace ift {
namespace detail {

/// f(x, θ) as a vector (empty for `NoConstraints`).
template <class F, class V, class Theta>
auto constraint_values(const F& f, const V& x, const Theta& theta) {
  using T = typename V::Scalar;
  if constexpr (std::is_same_v<F, NoConstraints>)
    return VectorX<T>(0);
  else
    return VectorX<T>(f(x, theta));
}

/// The primal-dual solve on doubles: one instantiation per problem, whatever θ's AD scalar.
template <class L, class Eq, class Ineq, class Theta, class Solver>
ConstrainedIterate<Eigen::VectorXd> solve_constrained(const L& objective, const Eq& eq, const Ineq& ineq,
                                                      const Eigen::VectorXd& x0, const Theta& theta,
                                                      const Solver& solver) {
  const auto augmented = [&](const auto& x, const Eigen::VectorXd& nu, const Eigen::VectorXd& mu,
                             double rho) {
    using T = typename std::decay_t<decltype(x)>::Scalar;
    const auto theta_t = rebind<T>(theta);
    const VectorX<T> xv = x;
    T value = objective(xv, theta_t);
    const VectorX<T> e = constraint_values(eq, xv, theta_t);
    for (Eigen::Index i = 0; i < e.size(); ++i) value += e(i) * (nu(i) + 0.5 * rho * e(i));
    const VectorX<T> g = constraint_values(ineq, xv, theta_t);
    for (Eigen::Index i = 0; i < g.size(); ++i) {
      const T shifted = mu(i) + rho * g(i);
      if (shifted > 0) value += shifted * shifted / (2 * rho);
      value -= mu(i) * mu(i) / (2 * rho);
    }
    return value;
  };
  const auto constraints = [&](const Eigen::VectorXd& x) {
    return std::pair<Eigen::VectorXd, Eigen::VectorXd>(constraint_values(eq, x, theta),
                                                       constraint_values(ineq, x, theta));
  };
  const auto stationarity = [&](const Eigen::VectorXd& x, const Eigen::VectorXd& nu,
                                const Eigen::VectorXd& mu) {
    const auto lagrangian = [&](const auto& xd) {
      using D = typename std::decay_t<decltype(xd)>::Scalar;
      const auto theta_d = rebind<D>(theta);
      const VectorX<D> xv = xd;
      D value = objective(xv, theta_d);
      const VectorX<D> e = constraint_values(eq, xv, theta_d), g = constraint_values(ineq, xv, theta_d);
      for (Eigen::Index i = 0; i < e.size(); ++i) value += nu(i) * e(i);
      for (Eigen::Index i = 0; i < g.size(); ++i) value += mu(i) * g(i);
      return value;
    };
    // NaN when the gradient is not finite: the max-norm would skip NaN entries.
    const Eigen::VectorXd g = gradient(lagrangian, x);
    return g.allFinite() ? g.template lpNorm<Eigen::Infinity>() : std::numeric_limits<double>::quiet_NaN();
  };
  return solver.solve(augmented, constraints, stationarity, x0);
}

}  // namespace detail

/// Solves min L(x, θ) s.t. eq(x, θ) = 0, ineq(x, θ) ≤ 0 from `x0` (an Eigen vector of doubles) and
/// returns x with the multipliers ν, μ of ℒ = L + νᵀeq + μᵀineq (`ConstrainedSolution`), all with
/// derivatives w.r.t. θ (any tree). `eq` and `ineq` return Eigen vectors or are `ift::none`; like L
/// they are generic over the scalar. The solution must be a strict local minimizer with linearly
/// independent active constraint gradients (LICQ) and strict complementarity.
///
/// Throws `std::invalid_argument` for non-finite x0 or θ; `SolverError` when the solver fails (e.g.
/// infeasible constraints) unless `solver.throw_on_failure` is false (then the status is reported and
/// the derivatives are NaN); `SingularJacobianError` when derivatives are asked for at a degenerate
/// active set (|ineqᵢ| and μᵢ both ≤ 1000·tol) or where the KKT matrix is singular.
/// Cost: the augmented Lagrangian solve on doubles, then the implicit rule on the KKT conditions
/// (forward passes over a gradient of ℒ; one factorization of the (n + p + m) KKT matrix).
template <class L, class Eq, class Ineq, class X, class P, class Solver = AugmentedLagrangian,
          class Adjoint = Implicit<>>
auto minimize_constrained(L&& objective, Eq&& eq, Ineq&& ineq, const X& x0, const P& theta,
                          const Solver& solver = {}, const Adjoint& adjoint = {}) {
  static_assert(std::is_base_of_v<Eigen::MatrixBase<X>, X> && X::ColsAtCompileTime == 1 &&
                    std::is_same_v<typename X::Scalar, double>,
                "ift::minimize_constrained: x0 must be an Eigen column vector of double");
  using S = tree_scalar_t<P>;
  using Y = Eigen::Matrix<S, X::RowsAtCompileTime, 1>;
  detail::require_finite_input(x0, "ift::minimize_constrained", "x0");
  detail::require_finite_input(theta, "ift::minimize_constrained", "theta");
  const auto theta_d = detail::base_values(theta);
  const ConstrainedIterate<Eigen::VectorXd> it =
      detail::solve_constrained(objective, eq, ineq, Eigen::VectorXd(x0), theta_d, solver);
  if (solver.throw_on_failure && it.status != Status::converged)
    throw SolverError(detail::failure_message(solver.name, it.status, it.iterations, it.residual_norm));

  const Eigen::Index n = it.x.size(), p = it.nu.size(), m = it.mu.size();
  const Eigen::VectorXd z = detail::primal_dual_state(it);
  detail::VectorX<S> zs;
  if constexpr (std::is_arithmetic_v<S>) {
    zs = z;
  } else if (it.status == Status::converged) {
    // The constraints' Jacobians at x*, for the rank test of the active ones.
    const auto rows = [&](const auto& f, Eigen::Index count) {
      if constexpr (std::is_same_v<std::decay_t<decltype(f)>, NoConstraints>) {
        return Eigen::MatrixXd(count, n);
      } else {
        return Eigen::MatrixXd(jacobian(
            [&](const auto& xv) {
              using D = typename std::decay_t<decltype(xv)>::Scalar;
              return detail::VectorX<D>(detail::constraint_values(f, xv, rebind<D>(theta_d)));
            },
            it.x));
      }
    };
    const Eigen::VectorXd slack = -detail::constraint_values(ineq, it.x, theta_d);
    detail::require_independent_active_constraints(rows(eq, p), rows(ineq, m), slack, it.mu,
                                                   "ift::minimize_constrained");
    zs = implicit(kkt_conditions(objective, eq, ineq, n, p, m, 1e3 * solver.tol), z, theta, adjoint);
  } else {
    zs = detail::undefined_derivatives_flat(z, theta);
  }
  return detail::constrained_solution<Y>(zs, it);
}

}  // namespace ift
