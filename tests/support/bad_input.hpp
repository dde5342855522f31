#pragma once
// Shared by the bad-input tests (tests/bad_input_*.test.cpp): run a failing call at every scalar mode
// with a tape active, check the error's type and message, and check afterwards that what the tape
// recorded before the call still differentiates correctly and that recording can go on.

#include <catch2/catch.hpp>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "ift/dual.hpp"
#include "ift/errors.hpp"
#include "ift/var.hpp"

namespace bad_input {

inline constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
inline constexpr double infinity = std::numeric_limits<double>::infinity();

/// True for the scalars that record on a tape: `Var` and duals over it (`Dual<Var>` is what the
/// reverse rule of minimize evaluates L with).
template <class S>
inline constexpr bool holds_var_v = ift::is_var_v<S>;
template <class T, int N>
inline constexpr bool holds_var_v<ift::Dual<T, N>> = holds_var_v<T>;

/// The constant v in scalar S: for `Var` a constant that records nothing (so that it needs no tape).
template <class S>
S constant(double v) {
  if constexpr (ift::is_var_v<S>)
    return ift::Var::constant(v);
  else
    return S(v);
}

/// True when θ in `in_every_mode` is the plain `double`, where no derivative is asked for.
template <class T>
inline constexpr bool is_double_v = std::is_same_v<std::remove_cvref_t<T>, double>;

/// A computation recorded before a failing call: y = a² sin a at a = 0.7. `check()` afterwards
/// compares ∂y/∂a with 2a sin a + a² cos a, and records z = y·a after the failure to compare
/// ∂z/∂a = a·∂y/∂a + y: the failure neither corrupted the recording nor stopped the tape.
class Witness {
 public:
  explicit Witness(ift::Tape& tape) : tape_(tape), a_(0.7), y_(a_ * a_ * sin(a_)) {}

  void check() const {
    REQUIRE(ift::Tape::active() == &tape_);
    const double a = 0.7, y = a * a * std::sin(a), dy = 2 * a * std::sin(a) + a * a * std::cos(a);
    CHECK_THAT(tape_.gradient(y_, a_), Catch::Matchers::WithinRel(dy, 1e-15));
    const ift::Var z = y_ * a_;
    CHECK_THAT(tape_.gradient(z, a_), Catch::Matchers::WithinRel(a * dy + y, 1e-15));
  }

 private:
  ift::Tape& tape_;
  ift::Var a_;
  ift::Var y_;
};

/// Runs `body(theta)` with θ as `double`, as `Dual<double>` (tangent 1) and as a `Var`, each in its
/// own section, on a fresh tape with a `Witness` recorded before the call and checked after it.
template <class Body>
void in_every_mode(double theta, Body&& body) {
  SECTION("double") {
    ift::Tape tape;
    const Witness witness(tape);
    body(theta);
    witness.check();
  }
  SECTION("Dual") {
    ift::Tape tape;
    const Witness witness(tape);
    body(ift::Dual<double>(theta, 1.0));
    witness.check();
  }
  SECTION("Var") {
    ift::Tape tape;
    const Witness witness(tape);
    body(ift::Var(theta));
    witness.check();
  }
}

/// Checks that `call()` throws `Error` (exactly that family: other exceptions escape and fail the
/// test) and that its message contains each of `excerpts`.
template <class Error, class Call>
void check_error(Call&& call, std::initializer_list<const char*> excerpts) {
  try {
    call();
    FAIL_CHECK("no exception was thrown");
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const char* excerpt : excerpts) CHECK_THAT(what, Catch::Matchers::Contains(excerpt));
  }
}

/// The reverse-mode misuses every entry point must report as `TapeError`, given `solve(theta)`
/// returning a `Var` that depends on θ: θ from a tape that is not the active one, from a destroyed
/// tape, with no tape at all, and the gradient of a result after `clear()`. The active tape stays
/// consistent after each.
template <class Solve>
void check_tape_misuse(Solve&& solve, double theta) {
  SECTION("a Var of another (outer) tape") {
    ift::Tape outer;
    const ift::Var th = theta;
    ift::Tape inner;
    const Witness witness(inner);
    check_error<ift::TapeError>([&] { (void)solve(th); }, {"not its own"});
    witness.check();
  }
  SECTION("a Var of a destroyed tape") {
    const ift::Var th = [&] {
      ift::Tape gone;
      return ift::Var(theta);
    }();
    ift::Tape tape;
    const Witness witness(tape);
    check_error<ift::TapeError>([&] { (void)solve(th); }, {"not its own"});
    witness.check();
  }
  SECTION("a Var with no active tape") {
    const ift::Var th = [&] {
      ift::Tape gone;
      return ift::Var(theta);
    }();
    check_error<ift::TapeError>([&] { (void)solve(th); }, {"Tape", "active"});
  }
  SECTION("the gradient of a result after clear()") {
    ift::Tape tape;
    const ift::Var th = theta;
    const ift::Var x = solve(th);
    tape.clear();
    check_error<ift::TapeError>([&] { (void)tape.gradient(x, th); }, {"before clear()"});
    const Witness witness(tape);
    witness.check();
  }
}

/// The exception a user function throws in the tests: it must reach the caller unchanged.
struct UserError : std::runtime_error {
  UserError() : std::runtime_error("user function failed") {}
};

}  // namespace bad_input
