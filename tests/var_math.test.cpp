// The <cmath> set on ift::Var: values, analytic derivatives, central differences and the edge
// conventions (√ and ∛ at 0, |x| at 0, hypot at the origin, negative bases, atan2 quadrants).

#include <catch2/catch.hpp>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <numbers>
#include <string>

#include "ift/var.hpp"

using ift::Tape;
using ift::Var;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double not_a_number_value = std::numeric_limits<double>::quiet_NaN();

/// Central difference with a step relative to |x|.
template <class F>
double central_difference(F f, double x) {
  const double h = 1e-6 * std::max(1.0, std::abs(x));
  return (f(x + h) - f(x - h)) / (2.0 * h);
}

/// Checks f on Var at each point: the value against f on double, the derivative against the
/// analytic `df` (tight) and a central difference (loose).
template <class F, class DF>
void check_unary(const std::string& name, F f, DF df, std::initializer_list<double> points) {
  for (double x0 : points) {
    INFO(name << " at x = " << x0);
    Tape tape;
    const Var x = x0;
    const Var y = f(x);
    CHECK(y.value() == Approx(f(x0)).epsilon(1e-15));
    const double d = tape.gradient(y, x);
    CHECK(d == Approx(df(x0)).epsilon(1e-12));
    CHECK(d == Approx(central_difference(f, x0)).epsilon(1e-6).margin(1e-9));
  }
}

/// For f(a, b): partials of the Var–Var, Var–double and double–Var versions against analytic
/// partials and central differences in each argument.
template <class F, class DA, class DB>
void check_binary(const std::string& name, F f, DA da, DB db,
                  std::initializer_list<std::pair<double, double>> points) {
  for (const auto& point : points) {
    const double a0 = point.first, b0 = point.second;
    INFO(name << " at (" << a0 << ", " << b0 << ")");
    const auto fa = [&](double a) { return f(a, b0); };
    const auto fb = [&](double b) { return f(a0, b); };
    Tape tape;
    const Var a = a0, b = b0;
    const Var y = f(a, b);
    CHECK(y.value() == Approx(f(a0, b0)).epsilon(1e-15));
    const auto [ga, gb] = tape.gradient(y, a, b);
    CHECK(ga == Approx(da(a0, b0)).epsilon(1e-12));
    CHECK(gb == Approx(db(a0, b0)).epsilon(1e-12));
    CHECK(ga == Approx(central_difference(fa, a0)).epsilon(1e-6).margin(1e-9));
    CHECK(gb == Approx(central_difference(fb, b0)).epsilon(1e-6).margin(1e-9));

    const Var ya = f(a, b0);  // double on the right
    CHECK(ya.value() == Approx(f(a0, b0)).epsilon(1e-15));
    CHECK(tape.gradient(ya, a) == Approx(da(a0, b0)).epsilon(1e-12));
    const Var yb = f(a0, b);  // double on the left
    CHECK(yb.value() == Approx(f(a0, b0)).epsilon(1e-15));
    CHECK(tape.gradient(yb, b) == Approx(db(a0, b0)).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("Exponentials, logarithms and roots", "[var][math]") {
  check_unary(
      "sqrt",
      [](auto x) {
        using std::sqrt;
        return sqrt(x);
      },
      [](double x) { return 0.5 / std::sqrt(x); }, {0.01, 0.5, 2.0, 100.0});
  check_unary(
      "cbrt",
      [](auto x) {
        using std::cbrt;
        return cbrt(x);
      },
      [](double x) { return 1.0 / (3.0 * std::cbrt(x) * std::cbrt(x)); }, {-8.0, -0.3, 0.2, 27.0});
  check_unary(
      "exp",
      [](auto x) {
        using std::exp;
        return exp(x);
      },
      [](double x) { return std::exp(x); }, {-3.0, 0.0, 0.7, 5.0});
  check_unary(
      "expm1",
      [](auto x) {
        using std::expm1;
        return expm1(x);
      },
      [](double x) { return std::exp(x); }, {-2.0, 1e-9, 0.3, 4.0});
  check_unary(
      "log",
      [](auto x) {
        using std::log;
        return log(x);
      },
      [](double x) { return 1.0 / x; }, {0.1, 1.0, 7.5});
  check_unary(
      "log1p",
      [](auto x) {
        using std::log1p;
        return log1p(x);
      },
      [](double x) { return 1.0 / (1.0 + x); }, {-0.5, 1e-10, 3.0});
  check_unary(
      "log2",
      [](auto x) {
        using std::log2;
        return log2(x);
      },
      [](double x) { return 1.0 / (x * std::numbers::ln2); }, {0.25, 1.0, 9.0});
  check_unary(
      "log10",
      [](auto x) {
        using std::log10;
        return log10(x);
      },
      [](double x) { return 1.0 / (x * std::numbers::ln10); }, {0.01, 2.0, 1000.0});
}

TEST_CASE("Trigonometric and hyperbolic functions and their inverses", "[var][math]") {
  check_unary(
      "sin",
      [](auto x) {
        using std::sin;
        return sin(x);
      },
      [](double x) { return std::cos(x); }, {-2.0, 0.0, 1.0, 10.0});
  check_unary(
      "cos",
      [](auto x) {
        using std::cos;
        return cos(x);
      },
      [](double x) { return -std::sin(x); }, {-2.0, 0.0, 1.0, 10.0});
  check_unary(
      "tan",
      [](auto x) {
        using std::tan;
        return tan(x);
      },
      [](double x) { return 1.0 / (std::cos(x) * std::cos(x)); }, {-1.2, 0.0, 0.5, 1.3});
  check_unary(
      "asin",
      [](auto x) {
        using std::asin;
        return asin(x);
      },
      [](double x) { return 1.0 / std::sqrt(1.0 - x * x); }, {-0.9, 0.0, 0.4, 0.99});
  check_unary(
      "acos",
      [](auto x) {
        using std::acos;
        return acos(x);
      },
      [](double x) { return -1.0 / std::sqrt(1.0 - x * x); }, {-0.9, 0.0, 0.4, 0.99});
  check_unary(
      "atan",
      [](auto x) {
        using std::atan;
        return atan(x);
      },
      [](double x) { return 1.0 / (1.0 + x * x); }, {-5.0, 0.0, 0.8, 30.0});
  check_unary(
      "sinh",
      [](auto x) {
        using std::sinh;
        return sinh(x);
      },
      [](double x) { return std::cosh(x); }, {-2.0, 0.0, 1.5});
  check_unary(
      "cosh",
      [](auto x) {
        using std::cosh;
        return cosh(x);
      },
      [](double x) { return std::sinh(x); }, {-2.0, 0.0, 1.5});
  check_unary(
      "tanh",
      [](auto x) {
        using std::tanh;
        return tanh(x);
      },
      [](double x) { return 1.0 / (std::cosh(x) * std::cosh(x)); }, {-3.0, 0.0, 0.4, 2.0});
  check_unary(
      "asinh",
      [](auto x) {
        using std::asinh;
        return asinh(x);
      },
      [](double x) { return 1.0 / std::sqrt(x * x + 1.0); }, {-4.0, 0.0, 0.6, 1e3});
  check_unary(
      "acosh",
      [](auto x) {
        using std::acosh;
        return acosh(x);
      },
      [](double x) { return 1.0 / std::sqrt(x * x - 1.0); }, {1.1, 2.0, 50.0});
  check_unary(
      "atanh",
      [](auto x) {
        using std::atanh;
        return atanh(x);
      },
      [](double x) { return 1.0 / (1.0 - x * x); }, {-0.8, 0.0, 0.3, 0.95});
}

TEST_CASE("Error functions, absolute value and rounding", "[var][math]") {
  const double two_over_sqrt_pi = 2.0 / std::sqrt(std::numbers::pi);
  check_unary(
      "erf",
      [](auto x) {
        using std::erf;
        return erf(x);
      },
      [&](double x) { return two_over_sqrt_pi * std::exp(-x * x); }, {-1.5, 0.0, 0.3, 2.5});
  check_unary(
      "erfc",
      [](auto x) {
        using std::erfc;
        return erfc(x);
      },
      [&](double x) { return -two_over_sqrt_pi * std::exp(-x * x); }, {-1.5, 0.0, 0.3, 2.5});
  check_unary(
      "abs",
      [](auto x) {
        using std::abs;
        return abs(x);
      },
      [](double x) { return x > 0 ? 1.0 : -1.0; }, {-3.0, -0.1, 0.2, 5.0});
  check_unary(
      "fabs",
      [](auto x) {
        using std::fabs;
        return fabs(x);
      },
      [](double x) { return x > 0 ? 1.0 : -1.0; }, {-3.0, 0.2});
  check_unary(
      "floor",
      [](auto x) {
        using std::floor;
        return floor(x);
      },
      [](double) { return 0.0; }, {-2.5, 0.3, 7.9});
  check_unary(
      "ceil",
      [](auto x) {
        using std::ceil;
        return ceil(x);
      },
      [](double) { return 0.0; }, {-2.5, 0.3, 7.9});

  Tape tape;
  const Var x = 1.5;
  const Var y = floor(x);
  CHECK(y.value() == 1.0);
  CHECK_FALSE(y.is_constant());  // an intermediate: y·y depends on y
  CHECK(tape.gradient(y * y, y) == 2.0);
  CHECK(tape.gradient(y * y, x) == 0.0);
}

TEST_CASE("Binary functions of two Vars and of a Var and a double", "[var][math]") {
  check_binary(
      "pow",
      [](auto a, auto b) {
        using std::pow;
        return pow(a, b);
      },
      [](double a, double b) { return b * std::pow(a, b - 1.0); },
      [](double a, double b) { return std::pow(a, b) * std::log(a); },
      {{2.0, 3.0}, {0.5, -1.5}, {3.0, 0.25}});
  check_binary(
      "atan2",
      [](auto y, auto x) {
        using std::atan2;
        return atan2(y, x);
      },
      [](double y, double x) { return x / (x * x + y * y); },
      [](double y, double x) { return -y / (x * x + y * y); },
      {{1.0, 2.0}, {1.0, -2.0}, {-1.0, -2.0}, {-1.0, 2.0}, {0.5, 0.0}, {-2.0, 0.0}});
  check_binary(
      "hypot",
      [](auto a, auto b) {
        using std::hypot;
        return hypot(a, b);
      },
      [](double a, double b) { return a / std::hypot(a, b); },
      [](double a, double b) { return b / std::hypot(a, b); }, {{3.0, 4.0}, {-1.0, 0.5}, {1e200, 1e200}});
}

TEST_CASE("atan2 returns the angle in every quadrant", "[var][math]") {
  Tape tape;
  const double pi = std::numbers::pi;
  const struct {
    double y, x, angle;
  } cases[] = {{1, 1, pi / 4}, {1, -1, 3 * pi / 4}, {-1, -1, -3 * pi / 4}, {-1, 1, -pi / 4}, {0, -1, pi}};
  for (const auto& c : cases) {
    const Var y = c.y, x = c.x;
    const Var a = atan2(y, x);
    CHECK(a.value() == Approx(c.angle));
    const auto [dy, dx] = tape.gradient(a, y, x);
    const double r2 = c.x * c.x + c.y * c.y;
    CHECK(dy == Approx(c.x / r2));
    CHECK(dx == Approx(-c.y / r2).margin(1e-15));
  }
}

TEST_CASE("Edge conventions at singular points", "[var][math]") {
  Tape tape;
  const Var zero = 0.0;

  SECTION("sqrt and cbrt at 0 have derivative +inf, and a zero adjoint stays 0") {
    CHECK(tape.gradient(sqrt(zero), zero) == inf);
    CHECK(tape.gradient(cbrt(zero), zero) == inf);
    // 0·√x + x: the statement √x has adjoint 0 and is skipped, so no 0·∞ = NaN appears.
    CHECK(tape.gradient(0.0 * sqrt(zero) + zero, zero) == 1.0);
    CHECK(tape.gradient(zero * sqrt(zero) + 2.0 * zero, zero) ==
          2.0);  // √0 = 0 is the partial of the product
  }
  SECTION("abs at 0 has derivative 0") {
    CHECK(tape.gradient(abs(zero), zero) == 0.0);
    CHECK(tape.gradient(fabs(zero), zero) == 0.0);
  }
  SECTION("hypot at the origin has zero partials") {
    const Var other = 0.0;
    const auto [da, db] = tape.gradient(hypot(zero, other), zero, other);
    CHECK(da == 0.0);
    CHECK(db == 0.0);
    CHECK(tape.gradient(hypot(zero, 0.0), zero) == 0.0);
    CHECK(tape.gradient(hypot(0.0, zero), zero) == 0.0);
  }
  SECTION("pow with a negative base and an integer exponent is finite") {
    const Var a = -2.0;
    const Var cube = pow(a, 3.0);
    CHECK(cube.value() == -8.0);
    CHECK(tape.gradient(cube, a) == 12.0);
    CHECK(tape.gradient(pow(a, -2.0), a) == Approx(-2.0 * std::pow(-2.0, -3.0)));
    const Var n = 3.0;  // a variable exponent: the base partial stays finite
    const Var p = pow(a, n);
    CHECK(p.value() == -8.0);
    CHECK(tape.gradient(p, a) == 12.0);
    CHECK(std::isnan(tape.gradient(p, n)));  // no real (−2)ⁿ for nearby non-integer n
  }
  SECTION("pow at a zero base") {
    CHECK(tape.gradient(pow(zero, 2.0), zero) == 0.0);
    CHECK(tape.gradient(pow(zero, 1.0), zero) == 1.0);
    CHECK(tape.gradient(pow(zero, 0.0), zero) == 0.0);  // x⁰ = 1 is constant
    CHECK(tape.gradient(pow(zero, 0.5), zero) == inf);
    const Var b = 2.0, one = 1.0;
    const auto [da, db] = tape.gradient(pow(zero, b), zero, b);
    CHECK(da == 0.0);
    CHECK(db == 0.0);
    const auto [da1, db1] = tape.gradient(pow(zero, one), zero, one);
    CHECK(da1 == 1.0);
    CHECK(db1 == 0.0);
    CHECK(tape.gradient(pow(0.0, b), b) == 0.0);  // 0ᵇ = 0 for all b > 0
  }
  SECTION("pow with a constant positive base") {
    const Var b = 1.5;
    CHECK(tape.gradient(pow(2.0, b), b) == Approx(std::pow(2.0, 1.5) * std::log(2.0)));
    CHECK(tape.gradient(pow(2, b), b) == Approx(std::pow(2.0, 1.5) * std::log(2.0)));
  }
}

TEST_CASE("min, max, fmin and fmax select an operand and its derivative", "[var][math]") {
  Tape tape;
  const Var a = 1.0, b = 2.0;
  const std::size_t before = tape.size();
  CHECK(tape.gradient(min(a, b), a) == 1.0);
  CHECK(tape.gradient(min(a, b), b) == 0.0);
  CHECK(tape.gradient(max(a, b), b) == 1.0);
  CHECK(tape.gradient(max(a, b), a) == 0.0);
  CHECK(tape.gradient(fmin(a, b), a) == 1.0);
  CHECK(tape.gradient(fmax(a, b), b) == 1.0);
  CHECK(tape.size() == before);  // selection records nothing

  const Var tie = 1.0;
  CHECK(tape.gradient(min(a, tie), a) == 1.0);  // ties select the first argument, as std::min does
  CHECK(tape.gradient(max(a, tie), a) == 1.0);

  CHECK(tape.gradient(max(a, 0.0), a) == 1.0);
  CHECK(tape.gradient(max(a, 5.0), a) == 0.0);
  CHECK(max(a, 5.0).value() == 5.0);
  CHECK(tape.gradient(max(5.0, a), a) == 0.0);
  CHECK(tape.gradient(min(0.5, a), a) == 0.0);
  CHECK(tape.gradient(min(a, 3.0), a) == 1.0);
  CHECK(tape.gradient(fmin(a, 0.5), a) == 0.0);
  CHECK(tape.gradient(fmin(3.0, a), a) == 1.0);
  CHECK(tape.gradient(fmax(a, 0.5), a) == 1.0);
  CHECK(tape.gradient(fmax(3.0, a), a) == 0.0);

  const Var missing = not_a_number_value;
  CHECK(tape.gradient(fmax(missing, a), a) == 1.0);  // NaN is missing data
  CHECK(tape.gradient(fmin(a, missing), a) == 1.0);
  CHECK(fmax(missing, 2.0).value() == 2.0);
  CHECK(std::isnan(fmin(missing, missing).value()));
}

TEST_CASE("Classification looks at the value", "[var][math]") {
  Tape tape;
  const Var finite = 1.0, infinite = inf, not_a_number = not_a_number_value;
  CHECK(isfinite(finite));
  CHECK_FALSE(isfinite(infinite));
  CHECK_FALSE(isfinite(not_a_number));
  CHECK(isinf(infinite));
  CHECK(isinf(-infinite));
  CHECK_FALSE(isinf(finite));
  CHECK(isnan(not_a_number));
  CHECK_FALSE(isnan(finite));
  using std::isfinite;
  CHECK(isfinite(finite));  // found by ADL next to std's overloads
}
