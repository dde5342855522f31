// ift::Var: construction, arithmetic and the gradient entry points of ift::Tape.

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "ift/tree.hpp"  // Tape::gradient over parameter trees
#include "ift/var.hpp"

using ift::Tape;
using ift::Var;

namespace {

/// Central finite difference of a scalar function of one variable.
template <class F>
double central_difference(F f, double x, double h = 1e-6) {
  return (f(x + h) - f(x - h)) / (2.0 * h);
}

/// dy/dx of f at x with Var, on a fresh tape.
template <class F>
double var_derivative(F f, double x0) {
  Tape tape;
  const Var x = x0;
  const Var y = f(x);
  CHECK(y.value() == Approx(f(x0)).epsilon(1e-14));
  return tape.gradient(y, x);
}

}  // namespace

TEST_CASE("A Var made from a double is an independent variable on the active tape", "[var]") {
  Tape tape;
  CHECK(tape.size() == 0);
  const Var x = 2.5;
  CHECK(x.value() == 2.5);
  CHECK(ift::value(x) == 2.5);
  CHECK_FALSE(x.is_constant());
  CHECK(tape.size() == 1);
  CHECK(tape.gradient(x, x) == 1.0);

  const Var z;  // the constant 0 Eigen default-constructs
  CHECK(z.value() == 0.0);
  CHECK(z.is_constant());
  const Var c = Var::constant(3.0);
  CHECK(c.is_constant());
  CHECK(c.value() == 3.0);
  CHECK(tape.size() == 1);  // constants are not recorded
}

TEST_CASE("Operations on constants give constants and record nothing", "[var]") {
  Tape tape;
  const Var a = Var::constant(2.0);
  const Var b = Var::constant(5.0);
  const Var y = a * b + a / b - 3.0 * a;
  CHECK(y.is_constant());
  CHECK(y.value() == Approx(10.0 + 0.4 - 6.0));
  CHECK(tape.size() == 0);
  const Var x = 1.5;
  CHECK(tape.gradient(y, x) == 0.0);      // a constant output has no derivative
  CHECK(tape.gradient(x * a, a) == 0.0);  // nor has anything w.r.t. a constant
}

TEST_CASE("Arithmetic between two Vars has the analytic partial derivatives", "[var]") {
  for (const auto& [av, bv] : std::vector<std::array<double, 2>>{{1.5, -0.7}, {-3.0, 2.0}, {0.25, 8.0}}) {
    Tape tape;
    const Var a = av, b = bv;
    const auto [dsa, dsb] = tape.gradient(a + b, a, b);
    CHECK(dsa == 1.0);
    CHECK(dsb == 1.0);
    const auto [dda, ddb] = tape.gradient(a - b, a, b);
    CHECK(dda == 1.0);
    CHECK(ddb == -1.0);
    const auto [dma, dmb] = tape.gradient(a * b, a, b);
    CHECK(dma == bv);
    CHECK(dmb == av);
    const Var q = a / b;
    CHECK(q.value() == Approx(av / bv));
    const auto [dqa, dqb] = tape.gradient(q, a, b);
    CHECK(dqa == Approx(1.0 / bv));
    CHECK(dqb == Approx(-av / (bv * bv)));
    CHECK(tape.gradient(-a, a) == -1.0);
    CHECK(tape.gradient(+a, a) == 1.0);
  }
}

TEST_CASE("Arithmetic with a double on either side", "[var]") {
  Tape tape;
  const double av = 1.75, c = -2.5;
  const Var a = av;
  CHECK(tape.gradient(a + c, a) == 1.0);
  CHECK(tape.gradient(c + a, a) == 1.0);
  CHECK(tape.gradient(a - c, a) == 1.0);
  CHECK(tape.gradient(c - a, a) == -1.0);
  CHECK(tape.gradient(a * c, a) == c);
  CHECK(tape.gradient(c * a, a) == c);
  CHECK(tape.gradient(a / c, a) == Approx(1.0 / c));
  CHECK(tape.gradient(c / a, a) == Approx(-c / (av * av)));
  CHECK((c / a).value() == Approx(c / av));
  CHECK((a * 2).value() == 3.5);  // integers convert to double, not to a new Var
  CHECK(tape.gradient(3 * a - a / 2, a) == Approx(2.5));
}

TEST_CASE("Each arithmetic operator against central differences, Vars and doubles on either side", "[var]") {
  const auto plus = [](auto a, auto b) { return a + b; };
  const auto minus = [](auto a, auto b) { return a - b; };
  const auto times = [](auto a, auto b) { return a * b; };
  const auto divide = [](auto a, auto b) { return a / b; };
  const auto check = [](const char* name, auto op) {
    for (const auto& point : std::vector<std::array<double, 2>>{{0.7, 1.9}, {-2.5, 0.4}, {3.0, -1.25}}) {
      const double a0 = point[0], b0 = point[1];
      INFO(name << " at (" << a0 << ", " << b0 << ")");
      const double da_fd = central_difference([&](double a) { return op(a, b0); }, a0);
      const double db_fd = central_difference([&](double b) { return op(a0, b); }, b0);
      Tape tape;
      const Var a = a0, b = b0;
      const auto [da, db] = tape.gradient(op(a, b), a, b);
      CHECK(da == Approx(da_fd).epsilon(1e-7));
      CHECK(db == Approx(db_fd).epsilon(1e-7));
      CHECK(tape.gradient(op(a, b0), a) == Approx(da_fd).epsilon(1e-7));
      CHECK(tape.gradient(op(a0, b), b) == Approx(db_fd).epsilon(1e-7));
      CHECK(op(a, b).value() == op(a0, b0));
      CHECK(op(a, b0).value() == op(a0, b0));
      CHECK(op(a0, b).value() == op(a0, b0));
    }
  };
  check("+", plus);
  check("-", minus);
  check("*", times);
  check("/", divide);
  for (double x0 : {-1.5, 0.0, 2.0}) {
    Tape tape;
    const Var x = x0;
    CHECK(tape.gradient(-x, x) == Approx(central_difference([](double v) { return -v; }, x0)));
  }
}

TEST_CASE("Compound assignment records the same operations", "[var]") {
  Tape tape;
  const Var x = 3.0, w = 0.5;
  Var y = x;
  y += w;    // x + w
  y *= x;    // (x + w) x
  y -= 1.0;  // (x + w) x − 1
  y /= w;    // ((x + w) x − 1) / w
  y += 2.0;
  y *= 3.0;
  y -= x;
  y /= 2.0;  // (3 (((x + w) x − 1)/w + 2) − x) / 2
  const double xv = 3.0, wv = 0.5;
  CHECK(y.value() == Approx((3.0 * (((xv + wv) * xv - 1.0) / wv + 2.0) - xv) / 2.0));
  const auto [dx, dw] = tape.gradient(y, x, w);
  CHECK(dx == Approx((3.0 * (2.0 * xv + wv) / wv - 1.0) / 2.0));
  // ∂/∂w of ((x + w)x − 1)/w = (x·w − (x + w)x + 1)/w² = (1 − x²)/w²
  CHECK(dw == Approx(1.5 * (1.0 - xv * xv) / (wv * wv)));
}

TEST_CASE("Derivatives of a composite function match central differences", "[var]") {
  const auto f = [](auto x) { return (x * x * x - 2.0 * x) / (1.0 + x * x) + 4.0 / x; };
  const auto analytic = [](double x) {
    const double u = x * x * x - 2.0 * x, v = 1.0 + x * x;
    return ((3.0 * x * x - 2.0) * v - u * 2.0 * x) / (v * v) - 4.0 / (x * x);
  };
  for (double x : {-2.0, -0.5, 0.3, 1.0, 3.7}) {
    const double d = var_derivative(f, x);
    CHECK(d == Approx(analytic(x)).epsilon(1e-13));
    CHECK(d == Approx(central_difference(f, x)).epsilon(1e-7));
  }
}

TEST_CASE("A variable used many times accumulates its adjoint", "[var]") {
  Tape tape;
  const Var x = 1.1;
  Var y = 0.0;
  for (int k = 0; k < 10; ++k) y += x * x;
  CHECK(tape.gradient(y, x) == Approx(20.0 * 1.1));
}

TEST_CASE("Comparisons compare values, with Vars or doubles on either side", "[var]") {
  Tape tape;
  const Var a = 1.0, b = 2.0;
  CHECK(a < b);
  CHECK(a <= b);
  CHECK(b > a);
  CHECK(b >= a);
  CHECK(a != b);
  CHECK(a == Var::constant(1.0));
  CHECK(a == 1.0);
  CHECK(1.0 == a);
  CHECK(a < 1.5);
  CHECK(0.5 < a);
  CHECK(a >= 1);
  CHECK(3 > b);
  CHECK_FALSE(a > 1.0);
  CHECK(a != 2.0);
  const std::size_t before = tape.size();
  CHECK(std::max(a, b) == b);    // std::max through operator<
  CHECK(tape.size() == before);  // comparisons record nothing
}

TEST_CASE("A Var prints its value", "[var]") {
  Tape tape;
  const Var x = 0.25;
  std::ostringstream out;
  out << x;
  CHECK(out.str() == "0.25");
}

TEST_CASE("gradient returns one double, an array, or an Eigen object of the input's shape", "[var][tape]") {
  Tape tape;
  const Var a = 2.0, b = -1.0, c = 0.5;
  const Var y = a * b * c + a * a;
  CHECK(tape.gradient(y, a) == Approx(-0.5 + 4.0));
  const std::array<double, 3> g = tape.gradient(y, a, b, c);
  CHECK(g[0] == Approx(-0.5 + 4.0));
  CHECK(g[1] == Approx(1.0));
  CHECK(g[2] == Approx(-2.0));

  Eigen::Matrix<Var, 3, 1> v(a, b, c);
  const Eigen::Vector3d gv = tape.gradient(y, v);
  CHECK(gv(0) == Approx(3.5));
  CHECK(gv(1) == Approx(1.0));
  CHECK(gv(2) == Approx(-2.0));

  Eigen::Matrix<Var, 1, Eigen::Dynamic> row(3);
  row << c, a, b;
  const Eigen::RowVectorXd grow = tape.gradient(y, row);
  CHECK(grow.size() == 3);
  CHECK(grow(0) == Approx(-2.0));
  CHECK(grow(1) == Approx(3.5));

  Eigen::Matrix<Var, 2, 2, Eigen::RowMajor> m;
  m << a, b, c, Var::constant(7.0);
  const Eigen::Matrix<double, 2, 2, Eigen::RowMajor> gm = tape.gradient(y, m);
  CHECK(gm(0, 0) == Approx(3.5));
  CHECK(gm(0, 1) == Approx(1.0));
  CHECK(gm(1, 0) == Approx(-2.0));
  CHECK(gm(1, 1) == 0.0);

  const Eigen::Array<Var, Eigen::Dynamic, 1> arr = v.array();
  const Eigen::ArrayXd garr = tape.gradient(y, arr);
  CHECK(garr(2) == Approx(-2.0));

  const Eigen::Vector2d ghead = tape.gradient(y, v.tail<2>());  // an expression: its plain shape
  CHECK(ghead(0) == Approx(1.0));
  CHECK(ghead(1) == Approx(-2.0));
}

TEST_CASE("Several outputs are differentiated in turn on one recording", "[var][tape]") {
  Tape tape;
  const Var x = 0.7, y = 1.3;
  const Var f = x * y;
  const Var g = x / y;
  const Var h = f + g;
  const std::size_t recorded = tape.size();
  for (int repeat = 0; repeat < 2; ++repeat) {
    CHECK(tape.gradient(f, x) == Approx(1.3));
    CHECK(tape.gradient(g, y) == Approx(-0.7 / (1.3 * 1.3)));
    CHECK(tape.gradient(h, x) == Approx(1.3 + 1.0 / 1.3));
    CHECK(tape.gradient(f, y) == Approx(0.7));
  }
  CHECK(tape.size() == recorded);     // sweeping does not record
  CHECK(tape.gradient(x, f) == 0.0);  // an input does not depend on a later variable
}

TEST_CASE("backward seeds several outputs and adjoint reads the result", "[var][tape]") {
  Tape tape;
  const Var x = 2.0, y = 3.0;
  const Var f = x * y;        // ∂f = (3, 2)
  const Var g = x + 4.0 * y;  // ∂g = (1, 4)
  const std::array<Var, 2> outputs{f, g};
  const std::array<double, 2> seeds{2.0, -1.0};
  tape.backward(outputs, seeds);
  CHECK(tape.adjoint(x) == Approx(2.0 * 3.0 - 1.0));
  CHECK(tape.adjoint(y) == Approx(2.0 * 2.0 - 4.0));
  CHECK(tape.adjoint(f) == 2.0);
  CHECK(tape.adjoint(Var::constant(1.0)) == 0.0);

  const std::array<Var, 2> twice{f, f};  // a repeated output's seeds add up
  const std::array<double, 2> ones{1.0, 1.0};
  tape.backward(twice, ones);
  CHECK(tape.adjoint(x) == Approx(6.0));

  tape.backward(g);  // one output, seed 1
  CHECK(tape.adjoint(y) == Approx(4.0));
  const Var later = x * 2.0;  // recorded after the sweep
  CHECK(tape.adjoint(later) == 0.0);

  const std::array<double, 1> one_seed{1.0};
  CHECK_THROWS_AS(tape.backward(outputs, one_seed), std::invalid_argument);
}

namespace {
template <class T>
struct Para {
  T alpha;
  T beta;
};
}  // namespace

TEST_CASE("gradient w.r.t. a parameter tree returns the tree rebound to double", "[var][tape][tree]") {
  Tape tape;
  const Para<Var> p{1.5, -0.5};
  const std::array<Var, 3> arr{Var(1.0), Var(2.0), Var(3.0)};
  Eigen::Matrix<Var, 2, 1> vec(Var(0.25), Var(4.0));
  const std::tuple<Var, double, Eigen::Matrix<Var, 2, 1>> mixed{p.alpha, 7.0, vec};

  const Var y = p.alpha * p.beta + arr[0] * arr[1] * arr[2] + vec(0) * vec(1) + 7.0 * p.alpha;

  const Para<double> gp = tape.gradient(y, p);
  CHECK(gp.alpha == Approx(-0.5 + 7.0));
  CHECK(gp.beta == Approx(1.5));
  const std::array<double, 3> garr = tape.gradient(y, arr);
  CHECK(garr[0] == Approx(6.0));
  CHECK(garr[1] == Approx(3.0));
  CHECK(garr[2] == Approx(2.0));
  const std::tuple<double, double, Eigen::Vector2d> gm = tape.gradient(y, mixed);
  CHECK(std::get<0>(gm) == Approx(6.5));
  CHECK(std::get<1>(gm) == 0.0);  // a double leaf is a constant
  CHECK(std::get<2>(gm)(0) == Approx(4.0));
  CHECK(std::get<2>(gm)(1) == Approx(0.25));
  const std::pair<Var, Var> pair{p.beta, arr[2]};
  const std::pair<double, double> gpair = tape.gradient(y, pair);
  CHECK(gpair.first == Approx(1.5));
  CHECK(gpair.second == Approx(2.0));
}
