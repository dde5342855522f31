#pragma once
// Reverse-mode automatic differentiation: the scalar `ift::Var`.
//
// A `Var` is a `double` value and, unless it is a constant, the index of its variable on the tape that
// recorded it. Each operation z = f(x₁, …, x_k) on variables records one statement: the indices of its
// arguments and the partials ∂f/∂xᵢ at the current values. The operations below state their partials;
// ift/tape.hpp describes the tape, its reverse sweep and custom nodes.
//
// `Var` and `Tape` need each other: a tape stores and returns `Var`s, and an operation on `Var`s
// records on the active tape. This header defines `Var`, whose operations call only the recording
// entry points `detail::Recorder` it declares, and includes ift/tape.hpp at its end; that header
// defines the tape and then the entry points. Either header gives both.
//
// Beside the type: `std::numeric_limits<Var>` and Eigen's public traits (`NumTraits`,
// `ScalarBinaryOpTraits`), so that any code that sees `Var` also sees how Eigen treats it. Eigen's
// internal classes are specialized in ift/detail/eigen_internal.hpp.

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <numbers>
#include <ostream>
#include <span>
#include <type_traits>

#include <Eigen/Core>

#include "ift/detail/eigen_internal.hpp"
#include "ift/detail/traits.hpp"

namespace ift {

namespace detail {

/// The recording entry points used by the operations of `Var`. They need the `Tape`, so ift/tape.hpp
/// defines them, after the tape.
struct Recorder {
  /// z = f(a) with ∂z/∂a = da.
  static Var unary(double value, const Var& a, double da);
  /// z = f(a, b) with partials da, db.
  static Var binary(double value, const Var& a, double da, const Var& b, double db);
  /// z = a + c for a constant c: ∂z/∂a = 1, not stored.
  static Var shifted(double value, const Var& a);
  /// z = c − a for a constant c: ∂z/∂a = −1, not stored.
  static Var negated(double value, const Var& a);
  /// z = a + b: partials (1, 1), not stored.
  static Var sum(double value, const Var& a, const Var& b);
  /// z = a − b: partials (1, −1), not stored.
  static Var difference(double value, const Var& a, const Var& b);
  /// z = f(a) with a zero derivative everywhere (floor, ceil): a variable with no arguments.
  static Var locally_constant(double value, const Var& a);
  /// Y = W·X for a `double` matrix W and a `Var` matrix X whose entries are read without evaluating
  /// anything (a plain object, a block, a transpose or a Map), written to `y`: one block node
  /// (`Tape::record_block`), for the Eigen products in ift/detail/eigen_internal.hpp.
  template <class WXpr, class XXpr, class YXpr>
  static void block_product(const WXpr& w, const XXpr& x, YXpr& y);

 private:
  /// The active tape, if it owns `a` (and `b`); otherwise the TapeError.
  static Tape* owning_tape(const Var& a);
  static Tape* owning_tape(const Var& a, const Var& b);
};

}  // namespace detail

/// A reverse-mode AD scalar: a `double` value and, unless it is a constant, the index of its
/// variable on the tape that recorded it.
///
/// `Var x = 2.0;` records an independent variable on the calling thread's active `Tape` (it throws
/// `ift::TapeError` if there is none). `Var()` is the constant 0 and belongs to no tape; operations
/// whose operands are all constants give constants and record nothing. The mathematical functions
/// are found by argument-dependent lookup: call them unqualified (`using std::sin; sin(x)`).
class Var {
 public:
  /// The constant 0, on no tape (Eigen default-constructs its scalars).
  constexpr Var() noexcept = default;
  /// A new independent variable with value `value` on the active tape.
  /// @throws TapeError if no tape is active on this thread.
  Var(double value);  // NOLINT(google-explicit-constructor): `Var x = 2.0` is the intended use

  /// A constant: never recorded, derivative 0 with respect to everything, needs no tape.
  static constexpr Var constant(double value) noexcept { return Var(value, 0, 0); }

  /// The value.
  constexpr double value() const noexcept { return value_; }
  /// True for a constant (no tape, no derivative).
  constexpr bool is_constant() const noexcept { return tape_id_ == 0; }

  /// Compound assignment x ← x ∘ b, recorded as the binary operation ∘.
  ///@{
  Var& operator+=(const Var& b) { return *this = *this + b; }
  Var& operator-=(const Var& b) { return *this = *this - b; }
  Var& operator*=(const Var& b) { return *this = *this * b; }
  Var& operator/=(const Var& b) { return *this = *this / b; }
  Var& operator+=(double b) { return *this = *this + b; }
  Var& operator-=(double b) { return *this = *this - b; }
  Var& operator*=(double b) { return *this = *this * b; }
  Var& operator/=(double b) { return *this = *this / b; }
  ///@}

  // Arithmetic. The partials: ∂(a±b) = (1, ±1), ∂(ab) = (b, a), ∂(a/b) = (1/b, −(a/b)/b).

  friend Var operator+(const Var& a) { return a; }
  friend Var operator-(const Var& a) { return detail::Recorder::negated(-a.value_, a); }
  friend Var operator+(const Var& a, const Var& b) {
    return detail::Recorder::sum(a.value_ + b.value_, a, b);
  }
  friend Var operator+(const Var& a, double b) { return detail::Recorder::shifted(a.value_ + b, a); }
  friend Var operator+(double a, const Var& b) { return detail::Recorder::shifted(a + b.value_, b); }
  friend Var operator-(const Var& a, const Var& b) {
    return detail::Recorder::difference(a.value_ - b.value_, a, b);
  }
  friend Var operator-(const Var& a, double b) { return detail::Recorder::shifted(a.value_ - b, a); }
  friend Var operator-(double a, const Var& b) { return detail::Recorder::negated(a - b.value_, b); }
  friend Var operator*(const Var& a, const Var& b) {
    return detail::Recorder::binary(a.value_ * b.value_, a, b.value_, b, a.value_);
  }
  friend Var operator*(const Var& a, double b) { return detail::Recorder::unary(a.value_ * b, a, b); }
  friend Var operator*(double a, const Var& b) { return detail::Recorder::unary(a * b.value_, b, a); }
  friend Var operator/(const Var& a, const Var& b) {
    const double q = a.value_ / b.value_;
    return detail::Recorder::binary(q, a, 1.0 / b.value_, b, -q / b.value_);
  }
  friend Var operator/(const Var& a, double b) { return detail::Recorder::unary(a.value_ / b, a, 1.0 / b); }
  friend Var operator/(double a, const Var& b) {
    const double q = a / b.value_;
    return detail::Recorder::unary(q, b, -q / b.value_);
  }

  // Comparisons compare values (`a > b` never records anything).

  friend bool operator==(const Var& a, const Var& b) noexcept { return a.value_ == b.value_; }
  friend bool operator==(const Var& a, double b) noexcept { return a.value_ == b; }
  friend std::partial_ordering operator<=>(const Var& a, const Var& b) noexcept {
    return a.value_ <=> b.value_;
  }
  friend std::partial_ordering operator<=>(const Var& a, double b) noexcept { return a.value_ <=> b; }

  friend std::ostream& operator<<(std::ostream& out, const Var& a) { return out << a.value_; }

  // The <cmath> set. Each records f(x) with its derivative f'(x) at the current value.

  /// |x|; derivative sign(x), and 0 at x = 0 (the subgradient of least norm).
  friend Var abs(const Var& x) {
    const double d = x.value_ > 0.0 ? 1.0 : (x.value_ < 0.0 ? -1.0 : 0.0);
    return detail::Recorder::unary(std::abs(x.value_), x, d);
  }
  /// Same as `abs`.
  friend Var fabs(const Var& x) { return abs(x); }
  /// √x; derivative 1/(2√x), +∞ at 0.
  friend Var sqrt(const Var& x) {
    const double s = std::sqrt(x.value_);
    return detail::Recorder::unary(s, x, 0.5 / s);
  }
  /// ∛x; derivative 1/(3∛x²), +∞ at 0.
  friend Var cbrt(const Var& x) {
    const double c = std::cbrt(x.value_);
    return detail::Recorder::unary(c, x, 1.0 / (3.0 * c * c));
  }
  /// eˣ; derivative eˣ.
  friend Var exp(const Var& x) {
    const double e = std::exp(x.value_);
    return detail::Recorder::unary(e, x, e);
  }
  /// eˣ − 1 (accurate near 0); derivative eˣ.
  friend Var expm1(const Var& x) {
    const double e = std::expm1(x.value_);
    return detail::Recorder::unary(e, x, e + 1.0);
  }
  /// ln x; derivative 1/x.
  friend Var log(const Var& x) { return detail::Recorder::unary(std::log(x.value_), x, 1.0 / x.value_); }
  /// ln(1 + x) (accurate near 0); derivative 1/(1 + x).
  friend Var log1p(const Var& x) {
    return detail::Recorder::unary(std::log1p(x.value_), x, 1.0 / (1.0 + x.value_));
  }
  /// log₂ x; derivative 1/(x ln 2).
  friend Var log2(const Var& x) {
    return detail::Recorder::unary(std::log2(x.value_), x, 1.0 / (x.value_ * std::numbers::ln2));
  }
  /// log₁₀ x; derivative 1/(x ln 10).
  friend Var log10(const Var& x) {
    return detail::Recorder::unary(std::log10(x.value_), x, 1.0 / (x.value_ * std::numbers::ln10));
  }

  /// aᵇ with a variable base and a constant exponent; derivative b·aᵇ⁻¹ (0 when b = 0, where
  /// a⁰ = 1 is constant, so that a = 0 gives 0 rather than 0·∞). A negative base with an integer
  /// exponent is finite, as is the derivative.
  friend Var pow(const Var& a, double b) {
    const double d = b == 0.0 ? 0.0 : b * std::pow(a.value_, b - 1.0);
    return detail::Recorder::unary(std::pow(a.value_, b), a, d);
  }
  /// aᵇ with a constant base; derivative aᵇ ln a. For a = 0 and b > 0 the value is 0 nearby, so
  /// the derivative is 0; for a < 0 it is NaN (aᵇ is not real for non-integer b near b).
  friend Var pow(double a, const Var& b) {
    const double p = std::pow(a, b.value_);
    const double d = (a == 0.0 && b.value_ > 0.0) ? 0.0 : exponent_partial(p, a);
    return detail::Recorder::unary(p, b, d);
  }
  /// aᵇ with both variable; partials (b·aᵇ⁻¹, aᵇ ln a) with the cases of the one-sided versions:
  /// at a = 0, b ≥ 1 the value is 0 (b > 1) or a (b = 1) to first order; for a < 0 and integer b
  /// the base partial is finite and the exponent partial NaN (no real aᵇ for nearby b).
  friend Var pow(const Var& a, const Var& b) {
    const double p = std::pow(a.value_, b.value_);
    if (a.value_ == 0.0 && b.value_ >= 1.0)
      return detail::Recorder::binary(p, a, b.value_ == 1.0 ? 1.0 : 0.0, b, 0.0);
    const double da = b.value_ == 0.0 ? 0.0 : b.value_ * std::pow(a.value_, b.value_ - 1.0);
    return detail::Recorder::binary(p, a, da, b, exponent_partial(p, a.value_));
  }

  /// sin x; derivative cos x.
  friend Var sin(const Var& x) { return detail::Recorder::unary(std::sin(x.value_), x, std::cos(x.value_)); }
  /// cos x; derivative −sin x.
  friend Var cos(const Var& x) { return detail::Recorder::unary(std::cos(x.value_), x, -std::sin(x.value_)); }
  /// tan x; derivative 1 + tan² x.
  friend Var tan(const Var& x) {
    const double t = std::tan(x.value_);
    return detail::Recorder::unary(t, x, 1.0 + t * t);
  }
  /// asin x; derivative 1/√(1 − x²).
  friend Var asin(const Var& x) {
    return detail::Recorder::unary(std::asin(x.value_), x,
                                   1.0 / std::sqrt((1.0 - x.value_) * (1.0 + x.value_)));
  }
  /// acos x; derivative −1/√(1 − x²).
  friend Var acos(const Var& x) {
    return detail::Recorder::unary(std::acos(x.value_), x,
                                   -1.0 / std::sqrt((1.0 - x.value_) * (1.0 + x.value_)));
  }
  /// atan x; derivative 1/(1 + x²).
  friend Var atan(const Var& x) {
    return detail::Recorder::unary(std::atan(x.value_), x, 1.0 / (1.0 + x.value_ * x.value_));
  }
  /// The angle of (x, y) in (−π, π], every quadrant; partials (x, −y)/(x² + y²) for (y, x).
  friend Var atan2(const Var& y, const Var& x) {
    const double h = std::hypot(x.value_, y.value_);
    return detail::Recorder::binary(std::atan2(y.value_, x.value_), y, x.value_ / h / h, x,
                                    -y.value_ / h / h);
  }
  /// `atan2` with a constant abscissa.
  friend Var atan2(const Var& y, double x) {
    const double h = std::hypot(x, y.value_);
    return detail::Recorder::unary(std::atan2(y.value_, x), y, x / h / h);
  }
  /// `atan2` with a constant ordinate.
  friend Var atan2(double y, const Var& x) {
    const double h = std::hypot(x.value_, y);
    return detail::Recorder::unary(std::atan2(y, x.value_), x, -y / h / h);
  }

  /// sinh x; derivative cosh x.
  friend Var sinh(const Var& x) {
    return detail::Recorder::unary(std::sinh(x.value_), x, std::cosh(x.value_));
  }
  /// cosh x; derivative sinh x.
  friend Var cosh(const Var& x) {
    return detail::Recorder::unary(std::cosh(x.value_), x, std::sinh(x.value_));
  }
  /// tanh x; derivative 1 − tanh² x.
  friend Var tanh(const Var& x) {
    const double t = std::tanh(x.value_);
    return detail::Recorder::unary(t, x, 1.0 - t * t);
  }
  /// asinh x; derivative 1/√(x² + 1) (as 1/hypot(x, 1), which does not overflow).
  friend Var asinh(const Var& x) {
    return detail::Recorder::unary(std::asinh(x.value_), x, 1.0 / std::hypot(x.value_, 1.0));
  }
  /// acosh x; derivative 1/√((x − 1)(x + 1)), +∞ at 1.
  friend Var acosh(const Var& x) {
    return detail::Recorder::unary(std::acosh(x.value_), x,
                                   1.0 / std::sqrt((x.value_ - 1.0) * (x.value_ + 1.0)));
  }
  /// atanh x; derivative 1/((1 − x)(1 + x)).
  friend Var atanh(const Var& x) {
    return detail::Recorder::unary(std::atanh(x.value_), x, 1.0 / ((1.0 - x.value_) * (1.0 + x.value_)));
  }

  /// √(a² + b²) without overflow; partials (a, b)/hypot, and 0 at the origin.
  friend Var hypot(const Var& a, const Var& b) {
    const double h = std::hypot(a.value_, b.value_);
    return h == 0.0 ? detail::Recorder::binary(h, a, 0.0, b, 0.0)
                    : detail::Recorder::binary(h, a, a.value_ / h, b, b.value_ / h);
  }
  /// `hypot` with a constant second argument.
  friend Var hypot(const Var& a, double b) {
    const double h = std::hypot(a.value_, b);
    return detail::Recorder::unary(h, a, h == 0.0 ? 0.0 : a.value_ / h);
  }
  /// `hypot` with a constant first argument.
  friend Var hypot(double a, const Var& b) { return hypot(b, a); }

  /// erf x; derivative (2/√π) e^(−x²).
  friend Var erf(const Var& x) {
    return detail::Recorder::unary(std::erf(x.value_), x,
                                   std::numbers::inv_sqrtpi * 2.0 * std::exp(-x.value_ * x.value_));
  }
  /// erfc x = 1 − erf x; derivative −(2/√π) e^(−x²).
  friend Var erfc(const Var& x) {
    return detail::Recorder::unary(std::erfc(x.value_), x,
                                   -std::numbers::inv_sqrtpi * 2.0 * std::exp(-x.value_ * x.value_));
  }

  /// ⌊x⌋; derivative 0 (the jumps are not differentiated).
  friend Var floor(const Var& x) { return detail::Recorder::locally_constant(std::floor(x.value_), x); }
  /// ⌈x⌉; derivative 0.
  friend Var ceil(const Var& x) { return detail::Recorder::locally_constant(std::ceil(x.value_), x); }

  // min and max select an operand, so the result is that operand itself (nothing is recorded) and
  // the derivative flows to the selected one. Ties select the first argument. fmin and fmax treat
  // NaN as missing data, like std::fmin and std::fmax.

  /// The smaller of a and b (b if b < a, else a), like std::min.
  friend Var min(const Var& a, const Var& b) { return b.value_ < a.value_ ? b : a; }
  /// `min` with a constant second argument.
  friend Var min(const Var& a, double b) { return b < a.value_ ? constant(b) : a; }
  /// `min` with a constant first argument.
  friend Var min(double a, const Var& b) { return b.value_ < a ? b : constant(a); }
  /// The larger of a and b (b if a < b, else a), like std::max.
  friend Var max(const Var& a, const Var& b) { return a.value_ < b.value_ ? b : a; }
  /// `max` with a constant second argument.
  friend Var max(const Var& a, double b) { return a.value_ < b ? constant(b) : a; }
  /// `max` with a constant first argument.
  friend Var max(double a, const Var& b) { return a < b.value_ ? b : constant(a); }
  /// The smaller of a and b, ignoring a NaN operand.
  friend Var fmin(const Var& a, const Var& b) {
    return std::isnan(a.value_) ? b : (std::isnan(b.value_) ? a : min(a, b));
  }
  /// `fmin` with a constant second argument.
  friend Var fmin(const Var& a, double b) { return fmin(a, constant(b)); }
  /// `fmin` with a constant first argument.
  friend Var fmin(double a, const Var& b) { return fmin(constant(a), b); }
  /// The larger of a and b, ignoring a NaN operand.
  friend Var fmax(const Var& a, const Var& b) {
    return std::isnan(a.value_) ? b : (std::isnan(b.value_) ? a : max(a, b));
  }
  /// `fmax` with a constant second argument.
  friend Var fmax(const Var& a, double b) { return fmax(a, constant(b)); }
  /// `fmax` with a constant first argument.
  friend Var fmax(double a, const Var& b) { return fmax(constant(a), b); }

  /// Classification looks at the value.
  friend bool isfinite(const Var& x) noexcept { return std::isfinite(x.value_); }
  /// True when the value is NaN.
  friend bool isnan(const Var& x) noexcept { return std::isnan(x.value_); }
  /// True when the value is ±∞.
  friend bool isinf(const Var& x) noexcept { return std::isinf(x.value_); }

 private:
  friend class Tape;
  friend struct detail::Recorder;

  constexpr Var(double value, std::uint32_t index, std::uint32_t tape_id) noexcept
      : value_(value), index_(index), tape_id_(tape_id) {}

  // ∂aᵇ/∂b = aᵇ ln a (NaN for a < 0: no real power for nearby non-integer b).
  static double exponent_partial(double power, double base) { return power * std::log(base); }

  double value_ = 0.0;
  std::uint32_t index_ = 0;    // the variable's index on its tape
  std::uint32_t tape_id_ = 0;  // the id of the recording tape; 0 for a constant
};

static_assert(sizeof(Var) == 16 && std::is_trivially_copyable_v<Var>);

/// The value of a `Var` (one level down: a `double`).
constexpr double value(const Var& x) noexcept { return x.value(); }

}  // namespace ift

namespace std {

/// `Var` has the limits of `double`; the special values are constants.
template <>
struct numeric_limits<ift::Var> : ift::detail::PlainLimits<ift::Var> {};

}  // namespace std

namespace Eigen {

/// `Var` behaves like a real floating-point type. Literals are `double`, so constants Eigen writes
/// as `Literal(c)` stay off the tape; special values are constants.
template <>
struct NumTraits<ift::Var> : ift::detail::PlainNumTraits<ift::Var> {
  using Real = ift::Var;
  using NonInteger = ift::Var;
  using Nested = ift::Var;
  using Literal = double;

  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 1,
    ReadCost = 1,
    // An operation is a floating-point operation plus a few stores on the tape.
    AddCost = 4,
    MulCost = 4
  };
};

/// `Var` op `double` is a `Var` (products and sums of mixed matrices).
template <class BinaryOp>
struct ScalarBinaryOpTraits<ift::Var, double, BinaryOp> {
  using ReturnType = ift::Var;
};
/// `double` op `Var` is a `Var`.
template <class BinaryOp>
struct ScalarBinaryOpTraits<double, ift::Var, BinaryOp> {
  using ReturnType = ift::Var;
};

}  // namespace Eigen

// Last: the tape needs the complete `Var` above, and defines the entry points its operations call.
#include "ift/tape.hpp"
