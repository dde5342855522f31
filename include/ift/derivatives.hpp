#pragma once
// Derivatives of generic functions of a vector: Jacobians, gradients, Hessians and the two
// products J·v and Jᵀ·w.
//
// `f` is any callable written generically over its argument's scalar (a lambda with `const auto&`
// parameter). It is called with an Eigen column vector of the same compile-time size as `x` whose
// scalar is the AD type the helper chooses, and returns a scalar, an Eigen object, or any
// parameter tree (flattened in its flatten order) of that same scalar. `x` may hold `double` or an
// AD scalar T (`Dual<…>`, `Var`), so that code written with these helpers can itself be
// differentiated: the results are then in T arithmetic and carry derivatives of derivatives.
//
// The modes and what they cost, for f: ℝⁿ → ℝᵐ and cost(f) one evaluation on `double`:
//
//   jacobian, value_and_jacobian   forward mode, chunks of K directions (K = n for a fixed
//       n ≤ 8, else 8): f runs ⌈n/K⌉ times on `Dual<T, K>`, and pass p fills columns
//       pK … pK+K−1 of J. Each pass costs about (1 + K)·cost(f), so J costs O(n·cost(f)).
//   jvp      one pass on `Dual<T, 1>` seeded with v: J·v for about 2·cost(f).
//   vjp      reverse mode: f is recorded once on a nested `Tape` of `Var`, and one sweep from the
//       seeds w gives Jᵀw, for a small multiple of cost(f) independent of n. `double` only.
//   gradient (m = 1) for `double` x: reverse mode as vjp, ∇f for O(cost(f)) whatever n is. For an
//       AD scalar x (Var cannot be nested in Var), forward mode as jacobian: O(n·cost(f)).
//   hessian  (m = 1) two ways:
//       reverse-over-forward, for `double` x of run-time size or n > 8: pass j records
//       f(x + ε eⱼ) on `Dual<Var, 1>`; the tangent is ∂f/∂xⱼ as a `Var`, and one reverse sweep
//       of it gives column j of H, ∇(∂f/∂xⱼ) = H eⱼ. n passes of O(cost(f)): O(n·cost(f)).
//       forward-over-forward, otherwise: x = (x + Σₖ e_{a+k} ε₁ₖ) + Σₗ e_{b+l} ε₂ₗ on
//       `Dual<Dual<T, K>, K>`; the ε₁ₖ ε₂ₗ coefficient of f is H(b+l, a+k), a K×K block per pass.
//       By symmetry only blocks b ≤ a are evaluated: p(p+1)/2 passes with p = ⌈n/K⌉, each about
//       (1 + K)²·cost(f): O(n²·cost(f)); a single pass, with no tape, for a fixed n ≤ 8.

#include <Eigen/Core>
#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "ift/detail/traits.hpp"
#include "ift/dual.hpp"
#include "ift/tree.hpp"
#include "ift/var.hpp"

namespace ift {
namespace detail {

/// Tangent directions per forward pass: all of them for a fixed n ≤ 8, else 8.
template <int N>
inline constexpr int chunk_size = (N != Dynamic && N >= 1 && N <= 8) ? N : 8;

/// x as a column vector of the AD scalar S: zero tangents for a Dual, new independent
/// variables on the active tape for Var.
template <class S, class V>
Eigen::Matrix<S, V::SizeAtCompileTime, 1> lift_input(const V& x) {
  Eigen::Matrix<S, V::SizeAtCompileTime, 1> out;
  out.resize(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) out(i) = S(x(i));
  return out;
}

/// f's output already a flat vector of S, as an rvalue: moved, not copied.
template <class S>
Eigen::VectorX<S> flat_output(Eigen::VectorX<S>&& y) {
  return std::move(y);
}

/// f's output as a flat vector of S: a scalar, an Eigen object or expression, or a parameter tree.
template <class S, class Y>
Eigen::VectorX<S> flat_output(const Y& y) {
  if constexpr (Tree<Y>) {
    static_assert(std::is_same_v<tree_scalar_t<Y>, S>,
                  "ift: f must return values of the scalar type it is called with");
    return flatten(y);
  } else {
    static_assert(std::is_base_of_v<Eigen::EigenBase<Y>, Y>,
                  "ift: f must return a scalar, an Eigen object or a parameter tree");
    return flat_output<S>(y.eval());
  }
}

/// f's output when it must be one scalar of type S.
template <class S, class Y>
const S& scalar_output(const Y& y) {
  static_assert(std::is_same_v<Y, S>, "ift: f must return a scalar (of the type it is called with)");
  return y;
}

/// The requirements on x shared by every helper.
template <class Derived>
constexpr void check_vector() {
  static_assert(Derived::IsVectorAtCompileTime, "ift: x must be an Eigen vector");
  static_assert(Scalar<typename Derived::Scalar>, "ift: x must hold double or an AD scalar");
}

inline void check_size(Eigen::Index expected, Eigen::Index got, const char* what) {
  if (expected != got)
    throw std::invalid_argument(std::string("ift: ") + what + " has " + std::to_string(got) +
                                " entries, expected " + std::to_string(expected));
}

/// Runs f on x with K unit tangent directions at a time: the pass starting at `first` seeds
/// x_{first+l} with eₗ for l < count and hands (f's output, first, count) to `sink`. There is
/// always at least one pass, so f's value is known even for n = 0.
template <int K, class F, class V, class Sink>
void forward_passes(F& f, const V& x, Sink&& sink) {
  using T = typename V::Scalar;
  using D = Dual<T, K>;
  const Eigen::Index n = x.size();
  auto xd = lift_input<D>(x);
  const T one = constant_of<T>(1.0);
  const T zero = constant_of<T>(0.0);
  Eigen::Index first = 0;
  do {
    const Eigen::Index count = std::min<Eigen::Index>(K, n - first);
    for (Eigen::Index l = 0; l < count; ++l) xd(first + l).tangent()(l) = one;
    sink(f(std::as_const(xd)), first, count);
    for (Eigen::Index l = 0; l < count; ++l) xd(first + l).tangent()(l) = zero;
    first += K;
  } while (first < n);
}

/// Hessian by forward-over-forward passes on `Dual<Dual<T, K>, K>`, blocks b ≤ a only.
template <int K, class F, class V>
Eigen::MatrixX<typename V::Scalar> hessian_forward_over_forward(F& f, const V& x) {
  using T = typename V::Scalar;
  using Inner = Dual<T, K>;
  using Outer = Dual<Inner, K>;
  const Eigen::Index n = x.size();
  Eigen::MatrixX<T> H(n, n);
  Eigen::Matrix<Outer, V::SizeAtCompileTime, 1> xd;
  xd.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) xd(i) = Outer(Inner(x(i)));
  const T one = constant_of<T>(1.0);
  const T zero = constant_of<T>(0.0);
  const Inner inner_one = constant_of<Inner>(1.0);
  const Inner inner_zero = constant_of<Inner>(0.0);
  for (Eigen::Index a = 0; a < n; a += K) {
    const Eigen::Index count_a = std::min<Eigen::Index>(K, n - a);
    for (Eigen::Index k = 0; k < count_a; ++k) xd(a + k).value().tangent()(k) = one;
    for (Eigen::Index b = 0; b <= a; b += K) {
      const Eigen::Index count_b = std::min<Eigen::Index>(K, n - b);
      for (Eigen::Index l = 0; l < count_b; ++l) xd(b + l).tangent()(l) = inner_one;
      const Outer y = scalar_output<Outer>(f(std::as_const(xd)));
      for (Eigen::Index l = 0; l < count_b; ++l) {
        for (Eigen::Index k = 0; k < count_a; ++k) {
          H(b + l, a + k) = y.tangent()(l).tangent()(k);
          if (b != a) H(a + k, b + l) = H(b + l, a + k);
        }
      }
      for (Eigen::Index l = 0; l < count_b; ++l) xd(b + l).tangent()(l) = inner_zero;
    }
    for (Eigen::Index k = 0; k < count_a; ++k) xd(a + k).value().tangent()(k) = zero;
  }
  return H;
}

/// Hessian by reverse-over-forward: column j is the gradient of ∂f/∂xⱼ, recorded on `Dual<Var, 1>`.
template <class F, class V>
Eigen::MatrixXd hessian_reverse_over_forward(F& f, const V& x) {
  using D = typename deferred<Dual<Var, 1>, F>::type;
  constexpr int N = V::SizeAtCompileTime;
  const Eigen::Index n = x.size();
  typename deferred<Eigen::MatrixXd, F>::type H(n, n);
  Tape tape;
  Eigen::Matrix<Var, N, 1> xv;
  xv.resize(n);
  Eigen::Matrix<D, N, 1> xd;
  xd.resize(n);
  for (Eigen::Index j = 0; j < n; ++j) {
    tape.clear();  // keeps the memory: the next recording allocates nothing
    for (Eigen::Index i = 0; i < n; ++i) {
      xv(i) = Var(x(i));
      xd(i) = D(xv(i), Var::constant(i == j ? 1.0 : 0.0));
    }
    const D y = scalar_output<D>(f(std::as_const(xd)));
    H.col(j) = tape.gradient(y.tangent()(0), xv);
  }
  return H;
}

}  // namespace detail

/// f(x) and its m × n Jacobian, by chunked forward mode (see the top of this header); a scalar f
/// gives a 1-vector and a 1 × n matrix. `x`: an Eigen vector of `double` or of an AD scalar T.
template <class F, class Derived>
std::pair<Eigen::VectorX<typename Derived::Scalar>, Eigen::MatrixX<typename Derived::Scalar>>
value_and_jacobian(F&& f, const Eigen::MatrixBase<Derived>& x) {
  using T = typename Derived::Scalar;
  constexpr int K = detail::chunk_size<Derived::SizeAtCompileTime>;
  using D = Dual<T, K>;
  detail::check_vector<Derived>();
  const typename Derived::PlainObject& xp = x.derived();
  Eigen::VectorX<T> y;
  Eigen::MatrixX<T> J;
  detail::forward_passes<K>(f, xp, [&](const auto& output, Eigen::Index first, Eigen::Index count) {
    const Eigen::VectorX<D> out = detail::flat_output<D>(output);
    if (first == 0) {
      y.resize(out.size());
      J.resize(out.size(), xp.size());
      for (Eigen::Index i = 0; i < out.size(); ++i) y(i) = out(i).value();
    }
    detail::check_size(y.size(), out.size(), "f's output");
    for (Eigen::Index l = 0; l < count; ++l)
      for (Eigen::Index i = 0; i < out.size(); ++i) J(i, first + l) = out(i).tangent()(l);
  });
  return {std::move(y), std::move(J)};
}

/// The m × n Jacobian ∂f/∂x by chunked forward mode.
template <class F, class Derived>
Eigen::MatrixX<typename Derived::Scalar> jacobian(F&& f, const Eigen::MatrixBase<Derived>& x) {
  return value_and_jacobian(f, x).second;
}

/// (f(x), J·v) from one forward pass on `Dual<T, 1>`: a pair of T for a scalar f, else a pair of
/// `Eigen::VectorX<T>`. `v` has the size of `x` and holds T or `double`.
template <class F, class DX, class DV>
auto jvp(F&& f, const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DV>& v) {
  using T = typename DX::Scalar;
  using D = Dual<T, 1>;
  detail::check_vector<DX>();
  detail::check_size(x.size(), v.size(), "the direction v");
  const typename DX::PlainObject& xp = x.derived();
  auto xd = detail::lift_input<D>(xp);
  for (Eigen::Index i = 0; i < xp.size(); ++i) xd(i).tangent()(0) = detail::constant_of<T>(v(i));
  auto y = f(std::as_const(xd));
  if constexpr (std::is_same_v<decltype(y), D>) {
    return std::pair<T, T>(y.value(), y.tangent()(0));
  } else {
    const Eigen::VectorX<D> out = detail::flat_output<D>(std::move(y));
    std::pair<Eigen::VectorX<T>, Eigen::VectorX<T>> result(Eigen::VectorX<T>(out.size()),
                                                           Eigen::VectorX<T>(out.size()));
    for (Eigen::Index i = 0; i < out.size(); ++i) {
      result.first(i) = out(i).value();
      result.second(i) = out(i).tangent()(0);
    }
    return result;
  }
}

namespace detail {

/// One reverse sweep of `tape` seeded with the adjoints w of its outputs y (a vector of `Var`), after
/// checking that they match in size.
template <class Y, class W>
void sweep_outputs(Tape& tape, const Y& y, const W& w) {
  check_size(y.size(), w.size(), "the adjoint w");
  tape.backward(std::span<const Var>(y.data(), static_cast<std::size_t>(y.size())),
                std::span<const double>(w.data(), static_cast<std::size_t>(w.size())));
}

}  // namespace detail

/// (f(x), Jᵀw) from one recording on a nested `Tape` and one reverse sweep. `x` holds `double`;
/// `w` is a number for a scalar f (the pair is then (double, VectorXd)), else an Eigen vector of
/// f's output size (the pair is (VectorXd, VectorXd)).
template <class F, class DX, class W>
auto vjp(F&& f, const Eigen::MatrixBase<DX>& x, const W& w) {
  detail::check_vector<DX>();
  static_assert(std::is_same_v<typename DX::Scalar, double>,
                "ift::vjp: x must hold double (reverse mode records f on a nested Tape of Var)");
  const typename DX::PlainObject& xp = x.derived();
  Tape tape;
  const auto xv = detail::lift_input<Var>(xp);  // Var(double): independent variables
  auto y = f(std::as_const(xv));
  const auto adjoints = [&] {
    Eigen::VectorXd x_bar(xv.size());
    for (Eigen::Index i = 0; i < xv.size(); ++i) x_bar(i) = tape.adjoint(xv(i));
    return x_bar;
  };
  if constexpr (std::is_same_v<decltype(y), Var>) {
    static_assert(std::is_arithmetic_v<W>, "ift::vjp: for a scalar-valued f, w is a number");
    tape.backward(y, static_cast<double>(w));
    return std::pair<double, Eigen::VectorXd>(y.value(), adjoints());
  } else {
    static_assert(std::is_base_of_v<Eigen::EigenBase<W>, W>,
                  "ift::vjp: for a vector-valued f, w is an Eigen vector of double");
    const Eigen::VectorX<Var> out = detail::flat_output<Var>(std::move(y));
    detail::sweep_outputs(tape, out, Eigen::VectorXd(w));
    Eigen::VectorXd values(out.size());
    for (Eigen::Index i = 0; i < out.size(); ++i) values(i) = out(i).value();
    return std::pair<Eigen::VectorXd, Eigen::VectorXd>(std::move(values), adjoints());
  }
}

namespace detail {

/// θ̄ after a reverse sweep on `tape`: the adjoint of each leaf of θ (a tree of `Var`) in θ's flatten
/// order, 0 at a constant leaf (a `double` field in a struct of `Var`s).
template <class ThetaV>
Eigen::VectorXd leaf_adjoints(const Tape& tape, const ThetaV& theta) {
  using Vector = typename deferred<Eigen::VectorXd, ThetaV>::type;  // compiled only when used
  Vector theta_bar(tree_size(theta));
  Eigen::Index k = 0;
  for_each_leaf(theta, [&](const auto& leaf) {
    if constexpr (is_var_v<decltype(leaf)>)
      theta_bar(k++) = tape.adjoint(leaf);
    else
      theta_bar(k++) = 0.0;
  });
  return theta_bar;
}

/// (∂f/∂θ)ᵀw of f(x, θ) at doubles x and θ, from one recording on a nested `Tape` with x held
/// constant: only the operations that depend on θ are recorded and swept. The reverse rule needs
/// no more (its x̄ is λ itself), and where θ enters f late — a residual minus θ, a forcing term — the
/// tape is a fraction of the one `vjp` records.
template <class F, class Theta>
Eigen::VectorXd vjp_theta(const F& f, const Eigen::VectorXd& x, const Theta& theta,
                          const Eigen::VectorXd& w) {
  Tape tape;
  const rebind_t<Var, Theta> theta_v = rebind<Var>(theta);
  Eigen::VectorX<Var> x_c(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) x_c(i) = Var::constant(x(i));
  const Eigen::VectorX<Var> y = flat_output<Var>(f(std::as_const(x_c), theta_v));
  sweep_outputs(tape, y, w);
  return leaf_adjoints(tape, theta_v);
}

}  // namespace detail

/// f(x, θ) recorded once on a nested `Tape` at doubles x and θ (a parameter tree), so that many
/// VJPs — one per iteration of a Krylov solve with Jᵀ — cost one reverse sweep each and no
/// evaluation of f. f is called with x and θ of scalar `Var` and returns a `Var`, an Eigen object or
/// a tree of them. The tape is this thread's active tape while the object lives, so it must live in
/// a scope (as tapes nest: last constructed, first destroyed).
template <class F, class Theta>
class Pullback {
  using Vector = typename detail::deferred<Eigen::VectorXd, F>::type;  // compiled only when used

 public:
  Pullback(const F& f, const Vector& x, const Theta& theta)
      : theta_(rebind<Var>(theta)),
        x_(detail::lift_input<Var>(x)),
        y_(detail::flat_output<Var>(f(std::as_const(x_), std::as_const(theta_)))) {}
  Pullback(const Pullback&) = delete;
  Pullback& operator=(const Pullback&) = delete;

  /// The number of outputs of f.
  Eigen::Index outputs() const { return y_.size(); }

  /// ((∂f/∂x)ᵀw, (∂f/∂θ)ᵀw), the second flattened in θ's flatten order.
  std::pair<Vector, Vector> operator()(const Vector& w) {
    detail::sweep_outputs(tape_, y_, w);
    Vector x_bar(x_.size());
    for (Eigen::Index i = 0; i < x_.size(); ++i) x_bar(i) = tape_.adjoint(x_(i));
    return {std::move(x_bar), detail::leaf_adjoints(tape_, theta_)};
  }

 private:
  Tape tape_;  // declared first: the members below record on it
  rebind_t<Var, Theta> theta_;
  Eigen::VectorX<Var> x_;
  Eigen::VectorX<Var> y_;
};

/// ((∂f/∂x)ᵀw, (∂f/∂θ)ᵀw) of f(x, θ) at doubles x and θ (a parameter tree) from one recording on
/// a nested `Tape` and one reverse sweep; θ̄ is flattened in θ's flatten order. For a scalar f, w is
/// a vector of one entry.
template <class F, class Theta>
std::pair<Eigen::VectorXd, Eigen::VectorXd> vjp(const F& f, const Eigen::VectorXd& x, const Theta& theta,
                                                const Eigen::VectorXd& w) {
  return Pullback<F, Theta>(f, x, theta)(w);
}

namespace detail {

/// (H v, ∂²f/∂θ∂x · v) of a scalar f(x, θ) at doubles x and θ (H = ∂²f/∂x²): the gradient in (x, θ)
/// of the directional derivative vᵀ∇ₓf = d/dε f(x + εv, θ), the tangent of f on `Dual<Var, 1>` with x
/// seeded by v — one reverse-over-forward pass. `f` takes a vector of `Dual<Var, 1>` and θ of `Var`.
template <class F, class Vector, class Theta, class V>
std::pair<Vector, Vector> hessian_vector_products(const F& f, const Vector& x, const Theta& theta,
                                                  const V& v) {
  const auto directional = [&](const auto& xv, const auto& theta_v) {
    using D = Dual<typename std::remove_cvref_t<decltype(xv)>::Scalar, 1>;  // of Var
    Eigen::VectorX<D> xd(xv.size());
    for (Eigen::Index i = 0; i < xv.size(); ++i) xd(i) = D(xv(i), Var::constant(v(i)));
    return f(xd, theta_v).v(0);
  };
  return ift::vjp(directional, x, theta, Vector::Ones(1));
}

}  // namespace detail

/// ∇f(x) of a scalar f: reverse mode on a nested `Tape` for `double` x, chunked forward mode
/// when x holds an AD scalar T (then the gradient is in T arithmetic).
template <class F, class Derived>
Eigen::VectorX<typename Derived::Scalar> gradient(F&& f, const Eigen::MatrixBase<Derived>& x) {
  using T = typename Derived::Scalar;
  detail::check_vector<Derived>();
  const typename Derived::PlainObject& xp = x.derived();
  if constexpr (std::is_same_v<T, double>) {
    Tape tape;
    const auto xv = detail::lift_input<Var>(xp);  // Var(double): independent variables
    const Var y = detail::scalar_output<Var>(f(xv));
    return tape.gradient(y, xv);
  } else {
    constexpr int K = detail::chunk_size<Derived::SizeAtCompileTime>;
    using D = Dual<T, K>;
    Eigen::VectorX<T> g(xp.size());
    detail::forward_passes<K>(f, xp, [&](const auto& output, Eigen::Index first, Eigen::Index count) {
      const D& y = detail::scalar_output<D>(output);
      for (Eigen::Index l = 0; l < count; ++l) g(first + l) = y.tangent()(l);
    });
    return g;
  }
}

/// The n × n Hessian ∇²f(x) of a scalar f: reverse-over-forward for `double` x of run-time size
/// or n > 8, else forward-over-forward chunks (see the top of this header for the costs).
template <class F, class Derived>
Eigen::MatrixX<typename Derived::Scalar> hessian(F&& f, const Eigen::MatrixBase<Derived>& x) {
  using T = typename Derived::Scalar;
  constexpr int N = Derived::SizeAtCompileTime;
  detail::check_vector<Derived>();
  const typename Derived::PlainObject& xp = x.derived();
  if constexpr (std::is_same_v<T, double> && (N == Dynamic || N > 8))
    return detail::hessian_reverse_over_forward(f, xp);
  else
    return detail::hessian_forward_over_forward<detail::chunk_size<N>>(f, xp);
}

}  // namespace ift
