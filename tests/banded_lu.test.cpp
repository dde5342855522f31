// BandedLU: the factorization against dense LU on random banded matrices (kl ≠ ku, pivoting forced by
// zero diagonal entries), several right-hand sides, transposed solves, singular matrices rejected;
// Newton and the implicit rule with it on Broyden's tridiagonal system at every scalar mode against
// the exact derivatives; and the choices of Auto.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include <Eigen/LU>

#include "ift/root.hpp"
#include "ift/sparse.hpp"
#include "ift/var.hpp"
#include "support/broyden.hpp"

namespace {

/// A random n × n matrix with bandwidths (kl, ku), entries in [−1, 1], and zeros on every third
/// diagonal entry: elimination without row interchanges would divide by zero there. A triangular one
/// (kl or ku zero) gets a dominant diagonal instead: with a zero on it, it would be singular, and a
/// random triangular matrix is exponentially ill-conditioned in n.
Eigen::MatrixXd random_banded(Eigen::Index n, Eigen::Index kl, Eigen::Index ku, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = std::max<Eigen::Index>(0, j - ku); i <= std::min(n - 1, j + kl); ++i)
      A(i, j) = uniform(random);
  if (kl == 0 || ku == 0)
    A.diagonal().array() += 3.0;
  else
    for (Eigen::Index j = 0; j < n; j += 3) A(j, j) = 0.0;
  return A;
}

/// A `JacobianOperator` over a given matrix: what the conditions' Jacobian offers a linear solver.
struct MatrixOperator {
  Eigen::MatrixXd J;
  ift::SparsityPattern p = ift::sparsity_of(J);
  Eigen::Index size() const { return J.rows(); }
  Eigen::VectorXd apply(const Eigen::VectorXd& v) const { return J * v; }
  Eigen::MatrixXd dense() const { return J; }
  Eigen::SparseMatrix<double> sparse() const { return J.sparseView(); }
  const ift::SparsityPattern& pattern() const { return p; }
};
static_assert(ift::JacobianOperator<MatrixOperator>);

/// The same, able to write J straight into band storage (as the conditions' Jacobian does), or to
/// decline (`declines`), which sends the solver to `sparse()`.
struct BandOperator : MatrixOperator {
  bool declines = false;
  bool fill_band(ift::Bandwidth band, double* diagonal, Eigen::Index ld) const {
    if (declines) return false;
    const ift::detail::BandWriter write{band, diagonal, ld};
    for (Eigen::Index j = 0; j < J.cols(); ++j)
      for (Eigen::Index i = 0; i < J.rows(); ++i)
        if (J(i, j) != 0.0) write(i, j, J(i, j));
    return true;
  }
};
static_assert(ift::LinearSolver<ift::BandedLU>);

double relative(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).norm() / b.norm(); }

using ift_test::broyden;

constexpr Eigen::Index n = 40;
const Eigen::VectorXd theta = Eigen::VectorXd::LinSpaced(n, -0.1, 0.2);
const Eigen::VectorXd x0 = Eigen::VectorXd::Constant(n, -1.0);

/// ∂g/∂x at x: 3 − 4xᵢ on the diagonal, −1 below, −2 above.
Eigen::MatrixXd broyden_jacobian(const Eigen::VectorXd& x) {
  Eigen::MatrixXd J = Eigen::MatrixXd::Zero(x.size(), x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    J(i, i) = 3.0 - 4.0 * x(i);
    if (i > 0) J(i, i - 1) = -1.0;
    if (i + 1 < x.size()) J(i, i + 1) = -2.0;
  }
  return J;
}

}  // namespace

TEST_CASE("BandedLU solves like dense LU, with pivoting, several right-hand sides and transposed",
          "[banded]") {
  for (const auto& [kl, ku] : std::vector<std::pair<Eigen::Index, Eigen::Index>>{
           {1, 2}, {3, 1}, {0, 2}, {2, 0}, {4, 3}, {1, 1}, {2, 2}}) {
    // Orders at and around the band's width, where the solves' full-band kernels (tridiagonal and
    // pentadiagonal) hand over to their loops for the matrix's last rows.
    for (const Eigen::Index m : {1, 2, 3, 4, 5, 7, 60}) {
      INFO("kl " << kl << ", ku " << ku << ", n " << m);
      Eigen::MatrixXd A = random_banded(m, kl, ku, static_cast<unsigned>(100 * kl + 10 * ku + m));
      if (m == 1) A(0, 0) = 0.5;
      const Eigen::MatrixXd B = Eigen::MatrixXd::Random(m, 3);
      const Eigen::VectorXd b = B.col(0);
      const Eigen::PartialPivLU<Eigen::MatrixXd> dense(A);
      const auto f = ift::BandedLU{}.factor(Eigen::SparseMatrix<double>(A.sparseView()));
      CHECK(f.bandwidth().lower <= kl);
      CHECK(f.bandwidth().upper <= ku);
      CHECK(relative(f.solve(B), dense.solve(B)) < 1e-11);
      CHECK(relative(f.solve(b), dense.solve(b)) < 1e-11);
      CHECK(relative(f.solve_transposed(B), dense.transpose().solve(B)) < 1e-11);
      CHECK(relative(f.solve_transposed(b), dense.transpose().solve(b)) < 1e-11);
      // The residuals themselves, independently of the dense LU.
      CHECK((A * f.solve(B) - B).norm() < 1e-11 * B.norm() * A.norm());
      CHECK((A.transpose() * f.solve_transposed(B) - B).norm() < 1e-11 * B.norm() * A.norm());
      // The same through the operator form, the band read off the pattern.
      const auto g = ift::BandedLU{}.factor(MatrixOperator{A});
      CHECK(g.solve(B) == f.solve(B));
    }
  }
}

TEST_CASE("BandedLU fills band storage from an operator that can, with the sparse path's numbers",
          "[banded]") {
  for (const auto& [kl, ku] : std::vector<std::pair<Eigen::Index, Eigen::Index>>{{1, 1}, {2, 2}, {3, 1}}) {
    const Eigen::MatrixXd A = random_banded(25, kl, ku, 11);
    const ift::Bandwidth band{kl, ku};
    const Eigen::MatrixXd B = Eigen::MatrixXd::Random(25, 3);
    const auto from_sparse = ift::BandedLU{}.factor(MatrixOperator{A}, band);
    const auto from_band = ift::BandedLU{}.factor(BandOperator{{A}}, band);
    const auto declined = ift::BandedLU{}.factor(BandOperator{{A}, true}, band);
    CHECK(from_band.solve(B) == from_sparse.solve(B));
    CHECK(from_band.solve_transposed(B) == from_sparse.solve_transposed(B));
    CHECK(declined.solve(B) == from_sparse.solve(B));
    CHECK(relative(A * from_band.solve(B), B) < 1e-12);
  }
  // A band too narrow for J: no place for an entry, on either path.
  const Eigen::MatrixXd A = random_banded(12, 2, 1, 3);
  CHECK_THROWS_AS(ift::BandedLU{}.factor(MatrixOperator{A}, ift::Bandwidth{1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(ift::BandedLU{}.factor(BandOperator{{A}}, ift::Bandwidth{1, 1}), std::invalid_argument);
  Eigen::MatrixXd infinite = A;
  infinite(3, 2) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(ift::BandedLU{}.factor(BandOperator{{infinite}}, ift::Bandwidth{2, 1}),
                    Catch::Matchers::Contains("not finite"));
}

TEST_CASE("BandedLU rejects singular and non-finite matrices with SingularJacobianError", "[banded]") {
  using Catch::Matchers::Contains;
  Eigen::MatrixXd A = random_banded(30, 2, 1, 7);
  A.diagonal().array() += 4.0;
  Eigen::MatrixXd zero_column = A;
  zero_column.col(11).setZero();
  CHECK_THROWS_AS(ift::BandedLU{}.factor(MatrixOperator{zero_column}), ift::SingularJacobianError);
  CHECK_THROWS_WITH(ift::BandedLU{}.factor(MatrixOperator{zero_column}),
                    Contains("BandedLU") && Contains("singular"));
  // Two equal columns but for rounding: numerically singular, caught by the pivots (a Newton step) or
  // by the condition estimate (the implicit rule, a matrix given directly).
  Eigen::MatrixXd nearly = A;
  nearly.col(10) = A.col(11) * (1 + 1e-17);
  nearly(11, 10) += 1e-18;
  CHECK_THROWS_WITH(ift::BandedLU{}.factor(Eigen::SparseMatrix<double>(nearly.sparseView())),
                    Contains("BandedLU") && Contains("singular"));
  Eigen::MatrixXd infinite = A;
  infinite(4, 5) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(ift::BandedLU{}.factor(MatrixOperator{infinite}), Contains("not finite"));
  Eigen::MatrixXd nan = A;
  nan(4, 4) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(ift::BandedLU{}.factor(MatrixOperator{nan}), ift::SingularJacobianError);
}

TEST_CASE("Newton and the implicit rule with BandedLU: exact derivatives at every mode", "[banded]") {
  const ift::Newton newton{.linear_solver = ift::BandedLU{}, .tol = 1e-13};
  const ift::Implicit<ift::BandedLU> adjoint{};
  const Eigen::VectorXd x = ift::root(broyden, x0, theta, newton, adjoint).x;
  CHECK(broyden(x, theta).norm() < 1e-13);
  // g has ∂g/∂θ = −I: along θ + t·u, J ẋ = u; J̇ = diag(−4ẋ), so J ẍ = 4 ẋ∘ẋ; ∇θ(wᵀx) = J⁻ᵀw.
  const Eigen::MatrixXd J = broyden_jacobian(x);
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu(J);
  const Eigen::VectorXd u = Eigen::VectorXd::LinSpaced(n, 1.0, 2.0),
                        w = Eigen::VectorXd::LinSpaced(n, -1.0, 1.0);
  const Eigen::VectorXd dx = lu.solve(u);
  const Eigen::VectorXd d2x = lu.solve(Eigen::VectorXd(4.0 * dx.cwiseProduct(dx)));
  const Eigen::VectorXd gradient = lu.transpose().solve(w);

  SECTION("Dual<double>") {
    using D = ift::Dual<double>;
    Eigen::VectorX<D> p(n);
    for (Eigen::Index i = 0; i < n; ++i) p(i) = D(theta(i), u(i));
    const auto s = ift::root(broyden, x0, p, newton, adjoint);
    for (Eigen::Index i = 0; i < n; ++i) CHECK(s.x(i).v(0) == Approx(dx(i)).epsilon(1e-12));
  }
  SECTION("Dual<double, 3>") {
    using D = ift::Dual<double, 3>;
    Eigen::VectorX<D> p(n);
    for (Eigen::Index i = 0; i < n; ++i) p(i) = D(theta(i), Eigen::Vector3d(u(i), 0.0, -2.0 * u(i)));
    const auto s = ift::root(broyden, x0, p, newton, adjoint);
    for (Eigen::Index i = 0; i < n; ++i) {
      CHECK(s.x(i).v(0) == Approx(dx(i)).epsilon(1e-12));
      CHECK(s.x(i).v(1) == 0.0);
      CHECK(s.x(i).v(2) == Approx(-2.0 * dx(i)).epsilon(1e-12));
    }
  }
  SECTION("Dual<Dual<double>>") {
    using D2 = ift::Dual<ift::Dual<double>>;
    Eigen::VectorX<D2> p(n);
    for (Eigen::Index i = 0; i < n; ++i)
      p(i) = D2(ift::Dual<double>(theta(i), u(i)), ift::Dual<double>(u(i), 0.0));
    const auto s = ift::root(broyden, x0, p, newton, adjoint);
    for (Eigen::Index i = 0; i < n; ++i) {
      CHECK(s.x(i).a.v(0) == Approx(dx(i)).epsilon(1e-12));
      CHECK(s.x(i).v(0).v(0) == Approx(d2x(i)).epsilon(1e-10));
    }
  }
  SECTION("Var") {
    ift::Tape tape;
    const Eigen::VectorX<ift::Var> p = theta.cast<ift::Var>();
    const auto s = ift::root(broyden, x0, p, newton, adjoint);
    ift::Var loss = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) loss += w(i) * s.x(i);
    const Eigen::VectorXd g = tape.gradient(loss, p);
    CHECK(relative(g, gradient) < 1e-12);
  }
  SECTION("Dual<Var>") {
    using DV = ift::Dual<ift::Var>;
    ift::Tape tape;
    const Eigen::VectorX<ift::Var> p = theta.cast<ift::Var>();
    Eigen::VectorX<DV> q(n);
    for (Eigen::Index i = 0; i < n; ++i) q(i) = DV(p(i), ift::Var(u(i)));
    const auto s = ift::root(broyden, x0, q, newton, adjoint);
    ift::Var loss = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) loss += w(i) * s.x(i).a;
    CHECK(relative(Eigen::VectorXd(tape.gradient(loss, p)), gradient) < 1e-12);
    for (Eigen::Index i = 0; i < n; ++i) CHECK(s.x(i).v(0).value() == Approx(dx(i)).epsilon(1e-12));
  }
}

TEST_CASE("Auto: dense when small or dense, banded for a narrow band, sparse otherwise", "[banded]") {
  const auto with_pattern = [](Eigen::Index m, auto entry) {
    Eigen::MatrixXd J = Eigen::MatrixXd::Zero(m, m);
    for (Eigen::Index i = 0; i < m; ++i) {
      J(i, i) = 4.0;
      for (Eigen::Index j = 0; j < m; ++j)
        if (i != j && entry(i, j)) J(i, j) = 1.0 / static_cast<double>(1 + (i + 2 * j) % 7);
    }
    return MatrixOperator{J};
  };
  const auto tridiagonal = [](Eigen::Index i, Eigen::Index j) { return std::abs(i - j) == 1; };
  const auto scattered = [](Eigen::Index i, Eigen::Index j) { return (i * 37 + 11) % 200 == j; };
  const auto full = [](Eigen::Index, Eigen::Index) { return true; };
  const Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(200, -1.0, 1.0);
  const auto check = [&](const MatrixOperator& op, bool banded, bool sparse) {
    const auto f = ift::Auto{}.factor(op);
    CHECK(f.banded() == banded);
    CHECK(f.sparse() == sparse);
    const Eigen::VectorXd rhs = b.head(op.size());
    CHECK((op.J * f.solve(rhs) - rhs).norm() < 1e-12 * rhs.norm());
    CHECK((op.J.transpose() * f.solve_transposed(rhs) - rhs).norm() < 1e-12 * rhs.norm());
  };
  REQUIRE(ift::detail::sparse_lu_for_auto() != nullptr);  // <ift/sparse.hpp> registered its sparse LU
  check(with_pattern(5, tridiagonal), false, false);      // below dense_below: no detection
  check(with_pattern(200, tridiagonal), true, false);     // band of 3
  check(with_pattern(200, scattered), false, true);       // 2 entries per row, band of ~200
  check(with_pattern(200, full), false, false);           // dense pattern
  check(with_pattern(40, [](Eigen::Index i, Eigen::Index j) { return std::abs(i - j) <= 10; }), false,
        false);  // a band of 21 diagonals is more than half of 40, and the pattern is not sparse
}
