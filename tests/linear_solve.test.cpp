// ift::linear_solve: "the Jacobian of solve is solve", dense and matrix-free.

#include <catch2/catch.hpp>

#include "ift/linear_solve.hpp"
#include "support/modes.hpp"

namespace {

// A(θ) = [[2 + θ, 1], [1, 3θ]], b(θ) = [θ², 1]: both depend on θ. With dA = [[1,0],[0,3]], db = [2θ, 0]:
// dx = A⁻¹(db − dA x), d²x = A⁻¹(d²b − 2 dA dx) with d²b = [2, 0].
template <class S>
Eigen::Matrix<S, 2, 2> a_of(const S& th) {
  Eigen::Matrix<S, 2, 2> a;
  a << 2 + th, S(1.0), S(1.0), 3 * th;
  return a;
}
template <class S>
Eigen::Matrix<S, 2, 1> b_of(const S& th) {
  return Eigen::Matrix<S, 2, 1>(th * th, S(1.0));
}

}  // namespace

TEST_CASE("linear_solve: A and b depending on theta, every mode", "[linear_solve][seed]") {
  const double th = 0.8;
  const Eigen::Matrix2d A = a_of(th), dA = Eigen::Vector2d(1, 3).asDiagonal();
  const Eigen::Vector2d x = A.lu().solve(b_of(th));
  const Eigen::Vector2d dx = A.lu().solve(Eigen::Vector2d(2 * th, 0) - dA * x);
  const Eigen::Vector2d d2x = A.lu().solve(Eigen::Vector2d(2, 0) - 2 * dA * dx);
  for (int i = 0; i < 2; ++i) {
    DYNAMIC_SECTION("component " << i) {
      ift_test::check_scalar_modes([&](const auto& t) { return ift::linear_solve(a_of(t), b_of(t))(i); }, th,
                                   {x(i), dx(i), d2x(i)});
    }
  }
}

TEST_CASE("linear_solve: only b, or only A, carries derivatives", "[linear_solve]") {
  const Eigen::Matrix2d A = a_of(0.8);
  using D = ift::Dual<double>;
  const Eigen::Matrix<D, 2, 1> b(D(1.0, 1.0), D(2.0, 0.0));
  const auto xb = ift::linear_solve(A, b);
  const Eigen::Vector2d expected_b = A.lu().solve(Eigen::Vector2d(1, 0));
  CHECK_THAT(xb(0).v(0), Catch::Matchers::WithinAbs(expected_b(0), 1e-14));
  CHECK_THAT(xb(1).v(0), Catch::Matchers::WithinAbs(expected_b(1), 1e-14));

  ift::Tape tape;
  const Eigen::Matrix<ift::Var, 2, 2> Av = A.cast<ift::Var>();
  const Eigen::Vector2d bd(1.0, 2.0);
  const auto xa = ift::linear_solve(Av, bd);
  // ∂x₀/∂A = −(A⁻ᵀe₀) xᵀ.
  const Eigen::Vector2d x = A.lu().solve(bd);
  const Eigen::Matrix2d expected_a = -(A.transpose().lu().solve(Eigen::Vector2d(1, 0))) * x.transpose();
  const Eigen::Matrix2d g = tape.gradient(xa(0), Av);
  CHECK(g.isApprox(expected_a, 1e-12));
}

TEST_CASE("linear_solve: matrix-free operator with GMRES, BiCGSTAB and CG", "[linear_solve]") {
  // A(θ) = tridiag(−1, 2 + θ, −1), symmetric positive definite; b(θ) = θ·1.
  const int n = 40;
  const auto matvec = [](const auto& v, const auto& th) {
    using S = typename std::decay_t<decltype(v)>::Scalar;
    Eigen::Matrix<S, Eigen::Dynamic, 1> out(v.size());
    for (Eigen::Index i = 0; i < v.size(); ++i) {
      out(i) = (2 + th) * v(i);
      if (i > 0) out(i) -= v(i - 1);
      if (i + 1 < v.size()) out(i) -= v(i + 1);
    }
    return out;
  };
  const double th = 0.5;
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(n, n);
  for (int i = 0; i < n; ++i) {
    A(i, i) = 2 + th;
    if (i > 0) A(i, i - 1) = A(i - 1, i) = -1;
  }
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(n);
  const Eigen::VectorXd x = A.lu().solve(th * ones);
  const Eigen::VectorXd dx = A.lu().solve(ones - x);  // db = 1, dA = I

  using D = ift::Dual<double>;
  const D thd(th, 1.0);
  const Eigen::Matrix<D, Eigen::Dynamic, 1> bd = Eigen::Matrix<D, Eigen::Dynamic, 1>::Constant(n, thd);
  const auto check = [&](const auto& solver) {
    const auto xs = ift::linear_solve(matvec, bd, thd, solver);
    for (int i = 0; i < n; ++i) {
      CHECK_THAT(xs(i).a, Catch::Matchers::WithinAbs(x(i), 1e-10));
      CHECK_THAT(xs(i).v(0), Catch::Matchers::WithinAbs(dx(i), 1e-9));
    }
    ift::Tape tape;
    const ift::Var thv = th;
    const auto xr =
        ift::linear_solve(matvec, Eigen::Matrix<ift::Var, Eigen::Dynamic, 1>::Constant(n, thv), thv, solver);
    CHECK_THAT(tape.gradient(xr(n / 2), thv), Catch::Matchers::WithinAbs(dx(n / 2), 1e-9));
  };
  check(ift::GMRES{});
  check(ift::BiCGSTAB{});
  check(ift::CG{});
  check(ift::DenseLU{});
}

TEST_CASE("linear_solve: bad input", "[linear_solve][errors]") {
  CHECK_THROWS_AS(ift::linear_solve(Eigen::MatrixXd::Ones(2, 3), Eigen::VectorXd::Ones(2)),
                  std::invalid_argument);
  CHECK_THROWS_AS(ift::linear_solve(Eigen::MatrixXd::Ones(2, 2), Eigen::VectorXd::Ones(2)),
                  ift::SingularJacobianError);
}
