// Eigen matrices of ift::Var: products (small and blocked), mixed products with double
// matrices and reductions, against matrix calculus; the numeric traits. LU: var_lu.test.cpp.

#include <catch2/catch.hpp>

#include <Eigen/LU>  // determinant
#include <cmath>
#include <limits>

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

/// Σᵢⱼ Wᵢⱼ Mᵢⱼ, a scalar that weighs every entry differently.
template <class Derived>
Var weighted_sum(const Eigen::MatrixBase<Derived>& m, const Eigen::MatrixXd& w) {
  return m.cwiseProduct(w).sum();
}

}  // namespace

TEST_CASE("Products of Var matrices follow matrix calculus", "[var][eigen]") {
  // φ = Σ W∘(AB): ∂φ/∂A = W Bᵀ, ∂φ/∂B = Aᵀ W. n = 3 uses Eigen's coefficient-based product,
  // n = 12 its blocked kernel.
  for (const Eigen::Index n : {Eigen::Index{3}, Eigen::Index{12}}) {
    INFO("n = " << n);
    Tape tape;
    const Eigen::MatrixXd a = test_matrix(n, n + 1, 0.0), b = test_matrix(n + 1, n, 1.0),
                          w = test_matrix(n, n, 2.0);
    const MatrixV av = variables(a), bv = variables(b);
    const MatrixV product = av * bv;
    const Var phi = weighted_sum(product, w);
    CHECK(phi.value() == Approx((a * b).cwiseProduct(w).sum()));
    const Eigen::MatrixXd ga = tape.gradient(phi, av), gb = tape.gradient(phi, bv);
    CHECK(ga.isApprox(w * b.transpose(), 1e-12));
    CHECK(gb.isApprox(a.transpose() * w, 1e-12));
  }
}

TEST_CASE("Mixed products with double matrices and vectors", "[var][eigen]") {
  for (const Eigen::Index n : {Eigen::Index{3}, Eigen::Index{12}}) {
    INFO("n = " << n);
    Tape tape;
    const Eigen::MatrixXd d = test_matrix(n, n, 0.5), w = test_matrix(n, n, 1.5), v0 = test_matrix(n, n, 2.5);
    const Eigen::VectorXd dv = d.col(0), wv = w.col(1);
    const MatrixV v = variables(v0);

    const MatrixV left = d * v;  // ∂/∂V Σ W∘(D V) = Dᵀ W
    CHECK(tape.gradient(weighted_sum(left, w), v).isApprox(d.transpose() * w, 1e-12));
    const MatrixV right = v * d;  // ∂/∂V Σ W∘(V D) = W Dᵀ
    CHECK(tape.gradient(weighted_sum(right, w), v).isApprox(w * d.transpose(), 1e-12));

    const VectorV matrix_times_vector = v * dv;  // ∂/∂V wᵀ(V d) = w dᵀ
    CHECK(tape.gradient(matrix_times_vector.dot(wv), v).isApprox(wv * dv.transpose(), 1e-12));
    const VectorV x = v.col(2);
    const VectorV double_matrix_times_vector = d * x;  // ∂/∂x wᵀ(D x) = Dᵀ w
    CHECK(tape.gradient(double_matrix_times_vector.dot(wv), x).isApprox(d.transpose() * wv, 1e-12));
    const Eigen::Matrix<Var, 1, Eigen::Dynamic> row = x.transpose() * d;  // ∂/∂x (xᵀD) w = D w
    CHECK(tape.gradient(row.dot(wv.transpose()), x).isApprox(d * wv, 1e-12));

    // A scalar factor in front of a product keeps its derivative: ∂/∂s Σ W∘(s V D) = Σ W∘(V D).
    const Var s = 1.0;
    const MatrixV scaled = (s * v) * d;
    CHECK(tape.gradient(weighted_sum(scaled, w), s) == Approx((v0 * d).cwiseProduct(w).sum()));
    const VectorV scaled_vector = (v * s) * dv;
    CHECK(tape.gradient(scaled_vector.dot(wv), s) == Approx(wv.dot(v0 * dv)));
  }
}

TEST_CASE("Element-wise expressions mixing Var and double", "[var][eigen]") {
  Tape tape;
  const Eigen::MatrixXd d = test_matrix(3, 4, 0.0), w = test_matrix(3, 4, 1.0);
  const MatrixV v = variables(test_matrix(3, 4, 2.0));
  const Var s = 2.0;
  const MatrixV sum = v + d;
  const MatrixV difference = d - v;
  const MatrixV scaled = 3.0 * v;
  const MatrixV by_var = v * s;
  const MatrixV hadamard = v.cwiseProduct(d);
  const Eigen::Array<Var, Eigen::Dynamic, Eigen::Dynamic> array_product = v.array() * d.array();
  CHECK(tape.gradient(weighted_sum(sum, w), v).isApprox(w));
  CHECK(tape.gradient(weighted_sum(difference, w), v).isApprox(-w));
  CHECK(tape.gradient(weighted_sum(scaled, w), v).isApprox(3.0 * w));
  CHECK(tape.gradient(weighted_sum(by_var, w), v).isApprox(2.0 * w));
  CHECK(tape.gradient(weighted_sum(hadamard, w), v).isApprox(d.cwiseProduct(w)));
  CHECK(tape.gradient((array_product * w.array()).sum(), v).isApprox(d.cwiseProduct(w)));
}

TEST_CASE("Reductions", "[var][eigen]") {
  Tape tape;
  const Eigen::Vector4d v0(1.5, -2.0, 0.5, 3.0);
  VectorV v(4);
  for (int i = 0; i < 4; ++i) v(i) = v0(i);
  CHECK(tape.gradient(v.sum(), v).isApprox(Eigen::Vector4d::Ones()));
  CHECK(tape.gradient(v.mean(), v).isApprox(Eigen::Vector4d::Constant(0.25)));
  CHECK(tape.gradient(v.squaredNorm(), v).isApprox(2.0 * v0));
  CHECK(tape.gradient(v.norm(), v).isApprox(v0 / v0.norm()));
  const double product = v0.prod();
  CHECK(tape.gradient(v.prod(), v)
            .isApprox(Eigen::Vector4d(product / 1.5, product / -2.0, product / 0.5, product / 3.0)));
  CHECK(tape.gradient(v.dot(v0), v).isApprox(v0));
  CHECK(tape.gradient(v.maxCoeff(), v).isApprox(Eigen::Vector4d(0, 0, 0, 1)));
  CHECK(tape.gradient(v.minCoeff(), v).isApprox(Eigen::Vector4d(0, 1, 0, 0)));
  CHECK(tape.gradient(v.cwiseAbs().sum(), v).isApprox(Eigen::Vector4d(1, -1, 1, 1)));
  CHECK(tape.gradient(v.lpNorm<1>(), v).isApprox(Eigen::Vector4d(1, -1, 1, 1)));
  CHECK(tape.gradient(v.stableNorm(), v).isApprox(v0 / v0.norm(), 1e-12));
  const Eigen::Vector4d normalized_direction = v0 / v0.norm();
  const VectorV u = v.normalized();  // ∂(u·e₀)/∂v = (e₀ − u₀ u)/‖v‖
  const Eigen::Vector4d expected =
      (Eigen::Vector4d::Unit(0) - normalized_direction(0) * normalized_direction) / v0.norm();
  CHECK(tape.gradient(u(0), v).isApprox(expected, 1e-12));
}

TEST_CASE("Constructing Var matrices: casts record, defaults and special values are constants",
          "[var][eigen]") {
  Tape tape;
  const Eigen::Matrix<Var, 2, 2> defaulted;  // Eigen default-constructs the scalars
  for (int i = 0; i < 4; ++i) CHECK(defaulted.data()[i].is_constant());
  CHECK(tape.size() == 0);

  const Eigen::Matrix2d m{{1.0, 2.0}, {3.0, 4.0}};
  const Eigen::Matrix<Var, 2, 2> cast = m.cast<Var>();  // a cast records independent variables
  CHECK(tape.size() == 4);
  CHECK(tape.gradient(cast.determinant(), cast).isApprox(Eigen::Matrix2d{{4.0, -3.0}, {-2.0, 1.0}}));
  CHECK(tape.size() == 4 + 3);  // the determinant a₀₀a₁₁ − a₁₀a₀₁ is three operations

  const Eigen::Matrix<Var, 2, 2> other = cast * 1.0000000000001;
  CHECK(other.isApprox(cast));  // uses NumTraits<Var>::dummy_precision
  CHECK_FALSE((cast * 1.1).isApprox(cast));

  using Traits = Eigen::NumTraits<Var>;
  CHECK(Traits::epsilon().value() == std::numeric_limits<double>::epsilon());
  CHECK(Traits::epsilon().is_constant());
  CHECK(Traits::dummy_precision().value() == Eigen::NumTraits<double>::dummy_precision());
  CHECK(Traits::highest().value() == std::numeric_limits<double>::max());
  CHECK(Traits::lowest().value() == std::numeric_limits<double>::lowest());
  CHECK(std::isinf(Traits::infinity().value()));
  CHECK(std::isnan(Traits::quiet_NaN().value()));
  CHECK(Traits::digits10() == std::numeric_limits<double>::digits10);
  static_assert(!Traits::IsComplex && !Traits::IsInteger && Traits::IsSigned &&
                Traits::RequireInitialization);
  static_assert(std::is_same_v<Traits::Real, Var> && std::is_same_v<Traits::Literal, double>);

  using Limits = std::numeric_limits<Var>;
  static_assert(Limits::is_specialized && !Limits::is_integer && Limits::has_quiet_NaN);
  CHECK(Limits::max().value() == std::numeric_limits<double>::max());
  CHECK(Limits::min().value() == std::numeric_limits<double>::min());
  CHECK(Limits::epsilon().is_constant());
  CHECK(std::isinf(Limits::infinity().value()));
  static_assert(std::is_same_v<Eigen::ScalarBinaryOpTraits<Var, double>::ReturnType, Var>);
  static_assert(std::is_same_v<Eigen::ScalarBinaryOpTraits<double, Var>::ReturnType, Var>);
}
