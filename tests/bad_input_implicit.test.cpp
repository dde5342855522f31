// ift::implicit given bad input: each case gives its typed error with a message that says what went
// wrong, at every scalar mode where a derivative is asked for (with θ a double, implicit returns
// x_star untouched and checks nothing), and the tape recorded before the failing call stays usable.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <type_traits>

#include "ift/implicit.hpp"
#include "support/bad_input.hpp"

namespace {

using bad_input::check_error;
using bad_input::in_every_mode;
using bad_input::infinity;
using bad_input::is_double_v;
using bad_input::not_a_number;

// c(x, θ) = x³ + x − θ: at θ = 2 the solution is x = 1, dx/dθ = 1/(3x² + 1) = 1/4.
const auto c = [](const auto& x, const auto& theta) { return x * x * x + x - theta; };

// c(x, θ) = A x − θ·1 on two unknowns, for the vector cases.
template <class S>
Eigen::Matrix<S, 2, 1> linear(const Eigen::Matrix2d& a, const Eigen::Matrix<S, 2, 1>& x, const S& theta) {
  return a.cast<S>() * x - Eigen::Matrix<S, 2, 1>(theta, theta);
}

}  // namespace

TEST_CASE("implicit: NaN or Inf in x_star is a std::invalid_argument", "[bad_input][implicit]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(2.0, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::implicit(c, bad, theta); },
                                         {"ift::implicit", "x_star", "NaN or Inf"});
    });
  }
}

TEST_CASE("implicit: NaN or Inf in theta is a std::invalid_argument", "[bad_input][implicit]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(bad, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::implicit(c, 1.0, theta); },
                                         {"ift::implicit", "theta", "NaN or Inf"});
    });
  }
}

TEST_CASE("implicit: a singular dc/dx is a SingularJacobianError", "[bad_input][implicit]") {
  // x³ − θ at x = θ = 0: ∂c/∂x = 3x² = 0.
  const auto cube = [](const auto& x, const auto& theta) { return x * x * x - theta; };
  in_every_mode(0.0, [&](const auto& theta) {
    if constexpr (!is_double_v<decltype(theta)>) {
      check_error<ift::SingularJacobianError>([&] { (void)ift::implicit(cube, 0.0, theta); },
                                              {"singular", "condition estimate inf"});
      check_error<ift::SingularJacobianError>(
          [&] { (void)ift::implicit(cube, 0.0, theta, ift::Implicit<ift::DenseQR>{}); },
          {"DenseQR", "singular"});
    }
  });
}

TEST_CASE("implicit: a nearly singular dc/dx is a SingularJacobianError", "[bad_input][implicit]") {
  const Eigen::Matrix2d a{{1.0, 1.0}, {1.0, 1.0 + std::numeric_limits<double>::epsilon()}};
  const auto near = [&a](const auto& x, const auto& theta) { return linear(a, x, theta); };
  in_every_mode(1.0, [&](const auto& theta) {
    if constexpr (!is_double_v<decltype(theta)>)
      check_error<ift::SingularJacobianError>(
          [&] { (void)ift::implicit(near, Eigen::Vector2d(1.0, 0.0), theta); },
          {"numerically singular", "condition estimate"});
  });
}

TEST_CASE("implicit: conditions of another size than x_star are a std::invalid_argument",
          "[bad_input][implicit]") {
  const auto three_for_two = [](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    Eigen::Matrix<S, Eigen::Dynamic, 1> r(3);
    r << x(0) - theta, x(1), x(0) * x(1);
    return r;
  };
  in_every_mode(1.0, [&](const auto& theta) {
    if constexpr (!is_double_v<decltype(theta)>)
      check_error<std::invalid_argument>(
          [&] { (void)ift::implicit(three_for_two, Eigen::VectorXd(Eigen::Vector2d(1.0, 0.0)), theta); },
          {"ift::implicit", "return 3 values for a state of size 2", "square"});
  });
}

TEST_CASE("implicit: a Krylov adjoint solve that does not converge is a SolverError",
          "[bad_input][implicit]") {
  // Forward mode meets it in the call, reverse mode in the backward sweep; the tape stays usable.
  const Eigen::Matrix2d a{{4.0, 1.0}, {1.0, 3.0}};  // (1, 1) and (1, 0) are not eigenvectors
  const auto conditions = [&a](const auto& x, const auto& theta) { return linear(a, x, theta); };
  const Eigen::Vector2d x_star = a.partialPivLu().solve(Eigen::Vector2d(1.0, 1.0));
  const ift::Implicit<ift::GMRES> one_step{.linear_solver = {.restart = 1, .max_iter = 1}};
  SECTION("Dual") {
    check_error<ift::SolverError>(
        [&] { (void)ift::implicit(conditions, x_star, ift::Dual<double>(1.0, 1.0), one_step); },
        {"GMRES", "did not converge", "after 1 iterations"});
  }
  SECTION("Var") {
    ift::Tape tape;
    const bad_input::Witness witness(tape);
    const ift::Var theta = 1.0;
    const Eigen::Matrix<ift::Var, 2, 1> x = ift::implicit(conditions, x_star, theta, one_step);
    check_error<ift::SolverError>([&] { (void)tape.gradient(x(0), theta); },
                                  {"GMRES", "did not converge", "after 1 iterations"});
    witness.check();
  }
}

TEST_CASE("implicit: Vars of another tape, of a destroyed tape, of no tape; gradients after clear()",
          "[bad_input][implicit]") {
  bad_input::check_tape_misuse([](const ift::Var& theta) { return ift::implicit(c, 1.0, theta); }, 2.0);
}

TEST_CASE("implicit: an exception thrown by c reaches the caller unchanged, in the call or the reverse sweep",
          "[bad_input][implicit]") {
  bool armed = false;
  bool only_on_ad =
      false;  // the backward pass evaluates c on AD scalars (Var, or duals for a fixed-size state)
  const auto throwing = [&](const auto& x, const auto& theta) {
    if (armed && (!only_on_ad || !std::is_arithmetic_v<std::decay_t<decltype(x)>>))
      throw bad_input::UserError();
    return c(x, theta);
  };
  SECTION("in the call") {
    armed = true;
    in_every_mode(2.0, [&](const auto& theta) {
      if constexpr (!is_double_v<decltype(theta)>)
        CHECK_THROWS_AS(ift::implicit(throwing, 1.0, theta), bad_input::UserError);
    });
  }
  SECTION("in the reverse sweep") {
    ift::Tape tape;
    const bad_input::Witness witness(tape);
    const ift::Var theta = 2.0;
    const ift::Var x = ift::implicit(throwing, 1.0, theta);
    armed = only_on_ad = true;
    CHECK_THROWS_AS(tape.gradient(x, theta), bad_input::UserError);
    witness.check();
    armed = false;
    CHECK_THAT(tape.gradient(x, theta), Catch::Matchers::WithinRel(0.25, 1e-14));
  }
}
