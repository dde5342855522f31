#pragma once
// ift::minimize_composite — x*(θ) = argminₓ f(x, θ) + g(x, θ), f smooth and g given by its proximal
// map prox(y, η, θ) = argmin_z ½‖z − y‖² + η g(z, θ). The implicit rule differentiates the
// fixed-point conditions of proximal gradient,
//     c(x, θ) = x − prox(x − η∇ₓf(x, θ), η, θ) = 0,   η = 1 (`conditions_step`),
// which hold exactly at the minimizers (for convex g). With y = x − η∇ₓf, J_P = ∂prox/∂y and
// H = ∇²ₓf,
//     ∂c/∂x = I − J_P (I − ηH),   ∂c/∂θ = η J_P ∂(∇ₓf)/∂θ − ∂prox/∂θ.
// Where prox is differentiable its Jacobian is a projection-like matrix (for soft thresholding,
// the 0/1 diagonal of the support), and ∂c/∂x is nonsingular when H is positive definite on the
// subspace J_P keeps; the derivative dx/dθ does not depend on η. For a 0/1 diagonal J_P, ∂c/∂x has
// the rows of ηH on the free coordinates and of I on the others, so its condition number is about
// max(1, η‖H‖)/min(1, ηλ_min(H_FF)): with η = 1 no worse than H's own when f is scaled so that
// ‖H‖ ≈ 1, and η is the same step whose residual the solvers bound by `tol` (‖∇f‖ where g is
// inactive, as for ift::minimize). ift::minimize_projected uses the same conditions with the
// projection onto C in place of prox.
//
// At a point where prox is not differentiable (a coordinate of y exactly at the threshold, a
// projection exactly onto a face's boundary: strict complementarity fails) x*(θ) has only one-sided
// derivatives. The rule then uses the derivative the user's prox computes at the tie — that of the
// branch its code takes — and returns the corresponding one-sided derivative when that Jacobian
// leaves ∂c/∂x nonsingular (`derivatives_exact` stays true: the solve converged), else throws
// `SingularJacobianError`.

#include <concepts>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "ift/detail/solve.hpp"
#include "ift/solvers/proximal_gradient.hpp"

namespace ift {
namespace detail {

/// θ at the scalar Q: itself when it already has it, else rebound.
template <class Q, class Theta>
decltype(auto) parameters_at(const Theta& theta) {
  if constexpr (std::is_same_v<Q, tree_scalar_t<Theta>>)
    return (theta);
  else
    return rebind<Q>(theta);
}

/// The map of a `minimize_projected` (proj(y, θ)) or `minimize_composite` (prox(y, η, θ)) problem,
/// called with the step η.
template <ProblemKind Kind, class Map, class Y, class E, class Theta>
auto apply_map(const Map& map, const Y& y, const E& eta, const Theta& theta) {
  if constexpr (Kind == ProblemKind::minimize_projected)
    return map(y, theta);
  else
    return map(y, eta, theta);
}

/// The conditions c(x, θ) = x − prox(x − η∇ₓf(x, θ), η, θ) (see the top of this header), with the
/// Jacobian and VJP in closed form from the Hessian of f and the derivatives of the map.
template <ProblemKind Kind, class F, class Map, class X>
struct ProximalConditions : JacobianShortcut, VjpShortcut {
  F smooth;
  Map map;
  static constexpr double eta = conditions_step;

  /// f as a function of a flat x.
  template <class V, class Theta>
  auto smooth_on_flat(const V& x, const Theta& theta) const {
    using D = typename V::Scalar;
    return smooth(state_of<X>(x), rebind<D>(theta));
  }
  /// The map as a function of a flat y.
  template <class V, class Theta>
  auto map_on_flat(const V& y, const Theta& theta) const {
    using D = typename V::Scalar;
    return VectorX<D>(flat(apply_map<Kind>(map, state_of<X>(y), constant_of<D>(eta), rebind<D>(theta))));
  }

  template <class Q, class Theta>
  VectorX<Q> operator()(const VectorX<Q>& x, const Theta& theta) const {
    const VectorX<Q> g = gradient([&](const auto& xd) { return smooth_on_flat(xd, theta); }, x);
    return x - map_on_flat(VectorX<Q>(x - eta * g), theta);
  }

  /// ∂c/∂x = I − J_P (I − ηH) in T arithmetic. On doubles J_P H = (H J_Pᵀ)ᵀ (H is symmetric) takes one
  /// Hessian-vector product per nonzero row of J_P — the free coordinates of a box, the support of a
  /// soft threshold — instead of the whole Hessian.
  template <class T, class Theta>
  MatrixX<T> jacobian_x(const VectorX<T>& x, const Theta& theta) const {
    const auto f = [&](const auto& xd) { return smooth_on_flat(xd, theta); };
    const VectorX<T> y = x - eta * gradient(f, x);
    const MatrixX<T> jp = jacobian([&](const auto& yd) { return map_on_flat(yd, theta); }, y);
    const Eigen::Index n = x.size();
    MatrixX<T> j = MatrixX<T>::Identity(n, n) - jp;
    if constexpr (std::is_same_v<T, double>) {
      for (Eigen::Index k = 0; k < n; ++k)
        if (!jp.row(k).isZero(0.0)) j.row(k) += eta * hessian_products(x, theta, jp.row(k).transpose()).first;
    } else {
      j += eta * (jp * hessian(f, x));
    }
    return j;
  }

  /// (H u, ∂²f/∂θ∂x · u) of the smooth part: one reverse-over-forward pass of f.
  template <class Vector, class Theta, class U>
  std::pair<Vector, Vector> hessian_products(const Vector& x, const Theta& theta, const U& u) const {
    return hessian_vector_products(
        [&](const auto& xd, const auto& theta_v) { return smooth_on_flat(xd, theta_v); }, x, theta, u);
  }

  /// ((∂c/∂x)ᵀw, (∂c/∂θ)ᵀw) = (w − u + ηHu, η ∂²f/∂θ∂x · u − (∂prox/∂θ)ᵀw) with u = J_Pᵀw: one
  /// reverse sweep of the map and one reverse-over-forward pass of f (as in `minimize`).
  template <class Theta>
  std::pair<Eigen::VectorXd, Eigen::VectorXd> vjp(const Eigen::VectorXd& x, const Theta& theta,
                                                  const Eigen::VectorXd& w) const {
    const Eigen::VectorXd y =
        x - eta * gradient([&](const auto& xd) { return smooth_on_flat(xd, theta); }, x);
    const auto map_vjp = ift::vjp(
        [&](const VectorX<Var>& yv, const auto& theta_v) { return map_on_flat(yv, theta_v); }, y, theta, w);
    const Eigen::VectorXd& u = map_vjp.first;
    const auto [hu, cross] = hessian_products(x, theta, u);
    return {w - u + eta * hu, eta * cross - map_vjp.second};
  }
};

/// A problem's functions with θ bound, as its solvers (built-in or the user's) call them: `fp(x)`
/// is f(x, θ), and `fp.project(y)` = proj(y, θ) (`minimize_projected`) or `fp.prox(y, α)` =
/// prox(y, α, θ) (`minimize_composite`). x and y may be of any scalar; θ is rebound to it.
template <ProblemKind Kind, class F, class Map, class Theta>
struct BoundProximal {
  const F& smooth;
  const Map& map;
  const Theta& theta;

  template <class Xq>
  auto operator()(const Xq& x) const {
    return smooth(evaluated(x), parameters_at<state_scalar_t<Xq>>(theta));
  }
  template <class Yq>
  requires(Kind == ProblemKind::minimize_projected) auto project(const Yq& y) const {
    return like(y, map(evaluated(y), parameters_at<state_scalar_t<Yq>>(theta)));
  }
  template <class Yq>
  requires(Kind == ProblemKind::minimize_composite) auto prox(const Yq& y, double step) const {
    using Q = state_scalar_t<Yq>;
    return like(y, map(evaluated(y), constant_of<Q>(step), parameters_at<Q>(theta)));
  }

 private:
  // A map that returns a vector of another length than its argument's would make every later
  // expression mismatched (undefined behaviour in Eigen without assertions): refused at the source.
  template <class Yq, class R>
  static R like(const Yq& y, R&& r) {
    if constexpr (requires { y.size(); }) {
      if (r.size() == y.size()) return std::forward<R>(r);
      std::ostringstream out;
      out << (Kind == ProblemKind::minimize_projected ? "ift::minimize_projected: proj(y, theta)"
                                                      : "ift::minimize_composite: prox(y, eta, theta)")
          << " returned " << r.size() << " entries for a y of " << y.size();
      throw std::invalid_argument(out.str());
    } else {
      return std::forward<R>(r);
    }
  }
};

/// A `minimize_projected` or `minimize_composite` problem for the shared driver.
template <ProblemKind Kind, class F, class Map, class X>
struct ProximalProblem {
  static constexpr ProblemKind kind = Kind;
  F smooth;
  Map map;

  ProximalConditions<Kind, F, Map, X> conditions() const { return {{}, {}, smooth, map}; }
  template <class Pd>
  double measure(const X& x, const Pd& theta) const {
    return value_norm(conditions()(flat(x), theta));
  }
  template <class Theta>
  BoundProximal<Kind, F, Map, Theta> bind(const Theta& theta) const {
    return {smooth, map, theta};
  }
};

}  // namespace detail

/// The functions of a composite problem: f(x, θ) returning a scalar, and a proximal map prox(y, η, θ)
/// returning a state; both callable with a state, a step and parameters of one scalar type.
template <class F, class Prox, class X, class P>
concept CompositeFunctions = State<X> &&
    requires(const F& f, const Prox& prox, const rebind_t<double, X>& x, const rebind_t<double, P>& p) {
  { f(x, p) } -> std::convertible_to<double>;
  {prox(x, 1.0, p)};
};

/// Finds a minimizer of f(x, θ) + g(x, θ) from `x0`, g given by `prox(y, η, θ)` = argmin_z
/// ½‖z − y‖² + η g(z, θ), and returns it with derivatives w.r.t. θ by the implicit rule on the
/// proximal-gradient conditions (see the top of this header); conventions as `ift::minimize`
/// (`Solution`, `throw_on_failure`, `Implicit<>` or `Unrolled`, θ a tree). f and prox are written
/// generically over the scalar; η reaches prox as that scalar. A user solver `solve(fp, x0)` gets
/// `fp(x)` = f(x, θ) and `fp.prox(y, α)` = prox(y, α, θ) on doubles.
template <class F, class Prox, class X, class P, class Solver = ProximalGradient, class Adjoint = Implicit<>>
requires detail::RejectedInputs<X, P> || CompositeFunctions<F, Prox, X, P>
auto minimize_composite(F&& f, Prox&& prox, const X& x0, const P& theta, const Solver& solver = {},
                        const Adjoint& adjoint = {}) {
  return detail::solve_entry(
      [&]<class Xp>() {
        return detail::ProximalProblem<ProblemKind::minimize_composite, std::decay_t<F>, std::decay_t<Prox>,
                                       Xp>{std::forward<F>(f), std::forward<Prox>(prox)};
      },
      x0, theta, solver, adjoint);
}

}  // namespace ift
