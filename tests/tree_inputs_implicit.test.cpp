// ift::implicit_solution: an answer found elsewhere, checked against the conditions before its
// derivatives are attached.

#include <catch2/catch.hpp>
#include <cmath>

#include "ift/implicit.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using D1 = ift::Dual<double>;

namespace {

// c = x² − θ at θ = 9; the outside answer is 3 + δ, so ‖c‖ = 6δ + δ² ≈ 3e-9.
const auto c = [](const auto& x, const auto& theta) { return x * x - theta; };
constexpr double delta = 5e-10;
constexpr double x_star = 3.0 + delta;
const double residual = x_star * x_star - 9.0;

}  // namespace

TEST_CASE("implicit_solution reports the residual of an answer within tol", "[implicit_solution]") {
  SECTION("Dual") {
    const ift::Solution<D1> s = ift::implicit_solution(c, x_star, D1(9.0, 1.0));
    CHECK(s.status == ift::Status::converged);
    CHECK(s.derivatives_exact);
    CHECK(s.iterations == 0);
    CHECK_THAT(s.residual_norm, WithinRel(residual, 1e-6));
    CHECK(s.x.a == x_star);
    CHECK_THAT(s.x.v(0), WithinAbs(1.0 / (2.0 * x_star), 1e-15));
  }
  SECTION("Var") {
    ift::Tape tape;
    const ift::Var theta = 9.0;
    const ift::Solution<ift::Var> s = ift::implicit_solution(c, x_star, theta);
    CHECK(s);
    CHECK_THAT(tape.gradient(s.x, theta), WithinAbs(1.0 / (2.0 * x_star), 1e-15));
  }
  SECTION("a vector state: the 2-norm of c") {
    const auto shift = [](const auto& x, const auto& theta) { return (x - theta).eval(); };
    const Eigen::Vector2d theta(1.0, 2.0);
    const auto s = ift::implicit_solution(shift, theta + Eigen::Vector2d(3e-9, 4e-9), theta);
    static_assert(std::is_same_v<decltype(s), const ift::Solution<Eigen::Vector2d>>);
    CHECK(s.status == ift::Status::converged);
    CHECK_THAT(s.residual_norm, WithinRel(5e-9, 1e-6));
  }
}

TEST_CASE("implicit_solution: an answer above tol is reported, or thrown", "[implicit_solution]") {
  SECTION("reported: the rule at x*, derivatives not exact") {
    const auto s = ift::implicit_solution(c, x_star, D1(9.0, 1.0), {.tol = 1e-10});
    CHECK(s.status == ift::Status::stalled);
    CHECK_FALSE(s);
    CHECK_FALSE(s.derivatives_exact);
    CHECK_THAT(s.residual_norm, WithinRel(residual, 1e-6));
    // x* solves x² = θ + r with r held fixed: ∂x/∂θ = 1/(2x*).
    CHECK_THAT(s.x.v(0), WithinAbs(1.0 / (2.0 * x_star), 1e-15));
  }
  SECTION("Var") {
    ift::Tape tape;
    const ift::Var theta = 9.0;
    const auto s = ift::implicit_solution(c, x_star, theta, {.tol = 1e-10});
    CHECK_FALSE(s.derivatives_exact);
    CHECK_THAT(tape.gradient(s.x, theta), WithinAbs(1.0 / (2.0 * x_star), 1e-15));
  }
  SECTION("thrown") {
    CHECK_THROWS_AS(ift::implicit_solution(c, x_star, D1(9.0, 1.0), {.tol = 1e-10, .throw_on_failure = true}),
                    ift::SolverError);
    CHECK_THROWS_WITH(ift::implicit_solution(c, x_star, 9.0, {.tol = 1e-10, .throw_on_failure = true}),
                      Catch::Matchers::Contains("tol = 1e-10"));
    CHECK_NOTHROW(ift::implicit_solution(c, x_star, 9.0, {.tol = 1e-8, .throw_on_failure = true}));
  }
  SECTION("conditions not finite at x*: NaN derivatives") {
    const auto nan_below = [](const auto& x, const auto& theta) {
      return x * x - theta + 0.0 * sqrt(x - 2.5);
    };
    const auto s = ift::implicit_solution(nan_below, 2.0, D1(4.0, 1.0));
    CHECK(s.status == ift::Status::non_finite);
    CHECK(std::isnan(s.x.v(0)));
  }
  SECTION("a singular Jacobian at a rejected answer: NaN derivatives") {
    // ∂c/∂x = 2x = 0 at x* = 0, and |c| = 1e-20 > tol = 0.
    const auto s = ift::implicit_solution(c, 0.0, D1(1e-20, 1.0), {.tol = 0.0});
    CHECK(s.status == ift::Status::stalled);
    CHECK(s.x.a == 0.0);
    CHECK(std::isnan(s.x.v(0)));
  }
  SECTION("bad tol") {
    CHECK_THROWS_AS(ift::implicit_solution(c, x_star, 9.0, {.tol = -1.0}), std::invalid_argument);
  }
  SECTION("implicit itself still returns the value") {
    const D1 x = ift::implicit(c, x_star, D1(9.0, 1.0));
    CHECK(x.a == x_star);
  }
}
