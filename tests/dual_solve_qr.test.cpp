// Householder QR solves on Eigen matrices of ift::Dual against the matrix-calculus derivative
// d(A⁻¹b) = A⁻¹(db − dA·A⁻¹b) (a file of its own: Eigen's blocked QR is slow to compile).

#include <catch2/catch.hpp>

#include <Eigen/QR>

#include "ift/dual.hpp"
#include "support/dual_check.hpp"
#include "support/dual_matrices.hpp"

using ift_test::check_solve;
using ift_test::D3;
using ift_test::DX;

TEST_CASE("Householder QR solves of dual systems follow d(A⁻¹b) = A⁻¹(db − dA·A⁻¹b)", "[dual][eigen]") {
  const auto qr = [](const auto& a, const auto& b) { return a.householderQr().solve(b).eval(); };
  // n = 5 applies Householder reflections one by one; n = 60 in blocks, as dual matrix products.
  for (const Eigen::Index n : {Eigen::Index{5}, Eigen::Index{60}}) {
    INFO("n = " << n);
    const Eigen::MatrixXd a = ift_test::test_matrix(n, n, 0.0);
    const auto da = ift_test::test_directions(n, n, 0.0);
    const Eigen::VectorXd b = ift_test::test_matrix(n, 1, 5.0);
    const auto db = ift_test::test_directions(n, 1, 5.0);
    check_solve<D3>(a, da, b, db, qr);
    check_solve<DX>(a, da, b, db, qr);
  }
}
