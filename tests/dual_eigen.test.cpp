// Eigen matrices of ift::Dual: the numeric traits, products (small, blocked, mixed with double)
// against d(AB) = dA·B + A·dB, element-wise expressions, reductions and casts.

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <limits>

#include "ift/dual.hpp"
#include "support/dual_check.hpp"
#include "support/dual_matrices.hpp"

using Eigen::MatrixXd;
using Eigen::VectorXd;
using ift::Dual;
using ift::Dynamic;
using ift_test::D1;
using ift_test::D3;
using ift_test::DD;
using ift_test::dual_matrix;
using ift_test::DX;
using ift_test::Matrix;
using ift_test::tangent;
using ift_test::test_directions;
using ift_test::test_matrix;
using ift_test::values;
using ift_test::Vector;

TEST_CASE("Eigen NumTraits of Dual", "[dual][eigen]") {
  using NT = Eigen::NumTraits<D3>;
  STATIC_REQUIRE(std::is_same_v<NT::Real, D3>);
  STATIC_REQUIRE(std::is_same_v<NT::NonInteger, D3>);
  STATIC_REQUIRE(std::is_same_v<NT::Literal, D3>);
  STATIC_REQUIRE(std::is_same_v<NT::Nested, D3>);
  STATIC_REQUIRE(NT::IsComplex == 0);
  STATIC_REQUIRE(NT::IsInteger == 0);
  STATIC_REQUIRE(NT::IsSigned == 1);
  STATIC_REQUIRE(NT::RequireInitialization == 1);
  STATIC_REQUIRE(NT::ReadCost == 4);
  STATIC_REQUIRE(NT::AddCost == 4);
  STATIC_REQUIRE(NT::MulCost == 10);
  STATIC_REQUIRE(int(Eigen::NumTraits<Dual<D3, 3>>::MulCost) > int(NT::MulCost));
  STATIC_REQUIRE(Eigen::NumTraits<Dual<DX, Dynamic>>::ReadCost > 0);
  CHECK(NT::epsilon().a == std::numeric_limits<double>::epsilon());
  CHECK(NT::epsilon().v.isZero(0.0));
  CHECK(NT::dummy_precision().a == Eigen::NumTraits<double>::dummy_precision());
  CHECK(NT::digits10() == std::numeric_limits<double>::digits10);
  CHECK(NT::digits() == std::numeric_limits<double>::digits);
  CHECK(NT::highest().a == std::numeric_limits<double>::max());
  CHECK(NT::lowest().a == -std::numeric_limits<double>::max());
  CHECK(NT::infinity().a == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(NT::quiet_NaN().a));
  CHECK(Eigen::NumTraits<DD>::epsilon().a.a == std::numeric_limits<double>::epsilon());
  CHECK(Eigen::NumTraits<Dual<float>>::dummy_precision().a == Eigen::NumTraits<float>::dummy_precision());
  CHECK(Eigen::NumTraits<DX>::epsilon().v.size() == 0);
}

TEST_CASE("Products of dual matrices follow d(AB) = dA·B + A·dB", "[dual][eigen]") {
  // n = 3 uses Eigen's coefficient-based product, n = 12 its blocked kernel.
  for (const Eigen::Index n : {Eigen::Index{3}, Eigen::Index{12}}) {
    INFO("n = " << n);
    const MatrixXd a = test_matrix(n, n + 1, 0.0), b = test_matrix(n + 1, n, 1.0);
    const auto da = test_directions(n, n + 1, 0.0), db = test_directions(n + 1, n, 1.0);
    const Matrix<D3> p = dual_matrix<D3>(a, da) * dual_matrix<D3>(b, db);
    const Matrix<DX> px = dual_matrix<DX>(a, da) * dual_matrix<DX>(b, db);
    CHECK(values<D3>(p).isApprox(a * b, 1e-14));
    for (int k = 0; k < 3; ++k) {
      const MatrixXd expected = da[k] * b + a * db[k];
      CHECK(tangent<D3>(p, k).isApprox(expected, 1e-13));
      CHECK(tangent<DX>(px, k).isApprox(expected, 1e-13));
    }
  }
}

TEST_CASE("Products and expressions mixing double and dual matrices", "[dual][eigen]") {
  for (const Eigen::Index n : {Eigen::Index{3}, Eigen::Index{12}}) {
    INFO("n = " << n);
    const MatrixXd d = test_matrix(n, n, 0.5), v0 = test_matrix(n, n, 2.5);
    const auto dv = test_directions(n, n, 2.5);
    const Matrix<D3> v = dual_matrix<D3>(v0, dv);
    const VectorXd column = d.col(0);

    const Matrix<D3> left = d * v;  // d(DV) = D dV
    const Matrix<D3> right = v * d;
    const Matrix<DX> left_dynamic = d * dual_matrix<DX>(v0, dv);
    for (int k = 0; k < 3; ++k) {
      CHECK(tangent<D3>(left, k).isApprox(d * dv[k], 1e-13));
      CHECK(tangent<D3>(right, k).isApprox(dv[k] * d, 1e-13));
      CHECK(tangent<DX>(left_dynamic, k).isApprox(d * dv[k], 1e-13));
    }
    CHECK(values<D3>(left).isApprox(d * v0, 1e-14));

    const Vector<D3> x = v.col(1);
    const Vector<D3> matrix_times_dual_vector = d * x;
    const Vector<D3> dual_matrix_times_vector = v * column;
    const Eigen::Matrix<D3, 1, Eigen::Dynamic> row = column.transpose() * v;
    const Eigen::Matrix<D3, 1, Eigen::Dynamic> dual_row = x.transpose() * d;
    for (int k = 0; k < 3; ++k) {
      CHECK(tangent<D3>(matrix_times_dual_vector, k).isApprox(d * dv[k].col(1), 1e-13));
      CHECK(tangent<D3>(dual_matrix_times_vector, k).isApprox(dv[k] * column, 1e-13));
      CHECK(tangent<D3>(row, k).isApprox(column.transpose() * dv[k], 1e-13));
      CHECK(tangent<D3>(dual_row, k).isApprox(dv[k].col(1).transpose() * d, 1e-13));
    }

    // A dual factor in front of a product keeps its derivative: d(sVD) = ds·VD + s·dV·D.
    const D3 s(2.0, Eigen::Vector3d(1.0, 0.0, 0.0));
    const Matrix<D3> scaled = (s * v) * d;
    const Vector<D3> scaled_vector = (v * s) * column;
    CHECK(tangent<D3>(scaled, 0).isApprox(v0 * d + 2.0 * dv[0] * d, 1e-13));
    CHECK(tangent<D3>(scaled, 1).isApprox(2.0 * dv[1] * d, 1e-13));
    CHECK(tangent<D3>(scaled_vector, 0).isApprox(v0 * column + 2.0 * dv[0] * column, 1e-13));
  }
  SECTION("element-wise expressions") {
    const MatrixXd d = test_matrix(3, 4, 0.0), v0 = test_matrix(3, 4, 2.0);
    const auto dv = test_directions(3, 4, 2.0);
    const Matrix<D3> v = dual_matrix<D3>(v0, dv);
    const D3 s(2.0, Eigen::Vector3d(0.0, 1.0, 0.0));
    const Matrix<D3> sum = v + d;
    const Matrix<D3> difference = d - v;
    const Matrix<D3> scaled = 3.0 * v / 2.0;
    const Matrix<D3> by_dual = d * s;  // a double matrix times a dual scalar
    const Matrix<D3> hadamard = v.cwiseProduct(d);
    const Eigen::Array<D3, Eigen::Dynamic, Eigen::Dynamic> array_product = v.array() * d.array();
    for (int k = 0; k < 3; ++k) {
      CHECK(tangent<D3>(sum, k) == dv[k]);
      CHECK(tangent<D3>(difference, k) == -dv[k]);
      CHECK(tangent<D3>(scaled, k).isApprox(1.5 * dv[k]));
      CHECK(tangent<D3>(hadamard, k).isApprox(dv[k].cwiseProduct(d)));
      CHECK(tangent<D3>(Matrix<D3>(array_product.matrix()), k).isApprox(dv[k].cwiseProduct(d)));
    }
    CHECK(values<D3>(sum) == v0 + d);
    CHECK(values<D3>(by_dual) == 2.0 * d);
    CHECK(tangent<D3>(by_dual, 1) == d);
    CHECK(tangent<D3>(by_dual, 0).isZero(0.0));
  }
}

TEST_CASE("Reductions of dual vectors", "[dual][eigen]") {
  const Eigen::Vector4d v0(1.5, -2.0, 0.5, 3.0), t(0.5, 1.0, -1.0, 2.0);
  Vector<D1> v(4);
  for (int i = 0; i < 4; ++i) v(i) = D1(v0(i), t(i));
  CHECK(v.sum().v[0] == t.sum());
  CHECK_THAT(v.mean().v[0], ift_test::near(t.mean()));
  CHECK_THAT(v.squaredNorm().v[0], ift_test::near(2.0 * v0.dot(t)));
  CHECK_THAT(v.norm().v[0], ift_test::near(v0.dot(t) / v0.norm()));
  CHECK_THAT(v.stableNorm().v[0], ift_test::near(v0.dot(t) / v0.norm()));
  CHECK_THAT(v.dot(v0).v[0], ift_test::near(v0.dot(t)));
  CHECK_THAT(v.dot(v).v[0], ift_test::near(2.0 * v0.dot(t)));
  const double product = v0.prod();
  CHECK_THAT(v.prod().v[0], ift_test::near(product * (t.array() / v0.array()).sum()));
  CHECK(v.maxCoeff().v[0] == t(3));
  CHECK(v.minCoeff().v[0] == t(1));
  CHECK(v.cwiseAbs().sum().v[0] == 0.5 - 1.0 - 1.0 + 2.0);
  CHECK(v.lpNorm<1>().v[0] == 0.5 - 1.0 - 1.0 + 2.0);
  CHECK(v.lpNorm<Eigen::Infinity>().v[0] == 2.0);
  // The norm at the origin: zero value, zero tangent, never NaN.
  const Vector<D1> zero = Vector<D1>::Zero(3);
  CHECK(zero.norm().a == 0.0);
  CHECK(zero.norm().v[0] == 0.0);
  CHECK(v.allFinite());
  Vector<DX> dynamic = v0.cast<DX>();
  dynamic(2) = DX(0.5, Eigen::Vector2d(1.0, -1.0));
  const DX s = dynamic.squaredNorm();
  REQUIRE(s.v.size() == 2);
  CHECK(s.v == Eigen::Vector2d(1.0, -1.0));
}

TEST_CASE("Casting double matrices to duals gives constants", "[dual][eigen]") {
  const MatrixXd m = test_matrix(3, 2, 0.0);
  const Matrix<D3> d = m.cast<D3>();
  CHECK(values<D3>(d) == m);
  for (int k = 0; k < 3; ++k) CHECK(tangent<D3>(d, k).isZero(0.0));
  const Matrix<DX> dx = m.cast<DX>();
  for (Eigen::Index i = 0; i < dx.size(); ++i) CHECK(dx.data()[i].v.size() == 0);
  const Matrix<DD> dd = m.cast<DD>();
  CHECK(dd(2, 1).a.a == m(2, 1));
  CHECK(dd(2, 1).v[0].a == 0.0);
  const Eigen::Matrix<Dual<float>, 2, 2> f = Eigen::Matrix2d::Identity().cast<Dual<float>>();
  CHECK(f(1, 1).a == 1.0f);
  // Eigen's own constants and identity work at every nesting level.
  CHECK(Matrix<DD>::Identity(2, 2)(1, 1).a.a == 1.0);
  CHECK(Matrix<DX>::Ones(2, 2)(0, 1).v.size() == 0);
}
