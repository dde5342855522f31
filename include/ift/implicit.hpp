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
//    of c with θ's duals, and ∂c/∂x · dx = U is solved for all N directions at once. ∂c/∂x is
//    factorized once, on doubles, for every level: with T itself an AD scalar, J = J₀ + ΔJ is formed
//    in T and X = J⁻¹U follows from J₀'s factorization by one refinement step per AD level of T
//    (`solve_nested`), exact at every order. A state of fixed size with θ of `Dual<double, N>` takes
//    a path in fixed-size matrices that allocates nothing (`fixed_forward`).
//  * `Var`: one custom node on the active tape, with θ's leaves as inputs and x* as outputs. A direct
//    adjoint solver factorizes ∂c/∂x now and keeps the factorization; the node's backward pass solves
//    (∂c/∂x)ᵀλ = x̄ once and pushes −λ through a reverse pass over c on a nested tape (x* held
//    constant there: only what depends on θ is recorded), so the parameter Jacobian ∂c/∂θ is never
//    formed. Matrix-free solvers get (∂c/∂x)ᵀw instead of a factorization from another reverse pass
//    over c, recorded once with x* variable. A state of fixed size keeps x* and the factorization in
//    the node by value and forms (∂c/∂θ)ᵀλ by forward passes over θ's few leaves (`fixed_reverse`).
//
// `implicit` takes the answer on trust; `implicit_solution` also reports ‖c(x*, θ)‖₂ and a status
// against a tolerance, as a `Solution`.
//
// Problem kinds supply their conditions (root: c = f; fixed point: c = F − x; minimize: c = ∇ₓL) and
// may supply shortcuts the rule then uses: `jacobian_x(x, θ)` (∂c/∂x when it is cheaper to form
// directly, e.g. the Hessian) and `vjp(x, θ, w)` (the pair ((∂c/∂x)ᵀw, (∂c/∂θ)ᵀw) on doubles).

#include <cmath>
#include <limits>
#include <memory>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "ift/derivatives.hpp"
#include "ift/detail/conditions.hpp"
#include "ift/dual.hpp"
#include "ift/errors.hpp"
#include "ift/linalg/auto.hpp"
#include "ift/linalg/division.hpp"
#include "ift/linalg/linear_solver.hpp"
#include "ift/solution.hpp"
#include "ift/tree.hpp"
#include "ift/var.hpp"

namespace ift {

/// Differentiate through every iteration of the solver instead (the baseline benchmarks compare).
struct Unrolled {};

/// Differentiate by the implicit function theorem, solving with ∂c/∂x by `linear_solver`.
template <class LinearSolverType = Auto>
struct Implicit {
  static_assert(
      LinearSolver<LinearSolverType>,
      "ift::Implicit<LS>: LS must satisfy ift::LinearSolver: a factor(J) taking an Eigen::MatrixXd, an "
      "Eigen::SparseMatrix<double> or an ift::JacobianOperator and returning an object with solve "
      "and solve_transposed (see linalg/linear_solver.hpp)");
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

/// Throws `std::invalid_argument` when an input to `entry` (θ, a solution, an initial guess, A or
/// b; any tree) holds NaN or Inf: the one error for a non-finite input at every entry point.
template <class Input>
void require_finite_input(const Input& input, std::string_view entry, std::string_view what) {
  bool finite = true;
  for_each_leaf(input, [&finite](const auto& leaf) { finite = finite && std::isfinite(to_double(leaf)); });
  if (finite) return;
  throw std::invalid_argument(std::string(entry) + ": " + std::string(what) +
                              " holds NaN or Inf; inputs must be finite");
}

/// A factorization the caller already has of ∂c/∂x at the solution, on doubles (`linear_solve` has
/// A's), or `NoFactor`: the rule factorizes then.
struct NoFactor {};

/// (∂c/∂θ)ᵀw at doubles (x, θ): in closed form when the conditions opt in, else one reverse sweep
/// of c recorded on a nested tape with x held constant.
template <class Conds, class Theta>
Eigen::VectorXd conditions_vjp_theta(const Conds& conds, const Eigen::VectorXd& x, const Theta& theta,
                                     const Eigen::VectorXd& w) {
  if constexpr (std::is_base_of_v<VjpShortcut, Conds>)
    return conds.vjp(x, theta, w).second;
  else
    return vjp_theta(conds, x, theta, w);
}

/// The factorization of ∂c/∂x at doubles (x, θ) by `ls`: the one factorization the rule uses at
/// every AD level.
template <class Conds, class Theta, class LS>
auto factor_conditions(const Conds& conds, const Eigen::VectorXd& x, const Theta& theta, const LS& ls,
                       const std::shared_ptr<SparsityCache>& structure = {}) {
  return factorize(ls, ConditionsJacobian<Conds, Theta>(conds, x, theta, structure));
}

/// `given` when the caller has a factorization on doubles, else a new one (with the sparsity
/// `structure` a solver learnt, if any).
template <class Conds, class Theta, class LS, class Factor>
decltype(auto) factor_or_given(const Conds& conds, const Eigen::VectorXd& x, const Theta& theta, const LS& ls,
                               const Factor& given, const std::shared_ptr<SparsityCache>& structure) {
  if constexpr (!std::is_same_v<Factor, NoFactor>)
    return (given);
  else
    return factor_conditions(conds, x, theta, ls, structure);
}

/// The number of AD levels of a scalar: 0 for `double`, 1 for `Var`, 1 + that of T for `Dual<T, N>`.
template <class T>
constexpr int ad_levels() {
  if constexpr (is_dual_v<T>)
    return 1 + ad_levels<value_type_t<T>>();
  else
    return std::is_arithmetic_v<T> ? 0 : 1;
}

/// J₀⁻¹R for R in T arithmetic, `factor` the factorization of J₀ on doubles. J₀⁻¹ is linear with
/// constant coefficients, so it maps each plane of a `Dual` (value, then each tangent, recursively)
/// on its own; on `Var` it is one tape node per column whose backward pass is R̄ = J₀⁻ᵀȲ.
template <class T, class Factor>
MatrixX<T> apply_inverse(const Factor& factor, const MatrixX<T>& r) {
  if constexpr (std::is_same_v<T, double>) {
    return factor.solve(r);
  } else if constexpr (is_dual_v<T>) {
    using U = value_type_t<T>;
    const MatrixX<U> values = r.unaryExpr([](const T& s) { return s.a; });
    MatrixX<T> out = apply_inverse<U>(factor, values).unaryExpr([](const U& a) { return T(a); });
    Eigen::Index directions = 0;
    for (Eigen::Index i = 0; i < r.size(); ++i)
      directions = std::max<Eigen::Index>(directions, r.data()[i].v.size());
    for (Eigen::Index i = 0; i < out.size(); ++i) out.data()[i].v.setZero(directions);
    for (Eigen::Index k = 0; k < directions; ++k) {
      const MatrixX<U> plane = r.unaryExpr([k](const T& s) { return k < s.v.size() ? s.v(k) : U(0.0); });
      const MatrixX<U> y = apply_inverse<U>(factor, plane);
      for (Eigen::Index i = 0; i < out.size(); ++i) out.data()[i].v(k) = y.data()[i];
    }
    return out;
  } else {
    static_assert(std::is_same_v<T, Var>, "ift: the implicit rule takes double, Dual or Var scalars");
    using Vector = typename deferred<Eigen::VectorXd, Factor>::type;
    const auto y = factor.solve(to_double(r).eval());
    MatrixX<T> out(r.rows(), r.cols());
    Tape* tape = Tape::active();
    if (tape == nullptr) throw TapeError("ift: the parameters hold Vars but no ift::Tape is active");
    const auto shared = std::make_shared<const std::decay_t<Factor>>(factor);
    for (Eigen::Index j = 0; j < r.cols(); ++j) {
      const std::vector<T> inputs(r.col(j).begin(), r.col(j).end());
      tape->add_node(std::span<const Var>(inputs), std::span<const double>(y.col(j).data(), y.rows()),
                     std::span<Var>(out.col(j).data(), out.rows()),
                     [shared](std::span<const double> y_bar, std::span<double> r_bar) {
                       const Vector g =
                           shared->solve_transposed(Eigen::Map<const Vector>(y_bar.data(), y_bar.size()));
                       for (std::size_t k = 0; k < r_bar.size(); ++k)
                         r_bar[k] = g(static_cast<Eigen::Index>(k));
                     });
    }
    return out;
  }
}

/// X = J⁻¹B for J = ∂c/∂x at (x, θ) in T arithmetic, with only the factorization of its values J₀
/// (`factor`). Write J = J₀ + ΔJ, ΔJ the part carried by AD perturbations. From X₀ = J₀⁻¹B₀ the
/// refinement X ← X + J₀⁻¹(B − J X) multiplies the error by −J₀⁻¹ΔJ, which raises its order in the
/// perturbations by one, so after as many steps as T has AD levels X is exact. For T = Dual<double>
/// that is X = X₀ + J₀⁻¹(B₁ − J₁X₀)ε. J is never factorized in T: one double factorization serves
/// every level, and no decomposition is instantiated on AD scalars.
template <class Conds, class T, class Theta, class Factor>
MatrixX<T> solve_nested(const Conds& conds, const VectorX<T>& x, const Theta& theta, const Factor& factor,
                        const MatrixX<T>& b) {
  if constexpr (std::is_same_v<T, double>) {
    return factor.solve(b);
  } else {
    const MatrixX<T> J = ConditionsJacobian<Conds, Theta, T>(conds, x, theta).dense();
    MatrixX<T> X =
        Eigen::MatrixXd(factor.solve(to_double(b).eval())).unaryExpr([](double a) { return T(a); });
    for (int level = 0; level < ad_levels<T>(); ++level) {
      const MatrixX<T> residual = b - J.lazyProduct(X);
      X += apply_inverse<T>(factor, residual);
    }
    return X;
  }
}

template <class Conds, class P, class Factor>
auto implicit_flat(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta, const Factor& factor);

/// Forward rule for θ of scalar `Dual<T, N>`; `factor` is that of ∂c/∂x on doubles.
template <class Conds, class P, class Factor>
auto forward_rule(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta, const Factor& factor) {
  using S = tree_scalar_t<P>;
  using T = value_type_t<S>;
  const auto theta_t = value(theta);
  const VectorX<T> x_t = implicit_flat(conds, x_star, theta_t, factor);

  // r = c(x*, θ) with x* held constant: its tangents are U = ∂c/∂θ·dθ.
  const VectorX<S> r = conds(VectorX<S>(x_t.template cast<S>()), theta);
  const Eigen::Index n = r.size();
  Eigen::Index directions = 0;
  for (Eigen::Index i = 0; i < n; ++i) directions = std::max<Eigen::Index>(directions, r(i).v.size());
  MatrixX<T> u = MatrixX<T>::Zero(n, directions);
  for (Eigen::Index i = 0; i < n; ++i)
    if (r(i).v.size() != 0) u.row(i) = -r(i).v.transpose();

  // ∂c/∂x · dx = U for all directions at once.
  const MatrixX<T> dx = directions ? solve_nested(conds, x_t, theta_t, factor, u) : u;
  VectorX<S> out(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    out(i).a = x_t(i);
    out(i).v = dx.row(i).transpose();
  }
  return out;
}

/// The Vars of θ's leaves (a new constant where a leaf is a plain double) and the active tape.
template <class P>
std::vector<Var> var_leaves(const P& theta) {
  if (Tape::active() == nullptr) throw TapeError("ift: the parameters hold Vars but no ift::Tape is active");
  std::vector<Var> inputs;
  inputs.reserve(static_cast<std::size_t>(tree_size(theta)));
  for_each_leaf(theta, [&](const auto& leaf) {
    if constexpr (is_var_v<decltype(leaf)>)
      inputs.push_back(leaf);
    else
      inputs.push_back(Var());
  });
  return inputs;
}

/// Reverse rule for θ of scalar `Var`: one custom node on the active tape, keeping `factor`, the
/// factorization of ∂c/∂x made while the forward pass runs (a Krylov method's is ∂c/∂x as an
/// operator); the node's backward pass solves (∂c/∂x)ᵀλ = x̄ once and pushes −λ through one VJP of c.
template <class Conds, class P, class Factor>
VectorX<Var> reverse_rule(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta,
                          const Factor& factor) {
  const std::vector<Var> inputs = var_leaves(theta);
  auto theta_d = value(theta);
  VectorX<Var> out(x_star.size());
  Tape::active()->add_node(
      std::span<const Var>(inputs), std::span<const double>(x_star.data(), x_star.size()),
      std::span<Var>(out.data(), out.size()),
      [conds, x_star, theta_d, factor](std::span<const double> x_bar, std::span<double> theta_bar) {
        const Eigen::VectorXd lambda =
            factor.solve_transposed(Eigen::Map<const Eigen::VectorXd>(x_bar.data(), x_bar.size()));
        const Eigen::VectorXd g = conditions_vjp_theta(conds, x_star, theta_d, lambda);
        for (std::size_t k = 0; k < theta_bar.size(); ++k) theta_bar[k] = -g(static_cast<Eigen::Index>(k));
      });
  return out;
}

/// x*(θ) as a flat vector of θ's AD scalar, derivatives attached by the rule for that scalar.
template <class Conds, class P, class Factor>
auto implicit_flat(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta, const Factor& factor) {
  using S = tree_scalar_t<P>;
  if constexpr (std::is_arithmetic_v<S>) {
    return VectorX<S>(x_star.template cast<S>());
  } else if constexpr (is_dual_v<S>) {
    return forward_rule(conds, x_star, theta, factor);
  } else {
    return reverse_rule(conds, x_star, theta, factor);
  }
}

/// c(x*, θ) on doubles, after checking that c is square (one condition per unknown).
template <class Conds, class P>
Eigen::VectorXd square_conditions(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta_d) {
  Eigen::VectorXd r = conds(x_star, theta_d);
  if (r.size() != x_star.size()) {
    std::ostringstream out;
    out << "ift::implicit: the conditions c(x, theta) return " << r.size() << " values for a state of size "
        << x_star.size() << "; c must be square (one condition per unknown)";
    throw std::invalid_argument(out.str());
  }
  return r;
}

/// Checks the conditions once on doubles: right size and finite, so that a wrong c fails with a
/// message here instead of as a corrupted derivative.
template <class Conds, class P>
void check_conditions(const Conds& conds, const Eigen::VectorXd& x_star, const P& theta_d) {
  if (!square_conditions(conds, x_star, theta_d).allFinite())
    throw std::invalid_argument("ift::implicit: the conditions c(x*, theta) are not finite");
}

template <class Conds>
inline constexpr bool is_user_conditions_v = false;
template <class C, class X>
inline constexpr bool is_user_conditions_v<Conditions<C, X>> = true;

/// The number of unknowns of a state known at compile time: 1 for a scalar, the rows of a
/// fixed-size vector, `Eigen::Dynamic` otherwise.
template <class X>
constexpr int fixed_rows() {
  if constexpr (Scalar<X>)
    return 1;
  else
    return X::RowsAtCompileTime;
}

/// A state's entries as a fixed-size column (a scalar as a 1-vector).
template <int n, class V>
auto fixed_column(const V& v) {
  if constexpr (Scalar<V>)
    return Eigen::Matrix<V, 1, 1>::Constant(v);
  else
    return Eigen::Matrix<typename V::Scalar, n, 1>(v);
}

/// Largest state the fixed-size rules take: its Jacobian lives on the stack (or in the tape node).
inline constexpr int max_fixed_rows = 16;

/// True when c and its state fit fixed-size Eigen types: the user's conditions on a state of at most
/// `max_fixed_rows` entries known at compile time, returning a state of that size, and a linear solver
/// that factorizes a fixed-size matrix (the dense ones; a scalar state divides).
template <class Conds, class X, class P, class LS>
constexpr bool fixed_size_conditions() {
  constexpr int n = fixed_rows<X>();
  if constexpr (!is_user_conditions_v<Conds> || n == Eigen::Dynamic || n > max_fixed_rows) {
    return false;
  } else {
    using R =
        std::decay_t<std::invoke_result_t<const decltype(Conds::c)&, const X&, const rebind_t<double, P>&>>;
    if constexpr (fixed_rows<R>() != n)
      return false;
    else
      return Scalar<X> || requires(const LS& ls, const Eigen::Matrix<double, n, n>& J) { ls.factor(J); };
  }
}

/// True when the forward rule can run entirely in fixed-size Eigen types: fixed-size conditions and
/// θ of `Dual<double, N>` with N fixed.
template <class Conds, class X, class P, class LS>
constexpr bool fixed_size_forward() {
  using S = tree_scalar_t<P>;
  if constexpr (!is_dual_v<S>) {
    return false;
  } else {
    return std::is_same_v<value_type_t<S>, double> && S::tangent_type::RowsAtCompileTime != Eigen::Dynamic &&
           fixed_size_conditions<Conds, X, P, LS>();
  }
}

/// True when the reverse rule can keep x*, ∂c/∂x and its factorization in fixed-size storage:
/// fixed-size conditions and θ of `Var`.
template <class Conds, class X, class P, class LS>
constexpr bool fixed_size_reverse() {
  return is_var_v<tree_scalar_t<P>> && fixed_size_conditions<Conds, X, P, LS>();
}

/// ∂c/∂x at doubles (x, θ) of a fixed-size state, by one forward pass on `Dual<double, n>`, whose
/// values (c itself, computed in the same double arithmetic) are checked finite.
template <int n, class X, class C, class Theta>
Eigen::Matrix<double, n, n> fixed_jacobian_x(const C& c, const Eigen::Matrix<double, n, 1>& x,
                                             const Theta& theta_d) {
  using D = Dual<double, n>;
  Eigen::Matrix<D, n, 1> x_seeded;
  for (int i = 0; i < n; ++i) x_seeded(i) = D(x(i), Eigen::Matrix<double, n, 1>::Unit(i));
  const Eigen::Matrix<D, n, 1> r_x = fixed_column<n>(c(unflat<X>(x_seeded), rebind<D>(theta_d)));
  Eigen::Matrix<double, n, n> J;
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(r_x(i).value()))
      throw std::invalid_argument("ift::implicit: the conditions c(x*, theta) are not finite");
    J.row(i) = r_x(i).v.transpose();
  }
  return J;
}

/// The factorization of a fixed-size ∂c/∂x by `ls` (a scalar state's by division).
template <class X, class LS, int n>
auto fixed_factor(const LS& ls, const Eigen::Matrix<double, n, n>& J) {
  if constexpr (Scalar<X>)
    return Division{linear_solver_name<LS>()}.factor(J);
  else
    return ls.factor(J);
}

/// The forward rule with no heap: ∂c/∂x by one forward pass on `Dual<double, n>`, U = −∂c/∂θ·dθ by
/// one pass on θ's duals, and the factorization and solve ∂c/∂x · dx = U in fixed-size matrices.
/// Same checks and errors as the general path.
template <class C, class X, class P, class LS>
auto fixed_forward(const C& c, const X& x_star, const P& theta, const LS& ls) {
  using S = tree_scalar_t<P>;
  constexpr int n = fixed_rows<X>();
  constexpr int N = S::tangent_type::RowsAtCompileTime;
  const auto theta_d = base_values(theta);
  const Eigen::Matrix<double, n, 1> x = fixed_column<n>(x_star);
  const Eigen::Matrix<double, n, n> J = fixed_jacobian_x<n, X>(c, x, theta_d);

  // r = c(x*, θ) with x* held constant: its tangents are −U.
  const Eigen::Matrix<S, n, 1> r_theta = fixed_column<n>(c(unflat<X>(x.template cast<S>().eval()), theta));
  Eigen::Matrix<double, n, N> u;
  for (int i = 0; i < n; ++i) u.row(i) = -r_theta(i).v.transpose();

  const Eigen::Matrix<double, n, N> dx = fixed_factor<X>(ls, J).solve(u);
  Eigen::Matrix<S, n, 1> out;
  for (int i = 0; i < n; ++i) out(i) = S(x(i), dx.row(i).transpose());
  return unflat<X>(out);
}

/// The reverse rule in fixed-size storage: ∂c/∂x by one forward pass and its factorization kept in
/// the node by value; the backward pass solves (∂c/∂x)ᵀλ = x̄ and forms θ̄ = −(∂c/∂θ)ᵀλ by forward
/// passes of c over θ's leaves, eight at a time (`Dual<double, 8>`) — for the few parameters of a
/// small problem cheaper than recording c on a nested tape. Same checks and errors as the general path.
template <class C, class X, class P, class LS>
auto fixed_reverse(const C& c, const X& x_star, const P& theta, const LS& ls) {
  constexpr int n = fixed_rows<X>();
  const std::vector<Var> inputs = var_leaves(theta);
  const auto theta_d = base_values(theta);
  const Eigen::Matrix<double, n, 1> x = fixed_column<n>(x_star);
  const auto factor = fixed_factor<X>(ls, fixed_jacobian_x<n, X>(c, x, theta_d));
  Eigen::Matrix<Var, n, 1> out;
  Tape::active()->add_node(
      std::span<const Var>(inputs), std::span<const double>(x.data(), n), std::span<Var>(out.data(), n),
      [c, x, theta_d, factor](std::span<const double> x_bar, std::span<double> theta_bar) {
        constexpr int K = 8;
        using D = Dual<double, K>;
        const Eigen::Matrix<double, n, 1> lambda =
            factor.solve_transposed(Eigen::Map<const Eigen::Matrix<double, n, 1>>(x_bar.data()));
        const auto x_d = unflat<X>(Eigen::Matrix<D, n, 1>(x.template cast<D>()));
        auto theta_k = rebind<D>(theta_d);
        const auto count = static_cast<Eigen::Index>(theta_bar.size());
        for (Eigen::Index first = 0; first < count; first += K) {
          Eigen::Index k = 0;
          for_each_leaf(theta_k, [&](auto& leaf) {
            if constexpr (is_dual_v<std::decay_t<decltype(leaf)>>) {
              leaf.v.setZero();
              if (k >= first && k < first + K) leaf.v(k - first) = 1.0;
            }
            ++k;
          });
          const Eigen::Matrix<D, n, 1> r = fixed_column<n>(c(x_d, theta_k));
          for (Eigen::Index l = first; l < std::min(count, first + K); ++l) {
            double dot = 0.0;
            for (int i = 0; i < n; ++i) dot += lambda(i) * r(i).v(l - first);
            theta_bar[static_cast<std::size_t>(l)] = -dot;
          }
        }
      });
  return unflat<X>(out);
}

/// x* with derivatives attached by the implicit rule; `given` is a factorization of ∂c/∂x at x* on
/// doubles that the caller already has, or `NoFactor{}`; `structure`, the sparsity structure the solver
/// learnt of ∂c/∂x elsewhere (checked at x* before use), or null.
template <class Conds, class X, class P, class LS, class Factor = NoFactor>
auto implicit_conditions(const Conds& conds, const X& x_star, const P& theta, const LS& ls,
                         const Factor& given = {}, const std::shared_ptr<SparsityCache>& structure = {}) {
  using S = tree_scalar_t<P>;
  if constexpr (std::is_arithmetic_v<S>) {
    return x_star;
  } else if constexpr (std::is_same_v<Factor, NoFactor> && fixed_size_forward<Conds, X, P, LS>()) {
    return fixed_forward(conds.c, x_star, theta, ls);
  } else if constexpr (std::is_same_v<Factor, NoFactor> && fixed_size_reverse<Conds, X, P, LS>()) {
    return fixed_reverse(conds.c, x_star, theta, ls);
  } else {
    const Eigen::VectorXd x = flat(x_star);
    const auto theta_d = base_values(theta);
    check_conditions(conds, x, theta_d);
    if constexpr (Scalar<X>) {
      return unflat<X>(implicit_flat(
          conds, x, theta, factor_conditions(conds, x, theta_d, Division{linear_solver_name<LS>()})));
    } else if constexpr (std::is_same_v<LS, Auto> && std::is_same_v<Factor, NoFactor> &&
                         fixed_rows<X>() != Eigen::Dynamic && fixed_rows<X>() <= max_fixed_rows) {
      // A J of a size known at compile time is small: `Auto` factorizes it densely, as the
      // fixed-size rules do, and its banded, sparse and CG paths are not compiled for it.
      return unflat<X>(implicit_flat(conds, x, theta, factor_conditions(conds, x, theta_d, DenseLU{})));
    } else {
      decltype(auto) factor = factor_or_given(conds, x, theta_d, ls, given, structure);
      return unflat<X>(implicit_flat(conds, x, theta, factor));
    }
  }
}

/// x with derivatives that are NaN: what a failed solve returns when its last iterate gives no
/// derivative (see `early_stop_derivatives`). NaN says so rather than a plausible zero.
template <class P>
auto undefined_derivatives_flat(const Eigen::VectorXd& x, const P& theta) {
  using S = tree_scalar_t<P>;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if constexpr (std::is_arithmetic_v<S>) {
    return VectorX<S>(x.template cast<S>());
  } else if constexpr (is_dual_v<S>) {
    using T = value_type_t<S>;
    const VectorX<T> inner = undefined_derivatives_flat(x, value(theta));
    Eigen::Index directions = 0;
    for_each_leaf(theta, [&](const auto& leaf) {
      if constexpr (is_dual_v<decltype(leaf)>) directions = std::max<Eigen::Index>(directions, leaf.v.size());
    });
    VectorX<S> out(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      out(i).a = inner(i);
      out(i).v = VectorX<T>::Constant(directions, T(nan));
    }
    return out;
  } else {
    const std::vector<Var> inputs = var_leaves(theta);
    const std::vector<double> partials(inputs.size(), nan);
    VectorX<Var> out(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) out(i) = Tape::active()->record(x(i), inputs, partials);
    return out;
  }
}

/// The derivatives of a solve that stopped early at x_k (status other than `converged`). After
/// `max_iterations` or `stalled` at a finite x_k the implicit rule is applied there: x_k solves
/// c(x, θ) = r_k exactly with r_k = c(x_k, θ) held fixed, and the rule gives that problem's exact
/// derivatives (∂c/∂x · dx = −∂c/∂θ · dθ needs no c = 0). When the iterate is not finite, the solver
/// stopped on a singular system or never iterated (`invalid_bracket`), or ∂c/∂x at x_k is singular
/// or c not finite there, the derivatives are NaN.
template <class Conds, class X, class P, class LS>
auto early_stop_derivatives(const Conds& conds, const Solution<X>& s, const P& theta, const LS& ls) {
  const bool iterated = s.status == Status::max_iterations || s.status == Status::stalled;
  const Eigen::VectorXd x = flat(s.x);
  if (iterated && x.allFinite() && conds(x, base_values(theta)).allFinite()) {
    try {
      return implicit_conditions(conds, s.x, theta, ls);
    } catch (const SingularJacobianError&) {
      // ∂c/∂x is singular at x_k: no derivative, NaN below.
    }
  }
  return unflat<X>(undefined_derivatives_flat(x, theta));
}

}  // namespace detail

/// A residual c(x, θ) the implicit rule can use: callable with a state and parameters of one
/// scalar type (here `double`), returning a state of the same shape.
template <class C, class X, class P>
concept ResidualFunction = State<X> &&
    requires(const C& c, const rebind_t<double, X>& x, const rebind_t<double, P>& p) {
  {c(x, p)};
};

namespace detail {

/// Inputs an entry point does not take: a state that is not a scalar or an Eigen column vector (or
/// column expression), or parameters that are not a tree. Entry points accept them in their
/// constraints, so that `accepted_inputs` reports them with one message instead of a cascade through
/// the concepts on the user's function.
template <class X, class P>
concept RejectedInputs = !State<X> || !Tree<P> || !rebinds_to<double, P>();

/// True when x (a state) and θ (a tree) are inputs the entry points take; otherwise false after one
/// static assertion that names the input.
template <class X, class P>
constexpr bool accepted_inputs() {
  static_assert(State<X>,
                "ift: the state (x0, or the solution given to ift::implicit) must be a scalar or an Eigen "
                "column vector of double, or an expression of one (Eigen::VectorXd::Zero(n), 2.0 * v)");
  if constexpr (!State<X>)
    return false;
  else if constexpr (!require_tree<P>())
    return false;
  else
    return require_rebinds_to<double, P>();
}

/// What an entry point returns when `accepted_inputs` has already failed the compilation: `R<Y>` with
/// the type Y a valid call would give, as far as it is known, so that the caller's use of the result
/// adds no error of its own.
template <template <class> class R, class X, class P = void>
auto rejected_result() {
  if constexpr (State<X> && Tree<P>)
    return R<rebind_t<tree_scalar_t<P>, plain_t<X>>>{};
  else if constexpr (std::is_default_constructible_v<plain_t<X>>)
    return R<plain_t<X>>{};
}

template <class X>
using Itself = X;

}  // namespace detail

/// Attaches derivatives to a solution found by any means: `x_star` solves c(x, θ) = 0 at the
/// values of `theta`; the result is `x_star` with θ's AD scalar, its derivatives given by the
/// implicit function theorem (see the comment at the top of this file). `c` is called with x and θ
/// of one scalar type and is copied into the tape when θ holds `Var`s, so whatever it refers to must
/// outlive the tape's gradient calls.
///
/// Throws `SingularJacobianError` when ∂c/∂x is (numerically) singular, `std::invalid_argument` when
/// x* or θ holds NaN or Inf or c is not square or not finite at x*, `TapeError` when θ holds `Var`s
/// with no active tape.
/// Cost: one factorization of ∂c/∂x (or one Krylov solve per direction) and O(1) evaluations of c.
template <class C, class X, class P, class Adjoint = Implicit<>>
requires detail::RejectedInputs<X, P> || ResidualFunction<C, X, P>
auto implicit(C&& c, const X& x_star, const P& theta, const Adjoint& adjoint = {}) {
  static_assert(!std::is_same_v<Adjoint, Unrolled>,
                "ift::implicit differentiates a solution found elsewhere; ift::Unrolled needs a solver to "
                "unroll — use ift::root, ift::fixed_point or ift::minimize with it");
  static_assert(is_implicit_v<Adjoint>, "ift::implicit: the adjoint must be ift::Implicit<LinearSolver>");
  if constexpr (!detail::accepted_inputs<X, P>()) {
    return detail::rejected_result<detail::Itself, X, P>();
  } else {
    static_assert(
        std::is_same_v<detail::state_scalar_t<X>, double>,
        "ift::implicit: x_star must hold plain doubles (the solution is not differentiated; theta is)");
    decltype(auto) x = detail::evaluated(x_star);
    decltype(auto) th = detail::evaluated(theta);
    detail::require_finite_input(x, "ift::implicit", "x_star");
    detail::require_finite_input(th, "ift::implicit", "theta");
    return detail::implicit_conditions(detail::Conditions<std::decay_t<C>, plain_t<X>>{std::forward<C>(c)}, x,
                                       th, adjoint.linear_solver);
  }
}

/// How `implicit_solution` judges an answer found elsewhere (fields in the order of the solvers' common
/// options, for designated initializers: `{.tol = 1e-10, .throw_on_failure = true}`).
struct ImplicitCheck {
  /// The answer is a solution when ‖c(x*, θ)‖₂ ≤ tol, the conditions evaluated on doubles.
  double tol = 1e-8;
  /// Throw `SolverError` for an answer that is not a solution, instead of reporting its status.
  bool throw_on_failure = false;
};

/// `implicit`, with the answer checked: returns a `Solution` whose `residual_norm` is ‖c(x*, θ)‖₂ on
/// doubles and whose status says whether x* is a solution to `check.tol`:
///  * `converged` when ‖c(x*, θ)‖₂ ≤ tol: `x` is `implicit(c, x_star, theta, adjoint)`,
///    `derivatives_exact` is true;
///  * `stalled` when the residual is finite but above tol (the outside solver stopped short): the
///    derivatives are those of a solve that stopped early (see `Solution::derivatives_exact`): the
///    implicit rule at x*, exact for the perturbed problem c(x, θ) = c(x*, θ₀) that x* solves, or NaN
///    when ∂c/∂x is singular there; `derivatives_exact` is false;
///  * `non_finite` when c(x*, θ) holds NaN or Inf: NaN derivatives.
/// `iterations` is 0. With `check.throw_on_failure` a status other than `converged` throws
/// `SolverError` (message: the residual and tol). Otherwise the errors of `implicit`; a singular ∂c/∂x
/// at an accepted answer throws `SingularJacobianError`; `std::invalid_argument` for a negative or NaN tol.
template <class C, class X, class P, class Adjoint = Implicit<>>
requires detail::RejectedInputs<X, P> || ResidualFunction<C, X, P>
auto implicit_solution(C&& c, const X& x_star, const P& theta, const ImplicitCheck& check = {},
                       const Adjoint& adjoint = {}) {
  static_assert(is_implicit_v<Adjoint>,
                "ift::implicit_solution: the adjoint must be ift::Implicit<LinearSolver> (a solution found "
                "elsewhere has no iterations to unroll)");
  if constexpr (!detail::accepted_inputs<X, P>()) {
    return detail::rejected_result<Solution, X, P>();
  } else {
    static_assert(std::is_same_v<detail::state_scalar_t<X>, double>,
                  "ift::implicit_solution: x_star must hold plain doubles (the solution is not "
                  "differentiated; theta is)");
    using Xp = plain_t<X>;
    using Y = rebind_t<tree_scalar_t<plain_t<P>>, Xp>;
    if (!(check.tol >= 0.0))
      throw std::invalid_argument("ift::implicit_solution: tol must be a non-negative number");
    const Xp& x = detail::evaluated(x_star);
    decltype(auto) th = detail::evaluated(theta);
    detail::require_finite_input(x, "ift::implicit_solution", "x_star");
    detail::require_finite_input(th, "ift::implicit_solution", "theta");
    const detail::Conditions<std::decay_t<C>, Xp> conds{std::forward<C>(c)};
    const Eigen::VectorXd r = detail::square_conditions(conds, detail::flat(x), detail::base_values(th));
    const double residual = r.norm();
    const Status status = !r.allFinite()          ? Status::non_finite
                          : residual <= check.tol ? Status::converged
                                                  : Status::stalled;
    if (status != Status::converged && check.throw_on_failure) {
      std::ostringstream out;
      out << "ift::implicit_solution: the answer given does not solve the conditions: ";
      if (status == Status::non_finite)
        out << "c(x*, theta) is not finite";
      else
        out << "||c(x*, theta)|| = " << residual << " > tol = " << check.tol;
      throw SolverError(out.str());
    }
    if (status == Status::converged)
      return Solution<Y>{detail::implicit_conditions(conds, x, th, adjoint.linear_solver), status, 0,
                         residual, true};
    return Solution<Y>{detail::early_stop_derivatives(conds, Solution<Xp>{x, status, 0, residual}, th,
                                                      adjoint.linear_solver),
                       status, 0, residual, false};
  }
}

}  // namespace ift
