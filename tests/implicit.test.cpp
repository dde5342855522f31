// ift::implicit: attaching derivatives to a solution found elsewhere; every adjoint linear solver
// agrees with the dense LU, in forward and reverse mode.

#include <catch2/catch.hpp>

#include "ift/implicit.hpp"

namespace {

// c(x, θ) = A x + 0.1 sin(x) − θ with A symmetric positive definite (so CG applies too).
const Eigen::Matrix3d A = (Eigen::Matrix3d() << 4, 1, 0, 1, 3, 0.5, 0, 0.5, 2).finished();
const auto conditions = [](const auto& x, const auto& theta) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  return (A.cast<S>() * x + 0.1 * x.array().sin().matrix() - theta).eval();
};

// An "external" solver: plain Newton on doubles, outside ift.
Eigen::Vector3d external_solve(const Eigen::Vector3d& theta) {
  Eigen::Vector3d x = Eigen::Vector3d::Zero();
  for (int k = 0; k < 50; ++k) {
    const Eigen::Vector3d r = A * x + 0.1 * x.array().sin().matrix() - theta;
    const Eigen::Matrix3d J = A + Eigen::Matrix3d(0.1 * x.array().cos().matrix().asDiagonal());
    x -= J.lu().solve(r);
  }
  return x;
}

}  // namespace

TEST_CASE("implicit: every adjoint solver agrees with DenseLU, forward and reverse", "[implicit]") {
  const Eigen::Vector3d theta(1.0, -0.5, 2.0);
  const Eigen::Vector3d x = external_solve(theta);
  // dx/dθ = (A + 0.1 diag(cos x))⁻¹.
  const Eigen::Matrix3d J = A + Eigen::Matrix3d(0.1 * x.array().cos().matrix().asDiagonal());
  const Eigen::Matrix3d expected = J.inverse();

  const auto check = [&](const auto& adjoint) {
    using D = ift::Dual<double, 3>;
    Eigen::Matrix<D, 3, 1> th;
    for (int i = 0; i < 3; ++i) th(i) = D(theta(i), Eigen::Vector3d::Unit(i));
    const Eigen::Matrix<D, 3, 1> xf = ift::implicit(conditions, x, th, adjoint);
    for (int i = 0; i < 3; ++i) {
      CHECK(xf(i).a == x(i));
      CHECK(xf(i).v.isApprox(expected.row(i).transpose(), 1e-10));
    }
    ift::Tape tape;
    const Eigen::Matrix<ift::Var, 3, 1> tv = theta.cast<ift::Var>();
    const auto xr = ift::implicit(conditions, x, tv, adjoint);
    for (int i = 0; i < 3; ++i) {
      const Eigen::Vector3d g = tape.gradient(xr(i), tv);
      CHECK(g.isApprox(expected.row(i).transpose(), 1e-10));
    }
  };
  SECTION("DenseLU") { check(ift::Implicit<ift::DenseLU>{}); }
  SECTION("DenseQR") { check(ift::Implicit<ift::DenseQR>{}); }
  SECTION("LDLT") { check(ift::Implicit<ift::LDLT>{}); }
  SECTION("GMRES") { check(ift::Implicit<ift::GMRES>{.linear_solver = {.restart = 10, .tol = 1e-13}}); }
  SECTION("BiCGSTAB") { check(ift::Implicit<ift::BiCGSTAB>{}); }
  SECTION("CG") { check(ift::Implicit<ift::CG>{}); }
}

TEST_CASE("implicit: second derivatives by nesting", "[implicit]") {
  // x³ + x − θ = 0: dx/dθ = 1/(3x² + 1), d²x/dθ² = −6x (dx/dθ)³.
  const auto c = [](const auto& x, const auto& th) { return x * x * x + x - th; };
  const double x = 1.0, theta = 2.0;
  using D2 = ift::Dual<ift::Dual<double>>;
  const D2 xs = ift::implicit(c, x, D2(ift::Dual<double>(theta, 1.0), ift::Dual<double>(1.0, 0.0)));
  CHECK_THAT(xs.v(0).a, Catch::Matchers::WithinAbs(0.25, 1e-15));
  CHECK_THAT(xs.v(0).v(0), Catch::Matchers::WithinAbs(-6.0 / 64.0, 1e-14));

  // Reverse over forward: a Dual<Var> parameter gives d/dθ of the tangent on the tape.
  ift::Tape tape;
  const ift::Var th = theta;
  const ift::Dual<ift::Var> xv = ift::implicit(c, x, ift::Dual<ift::Var>(th, 1.0));
  CHECK_THAT(xv.v(0).value(), Catch::Matchers::WithinAbs(0.25, 1e-15));
  CHECK_THAT(tape.gradient(xv.v(0), th), Catch::Matchers::WithinAbs(-6.0 / 64.0, 1e-14));
}

TEST_CASE("implicit: errors", "[implicit][errors]") {
  SECTION("conditions of the wrong size") {
    const auto c = [](const auto& x, const auto& th) {
      return Eigen::Matrix<std::decay_t<decltype(th)>, 3, 1>::Constant(x(0) - th);
    };
    CHECK_THROWS_AS(ift::implicit(c, Eigen::Vector2d(1, 1), ift::Dual<double>(1.0, 1.0)),
                    std::invalid_argument);
  }
  SECTION("singular dc/dx") {
    const auto c = [](const auto& x, const auto& th) { return (x - th) * (x - th); };
    CHECK_THROWS_AS(ift::implicit(c, 1.0, ift::Dual<double>(1.0, 1.0)), ift::SingularJacobianError);
    try {
      ift::Tape tape;
      (void)ift::implicit(c, 1.0, ift::Var(1.0));
      FAIL("expected SingularJacobianError");
    } catch (const ift::SingularJacobianError& e) {
      CHECK(std::isinf(e.condition_estimate()));
    }
  }
  SECTION("Vars without a tape") {
    const auto c = [](const auto& x, const auto& th) { return x - th; };
    CHECK_THROWS_AS(ift::implicit(c, 1.0, ift::Var()), ift::TapeError);
  }
}
