// ift::minimize given bad input: each case gives its typed error with a message that says what went
// wrong, at every scalar mode, and the tape recorded before the failing call stays usable. (An
// objective that does not return a scalar is a compile error: see tests/diagnostics/.)

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <type_traits>

#include "ift/minimize.hpp"
#include "support/bad_input.hpp"

namespace {

using bad_input::check_error;
using bad_input::in_every_mode;
using bad_input::infinity;
using bad_input::is_double_v;
using bad_input::not_a_number;

// L = (x − θ)²/2 + x⁴/4: stationary where x + x³ = θ, so at θ = 2 x = 1 and dx/dθ = 1/(1 + 3x²) = 1/4.
const auto L = [](const auto& x, const auto& theta) {
  return 0.5 * (x - theta) * (x - theta) + 0.25 * x * x * x * x;
};

}  // namespace

TEST_CASE("minimize: NaN or Inf in x0 is a std::invalid_argument naming the input", "[bad_input][minimize]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(2.0, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::minimize(L, bad, theta); },
                                         {"ift::minimize", "x0", "NaN or Inf"});
      check_error<std::invalid_argument>([&] { (void)ift::minimize(L, bad, theta, ift::NewtonMin{}); },
                                         {"ift::minimize", "x0", "NaN or Inf"});
    });
  }
}

TEST_CASE("minimize: NaN or Inf in theta is a std::invalid_argument naming the input",
          "[bad_input][minimize]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(bad, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::minimize(L, 0.0, theta); },
                                         {"ift::minimize", "theta", "NaN or Inf"});
    });
  }
}

TEST_CASE("minimize: an objective that turns NaN mid-solve is a SolverError", "[bad_input][minimize]") {
  // L = x − θ log x at θ = 1 from x = 3 with step 5: x₁ = 3 − 5(1 − 1/3) < 0, where log is NaN.
  const auto log_barrier = [](const auto& x, const auto& theta) {
    using std::log;
    return x - theta * log(x);
  };
  in_every_mode(1.0, [&](const auto& theta) {
    check_error<ift::SolverError>(
        [&] { (void)ift::minimize(log_barrier, 3.0, theta, ift::GradientDescent{.learning_rate = 5.0}); },
        {"GradientDescent", "non-finite"});
  });
}

TEST_CASE("minimize: a singular Hessian at the minimizer is a SingularJacobianError",
          "[bad_input][minimize]") {
  // L = x⁴/4 − θx at θ = 0: x0 = 0 is the minimizer, where L'' = 3x² = 0 (x = ∛θ has no derivative).
  const auto quartic = [](const auto& x, const auto& theta) { return 0.25 * x * x * x * x - theta * x; };
  in_every_mode(0.0, [&](const auto& theta) {
    if constexpr (is_double_v<decltype(theta)>) {
      CHECK(ift::minimize(quartic, 0.0, theta).x == 0.0);
    } else {
      check_error<ift::SingularJacobianError>([&] { (void)ift::minimize(quartic, 0.0, theta); },
                                              {"singular", "condition estimate inf"});
    }
  });
}

TEST_CASE("minimize: a nearly singular Hessian is a SingularJacobianError", "[bad_input][minimize]") {
  // L = xᵀAx/2 − θx₀ − x₁ with cond(A) ≈ 1.8e16, minimized exactly by a user solver.
  const Eigen::Matrix2d A{{1.0, 1.0}, {1.0, 1.0 + std::numeric_limits<double>::epsilon()}};
  const auto quadratic = [&A](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    return S(0.5 * x.dot(A.cast<S>() * x) - theta * x(0) - x(1));
  };
  const auto exact = [&A](const auto&, const Eigen::Vector2d&) {
    return Eigen::Vector2d(A.partialPivLu().solve(Eigen::Vector2d(2.0, 1.0)));
  };
  in_every_mode(2.0, [&](const auto& theta) {
    if constexpr (!is_double_v<decltype(theta)>) {
      check_error<ift::SingularJacobianError>(
          [&] { (void)ift::minimize(quadratic, Eigen::Vector2d(0.0, 0.0), theta, exact); },
          {"numerically singular", "condition estimate"});
    }
  });
}

TEST_CASE("minimize: no convergence within max_iter is a SolverError", "[bad_input][minimize]") {
  in_every_mode(2.0, [&](const auto& theta) {
    check_error<ift::SolverError>(
        [&] { (void)ift::minimize(L, 3.0, theta, ift::BFGS{.max_iter = 1}); },
        {"BFGS", "maximum number of iterations", "after 1 iteration ", "residual norm"});
    check_error<ift::SolverError>(
        [&] {
          (void)ift::minimize(L, 3.0, theta, ift::GradientDescent{.learning_rate = 0.01, .max_iter = 3});
        },
        {"GradientDescent", "maximum number of iterations", "after 3 iterations"});
  });
}

TEST_CASE("minimize: Vars of another tape, of a destroyed tape, of no tape; gradients after clear()",
          "[bad_input][minimize]") {
  bad_input::check_tape_misuse([](const ift::Var& theta) { return ift::minimize(L, 0.0, theta).x; }, 2.0);
}

TEST_CASE("minimize: an exception thrown by L mid-solve reaches the caller unchanged",
          "[bad_input][minimize]") {
  // BFGS from 0 reaches the minimizer 1 exactly with its second evaluation (step 1/2 along 2).
  int calls = 0;
  const auto throwing = [&calls](const auto& x, const auto& theta) {
    if (++calls == 2) throw bad_input::UserError();
    return L(x, theta);
  };
  in_every_mode(2.0, [&](const auto& theta) {
    calls = 0;
    CHECK_THROWS_AS(ift::minimize(throwing, 0.0, theta), bad_input::UserError);
    calls = 0;
    CHECK_THROWS_AS(ift::minimize(throwing, 0.0, theta, ift::BFGS{}, ift::Unrolled{}), bad_input::UserError);
  });
}

TEST_CASE("minimize: an exception thrown by L during the reverse sweep leaves the tape usable",
          "[bad_input][minimize]") {
  // The reverse rule evaluates L on Dual<Var> in the backward pass (reverse over forward).
  bool armed = false;
  const auto throwing = [&armed](const auto& x, const auto& theta) {
    if constexpr (bad_input::holds_var_v<std::decay_t<decltype(x)>>)
      if (armed) throw bad_input::UserError();
    return L(x, theta);
  };
  ift::Tape tape;
  const bad_input::Witness witness(tape);
  const ift::Var theta = 2.0;
  const ift::Var x = ift::minimize(throwing, 0.0, theta).x;
  armed = true;
  CHECK_THROWS_AS(tape.gradient(x, theta), bad_input::UserError);
  witness.check();
  armed = false;
  CHECK_THAT(tape.gradient(x, theta), Catch::Matchers::WithinRel(0.25, 1e-8));
}
