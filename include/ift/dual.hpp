#pragma once
// Forward-mode automatic differentiation: the dual number `ift::Dual<T, N>`.
//
// The algebra
// -----------
// A dual number is x = a + v·ε, a value `a` and a tangent vector v = (v₁ … v_N), where ε = (ε₁ … ε_N)
// are infinitesimal units with εᵢεⱼ = 0 for every i, j (in particular ε² = 0). Because every product of
// two ε vanishes, a Taylor expansion stops after the linear term and is exact:
//
//   f(a + v·ε) = f(a) + f'(a) v·ε.
//
// So evaluating a program on duals carries its first derivative along. Seeding input i with the unit
// tangent eᵢ leaves ∂f/∂xᵢ in tangent i of the output; seeding the inputs with a direction d computes
// the Jacobian-vector product J·d in one pass; N directions give N columns of J at once.
//
// Each rule below is that expansion, written out:
//
//   (a + u ε) ± (b + w ε) = (a ± b) + (u ± w) ε
//   (a + u ε)(b + w ε)    = ab + (a w + b u) ε              the u w ε² term vanishes
//   (a + u ε)/(b + w ε)   = a/b + (u − (a/b) w)/b · ε       multiply above and below by (b − w ε)
//   f(a + u ε)            = f(a) + f'(a) u ε                each function states its f' where it is defined
//   g(a + u ε, b + w ε)   = g(a, b) + (∂₁g(a, b) u + ∂₂g(a, b) w) ε
//
// The value part is computed exactly as the same code on plain numbers would compute it (a/b is the
// correctly rounded quotient, not a·(1/b)), so a computation on duals never changes its values.
//
// Nesting gives higher orders
// ---------------------------
// The value type T may itself be a Dual. Every rule is written in T arithmetic and calls T's own
// functions (found by argument-dependent lookup), so the rules are themselves differentiated. With
// x = (x₀ + 1·ε₁) + (1 + 0·ε₁)·ε₂, a `Dual<Dual<double>>`, the result of f is
// (f + f' ε₁) + (f' + f'' ε₁) ε₂: the inner tangent of the outer tangent is the second derivative.
// `T` may also be `float` or the reverse-mode `ift::Var` (reverse-over-forward).
//
// Run-time directions
// -------------------
// With N = ift::Dynamic the tangent is an `Eigen::VectorX<T>` whose size is chosen at run time. A tangent
// of size 0 means "all zero": constants made from plain numbers carry no storage, and combining one with
// a tangent of size n gives size n. Two non-empty tangents of different sizes come from different
// seedings, which is a programming error: it throws `std::invalid_argument`. For a fixed N none of this
// size logic is compiled, and the tangent is a fixed-size Eigen vector that Eigen vectorizes.
//
// Points where a rule is singular
// -------------------------------
// * sqrt and cbrt at 0: value 0 and derivative +∞. The tangent is +∞ times the input's tangent with the
//   convention 0·∞ = 0: a direction the input does not depend on stays exactly 0 instead of becoming
//   0·∞ = NaN, so one singular input direction does not poison the others. The same convention (a zero
//   tangent component contributes 0 whatever its coefficient) is used at every singular point below.
// * pow(x, y): for x > 0 the rule is y x^(y−1) dx + x^y log(x) dy. For x < 0 the value is real only at
//   integer y; the dx part y x^(y−1) is then finite, and log(x) is never evaluated: a zero dy
//   contributes 0 and a nonzero dy gives NaN (moving y leaves the real numbers). For x = 0: y > 0 gives
//   a dy coefficient of 0 (0^y is constantly 0 there), y ≤ 0 gives −∞; y = 0 gives a dx coefficient of 0
//   (x^0 is constantly 1), 0 < y < 1 gives +∞ (the sqrt case), y ≥ 1 the finite y x^(y−1).
// * abs at 0: derivative 0, a subgradient (any value in [−1, 1] is one; 0 keeps minimizers still).
// * hypot at (0, 0): zero tangent, the same subgradient choice (hypot is a cone there).
// * atan2 at (0, 0): no limit exists, so a nonzero tangent gives NaN; zero tangents stay 0.
// * floor and ceil: derivative 0 (the value is locally constant almost everywhere).
// * min, max, fmin, fmax return the selected argument with its tangent; on a tie the first argument.
//   fmin and fmax ignore an argument whose value is NaN, as the <cmath> functions do.
// * Classification: isfinite(x) holds only if the value and every tangent are finite, isnan(x) if any of
//   them is NaN, isinf(x) if none is NaN and some is infinite; exactly one of the three holds. A NaN
//   tangent is as much a bug as a NaN value: a solver that checks isfinite on dual iterates must not
//   accept a point whose derivatives are garbage.
// These conventions fix the first-order part. A nested Dual's higher tangents at such a point may be
// infinite or NaN, except where the function is smooth there ((x²)'' = 2 at x = 0 comes out right).
//
// Comparisons compare values only (recursively, so nested duals compare their plain numbers). Branching
// on a comparison follows one branch, and its derivative, as ordinary code does.

#include <cmath>
#include <limits>
#include <numbers>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <Eigen/Core>

#include "ift/detail/eigen_internal.hpp"
#include "ift/detail/traits.hpp"

namespace ift {

namespace detail {

/// A built-in arithmetic type.
template <class S>
concept Arithmetic = std::is_arithmetic_v<S>;

/// An operand that a `Dual<T, N>` combines with as a constant: its value type or any arithmetic type.
template <class S, class T>
concept DualConstant = std::is_same_v<S, T> || std::is_arithmetic_v<S>;

/// A constant operand as it enters arithmetic at one level: a `T` as is, an arithmetic type as the
/// plain scalar at the bottom of `T`, so that `int` and `float` literals mix with any nesting.
template <class T, class S>
decltype(auto) level_constant(const S& s) {
  if constexpr (std::is_same_v<S, T>)
    return (s);
  else
    return static_cast<base_scalar_t<T>>(s);
}

/// Two non-empty run-time tangents of different sizes were combined: different seedings were mixed.
[[noreturn]] inline void throw_tangent_size_mismatch(Eigen::Index x, Eigen::Index y) {
  throw std::invalid_argument("ift::Dual: combining tangents of sizes " + std::to_string(x) + " and " +
                              std::to_string(y) +
                              "; only an empty tangent (a constant) combines with another size");
}

/// The size of a combination of two run-time tangents: equal sizes, or the non-empty one's.
template <class V>
Eigen::Index joint_size(const V& x, const V& y) {
  if (x.size() == y.size() || y.size() == 0) return x.size();
  if (x.size() == 0) return y.size();
  throw_tangent_size_mismatch(x.size(), y.size());
}

/// x·cx + y·cy for run-time tangents of different sizes, one of which must be empty (all zero).
template <class V, class CX, class CY>
V mixed_size_combination(const V& x, const CX& cx, const V& y, const CY& cy) {
  if (x.size() == 0) return y * cy;
  if (y.size() == 0) return x * cx;
  throw_tangent_size_mismatch(x.size(), y.size());
}

/// x + y for two tangents, either of which may be empty when sizes are chosen at run time.
template <class V>
V add_tangents(const V& x, const V& y) {
  if constexpr (V::SizeAtCompileTime == Eigen::Dynamic) {
    if (x.size() != y.size()) {
      if (x.size() == 0) return y;
      if (y.size() == 0) return x;
      throw_tangent_size_mismatch(x.size(), y.size());
    }
  }
  return x + y;
}

/// The all-zero tangent of the same size as `v`.
template <class V>
V zero_tangent_like(const V& v) {
  if constexpr (V::SizeAtCompileTime == Eigen::Dynamic)
    return V::Constant(v.size(), typename V::Scalar());
  else
    return V::Constant(typename V::Scalar());
}

/// The all-zero tangent of a constant: N zeros, or empty for a run-time size.
template <class V>
V constant_tangent() {
  if constexpr (V::SizeAtCompileTime == Eigen::Dynamic)
    return V();
  else
    return V::Constant(typename V::Scalar());
}

template <class V>
V strong_zero_scale(const V& t, const auto& c);

/// t·c where a zero t gives zero whatever c is (0·∞ = 0·NaN = 0), at every nesting level. Used only at
/// singular points, so that directions the input does not depend on keep a zero tangent.
template <class T, class C>
T strong_zero_product(const T& t, const C& c) {
  using B = base_scalar_t<T>;
  if constexpr (is_dual_v<T>) {
    if constexpr (std::is_same_v<C, T>) {
      // (t.a + t.v ε)(c.a + c.v ε) = t.a c.a + (t.v c.a + t.a c.v) ε, each product with the convention.
      typename T::tangent_type from_c =
          c.v.unaryExpr([&t](const auto& ci) { return strong_zero_product(t.a, ci); });
      return T(strong_zero_product(t.a, c.a), add_tangents(strong_zero_scale(t.v, c.a), from_c));
    } else {
      return T(strong_zero_product(t.a, c), strong_zero_scale(t.v, c));
    }
  } else {
    if (t == B(0)) return T(t * B(0));
    return T(t * c);
  }
}

/// Every component of the tangent `t` times `c`, with 0·c = 0 (see `strong_zero_product`).
template <class V>
V strong_zero_scale(const V& t, const auto& c) {
  return t.unaryExpr([&c](const typename V::Scalar& ti) { return strong_zero_product(ti, c); });
}

/// True when the plain value at the bottom of `x` is NaN (comparisons compare values, and only NaN is
/// unequal to itself).
template <class X>
bool value_is_nan(const X& x) {
  return x != x;
}

}  // namespace detail

/// Forward-mode dual number: value `a` and `N` tangents `v` (`N = ift::Dynamic` for a run-time count).
/// A plain struct with public members (no expression templates), nestable (`Dual<Dual<double>>`)
/// for higher derivatives; see the comment at the top of this header for the algebra and conventions.
template <class T, int N>
struct Dual {
  /// The value type, one level down.
  using value_type = T;
  /// The tangent vector: `Eigen::Matrix<T, N, 1>` (an `Eigen::VectorX<T>` for `N = Dynamic`).
  using tangent_type = Eigen::Matrix<T, N, 1>;

  /// The value.
  T a;
  /// The tangents (directional derivatives); empty for a run-time-sized constant.
  tangent_type v;

  /// Zero value, zero tangent (empty for `N = Dynamic`). `T()` is zero for every supported `T`.
  Dual() : a(), v(detail::constant_tangent<tangent_type>()) {}

  /// A constant: value `value`, zero tangent (empty for `N = Dynamic`).
  Dual(const T& value)  // NOLINT(google-explicit-constructor): constants convert implicitly
      : a(value), v(detail::constant_tangent<tangent_type>()) {}

  /// A constant from any arithmetic type, at every nesting level (`Dual<Dual<double>>(2)`).
  template <detail::Arithmetic S>
  Dual(S value)  // NOLINT(google-explicit-constructor): constants convert implicitly
      : a(detail::constant_of<T>(value)), v(detail::constant_tangent<tangent_type>()) {}

  /// Value and tangents; `tangent` is any Eigen vector expression with scalar `T`.
  template <class Derived>
  Dual(const T& value, const Eigen::MatrixBase<Derived>& tangent) : a(value), v(tangent) {}

  /// Value and tangents, taking over the tangent's storage.
  Dual(const T& value, tangent_type&& tangent) : a(value), v(std::move(tangent)) {}

  /// Value and derivative for one direction.
  Dual(const T& value, const T& derivative) requires(N == 1)
      : a(value), v(tangent_type::Constant(derivative)) {}

  /// Becomes the constant `value` (all tangents zero; a run-time-sized tangent keeps its size).
  Dual& operator=(const T& value) {
    a = value;
    v.setConstant(T());
    return *this;
  }

  /// Becomes the constant `value` from any arithmetic type.
  template <detail::Arithmetic S>
  Dual& operator=(S value) {
    a = detail::constant_of<T>(value);
    v.setConstant(T());
    return *this;
  }

  /// The value.
  const T& value() const noexcept { return a; }
  /// The value.
  T& value() noexcept { return a; }
  /// The tangents.
  const tangent_type& tangent() const noexcept { return v; }
  /// The tangents.
  tangent_type& tangent() noexcept { return v; }

  /// x ← x + y.
  Dual& operator+=(const Dual& y) {
    if constexpr (N == Dynamic) {
      if (v.size() != y.v.size()) return *this = *this + y;
    }
    a += y.a;
    v += y.v;
    return *this;
  }
  /// x ← x − y.
  Dual& operator-=(const Dual& y) {
    if constexpr (N == Dynamic) {
      if (v.size() != y.v.size()) return *this = *this - y;
    }
    a -= y.a;
    v -= y.v;
    return *this;
  }
  /// x ← x · y.
  Dual& operator*=(const Dual& y) {
    if constexpr (N == Dynamic) {
      if (v.size() != y.v.size()) return *this = *this * y;
    }
    // d(ab) = a db + b da, computed before a changes (v last: see two_argument_rule).
    v = y.v * a + v * y.a;
    a *= y.a;
    return *this;
  }
  /// x ← x / y.
  Dual& operator/=(const Dual& y) { return *this = *this / y; }

  /// x ← x + s for a constant s.
  template <detail::DualConstant<T> S>
  Dual& operator+=(const S& s) {
    a += detail::level_constant<T>(s);
    return *this;
  }
  /// x ← x − s for a constant s.
  template <detail::DualConstant<T> S>
  Dual& operator-=(const S& s) {
    a -= detail::level_constant<T>(s);
    return *this;
  }
  /// x ← x · s for a constant s.
  template <detail::DualConstant<T> S>
  Dual& operator*=(const S& s) {
    const auto& c = detail::level_constant<T>(s);
    a *= c;
    v = v * c;
    return *this;
  }
  /// x ← x / s for a constant s.
  template <detail::DualConstant<T> S>
  Dual& operator/=(const S& s) {
    const auto& c = detail::level_constant<T>(s);
    const auto inverse = base_scalar_t<T>(1) / c;
    a /= c;
    v = v * inverse;
    return *this;
  }
};

/// The value one level down: `Dual<T, N>` → `T`.
template <class T, int N>
const T& value(const Dual<T, N>& x) noexcept {
  return x.a;
}

namespace detail {

/// The constant `s` as a `Dual<T, N>` whose zero tangent has the size of `like`'s.
template <class T, int N, class S>
Dual<T, N> constant_like(const S& s, const Dual<T, N>& like) {
  if constexpr (std::is_same_v<S, T>)
    return Dual<T, N>(s, zero_tangent_like(like.v));
  else
    return Dual<T, N>(constant_of<T>(s), zero_tangent_like(like.v));
}

/// The two-argument chain rule g(x, y) = value + (cx·dx + cy·dy) ε. Written cy·dy + cx·dx so that the
/// compiler fuses x's term into the final multiply-add: in the common `p = p * x + c` chains the
/// accumulated tangent then waits on one operation per step instead of two.
template <class T, int N>
Dual<T, N> two_argument_rule(const T& value, const Dual<T, N>& x, const T& cx, const Dual<T, N>& y,
                             const T& cy) {
  if constexpr (N == Dynamic) {
    if (x.v.size() != y.v.size()) return Dual<T, N>(value, mixed_size_combination(x.v, cx, y.v, cy));
  }
  return Dual<T, N>(value, y.v * cy + x.v * cx);
}

/// The two-argument chain rule at a singular point: zero tangent components contribute zero.
template <class T, int N>
Dual<T, N> two_argument_rule_strong_zero(const T& value, const Dual<T, N>& x, const auto& cx,
                                         const Dual<T, N>& y, const auto& cy) {
  return Dual<T, N>(value, add_tangents(strong_zero_scale(x.v, cx), strong_zero_scale(y.v, cy)));
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------------
// Arithmetic. Constants (`T` or any arithmetic type) on either side skip the zero tangent entirely.

/// Unary plus: a copy.
template <class T, int N>
Dual<T, N> operator+(const Dual<T, N>& x) {
  return x;
}

/// Negation: −(a + v ε) = −a − v ε.
template <class T, int N>
Dual<T, N> operator-(const Dual<T, N>& x) {
  return Dual<T, N>(-x.a, -x.v);
}

/// (a + u ε) + (b + w ε) = (a + b) + (u + w) ε.
template <class T, int N>
Dual<T, N> operator+(const Dual<T, N>& x, const Dual<T, N>& y) {
  using B = base_scalar_t<T>;
  if constexpr (N == Dynamic) {
    if (x.v.size() != y.v.size())
      return Dual<T, N>(x.a + y.a, detail::mixed_size_combination(x.v, B(1), y.v, B(1)));
  }
  return Dual<T, N>(x.a + y.a, x.v + y.v);
}

/// (a + u ε) − (b + w ε) = (a − b) + (u − w) ε.
template <class T, int N>
Dual<T, N> operator-(const Dual<T, N>& x, const Dual<T, N>& y) {
  using B = base_scalar_t<T>;
  if constexpr (N == Dynamic) {
    if (x.v.size() != y.v.size())
      return Dual<T, N>(x.a - y.a, detail::mixed_size_combination(x.v, B(1), y.v, B(-1)));
  }
  return Dual<T, N>(x.a - y.a, x.v - y.v);
}

/// (a + u ε)(b + w ε) = ab + (b u + a w) ε.
template <class T, int N>
Dual<T, N> operator*(const Dual<T, N>& x, const Dual<T, N>& y) {
  return detail::two_argument_rule(T(x.a * y.a), x, y.a, y, x.a);
}

/// (a + u ε)/(b + w ε) = a/b + (u − (a/b) w)/b · ε. The value is the correctly rounded a/b.
template <class T, int N>
Dual<T, N> operator/(const Dual<T, N>& x, const Dual<T, N>& y) {
  using B = base_scalar_t<T>;
  const T inverse = B(1) / y.a;
  const T quotient = x.a / y.a;
  return detail::two_argument_rule(quotient, x, inverse, y, T(-quotient * inverse));
}

/// (a + u ε) + s = (a + s) + u ε for a constant s.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> operator+(const Dual<T, N>& x, const S& s) {
  return Dual<T, N>(x.a + detail::level_constant<T>(s), x.v);
}
/// s + (a + u ε) = (s + a) + u ε for a constant s.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> operator+(const S& s, const Dual<T, N>& x) {
  return Dual<T, N>(detail::level_constant<T>(s) + x.a, x.v);
}
/// (a + u ε) − s = (a − s) + u ε for a constant s.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> operator-(const Dual<T, N>& x, const S& s) {
  return Dual<T, N>(x.a - detail::level_constant<T>(s), x.v);
}
/// s − (a + u ε) = (s − a) − u ε for a constant s.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> operator-(const S& s, const Dual<T, N>& x) {
  return Dual<T, N>(detail::level_constant<T>(s) - x.a, -x.v);
}
/// (a + u ε)·s = a s + (u s) ε for a constant s.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> operator*(const Dual<T, N>& x, const S& s) {
  const auto& c = detail::level_constant<T>(s);
  return Dual<T, N>(x.a * c, x.v * c);
}
/// s·(a + u ε) = s a + (s u) ε for a constant s.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> operator*(const S& s, const Dual<T, N>& x) {
  const auto& c = detail::level_constant<T>(s);
  return Dual<T, N>(c * x.a, x.v * c);
}
/// (a + u ε)/s = a/s + (u/s) ε.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> operator/(const Dual<T, N>& x, const S& s) {
  const auto& c = detail::level_constant<T>(s);
  const auto inverse = base_scalar_t<T>(1) / c;
  return Dual<T, N>(x.a / c, x.v * inverse);
}
/// s/(b + w ε) = s/b − (s/b)/b · w ε.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> operator/(const S& s, const Dual<T, N>& y) {
  const T quotient = detail::level_constant<T>(s) / y.a;
  return Dual<T, N>(quotient, y.v * T(-quotient / y.a));
}

// Comparisons look at values only, recursively down to the plain number.
#define IFT_DUAL_COMPARISON(op)                                \
  template <class T, int N>                                    \
  bool operator op(const Dual<T, N>& x, const Dual<T, N>& y) { \
    return x.a op y.a;                                         \
  }                                                            \
  template <class T, int N, detail::DualConstant<T> S>         \
  bool operator op(const Dual<T, N>& x, const S& s) {          \
    return x.a op detail::level_constant<T>(s);                \
  }                                                            \
  template <class T, int N, detail::DualConstant<T> S>         \
  bool operator op(const S& s, const Dual<T, N>& x) {          \
    return detail::level_constant<T>(s) op x.a;                \
  }
IFT_DUAL_COMPARISON(==)
IFT_DUAL_COMPARISON(!=)
IFT_DUAL_COMPARISON(<)
IFT_DUAL_COMPARISON(<=)
IFT_DUAL_COMPARISON(>)
IFT_DUAL_COMPARISON(>=)
#undef IFT_DUAL_COMPARISON

/// Prints `(value; t1, t2, …)`.
template <class T, int N>
std::ostream& operator<<(std::ostream& os, const Dual<T, N>& x) {
  os << '(' << x.a << ';';
  for (Eigen::Index i = 0; i < x.v.size(); ++i) os << (i == 0 ? " " : ", ") << x.v[i];
  return os << ')';
}

// ---------------------------------------------------------------------------------------------------
// <cmath>. Each function evaluates f(a) in T (so nested duals differentiate the rule) and scales the
// tangent by f'(a).

/// |x|; derivative sign(a), and 0 at a = 0 (a subgradient).
template <class T, int N>
Dual<T, N> abs(const Dual<T, N>& x) {
  using std::abs;
  using B = base_scalar_t<T>;
  // sign(a) by bit operations, not branches: the sign of a value often alternates, which defeats
  // branch prediction.
  const B a = static_cast<B>(detail::to_double(x.a));
  const B sign = std::copysign(B(a != B(0)), a);
  return Dual<T, N>(abs(x.a), x.v * sign);
}

/// |x|, as `abs`.
template <class T, int N>
Dual<T, N> fabs(const Dual<T, N>& x) {
  return abs(x);
}

/// √x; derivative 1/(2√a), +∞ at a = 0 (zero tangent components stay 0).
template <class T, int N>
Dual<T, N> sqrt(const Dual<T, N>& x) {
  using std::sqrt;
  using B = base_scalar_t<T>;
  const T s = sqrt(x.a);
  if (x.a == B(0)) return Dual<T, N>(s, detail::strong_zero_scale(x.v, std::numeric_limits<B>::infinity()));
  return Dual<T, N>(s, x.v * T(B(0.5) / s));
}

/// ∛x; derivative 1/(3 ∛a²), +∞ at a = 0 (zero tangent components stay 0).
template <class T, int N>
Dual<T, N> cbrt(const Dual<T, N>& x) {
  using std::cbrt;
  using B = base_scalar_t<T>;
  const T c = cbrt(x.a);
  if (x.a == B(0)) return Dual<T, N>(c, detail::strong_zero_scale(x.v, std::numeric_limits<B>::infinity()));
  return Dual<T, N>(c, x.v * T(B(1) / (B(3) * c * c)));
}

/// eˣ; derivative eᵃ.
template <class T, int N>
Dual<T, N> exp(const Dual<T, N>& x) {
  using std::exp;
  const T e = exp(x.a);
  return Dual<T, N>(e, x.v * e);
}

/// eˣ − 1, accurate near 0; derivative eᵃ = expm1(a) + 1.
template <class T, int N>
Dual<T, N> expm1(const Dual<T, N>& x) {
  using std::expm1;
  using B = base_scalar_t<T>;
  const T e = expm1(x.a);
  return Dual<T, N>(e, x.v * T(e + B(1)));
}

/// ln x; derivative 1/a.
template <class T, int N>
Dual<T, N> log(const Dual<T, N>& x) {
  using std::log;
  using B = base_scalar_t<T>;
  return Dual<T, N>(log(x.a), x.v * T(B(1) / x.a));
}

/// ln(1 + x), accurate near 0; derivative 1/(1 + a).
template <class T, int N>
Dual<T, N> log1p(const Dual<T, N>& x) {
  using std::log1p;
  using B = base_scalar_t<T>;
  return Dual<T, N>(log1p(x.a), x.v * T(B(1) / (B(1) + x.a)));
}

/// log₂ x; derivative 1/(a ln 2).
template <class T, int N>
Dual<T, N> log2(const Dual<T, N>& x) {
  using std::log2;
  using B = base_scalar_t<T>;
  return Dual<T, N>(log2(x.a), x.v * T(B(1) / (x.a * std::numbers::ln2_v<B>)));
}

/// log₁₀ x; derivative 1/(a ln 10).
template <class T, int N>
Dual<T, N> log10(const Dual<T, N>& x) {
  using std::log10;
  using B = base_scalar_t<T>;
  return Dual<T, N>(log10(x.a), x.v * T(B(1) / (x.a * std::numbers::ln10_v<B>)));
}

/// sin x; derivative cos a.
template <class T, int N>
Dual<T, N> sin(const Dual<T, N>& x) {
  using std::cos;
  using std::sin;
  return Dual<T, N>(sin(x.a), x.v * T(cos(x.a)));
}

/// cos x; derivative −sin a.
template <class T, int N>
Dual<T, N> cos(const Dual<T, N>& x) {
  using std::cos;
  using std::sin;
  return Dual<T, N>(cos(x.a), x.v * T(-sin(x.a)));
}

/// tan x; derivative 1 + tan² a.
template <class T, int N>
Dual<T, N> tan(const Dual<T, N>& x) {
  using std::tan;
  using B = base_scalar_t<T>;
  const T t = tan(x.a);
  return Dual<T, N>(t, x.v * T(B(1) + t * t));
}

/// asin x; derivative 1/√(1 − a²), written 1/√((1 − a)(1 + a)) to keep accuracy near ±1.
template <class T, int N>
Dual<T, N> asin(const Dual<T, N>& x) {
  using std::asin;
  using std::sqrt;
  using B = base_scalar_t<T>;
  return Dual<T, N>(asin(x.a), x.v * T(B(1) / sqrt((B(1) - x.a) * (B(1) + x.a))));
}

/// acos x; derivative −1/√(1 − a²).
template <class T, int N>
Dual<T, N> acos(const Dual<T, N>& x) {
  using std::acos;
  using std::sqrt;
  using B = base_scalar_t<T>;
  return Dual<T, N>(acos(x.a), x.v * T(B(-1) / sqrt((B(1) - x.a) * (B(1) + x.a))));
}

/// atan x; derivative 1/(1 + a²).
template <class T, int N>
Dual<T, N> atan(const Dual<T, N>& x) {
  using std::atan;
  using B = base_scalar_t<T>;
  return Dual<T, N>(atan(x.a), x.v * T(B(1) / (B(1) + x.a * x.a)));
}

/// sinh x; derivative cosh a.
template <class T, int N>
Dual<T, N> sinh(const Dual<T, N>& x) {
  using std::cosh;
  using std::sinh;
  return Dual<T, N>(sinh(x.a), x.v * T(cosh(x.a)));
}

/// cosh x; derivative sinh a.
template <class T, int N>
Dual<T, N> cosh(const Dual<T, N>& x) {
  using std::cosh;
  using std::sinh;
  return Dual<T, N>(cosh(x.a), x.v * T(sinh(x.a)));
}

/// tanh x; derivative 1 − tanh² a.
template <class T, int N>
Dual<T, N> tanh(const Dual<T, N>& x) {
  using std::tanh;
  using B = base_scalar_t<T>;
  const T t = tanh(x.a);
  return Dual<T, N>(t, x.v * T(B(1) - t * t));
}

/// asinh x; derivative 1/√(a² + 1), written 1/hypot(a, 1) so that large |a| does not overflow.
template <class T, int N>
Dual<T, N> asinh(const Dual<T, N>& x) {
  using std::asinh;
  using std::hypot;
  using B = base_scalar_t<T>;
  return Dual<T, N>(asinh(x.a), x.v * T(B(1) / hypot(x.a, B(1))));
}

/// acosh x; derivative 1/√(a² − 1), written 1/(√(a − 1) √(a + 1)) for accuracy near 1.
template <class T, int N>
Dual<T, N> acosh(const Dual<T, N>& x) {
  using std::acosh;
  using std::sqrt;
  using B = base_scalar_t<T>;
  return Dual<T, N>(acosh(x.a), x.v * T(B(1) / (sqrt(x.a - B(1)) * sqrt(x.a + B(1)))));
}

/// atanh x; derivative 1/(1 − a²), written 1/((1 − a)(1 + a)) for accuracy near ±1.
template <class T, int N>
Dual<T, N> atanh(const Dual<T, N>& x) {
  using std::atanh;
  using B = base_scalar_t<T>;
  return Dual<T, N>(atanh(x.a), x.v * T(B(1) / ((B(1) - x.a) * (B(1) + x.a))));
}

/// erf x; derivative (2/√π) e^(−a²).
template <class T, int N>
Dual<T, N> erf(const Dual<T, N>& x) {
  using std::erf;
  using std::exp;
  using B = base_scalar_t<T>;
  return Dual<T, N>(erf(x.a), x.v * T(B(2) * std::numbers::inv_sqrtpi_v<B> * exp(-x.a * x.a)));
}

/// erfc x = 1 − erf x; derivative −(2/√π) e^(−a²).
template <class T, int N>
Dual<T, N> erfc(const Dual<T, N>& x) {
  using std::erfc;
  using std::exp;
  using B = base_scalar_t<T>;
  return Dual<T, N>(erfc(x.a), x.v * T(B(-2) * std::numbers::inv_sqrtpi_v<B> * exp(-x.a * x.a)));
}

/// ⌊x⌋; derivative 0.
template <class T, int N>
Dual<T, N> floor(const Dual<T, N>& x) {
  using std::floor;
  return Dual<T, N>(floor(x.a), detail::zero_tangent_like(x.v));
}

/// ⌈x⌉; derivative 0.
template <class T, int N>
Dual<T, N> ceil(const Dual<T, N>& x) {
  using std::ceil;
  return Dual<T, N>(ceil(x.a), detail::zero_tangent_like(x.v));
}

/// xʸ; d = y x^(y−1) dx + xʸ ln x dy for x > 0; see the header comment for x ≤ 0.
template <class T, int N>
Dual<T, N> pow(const Dual<T, N>& x, const Dual<T, N>& y) {
  using std::log;
  using std::pow;
  using B = base_scalar_t<T>;
  const T p = pow(x.a, y.a);
  if (x.a > B(0)) return detail::two_argument_rule(p, x, T(y.a * pow(x.a, y.a - B(1))), y, T(p * log(x.a)));
  // x ≤ 0 or NaN: the dx coefficient is 0 when y = 0 (x⁰ ≡ 1); the dy coefficient is 0 for x = 0 < y
  // (0ʸ ≡ 0), −∞ for x = 0 ≥ y, and NaN for x < 0, where moving y leaves the real numbers.
  const T cx = y.a == B(0) ? T() : T(y.a * pow(x.a, y.a - B(1)));
  const B cy = x.a == B(0) ? (y.a > B(0) ? B(0) : -std::numeric_limits<B>::infinity())
                           : std::numeric_limits<B>::quiet_NaN();
  return detail::two_argument_rule_strong_zero(p, x, cx, y, cy);
}

/// xᶜ for a constant c; derivative c x^(c−1) (0 for c = 0; at x = 0 zero tangent components stay 0).
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> pow(const Dual<T, N>& x, const S& exponent) {
  using std::pow;
  using B = base_scalar_t<T>;
  const auto& c = detail::level_constant<T>(exponent);
  const T p = pow(x.a, c);
  if (c == B(0)) return Dual<T, N>(p, detail::zero_tangent_like(x.v));
  const T derivative = c * pow(x.a, c - B(1));
  if (x.a == B(0)) return Dual<T, N>(p, detail::strong_zero_scale(x.v, derivative));
  return Dual<T, N>(p, x.v * derivative);
}

/// bʸ for a constant b; derivative bʸ ln b for b > 0; for b = 0 it is 0 when y > 0 and −∞ otherwise,
/// for b < 0 NaN (real only at integer y); zero tangent components stay 0 in those cases.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> pow(const S& base, const Dual<T, N>& y) {
  using std::log;
  using std::pow;
  using B = base_scalar_t<T>;
  const auto& b = detail::level_constant<T>(base);
  const T p = pow(b, y.a);
  if (b > B(0)) return Dual<T, N>(p, y.v * T(p * log(b)));
  const B cy = b == B(0) ? (y.a > B(0) ? B(0) : -std::numeric_limits<B>::infinity())
                         : std::numeric_limits<B>::quiet_NaN();
  return Dual<T, N>(p, detail::strong_zero_scale(y.v, cy));
}

/// atan2(y, x), the angle of the point (x, y); d = (x dy − y dx)/(x² + y²). At the origin no limit
/// exists: nonzero tangents give NaN, zero ones stay 0.
template <class T, int N>
Dual<T, N> atan2(const Dual<T, N>& y, const Dual<T, N>& x) {
  using std::atan2;
  using B = base_scalar_t<T>;
  const T angle = atan2(y.a, x.a);
  const T radius_squared = x.a * x.a + y.a * y.a;
  if (radius_squared == B(0)) {
    constexpr B nan = std::numeric_limits<B>::quiet_NaN();
    return detail::two_argument_rule_strong_zero(angle, y, nan, x, nan);
  }
  const T inverse = B(1) / radius_squared;
  return detail::two_argument_rule(angle, y, T(x.a * inverse), x, T(-y.a * inverse));
}

/// atan2(y, c) for a constant c; d = c dy/(y² + c²).
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> atan2(const Dual<T, N>& y, const S& x) {
  using std::atan2;
  using B = base_scalar_t<T>;
  const auto& c = detail::level_constant<T>(x);
  const T angle = atan2(y.a, c);
  const T radius_squared = c * c + y.a * y.a;
  if (radius_squared == B(0))
    return Dual<T, N>(angle, detail::strong_zero_scale(y.v, std::numeric_limits<B>::quiet_NaN()));
  return Dual<T, N>(angle, y.v * T(c / radius_squared));
}

/// atan2(c, x) for a constant c; d = −c dx/(x² + c²).
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> atan2(const S& y, const Dual<T, N>& x) {
  using std::atan2;
  using B = base_scalar_t<T>;
  const auto& c = detail::level_constant<T>(y);
  const T angle = atan2(c, x.a);
  const T radius_squared = x.a * x.a + c * c;
  if (radius_squared == B(0))
    return Dual<T, N>(angle, detail::strong_zero_scale(x.v, std::numeric_limits<B>::quiet_NaN()));
  return Dual<T, N>(angle, x.v * T(-c / radius_squared));
}

/// √(x² + y²) without overflow; d = (x dx + y dy)/h, and a zero tangent at the origin (a subgradient).
template <class T, int N>
Dual<T, N> hypot(const Dual<T, N>& x, const Dual<T, N>& y) {
  using std::hypot;
  using B = base_scalar_t<T>;
  const T h = hypot(x.a, y.a);
  if (h == B(0)) {
    if constexpr (N == Dynamic)
      return Dual<T, N>(h, Dual<T, N>::tangent_type::Constant(detail::joint_size(x.v, y.v), T()));
    else
      return Dual<T, N>(h, detail::zero_tangent_like(x.v));
  }
  const T inverse = B(1) / h;
  return detail::two_argument_rule(h, x, T(x.a * inverse), y, T(y.a * inverse));
}

/// hypot(x, c) for a constant c; d = x dx/h, zero at the origin.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> hypot(const Dual<T, N>& x, const S& y) {
  using std::hypot;
  using B = base_scalar_t<T>;
  const T h = hypot(x.a, detail::level_constant<T>(y));
  if (h == B(0)) return Dual<T, N>(h, detail::zero_tangent_like(x.v));
  return Dual<T, N>(h, x.v * T(x.a / h));
}

/// hypot(c, y) for a constant c; d = y dy/h, zero at the origin.
template <class T, int N, detail::DualConstant<T> S>
Dual<T, N> hypot(const S& x, const Dual<T, N>& y) {
  return hypot(y, x);
}

namespace detail {

/// The argument a selecting function chose. With run-time sizes it takes the joint size of both
/// tangents, so that choosing a constant does not drop the other argument's directions.
template <class T, int N>
Dual<T, N> chosen(const Dual<T, N>& choice, const Dual<T, N>& other) {
  if constexpr (N == Dynamic) {
    const Eigen::Index size = joint_size(choice.v, other.v);
    if (choice.v.size() != size) return Dual<T, N>(choice.a, Dual<T, N>::tangent_type::Constant(size, T()));
  }
  return choice;
}

}  // namespace detail

/// The larger argument with its tangent; the first on a tie, the other one when either value is NaN.
template <class T, int N>
Dual<T, N> fmax(const Dual<T, N>& x, const Dual<T, N>& y) {
  if (detail::value_is_nan(y)) return detail::chosen(x, y);
  if (detail::value_is_nan(x)) return detail::chosen(y, x);
  return x < y ? detail::chosen(y, x) : detail::chosen(x, y);
}

/// The smaller argument with its tangent; the first on a tie, the other one when either value is NaN.
template <class T, int N>
Dual<T, N> fmin(const Dual<T, N>& x, const Dual<T, N>& y) {
  if (detail::value_is_nan(y)) return detail::chosen(x, y);
  if (detail::value_is_nan(x)) return detail::chosen(y, x);
  return y < x ? detail::chosen(y, x) : detail::chosen(x, y);
}

/// `std::max` semantics: `(x < y) ? y : x`.
template <class T, int N>
Dual<T, N> max(const Dual<T, N>& x, const Dual<T, N>& y) {
  return x < y ? detail::chosen(y, x) : detail::chosen(x, y);
}

/// `std::min` semantics: `(y < x) ? y : x`.
template <class T, int N>
Dual<T, N> min(const Dual<T, N>& x, const Dual<T, N>& y) {
  return y < x ? detail::chosen(y, x) : detail::chosen(x, y);
}

// The selecting functions with a constant on either side: the constant gets a zero tangent of the
// other argument's size.
#define IFT_DUAL_SELECT_WITH_CONSTANT(name)            \
  template <class T, int N, detail::DualConstant<T> S> \
  Dual<T, N> name(const Dual<T, N>& x, const S& y) {   \
    return name(x, detail::constant_like(y, x));       \
  }                                                    \
  template <class T, int N, detail::DualConstant<T> S> \
  Dual<T, N> name(const S& x, const Dual<T, N>& y) {   \
    return name(detail::constant_like(x, y), y);       \
  }
IFT_DUAL_SELECT_WITH_CONSTANT(fmax)
IFT_DUAL_SELECT_WITH_CONSTANT(fmin)
IFT_DUAL_SELECT_WITH_CONSTANT(max)
IFT_DUAL_SELECT_WITH_CONSTANT(min)
#undef IFT_DUAL_SELECT_WITH_CONSTANT

/// True when the value and every tangent are finite (recursively).
template <class T, int N>
bool isfinite(const Dual<T, N>& x) {
  using std::isfinite;
  if (!isfinite(x.a)) return false;
  for (Eigen::Index i = 0; i < x.v.size(); ++i)
    if (!isfinite(x.v[i])) return false;
  return true;
}

/// True when the value or any tangent is NaN (recursively).
template <class T, int N>
bool isnan(const Dual<T, N>& x) {
  using std::isnan;
  if (isnan(x.a)) return true;
  for (Eigen::Index i = 0; i < x.v.size(); ++i)
    if (isnan(x.v[i])) return true;
  return false;
}

/// True when some component is infinite and none is NaN: exactly one of isfinite, isinf, isnan holds.
template <class T, int N>
bool isinf(const Dual<T, N>& x) {
  return !isfinite(x) && !isnan(x);
}

namespace detail {

/// Eigen's cost estimates for `Dual<T, N>`, in units of T's: a dual carries n + 1 numbers, and a
/// product takes 2n + 1 multiplications and n additions. Eigen uses costs only to choose unrolling and
/// temporaries, so a run-time count is costed as a nominal 4 directions.
constexpr int capped_cost(long cost) { return cost < Eigen::HugeCost ? int(cost) : Eigen::HugeCost; }

template <class T, int N>
struct DualCosts {
  static constexpr long n = N == Dynamic ? 4 : N;
  static constexpr int read = capped_cost((n + 1) * Eigen::NumTraits<T>::ReadCost);
  static constexpr int add = capped_cost((n + 1) * Eigen::NumTraits<T>::AddCost);
  static constexpr int mul =
      capped_cost((2 * n + 1) * Eigen::NumTraits<T>::MulCost + n * Eigen::NumTraits<T>::AddCost);
};

/// `S` is the plain scalar at the bottom of a nested `T` (`double` for `T = Dual<double>`).
template <class S, class T>
concept PlainBelow = std::is_same_v<S, base_scalar_t<T>> && !std::is_same_v<S, T>;

}  // namespace detail
}  // namespace ift

namespace Eigen {

/// Lets `Eigen::Matrix<ift::Dual<T, N>, …>` use Eigen's algorithms. Limits are the plain scalar's.
template <class T, int N>
struct NumTraits<ift::Dual<T, N>> : ift::detail::PlainNumTraits<ift::Dual<T, N>> {
  using Real = ift::Dual<T, N>;
  using NonInteger = ift::Dual<T, N>;
  using Nested = ift::Dual<T, N>;
  using Literal = ift::Dual<T, N>;

 private:
  using Costs = ift::detail::DualCosts<T, N>;

 public:
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 1,
    ReadCost = Costs::read,
    AddCost = Costs::add,
    MulCost = Costs::mul
  };
};

/// `Dual<T, N>` op `T` is a `Dual<T, N>` (e.g. `Matrix<Dual<double>> * double`).
template <class T, int N, class BinaryOp>
struct ScalarBinaryOpTraits<ift::Dual<T, N>, T, BinaryOp> {
  using ReturnType = ift::Dual<T, N>;
};
template <class T, int N, class BinaryOp>
struct ScalarBinaryOpTraits<T, ift::Dual<T, N>, BinaryOp> {
  using ReturnType = ift::Dual<T, N>;
};
/// A nested `Dual` also mixes with the plain scalar at the bottom (`Dual<Dual<double>>` with `double`).
template <class T, int N, ift::detail::PlainBelow<T> S, class BinaryOp>
struct ScalarBinaryOpTraits<ift::Dual<T, N>, S, BinaryOp> {
  using ReturnType = ift::Dual<T, N>;
};
template <class T, int N, ift::detail::PlainBelow<T> S, class BinaryOp>
struct ScalarBinaryOpTraits<S, ift::Dual<T, N>, BinaryOp> {
  using ReturnType = ift::Dual<T, N>;
};
}  // namespace Eigen

namespace std {

/// The limits of the plain scalar at the bottom, as constant duals.
template <class T, int N>
struct numeric_limits<ift::Dual<T, N>> : ift::detail::PlainLimits<ift::Dual<T, N>> {};

/// A dual and its value type, or a dual and an arithmetic type, meet in the dual.
template <class T, int N, ift::detail::DualConstant<T> U>
struct common_type<ift::Dual<T, N>, U> {
  using type = ift::Dual<T, N>;
};
template <class T, int N, ift::detail::DualConstant<T> U>
struct common_type<U, ift::Dual<T, N>> {
  using type = ift::Dual<T, N>;
};

}  // namespace std
