// The specializations of Eigen internals (ift/detail/eigen_internal.hpp), each through the products
// or pivot searches it serves: exact values (the matrices hold small integers, so every sum is exact
// in any order), derivatives, dependency sets and, where the tape shows it, that the specialized
// path was taken. Also what holds without them: the pivots LU picks, and Eigen's coefficient-based
// product of plain and AD matrices.

#include <catch2/catch.hpp>

#include <Eigen/LU>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "ift/detail/eigen_internal.hpp"
#include "ift/dual.hpp"
#include "ift/tracer.hpp"
#include "ift/var.hpp"

using ift::Tape;
using ift::Tracer;
using ift::Var;
using D2 = ift::Dual<double, 2>;

namespace {

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;

/// A matrix of small integers of both signs.
Eigen::MatrixXd integer_matrix(Eigen::Index rows, Eigen::Index cols, int seed) {
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = double((3 * i + 5 * j + seed) % 7 - 3);
  return m;
}

/// Independent variables with the values of `m`.
Matrix<Var> variables(const Eigen::MatrixXd& m) {
  Matrix<Var> v(m.rows(), m.cols());
  for (Eigen::Index i = 0; i < m.size(); ++i) v.data()[i] = m.data()[i];
  return v;
}

/// Duals with values `m` and tangents `t0`, `t1`.
Matrix<D2> duals(const Eigen::MatrixXd& m, const Eigen::MatrixXd& t0, const Eigen::MatrixXd& t1) {
  Matrix<D2> d(m.rows(), m.cols());
  for (Eigen::Index i = 0; i < m.size(); ++i)
    d.data()[i] = D2(m.data()[i], Eigen::Vector2d(t0.data()[i], t1.data()[i]));
  return d;
}

/// The values of a dual matrix.
Eigen::MatrixXd values(const Matrix<D2>& d) {
  return d.unaryExpr([](const D2& x) { return x.a; });
}

/// Tangent k of a dual matrix.
Eigen::MatrixXd tangent(const Matrix<D2>& d, int k) {
  return d.unaryExpr([k](const D2& x) { return x.v(k); });
}

/// Tracers with the values of `m`, entry i (in storage order) depending on input i alone.
Matrix<Tracer> inputs(const Eigen::MatrixXd& m) {
  Matrix<Tracer> t(m.rows(), m.cols());
  for (Eigen::Index i = 0; i < m.size(); ++i) t.data()[i] = Tracer(m.data()[i], static_cast<int>(i));
  return t;
}

/// The values of a tracer matrix.
Eigen::MatrixXd values(const Matrix<Tracer>& t) {
  return t.unaryExpr([](const Tracer& x) { return x.value(); });
}

/// The inputs `first`, `first + step`, … (`count` of them), sorted: a dependency set.
std::vector<int> every(int first, int step, int count) {
  std::vector<int> s;
  for (int k = 0; k < count; ++k) s.push_back(first + k * step);
  return s;
}

}  // namespace

TEST_CASE("LU of Var matrices picks the pivots of the double LU", "[eigen][var]") {
  // The pivot search scores |x| (scalar_score_coeff_op): a Var score must order entries as their
  // values do. 24 is large enough for Eigen's blocked LU.
  for (const Eigen::Index n : {Eigen::Index{5}, Eigen::Index{24}}) {
    INFO("n = " << n);
    Tape tape;
    Eigen::MatrixXd a(n, n);  // no two candidate pivots tie
    for (Eigen::Index j = 0; j < n; ++j)
      for (Eigen::Index i = 0; i < n; ++i) a(i, j) = std::sin(1.3 * double(i) + 0.7 * double(j) + 0.3);
    const Matrix<Var> av = variables(a);
    const Eigen::PartialPivLU<Eigen::MatrixXd> lu(a);
    const Eigen::PartialPivLU<Matrix<Var>> luv(av);
    CHECK_FALSE(lu.permutationP().indices() ==
                Eigen::VectorXi::LinSpaced(n, 0, int(n) - 1));  // rows exchanged
    CHECK(luv.permutationP().indices() == lu.permutationP().indices());
    CHECK(luv.matrixLU().unaryExpr([](const Var& x) { return x.value(); }).isApprox(lu.matrixLU(), 1e-12));
    const Eigen::FullPivLU<Eigen::MatrixXd> full(a);
    const Eigen::FullPivLU<Matrix<Var>> fullv(av);
    CHECK(fullv.permutationP().indices() == full.permutationP().indices());
    CHECK(fullv.permutationQ().indices() == full.permutationQ().indices());
  }
}

TEST_CASE("Eigen's coefficient-based product mixes plain and AD matrices", "[eigen]") {
  // lazyProduct needs no specialization: it is the workaround where they are off.
  const Eigen::MatrixXd d = integer_matrix(12, 20, 0), m = integer_matrix(20, 12, 1),
                        t0 = integer_matrix(20, 12, 2), t1 = integer_matrix(20, 12, 3);
  Tape tape;
  const Matrix<Var> v = variables(m);
  const Matrix<Var> pv = d.lazyProduct(v);
  CHECK(pv.unaryExpr([](const Var& x) { return x.value(); }) == d * m);
  CHECK(tape.gradient(pv(2, 3), v).col(3) == d.row(2).transpose());

  const Matrix<D2> pd = d.lazyProduct(duals(m, t0, t1));
  CHECK(values(pd) == d * m);
  CHECK(tangent(pd, 1) == d * t1);

  const Matrix<Tracer> pt = d.lazyProduct(inputs(m));
  CHECK(values(pt) == d * m);
  CHECK(std::ranges::equal(pt(0, 3).dependencies(), every(3 * 20, 1, 20)));
}

#if IFT_EIGEN_INTERNALS

TEST_CASE("Var pivot scores are doubles: the pivot search records nothing", "[eigen][var]") {
  using Score = Eigen::internal::scalar_score_coeff_op<Var>;
  STATIC_REQUIRE(std::is_same_v<Score::result_type, double>);
  Tape tape;
  Vector<Var> v(4);
  v << 1.0, -5.0, 2.0, 3.0;
  const std::size_t before = tape.size();
  Eigen::Index row = -1;
  CHECK(v.unaryExpr(Score()).maxCoeff(&row) == 5.0);
  CHECK(row == 1);
  CHECK(tape.size() == before);
}

TEST_CASE("Products with a Var operand take Eigen's generic path (blas_traits)", "[eigen][var]") {
  STATIC_REQUIRE(!Eigen::internal::blas_traits<Matrix<Var>>::HasUsableDirectAccess);
  STATIC_REQUIRE(!Eigen::internal::blas_traits<Eigen::Transpose<const Matrix<Var>>>::HasUsableDirectAccess);
  Tape tape;
  const Eigen::MatrixXd m = integer_matrix(12, 12, 0);
  const Eigen::VectorXd d = integer_matrix(12, 1, 1), w = integer_matrix(12, 1, 2);
  const Matrix<Var> v = variables(m);

  // A Var matrix times a double vector: on the BLAS-like path this would not compile.
  const Vector<Var> vd = v * d;  // ∂(wᵀ V d)/∂V = w dᵀ
  CHECK(vd.unaryExpr([](const Var& x) { return x.value(); }) == m * d);
  CHECK(tape.gradient(vd.dot(w), v) == w * d.transpose());
  const Eigen::Matrix<Var, 1, Eigen::Dynamic> dv = d.transpose() * v;  // ∂(dᵀ V w)/∂V = d wᵀ
  CHECK(tape.gradient(dv.dot(w.transpose()), v) == d * w.transpose());

  // A scalar factor in front keeps its derivative: ∂(wᵀ (sV) d)/∂s = wᵀ V d.
  const Var s = 2.0;
  const Vector<Var> scaled = (s * v) * d;
  CHECK(tape.gradient(scaled.dot(w), s) == w.dot(m * d));
}

TEST_CASE("Products of double and Var matrices record one block node", "[eigen][var]") {
  // 12×20 times 20×12 is one node: a copy of the double operand (8 bytes an entry), the indices of
  // the Var operand's entries (4 bytes each), a kind byte per entry of the result, the node (40
  // bytes) and its closure (32). A product and a sum per term would take 20·(13 + 9) bytes an entry.
  const Eigen::Index rows = 12, depth = 20, cols = 12;
  const std::size_t node = 8 * rows * depth + 4 * depth * cols + rows * cols + 40 + 32;
  const Eigen::MatrixXd d = integer_matrix(rows, depth, 0), m = integer_matrix(depth, cols, 1),
                        w = integer_matrix(rows, cols, 2);
  const auto weighted_sum = [&w](const Matrix<Var>& p) { return p.cwiseProduct(w).sum(); };
  const auto value_of = [](const Var& x) { return x.value(); };

  SECTION("double times Var") {
    Tape tape;
    const Matrix<Var> v = variables(m);
    const std::size_t before = tape.bytes();
    const Matrix<Var> p = d * v;
    CHECK(tape.bytes() - before >= node);
    CHECK(tape.bytes() - before <= node + 64);  // the copy is aligned to 64 bytes
    CHECK(p.unaryExpr(value_of) == d * m);
    CHECK(tape.gradient(weighted_sum(p), v) == d.transpose() * w);  // ∂/∂V Σ W∘(D V) = Dᵀ W
  }
  SECTION("Var times double") {
    Tape tape;
    const Matrix<Var> v = variables(d);
    const std::size_t before = tape.bytes();
    const Matrix<Var> p = v * m;
    CHECK(tape.bytes() - before >= node);
    CHECK(tape.bytes() - before <= node + 64);  // the copy is aligned to 64 bytes
    CHECK(p.unaryExpr(value_of) == d * m);
    CHECK(tape.gradient(weighted_sum(p), v) == w * m.transpose());  // ∂/∂V Σ W∘(V M) = W Mᵀ
  }
  SECTION("row-major operands and results") {
    Tape tape;
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> dr = d;
    const Eigen::Matrix<Var, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> vr = variables(m);
    const Eigen::Matrix<Var, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> left = dr * vr;
    const Eigen::Matrix<Var, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> right =
        vr.transpose() * dr.transpose();
    CHECK(left.unaryExpr(value_of) == d * m);
    CHECK(right.unaryExpr(value_of) == (d * m).transpose());
  }
  SECTION("constant Var operands") {
    Tape tape;
    const Matrix<Var> c = m.unaryExpr([](double x) { return Var::constant(x); });
    const Matrix<Var> p = d * c;
    CHECK(p.unaryExpr(value_of) == d * m);
  }
}

TEST_CASE("Products of double and Dual matrices promote the double operand", "[eigen][dual]") {
  const Eigen::MatrixXd d = integer_matrix(12, 20, 0), m = integer_matrix(20, 12, 1),
                        t0 = integer_matrix(20, 12, 2), t1 = integer_matrix(20, 12, 3);
  const Matrix<D2> v = duals(m, t0, t1);

  // General matrix products, both orders: d(DV) = D dV and d(VᵀDᵀ) = dVᵀ Dᵀ.
  const Matrix<D2> left = d * v;
  const Matrix<D2> right = v.transpose() * d.transpose();
  CHECK(values(left) == d * m);
  CHECK(tangent(left, 0) == d * t0);
  CHECK(tangent(left, 1) == d * t1);
  CHECK(values(right) == (d * m).transpose());
  CHECK(tangent(right, 1) == t1.transpose() * d.transpose());

  // A dual matrix times a double vector, on either side.
  const Eigen::VectorXd x = integer_matrix(12, 1, 4), y = integer_matrix(20, 1, 5);
  const Matrix<D2> vx = v * x;
  const Matrix<D2> yv = y.transpose() * v;
  CHECK(values(vx) == m * x);
  CHECK(tangent(vx, 0) == t0 * x);
  CHECK(tangent(yv, 1) == y.transpose() * t1);
  // A double matrix times a dual vector keeps Eigen's kernel.
  const Matrix<D2> dv = d * v.col(2);
  CHECK(tangent(dv, 1) == d * t1.col(2));

  // A nested dual mixes with the double at the bottom.
  using DD = ift::Dual<ift::Dual<double>>;
  const Matrix<DD> nested = m.unaryExpr([](double e) { return DD(ift::Dual<double>(e, 1.0), 2.0 * e); });
  const Matrix<DD> nested_product = d * nested;
  CHECK(nested_product.unaryExpr([](const DD& e) { return e.a.a; }) == d * m);
  CHECK(nested_product.unaryExpr([](const DD& e) { return e.v(0).a; }) == 2.0 * d * m);
}

TEST_CASE("Products of two Dual matrices follow the product rule", "[eigen][dual]") {
  // d(AB) = dA B + A dB on every plane, for Eigen's matrix–vector kernel (a large fixed size and a
  // dynamic one) and its matrix–matrix kernel; integer entries, so every sum is exact. One and sixteen
  // tangents take the one-pass multiply-add of eigen_internal.hpp, two Eigen's generic one.
  const Eigen::MatrixXd a = integer_matrix(12, 20, 0), a0 = integer_matrix(12, 20, 1),
                        a1 = integer_matrix(12, 20, 2);
  const Eigen::MatrixXd b = integer_matrix(20, 9, 3), b0 = integer_matrix(20, 9, 4),
                        b1 = integer_matrix(20, 9, 5);
  const Matrix<D2> A = duals(a, a0, a1), B = duals(b, b0, b1);
  const auto check = [&](const Matrix<D2>& product, const Eigen::MatrixXd& rhs, const Eigen::MatrixXd& rhs0,
                         const Eigen::MatrixXd& rhs1) {
    CHECK(values(product) == a * rhs);
    CHECK(tangent(product, 0) == a0 * rhs + a * rhs0);
    CHECK(tangent(product, 1) == a1 * rhs + a * rhs1);
  };
  check(A * B, b, b0, b1);
  check(A * B.col(4), b.col(4), b0.col(4), b1.col(4));
  check(A.lazyProduct(B), b, b0, b1);  // Eigen's coefficient-based product, for comparison

  using D1 = ift::Dual<double>;
  const auto one_tangent = [](const Eigen::MatrixXd& m, const Eigen::MatrixXd& t) {
    return Matrix<D1>(m.binaryExpr(t, [](double value, double tangent) { return D1(value, tangent); }));
  };
  const auto check_one = [&](const Matrix<D1>& product, const Eigen::MatrixXd& rhs,
                             const Eigen::MatrixXd& rhs0) {
    CHECK(product.unaryExpr([](const D1& e) { return e.a; }) == a * rhs);
    CHECK(product.unaryExpr([](const D1& e) { return e.v(0); }) == a0 * rhs + a * rhs0);
  };
  const Matrix<D1> A1 = one_tangent(a, a0), B1 = one_tangent(b, b0);
  check_one(A1 * B1, b, b0);
  check_one(A1 * B1.col(4), b.col(4), b0.col(4));

  using Wide = ift::Dual<double, 16>;
  Eigen::Matrix<Wide, 8, 8> W;
  Eigen::Matrix<Wide, 8, 1> x;
  for (int i = 0; i < 8; ++i) {
    x(i) = Wide(i - 3.0, Eigen::Matrix<double, 16, 1>::LinSpaced(16, i, i + 15.0));
    for (int j = 0; j < 8; ++j)
      W(i, j) = Wide((i * j) % 5 - 2.0, Eigen::Matrix<double, 16, 1>::Constant(i - j));
  }
  Eigen::Matrix<Wide, 8, 1> y;
  y.noalias() = W * x;
  const Eigen::Matrix<Wide, 8, 1> expected = W.lazyProduct(x);
  for (int i = 0; i < 8; ++i) {
    CHECK(y(i).a == expected(i).a);
    CHECK(y(i).v == expected(i).v);
  }
}

TEST_CASE("Products of double and Tracer matrices keep every dependency set", "[eigen][sparsity]") {
  const Eigen::MatrixXd d = integer_matrix(12, 20, 0), m = integer_matrix(20, 12, 1);
  const Matrix<Tracer> t = inputs(m);  // entry (k, j) is input k + 20·j

  const Matrix<Tracer> left = d * t;  // entry (i, j) depends on column j of t
  const Matrix<Tracer> right = t.transpose() * d.transpose();
  CHECK(values(left) == d * m);
  CHECK(values(right) == (d * m).transpose());
  CHECK(std::ranges::equal(left(5, 3).dependencies(), every(3 * 20, 1, 20)));
  CHECK(std::ranges::equal(right(3, 5).dependencies(), every(3 * 20, 1, 20)));

  // Matrix-vector products, tracer matrix or tracer vector.
  const Eigen::VectorXd x = integer_matrix(12, 1, 4);
  const Matrix<Tracer> tx = t * x;  // entry k depends on row k of t
  const Matrix<Tracer> dt = d * t.col(7);
  CHECK(values(tx) == m * x);
  CHECK(std::ranges::equal(tx(4).dependencies(), every(4, 20, 12)));
  CHECK(values(dt) == d * m.col(7));
  CHECK(std::ranges::equal(dt(0).dependencies(), every(7 * 20, 1, 20)));
}

#endif  // IFT_EIGEN_INTERNALS
