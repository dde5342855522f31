#pragma once
// Scalar classification shared by the scalar types, the parameter trees and the solvers.
// The AD types are only declared here, so that headers can reason about them without
// including each other.

#include <limits>
#include <type_traits>

#include <Eigen/Core>

namespace ift {

/// Run-time number of tangent directions for `Dual<T, Dynamic>` (Eigen's own constant).
inline constexpr int Dynamic = Eigen::Dynamic;

template <class T, int N = 1>
struct Dual;
class Var;
class Tape;
class Tracer;

namespace detail {
/// `T`, named through a template parameter so that it is looked at only when the template is used:
/// an expression on a type that does not depend on a template parameter is compiled where the
/// template is defined, in every translation unit, used or not.
template <class T, class>
struct deferred {
  using type = T;
};
}  // namespace detail

template <class T>
struct is_dual : std::false_type {};
template <class T, int N>
struct is_dual<Dual<T, N>> : std::true_type {};
template <class T>
inline constexpr bool is_dual_v = is_dual<std::remove_cvref_t<T>>::value;

template <class T>
inline constexpr bool is_var_v = std::is_same_v<std::remove_cvref_t<T>, Var>;

template <class T>
inline constexpr bool is_tracer_v = std::is_same_v<std::remove_cvref_t<T>, Tracer>;

/// A leaf of a parameter tree: a built-in arithmetic type, one of the AD scalars, or the sparsity
/// tracer (which carries dependency sets instead of derivatives).
template <class T>
concept Scalar =
    std::is_arithmetic_v<std::remove_cvref_t<T>> || is_dual_v<T> || is_var_v<T> || is_tracer_v<T>;

/// A scalar that carries derivatives.
template <class T>
concept ADScalar = is_dual_v<T> || is_var_v<T>;

namespace detail {
template <class T>
struct value_type_of {
  using type = T;
};
template <class T, int N>
struct value_type_of<Dual<T, N>> {
  using type = T;
};
template <>
struct value_type_of<Var> {
  using type = double;
};
template <class T>
struct base_scalar_of {
  using type = T;
};
template <class T, int N>
struct base_scalar_of<Dual<T, N>> : base_scalar_of<T> {};
template <>
struct base_scalar_of<Var> {
  using type = double;
};
template <>
struct base_scalar_of<Tracer> {
  using type = double;
};
}  // namespace detail

/// The value type one level down: `Dual<T, N>` → `T`, `Var` → `double`, arithmetic → itself.
template <class T>
using value_type_t = typename detail::value_type_of<std::remove_cvref_t<T>>::type;

/// The plain arithmetic type at the bottom of any nesting: `Dual<Dual<double>>` → `double`; `double` for
/// `Var` and `Tracer`, which carry a `double` value.
template <class T>
using base_scalar_t = typename detail::base_scalar_of<std::remove_cvref_t<T>>::type;

/// `value(x)` is the identity on arithmetic types; the AD scalars and parameter trees overload it.
template <class T>
requires std::is_arithmetic_v<T>
constexpr T value(T x) noexcept { return x; }

namespace detail {
/// The plain `double` at the bottom of any nesting of AD scalars (used for control flow:
/// convergence tests and line searches compare values, never derivatives).
template <class T>
requires(!std::is_base_of_v<Eigen::EigenBase<T>, T>) double to_double(const T& x) {
  if constexpr (std::is_arithmetic_v<T>)
    return static_cast<double>(x);
  else
    return to_double(value(x));
}

/// The number `s` as a constant `T` at every nesting level: `s` itself when it is a `T`; else through
/// `T::constant` where `T` has one (`ift::Var`'s converting constructor records a new independent
/// variable, which a constant must not do), or `T`'s constructor from its plain scalar (a `Dual`
/// recurses through it, so `Dual<Var>` gets a `Var` constant inside).
template <class T, class S>
constexpr T constant_of(const S& s) {
  if constexpr (std::is_same_v<T, S>) {
    return s;
  } else {
    using B = base_scalar_t<T>;
    if constexpr (requires { T::constant(static_cast<B>(s)); })
      return T::constant(static_cast<B>(s));
    else
      return T(static_cast<B>(s));
  }
}

/// `std::numeric_limits` of an AD scalar `S` (`Dual`, `Var`): those of the plain scalar at the
/// bottom, the special values as constants of `S`. The specializations derive from it.
template <class S>
struct PlainLimits {
 private:
  using L = std::numeric_limits<base_scalar_t<S>>;

 public:
  static constexpr bool is_specialized = L::is_specialized;
  static constexpr bool is_signed = L::is_signed;
  static constexpr bool is_integer = L::is_integer;
  static constexpr bool is_exact = L::is_exact;
  static constexpr bool has_infinity = L::has_infinity;
  static constexpr bool has_quiet_NaN = L::has_quiet_NaN;
  static constexpr bool has_signaling_NaN = L::has_signaling_NaN;
  static constexpr std::float_denorm_style has_denorm = L::has_denorm;
  static constexpr bool has_denorm_loss = L::has_denorm_loss;
  static constexpr std::float_round_style round_style = L::round_style;
  static constexpr bool is_iec559 = L::is_iec559;
  static constexpr bool is_bounded = L::is_bounded;
  static constexpr bool is_modulo = L::is_modulo;
  static constexpr int digits = L::digits;
  static constexpr int digits10 = L::digits10;
  static constexpr int max_digits10 = L::max_digits10;
  static constexpr int radix = L::radix;
  static constexpr int min_exponent = L::min_exponent;
  static constexpr int min_exponent10 = L::min_exponent10;
  static constexpr int max_exponent = L::max_exponent;
  static constexpr int max_exponent10 = L::max_exponent10;
  static constexpr bool traps = L::traps;
  static constexpr bool tinyness_before = L::tinyness_before;

  static constexpr S min() noexcept { return constant_of<S>(L::min()); }
  static constexpr S max() noexcept { return constant_of<S>(L::max()); }
  static constexpr S lowest() noexcept { return constant_of<S>(L::lowest()); }
  static constexpr S epsilon() noexcept { return constant_of<S>(L::epsilon()); }
  static constexpr S round_error() noexcept { return constant_of<S>(L::round_error()); }
  static constexpr S infinity() noexcept { return constant_of<S>(L::infinity()); }
  static constexpr S quiet_NaN() noexcept { return constant_of<S>(L::quiet_NaN()); }
  static constexpr S signaling_NaN() noexcept { return constant_of<S>(L::signaling_NaN()); }
  static constexpr S denorm_min() noexcept { return constant_of<S>(L::denorm_min()); }
};

/// The part of `Eigen::NumTraits` of an AD scalar `S` that is the plain scalar's: precision, digits
/// and exponents, and the special values as constants of `S`. The specializations derive from it
/// and add their types and costs.
template <class S>
struct PlainNumTraits {
 private:
  using B = Eigen::NumTraits<base_scalar_t<S>>;

 public:
  static S epsilon() { return constant_of<S>(B::epsilon()); }
  static S dummy_precision() { return constant_of<S>(B::dummy_precision()); }
  static S highest() { return constant_of<S>(B::highest()); }
  static S lowest() { return constant_of<S>(B::lowest()); }
  static S infinity() { return constant_of<S>(B::infinity()); }
  static S quiet_NaN() { return constant_of<S>(B::quiet_NaN()); }
  static int digits10() { return B::digits10(); }
  static int digits() { return B::digits(); }
  static int min_exponent() { return B::min_exponent(); }
  static int max_exponent() { return B::max_exponent(); }
};

/// The plain values of an Eigen object of any scalar type, as a matrix of `double` of its shape.
template <class Derived>
Eigen::Matrix<double, Derived::RowsAtCompileTime, Derived::ColsAtCompileTime> to_double(
    const Eigen::MatrixBase<Derived>& m) {
  return m.unaryExpr([](const auto& s) { return to_double(s); });
}
}  // namespace detail

}  // namespace ift
