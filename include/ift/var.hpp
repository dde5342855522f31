#pragma once
// Reverse-mode automatic differentiation: `ift::Var` and `ift::Tape`.
//
// What the tape stores
// --------------------
// Every `Var` that carries a derivative is a variable on a tape: it has an index j (0, 1, 2, …
// in recording order) and the id of its tape. Creating an independent variable (`Var x = 2.0`)
// records a statement with no arguments. Every operation z = f(x₁, …, x_k) on variables records
// one statement for z: the indices of its arguments and the partial derivatives ∂f/∂xᵢ, evaluated
// at the current values. Statements are stored in three contiguous arrays (CoDiPack's "Jacobian
// tape", Adept's statement stack):
//
//     kind[j]               one byte per variable: its number of arguments, or a kind whose
//                           partials are ±1 and implied (z = x + y, x − y, x ± c, c − x)
//     argument_index[…]     the arguments' variable indices, statement after statement
//     argument_partial[…]   the stored partials ∂fⱼ/∂xᵢ, statement after statement
//
// A product costs 1 + 2·(4 + 8) = 25 bytes, a sum 1 + 2·4 = 9, a sin 1 + 12 = 13, and nothing
// else: values live in the `Var`s, the operation itself is forgotten once its partials are known.
// The sweep walks the arrays backwards, so a statement's position in them follows from the kinds
// and needs no stored offset. The arrays grow geometrically and keep their memory across `clear()`,
// so re-recording a computation allocates nothing.
//
// The reverse sweep
// -----------------
// To differentiate an output y, give every variable an adjoint x̄ = ∂y/∂x, start with ȳ = 1 and
// all others 0, and visit the statements from the last to the first. By the chain rule, once all
// statements after j have been visited, x̄ⱼ is complete, and statement j passes it on:
//
//     x̄ᵢ += ∂fⱼ/∂xᵢ · x̄ⱼ     for each argument i of statement j.
//
// A statement whose adjoint is 0 is skipped: it contributes nothing, and skipping it also keeps an
// infinite partial (√x at 0) from turning 0 · ∞ into NaN on a path the output does not depend on.
// The sweep is a plain loop over the arrays, never a recursion over a graph, so a chain of 10⁶
// operations needs no more stack than a chain of one.
//
// The active tape, nesting and threads
// ------------------------------------
// Operations find their tape through a thread-local pointer to the active tape. It is
// constant-initialized (a null pointer, no dynamic initialization), so reading it is a plain load
// with no guard (the reason Stan's `autodiffstackstorage.hpp` gives for the same choice). A `Tape`
// becomes active when constructed and restores the previous one when destroyed: tapes nest, and
// each thread records on its own tapes. Each tape has a unique id (a fresh one after `clear()`),
// stored in every `Var` it records, so a `Var` used on a tape that is not its own — an outer tape's
// variable inside a nested recording, another thread's, or one recorded before `clear()` — is
// reported as `ift::TapeError` before anything is written, never silently mixed in.
//
// Custom nodes
// ------------
// Two ways to put a function the tape cannot see inside into a recording:
// * `Tape::record(value, inputs, partials)` — one output with precomputed partials: a statement
//   like any other (Adept's `add_derivative_dependence`).
// * `Tape::add_node(inputs, output_values, outputs, backward)` — k inputs, m outputs and a closure
//   called during the sweep with the outputs' adjoints, which returns the inputs' adjoints (Stan's
//   `reverse_pass_callback`). The closure may run a reverse pass of its own on a nested `Tape`:
//   this is how the implicit function theorem enters a recording.

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <numbers>
#include <ostream>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "ift/detail/traits.hpp"
#include "ift/errors.hpp"
#include "ift/tree.hpp"

namespace ift {

namespace detail {

/// The recording entry points used by the operations of `Var` (defined after `Tape`).
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
  static Var flat(double value, const Var& a);

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
  friend Var floor(const Var& x) { return detail::Recorder::flat(std::floor(x.value_), x); }
  /// ⌈x⌉; derivative 0.
  friend Var ceil(const Var& x) { return detail::Recorder::flat(std::ceil(x.value_), x); }

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

namespace detail {

/// The calling thread's active tape. Constant-initialized, so access needs no guard.
inline constinit thread_local Tape* active_tape = nullptr;

/// Source of tape ids; 0 is reserved for constants.
inline std::atomic<std::uint32_t> next_tape_id{1};

inline std::uint32_t fresh_tape_id() noexcept {
  std::uint32_t id = next_tape_id.fetch_add(1, std::memory_order_relaxed);
  while (id == 0) id = next_tape_id.fetch_add(1, std::memory_order_relaxed);
  return id;
}

/// The statement of a variable is one descriptor byte. 0 … `max_arguments`: that many arguments,
/// each with its index and its stored partial. The other kinds have partials ±1, implied by the
/// kind rather than stored, which makes sums and differences (a third of a typical recording)
/// 9 bytes instead of 25.
namespace statement {
inline constexpr std::uint8_t max_arguments = 250;
inline constexpr std::uint8_t shifted = 251;     // z = x ± c: one argument, ∂ = +1
inline constexpr std::uint8_t negated = 252;     // z = c − x: one argument, ∂ = −1
inline constexpr std::uint8_t sum = 253;         // z = x + y: ∂ = (+1, +1)
inline constexpr std::uint8_t difference = 254;  // z = x − y: ∂ = (+1, −1)

/// Argument indices and stored partials of each kind, as tables (the sweep reads them per statement).
inline constexpr auto argument_count = [] {
  std::array<std::uint8_t, 256> count{};
  for (int kind = 0; kind <= max_arguments; ++kind) count[kind] = static_cast<std::uint8_t>(kind);
  count[shifted] = count[negated] = 1;
  count[sum] = count[difference] = 2;
  return count;
}();
inline constexpr auto partial_count = [] {
  std::array<std::uint8_t, 256> count{};
  for (int kind = 0; kind <= max_arguments; ++kind) count[kind] = static_cast<std::uint8_t>(kind);
  return count;
}();
}  // namespace statement

inline constexpr const char* no_tape_message =
    "ift::Var: no active ift::Tape on this thread (construct an ift::Tape before recording)";
inline constexpr const char* foreign_var_message =
    "ift::Var used on a tape that is not its own, or recorded before clear()";

/// Throws the `TapeError` for an operation on a variable that `tape` (the active tape) does not own.
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_misuse(const Tape* tape) {
  throw TapeError(tape == nullptr ? no_tape_message : foreign_var_message);
}

/// A growable array of trivially copyable elements: no initialization of new slots, and the
/// memory is kept when cleared. Growth is geometric, so appends are amortized O(1).
template <class T>
class PodBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t spare() const noexcept { return capacity_ - size_; }
  void clear() noexcept { size_ = 0; }
  /// Appends; the caller has checked `spare()`.
  void push_unchecked(const T& x) noexcept { data_[size_++] = x; }
  /// Makes room for `n` more elements, keeping the contents; more than `limit` in all throws.
  void reserve_more(std::size_t n, std::size_t limit) {
    if (spare() >= n) return;
    if (n > limit - size_) throw TapeError("ift::Tape: the recording exceeds the capacity of 32-bit indices");
    reallocate(std::min(limit, std::max({2 * capacity_, size_ + n, std::size_t{256}})), true);
  }
  /// Grows the capacity to at least `capacity`, keeping the contents.
  void reserve_total(std::size_t capacity) {
    if (capacity_ < capacity) reallocate(capacity, true);
  }
  /// Makes the buffer hold `n` elements with unspecified contents (scratch space).
  void resize_for_overwrite(std::size_t n) {
    if (capacity_ < n) reallocate(std::max(n, 2 * capacity_), false);
    size_ = n;
  }
  /// Bytes reserved.
  std::size_t capacity_bytes() const noexcept { return capacity_ * sizeof(T); }

 private:
  [[gnu::noinline]] void reallocate(std::size_t capacity, bool keep) {
    std::unique_ptr<T[]> bigger(new T[capacity]);
    if (keep) std::copy(data_.get(), data_.get() + size_, bigger.get());
    data_ = std::move(bigger);
    capacity_ = capacity;
  }

  std::unique_ptr<T[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// Storage for closure objects: a list of blocks used as a bump allocator, rewound (not freed)
/// by `reset()`, so a re-recording puts its closures in the same memory.
class Arena {
 public:
  static constexpr std::size_t block_alignment = 64;

  void* allocate(std::size_t size, std::size_t alignment) {
    for (;;) {
      if (current_ == blocks_.size()) {
        blocks_.push_back(make_block(std::max(default_block_size, size)));
      }
      Block& block = blocks_[current_];
      const std::size_t start = (offset_ + alignment - 1) / alignment * alignment;
      if (start + size <= block.size) {
        offset_ = start + size;
        return block.data.get() + start;
      }
      if (offset_ == 0) {
        block = make_block(size);  // an unused block too small for this object: replace it
        continue;
      }
      used_before_ += offset_;
      offset_ = 0;
      ++current_;
    }
  }
  /// Forgets every allocation; the blocks are reused.
  void reset() noexcept {
    current_ = 0;
    offset_ = 0;
    used_before_ = 0;
  }
  std::size_t bytes_used() const noexcept { return used_before_ + offset_; }
  std::size_t bytes_reserved() const noexcept {
    std::size_t total = 0;
    for (const Block& b : blocks_) total += b.size;
    return total;
  }

 private:
  static constexpr std::size_t default_block_size = 4096;
  struct AlignedDelete {
    void operator()(std::byte* p) const noexcept {
      ::operator delete[](p, std::align_val_t{block_alignment});
    }
  };
  struct Block {
    std::unique_ptr<std::byte[], AlignedDelete> data;
    std::size_t size = 0;
  };
  static Block make_block(std::size_t size) {
    return Block{std::unique_ptr<std::byte[], AlignedDelete>(
                     static_cast<std::byte*>(::operator new[](size, std::align_val_t{block_alignment}))),
                 size};
  }

  std::vector<Block> blocks_;
  std::size_t current_ = 0;
  std::size_t offset_ = 0;
  std::size_t used_before_ = 0;
};

/// A closure node on the tape: outputs [first_output, first_output + num_outputs), inputs listed
/// in the tape's closure-input array, and the type-erased backward callable in the arena.
struct ClosureNode {
  std::uint32_t first_output;
  std::uint32_t num_outputs;
  std::uint32_t first_input;
  std::uint32_t num_inputs;
  void* closure;
  void (*invoke)(void*, std::span<const double>, std::span<double>);
  void (*destroy)(void*) noexcept;  // null for trivially destructible closures
};

/// Sets the active tape for a scope and restores the previous one on exit (also on throw).
class ActiveTapeScope {
 public:
  explicit ActiveTapeScope(Tape* tape) noexcept : saved_(active_tape) { active_tape = tape; }
  ~ActiveTapeScope() { active_tape = saved_; }
  ActiveTapeScope(const ActiveTapeScope&) = delete;
  ActiveTapeScope& operator=(const ActiveTapeScope&) = delete;

 private:
  Tape* saved_;
};

}  // namespace detail

/// A recording of operations on `Var`s, and the reverse sweeps over it.
///
/// Constructing a `Tape` makes it the calling thread's active tape until it is destroyed (the
/// previous one is restored: tapes nest). A tape is used by one thread at a time and destroyed on
/// the thread that created it.
class Tape {
 public:
  /// Starts an empty recording and makes it this thread's active tape.
  Tape() noexcept : id_(detail::fresh_tape_id()), previous_(detail::active_tape) {
    detail::active_tape = this;
  }
  /// Restores the tape that was active before this one.
  ~Tape() {
    destroy_closures();
    if (detail::active_tape == this) {
      detail::active_tape = previous_;
      return;
    }
    // Destroyed out of order: unlink it, so that no tape restores a pointer to it later.
    for (Tape* t = detail::active_tape; t != nullptr; t = t->previous_) {
      if (t->previous_ == this) {
        t->previous_ = previous_;
        break;
      }
    }
  }
  Tape(const Tape&) = delete;
  Tape(Tape&&) = delete;
  Tape& operator=(const Tape&) = delete;
  Tape& operator=(Tape&&) = delete;

  /// This thread's active tape, or nullptr.
  static Tape* active() noexcept { return detail::active_tape; }

  /// ∂y/∂x. One reverse sweep; the recording is kept, so other outputs can follow.
  /// @throws TapeError if `y` or `x` is a variable of another tape (or of this one before `clear()`).
  double gradient(const Var& y, const Var& x) const {
    check_owned(x);
    reverse(y);
    return read_adjoint(x);
  }

  /// (∂y/∂x₁, …, ∂y/∂x_k) from one reverse sweep.
  template <class... Xs>
  requires(sizeof...(Xs) >= 2 &&
           (std::same_as<Xs, Var> && ...)) std::array<double, sizeof...(Xs)> gradient(const Var& y,
                                                                                      const Xs&... xs)
  const {
    (check_owned(xs), ...);
    reverse(y);
    return {read_adjoint(xs)...};
  }

  /// ∂y/∂X for an Eigen object X of `Var`: a `double` matrix or array of the same shape.
  template <class Derived>
  auto gradient(const Var& y, const Eigen::DenseBase<Derived>& xs) const {
    static_assert(std::is_same_v<typename Derived::Scalar, Var>,
                  "ift::Tape::gradient: the Eigen object must hold Var");
    using Result = rebind_t<double, typename Derived::PlainObject>;
    const typename Derived::PlainObject x = xs.derived();
    for (Eigen::Index i = 0; i < x.size(); ++i) check_owned(x.data()[i]);
    reverse(y);
    Result g;
    g.resize(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < x.size(); ++i) g.data()[i] = read_adjoint(x.data()[i]);
    return g;
  }

  /// ∂y/∂θ for a parameter tree θ (a struct, tuple, std::array… whose leaves are `Var`s, Eigen
  /// objects of `Var` or constants): the tree rebound to `double`, 0 at constant leaves.
  template <class T>
  requires Tree<T> &&(!Scalar<T>)&&(!std::is_base_of_v<Eigen::EigenBase<T>, T>)
      rebind_t<double, T> gradient(const Var& y, const T& xs) const {
    for_each_leaf(xs, [this](const auto& leaf) {
      if constexpr (is_var_v<decltype(leaf)>) check_owned(leaf);
    });
    reverse(y);
    rebind_t<double, T> g = value(xs);
    for_each_leaf(g, xs, [this](double& gi, const auto& leaf) {
      if constexpr (is_var_v<decltype(leaf)>)
        gi = read_adjoint(leaf);
      else
        gi = 0.0;
    });
    return g;
  }

  /// Reverse sweep with ȳₖ = seedsₖ for each output yₖ (adjoints of repeated outputs add up);
  /// read the results with `adjoint()`.
  /// @throws std::invalid_argument if the spans differ in length; TapeError for a foreign output.
  void backward(std::span<const Var> outputs, std::span<const double> seeds) {
    if (outputs.size() != seeds.size())
      throw std::invalid_argument("ift::Tape::backward: outputs and seeds differ in length");
    for (const Var& y : outputs) check_owned(y);
    const SweepGuard guard(*this);
    const std::uint32_t top = prepare_adjoints(num_variables());
    double* adjoint = adjoints_.data();
    for (std::size_t k = 0; k < outputs.size(); ++k)
      if (!outputs[k].is_constant()) adjoint[outputs[k].index_] += seeds[k];
    sweep(top);
    swept_ = top;
  }
  /// Reverse sweep from one output with ȳ = seed.
  void backward(const Var& y, double seed = 1.0) {
    backward(std::span<const Var>(&y, 1), std::span<const double>(&seed, 1));
  }

  /// The adjoint of `x` from the latest reverse sweep (`backward` or `gradient`); 0 for constants
  /// and for variables recorded after that sweep.
  double adjoint(const Var& x) const {
    check_owned(x);
    return read_adjoint(x);
  }

  /// Drops the recording and keeps its memory. `Var`s recorded so far become stale: using one
  /// on this tape throws `TapeError`.
  void clear() {
    if (sweeping_) throw TapeError("ift::Tape::clear: called during the tape's own reverse sweep");
    destroy_closures();
    statements_.clear();
    argument_index_.clear();
    argument_partial_.clear();
    closures_.clear();
    closure_inputs_.clear();
    arena_.reset();
    swept_ = 0;
    id_ = detail::fresh_tape_id();
  }

  /// Bytes used by the current recording (statements, arguments, closure nodes and closures);
  /// not the reserved capacity, and not the sweep's adjoint buffer.
  std::size_t bytes() const noexcept {
    return statements_.size() * sizeof(std::uint8_t) + argument_index_.size() * sizeof(std::uint32_t) +
           argument_partial_.size() * sizeof(double) + closures_.size() * sizeof(detail::ClosureNode) +
           closure_inputs_.size() * sizeof(std::uint32_t) + arena_.bytes_used();
  }

  /// Bytes reserved by the tape, including the adjoint buffer: what a steady state re-recording
  /// reuses without allocating.
  std::size_t capacity_bytes() const noexcept {
    return statements_.capacity_bytes() + argument_index_.capacity_bytes() +
           argument_partial_.capacity_bytes() + closures_.capacity_bytes() +
           closure_inputs_.capacity_bytes() + arena_.bytes_reserved() + adjoints_.capacity_bytes() +
           in_adjoints_.capacity_bytes();
  }

  /// Number of recorded variables (independent ones, operation results and node outputs).
  std::size_t size() const noexcept { return statements_.size(); }

  /// Records y with value `value` and ∂y/∂inputsᵢ = partialsᵢ (a custom node with precomputed
  /// partials). Constant inputs are ignored; if all inputs are constant, y is a constant.
  /// @throws std::invalid_argument if the spans differ in length; TapeError for a foreign input.
  Var record(double value, std::span<const Var> inputs, std::span<const double> partials) {
    if (inputs.size() != partials.size())
      throw std::invalid_argument("ift::Tape::record: inputs and partials differ in length");
    check_recording();
    std::size_t variables = 0;
    for (const Var& x : inputs) {
      check_owned(x);
      variables += x.is_constant() ? 0 : 1;
    }
    if (variables == 0) return Var::constant(value);
    // A statement holds at most max_arguments arguments; more make a chain z₁ = Σ(first part),
    // z₂ = z₁ + Σ(next part), …, whose last variable is y.
    constexpr std::size_t most = detail::statement::max_arguments;
    // One statement of `most`, then ⌈(variables − most)/(most − 1)⌉ that also take the previous link.
    const std::size_t statements = variables <= most ? 1 : 1 + (variables - 2) / (most - 1);
    reserve(statements, variables + statements);
    std::size_t k = 0;
    for (std::size_t s = 0; s < statements; ++s) {
      const std::size_t room = s == 0 ? most : most - 1;
      const std::size_t take = std::min(room, variables);
      variables -= take;
      statements_.push_unchecked(static_cast<std::uint8_t>(s == 0 ? take : take + 1));
      if (s > 0) {
        argument_index_.push_unchecked(num_variables() - 2);
        argument_partial_.push_unchecked(1.0);
      }
      for (std::size_t taken = 0; taken < take; ++k) {
        if (inputs[k].is_constant()) continue;
        argument_index_.push_unchecked(inputs[k].index_);
        argument_partial_.push_unchecked(partials[k]);
        ++taken;
      }
    }
    return Var(value, num_variables() - 1, id_);
  }

  /// Records a closure node: outputsⱼ become new variables with values output_valuesⱼ, and during
  /// a reverse sweep, once the outputs' adjoints are complete,
  /// `backward(out_adjoints, in_adjoints)` is called with `in_adjoints` zeroed (one per input);
  /// what it writes there is added to the inputs' adjoints. Constant inputs are ignored; if all
  /// inputs are constant the outputs are constants and nothing is recorded. The closure is moved
  /// into the tape and destroyed by `clear()` or the destructor. It runs with no active tape: to
  /// record, it creates a nested `Tape` of its own.
  /// @throws std::invalid_argument if `output_values` and `outputs` differ in length; TapeError
  ///         for a foreign input.
  template <class Backward>
  void add_node(std::span<const Var> inputs, std::span<const double> output_values, std::span<Var> outputs,
                Backward&& backward) {
    using Closure = std::decay_t<Backward>;
    static_assert(std::is_invocable_v<Closure&, std::span<const double>, std::span<double>>,
                  "ift::Tape::add_node: backward must be callable as "
                  "backward(std::span<const double> out_adjoints, std::span<double> in_adjoints)");
    static_assert(alignof(Closure) <= detail::Arena::block_alignment);
    if (output_values.size() != outputs.size())
      throw std::invalid_argument("ift::Tape::add_node: output_values and outputs differ in length");
    check_recording();
    bool any_variable = false;
    for (const Var& x : inputs) {
      check_owned(x);
      any_variable = any_variable || !x.is_constant();
    }
    if (!any_variable || outputs.empty()) {
      for (std::size_t j = 0; j < outputs.size(); ++j) outputs[j] = Var::constant(output_values[j]);
      return;
    }
    // Reserve everything first: once the closure is constructed nothing below can throw.
    reserve(outputs.size(), 0);
    closures_.reserve_more(1, max_index);
    closure_inputs_.reserve_more(inputs.size(), max_index);
    void* memory = arena_.allocate(sizeof(Closure), alignof(Closure));
    Closure* closure = ::new (memory) Closure(std::forward<Backward>(backward));

    detail::ClosureNode node{};
    node.first_output = num_variables();
    node.num_outputs = static_cast<std::uint32_t>(outputs.size());
    node.first_input = static_cast<std::uint32_t>(closure_inputs_.size());
    node.num_inputs = static_cast<std::uint32_t>(inputs.size());
    node.closure = closure;
    node.invoke = [](void* f, std::span<const double> out, std::span<double> in) {
      std::invoke(*static_cast<Closure*>(f), out, in);
    };
    node.destroy = nullptr;
    if constexpr (!std::is_trivially_destructible_v<Closure>)
      node.destroy = [](void* f) noexcept { static_cast<Closure*>(f)->~Closure(); };
    // Inputs are read before outputs are written, so the two spans may overlap.
    for (const Var& x : inputs) closure_inputs_.push_unchecked(x.is_constant() ? constant_input : x.index_);
    closures_.push_unchecked(node);
    for (std::size_t j = 0; j < outputs.size(); ++j) {
      statements_.push_unchecked(0);
      outputs[j] = Var(output_values[j], num_variables() - 1, id_);
    }
  }

 private:
  friend class Var;
  friend struct detail::Recorder;

  static constexpr std::size_t max_index = std::numeric_limits<std::uint32_t>::max() - 1;
  static constexpr std::size_t max_arguments = std::numeric_limits<std::size_t>::max() / sizeof(double);
  static constexpr std::uint32_t constant_input = std::numeric_limits<std::uint32_t>::max();

  /// Marks a sweep in progress (a closure must not sweep or clear the tape it belongs to).
  class SweepGuard {
   public:
    explicit SweepGuard(const Tape& tape) : tape_(tape) {
      if (tape_.sweeping_) throw TapeError("ift::Tape: reverse sweep started during the same tape's sweep");
      tape_.sweeping_ = true;
      tape_.swept_ = 0;
    }
    ~SweepGuard() { tape_.sweeping_ = false; }
    SweepGuard(const SweepGuard&) = delete;
    SweepGuard& operator=(const SweepGuard&) = delete;

   private:
    const Tape& tape_;
  };

  std::uint32_t num_variables() const noexcept { return static_cast<std::uint32_t>(statements_.size()); }

  void check_owned(const Var& x) const {
    if (!x.is_constant() && x.tape_id_ != id_) throw TapeError(detail::foreign_var_message);
  }
  void check_recording() const {
    if (sweeping_) throw TapeError("ift::Tape: recording on a tape during its own reverse sweep");
  }

  /// Room for `variables` statements and `arguments` arguments. The partials' capacity follows the
  /// indices' (there are never more partials than indices), so the hot path tests only the indices.
  void reserve(std::size_t variables, std::size_t arguments) {
    statements_.reserve_more(variables, max_index);
    argument_index_.reserve_more(arguments, max_arguments);
    argument_partial_.reserve_total(argument_index_.capacity());
  }

  // The hot path of every operation: one capacity test per array, then plain stores. The kind byte
  // is stored last: a byte store may alias anything, and would make the compiler reload the others.

  /// Stores the kind byte of the statement whose arguments were just pushed; its new variable.
  Var finish(double value, std::uint8_t kind) noexcept {
    const Var z(value, num_variables(), id_);
    statements_.push_unchecked(kind);
    return z;
  }
  std::uint32_t push_independent() {
    if (statements_.spare() < 1) [[unlikely]]
      reserve(1, 0);
    statements_.push_unchecked(0);
    return num_variables() - 1;
  }
  /// A statement of kind `kind` with one argument whose partial is implied by the kind.
  Var push_implied(double value, std::uint8_t kind, std::uint32_t i) {
    if (statements_.spare() < 1 || argument_index_.spare() < 1) [[unlikely]]
      reserve(1, 1);
    argument_index_.push_unchecked(i);
    return finish(value, kind);
  }
  /// A statement of kind `kind` with two arguments whose partials are implied by the kind.
  Var push_implied(double value, std::uint8_t kind, std::uint32_t i, std::uint32_t j) {
    if (statements_.spare() < 1 || argument_index_.spare() < 2) [[unlikely]]
      reserve(1, 2);
    argument_index_.push_unchecked(i);
    argument_index_.push_unchecked(j);
    return finish(value, kind);
  }
  Var push(double value, std::uint32_t i, double di) {
    if (statements_.spare() < 1 || argument_index_.spare() < 1) [[unlikely]]
      reserve(1, 1);
    argument_index_.push_unchecked(i);
    argument_partial_.push_unchecked(di);
    return finish(value, 1);
  }
  Var push(double value, std::uint32_t i, double di, std::uint32_t j, double dj) {
    if (statements_.spare() < 1 || argument_index_.spare() < 2) [[unlikely]]
      reserve(1, 2);
    argument_index_.push_unchecked(i);
    argument_index_.push_unchecked(j);
    argument_partial_.push_unchecked(di);
    argument_partial_.push_unchecked(dj);
    return finish(value, 2);
  }

  /// Where the arguments of statement `top` begin: the (index, partial) offsets after all statements
  /// before it, counted from whichever end of the recording is nearer.
  std::pair<std::size_t, std::size_t> argument_offsets(std::uint32_t top) const noexcept {
    const std::uint8_t* const kinds = statements_.data();
    std::size_t indices = 0, partials = 0;
    if (top <= num_variables() - top) {
      for (std::uint32_t j = 0; j < top; ++j) {
        indices += detail::statement::argument_count[kinds[j]];
        partials += detail::statement::partial_count[kinds[j]];
      }
    } else {
      indices = argument_index_.size();
      partials = argument_partial_.size();
      for (std::uint32_t j = top; j < num_variables(); ++j) {
        indices -= detail::statement::argument_count[kinds[j]];
        partials -= detail::statement::partial_count[kinds[j]];
      }
    }
    return {indices, partials};
  }

  /// Grows the adjoint buffer to cover variables [0, top) — widened so that no closure node has
  /// only some of its outputs inside — and zeroes it. Returns the widened top.
  std::uint32_t prepare_adjoints(std::uint32_t top) const {
    for (std::size_t c = closures_.size(); c > 0; --c) {
      const detail::ClosureNode& node = closures_.data()[c - 1];
      if (node.first_output < top) {
        top = std::max(top, node.first_output + node.num_outputs);
        break;
      }
    }
    adjoints_.resize_for_overwrite(std::max<std::size_t>(top, adjoints_.size()));
    std::fill(adjoints_.data(), adjoints_.data() + top, 0.0);
    return top;
  }

  /// Reverse sweep from y with ȳ = 1 over the variables up to y.
  void reverse(const Var& y) const {
    check_owned(y);
    const SweepGuard guard(*this);
    if (y.is_constant()) return;  // swept_ stays 0: every adjoint reads 0
    const std::uint32_t top = prepare_adjoints(y.index_ + 1);
    adjoints_.data()[y.index_] = 1.0;
    sweep(top);
    swept_ = top;
  }

  double read_adjoint(const Var& x) const noexcept {
    return !x.is_constant() && x.index_ < swept_ ? adjoints_.data()[x.index_] : 0.0;
  }

  /// The sweep proper: statements [0, top) from the last to the first, x̄ᵢ += ∂fⱼ/∂xᵢ · x̄ⱼ,
  /// with each closure node run when the sweep reaches its outputs.
  void sweep(std::uint32_t top) const {
    namespace statement = detail::statement;
    double* const adjoint = adjoints_.data();
    const std::uint8_t* const kinds = statements_.data();
    const auto [index_offset, partial_offset] = argument_offsets(top);
    // One past the current statement's arguments; each statement steps them back by its counts.
    const std::uint32_t* index = argument_index_.data() + index_offset;
    const double* partial = argument_partial_.data() + partial_offset;
    std::size_t c = closures_.size();
    while (c > 0 && closures_.data()[c - 1].first_output >= top) --c;
    std::uint32_t hi = top;
    for (;;) {
      const detail::ClosureNode* node = c > 0 ? &closures_.data()[c - 1] : nullptr;
      const std::uint32_t lo = node != nullptr ? node->first_output + node->num_outputs : 0;
      for (std::uint32_t j = hi; j > lo;) {
        --j;
        const std::uint8_t kind = kinds[j];
        index -= statement::argument_count[kind];
        partial -= statement::partial_count[kind];
        const double a = adjoint[j];
        if (a == 0.0) continue;
        switch (kind) {
          case statement::shifted:
            adjoint[index[0]] += a;
            break;
          case statement::negated:
            adjoint[index[0]] -= a;
            break;
          case statement::sum:
            adjoint[index[0]] += a;
            adjoint[index[1]] += a;
            break;
          case statement::difference:
            adjoint[index[0]] += a;
            adjoint[index[1]] -= a;
            break;
          default:
            for (std::uint8_t k = 0; k < kind; ++k) adjoint[index[k]] += partial[k] * a;
        }
      }
      if (node == nullptr) break;
      run_closure(*node);  // its outputs have no arguments: index and partial stay put
      hi = node->first_output;
      --c;
    }
  }

  void run_closure(const detail::ClosureNode& node) const {
    double* const adjoint = adjoints_.data();
    const std::span<const double> out(adjoint + node.first_output, node.num_outputs);
    if (std::all_of(out.begin(), out.end(), [](double a) { return a == 0.0; })) return;
    in_adjoints_.resize_for_overwrite(node.num_inputs);
    const std::span<double> in(in_adjoints_.data(), node.num_inputs);
    std::fill(in.begin(), in.end(), 0.0);
    {
      // The closure sees no active tape, so it cannot record on this one by accident.
      const detail::ActiveTapeScope scope(nullptr);
      node.invoke(node.closure, out, in);
    }
    const std::uint32_t* const inputs = closure_inputs_.data() + node.first_input;
    for (std::uint32_t k = 0; k < node.num_inputs; ++k)
      if (inputs[k] != constant_input) adjoint[inputs[k]] += in[k];
  }

  void destroy_closures() noexcept {
    for (std::size_t c = closures_.size(); c > 0; --c) {
      const detail::ClosureNode& node = closures_.data()[c - 1];
      if (node.destroy != nullptr) node.destroy(node.closure);
    }
    closures_.clear();
  }

  std::uint32_t id_;
  Tape* previous_;
  detail::PodBuffer<std::uint8_t> statements_;       // per variable: its statement's kind
  detail::PodBuffer<std::uint32_t> argument_index_;  // per argument: the argument's variable
  detail::PodBuffer<double> argument_partial_;       // per stored partial: ∂(statement)/∂(argument)
  detail::PodBuffer<detail::ClosureNode> closures_;  // in recording order
  detail::PodBuffer<std::uint32_t> closure_inputs_;  // the closures' input variables
  detail::Arena arena_;                              // the closure objects

  mutable detail::PodBuffer<double> adjoints_;     // the sweep's x̄, one per variable
  mutable detail::PodBuffer<double> in_adjoints_;  // scratch for a closure's input adjoints
  mutable std::uint32_t swept_ = 0;                // adjoints_[0, swept_) hold the latest sweep
  mutable bool sweeping_ = false;
};

/// Records a closure node on the active tape (see `Tape::add_node`).
/// @throws TapeError if no tape is active.
template <class Backward>
void add_node(std::span<const Var> inputs, std::span<const double> output_values, std::span<Var> outputs,
              Backward&& backward) {
  Tape* tape = Tape::active();
  if (tape == nullptr) detail::throw_misuse(nullptr);
  tape->add_node(inputs, output_values, outputs, std::forward<Backward>(backward));
}

inline Var::Var(double value) : value_(value) {
  Tape* tape = detail::active_tape;
  if (tape == nullptr) [[unlikely]]
    detail::throw_misuse(nullptr);
  index_ = tape->push_independent();
  tape_id_ = tape->id_;
}

namespace detail {

inline Tape* Recorder::owning_tape(const Var& a) {
  Tape* tape = active_tape;
  if (tape == nullptr || tape->id_ != a.tape_id_) [[unlikely]]
    throw_misuse(tape);
  return tape;
}

inline Tape* Recorder::owning_tape(const Var& a, const Var& b) {
  Tape* tape = active_tape;
  if (tape == nullptr || tape->id_ != a.tape_id_ || b.tape_id_ != a.tape_id_) [[unlikely]]
    throw_misuse(tape);
  return tape;
}

inline Var Recorder::unary(double value, const Var& a, double da) {
  if (a.tape_id_ == 0) return Var(value, 0, 0);
  return owning_tape(a)->push(value, a.index_, da);
}

inline Var Recorder::binary(double value, const Var& a, double da, const Var& b, double db) {
  if (a.tape_id_ == 0) return unary(value, b, db);
  if (b.tape_id_ == 0) return unary(value, a, da);
  return owning_tape(a, b)->push(value, a.index_, da, b.index_, db);
}

inline Var Recorder::shifted(double value, const Var& a) {
  if (a.tape_id_ == 0) return Var(value, 0, 0);
  return owning_tape(a)->push_implied(value, statement::shifted, a.index_);
}

inline Var Recorder::negated(double value, const Var& a) {
  if (a.tape_id_ == 0) return Var(value, 0, 0);
  return owning_tape(a)->push_implied(value, statement::negated, a.index_);
}

inline Var Recorder::sum(double value, const Var& a, const Var& b) {
  if (a.tape_id_ == 0) return shifted(value, b);
  if (b.tape_id_ == 0) return shifted(value, a);
  return owning_tape(a, b)->push_implied(value, statement::sum, a.index_, b.index_);
}

inline Var Recorder::difference(double value, const Var& a, const Var& b) {
  if (a.tape_id_ == 0) return negated(value, b);
  if (b.tape_id_ == 0) return shifted(value, a);
  return owning_tape(a, b)->push_implied(value, statement::difference, a.index_, b.index_);
}

inline Var Recorder::flat(double value, const Var& a) {
  if (a.tape_id_ == 0) return Var(value, 0, 0);
  Tape* tape = owning_tape(a);
  return Var(value, tape->push_independent(), tape->id_);
}

}  // namespace detail
}  // namespace ift

namespace std {

/// `Var` has the limits of `double`; the special values are constants.
template <>
struct numeric_limits<ift::Var> {
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = numeric_limits<double>::has_infinity;
  static constexpr bool has_quiet_NaN = numeric_limits<double>::has_quiet_NaN;
  static constexpr bool has_signaling_NaN = numeric_limits<double>::has_signaling_NaN;
  static constexpr float_denorm_style has_denorm = numeric_limits<double>::has_denorm;
  static constexpr bool has_denorm_loss = numeric_limits<double>::has_denorm_loss;
  static constexpr float_round_style round_style = numeric_limits<double>::round_style;
  static constexpr bool is_iec559 = numeric_limits<double>::is_iec559;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = false;
  static constexpr int digits = numeric_limits<double>::digits;
  static constexpr int digits10 = numeric_limits<double>::digits10;
  static constexpr int max_digits10 = numeric_limits<double>::max_digits10;
  static constexpr int radix = numeric_limits<double>::radix;
  static constexpr int min_exponent = numeric_limits<double>::min_exponent;
  static constexpr int min_exponent10 = numeric_limits<double>::min_exponent10;
  static constexpr int max_exponent = numeric_limits<double>::max_exponent;
  static constexpr int max_exponent10 = numeric_limits<double>::max_exponent10;
  static constexpr bool traps = numeric_limits<double>::traps;
  static constexpr bool tinyness_before = numeric_limits<double>::tinyness_before;

  static constexpr ift::Var min() noexcept { return ift::Var::constant(numeric_limits<double>::min()); }
  static constexpr ift::Var max() noexcept { return ift::Var::constant(numeric_limits<double>::max()); }
  static constexpr ift::Var lowest() noexcept { return ift::Var::constant(numeric_limits<double>::lowest()); }
  static constexpr ift::Var epsilon() noexcept {
    return ift::Var::constant(numeric_limits<double>::epsilon());
  }
  static constexpr ift::Var round_error() noexcept {
    return ift::Var::constant(numeric_limits<double>::round_error());
  }
  static constexpr ift::Var infinity() noexcept {
    return ift::Var::constant(numeric_limits<double>::infinity());
  }
  static constexpr ift::Var quiet_NaN() noexcept {
    return ift::Var::constant(numeric_limits<double>::quiet_NaN());
  }
  static constexpr ift::Var signaling_NaN() noexcept {
    return ift::Var::constant(numeric_limits<double>::signaling_NaN());
  }
  static constexpr ift::Var denorm_min() noexcept {
    return ift::Var::constant(numeric_limits<double>::denorm_min());
  }
};

}  // namespace std

namespace Eigen {

/// `Var` behaves like a real floating-point type. Literals are `double`, so constants Eigen writes
/// as `Literal(c)` stay off the tape; special values are constants.
template <>
struct NumTraits<ift::Var> {
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

  static ift::Var epsilon() { return ift::Var::constant(NumTraits<double>::epsilon()); }
  static ift::Var dummy_precision() { return ift::Var::constant(NumTraits<double>::dummy_precision()); }
  static ift::Var highest() { return ift::Var::constant(NumTraits<double>::highest()); }
  static ift::Var lowest() { return ift::Var::constant(NumTraits<double>::lowest()); }
  static ift::Var infinity() { return ift::Var::constant(NumTraits<double>::infinity()); }
  static ift::Var quiet_NaN() { return ift::Var::constant(NumTraits<double>::quiet_NaN()); }
  static int digits10() { return NumTraits<double>::digits10(); }
  static int digits() { return NumTraits<double>::digits(); }
  static int min_exponent() { return NumTraits<double>::min_exponent(); }
  static int max_exponent() { return NumTraits<double>::max_exponent(); }
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

namespace internal {
/// Pivot scores (LU's search for the largest entry) compare values only: the choice of pivot is
/// not differentiated, so the search records nothing on the tape.
template <>
struct scalar_score_coeff_op<ift::Var> {
  using result_type = double;
  double operator()(const ift::Var& a) const { return std::abs(a.value()); }
};

/// Matrix–vector products whose matrix holds `Var` take Eigen's generic path. The BLAS-like
/// path converts the scale factor α to the vector's scalar type, which for a `double` vector
/// would drop α's derivative; the generic path keeps α a `Var`. Same as Eigen's own traits otherwise.
template <class Xpr>
requires std::is_same_v<typename traits<Xpr>::Scalar, ift::Var>
struct blas_traits<Xpr> {
  using Scalar = ift::Var;
  using ExtractType = const Xpr&;
  using _ExtractType = Xpr;
  enum {
    IsComplex = 0,
    IsTransposed = false,
    NeedToConjugate = false,
    HasUsableDirectAccess = 0,
    HasScalarFactor = false
  };
  using DirectLinearAccessType = typename Xpr::PlainObject;
  static ExtractType extract(const Xpr& x) { return x; }
  static const Scalar extractScalarFactor(const Xpr&) { return ift::Var::constant(1.0); }
};

/// Large products of a `double` matrix and a `Var` matrix. Eigen's blocked kernel assumes that the
/// product of a left and a right scalar fits in the right scalar's type, which `double · Var` does
/// not. Here each entry res += α · Σₖ lhsₖ · rhsₖ is one statement with the `double` factors as
/// its partials (12 bytes per term instead of a product and a sum per term).
template <class Index, class LhsScalar, int LhsStorageOrder, class RhsScalar, int RhsStorageOrder,
          int ResInnerStride>
struct mixed_var_matrix_product {
  using Traits = gebp_traits<LhsScalar, RhsScalar>;
  static void run(Index rows, Index cols, Index depth, const LhsScalar* lhs, Index lhs_stride,
                  const RhsScalar* rhs, Index rhs_stride, ift::Var* res, Index res_increment,
                  Index res_stride, ift::Var alpha, level3_blocking<LhsScalar, RhsScalar>& /*blocking*/,
                  GemmParallelInfo<Index>* /*info*/ = nullptr) {
    const auto lhs_at = [&](Index i, Index k) -> const LhsScalar& {
      return LhsStorageOrder == RowMajor ? lhs[i * lhs_stride + k] : lhs[i + k * lhs_stride];
    };
    const auto rhs_at = [&](Index k, Index j) -> const RhsScalar& {
      return RhsStorageOrder == RowMajor ? rhs[k * rhs_stride + j] : rhs[k + j * rhs_stride];
    };
    std::vector<ift::Var> variables(static_cast<std::size_t>(depth));
    std::vector<double> factors(static_cast<std::size_t>(depth));
    ift::Tape* tape = ift::Tape::active();
    for (Index j = 0; j < cols; ++j) {
      for (Index i = 0; i < rows; ++i) {
        double value = 0.0;
        bool constant = true;
        for (Index k = 0; k < depth; ++k) {
          const auto kk = static_cast<std::size_t>(k);
          if constexpr (std::is_same_v<LhsScalar, double>) {
            factors[kk] = lhs_at(i, k);
            variables[kk] = rhs_at(k, j);
          } else {
            variables[kk] = lhs_at(i, k);
            factors[kk] = rhs_at(k, j);
          }
          value += factors[kk] * variables[kk].value();
          constant = constant && variables[kk].is_constant();
        }
        if (!constant && tape == nullptr) ift::detail::throw_misuse(nullptr);
        const ift::Var sum = constant ? ift::Var::constant(value) : tape->record(value, variables, factors);
        res[i * res_increment + j * res_stride] += alpha * sum;
      }
    }
  }
};

template <class Index, int LhsStorageOrder, bool ConjugateLhs, int RhsStorageOrder, bool ConjugateRhs,
          int ResInnerStride>
struct general_matrix_matrix_product<Index, double, LhsStorageOrder, ConjugateLhs, ift::Var, RhsStorageOrder,
                                     ConjugateRhs, ColMajor, ResInnerStride>
    : mixed_var_matrix_product<Index, double, LhsStorageOrder, ift::Var, RhsStorageOrder, ResInnerStride> {};

template <class Index, int LhsStorageOrder, bool ConjugateLhs, int RhsStorageOrder, bool ConjugateRhs,
          int ResInnerStride>
struct general_matrix_matrix_product<Index, ift::Var, LhsStorageOrder, ConjugateLhs, double, RhsStorageOrder,
                                     ConjugateRhs, ColMajor, ResInnerStride>
    : mixed_var_matrix_product<Index, ift::Var, LhsStorageOrder, double, RhsStorageOrder, ResInnerStride> {};
}  // namespace internal

}  // namespace Eigen
