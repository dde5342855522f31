// ift::root given bad input: each case gives its typed error with a message that says what went
// wrong, at every scalar mode, and the tape recorded before the failing call stays usable. Wrong
// sizes, misused tapes and exceptions from f are in bad_input_root_user.test.cpp.

#include <catch2/catch.hpp>

#include <type_traits>

#include "ift/root.hpp"
#include "support/bad_input.hpp"

namespace {

using bad_input::check_error;
using bad_input::in_every_mode;
using bad_input::infinity;
using bad_input::is_double_v;
using bad_input::not_a_number;

// x² = θ: x = √θ, dx/dθ = 1/(2√θ).
const auto g = [](const auto& x, const auto& theta) { return x * x - theta; };

}  // namespace

TEST_CASE("root: NaN or Inf in x0 is a std::invalid_argument naming the input", "[bad_input][root]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(9.0, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::root(g, bad, theta); },
                                         {"ift::root", "x0", "NaN or Inf"});
      check_error<std::invalid_argument>([&] { (void)ift::root(g, bad, theta, ift::Broyden{}); },
                                         {"ift::root", "x0", "NaN or Inf"});
    });
  }
}

TEST_CASE("root: NaN or Inf in theta is a std::invalid_argument naming the input", "[bad_input][root]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(bad, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::root(g, 1.0, theta); },
                                         {"ift::root", "theta", "NaN or Inf"});
      // A bad argument is not an outcome of the solve: throw_on_failure does not turn it into a status.
      check_error<std::invalid_argument>(
          [&] { (void)ift::root(g, 1.0, theta, ift::Newton{.throw_on_failure = false}); }, {"theta"});
    });
  }
}

TEST_CASE("root: a residual that turns NaN mid-solve is a SolverError", "[bad_input][root]") {
  // Finite at x0, NaN from the second evaluation on (Newton's Jacobian at x0).
  int calls = 0;
  const auto poisoned = [&calls](const auto& x, const auto& theta) {
    return x * x - theta + (++calls > 1 ? not_a_number : 0.0);
  };
  in_every_mode(9.0, [&](const auto& theta) {
    calls = 0;
    check_error<ift::SolverError>([&] { (void)ift::root(poisoned, 1.0, theta); }, {"Newton", "non-finite"});
  });
}

TEST_CASE("root: a singular df/dx at the root is a SingularJacobianError", "[bad_input][root]") {
  // x³ = θ at θ = 0: bisection on [−1, 1] hits the exact root 0, where ∂f/∂x = 3x² = 0 and
  // x = ∛θ has no derivative. With θ a double no derivative is asked for, and x = 0 comes back.
  const auto cube = [](const auto& x, const auto& theta) { return x * x * x - theta; };
  in_every_mode(0.0, [&](const auto& theta) {
    const ift::Bisection bisection{.lo = -1.0, .hi = 1.0};
    if constexpr (is_double_v<decltype(theta)>) {
      CHECK(ift::root(cube, 0.5, theta, bisection).x == 0.0);
    } else {
      check_error<ift::SingularJacobianError>([&] { (void)ift::root(cube, 0.5, theta, bisection); },
                                              {"singular", "condition estimate inf"});
    }
  });
}

TEST_CASE("root: a nearly singular df/dx", "[bad_input][root]") {
  // A x = (θ, 1) with cond(A) ≈ 1.8e16: Newton's own factorization refuses it (Status::singular),
  // and at a solution found elsewhere the implicit rule refuses it too.
  const Eigen::Matrix2d A{{1.0, 1.0}, {1.0, 1.0 + std::numeric_limits<double>::epsilon()}};
  const auto linear = [&A](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    const Eigen::Matrix<S, 2, 1> b(theta, S(1.0));
    return Eigen::Matrix<S, 2, 1>(A.cast<S>() * x - b);
  };
  const auto exact = [&A](const auto&, const Eigen::Vector2d&) {
    return Eigen::Vector2d(A.partialPivLu().solve(Eigen::Vector2d(2.0, 1.0)));
  };
  in_every_mode(2.0, [&](const auto& theta) {
    check_error<ift::SolverError>([&] { (void)ift::root(linear, Eigen::Vector2d(0.0, 0.0), theta); },
                                  {"Newton", "singular linear system"});
    if constexpr (!is_double_v<decltype(theta)>) {
      check_error<ift::SingularJacobianError>(
          [&] { (void)ift::root(linear, Eigen::Vector2d(0.0, 0.0), theta, exact); },
          {"numerically singular", "condition estimate"});
    }
  });
}

TEST_CASE("root: no convergence within max_iter is a SolverError naming solver, iterations, residual",
          "[bad_input][root]") {
  in_every_mode(9.0, [&](const auto& theta) {
    // Newton from 1: x₁ = 1.8, x₂ = 3.4, where |x² − 9| = 2.56.
    check_error<ift::SolverError>(
        [&] { (void)ift::root(g, 1.0, theta, ift::Newton{.max_iter = 2}); },
        {"Newton", "maximum number of iterations", "after 2 iterations", "residual norm 2.56"});
    check_error<ift::SolverError>([&] { (void)ift::root(g, 1.0, theta, ift::Broyden{.max_iter = 1}); },
                                  {"Broyden", "maximum number of iterations"});
  });
}

TEST_CASE("root: a bracket without a sign change", "[bad_input][root]") {
  in_every_mode(9.0, [&](const auto& theta) {
    // x² − 9 > 0 on all of [4, 10].
    check_error<ift::SolverError>([&] { (void)ift::root(g, 5.0, theta, ift::Bisection{.lo = 4, .hi = 10}); },
                                  {"Bisection", "does not bracket a sign change"});
    check_error<ift::SolverError>([&] { (void)ift::root(g, 5.0, theta, ift::Brent{.lo = 4, .hi = 10}); },
                                  {"Brent", "does not bracket a sign change"});
    const auto s = ift::root(g, 5.0, theta, ift::Brent{.lo = 4, .hi = 10, .throw_on_failure = false});
    CHECK(s.status == ift::Status::invalid_bracket);
    CHECK_FALSE(s.derivatives_exact);
    // An empty interval is a malformed argument, not a failed solve.
    check_error<std::invalid_argument>(
        [&] { (void)ift::root(g, 5.0, theta, ift::Bisection{.lo = 4, .hi = 1}); }, {"Bisection", "lo < hi"});
    check_error<std::invalid_argument>([&] { (void)ift::root(g, 5.0, theta, ift::Brent{.lo = 4, .hi = 4}); },
                                       {"Brent", "lo < hi"});
  });
}
