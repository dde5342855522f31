// Linear solves on Eigen matrices of ift::Dual: LU and LDLT against the matrix-calculus derivative
// d(A⁻¹b) = A⁻¹(db − dA·A⁻¹b), and second derivatives through nested duals. (QR: dual_solve_qr.)

#include <catch2/catch.hpp>

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <array>

#include "ift/dual.hpp"
#include "support/dual_check.hpp"
#include "support/dual_matrices.hpp"

using Eigen::MatrixXd;
using Eigen::VectorXd;
using ift_test::check_solve;
using ift_test::D1;
using ift_test::D3;
using ift_test::DD;
using ift_test::DX;
using ift_test::test_directions;
using ift_test::test_matrix;

namespace {

const auto lu = [](const auto& a, const auto& b) { return a.partialPivLu().solve(b).eval(); };
const auto ldlt = [](const auto& a, const auto& b) { return a.ldlt().solve(b).eval(); };

/// Calls check(a, da, b, db) for a test system with n = 5, solved by Eigen's unblocked LU, and
/// n = 24, solved by its blocked LU, whose updates are dual matrix products.
template <class Check>
void for_each_size(Check check) {
  for (const Eigen::Index n : {Eigen::Index{5}, Eigen::Index{24}}) {
    INFO("n = " << n);
    check(test_matrix(n, n, 0.0), test_directions(n, n, 0.0), test_matrix(n, 1, 5.0),
          test_directions(n, 1, 5.0));
  }
}

}  // namespace

TEST_CASE("Solves of dual systems follow d(A⁻¹b) = A⁻¹(db − dA·A⁻¹b)", "[dual][eigen]") {
  SECTION("partial-pivoting LU") {
    for_each_size([](const MatrixXd& a, const auto& da, const VectorXd& b, const auto& db) {
      check_solve<D3>(a, da, b, db, lu);
      check_solve<DX>(a, da, b, db, lu);
    });
  }
  SECTION("LDLT of a symmetric positive definite matrix") {
    for_each_size([](const MatrixXd& a, const auto& da, const VectorXd& b, const auto& db) {
      const MatrixXd spd = a * a.transpose() + MatrixXd::Identity(a.rows(), a.cols());
      // d(A Aᵀ) = dA Aᵀ + A dAᵀ keeps the perturbation symmetric.
      std::array<MatrixXd, 3> dspd;
      for (int k = 0; k < 3; ++k) dspd[k] = da[k] * a.transpose() + a * da[k].transpose();
      check_solve<D3>(spd, dspd, b, db, ldlt);
      check_solve<DX>(spd, dspd, b, db, ldlt);
    });
  }
}

TEST_CASE("Second derivatives of a solve through nested duals", "[dual][eigen]") {
  // A(θ) = A₀ + θA₁, b(θ) = b₀ + θb₁: x' = A⁻¹(b₁ − A₁x), x'' = −2A⁻¹A₁x'.
  // Fixed-size matrices, so that Eigen compiles only its unblocked LU for nested duals.
  constexpr int n = 4;
  const MatrixXd a0 = test_matrix(n, n, 0.0), a1 = test_matrix(n, n, 1.0);
  const VectorXd b0 = test_matrix(n, 1, 2.0), b1 = test_matrix(n, 1, 3.0);
  Eigen::Matrix<DD, n, n> a;
  Eigen::Matrix<DD, n, 1> b;
  for (Eigen::Index i = 0; i < n; ++i) {
    b(i) = DD(D1(b0(i), b1(i)), D1(b1(i), 0.0));
    for (Eigen::Index j = 0; j < n; ++j) a(i, j) = DD(D1(a0(i, j), a1(i, j)), D1(a1(i, j), 0.0));
  }
  const Eigen::Matrix<DD, n, 1> x = a.partialPivLu().solve(b);
  const auto lu0 = a0.partialPivLu();
  const VectorXd x0 = lu0.solve(b0);
  const VectorXd x1 = lu0.solve(b1 - a1 * x0);
  const VectorXd x2 = lu0.solve(-2.0 * a1 * x1);
  for (Eigen::Index i = 0; i < n; ++i) {
    CHECK_THAT(x(i).a.a, ift_test::near(x0(i)));
    CHECK_THAT(x(i).a.v[0], ift_test::near(x1(i), 1e-11));
    CHECK_THAT(x(i).v[0].a, ift_test::near(x1(i), 1e-11));
    CHECK_THAT(x(i).v[0].v[0], ift_test::near(x2(i), 1e-10));
  }
}
