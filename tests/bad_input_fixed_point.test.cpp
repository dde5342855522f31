// ift::fixed_point given bad input: each case gives its typed error with a message that says what
// went wrong, at every scalar mode, and the tape recorded before the failing call stays usable.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <type_traits>

#include "ift/fixed_point.hpp"
#include "support/bad_input.hpp"

namespace {

using bad_input::check_error;
using bad_input::in_every_mode;
using bad_input::infinity;
using bad_input::is_double_v;
using bad_input::not_a_number;

// x = cos(x)/2 + θ: a contraction (|∂F/∂x| ≤ 1/2), dx/dθ = 1/(1 + sin(x)/2).
const auto F = [](const auto& x, const auto& theta) {
  using std::cos;
  return 0.5 * cos(x) + theta;
};

}  // namespace

TEST_CASE("fixed_point: NaN or Inf in x0 is a std::invalid_argument naming the input",
          "[bad_input][fixed_point]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(1.0, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::fixed_point(F, bad, theta); },
                                         {"ift::fixed_point", "x0", "NaN or Inf"});
      check_error<std::invalid_argument>([&] { (void)ift::fixed_point(F, bad, theta, ift::Iteration{}); },
                                         {"ift::fixed_point", "x0", "NaN or Inf"});
    });
  }
}

TEST_CASE("fixed_point: NaN or Inf in theta is a std::invalid_argument naming the input",
          "[bad_input][fixed_point]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(bad, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::fixed_point(F, 0.0, theta); },
                                         {"ift::fixed_point", "theta", "NaN or Inf"});
    });
  }
}

TEST_CASE("fixed_point: a map that turns NaN mid-solve is a SolverError", "[bad_input][fixed_point]") {
  // F(x) = √x − θ at θ = 2 from 16: 16 → 2 → √2 − 2 < 0 → NaN.
  const auto root_map = [](const auto& x, const auto& theta) {
    using std::sqrt;
    return sqrt(x) - theta;
  };
  in_every_mode(2.0, [&](const auto& theta) {
    check_error<ift::SolverError>([&] { (void)ift::fixed_point(root_map, 16.0, theta, ift::Iteration{}); },
                                  {"Iteration", "non-finite", "after 1 iteration "});
    check_error<ift::SolverError>([&] { (void)ift::fixed_point(root_map, 16.0, theta); },
                                  {"Anderson", "non-finite"});
  });
}

TEST_CASE("fixed_point: I - dF/dx singular at the fixed point is a SingularJacobianError",
          "[bad_input][fixed_point]") {
  // F = x − x³ + θ at θ = 0: x0 = 0 is the fixed point, and ∂F/∂x = 1 − 3x² = 1 there, so
  // c = F − x has ∂c/∂x = 0 (x = ∛θ has no derivative at 0).
  const auto flat = [](const auto& x, const auto& theta) { return x - x * x * x + theta; };
  in_every_mode(0.0, [&](const auto& theta) {
    if constexpr (is_double_v<decltype(theta)>) {
      CHECK(ift::fixed_point(flat, 0.0, theta).x == 0.0);
    } else {
      check_error<ift::SingularJacobianError>([&] { (void)ift::fixed_point(flat, 0.0, theta); },
                                              {"singular", "condition estimate inf"});
    }
  });
}

TEST_CASE("fixed_point: I - dF/dx nearly singular is a SingularJacobianError", "[bad_input][fixed_point]") {
  // F = x − A x + (θ, 1) with cond(A) ≈ 1.8e16, so c = F − x = (θ, 1) − A x; its fixed point is found
  // exactly by a user solver.
  const Eigen::Matrix2d A{{1.0, 1.0}, {1.0, 1.0 + std::numeric_limits<double>::epsilon()}};
  const auto map = [&A](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    return Eigen::Matrix<S, 2, 1>(x - A.cast<S>() * x + Eigen::Matrix<S, 2, 1>(theta, S(1.0)));
  };
  const auto exact = [&A](const auto&, const Eigen::Vector2d&) {
    return Eigen::Vector2d(A.partialPivLu().solve(Eigen::Vector2d(2.0, 1.0)));
  };
  in_every_mode(2.0, [&](const auto& theta) {
    if constexpr (!is_double_v<decltype(theta)>)
      check_error<ift::SingularJacobianError>(
          [&] { (void)ift::fixed_point(map, Eigen::Vector2d(0.0, 0.0), theta, exact); },
          {"numerically singular", "condition estimate"});
  });
}

TEST_CASE("fixed_point: no convergence within max_iter is a SolverError", "[bad_input][fixed_point]") {
  in_every_mode(1.0, [&](const auto& theta) {
    check_error<ift::SolverError>(
        [&] { (void)ift::fixed_point(F, 0.0, theta, ift::Iteration{.max_iter = 2}); },
        {"Iteration", "maximum number of iterations", "after 2 iterations", "residual norm"});
    check_error<ift::SolverError>(
        [&] { (void)ift::fixed_point(F, 0.0, theta, ift::Anderson{.max_iter = 1}); },
        {"Anderson", "maximum number of iterations", "after 1 iteration "});
  });
}

TEST_CASE("fixed_point: F returning another number of values than x0 has is a std::invalid_argument",
          "[bad_input][fixed_point]") {
  const auto three_for_two = [](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    Eigen::Matrix<S, Eigen::Dynamic, 1> y(3);
    y << 0.5 * x(0) + theta, 0.5 * x(1), x(0) * x(1);
    return y;
  };
  const Eigen::VectorXd x0 = Eigen::VectorXd::Zero(2);
  const auto message = {"ift::fixed_point", "returns 3 values for x of size 2"};
  in_every_mode(1.0, [&](const auto& theta) {
    check_error<std::invalid_argument>([&] { (void)ift::fixed_point(three_for_two, x0, theta); }, message);
    check_error<std::invalid_argument>(
        [&] { (void)ift::fixed_point(three_for_two, x0, theta, ift::Iteration{}); }, message);
    check_error<std::invalid_argument>(
        [&] { (void)ift::fixed_point(three_for_two, x0, theta, ift::Anderson{}, ift::Unrolled{}); }, message);
  });
}

TEST_CASE("fixed_point: Vars of another tape, of a destroyed tape, of no tape; gradients after clear()",
          "[bad_input][fixed_point]") {
  bad_input::check_tape_misuse([](const ift::Var& theta) { return ift::fixed_point(F, 0.0, theta).x; }, 1.0);
}

TEST_CASE("fixed_point: an exception thrown by F mid-solve reaches the caller unchanged",
          "[bad_input][fixed_point]") {
  int calls = 0;
  const auto throwing = [&calls](const auto& x, const auto& theta) {
    if (++calls == 3) throw bad_input::UserError();
    return F(x, theta);
  };
  in_every_mode(1.0, [&](const auto& theta) {
    calls = 0;
    CHECK_THROWS_AS(ift::fixed_point(throwing, 0.0, theta), bad_input::UserError);
    calls = 0;
    CHECK_THROWS_AS(ift::fixed_point(throwing, 0.0, theta, ift::Iteration{}, ift::Unrolled{}),
                    bad_input::UserError);
  });
}

TEST_CASE("fixed_point: an exception thrown by F during the reverse sweep leaves the tape usable",
          "[bad_input][fixed_point]") {
  bool armed = false;
  const auto throwing = [&armed](const auto& x, const auto& theta) {
    // The backward pass evaluates F on AD scalars: Vars, or duals for a fixed-size state (this one).
    if constexpr (!std::is_arithmetic_v<std::decay_t<decltype(x)>>)
      if (armed) throw bad_input::UserError();
    return F(x, theta);
  };
  ift::Tape tape;
  const bad_input::Witness witness(tape);
  const ift::Var theta = 1.0;
  const ift::Var x = ift::fixed_point(throwing, 0.0, theta).x;
  armed = true;
  CHECK_THROWS_AS(tape.gradient(x, theta), bad_input::UserError);
  witness.check();
  armed = false;
  CHECK_THAT(tape.gradient(x, theta),
             Catch::Matchers::WithinRel(1.0 / (1.0 + 0.5 * std::sin(x.value())), 1e-10));
}
