// ift::quadratic_program: bad input and failed solves — infeasible, unbounded and non-convex problems,
// dependent constraints, degenerate active sets, mismatched shapes and NaN — each a typed error.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "ift/quadratic_program.hpp"

namespace {

using Catch::Matchers::WithinAbs;

const Eigen::MatrixXd no_rows(0, 0);
const Eigen::VectorXd no_entries(0);

}  // namespace

TEST_CASE("quadratic_program: errors", "[quadratic_program][errors]") {
  using D = ift::Dual<double>;
  const Eigen::Matrix2d I = Eigen::Matrix2d::Identity();
  const Eigen::Vector2d q(1, -1);
  SECTION("infeasible constraints: x₀ ≤ −1 and x₀ ≥ 1") {
    Eigen::Matrix<double, 2, 2> G;
    G << 1, 0, -1, 0;
    const Eigen::Vector2d h(-1, -1);
    CHECK_THROWS_AS(ift::quadratic_program(I, q, no_rows, no_entries, G, h), ift::SolverError);
    const auto s = ift::quadratic_program(I, q, no_rows, no_entries, G, h,
                                          ift::InteriorPointQP{.throw_on_failure = false});
    CHECK(s.status == ift::Status::infeasible);
    CHECK_FALSE(s.derivatives_exact);
  }
  SECTION("unbounded: min −x₀ on x₀ ≥ 0 with no curvature") {
    const Eigen::Matrix<double, 1, 1> zero(0.0), c(-1.0), G(-1.0), h(0.0);
    CHECK_THROWS_AS(ift::quadratic_program(zero, c, no_rows, no_entries, G, h), ift::SolverError);
    const auto s = ift::quadratic_program(zero, Eigen::Matrix<D, 1, 1>(D(-1.0, 1.0)), no_rows, no_entries, G,
                                          h, ift::InteriorPointQP{.throw_on_failure = false});
    CHECK(s.status == ift::Status::unbounded);
    CHECK(std::isnan(s.x(0).v(0)));
  }
  SECTION("non-convex: indefinite Q") {
    const Eigen::Matrix2d Q = Eigen::Vector2d(1, -1).asDiagonal();
    const Eigen::Matrix<double, 4, 2> G = (Eigen::Matrix<double, 4, 2>() << I, -I).finished();
    CHECK_THROWS_WITH(ift::quadratic_program(Q, q, no_rows, no_entries, G, Eigen::Vector4d::Ones()),
                      Catch::Contains("not convex"));
    // Convex on the null space of A = (0 1): accepted.
    const auto s = ift::quadratic_program(Q, q, Eigen::RowVector2d(0, 1), Eigen::Matrix<double, 1, 1>(0.5),
                                          no_rows, no_entries);
    CHECK_THAT(s.x(0), WithinAbs(-1.0, 1e-9));
  }
  SECTION("linearly dependent equality constraints") {
    const Eigen::Matrix2d A = (Eigen::Matrix2d() << 1, 1, 2, 2).finished();
    CHECK_THROWS_WITH(ift::quadratic_program(I, q, A, Eigen::Vector2d(1, 2), no_rows, no_entries),
                      Catch::Contains("linearly dependent"));
  }
  SECTION("degenerate active set: the projection of a point on the boundary") {
    // y = (1, 0) lies on aᵀx = 1: active with a zero multiplier. The value is fine, the derivative
    // does not exist.
    const Eigen::RowVector2d a(1, 2);
    const Eigen::Matrix<double, 1, 1> one(1.0);
    const auto s = ift::quadratic_program(I, Eigen::Vector2d(-1, 0), no_rows, no_entries, a, one);
    CHECK_THAT(s.x(0), WithinAbs(1.0, 1e-5));  // an interior point nears a degenerate vertex as √tol
    const Eigen::Matrix<D, 2, 1> y(D(1.0, 1.0), D(0.0));
    CHECK_THROWS_AS(ift::quadratic_program(I, (-y).eval(), no_rows, no_entries, a, one),
                    ift::SingularJacobianError);
  }
  SECTION("LICQ violated: the same active constraint twice") {
    const Eigen::Matrix<double, 2, 2> G = (Eigen::Matrix2d() << 1, 2, 1, 2).finished();
    const Eigen::Matrix<D, 2, 1> qd(D(-2.0, 1.0), D(-1.0));
    CHECK_THROWS_AS(ift::quadratic_program(I, qd, no_rows, no_entries, G, Eigen::Vector2d::Ones()),
                    ift::SingularJacobianError);
  }
  SECTION("mismatched sizes") {
    CHECK_THROWS_AS(
        ift::quadratic_program(I, Eigen::Vector3d::Ones(), no_rows, no_entries, no_rows, no_entries),
        std::invalid_argument);
    CHECK_THROWS_AS(ift::quadratic_program(I, q, Eigen::RowVector3d::Ones(), Eigen::VectorXd::Ones(1),
                                           no_rows, no_entries),
                    std::invalid_argument);
    CHECK_THROWS_AS(ift::quadratic_program(I, q, no_rows, no_entries, Eigen::RowVector2d::Ones(),
                                           Eigen::Vector2d::Ones()),
                    std::invalid_argument);
  }
  SECTION("NaN input") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(
        ift::quadratic_program(I, Eigen::Vector2d(nan, 0), no_rows, no_entries, no_rows, no_entries),
        Catch::Contains("q holds NaN"));
    CHECK_THROWS_AS(ift::quadratic_program(I, q, no_rows, no_entries, Eigen::RowVector2d(1, nan),
                                           Eigen::Matrix<double, 1, 1>(1.0)),
                    std::invalid_argument);
  }
}
