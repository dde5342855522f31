#pragma once
// Euclidean projections onto simple convex sets, differentiable almost everywhere.
//
// P_C(y) = argmin_{x ∈ C} ½‖x − y‖² for
//
//   project_box(y, lo, hi)      C = {lo ≤ x ≤ hi}            xᵢ = min(max(yᵢ, loᵢ), hiᵢ)
//   project_nonnegative(y)      C = {x ≥ 0}                  xᵢ = max(yᵢ, 0)
//   project_simplex(y, r = 1)   C = {x ≥ 0, Σx = r}          xᵢ = max(yᵢ − τ, 0)        (sparsemax for r = 1)
//   project_l1_ball(y, r)       C = {‖x‖₁ ≤ r}               y inside, else sign(y) ⊙ P_simplex(|y|, r)
//   project_l2_ball(y, r)       C = {‖x‖₂ ≤ r}               y · min(1, r/‖y‖₂)
//
// How the derivatives come out
// ----------------------------
// Each projection is piecewise smooth in y and in the set's parameters, and on each piece it has a
// closed form. The piece is chosen by comparing plain values (the numbers at the bottom of any nesting
// of AD scalars); the closed form of that piece is then evaluated in the AD scalar, so the derivative is
// exact on the piece, at every order, in every mode (`double`, `Dual<T, N>` with fixed or run-time N and
// nested, `Var`, `Dual<Var>`). For the simplex the threshold
//
//   τ = (Σ_{i∈S} yᵢ − r)/|S|,   S = {i : yᵢ > τ} the support,
//
// is found by sorting the values (Duchi, Shalev-Shwartz, Singer and Chandra, 2008, not bisection), and
// then recomputed in the AD scalar from y and r over S: hence ∂x_S/∂y_S = I − 1 1ᵀ/|S| (the sparsemax
// Jacobian diag(s) − s sᵀ/|S|, s the indicator of S), ∂x_S/∂r = 1/|S|, and entries outside S are the
// constant 0.
//
// Kinks: the boundary of a piece belongs to the active side. A coordinate on a bound (yᵢ = loᵢ) takes the
// bound, with the bound's derivative; an entry that lands exactly on the simplex threshold (yᵢ = τ) is
// outside the support (0, with derivative 0); a point on the sphere ‖y‖₁ = r or ‖y‖₂ = r is projected by
// the outside formula (value y, derivative the tangential part). With r = 0 the simplex and the l1 ball
// keep the largest entries in the support, so the derivative in r is the one-sided one from r > 0; the
// l1 and l2 balls at y = 0 with r = 0 give 0 with derivative 0.
//
// Types
// -----
// y is an Eigen vector (fixed or run-time size; an expression is evaluated once) of `double`, an AD scalar
// or the sparsity `Tracer`. A radius is a scalar, a box bound a scalar or an Eigen vector of y's size; each
// holds y's scalar or a plain number. The result is an Eigen column vector of y's size whose scalar is
// y's, or the bounds' when only they carry derivatives. Entries that do not depend on the inputs are
// constants (for `Dual<T, Dynamic>`, an empty tangent, which means zero). On `Tracer`s the dependencies are
// those of the piece y lies in, which is the pattern of the derivative there.
//
// Bad input is `std::invalid_argument`: a non-finite entry of y, a negative or non-finite radius, a NaN
// bound, lo > hi, a bound vector of the wrong size, an empty y for the simplex. Proximal operators are in
// ift/proximal.hpp.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "ift/detail/traits.hpp"

namespace ift {
namespace detail::projection {

/// An Eigen object or expression: derived from some `Eigen::EigenBase<D>` (not necessarily D = B: a
/// `VectorBlock` derives from the base of its `Block`).
template <class D>
std::true_type is_eigen_test(const Eigen::EigenBase<D>*);
std::false_type is_eigen_test(const void*);
template <class B>
inline constexpr bool is_eigen_v = decltype(is_eigen_test(static_cast<const B*>(nullptr)))::value;

/// A parameter of a set: a scalar, or an Eigen vector with one entry per coordinate.
template <class B>
concept Parameter = Scalar<B> || is_eigen_v<B>;

/// The scalar held by a parameter.
template <class B>
struct entry_scalar {
  using type = std::remove_cvref_t<B>;
};
template <class B>
requires is_eigen_v<B>
struct entry_scalar<B> {
  using type = typename B::Scalar;
};

/// The scalar A (y's so far) and a parameter's scalar B meet in: A when B is the same or a plain number,
/// B when only B carries derivatives, `void` when both carry derivatives of different kinds.
template <class A, class B>
using join_t = std::conditional_t<std::is_same_v<A, B> || std::is_arithmetic_v<B>, A,
                                  std::conditional_t<std::is_arithmetic_v<A>, B, void>>;

/// The scalar of the result for y of scalar Y and parameters P…
template <class Y, class... P>
struct result_scalar {
  using type = Y;
};
template <class Y, class P, class... Ps>
struct result_scalar<Y, P, Ps...> : result_scalar<join_t<Y, typename entry_scalar<P>::type>, Ps...> {};
template <class Y, class... P>
using result_scalar_t = typename result_scalar<Y, P...>::type;

/// A result scalar the projections compute in: a floating-point number, an AD scalar or the tracer.
template <class R>
inline constexpr bool supported_v = std::is_floating_point_v<R> || ADScalar<R> || is_tracer_v<R>;

/// The result: a column vector of R with y's compile-time size.
template <class R, class Derived>
using result_vector = Eigen::Matrix<R, Derived::SizeAtCompileTime, 1>;

[[noreturn]] inline void fail(const char* function, const std::string& message) {
  throw std::invalid_argument(std::string("ift::") + function + ": " + message);
}

/// Every entry of y finite (derivatives included): a projection of ±∞ or NaN has no meaning.
template <class V>
void require_finite(const V& y, const char* function) {
  using std::isfinite;
  for (Eigen::Index i = 0; i < y.size(); ++i)
    if (!isfinite(y(i))) fail(function, "y has a non-finite entry at index " + std::to_string(i));
}

/// A radius or a strength: finite (derivatives included) and ≥ 0.
template <class S>
void require_nonnegative(const S& s, const char* function, const char* name) {
  using std::isfinite;
  if (!isfinite(s) || to_double(s) < 0.0)
    fail(function, std::string(name) + " must be finite and >= 0, got " + std::to_string(to_double(s)));
}

/// A parameter with its expression evaluated once (an Eigen expression of `Var` would otherwise record
/// each entry anew at every read).
template <class B>
auto evaluated(const B& b) {
  if constexpr (is_eigen_v<B>)
    return typename B::PlainObject(b);
  else
    return b;
}

/// Entry i of an evaluated parameter: the scalar itself, or the vector's entry.
template <class B>
const auto& entry(const B& b, Eigen::Index i) {
  if constexpr (is_eigen_v<B>)
    return b(i);
  else
    return b;
}

/// A box bound: a vector of y's size or a scalar, no NaN (±∞ is a missing bound).
template <int Size, class B>
void require_bound(const B& b, Eigen::Index n, const char* name) {
  using std::isnan;
  if constexpr (is_eigen_v<B>) {
    static_assert(B::IsVectorAtCompileTime, "ift::project_box: a bound must be a scalar or an Eigen vector");
    static_assert(
        B::SizeAtCompileTime == Eigen::Dynamic || Size == Eigen::Dynamic || B::SizeAtCompileTime == Size,
        "ift::project_box: a bound vector must have y's size");
    if (b.size() != n)
      fail("project_box",
           std::string(name) + " has " + std::to_string(b.size()) + " entries, y has " + std::to_string(n));
    for (Eigen::Index i = 0; i < n; ++i)
      if (isnan(b(i)))
        fail("project_box", std::string(name) + " has a NaN entry at index " + std::to_string(i));
  } else if (isnan(b)) {
    fail("project_box", std::string(name) + " is NaN");
  }
}

/// The smallest entry of the support of the projection of u onto {x ≥ 0, Σx = r} (Duchi et al. 2008):
/// with u sorted decreasingly, τⱼ = (Σ_{k≤j} uₖ − r)/j and ρ = max{j : uⱼ > τⱼ}; the projection is
/// max(u − τ_ρ, 0) and its support {i : uᵢ ≥ u_ρ} (equal entries are in or out together, since uⱼ > τⱼ
/// holds on a prefix of the sorted u). ρ ≥ 1: for r = 0, where no j qualifies, the support is the set of
/// largest entries, as in the limit r → 0⁺. u is not empty.
inline double simplex_support_floor(std::vector<double> u, double r) {
  std::sort(u.begin(), u.end(), std::greater<>());
  double partial_sum = 0.0;
  double floor = u.front();
  for (std::size_t j = 0; j < u.size(); ++j) {
    partial_sum += u[j];
    if (u[j] - (partial_sum - r) / static_cast<double>(j + 1) > 0.0) floor = u[j];
  }
  return floor;
}

/// The projection on its support S = {i : σᵢvᵢ ≥ floor} (v the values of y, σ = 1 for the simplex,
/// σ = sign(v) for the l1 ball, whose caller excludes y = 0): xᵢ = σᵢ(σᵢyᵢ − τ) = yᵢ − σᵢτ with
/// τ = (Σ_{i∈S} σᵢyᵢ − r)/|S| evaluated in R from y and r, so that ∂x_S/∂y_S = D(I − 1 1ᵀ/|S|)D with
/// D = diag(σ_S) and ∂x_S/∂r = σ_S/|S|; outside S, xᵢ is the constant 0.
template <class R, bool Signed, class Y, class Radius>
result_vector<R, Y> shift_on_support(const Y& y, const Radius& radius, double floor) {
  const Eigen::Index n = y.size();
  // σᵢ for i ∈ S, 0 outside.
  std::vector<int> side(static_cast<std::size_t>(n));
  R sum = constant_of<R>(0.0);
  double count = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double v = to_double(y(i));
    const int sigma = Signed && v < 0.0 ? -1 : 1;
    if (sigma * v < floor) continue;
    side[static_cast<std::size_t>(i)] = sigma;
    count += 1.0;
    if (sigma > 0)
      sum += constant_of<R>(y(i));
    else
      sum -= constant_of<R>(y(i));
  }
  const R tau = (sum - constant_of<R>(radius)) / count;
  result_vector<R, Y> x(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int sigma = side[static_cast<std::size_t>(i)];
    if (sigma == 0)
      x(i) = constant_of<R>(0.0);
    else if (sigma > 0)
      x(i) = constant_of<R>(y(i)) - tau;
    else
      x(i) = constant_of<R>(y(i)) + tau;
  }
  return x;
}

/// y with every entry as an R (plain numbers become constants).
template <class R, class Y>
result_vector<R, Y> promoted(const Y& y) {
  result_vector<R, Y> x(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) x(i) = constant_of<R>(y(i));
  return x;
}

/// The constant zero vector of y's size.
template <class R, class Y>
result_vector<R, Y> zeros_like(const Y& y) {
  result_vector<R, Y> x(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) x(i) = constant_of<R>(0.0);
  return x;
}

}  // namespace detail::projection

/// Projection onto the box {lo ≤ x ≤ hi}: xᵢ = yᵢ strictly inside, the bound where yᵢ ≤ loᵢ or yᵢ ≥ hiᵢ
/// (with the bound's derivative). `lo`, `hi`: scalars or Eigen vectors of y's size, ±∞ for a missing
/// bound, lo ≤ hi.
/// @throws std::invalid_argument for a non-finite y, a NaN bound, lo > hi, or a bound of the wrong size.
template <class Derived, detail::projection::Parameter Lo, detail::projection::Parameter Hi>
auto project_box(const Eigen::MatrixBase<Derived>& y, const Lo& lo, const Hi& hi) {
  namespace p = detail::projection;
  using R = p::result_scalar_t<typename Derived::Scalar, Lo, Hi>;
  static_assert(Derived::IsVectorAtCompileTime, "ift::project_box: y must be an Eigen vector");
  static_assert(p::supported_v<R>,
                "ift::project_box: y, lo and hi must hold one scalar type (double, Dual, Var, Dual<Var>) "
                "or plain numbers");
  const typename Derived::PlainObject& yv = y.derived();
  const Eigen::Index n = yv.size();
  p::require_finite(yv, "project_box");
  const auto l = p::evaluated(lo);
  const auto h = p::evaluated(hi);
  p::require_bound<Derived::SizeAtCompileTime>(l, n, "lo");
  p::require_bound<Derived::SizeAtCompileTime>(h, n, "hi");
  for (Eigen::Index i = 0; i < n; ++i)
    if (detail::to_double(p::entry(l, i)) > detail::to_double(p::entry(h, i)))
      p::fail("project_box", "lo > hi at index " + std::to_string(i));
  p::result_vector<R, Derived> x(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double v = detail::to_double(yv(i));
    if (v <= detail::to_double(p::entry(l, i)))
      x(i) = detail::constant_of<R>(p::entry(l, i));
    else if (v >= detail::to_double(p::entry(h, i)))
      x(i) = detail::constant_of<R>(p::entry(h, i));
    else
      x(i) = detail::constant_of<R>(yv(i));
  }
  return x;
}

/// Projection onto the nonnegative orthant: xᵢ = yᵢ for yᵢ > 0, the constant 0 for yᵢ ≤ 0.
/// @throws std::invalid_argument for a non-finite y.
template <class Derived>
auto project_nonnegative(const Eigen::MatrixBase<Derived>& y) {
  namespace p = detail::projection;
  using R = typename Derived::Scalar;
  static_assert(Derived::IsVectorAtCompileTime, "ift::project_nonnegative: y must be an Eigen vector");
  static_assert(p::supported_v<R>, "ift::project_nonnegative: y must hold double, Dual, Var or Dual<Var>");
  const typename Derived::PlainObject& yv = y.derived();
  p::require_finite(yv, "project_nonnegative");
  p::result_vector<R, Derived> x(yv.size());
  for (Eigen::Index i = 0; i < yv.size(); ++i)
    x(i) = detail::to_double(yv(i)) > 0.0 ? yv(i) : detail::constant_of<R>(0.0);
  return x;
}

/// Projection onto the simplex {x ≥ 0, Σx = radius}, by sorting (Duchi et al. 2008); for radius 1 this
/// is sparsemax. xᵢ = max(yᵢ − τ, 0) with τ recomputed in the AD scalar on the support (see the top of
/// this header): Jacobian diag(s) − s sᵀ/|S| in y, s/|S| in the radius.
/// @throws std::invalid_argument for an empty or non-finite y, or a negative or non-finite radius.
template <class Derived, detail::projection::Parameter Radius = double>
auto project_simplex(const Eigen::MatrixBase<Derived>& y, const Radius& radius = 1.0) {
  namespace p = detail::projection;
  using R = p::result_scalar_t<typename Derived::Scalar, Radius>;
  static_assert(Derived::IsVectorAtCompileTime, "ift::project_simplex: y must be an Eigen vector");
  static_assert(Scalar<Radius>, "ift::project_simplex: the radius must be a scalar");
  static_assert(p::supported_v<R>,
                "ift::project_simplex: y and the radius must hold one scalar type (double, Dual, Var, "
                "Dual<Var>) or plain numbers");
  const typename Derived::PlainObject& yv = y.derived();
  p::require_finite(yv, "project_simplex");
  p::require_nonnegative(radius, "project_simplex", "the radius");
  if (yv.size() == 0) p::fail("project_simplex", "y is empty (the simplex has no point in 0 dimensions)");
  std::vector<double> values(static_cast<std::size_t>(yv.size()));
  for (Eigen::Index i = 0; i < yv.size(); ++i) values[static_cast<std::size_t>(i)] = detail::to_double(yv(i));
  const double floor = p::simplex_support_floor(std::move(values), detail::to_double(radius));
  return p::shift_on_support<R, false>(yv, radius, floor);
}

/// Projection onto the l1 ball {‖x‖₁ ≤ radius}: y where ‖y‖₁ < radius, else sign(y) ⊙ P_simplex(|y|, r)
/// (derivative D(I − 1 1ᵀ/|S|)D on the support S, D = diag(sign(y_S)), and sign(y_S)/|S| in the radius).
/// @throws std::invalid_argument for a non-finite y or a negative or non-finite radius.
template <class Derived, detail::projection::Parameter Radius>
auto project_l1_ball(const Eigen::MatrixBase<Derived>& y, const Radius& radius) {
  namespace p = detail::projection;
  using R = p::result_scalar_t<typename Derived::Scalar, Radius>;
  static_assert(Derived::IsVectorAtCompileTime, "ift::project_l1_ball: y must be an Eigen vector");
  static_assert(Scalar<Radius>, "ift::project_l1_ball: the radius must be a scalar");
  static_assert(p::supported_v<R>,
                "ift::project_l1_ball: y and the radius must hold one scalar type (double, Dual, Var, "
                "Dual<Var>) or plain numbers");
  const typename Derived::PlainObject& yv = y.derived();
  p::require_finite(yv, "project_l1_ball");
  p::require_nonnegative(radius, "project_l1_ball", "the radius");
  std::vector<double> magnitudes(static_cast<std::size_t>(yv.size()));
  double norm = 0.0;
  for (Eigen::Index i = 0; i < yv.size(); ++i) {
    magnitudes[static_cast<std::size_t>(i)] = std::abs(detail::to_double(yv(i)));
    norm += magnitudes[static_cast<std::size_t>(i)];
  }
  const double r = detail::to_double(radius);
  if (norm < r) return p::promoted<R>(yv);
  if (norm == 0.0) return p::zeros_like<R>(yv);  // y = 0 = r: the ball is {0}
  const double floor = p::simplex_support_floor(std::move(magnitudes), r);
  return p::shift_on_support<R, true>(yv, radius, floor);
}

/// Projection onto the l2 ball {‖x‖₂ ≤ radius}: y where ‖y‖₂ < radius, else y·r/‖y‖₂, whose Jacobian is
/// (I − u uᵀ)·r/‖y‖₂ with u = y/‖y‖₂, and u in the radius. ‖y‖₂ is computed scaled by max|yᵢ|, so that
/// it neither overflows nor underflows.
/// @throws std::invalid_argument for a non-finite y or a negative or non-finite radius.
template <class Derived, detail::projection::Parameter Radius>
auto project_l2_ball(const Eigen::MatrixBase<Derived>& y, const Radius& radius) {
  namespace p = detail::projection;
  using R = p::result_scalar_t<typename Derived::Scalar, Radius>;
  static_assert(Derived::IsVectorAtCompileTime, "ift::project_l2_ball: y must be an Eigen vector");
  static_assert(Scalar<Radius>, "ift::project_l2_ball: the radius must be a scalar");
  static_assert(p::supported_v<R>,
                "ift::project_l2_ball: y and the radius must hold one scalar type (double, Dual, Var, "
                "Dual<Var>) or plain numbers");
  using std::sqrt;
  const typename Derived::PlainObject& yv = y.derived();
  p::require_finite(yv, "project_l2_ball");
  p::require_nonnegative(radius, "project_l2_ball", "the radius");
  double scale = 0.0;
  for (Eigen::Index i = 0; i < yv.size(); ++i) scale = std::max(scale, std::abs(detail::to_double(yv(i))));
  if (scale == 0.0)  // y = 0: inside for r > 0; for r = 0 the ball is {0}
    return detail::to_double(radius) > 0.0 ? p::promoted<R>(yv) : p::zeros_like<R>(yv);
  double scaled_squares = 0.0;
  for (Eigen::Index i = 0; i < yv.size(); ++i) {
    const double q = detail::to_double(yv(i)) / scale;
    scaled_squares += q * q;
  }
  if (scale * std::sqrt(scaled_squares) < detail::to_double(radius)) return p::promoted<R>(yv);
  // ‖y‖ = scale·√(Σ (yᵢ/scale)²) in R; the scale is a constant, so the derivative is exact.
  const p::result_vector<R, Derived> yr = p::promoted<R>(yv);
  R sum = detail::constant_of<R>(0.0);
  for (Eigen::Index i = 0; i < yr.size(); ++i) {
    const R q = yr(i) / scale;
    sum += q * q;
  }
  const R factor = detail::constant_of<R>(radius) / (scale * sqrt(sum));
  p::result_vector<R, Derived> x(yr.size());
  for (Eigen::Index i = 0; i < yr.size(); ++i) x(i) = yr(i) * factor;
  return x;
}

}  // namespace ift
