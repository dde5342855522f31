// What a solve that stopped early returns with throw_on_failure = false: the status, the last
// iterate x_k, `derivatives_exact == false`, and derivatives that are either the implicit rule at x_k
// (the exact derivatives of the perturbed problem c(x, θ) = c(x_k, θ_k), whose solution x_k is) or,
// with ift::Unrolled, those of the iterate itself; NaN when x_k gives no derivative.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "ift/fixed_point.hpp"
#include "ift/least_squares.hpp"
#include "ift/minimize.hpp"
#include "ift/root.hpp"
#include "support/bad_input.hpp"

namespace {

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

// x² = θ.
const auto g = [](const auto& x, const auto& theta) { return x * x - theta; };

/// Checks `solve(θ)` in forward and reverse mode: the status, the flag, the value x_k and dx/dθ
/// (NaN: the derivative must be NaN). The tape's earlier recording is checked after the call.
template <class Solve>
void check_early_stop(Solve&& solve, double theta, ift::Status status, double x, double dx,
                      double tol = 1e-13) {
  const auto check_derivative = [&](double actual) {
    if (std::isnan(dx))
      CHECK(std::isnan(actual));
    else
      CHECK_THAT(actual, WithinAbs(dx, tol * (1.0 + std::abs(dx))));
  };
  SECTION("Dual") {
    const auto s = solve(ift::Dual<double>(theta, 1.0));
    CHECK(s.status == status);
    CHECK_FALSE(s.derivatives_exact);
    CHECK_THAT(s.x.a, WithinAbs(x, tol * (1.0 + std::abs(x))));
    check_derivative(s.x.v(0));
  }
  SECTION("Var") {
    ift::Tape tape;
    const bad_input::Witness witness(tape);
    const ift::Var th = theta;
    const auto s = solve(th);
    CHECK(s.status == status);
    CHECK_FALSE(s.derivatives_exact);
    CHECK_THAT(s.x.value(), WithinAbs(x, tol * (1.0 + std::abs(x))));
    check_derivative(tape.gradient(s.x, th));
    witness.check();
  }
}

/// A user solver that reports `status` at `x`, for iterates the built-in solvers do not stop at.
struct StopsAt {
  double x;
  ift::Status status = ift::Status::max_iterations;
  bool throw_on_failure = false;
  template <class Fp>
  ift::Solution<double> operator()(Fp& fp, double) const {
    return {x, status, 3, std::abs(fp(x))};
  }
};

}  // namespace

TEST_CASE("early stop: Newton out of iterations gives the derivatives of the perturbed problem",
          "[early_stop][root]") {
  // Newton from 1 stops at x₂ = 3.4 with g(x₂, 9) = 2.56 =: r. Holding r fixed, x = √(θ + r):
  // dx/dθ = 1/(2x) and d²x/dθ² = −1/(4x³), at x = 3.4.
  const ift::Newton two_steps{.max_iter = 2, .throw_on_failure = false};
  check_early_stop([&](const auto& theta) { return ift::root(g, 1.0, theta, two_steps); }, 9.0,
                   ift::Status::max_iterations, 3.4, 1.0 / 6.8);
  SECTION("second order, Dual<Dual<double>>") {
    using D2 = ift::Dual<ift::Dual<double>>;
    const auto s = ift::root(g, 1.0, D2(ift::Dual<double>(9.0, 1.0), ift::Dual<double>(1.0, 0.0)), two_steps);
    CHECK_FALSE(s.derivatives_exact);
    CHECK_THAT(s.x.v(0).a, WithinRel(1.0 / 6.8, 1e-14));
    CHECK_THAT(s.x.v(0).v(0), WithinRel(-1.0 / (4.0 * 3.4 * 3.4 * 3.4), 1e-13));
  }
}

TEST_CASE("early stop: a stalled Newton at the rounding floor still gives good derivatives",
          "[early_stop][root]") {
  // With tol = 0 Newton reaches the double nearest √2, cannot reduce |x² − 2| ≈ 4e-16 further and
  // stalls; the derivatives at that iterate are 1/(2√2) to rounding.
  check_early_stop(
      [](const auto& theta) {
        return ift::root(g, 1.0, theta, ift::Newton{.tol = 0.0, .throw_on_failure = false});
      },
      2.0, ift::Status::stalled, std::sqrt(2.0), 1.0 / (2.0 * std::sqrt(2.0)), 1e-15);
}

TEST_CASE("early stop: fixed-point iteration, implicit against unrolled", "[early_stop][fixed_point]") {
  // F = x/2 + θ from 0: x₁ = θ, x₂ = 1.5θ, x₃ = 1.75θ. The implicit rule at x₃ holds F(x) − x = r
  // fixed, so dx/dθ = 1/(1 − 1/2) = 2 (the fixed point's own derivative, since F is linear); the
  // unrolled iterate has dx₃/dθ = 1.75.
  const auto half = [](const auto& x, const auto& theta) { return 0.5 * x + theta; };
  const ift::Iteration three_steps{.max_iter = 3, .throw_on_failure = false};
  SECTION("implicit") {
    check_early_stop([&](const auto& theta) { return ift::fixed_point(half, 0.0, theta, three_steps); }, 1.0,
                     ift::Status::max_iterations, 1.75, 2.0);
  }
  SECTION("unrolled") {
    check_early_stop(
        [&](const auto& theta) { return ift::fixed_point(half, 0.0, theta, three_steps, ift::Unrolled{}); },
        1.0, ift::Status::max_iterations, 1.75, 1.75);
  }
}

TEST_CASE("early stop: gradient descent out of iterations", "[early_stop][minimize]") {
  // L = (x − θ)²/2 + x⁴/4, c = ∇L = x − θ + x³: at θ = 2, dx/dθ = 1/(1 + 3x_k²) at the last iterate.
  // Gradient descent with step 0.1 from 0: x_{k+1} = x_k − 0.1(x_k − 2 + x_k³).
  double x = 0.0;
  for (int k = 0; k < 3; ++k) x -= 0.1 * (x - 2.0 + x * x * x);
  const auto L = [](const auto& y, const auto& theta) {
    return 0.5 * (y - theta) * (y - theta) + 0.25 * y * y * y * y;
  };
  const ift::GradientDescent three_steps{.learning_rate = 0.1, .max_iter = 3, .throw_on_failure = false};
  check_early_stop([&](const auto& theta) { return ift::minimize(L, 0.0, theta, three_steps); }, 2.0,
                   ift::Status::max_iterations, x, 1.0 / (1.0 + 3.0 * x * x), 1e-12);
}

TEST_CASE("early stop: Levenberg-Marquardt out of iterations", "[early_stop][least_squares]") {
  // r = (x − θ, x²/2): c = ∇½‖r‖² = x − θ + x³/2, ∂c/∂x = 1 + 3x²/2, ∂c/∂θ = −1.
  const auto r = [](const auto& x, const auto& theta) {
    using S = std::decay_t<decltype(x)>;
    return Eigen::Matrix<S, 2, 1>(x - theta, 0.5 * x * x);
  };
  const ift::LevenbergMarquardt one_step{.max_iter = 1, .throw_on_failure = false};
  const double x = ift::least_squares(r, 3.0, 1.5, one_step).x;
  REQUIRE(std::abs(x - 1.0) > 1e-3);  // really stopped away from the minimizer 1
  check_early_stop([&](const auto& theta) { return ift::least_squares(r, 3.0, theta, one_step); }, 1.5,
                   ift::Status::max_iterations, x, 1.0 / (1.0 + 1.5 * x * x), 1e-12);
}

TEST_CASE("early stop: NaN derivatives where the last iterate gives none", "[early_stop]") {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  SECTION("non-finite: a map that turned NaN, x is the last iterate with a finite image") {
    const auto root_map = [](const auto& x, const auto& theta) {
      using std::sqrt;
      return sqrt(x) - theta;
    };
    check_early_stop(
        [&](const auto& theta) {
          return ift::fixed_point(root_map, 16.0, theta, ift::Iteration{.throw_on_failure = false});
        },
        2.0, ift::Status::non_finite, 2.0, nan);
  }
  SECTION("singular: Newton's own Jacobian was singular") {
    // x² = θ from x0 = 0, where ∂g/∂x = 0.
    check_early_stop(
        [](const auto& theta) { return ift::root(g, 0.0, theta, ift::Newton{.throw_on_failure = false}); },
        9.0, ift::Status::singular, 0.0, nan);
  }
  SECTION("invalid bracket: the solver never iterated") {
    check_early_stop(
        [](const auto& theta) {
          return ift::root(g, 5.0, theta, ift::Brent{.lo = 4.0, .hi = 10.0, .throw_on_failure = false});
        },
        9.0, ift::Status::invalid_bracket, 7.0, nan);
  }
  SECTION("out of iterations where dc/dx is singular") {
    check_early_stop([](const auto& theta) { return ift::root(g, 1.0, theta, StopsAt{0.0}); }, 9.0,
                     ift::Status::max_iterations, 0.0, nan);
  }
  SECTION("out of iterations where c is not finite") {
    const auto log_root = [](const auto& x, const auto& theta) {
      using std::log;
      return log(x) - theta;
    };
    check_early_stop([&](const auto& theta) { return ift::root(log_root, 1.0, theta, StopsAt{-1.0}); }, 0.0,
                     ift::Status::max_iterations, -1.0, nan);
  }
  SECTION("out of iterations at a non-finite iterate") {
    const auto s =
        ift::root(g, 1.0, ift::Dual<double>(9.0, 1.0), StopsAt{std::numeric_limits<double>::infinity()});
    CHECK(s.status == ift::Status::max_iterations);
    CHECK_FALSE(s.derivatives_exact);
    CHECK(std::isnan(s.x.v(0)));
  }
}

TEST_CASE("early stop: an exception from f in the derivative step reaches the caller", "[early_stop]") {
  // Even one of the types the library throws itself: it is not mistaken for "no derivative here".
  const auto picky = [](const auto& x, const auto& theta) {
    if constexpr (ift::is_dual_v<decltype(x)>) throw std::invalid_argument("user: no duals here");
    return x * x - theta;
  };
  CHECK_THROWS_WITH(ift::root(picky, 1.0, ift::Dual<double>(9.0, 1.0), StopsAt{3.4}),
                    Catch::Matchers::Contains("user: no duals here"));
}

TEST_CASE("early stop: a converged solve says its derivatives are exact", "[early_stop]") {
  const auto implicit =
      ift::root(g, 1.0, ift::Dual<double>(9.0, 1.0), ift::Newton{.throw_on_failure = false});
  CHECK(implicit.derivatives_exact);
  CHECK_THAT(implicit.x.v(0), WithinRel(1.0 / 6.0, 1e-12));
  const auto unrolled = ift::root(g, 1.0, ift::Dual<double>(9.0, 1.0), ift::Newton{}, ift::Unrolled{});
  CHECK(unrolled.derivatives_exact);
  ift::Tape tape;
  const ift::Var theta = 9.0;
  const auto reverse = ift::root(g, 1.0, theta);
  CHECK(reverse.derivatives_exact);
  CHECK_THAT(tape.gradient(reverse.x, theta), WithinRel(1.0 / 6.0, 1e-12));
}
