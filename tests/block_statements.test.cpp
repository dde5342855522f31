// Products of a constant matrix with AD entries as whole blocks: a `double` matrix times `Var`s is one
// node on the tape swept by a dense product, times `Dual<double, N>`s one dense product on the value
// and tangent planes. Each is checked against the same product written as loops of scalar operations,
// at every scalar mode, through the shapes and views Eigen passes to its product kernels.

#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

#include "ift/dual.hpp"
#include "ift/var.hpp"

using ift::Tape;
using ift::Var;

namespace {

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;

Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = u(random);
  return m;
}

/// A random entry of scalar type S from random numbers r[0], r[1], …: variables on the active tape
/// for `Var`, tangents in every direction for duals.
template <class S>
struct Entry;
template <>
struct Entry<Var> {
  static Var make(const double* r) { return Var(r[0]); }
};
template <int N>
struct Entry<ift::Dual<double, N>> {
  static ift::Dual<double, N> make(const double* r) {
    return {r[0], Eigen::Vector3d(r[1], r[2], r[3]).head(N == Eigen::Dynamic ? 3 : N)};
  }
};
template <class T>
requires(!std::is_same_v<T, double>) struct Entry<ift::Dual<T>> {
  static ift::Dual<T> make(const double* r) { return {Entry<T>::make(r), Entry<T>::make(r + 4)}; }
};

template <class S>
Matrix<S> random_entries(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  const Eigen::MatrixXd r = random_matrix(8, rows * cols, seed);
  Matrix<S> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = Entry<S>::make(&r(0, i));
  return m;
}

/// A·X with loops of scalar operations, the reference every product is compared with:
/// yᵢⱼ = Aᵢ₀X₀ⱼ, then yᵢⱼ += AᵢₖXₖⱼ.
template <class S, class A, class X>
Matrix<S> by_hand(const A& a, const X& x) {
  Matrix<S> y(a.rows(), x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      S acc = a(i, 0) * x(0, j);
      for (Eigen::Index k = 1; k < a.cols(); ++k) acc += a(i, k) * x(k, j);
      y(i, j) = acc;
    }
  return y;
}

/// Equal to rounding, at every level of the scalar: value and each tangent.
bool close(double a, double b) { return std::abs(a - b) <= 1e-13 * (1.0 + std::abs(a)); }
bool close(const Var& a, const Var& b) { return close(a.value(), b.value()); }
template <class T, int N>
bool close(const ift::Dual<T, N>& a, const ift::Dual<T, N>& b) {
  if (!close(a.a, b.a) || a.v.size() != b.v.size()) return false;
  for (Eigen::Index k = 0; k < a.v.size(); ++k)
    if (!close(a.v(k), b.v(k))) return false;
  return true;
}
template <class S, class A, class B>
bool all_close(const A& a, const B& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i)
      if (!close(S(a(i, j)), S(b(i, j)))) return false;
  return true;
}

/// Whether an entry holds `Var`s.
template <class S>
constexpr bool carries_var = ift::is_var_v<S>;
template <class T, int N>
constexpr bool carries_var<ift::Dual<T, N>> = carries_var<T>;

/// Constant `Var`s: weights that are no variables of the tape.
Vector<Var> constants(const Eigen::VectorXd& v) {
  return v.unaryExpr([](double e) { return Var::constant(e); });
}

/// The `Var`s of an entry: itself, or a dual's value and tangents (recursively).
template <class F>
void for_each_var(const Var& x, F&& f) {
  f(x);
}
template <class T, int N, class F>
void for_each_var(const ift::Dual<T, N>& x, F&& f) {
  for_each_var(x.a, f);
  for (Eigen::Index k = 0; k < x.v.size(); ++k) for_each_var(x.v(k), f);
}

/// For entries that carry `Var`s: a nonlinear loss Σ cₖ tanh(yₖ) over all the `Var`s of y, whose
/// gradient with respect to the `Var`s of x must not depend on how y was recorded.
template <class S>
Eigen::VectorXd gradient_through(Tape& tape, const Matrix<S>& x, const Matrix<S>& y) {
  using std::tanh;
  Var loss = Var::constant(0.0);
  double c = 0.5;
  for (Eigen::Index i = 0; i < y.size(); ++i)
    for_each_var(y.data()[i], [&](const Var& v) {
      loss += c * tanh(v);
      c = -c * 1.01;
    });
  tape.backward(loss);
  std::vector<double> g;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    for_each_var(x.data()[i], [&](const Var& v) { g.push_back(tape.adjoint(v)); });
  return Eigen::Map<const Eigen::VectorXd>(g.data(), Eigen::Index(g.size()));
}

/// Checks `product` against `reference` in value (every level), and for `Var`-carrying entries
/// in the gradient of a loss with respect to the `Var`s of `x`.
template <class S>
void check_same(Tape& tape, const Matrix<S>& x, const Matrix<S>& product, const Matrix<S>& reference) {
  CHECK(all_close<S>(product, reference));
  if constexpr (carries_var<S>) {
    const Eigen::VectorXd g = gradient_through<S>(tape, x, product);
    const Eigen::VectorXd g_reference = gradient_through<S>(tape, x, reference);
    CHECK(g.isApprox(g_reference, 1e-12));
  }
}

}  // namespace

// Every scalar here takes ift's block products (Dual<Var> and the nested dual through their planes):
// views and aliasing are checked for each, AD × AD products where they stay scalar statements (Var).
TEMPLATE_TEST_CASE("Constant matrix times AD entries equals the scalar recording", "[eigen][block]", Var,
                   ift::Dual<Var>, ift::Dual<double>, (ift::Dual<double, 3>), ift::Dual<ift::Dual<double>>) {
  using S = TestType;
  Tape tape;
  const Eigen::MatrixXd w = random_matrix(30, 25, 1), square = random_matrix(25, 25, 2);
  const Matrix<S> x = random_entries<S>(25, 1, 3), xs = random_entries<S>(25, 4, 4);

  SECTION("matrix × vector") {
    const Matrix<S> y = w * x.col(0);
    check_same<S>(tape, x, y, by_hand<S>(w, x));
  }
  SECTION("vectorᵀ × matrix") {
    const Matrix<S> y = x.col(0).transpose() * square;
    check_same<S>(tape, x, y, by_hand<S>(x.transpose(), square));
  }
  SECTION("matrix × matrix, both orders") {
    const Matrix<S> left = w * xs;
    check_same<S>(tape, xs, left, by_hand<S>(w, xs));
    const Matrix<S> right = xs.transpose() * w.transpose();
    check_same<S>(tape, xs, right, by_hand<S>(xs.transpose(), w.transpose()));
  }
  SECTION("aliasing: x on both sides") {
    Vector<S> z = x.col(0);
    z = square * z;
    check_same<S>(tape, x, Matrix<S>(z), by_hand<S>(square, x));
    Matrix<S> zs = xs;
    zs = square.transpose() * zs;
    check_same<S>(tape, xs, zs, by_hand<S>(square.transpose(), xs));
  }
  SECTION("transposes, blocks and maps") {
    const Matrix<S> t = w.transpose().transpose() * x;
    check_same<S>(tape, x, t, by_hand<S>(w, x));
    const Matrix<S> b = w.block(2, 3, 20, 15) * x.block(5, 0, 15, 1);
    check_same<S>(tape, x, b, by_hand<S>(w.block(2, 3, 20, 15), x.block(5, 0, 15, 1)));
    // Every other entry of x through a strided Map, times a Map of W's leading columns.
    const Eigen::Map<const Vector<S>, 0, Eigen::InnerStride<2>> strided(x.data(), 12);
    const Eigen::Map<const Eigen::MatrixXd> columns(w.data(), 30, 12);
    const Matrix<S> m = columns * strided;
    check_same<S>(tape, x, m, by_hand<S>(columns, strided));
    const Matrix<S> rows = strided.transpose() * w.topRows(12);
    check_same<S>(tape, x, rows, by_hand<S>(strided.transpose(), w.topRows(12)));
  }
  if constexpr (ift::is_var_v<S>) {
    SECTION("an AD matrix times an AD vector keeps scalar statements") {
      const Matrix<S> a = random_entries<S>(30, 25, 5);
      const std::size_t before = tape.size();
      const Matrix<S> y = a * x;
      CHECK(tape.size() - before >= 30 * 25);  // a statement per product at least
      check_same<S>(tape, x, y, by_hand<S>(a, x));
    }
  }
}

namespace {

/// W·x recorded as Eigen's product (a block node) and as scalar statements (`by_hand`), with the tape
/// bytes each took.
template <class S>
struct RecordedBytes {
  Matrix<S> block, scalar;
  std::size_t block_bytes = 0, scalar_bytes = 0;
};
template <class S, class X>
RecordedBytes<S> recorded_bytes(Tape& tape, const Eigen::MatrixXd& w, const X& x) {
  RecordedBytes<S> r;
  std::size_t before = tape.bytes();
  r.block = w * x;
  r.block_bytes = tape.bytes() - before;
  before = tape.bytes();
  r.scalar = by_hand<S>(w, x);
  r.scalar_bytes = tape.bytes() - before;
  return r;
}

}  // namespace

TEST_CASE("A double matrix times Dual<Var> entries records one block node for all planes",
          "[eigen][block][var]") {
  // The reverse-over-forward scalar of Hessians: W·x on Dual<Var, 1> costs one node holding W
  // (the value and the tangent plane side by side), not a statement per term for each plane.
  using DV = ift::Dual<Var>;
  const Eigen::MatrixXd w = random_matrix(30, 25, 11);
  Tape tape;
  const Matrix<DV> x = random_entries<DV>(25, 1, 12);
  const auto recorded = recorded_bytes<DV>(tape, w, x);
  CHECK(recorded.block_bytes <= 8 * 30 * 25 + 4 * 2 * 25 + 2 * 30 + 256);
  CHECK(recorded.block_bytes < recorded.scalar_bytes / 4);
  check_same<DV>(tape, x, recorded.block, recorded.scalar);
}

TEST_CASE("A double matrix times Var entries is one block node", "[eigen][block][var]") {
  const Eigen::MatrixXd w = random_matrix(30, 25, 6);
  const Eigen::VectorXd x0 = random_matrix(25, 1, 7), c = random_matrix(30, 1, 8);
  Tape tape;
  const Vector<Var> x = x0.unaryExpr([](double e) { return Var(e); });

  SECTION("the sweep is the closed form x̄ = Wᵀ ȳ, and the tape is smaller") {
    const auto recorded = recorded_bytes<Var>(tape, w, x);
    const std::size_t block_bytes = recorded.block_bytes;
    const Vector<Var> y = recorded.block;
    CHECK(block_bytes < recorded.scalar_bytes / 2);
    // W (8 bytes an entry), the inputs (4 each), the outputs' kind bytes, the node and its closure.
    CHECK(block_bytes >= 8 * 30 * 25 + 4 * 25 + 30);
    CHECK(block_bytes <= 8 * 30 * 25 + 4 * 25 + 30 + 256);
    const Var loss = y.dot(constants(c));
    CHECK(tape.gradient(loss, x).isApprox(w.transpose() * c, 1e-14));
  }
  SECTION("the operations around the product: sums, differences, scale factors, expressions") {
    const Vector<Var> b = random_matrix(30, 1, 9).unaryExpr([](double e) { return Var(e); });
    const Var s = 1.5;
    const Eigen::VectorXd wx = w * x0;
    Vector<Var> y = w * x + b;
    y += w * x;
    y -= 0.5 * (w * x);
    y = b + y;
    y.noalias() += s * (w * x);
    y += (2.0 * w) * (x + x);  // expressions on both sides
    // y = 2b + (1.5 + s + 4) W x: ∂(cᵀy)/∂x = (5.5 + s) Wᵀc, ∂/∂s = cᵀ W x, ∂/∂b = 2c.
    const Var loss = y.dot(constants(c));
    CHECK(loss.value() ==
          Approx(2.0 * c.dot(Eigen::VectorXd(random_matrix(30, 1, 9))) + 7.0 * c.dot(wx)).epsilon(1e-13));
    CHECK(tape.gradient(loss, x).isApprox(7.0 * w.transpose() * c, 1e-13));
    CHECK(tape.gradient(loss, s) == Approx(c.dot(wx)).epsilon(1e-13));
    CHECK(tape.gradient(loss, b).isApprox(2.0 * c, 1e-14));
  }
  SECTION("constant entries are not inputs; all constants record nothing") {
    Vector<Var> partly = x;
    partly(3) = Var::constant(2.0);
    const Vector<Var> y = w * partly;
    Eigen::VectorXd expected = w.transpose() * c;
    expected(3) = 0.0;
    CHECK(tape.gradient(y.dot(constants(c)), x).isApprox(expected, 1e-14));
    const std::size_t size = tape.size();
    const Vector<Var> constants = x0.unaryExpr([](double e) { return Var::constant(e); });
    const Vector<Var> z = w * constants;
    CHECK(tape.size() == size);
    CHECK(z.unaryExpr([](const Var& e) { return e.value(); }).isApprox(w * x0, 1e-14));
    CHECK(z.unaryExpr([](const Var& e) { return e.is_constant(); }).all());
  }
  SECTION("the same W at every step of an unrolled iteration is stored once, a changed one again") {
    Eigen::MatrixXd square = random_matrix(25, 25, 10);
    Vector<Var> z = x;
    z = square * z;
    std::size_t before = tape.bytes();
    z = square * z;
    const std::size_t shared = tape.bytes() - before;
    CHECK(shared < 8 * 25 * 25);
    square(3, 4) += 1.0;
    before = tape.bytes();
    z = square * z;
    CHECK(tape.bytes() - before >= shared + 8 * 25 * 25);
    CHECK(tape.bytes() - before <= shared + 8 * 25 * 25 + 64);  // the copy is aligned to 64 bytes
    // z = W'·W·W x with W' the changed matrix.
    square(3, 4) -= 1.0;
    Eigen::MatrixXd changed = square;
    changed(3, 4) += 1.0;
    const Eigen::MatrixXd product = changed * square * square;
    CHECK(tape.gradient(z.dot(constants(c.head(25))), x).isApprox(product.transpose() * c.head(25), 1e-13));
  }
  SECTION("a variable of another tape is a TapeError") {
    Tape nested;
    CHECK_THROWS_AS(Vector<Var>(w * x), ift::TapeError);
  }
}
