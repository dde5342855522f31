// The implicit rule of a large minimization by conjugate gradients on Hessian-vector products
// (linalg/hessian_cg.hpp), `Auto`'s choice for a symmetric J of `cg_from` unknowns or more: the
// derivatives at every mode against the closed form and against the dense LU of the Hessian, and the
// fall back to that LU when CG cannot vouch for its answer.

#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "ift/minimize.hpp"

namespace {

constexpr Eigen::Index n = 48;  // above Auto's cg_from

// A symmetric matrix of cosines made diagonally dominant: SPD, eigenvalues in [18.3, 30.2].
Eigen::MatrixXd spd() {
  Eigen::MatrixXd A(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) A(i, j) = std::cos(static_cast<double>(3 * i + 7 * j + i * j) + 0.3);
  A = 0.5 * (A + A.transpose()).eval();
  A.diagonal().array() += 2.0 * static_cast<double>(n) / 4.0;
  return A;
}

Eigen::VectorXd rhs() { return Eigen::VectorXd::LinSpaced(n, -1.0, 2.0); }

// L(x, θ) = ½ xᵀ A x − θ₀ bᵀx + ½ θ₁ ‖x‖²: x* = θ₀ (A + θ₁I)⁻¹ b, so with M = A + θ₁I
//   ∂x*/∂θ₀ = M⁻¹ b,   ∂x*/∂θ₁ = −M⁻¹ x*.
struct Quadratic {
  Eigen::MatrixXd A = spd();
  Eigen::VectorXd b = rhs();
  template <class V, class P>
  auto operator()(const V& x, const P& theta) const {
    using S = typename V::Scalar;
    return S(0.5 * x.dot(A * x) - theta(0) * b.dot(x) + 0.5 * theta(1) * x.squaredNorm());
  }
};

// The same plus ¼ Σ xᵢ⁴: no closed form; the dense LU's answer is the reference.
struct Quartic {
  Quadratic q;
  template <class V, class P>
  auto operator()(const V& x, const P& theta) const {
    return q(x, theta) + 0.25 * x.array().square().square().sum();
  }
};

const Eigen::Vector2d theta0{1.5, 0.4};

template <class P, class L, class Adjoint = ift::Implicit<>>
auto argmin(const L& objective, const P& theta, const Adjoint& adjoint = {}) {
  return ift::minimize(objective, Eigen::VectorXd::Zero(n).eval(), theta, ift::LBFGS{.tol = 1e-12}, adjoint)
      .x;
}

}  // namespace

TEST_CASE("hessian cg: Auto chooses CG for a minimizer's Hessian of many unknowns", "[hessian_cg]") {
  const Quadratic q;
  const Eigen::MatrixXd M = q.A + theta0(1) * Eigen::MatrixXd::Identity(n, n);
  const Eigen::VectorXd x = theta0(0) * M.ldlt().solve(q.b);
  const Eigen::VectorXd dx0 = M.ldlt().solve(q.b), dx1 = -M.ldlt().solve(x);
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(n);

  SECTION("forward, two directions") {
    using D = ift::Dual<double, 2>;
    const Eigen::Vector2<D> theta{D(theta0(0), Eigen::Vector2d(1, 0)), D(theta0(1), Eigen::Vector2d(0, 1))};
    const Eigen::VectorX<D> xd = argmin(q, theta);
    for (Eigen::Index i = 0; i < n; ++i) {
      CHECK(xd(i).value() == Approx(x(i)).margin(1e-10));
      CHECK(xd(i).tangent()(0) == Approx(dx0(i)).margin(1e-9));
      CHECK(xd(i).tangent()(1) == Approx(dx1(i)).margin(1e-9));
    }
  }
  SECTION("reverse") {
    ift::Tape tape;
    const Eigen::Vector2<ift::Var> theta{ift::Var(theta0(0)), ift::Var(theta0(1))};
    const ift::Var s = argmin(q, theta).sum();
    const Eigen::Vector2d g = tape.gradient(s, theta);
    CHECK(g(0) == Approx(ones.dot(dx0)).epsilon(1e-9));
    CHECK(g(1) == Approx(ones.dot(dx1)).epsilon(1e-9));
  }
  SECTION("the factorization is CG, and a kept analysis or cg_from above n turn it off") {
    using Conds = ift::detail::GradientConditions<Quadratic, Eigen::VectorXd>;
    const ift::detail::ConditionsJacobian<Conds, Eigen::Vector2d> J(Conds{q}, x, theta0);
    const auto f = ift::Auto{}.factor(J);
    CHECK(f.conjugate_gradients());
    CHECK((M * f.solve(q.b) - q.b).norm() <= 1e-11 * q.b.norm());
    CHECK((M * f.solve_transposed(q.b) - q.b).norm() <= 1e-11 * q.b.norm());
    CHECK_FALSE(ift::Auto{.cg_from = n + 1}.factor(J).conjugate_gradients());
  }
}

TEST_CASE("hessian cg: every mode agrees with the dense LU on a non-quadratic objective", "[hessian_cg]") {
  const Quartic l;
  const ift::Implicit<ift::DenseLU> dense;
  SECTION("nested forward: second derivatives") {
    using D = ift::Dual<ift::Dual<double, 1>, 1>;
    const D t0(ift::Dual<double, 1>(theta0(0), 1.0), ift::Dual<double, 1>(1.0, 0.0));
    const Eigen::Vector2<D> theta{t0, D(theta0(1))};
    const Eigen::VectorX<D> a = argmin(l, theta), b = argmin(l, theta, dense);
    for (Eigen::Index i = 0; i < n; ++i) {
      CHECK(a(i).value().value() == Approx(b(i).value().value()).margin(1e-10));
      CHECK(a(i).tangent()(0).value() == Approx(b(i).tangent()(0).value()).margin(1e-9));
      CHECK(a(i).tangent()(0).tangent()(0) == Approx(b(i).tangent()(0).tangent()(0)).margin(1e-8));
    }
  }
  SECTION("reverse over forward") {
    using D = ift::Dual<ift::Var, 1>;
    const auto gradient_of = [&](const auto& adjoint) {
      ift::Tape tape;
      const Eigen::Vector2<ift::Var> leaves{ift::Var(theta0(0)), ift::Var(theta0(1))};
      const Eigen::Vector2<D> theta{D(leaves(0), ift::Var::constant(1.0)), D(leaves(1))};
      // d/dθ₀ of Σ x*, then its gradient in θ: a row of the Hessian of Σ x* in θ.
      const D s = argmin(l, theta, adjoint).sum();
      return Eigen::Vector2d(tape.gradient(s.tangent()(0), leaves));
    };
    const Eigen::Vector2d a = gradient_of(ift::Implicit<>{}), b = gradient_of(dense);
    CHECK(a(0) == Approx(b(0)).epsilon(1e-8));
    CHECK(a(1) == Approx(b(1)).epsilon(1e-8));
  }
  SECTION("central finite differences of the reverse gradient") {
    ift::Tape tape;
    const Eigen::Vector2<ift::Var> theta{ift::Var(theta0(0)), ift::Var(theta0(1))};
    const Eigen::Vector2d g = tape.gradient(argmin(l, theta).sum(), theta);
    for (int k = 0; k < 2; ++k) {
      const double h = 1e-5;
      Eigen::Vector2d up = theta0, down = theta0;
      up(k) += h;
      down(k) -= h;
      const double fd = (argmin(l, up).sum() - argmin(l, down).sum()) / (2 * h);
      CHECK(g(k) == Approx(fd).epsilon(1e-6));
    }
  }
}

namespace ift_test {

// A symmetric J given as a matrix, with the rule's products (`transposed()`). (Outside an anonymous
// namespace: clang counts `symmetric`, read only by a requires-expression, as unused there.)
struct SymmetricOperator {
  static constexpr bool symmetric = true;
  Eigen::MatrixXd H;
  Eigen::Index size() const { return H.rows(); }
  Eigen::VectorXd apply(const Eigen::VectorXd& v) const { return H * v; }
  Eigen::MatrixXd dense() const { return H; }
  Eigen::SparseMatrix<double> sparse() const { return H.sparseView(); }
  const ift::SparsityPattern& pattern() const { throw std::logic_error("CG reads no pattern"); }
  auto transposed() const {
    return [this](const Eigen::VectorXd& w) { return Eigen::VectorXd(H.transpose() * w); };
  }
};

}  // namespace ift_test

using ift_test::SymmetricOperator;

TEST_CASE("hessian cg: falls back to the dense LU when CG cannot vouch for its answer", "[hessian_cg]") {
  const Eigen::VectorXd b = rhs();
  SECTION("indefinite (a saddle): nonpositive curvature, then the dense LU's exact answer") {
    Eigen::MatrixXd H = spd();
    H.diagonal().head(n / 2).array() *= -1.0;
    const ift::detail::HessianFactor<SymmetricOperator> f(SymmetricOperator{H}, 1e-12);
    const Eigen::VectorXd x = f.solve(b);
    CHECK(f.fell_back());
    CHECK((H * x - b).norm() <= 1e-12 * b.norm());
  }
  SECTION("ill-conditioned: more products than forming H would cost, then the dense LU") {
    const Eigen::VectorXd d = Eigen::VectorXd::LinSpaced(n, 0.0, 10.0).array().exp();  // condition e¹⁰
    const Eigen::MatrixXd H = d.asDiagonal();
    const ift::detail::HessianFactor<SymmetricOperator> f(SymmetricOperator{H}, 1e-12);
    const Eigen::MatrixXd X = f.solve(Eigen::MatrixXd::Ones(n, 3));
    CHECK(f.fell_back());
    CHECK((H * X - Eigen::MatrixXd::Ones(n, 3)).norm() <= 1e-12 * std::sqrt(3.0 * n));
  }
  SECTION("singular: SingularJacobianError, as from the dense LU") {
    Eigen::MatrixXd H = spd();
    H.row(3).setZero();
    H.col(3).setZero();
    const ift::detail::HessianFactor<SymmetricOperator> f(SymmetricOperator{H}, 1e-12);
    CHECK_THROWS_AS(f.solve(b), ift::SingularJacobianError);
  }
  SECTION("well-conditioned: CG alone, within the budget") {
    const Eigen::MatrixXd H = spd();
    const ift::detail::HessianFactor<SymmetricOperator> f(SymmetricOperator{H}, 1e-12);
    const Eigen::VectorXd x = f.solve_transposed(b);
    CHECK_FALSE(f.fell_back());
    CHECK((H * x - b).norm() <= 1e-12 * b.norm());
    CHECK(f.solve(Eigen::VectorXd::Zero(n)).isZero(0.0));
  }
}
