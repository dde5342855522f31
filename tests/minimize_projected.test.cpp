// ift::minimize_projected with ProjectedGradient (spectral and accelerated) and ProjectedNewton, at
// every scalar mode, against closed forms: a box-constrained quadratic, a half-space, a simplex.

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "ift/minimize_projected.hpp"
#include "ift/projections.hpp"
#include "support/projected_problems.hpp"
#include "support/vector_modes.hpp"

namespace {

using Eigen::VectorXd;
// The problems of support/projected_problems.hpp and the checks of support/vector_modes.hpp.
using namespace ift_test;
using Expected = VectorExpected;

// The box with an upper bound on x₀ that moves with θ, u(θ) = (1 + θ)/2 (1 at θ = 1), by
// ift::project_box: x₀ = u, dx₀ = ½, and on F
//   Q_FF dx_F = cos θ b_F − ½ Q_F0,   Q_FF d²x_F = −sin θ b_F.
const auto moving_box_projection = [](const auto& y, const auto& th) {
  using S = typename std::decay_t<decltype(y)>::Scalar;
  Vec<S> hi = Vec<S>::Constant(3, S(1.0));
  hi(0) = 0.5 + 0.5 * th;
  return ift::project_box(y, -1.0, hi);
};

Expected moving_box_expected(double theta) {
  Expected e = box_expected(theta);
  const Eigen::Matrix2d qff = box_q.bottomRightCorner<2, 2>();
  e.dx << 0.5, qff.ldlt().solve(std::cos(theta) * box_b.tail<2>() - 0.5 * box_q.block<2, 1>(1, 0));
  return e;
}

template <class Objective, class Projection, class Solver>
auto projected_solve(const Objective& objective, const Projection& projection, const VectorXd& x0,
                     const Solver& solver) {
  return [=](const auto& th) { return ift::minimize_projected(objective, projection, x0, th, solver).x; };
}

}  // namespace

TEST_CASE("minimize_projected: box-constrained quadratic", "[minimize_projected]") {
  const VectorXd x0 = VectorXd::Zero(3);
  const Expected e = box_expected(1.0);
  SECTION("ProjectedGradient") {
    check_vector_modes(projected_solve(box_objective, box_projection, x0, ift::ProjectedGradient{}), 1.0, e,
                       1e-8);
  }
  SECTION("ProjectedGradient, no BB steps") {
    check_vector_modes(
        projected_solve(box_objective, box_projection, x0, ift::ProjectedGradient{.bb = false}), 1.0, e,
        1e-8);
  }
  SECTION("ProjectedGradient, accelerated") {
    check_vector_modes(
        projected_solve(box_objective, box_projection, x0, ift::ProjectedGradient{.accelerate = true}), 1.0,
        e, 1e-8);
  }
  SECTION("ProjectedNewton") {
    check_vector_modes(projected_solve(box_objective, box_projection, x0, ift::ProjectedNewton{}), 1.0, e,
                       1e-8);
  }
}

TEST_CASE("minimize_projected: a bound that moves with theta, ift::project_box", "[minimize_projected]") {
  const VectorXd x0 = VectorXd::Zero(3);
  const Expected e = moving_box_expected(1.0);
  SECTION("ProjectedGradient") {
    check_vector_modes(projected_solve(box_objective, moving_box_projection, x0, ift::ProjectedGradient{}),
                       1.0, e, 1e-8);
  }
  SECTION("ProjectedNewton") {
    check_vector_modes(projected_solve(box_objective, moving_box_projection, x0, ift::ProjectedNewton{}), 1.0,
                       e, 1e-8);
  }
}

TEST_CASE("minimize_projected: ProjectedNewton identifies the active set in a few iterations",
          "[minimize_projected]") {
  const auto s =
      ift::minimize_projected(box_objective, box_projection, VectorXd::Zero(3), 1.0, ift::ProjectedNewton{});
  CHECK(s.iterations <= 6);
  CHECK(s.residual_norm <= 1e-10);
  check_near(s.x, box_expected(1.0).x, 1e-10);
}

TEST_CASE("minimize_projected: half-space", "[minimize_projected]") {
  check_vector_modes(projected_solve(half_space_objective, half_space_projection, VectorXd::Zero(3),
                                     ift::ProjectedGradient{}),
                     1.0, half_space_expected(1.0), 1e-8);
}

TEST_CASE("minimize_projected: simplex", "[minimize_projected]") {
  check_vector_modes(projected_solve(simplex_objective, simplex_projection, VectorXd::Constant(4, 0.25),
                                     ift::ProjectedGradient{}),
                     1.0, simplex_expected(1.0), 1e-8);
}

TEST_CASE("minimize_projected: simplex, ift::project_simplex", "[minimize_projected]") {
  const auto sparsemax = [](const auto& y, const auto&) { return ift::project_simplex(y); };
  check_vector_modes(
      projected_solve(simplex_objective, sparsemax, VectorXd::Constant(4, 0.25), ift::ProjectedGradient{}),
      1.0, simplex_expected(1.0), 1e-8);
}

TEST_CASE("minimize_projected: residual_norm is the conditions' residual", "[minimize_projected]") {
  const auto s =
      ift::minimize_projected(simplex_objective, simplex_projection, VectorXd::Constant(4, 0.25), 1.0);
  VectorXd y(4);
  y << 1.0, 0.5, -1.0, 0.1;
  const VectorXd g = simplex_w.cwiseProduct(s.x - y);
  const VectorXd r = s.x - simplex_projection(VectorXd(s.x - g), 1.0);
  CHECK(s.status == ift::Status::converged);
  CHECK(s.residual_norm <= 1e-10);
  CHECK(std::abs(s.residual_norm - r.norm()) <= 1e-15);
}

TEST_CASE("minimize_projected: a user solver sees fp(x) and fp.project(y)", "[minimize_projected]") {
  const auto user = [](auto& fp, const VectorXd& x0) {
    VectorXd x = x0;
    for (int k = 0; k < 500; ++k) x = fp.project(VectorXd(x - 0.2 * ift::gradient(fp, x)));
    return x;
  };
  const Expected e = box_expected(1.0);
  const auto s = ift::minimize_projected(box_objective, box_projection, VectorXd::Zero(3),
                                         ift::Dual<double>(1.0, 1.0), user);
  CHECK(s.status == ift::Status::converged);
  CHECK(s.residual_norm <= 1e-12);
  check_near(tangent(s.x, 0), e.dx, 1e-8);
}

TEST_CASE("minimize_projected: bad input and failures", "[minimize_projected][bad_input]") {
  const VectorXd x0 = VectorXd::Zero(3);
  SECTION("non-finite theta or x0") {
    CHECK_THROWS_AS(ift::minimize_projected(box_objective, box_projection, x0, std::nan("")),
                    std::invalid_argument);
    CHECK_THROWS_AS(
        ift::minimize_projected(box_objective, box_projection, VectorXd::Constant(3, INFINITY), 1.0),
        std::invalid_argument);
  }
  SECTION("a step that is not positive") {
    CHECK_THROWS_AS(
        ift::minimize_projected(box_objective, box_projection, x0, 1.0, ift::ProjectedGradient{.step = 0.0}),
        std::invalid_argument);
  }
  SECTION("too few iterations") {
    CHECK_THROWS_AS(ift::minimize_projected(box_objective, box_projection, x0, 1.0,
                                            ift::ProjectedGradient{.max_iter = 2}),
                    ift::SolverError);
    CHECK_THROWS_AS(
        ift::minimize_projected(box_objective, box_projection, x0, 1.0, ift::ProjectedNewton{.max_iter = 0}),
        ift::SolverError);
    const auto s = ift::minimize_projected(box_objective, box_projection, x0, ift::Dual<double>(1.0, 1.0),
                                           ift::ProjectedGradient{.max_iter = 2, .throw_on_failure = false});
    CHECK(s.status == ift::Status::max_iterations);
    CHECK_FALSE(s.derivatives_exact);
  }
  SECTION("an objective that is not finite") {
    const auto bad = [](const auto& x, const auto& th) { return log(x(0) - 2.0) + th * x.sum(); };
    CHECK_THROWS_AS(ift::minimize_projected(bad, box_projection, x0, 1.0), ift::SolverError);
  }
}

// Where strict complementarity fails the projection is not differentiable and x*(θ) has one-sided
// derivatives only: min ½(x − θ)² over x ≥ 0 at θ = 0 has x* = max(θ, 0), with dx/dθ = 0 from the
// left and 1 from the right. The rule returns the one of the branch the projection takes at the
// tie: here `y > 0 ? y : 0` takes 0, so dx/dθ = 0 (the left derivative).
TEST_CASE("minimize_projected: a degenerate point gives a one-sided derivative", "[minimize_projected]") {
  const auto objective = [](const auto& x, const auto& th) { return 0.5 * (x - th) * (x - th); };
  const auto nonnegative = [](const auto& y, const auto&) {
    using S = std::decay_t<decltype(y)>;
    return y > 0.0 ? y : S(y - y);
  };
  const auto x = ift::minimize_projected(objective, nonnegative, 1.0, ift::Dual<double>(0.0, 1.0)).x;
  CHECK(x.a == 0.0);
  CHECK(x.v(0) == 0.0);
}
