#pragma once
// ift::fixed_point — x*(θ) with x* = F(x*, θ); the implicit rule with c = F − x:
//     (I − ∂F/∂x) · dx = ∂F/∂θ · dθ.

#include <utility>

#include "ift/detail/solve.hpp"
#include "ift/solvers/anderson.hpp"
#include "ift/solvers/iteration.hpp"

namespace ift {
namespace detail {

/// c(x, θ) = F(x, θ) − x.
template <class F>
struct FixedPointResidual {
  F map;
  template <class Xq, class Pq>
  auto operator()(const Xq& x, const Pq& theta) const {
    if constexpr (Scalar<Xq>)
      return Xq(map(x, theta) - x);
    else
      return typename Xq::PlainObject(map(x, theta) - x);
  }
};

}  // namespace detail

/// Finds x = F(x, θ) from `x0` and returns it with derivatives w.r.t. θ (see `ift::root` for the
/// conventions). Throws `SingularJacobianError` when I − ∂F/∂x is singular at the fixed point.
template <class F, class X, class P, class Solver = Anderson, class Adjoint = Implicit<>>
requires detail::RejectedInputs<X, P> || ResidualFunction<F, X, P>
auto fixed_point(F&& map, const X& x0, const P& theta, const Solver& solver = {},
                 const Adjoint& adjoint = {}) {
  using Fd = std::decay_t<F>;
  return detail::solve_entry(
      [&]<class Xp>() {
        return detail::Problem<ProblemKind::fixed_point, Fd, Xp,
                               detail::Conditions<detail::FixedPointResidual<Fd>, Xp>>{std::forward<F>(map)};
      },
      x0, theta, solver, adjoint);
}

}  // namespace ift
