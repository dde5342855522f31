// ift::least_squares given bad input: each case gives its typed error with a message that says what
// went wrong, at every scalar mode, and the tape recorded before the failing call stays usable.

#include <catch2/catch.hpp>

#include <limits>
#include <type_traits>

#include "ift/least_squares.hpp"
#include "support/bad_input.hpp"

namespace {

using bad_input::check_error;
using bad_input::in_every_mode;
using bad_input::infinity;
using bad_input::is_double_v;
using bad_input::not_a_number;

// r = (x − θ, x²/2): ½‖r‖² is stationary where x − θ + x³/2 = 0, so at θ = 1.5 x = 1 and
// dx/dθ = 1/(1 + 3x²/2) = 2/5.
const auto r = [](const auto& x, const auto& theta) {
  using S = std::decay_t<decltype(x)>;
  return Eigen::Matrix<S, 2, 1>(x - theta, 0.5 * x * x);
};

}  // namespace

TEST_CASE("least_squares: NaN or Inf in x0 is a std::invalid_argument naming the input",
          "[bad_input][least_squares]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(1.5, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::least_squares(r, bad, theta); },
                                         {"ift::least_squares", "x0", "NaN or Inf"});
      check_error<std::invalid_argument>([&] { (void)ift::least_squares(r, bad, theta, ift::GaussNewton{}); },
                                         {"ift::least_squares", "x0", "NaN or Inf"});
    });
  }
}

TEST_CASE("least_squares: NaN or Inf in theta is a std::invalid_argument naming the input",
          "[bad_input][least_squares]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(bad, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::least_squares(r, 0.0, theta); },
                                         {"ift::least_squares", "theta", "NaN or Inf"});
    });
  }
}

TEST_CASE("least_squares: a residual that turns NaN mid-solve is a SolverError",
          "[bad_input][least_squares]") {
  // Finite at x0, NaN from the second evaluation on (the solver's Jacobian at x0).
  int calls = 0;
  const auto poisoned = [&calls](const auto& x, const auto& theta) {
    using S = std::decay_t<decltype(x)>;
    return Eigen::Matrix<S, 2, 1>(x - theta + (++calls > 1 ? not_a_number : 0.0), 0.5 * x * x);
  };
  in_every_mode(1.5, [&](const auto& theta) {
    calls = 0;
    check_error<ift::SolverError>([&] { (void)ift::least_squares(poisoned, 0.0, theta); },
                                  {"LevenbergMarquardt", "non-finite"});
    calls = 0;
    check_error<ift::SolverError>([&] { (void)ift::least_squares(poisoned, 0.0, theta, ift::GaussNewton{}); },
                                  {"GaussNewton", "non-finite"});
  });
}

TEST_CASE("least_squares: a singular Hessian at the minimizer is a SingularJacobianError",
          "[bad_input][least_squares]") {
  // r = x² − θ at θ = 0: x0 = 0 is the minimizer, where the Hessian (2x)² + 2r of ½r² vanishes.
  const auto square = [](const auto& x, const auto& theta) {
    using S = std::decay_t<decltype(x)>;
    return Eigen::Matrix<S, 1, 1>(x * x - theta);
  };
  in_every_mode(0.0, [&](const auto& theta) {
    if constexpr (is_double_v<decltype(theta)>) {
      CHECK(ift::least_squares(square, 0.0, theta).x == 0.0);
    } else {
      check_error<ift::SingularJacobianError>([&] { (void)ift::least_squares(square, 0.0, theta); },
                                              {"singular", "condition estimate inf"});
    }
  });
}

TEST_CASE("least_squares: a nearly singular Hessian is a SingularJacobianError",
          "[bad_input][least_squares]") {
  // r = A x − (θ, 1) with cond(A) ≈ 1.8e16: the Hessian AᵀA of ½‖r‖² is numerically singular at the
  // exact solution a user solver returns.
  const Eigen::Matrix2d A{{1.0, 1.0}, {1.0, 1.0 + std::numeric_limits<double>::epsilon()}};
  const auto linear = [&A](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    return Eigen::Matrix<S, 2, 1>(A.cast<S>() * x - Eigen::Matrix<S, 2, 1>(theta, S(1.0)));
  };
  const auto exact = [&A](const auto&, const Eigen::Vector2d&) {
    return Eigen::Vector2d(A.partialPivLu().solve(Eigen::Vector2d(2.0, 1.0)));
  };
  in_every_mode(2.0, [&](const auto& theta) {
    if constexpr (!is_double_v<decltype(theta)>)
      check_error<ift::SingularJacobianError>(
          [&] { (void)ift::least_squares(linear, Eigen::Vector2d(0.0, 0.0), theta, exact); },
          {"numerically singular", "condition estimate"});
  });
}

TEST_CASE("least_squares: no convergence within max_iter is a SolverError", "[bad_input][least_squares]") {
  in_every_mode(1.5, [&](const auto& theta) {
    check_error<ift::SolverError>(
        [&] { (void)ift::least_squares(r, 3.0, theta, ift::LevenbergMarquardt{.max_iter = 1}); },
        {"LevenbergMarquardt", "maximum number of iterations", "after 1 iteration ", "residual norm"});
    check_error<ift::SolverError>(
        [&] { (void)ift::least_squares(r, 3.0, theta, ift::GaussNewton{.max_iter = 1}); },
        {"GaussNewton", "maximum number of iterations"});
  });
}

TEST_CASE("least_squares: Vars of another tape, of a destroyed tape, of no tape; gradients after clear()",
          "[bad_input][least_squares]") {
  bad_input::check_tape_misuse([](const ift::Var& theta) { return ift::least_squares(r, 0.0, theta).x; },
                               1.5);
}

TEST_CASE("least_squares: an exception thrown by r mid-solve reaches the caller unchanged",
          "[bad_input][least_squares]") {
  int calls = 0;
  const auto throwing = [&calls](const auto& x, const auto& theta) {
    if (++calls == 3) throw bad_input::UserError();
    return r(x, theta);
  };
  in_every_mode(1.5, [&](const auto& theta) {
    calls = 0;
    CHECK_THROWS_AS(ift::least_squares(throwing, 0.0, theta), bad_input::UserError);
    calls = 0;
    CHECK_THROWS_AS(ift::least_squares(throwing, 0.0, theta, ift::GaussNewton{}, ift::Unrolled{}),
                    bad_input::UserError);
  });
}

TEST_CASE("least_squares: an exception thrown by r during the reverse sweep leaves the tape usable",
          "[bad_input][least_squares]") {
  bool armed = false;
  const auto throwing = [&armed](const auto& x, const auto& theta) {
    if constexpr (bad_input::holds_var_v<std::decay_t<decltype(x)>>)
      if (armed) throw bad_input::UserError();
    return r(x, theta);
  };
  ift::Tape tape;
  const bad_input::Witness witness(tape);
  const ift::Var theta = 1.5;
  const ift::Var x = ift::least_squares(throwing, 0.0, theta).x;
  armed = true;
  CHECK_THROWS_AS(tape.gradient(x, theta), bad_input::UserError);
  witness.check();
  armed = false;
  CHECK_THAT(tape.gradient(x, theta), Catch::Matchers::WithinRel(0.4, 1e-8));
}
