// ift::kkt_conditions with ift::implicit: derivatives of the primal-dual solution of constrained
// problems against closed forms at every scalar mode, against the QP solver's, and the errors.

#include <catch2/catch.hpp>

#include <cmath>

#include "ift/implicit.hpp"
#include "ift/kkt.hpp"
#include "ift/quadratic_program.hpp"
#include "support/ball_problem.hpp"
#include "support/modes.hpp"

namespace {

using Catch::Matchers::WithinAbs;

using ift_test::ball_answer;
using ift_test::distance;
using ift_test::outside_ball;
using ift_test::theta_of;

}  // namespace

TEST_CASE("kkt_conditions: projection onto the unit ball, active, every mode", "[kkt]") {
  const double t = 2.0;
  const auto expected = ift_test::ball_expected(t);
  for (int i = 0; i < 3; ++i) {
    DYNAMIC_SECTION("component " << i) {
      ift_test::check_scalar_modes(
          [i](const auto& th) {
            const auto c = ift::kkt_conditions(distance, ift::none, outside_ball, 2, 0, 1);
            return ift::implicit(c, ball_answer(ift::detail::to_double(th)), theta_of(th))(i);
          },
          t, expected[i]);
    }
  }
  SECTION("Dual<Var>") {
    ift::Tape tape;
    const ift::Var tv = t;
    const auto c = ift::kkt_conditions(distance, ift::none, outside_ball, 2, 0, 1);
    const auto z = ift::implicit(c, ball_answer(t), theta_of(ift::Dual<ift::Var>(tv, 1.0)));
    for (int i = 0; i < 3; ++i) {
      CHECK_THAT(z(i).v(0).value(), WithinAbs(expected[i].dx, 1e-12));
      CHECK_THAT(tape.gradient(z(i).v(0), tv), WithinAbs(expected[i].d2x, 1e-10));
    }
  }
}

TEST_CASE("kkt_conditions: inside the ball the constraint is inactive", "[kkt]") {
  // θ = (t, 1)/2 with t = 0.5: x = θ, μ = 0, dx/dθ = I, dμ = 0.
  using D = ift::Dual<double, 2>;
  const Eigen::Matrix<D, 2, 1> th(D(0.25, Eigen::Vector2d(1, 0)), D(0.5, Eigen::Vector2d(0, 1)));
  const auto c = ift::kkt_conditions(distance, ift::none, outside_ball, 2, 0, 1);
  const auto z = ift::implicit(c, Eigen::Vector3d(0.25, 0.5, 0.0), th);
  CHECK(z(0).v.isApprox(Eigen::Vector2d(1, 0)));
  CHECK(z(1).v.isApprox(Eigen::Vector2d(0, 1)));
  CHECK(z(2).v.isZero());
}

namespace {
// A ball of radius √rho around the origin, and the point c = (c0, 1) projected onto it.
template <class T>
struct BallProjection {
  T c0;
  T rho;
};
}  // namespace

TEST_CASE("kkt_conditions: parameters in a struct, reverse mode", "[kkt]") {
  // x = √ρ c/‖c‖, μ = ‖c‖/√ρ − 1: at c0 = 2, ρ = 1, dx₀/dρ = c0/(2√ρ‖c‖) = 1/√5 and
  // dx₀/dc0 = √ρ/‖c‖³ = 1/(5√5).
  const auto objective = [](const auto& x, const auto& th) {
    return (x(0) - th.c0) * (x(0) - th.c0) + (x(1) - 1.0) * (x(1) - 1.0);
  };
  const auto in_ball = [](const auto& x, const auto& th) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    return Eigen::Matrix<S, 1, 1>(x.squaredNorm() - th.rho);
  };
  const double norm_c = std::sqrt(5.0);
  ift::Tape tape;
  const BallProjection<ift::Var> th{2.0, 1.0};
  const auto z = ift::implicit(ift::kkt_conditions(objective, ift::none, in_ball, 2, 0, 1),
                               Eigen::Vector3d(2 / norm_c, 1 / norm_c, norm_c - 1), th);
  CHECK_THAT(tape.gradient(z(0), th.rho), WithinAbs(1 / norm_c, 1e-12));
  CHECK_THAT(tape.gradient(z(0), th.c0), WithinAbs(1 / (5 * norm_c), 1e-12));
}

TEST_CASE("kkt_conditions: a QP's answer from the interior-point solver, equalities and inequalities",
          "[kkt]") {
  // min ½xᵀQx + θᵀx s.t. x₀ + x₁ + x₂ = 1, x ≥ 0 (on the simplex): at θ below, x₂ = 0 is active.
  const Eigen::Matrix3d Q = (Eigen::Matrix3d() << 2, 0.5, 0, 0.5, 1, 0, 0, 0, 1).finished();
  const Eigen::RowVector3d A(1, 1, 1);
  const Eigen::Matrix<double, 1, 1> b(1.0);
  const Eigen::Matrix3d G = -Eigen::Matrix3d::Identity();
  const Eigen::Vector3d h = Eigen::Vector3d::Zero();
  const Eigen::Vector3d theta(-1, -1.2, 0.5);
  const auto objective = [&](const auto& x, const auto& th) { return 0.5 * x.dot(Q * x) + th.dot(x); };
  const auto eq = [&](const auto& x, const auto&) {
    return (A * x - b).eval();
  };  // no temporary outlives the call
  const auto ineq = [&](const auto& x, const auto&) { return (G * x).eval(); };
  const auto c = ift::kkt_conditions(objective, eq, ineq, 3, 1, 3);

  const auto qp = ift::quadratic_program(Q, theta, A, b, G, h);
  REQUIRE(qp.ineq_multipliers(2) > 0.1);  // x₂ ≥ 0 is strictly active
  Eigen::VectorXd z(7);
  z << qp.x, qp.eq_multipliers, qp.ineq_multipliers;

  SECTION("forward: the Jacobian in θ equals the QP's") {
    using D = ift::Dual<double, 3>;
    Eigen::Matrix<D, 3, 1> td;
    for (int i = 0; i < 3; ++i) td(i) = D(theta(i), Eigen::Vector3d::Unit(i));
    const auto zk = ift::implicit(c, z, td);
    const auto zq = ift::quadratic_program(Q, td, A, b, G, h);
    for (int i = 0; i < 3; ++i) CHECK((zk(i).v - zq.x(i).v).norm() < 1e-8);
    CHECK((zk(3).v - zq.eq_multipliers(0).v).norm() < 1e-8);
    for (int i = 0; i < 3; ++i) CHECK((zk(4 + i).v - zq.ineq_multipliers(i).v).norm() < 1e-8);
    // On the face x₂ = 0 of the simplex: d(x₀ + x₁) = 0, dx₂ = 0.
    CHECK((zk(0).v + zk(1).v).norm() < 1e-9);
    CHECK(zk(2).v.norm() < 1e-9);
  }
  SECTION("reverse") {
    ift::Tape tape;
    const Eigen::Matrix<ift::Var, 3, 1> tv = theta.cast<ift::Var>();
    const auto zk = ift::implicit(c, z, tv);
    const auto zq = ift::quadratic_program(Q, tv, A, b, G, h);
    CHECK(tape.gradient(zk(0), tv).isApprox(tape.gradient(zq.x(0), tv), 1e-8));
    CHECK(tape.gradient(zk(3), tv).isApprox(tape.gradient(zq.eq_multipliers(0), tv), 1e-8));
  }
}

TEST_CASE("kkt_conditions: errors", "[kkt][errors]") {
  using D = ift::Dual<double>;
  const auto c = ift::kkt_conditions(distance, ift::none, outside_ball, 2, 0, 1);
  SECTION("degenerate active set: on the sphere with a zero multiplier") {
    // θ = (1, 0) on the sphere: x = θ, the constraint active and μ = 0.
    const Eigen::Matrix<D, 2, 1> th(D(1.0, 1.0), D(0.0));
    CHECK_THROWS_AS(ift::implicit(c, Eigen::Vector3d(1, 0, 0), th), ift::SingularJacobianError);
  }
  SECTION("LICQ violated: the same constraint twice") {
    const auto twice = [](const auto& x, const auto&) {
      using S = typename std::decay_t<decltype(x)>::Scalar;
      return Eigen::Matrix<S, 2, 1>::Constant(x.squaredNorm() - 1.0).eval();
    };
    const auto c2 = ift::kkt_conditions(distance, ift::none, twice, 2, 0, 2);
    const Eigen::Matrix<D, 2, 1> th(D(2.0, 1.0), D(0.0));
    // The two complementarity rows are equal, so ∂c/∂z is exactly singular: the LU meets a zero pivot,
    // the rank-revealing QR a zero diagonal.
    CHECK_THROWS_AS(ift::implicit(c2, Eigen::Vector4d(1, 0, 0.5, 0.5), th), ift::SingularJacobianError);
    CHECK_THROWS_AS(ift::implicit(c2, Eigen::Vector4d(1, 0, 0.5, 0.5), th, ift::Implicit<ift::DenseQR>{}),
                    ift::SingularJacobianError);
  }
  SECTION("not a KKT point") {
    const Eigen::Matrix<D, 2, 1> th(D(2.0, 1.0), D(0.0));
    CHECK_THROWS_AS(ift::implicit(c, Eigen::Vector3d(1, 0, -1), th), std::invalid_argument);  // μ < 0
    CHECK_THROWS_AS(ift::implicit(c, Eigen::Vector3d(2, 0, 1), th), std::invalid_argument);   // ‖x‖ > 1
  }
  SECTION("sizes") {
    CHECK_THROWS_AS(ift::kkt_conditions(distance, ift::none, outside_ball, 2, 1, 1), std::invalid_argument);
    const auto wrong = ift::kkt_conditions(distance, ift::none, outside_ball, 2, 0, 2);
    const Eigen::Matrix<D, 2, 1> th(D(2.0, 1.0), D(0.0));
    CHECK_THROWS_AS(ift::implicit(wrong, Eigen::Vector4d(1, 0, 1, 0), th), std::invalid_argument);
    CHECK_THROWS_AS(ift::implicit(c, Eigen::Vector4d(1, 0, 1, 0), th), std::invalid_argument);
  }
}
