#pragma once
// ift::implicit — the one place where the implicit function theorem is applied.
//
// Given conditions c(x, θ) = 0 with ∂c/∂x invertible at a solution x*(θ), differentiating the
// identity c(x*(θ), θ) = 0 gives
//
//     ∂c/∂x · dx = −∂c/∂θ · dθ                                  (forward, one solve per direction)
//     λ = (∂c/∂x)⁻ᵀ x̄,   θ̄ = −(∂c/∂θ)ᵀ λ                         (reverse, one solve per output adjoint)
//
// so the derivative of x* needs c at the solution only, never the iterations that found it.
//
// How the scalar type of θ selects the rule:
//  * `double`: nothing to differentiate; x* is returned as it is.
//  * `Dual<T, N>`: first x*(θ) is obtained with T scalars (recursively: with `Dual<Dual<double>>`
//    the inner level is itself an implicit derivative), then U = ∂c/∂θ·dθ comes from one evaluation
//    of c with θ's duals, and one factorization of ∂c/∂x (formed in T arithmetic) serves all N
//    directions. Because every step is written in T arithmetic, nesting yields exact higher
//    derivatives with no extra code.
//  * `Var`: one custom node on the active tape, with θ's leaves as inputs and x* as outputs. A direct
//    adjoint solver factorizes ∂c/∂x now and keeps the factorization; the node's backward pass solves
//    (∂c/∂x)ᵀλ = x̄ once and pushes −λ through a reverse pass over c on a nested tape, so the
//    parameter Jacobian ∂c/∂θ is never formed. Matrix-free solvers get (∂c/∂x)ᵀw from the same
//    reverse pass instead of a factorization.
//
// Problem kinds supply their conditions (root: c = f; fixed point: c = F − x; minimize: c = ∇ₓL) and
// may supply shortcuts the rule then uses: `jacobian_x(x, θ)` (∂c/∂x when it is cheaper to form
// directly, e.g. the Hessian) and `vjp(x, θ, w)` (the pair ((∂c/∂x)ᵀw, (∂c/∂θ)ᵀw) on doubles).

#include <cmath>
#include <limits>
#include <span>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "ift/derivatives.hpp"
#include "ift/dual.hpp"
#include "ift/linalg/auto.hpp"
#include "ift/linalg/bicgstab.hpp"
#include "ift/linalg/cg.hpp"
#include "ift/linalg/dense_lu.hpp"
#include "ift/linalg/dense_qr.hpp"
#include "ift/linalg/gmres.hpp"
#include "ift/linalg/ldlt.hpp"
#include "ift/linalg/linear_solver.hpp"
#include "ift/linalg/sparse_lu.hpp"
#include "ift/sparsity.hpp"
#include "ift/tree.hpp"
#include "ift/var.hpp"

namespace ift {

/// Differentiate through every iteration of the solver instead (the baseline benchmarks compare).
struct Unrolled {};

/// Differentiate by the implicit function theorem, solving with ∂c/∂x by `linear_solver`.
template <class LinearSolverType = DenseLU>
struct Implicit {
  static_assert(LinearSolver<LinearSolverType>,
                "ift::Implicit<LS>: LS must satisfy ift::LinearSolver (a direct solver with factor(J), or a "
                "matrix-free one with solve(apply, b))");
  /// The options of the linear solver used with ∂c/∂x.
  LinearSolverType linear_solver{};
};

/// True when the adjoint `A` is an `Implicit<LS>`.
template <class A>
inline constexpr bool is_implicit_v = false;
/// True: `Implicit<LS>` is the implicit rule.
template <class LS>
inline constexpr bool is_implicit_v<Implicit<LS>> = true;

/// The shape of a solver state: a scalar, or an Eigen column vector (fixed or dynamic size).
template <class X>
concept State = Scalar<X> ||(std::is_base_of_v<Eigen::MatrixBase<X>, X>&& X::ColsAtCompileTime == 1);

namespace detail {

template <class X>
struct state_scalar {
  using type = X;
};
template <class X>
requires(!Scalar<X>) struct state_scalar<X> {
  using type = typename X::Scalar;
};
/// The scalar of a state: itself for a scalar state, the coefficient type of a vector state.
template <class X>
using state_scalar_t = typename state_scalar<X>::type;

template <class T>
using VectorX = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using MatrixX = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

/// A state as a flat dynamic vector (the core's working form).
template <class X>
auto flat(const X& x) {
  if constexpr (Scalar<X>) {
    return VectorX<X>::Constant(1, x).eval();
  } else {
    return VectorX<typename X::Scalar>(x);
  }
}

/// A flat vector back in the shape of the state type `X`, with the vector's scalar.
template <class X, class V>
auto unflat(const V& v) {
  using Q = typename V::Scalar;
  if constexpr (Scalar<X>) {
    return Q(v(0));
  } else {
    return rebind_t<Q, X>(v);
  }
}

/// Every leaf's value as `double`, whatever the nesting: the tree the primal solver sees.
template <class P>
rebind_t<double, P> base_values(const P& theta) {
  if constexpr (Scalar<P>) {
    return to_double(theta);
  } else {
    rebind_t<double, P> out = unflatten(theta, Eigen::VectorXd::Zero(tree_size(theta)));
    for_each_leaf(out, theta, [](double& o, const auto& leaf) { o = to_double(leaf); });
    return out;
  }
}

/// The user's c(x, θ) seen on flat vectors. `X` is the state type the user writes c for.
template <class C, class X>
struct Conditions {
  C c;
  template <class Q, class Theta>
  VectorX<Q> operator()(const VectorX<Q>& x, const Theta& theta) const {
    return flat(c(unflat<X>(x), theta));
  }
};

/// ∂c/∂x at (x, θ) in T arithmetic: the problem's own shortcut when it has one, else forward duals.
template <class Conds, class T, class Theta>
MatrixX<T> jacobian_x(const Conds& conds, const VectorX<T>& x, const Theta& theta) {
  if constexpr (requires { conds.jacobian_x(x, theta); }) {
    return conds.jacobian_x(x, theta);
  } else {
    return jacobian(
        [&](const auto& xd) {
          using D = typename std::decay_t<decltype(xd)>::Scalar;
          return conds(VectorX<D>(xd), rebind<D>(theta));
        },
        x);
  }
}

/// c recorded once on a nested tape at doubles (x, θ), so that many VJPs — one per iteration of a
/// Krylov adjoint solve — cost one reverse sweep each and no re-evaluation of c.
template <class Conds, class Theta>
class RecordedConditions {
 public:
  RecordedConditions(const Conds& conds, const Eigen::VectorXd& x, const Theta& theta)
      : theta_(rebind<Var>(theta)), x_(x.template cast<Var>()), r_(conds(x_, theta_)) {}

  /// ((∂c/∂x)ᵀw, (∂c/∂θ)ᵀw).
  std::pair<Eigen::VectorXd, Eigen::VectorXd> vjp(const Eigen::VectorXd& w) {
    tape_.backward(std::span<const Var>(r_.data(), r_.size()), std::span<const double>(w.data(), w.size()));
    Eigen::VectorXd x_bar(x_.size()), theta_bar(tree_size(theta_));
    for (Eigen::Index i = 0; i < x_.size(); ++i) x_bar(i) = tape_.adjoint(x_(i));
    Eigen::Index k = 0;
    for_each_leaf(theta_, [&](const Var& leaf) { theta_bar(k++) = tape_.adjoint(leaf); });
    return {x_bar, theta_bar};
  }

 private:
  Tape tape_;  // declared first: the members below record on it
  rebind_t<Var, Theta> theta_;
  VectorX<Var> x_;
  VectorX<Var> r_;
};

/// ((∂c/∂x)ᵀw, (∂c/∂θ)ᵀw) at doubles (x, θ): the problem's shortcut, else one reverse pass of c on a
/// nested tape.
template <class Conds, class Theta>
std::pair<Eigen::VectorXd, Eigen::VectorXd> vjp_conditions(const Conds& conds, const Eigen::VectorXd& x,
                                                           const Theta& theta, const Eigen::VectorXd& w) {
  if constexpr (requires { conds.vjp(x, theta, w); }) {
    return conds.vjp(x, theta, w);
  } else {
    return RecordedConditions<Conds, Theta>(conds, x, theta).vjp(w);
  }
}

/// The solver used with a Jacobian in T arithmetic: `ls` itself on doubles, or at an AD level when
/// its `factor` is a template over the matrix type (the dense solvers); else dense LU. Krylov
/// methods, the sparse LU and `Auto` run on doubles, so the outer levels of a second derivative
/// (where n is small in practice) fall back to dense LU.
template <class T, class LS>
decltype(auto) direct_solver(const LS& ls) {
  if constexpr (std::is_same_v<T, double> ? DenseLinearSolver<LS> : requires(const MatrixX<T>& J) {
                  ls.template factor<MatrixX<T>>(J);
                })
    return (ls);
  else
    return DenseLU{};
}

/// The factorization of ∂c/∂x at (x, θ) in T arithmetic, formed as `ls` wants it: densely (the
/// problem's own shortcut, or forward duals), sparsely (detected pattern, colored passes), or as the
/// solver chooses (`Auto`).
template <class Conds, class T, class Theta, class LS>
auto factor_conditions(const Conds& conds, const VectorX<T>& x, const Theta& theta, const LS& ls) {
  const auto c = [&](const auto& xd) {
    using D = typename std::decay_t<decltype(xd)>::Scalar;
    return conds(VectorX<D>(xd), rebind<D>(theta));
  };
  if constexpr (!std::is_same_v<T, double> || requires { conds.jacobian_x(x, theta); }) {
    if constexpr (SparseLinearSolver<LS> && std::is_same_v<T, double>)
      return ls.factor(Eigen::SparseMatrix<double>(conds.jacobian_x(x, theta).sparseView()));
    else
      return direct_solver<T>(ls).factor(jacobian_x(conds, x, theta));
  } else if constexpr (requires { ls.factor_jacobian(c, x); }) {
    return ls.factor_jacobian(c, x);
  } else if constexpr (SparseLinearSolver<LS>) {
    return ls.factor(sparse_jacobian(c, x));
  } else {
    return direct_solver<T>(ls).factor(jacobian(c, x));
  }
}

/// Solves ∂c/∂x · X = B in T arithmetic (the forward rule), with one factorization for all columns.
template <class Conds, class T, class Theta, class LS>
MatrixX<T> tangent_solve(const Conds& conds, const VectorX<T>& x, const Theta& theta, const LS& ls,
                         const MatrixX<T>& b) {
  if constexpr (MatrixFreeLinearSolver<LS> && std::is_same_v<T, double>) {
    const auto apply = [&](const Eigen::VectorXd& v) -> Eigen::VectorXd {
      return jvp(
                 [&](const auto& xd) {
                   using D = typename std::decay_t<decltype(xd)>::Scalar;
                   return conds(VectorX<D>(xd), rebind<D>(theta));
                 },
                 x, v)
          .second;
    };
    MatrixX<T> out(b.rows(), b.cols());
    for (Eigen::Index k = 0; k < b.cols(); ++k) out.col(k) = ls.solve(apply, Eigen::VectorXd(b.col(k)));
    return out;
  } else {
    return factor_conditions(conds, x, theta, ls).solve(b);
  }
}

template <class Conds, class P, class LS>
auto implicit_flat(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta, const LS& ls);

/// Forward rule for θ of scalar `Dual<T, N>`.
template <class Conds, class P, class LS>
auto forward_rule(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta, const LS& ls) {
  using S = tree_scalar_t<P>;
  using T = value_type_t<S>;
  const auto theta_t = value(theta);
  const VectorX<T> x_t = implicit_flat(conds, x_star, theta_t, ls);

  // r = c(x*, θ) with x* held constant: its tangents are U = ∂c/∂θ·dθ.
  const VectorX<S> r = conds(VectorX<S>(x_t.template cast<S>()), theta);
  const Eigen::Index n = r.size();
  Eigen::Index directions = 0;
  for (Eigen::Index i = 0; i < n; ++i) directions = std::max<Eigen::Index>(directions, r(i).v.size());
  MatrixX<T> u = MatrixX<T>::Zero(n, directions);
  for (Eigen::Index i = 0; i < n; ++i)
    if (r(i).v.size() != 0) u.row(i) = -r(i).v.transpose();

  const MatrixX<T> dx = directions ? tangent_solve(conds, x_t, theta_t, ls, u) : u;
  VectorX<S> out(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    out(i).a = x_t(i);
    out(i).v = dx.row(i).transpose();
  }
  return out;
}

/// Reverse rule for θ of scalar `Var`: one custom node on the active tape.
template <class Conds, class P, class LS>
VectorX<Var> reverse_rule(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta, const LS& ls) {
  Tape* tape = Tape::active();
  if (tape == nullptr) throw TapeError("ift::implicit: the parameters hold Vars but no ift::Tape is active");
  auto theta_d = value(theta);
  std::vector<Var> inputs;
  inputs.reserve(static_cast<std::size_t>(tree_size(theta)));
  for_each_leaf(theta, [&](const auto& leaf) {
    if constexpr (is_var_v<decltype(leaf)>)
      inputs.push_back(leaf);
    else
      inputs.push_back(Var());
  });

  VectorX<Var> out(x_star.size());
  const auto record = [&](auto adjoint_solve) {
    tape->add_node(std::span<const Var>(inputs), std::span<const double>(x_star.data(), x_star.size()),
                   std::span<Var>(out.data(), out.size()),
                   [conds, x_star, theta_d, adjoint_solve = std::move(adjoint_solve)](
                       std::span<const double> x_bar, std::span<double> theta_bar) {
                     const Eigen::VectorXd lambda =
                         adjoint_solve(Eigen::Map<const Eigen::VectorXd>(x_bar.data(), x_bar.size()));
                     const Eigen::VectorXd g = vjp_conditions(conds, x_star, theta_d, lambda).second;
                     for (std::size_t k = 0; k < theta_bar.size(); ++k)
                       theta_bar[k] = -g(static_cast<Eigen::Index>(k));
                   });
  };
  if constexpr (DenseLinearSolver<LS> || SparseLinearSolver<LS>) {
    // Factorize now, while the forward pass runs; the backward pass only back-substitutes.
    record([factor = factor_conditions(conds, x_star, theta_d, ls)](const Eigen::VectorXd& x_bar) {
      return Eigen::VectorXd(factor.solve_transposed(x_bar));
    });
  } else {
    record([conds, x_star, theta_d, ls](const Eigen::VectorXd& x_bar) {
      if constexpr (requires { conds.vjp(x_star, theta_d, x_bar); }) {
        return Eigen::VectorXd(
            ls.solve([&](const Eigen::VectorXd& w) { return conds.vjp(x_star, theta_d, w).first; }, x_bar));
      } else {
        RecordedConditions<Conds, decltype(theta_d)> recorded(conds, x_star, theta_d);
        return Eigen::VectorXd(
            ls.solve([&](const Eigen::VectorXd& w) { return recorded.vjp(w).first; }, x_bar));
      }
    });
  }
  return out;
}

/// x*(θ) as a flat vector of θ's AD scalar, derivatives attached by the rule for that scalar.
template <class Conds, class P, class LS>
auto implicit_flat(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta, const LS& ls) {
  using S = tree_scalar_t<P>;
  if constexpr (std::is_arithmetic_v<S>) {
    return VectorX<S>(x_star.template cast<S>());
  } else if constexpr (is_dual_v<S>) {
    return forward_rule(conds, x_star, theta, ls);
  } else {
    return reverse_rule(conds, x_star, theta, ls);
  }
}

/// Checks the conditions once on doubles: right size and finite, so that a wrong c fails with a
/// message here instead of as a corrupted derivative.
template <class Conds, class P>
void check_conditions(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta_d) {
  const Eigen::VectorXd r = conds(x_star, theta_d);
  if (r.size() != x_star.size()) {
    std::ostringstream out;
    out << "ift::implicit: the conditions c(x, theta) return " << r.size() << " values for a state of size "
        << x_star.size() << "; c must be square (one condition per unknown)";
    throw std::invalid_argument(out.str());
  }
  if (!r.allFinite())
    throw std::invalid_argument("ift::implicit: the conditions c(x*, theta) are not finite");
}

template <class Conds, class X, class P, class LS>
auto implicit_conditions(const Conds& conds, const X& x_star, const P& theta, const LS& ls) {
  using S = tree_scalar_t<P>;
  const Eigen::VectorXd x = flat(x_star);
  if constexpr (std::is_arithmetic_v<S>) {
    return x_star;
  } else {
    check_conditions(conds, x, base_values(theta));
    return unflat<X>(implicit_flat(conds, x, theta, ls));
  }
}

}  // namespace detail

/// A residual c(x, θ) the implicit rule can use: callable with a state and parameters of one
/// scalar type (here `double`), returning a state of the same shape.
template <class C, class X, class P>
concept ResidualFunction = State<X> &&
    requires(const C& c, const rebind_t<double, X>& x, const rebind_t<double, P>& p) {
  {c(x, p)};
};

/// Attaches derivatives to a solution found by any means: `x_star` solves c(x, θ) = 0 at the
/// values of `theta`; the result is `x_star` with θ's AD scalar, its derivatives given by the
/// implicit function theorem (see the comment at the top of this file). `c` is called with x and θ
/// of one scalar type and is copied into the tape when θ holds `Var`s, so whatever it refers to must
/// outlive the tape's gradient calls.
///
/// Throws `SingularJacobianError` when ∂c/∂x is (numerically) singular, `std::invalid_argument` when
/// c is not square or not finite at x*, `TapeError` when θ holds `Var`s with no active tape.
/// Cost: one factorization of ∂c/∂x (or one Krylov solve per direction) and O(1) evaluations of c.
template <class C, class X, class P, class Adjoint = Implicit<>>
requires ResidualFunction<C, X, P>
auto implicit(C&& c, const X& x_star, const P& theta, const Adjoint& adjoint = {}) {
  static_assert(!std::is_same_v<Adjoint, Unrolled>,
                "ift::implicit differentiates a solution found elsewhere; ift::Unrolled needs a solver to "
                "unroll — use ift::root, ift::fixed_point or ift::minimize with it");
  static_assert(is_implicit_v<Adjoint>, "ift::implicit: the adjoint must be ift::Implicit<LinearSolver>");
  static_assert(
      std::is_same_v<detail::state_scalar_t<X>, double>,
      "ift::implicit: x_star must hold plain doubles (the solution is not differentiated; theta is)");
  return detail::implicit_conditions(detail::Conditions<std::decay_t<C>, X>{std::forward<C>(c)}, x_star,
                                     theta, adjoint.linear_solver);
}

}  // namespace ift
