// ift::minimize_constrained: the augmented Lagrangian solve and the derivatives of x, ν and μ by the
// KKT conditions, against closed forms at every scalar mode, and the errors.

#include <catch2/catch.hpp>

#include <cmath>

#include "ift/minimize_constrained.hpp"
#include "support/ball_problem.hpp"
#include "support/modes.hpp"

namespace {

using Catch::Matchers::WithinAbs;

using ift_test::distance;
using ift_test::outside_ball;
using ift_test::theta_of;

template <class S>
auto project_on_ball(const S& t) {
  return ift::minimize_constrained(distance, ift::none, outside_ball, Eigen::Vector2d::Zero(), theta_of(t));
}

}  // namespace

TEST_CASE("minimize_constrained: projection onto the unit ball, every mode", "[minimize_constrained]") {
  const double t = 2.0;
  const auto expected = ift_test::ball_expected(t);
  for (int i = 0; i < 3; ++i) {
    DYNAMIC_SECTION("component " << i) {
      ift_test::check_scalar_modes(
          [i](const auto& th) {
            const auto s = project_on_ball(th);
            return i < 2 ? s.x(i) : s.ineq_multipliers(0);
          },
          t, expected[i], 1e-7);
    }
  }
  SECTION("Dual<Var>") {
    ift::Tape tape;
    const ift::Var tv = t;
    const auto s = project_on_ball(ift::Dual<ift::Var>(tv, 1.0));
    CHECK_THAT(tape.gradient(s.x(0).v(0), tv), WithinAbs(expected[0].d2x, 1e-7));
    CHECK_THAT(tape.gradient(s.ineq_multipliers(0).v(0), tv), WithinAbs(expected[2].d2x, 1e-7));
  }
  SECTION("inside the ball the constraint is inactive") {
    // θ = (0.3, 0.4) inside: x = θ, dx/dθ₀ = (1, 0), μ = 0.
    using D = ift::Dual<double>;
    const auto inside = ift::minimize_constrained(distance, ift::none, outside_ball, Eigen::Vector2d::Zero(),
                                                  Eigen::Matrix<D, 2, 1>(D(0.3, 1.0), D(0.4)));
    CHECK_THAT(inside.x(0).a, WithinAbs(0.3, 1e-7));
    CHECK_THAT(inside.x(0).v(0), WithinAbs(1.0, 1e-7));
    CHECK_THAT(inside.x(1).v(0), WithinAbs(0.0, 1e-7));
    CHECK(inside.ineq_multipliers(0).a == 0.0);
    CHECK(inside.ineq_multipliers(0).v(0) == 0.0);
  }
}

TEST_CASE("minimize_constrained: an equality constraint", "[minimize_constrained]") {
  // min x₀² + 2x₁² s.t. x₀ + x₁ = θ: x = (2θ/3, θ/3), ν = −4θ/3.
  const auto objective = [](const auto& x, const auto&) { return x(0) * x(0) + 2 * x(1) * x(1); };
  const auto on_line = [](const auto& x, const auto& th) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    return Eigen::Matrix<S, 1, 1>(x(0) + x(1) - th);
  };
  const double theta = 1.5;
  ift::Tape tape;
  const ift::Var tv = theta;
  const auto s = ift::minimize_constrained(objective, on_line, ift::none, Eigen::Vector2d::Zero(), tv);
  CHECK_THAT(s.x(0).value(), WithinAbs(1.0, 1e-8));
  CHECK_THAT(s.eq_multipliers(0).value(), WithinAbs(-2.0, 1e-7));
  CHECK_THAT(tape.gradient(s.x(0), tv), WithinAbs(2.0 / 3, 1e-8));
  CHECK_THAT(tape.gradient(s.x(1), tv), WithinAbs(1.0 / 3, 1e-8));
  CHECK_THAT(tape.gradient(s.eq_multipliers(0), tv), WithinAbs(-4.0 / 3, 1e-8));
}

TEST_CASE("minimize_constrained: errors", "[minimize_constrained][errors]") {
  using D = ift::Dual<double>;
  SECTION("degenerate active set: θ on the sphere") {
    const Eigen::Matrix<D, 2, 1> th(D(1.0, 1.0), D(0.0));
    CHECK_THROWS_AS(ift::minimize_constrained(distance, ift::none, outside_ball, Eigen::Vector2d::Zero(), th),
                    ift::SingularJacobianError);
  }
  SECTION("infeasible: x₀ ≤ −1 and x₀ ≥ 1") {
    const auto both = [](const auto& x, const auto&) {
      using S = typename std::decay_t<decltype(x)>::Scalar;
      return Eigen::Matrix<S, 2, 1>(x(0) + 1.0, 1.0 - x(0));
    };
    const Eigen::Vector2d th(0.0, 0.0);
    CHECK_THROWS_AS(ift::minimize_constrained(distance, ift::none, both, Eigen::Vector2d::Zero(), th),
                    ift::SolverError);
    const auto s = ift::minimize_constrained(
        distance, ift::none, both, Eigen::Vector2d::Zero(), Eigen::Matrix<D, 2, 1>(D(0.0, 1.0), D(0.0)),
        ift::AugmentedLagrangian{.max_iter = 20, .throw_on_failure = false});
    CHECK(s.status != ift::Status::converged);
    CHECK(std::isnan(s.x(0).v(0)));
  }
  SECTION("NaN theta") {
    const Eigen::Vector2d th(std::nan(""), 0.0);
    CHECK_THROWS_AS(ift::minimize_constrained(distance, ift::none, outside_ball, Eigen::Vector2d::Zero(), th),
                    std::invalid_argument);
  }
}
