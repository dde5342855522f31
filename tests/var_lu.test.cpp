// LU solves on Eigen matrices of ift::Var (fixed size, unblocked and blocked) against the adjoint
// formulas and finite differences. Kept apart from var_eigen.test.cpp for compile time.

#include <catch2/catch.hpp>

#include <Eigen/LU>
#include <cmath>

#include "ift/var.hpp"

using ift::Tape;
using ift::Var;

using MatrixV = Eigen::Matrix<Var, Eigen::Dynamic, Eigen::Dynamic>;
using VectorV = Eigen::Matrix<Var, Eigen::Dynamic, 1>;

namespace {

/// A well-conditioned test matrix with entries of both signs.
Eigen::MatrixXd test_matrix(Eigen::Index rows, Eigen::Index cols, double shift) {
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i)
      m(i, j) = std::sin(1.3 * i + 0.7 * j + shift) + (i == j ? 3.0 : 0.0);
  return m;
}

/// A matrix of independent variables with the values of `m`.
MatrixV variables(const Eigen::MatrixXd& m) {
  MatrixV v(m.rows(), m.cols());
  for (Eigen::Index i = 0; i < m.size(); ++i) v.data()[i] = m.data()[i];
  return v;
}

}  // namespace

TEST_CASE("LU solves: ∂(wᵀx)/∂b = A⁻ᵀw and ∂(wᵀx)/∂A = −(A⁻ᵀw) xᵀ", "[var][eigen]") {
  // n = 3 (fixed size), 5 (unblocked) and 24 (Eigen's blocked LU with products inside).
  SECTION("fixed size") {
    Tape tape;
    Eigen::Matrix3d a = test_matrix(3, 3, 0.3);
    a(0, 0) = 0.1;  // forces a row exchange
    const Eigen::Vector3d b(1.0, -2.0, 0.5), w(0.3, 0.2, -1.0);
    Eigen::Matrix<Var, 3, 3> av;
    Eigen::Matrix<Var, 3, 1> bv;
    for (int i = 0; i < 9; ++i) av.data()[i] = a.data()[i];
    for (int i = 0; i < 3; ++i) bv(i) = b(i);
    const Eigen::Matrix<Var, 3, 1> x = av.partialPivLu().solve(bv);
    const Var phi = x.dot(w);
    const Eigen::Vector3d xd = a.partialPivLu().solve(b);
    const Eigen::Vector3d lambda = a.transpose().partialPivLu().solve(w);
    CHECK(phi.value() == Approx(w.dot(xd)));
    CHECK(tape.gradient(phi, bv).isApprox(lambda, 1e-12));
    const Eigen::Matrix3d ga = tape.gradient(phi, av);
    CHECK(ga.isApprox(-lambda * xd.transpose(), 1e-12));
  }
  for (const Eigen::Index n : {Eigen::Index{5}, Eigen::Index{24}}) {
    INFO("n = " << n);
    Tape tape;
    const Eigen::MatrixXd a = test_matrix(n, n, 0.3);
    const Eigen::VectorXd b = test_matrix(n, 1, 4.0), w = test_matrix(n, 1, 5.0);
    const MatrixV av = variables(a);
    const VectorV bv = variables(b);
    const VectorV x = av.partialPivLu().solve(bv);
    const Var phi = x.dot(w);
    const Eigen::VectorXd xd = a.partialPivLu().solve(b);
    const Eigen::VectorXd lambda = a.transpose().partialPivLu().solve(w);
    CHECK(x.unaryExpr([](const Var& e) { return e.value(); }).isApprox(xd, 1e-12));
    CHECK(tape.gradient(phi, bv).isApprox(lambda, 1e-10));
    const Eigen::MatrixXd ga = tape.gradient(phi, av);
    CHECK(ga.isApprox(-lambda * xd.transpose(), 1e-10));

    // One entry against a central difference of the double solve.
    const double h = 1e-6;
    Eigen::MatrixXd ap = a, am = a;
    ap(1, 2) += h;
    am(1, 2) -= h;
    const double fd = (w.dot(ap.partialPivLu().solve(b)) - w.dot(am.partialPivLu().solve(b))) / (2 * h);
    CHECK(ga(1, 2) == Approx(fd).epsilon(1e-6));
  }
}
