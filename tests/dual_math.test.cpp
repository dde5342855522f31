// The <cmath> functions of ift::Dual: first derivatives against analytic values and finite
// differences, second derivatives through nesting, and the documented behavior at singular points.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <numbers>

#include "ift/dual.hpp"
#include "support/dual_check.hpp"

using ift::Dual;
using ift_test::check_binary;
using ift_test::check_unary;
using ift_test::D1;
using ift_test::D3;
using ift_test::DD;
using ift_test::DX;
using ift_test::near;
using ift_test::Partials;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double pi = std::numbers::pi;

double sign(double x) { return x > 0 ? 1.0 : -1.0; }

/// x seeded for first and second order: value x, ε₁ and ε₂ tangents 1.
DD second_order(double x) { return DD(D1(x, 1.0), D1(1.0, 0.0)); }

}  // namespace

TEST_CASE("Dual <cmath>: powers, exponentials and logarithms", "[dual][math]") {
  SECTION("abs, fabs") {
    check_unary(
        [](auto x) {
          using std::abs;
          return abs(x);
        },
        [](double x) { return sign(x); }, [](double) { return 0.0; }, {-1.5, 0.7, 3.0});
    check_unary(
        [](auto x) {
          using std::fabs;
          return fabs(x);
        },
        [](double x) { return sign(x); }, [](double) { return 0.0; }, {-1.5, 0.7});
  }
  SECTION("sqrt") {
    check_unary(
        [](auto x) {
          using std::sqrt;
          return sqrt(x);
        },
        [](double x) { return 0.5 / std::sqrt(x); }, [](double x) { return -0.25 / (x * std::sqrt(x)); },
        {0.25, 2.0, 9.0});
  }
  SECTION("cbrt") {
    check_unary(
        [](auto x) {
          using std::cbrt;
          return cbrt(x);
        },
        [](double x) { return 1 / (3 * std::cbrt(x) * std::cbrt(x)); },
        [](double x) { return -2 / (9 * std::pow(std::cbrt(x), 5)); }, {-8.0, 0.5, 27.0});
  }
  SECTION("exp, expm1") {
    check_unary(
        [](auto x) {
          using std::exp;
          return exp(x);
        },
        [](double x) { return std::exp(x); }, [](double x) { return std::exp(x); }, {-1.0, 0.5, 3.0});
    check_unary(
        [](auto x) {
          using std::expm1;
          return expm1(x);
        },
        [](double x) { return std::exp(x); }, [](double x) { return std::exp(x); }, {-0.7, 1e-3, 2.0});
  }
  SECTION("log, log1p, log2, log10") {
    check_unary(
        [](auto x) {
          using std::log;
          return log(x);
        },
        [](double x) { return 1 / x; }, [](double x) { return -1 / (x * x); }, {0.2, 1.0, 5.0});
    check_unary(
        [](auto x) {
          using std::log1p;
          return log1p(x);
        },
        [](double x) { return 1 / (1 + x); }, [](double x) { return -1 / ((1 + x) * (1 + x)); },
        {-0.5, 1e-3, 4.0});
    check_unary(
        [](auto x) {
          using std::log2;
          return log2(x);
        },
        [](double x) { return 1 / (x * std::numbers::ln2); },
        [](double x) { return -1 / (x * x * std::numbers::ln2); }, {0.3, 8.0});
    check_unary(
        [](auto x) {
          using std::log10;
          return log10(x);
        },
        [](double x) { return 1 / (x * std::numbers::ln10); },
        [](double x) { return -1 / (x * x * std::numbers::ln10); }, {0.3, 100.0});
  }
  SECTION("pow with a constant exponent or base") {
    check_unary(
        [](auto x) {
          using std::pow;
          return pow(x, 2.5);
        },
        [](double x) { return 2.5 * std::pow(x, 1.5); }, [](double x) { return 3.75 * std::pow(x, 0.5); },
        {0.5, 2.0});
    // An integer exponent: a negative base is fine.
    check_unary(
        [](auto x) {
          using std::pow;
          return pow(x, 3);
        },
        [](double x) { return 3 * x * x; }, [](double x) { return 6 * x; }, {-1.5, 2.0});
    check_unary(
        [](auto x) {
          using std::pow;
          return pow(x, -2.0);
        },
        [](double x) { return -2 / (x * x * x); }, [](double x) { return 6 / (x * x * x * x); }, {-1.5, 0.7});
    check_unary(
        [](auto x) {
          using std::pow;
          return pow(2.0, x);
        },
        [](double x) { return std::pow(2.0, x) * std::numbers::ln2; },
        [](double x) { return std::pow(2.0, x) * std::numbers::ln2 * std::numbers::ln2; }, {-1.0, 0.5, 3.0});
  }
}

TEST_CASE("Dual <cmath>: trigonometric and hyperbolic functions", "[dual][math]") {
  SECTION("sin, cos, tan") {
    check_unary(
        [](auto x) {
          using std::sin;
          return sin(x);
        },
        [](double x) { return std::cos(x); }, [](double x) { return -std::sin(x); }, {-1.2, 0.3, 2.5});
    check_unary(
        [](auto x) {
          using std::cos;
          return cos(x);
        },
        [](double x) { return -std::sin(x); }, [](double x) { return -std::cos(x); }, {-1.2, 0.3, 2.5});
    check_unary(
        [](auto x) {
          using std::tan;
          return tan(x);
        },
        [](double x) { return 1 + std::tan(x) * std::tan(x); },
        [](double x) { return 2 * std::tan(x) * (1 + std::tan(x) * std::tan(x)); }, {-1.2, 0.3, 2.5});
  }
  SECTION("asin, acos, atan") {
    check_unary(
        [](auto x) {
          using std::asin;
          return asin(x);
        },
        [](double x) { return 1 / std::sqrt(1 - x * x); },
        [](double x) { return x / std::pow(1 - x * x, 1.5); }, {-0.6, 0.1, 0.8});
    check_unary(
        [](auto x) {
          using std::acos;
          return acos(x);
        },
        [](double x) { return -1 / std::sqrt(1 - x * x); },
        [](double x) { return -x / std::pow(1 - x * x, 1.5); }, {-0.6, 0.1, 0.8});
    check_unary(
        [](auto x) {
          using std::atan;
          return atan(x);
        },
        [](double x) { return 1 / (1 + x * x); },
        [](double x) { return -2 * x / ((1 + x * x) * (1 + x * x)); }, {-2.0, 0.5, 10.0});
  }
  SECTION("sinh, cosh, tanh") {
    check_unary(
        [](auto x) {
          using std::sinh;
          return sinh(x);
        },
        [](double x) { return std::cosh(x); }, [](double x) { return std::sinh(x); }, {-1.0, 0.5, 2.0});
    check_unary(
        [](auto x) {
          using std::cosh;
          return cosh(x);
        },
        [](double x) { return std::sinh(x); }, [](double x) { return std::cosh(x); }, {-1.0, 0.5, 2.0});
    check_unary(
        [](auto x) {
          using std::tanh;
          return tanh(x);
        },
        [](double x) { return 1 - std::tanh(x) * std::tanh(x); },
        [](double x) { return -2 * std::tanh(x) * (1 - std::tanh(x) * std::tanh(x)); }, {-1.0, 0.5, 2.0});
  }
  SECTION("asinh, acosh, atanh") {
    check_unary(
        [](auto x) {
          using std::asinh;
          return asinh(x);
        },
        [](double x) { return 1 / std::sqrt(x * x + 1); },
        [](double x) { return -x / std::pow(x * x + 1, 1.5); }, {-3.0, 0.4, 20.0});
    check_unary(
        [](auto x) {
          using std::acosh;
          return acosh(x);
        },
        [](double x) { return 1 / std::sqrt(x * x - 1); },
        [](double x) { return -x / std::pow(x * x - 1, 1.5); }, {1.2, 3.0, 10.0});
    check_unary(
        [](auto x) {
          using std::atanh;
          return atanh(x);
        },
        [](double x) { return 1 / (1 - x * x); },
        [](double x) { return 2 * x / ((1 - x * x) * (1 - x * x)); }, {-0.5, 0.1, 0.8});
  }
}

TEST_CASE("Dual <cmath>: erf, erfc, floor, ceil and a composition", "[dual][math]") {
  SECTION("erf, erfc") {
    const double c = 2 / std::sqrt(pi);
    check_unary(
        [](auto x) {
          using std::erf;
          return erf(x);
        },
        [c](double x) { return c * std::exp(-x * x); },
        [c](double x) { return -2 * x * c * std::exp(-x * x); }, {-1.0, 0.3, 2.0});
    check_unary(
        [](auto x) {
          using std::erfc;
          return erfc(x);
        },
        [c](double x) { return -c * std::exp(-x * x); },
        [c](double x) { return 2 * x * c * std::exp(-x * x); }, {-1.0, 0.3, 2.0});
  }
  SECTION("floor, ceil: derivative 0") {
    check_unary(
        [](auto x) {
          using std::floor;
          return floor(x);
        },
        [](double) { return 0.0; }, [](double) { return 0.0; }, {-1.5, 0.3, 2.7});
    check_unary(
        [](auto x) {
          using std::ceil;
          return ceil(x);
        },
        [](double) { return 0.0; }, [](double) { return 0.0; }, {-1.5, 0.3, 2.7});
    const DX y = floor(DX(1.5, Eigen::Vector3d(1.0, 2.0, 3.0)));
    CHECK(y.a == 1.0);
    CHECK(y.v == Eigen::Vector3d::Zero());
  }
  SECTION("chain rule through a composition") {
    // f = sin(eˣ)·log1p(x²): f' = cos(eˣ)eˣ·L + sin(eˣ)·2x/(1+x²).
    const auto f = [](auto x) {
      using std::exp;
      using std::log1p;
      using std::sin;
      return sin(exp(x)) * log1p(x * x);
    };
    const auto df = [](double x) {
      return std::cos(std::exp(x)) * std::exp(x) * std::log1p(x * x) +
             std::sin(std::exp(x)) * 2 * x / (1 + x * x);
    };
    const auto d2f = [](double x) {
      const double e = std::exp(x), s = std::sin(e), c = std::cos(e), L = std::log1p(x * x);
      const double dL = 2 * x / (1 + x * x), d2L = (2 - 2 * x * x) / ((1 + x * x) * (1 + x * x));
      return (c * e - s * e * e) * L + 2 * c * e * dL + s * d2L;
    };
    check_unary(f, df, d2f, {-0.8, 0.4, 1.1});
  }
}

TEST_CASE("Dual <cmath>: two-argument functions", "[dual][math]") {
  SECTION("pow(x, y)") {
    check_binary(
        [](auto x, auto y) {
          using std::pow;
          return pow(x, y);
        },
        [](double x, double y) {
          const double p = std::pow(x, y), l = std::log(x);
          return Partials{y * p / x, p * l, y * (y - 1) * p / (x * x), p / x * (1 + y * l), p * l * l};
        },
        {std::pair{1.5, 2.5}, std::pair{0.5, -1.3}, std::pair{3.0, 0.5}});
  }
  SECTION("atan2(y, x) in all four quadrants and on the axes") {
    check_binary(
        [](auto y, auto x) {
          using std::atan2;
          return atan2(y, x);
        },
        [](double y, double x) {
          const double r2 = x * x + y * y, r4 = r2 * r2;
          return Partials{x / r2, -y / r2, -2 * x * y / r4, (y * y - x * x) / r4, 2 * x * y / r4};
        },
        {std::pair{1.0, 2.0}, std::pair{1.0, -2.0}, std::pair{-1.0, -2.0}, std::pair{-1.0, 2.0},
         std::pair{0.5, 1e-3}, std::pair{-3.0, 0.25}});
    // Across the branch cut the value jumps by 2π but the derivative is continuous.
    const D1 above = atan2(D1(1e-300, 1.0), D1(-2.0));
    const D1 below = atan2(D1(-1e-300, 1.0), D1(-2.0));
    CHECK_THAT(above.a, near(pi, 1e-15));
    CHECK_THAT(below.a, near(-pi, 1e-15));
    CHECK(above.v[0] == -0.5);
    CHECK(below.v[0] == -0.5);
  }
  SECTION("hypot") {
    check_binary(
        [](auto x, auto y) {
          using std::hypot;
          return hypot(x, y);
        },
        [](double x, double y) {
          const double h = std::hypot(x, y), h3 = h * h * h;
          return Partials{x / h, y / h, y * y / h3, -x * y / h3, x * x / h3};
        },
        {std::pair{3.0, 4.0}, std::pair{-1.0, 2.0}, std::pair{1e-3, -2.0}});
    // No overflow where x² would.
    CHECK_THAT(hypot(D1(3e200, 1.0), D1(4e200, 0.0)).v[0], near(0.6, 1e-15));
  }
  SECTION("fmax, fmin, max, min away from ties") {
    const auto first = [](double, double) { return Partials{1, 0, 0, 0, 0}; };
    const auto second = [](double, double) { return Partials{0, 1, 0, 0, 0}; };
    const auto larger_first = {std::pair{2.0, -1.0}, std::pair{0.5, 0.25}};
    const auto smaller_first = {std::pair{-2.0, 1.0}, std::pair{0.25, 0.5}};
    check_binary(
        [](auto x, auto y) {
          using std::fmax;
          return fmax(x, y);
        },
        first, larger_first);
    check_binary(
        [](auto x, auto y) {
          using std::fmax;
          return fmax(x, y);
        },
        second, smaller_first);
    check_binary(
        [](auto x, auto y) {
          using std::max;
          return max(x, y);
        },
        first, larger_first);
    check_binary(
        [](auto x, auto y) {
          using std::max;
          return max(x, y);
        },
        second, smaller_first);
    check_binary(
        [](auto x, auto y) {
          using std::fmin;
          return fmin(x, y);
        },
        second, larger_first);
    check_binary(
        [](auto x, auto y) {
          using std::fmin;
          return fmin(x, y);
        },
        first, smaller_first);
    check_binary(
        [](auto x, auto y) {
          using std::min;
          return min(x, y);
        },
        second, larger_first);
    check_binary(
        [](auto x, auto y) {
          using std::min;
          return min(x, y);
        },
        first, smaller_first);
  }
}

TEST_CASE("Dual <cmath>: sqrt and cbrt at 0", "[dual][math][edge]") {
  // Derivative +∞ times the tangent; a zero tangent component stays exactly 0, never 0·∞ = NaN.
  const D3 x(0.0, Eigen::Vector3d(1.0, 0.0, -2.0));
  for (const D3& r : {sqrt(x), cbrt(x)}) {
    CHECK(r.a == 0.0);
    CHECK(r.v[0] == inf);
    CHECK(r.v[1] == 0.0);
    CHECK(r.v[2] == -inf);
  }
  CHECK(sqrt(D1(0.0, 0.0)).v[0] == 0.0);
  CHECK(cbrt(D1(0.0, 0.0)).v[0] == 0.0);
  CHECK(sqrt(DX(0.0)).v.size() == 0);
  const DX dynamic = sqrt(DX(0.0, Eigen::Vector2d(0.0, 3.0)));
  CHECK(dynamic.v[0] == 0.0);
  CHECK(dynamic.v[1] == inf);
  // The Euclidean norm of a vector at the origin: zero tangents stay zero.
  const D1 origin(0.0, 0.0);
  CHECK(sqrt(origin * origin + origin * origin).v[0] == 0.0);
}

TEST_CASE("Dual <cmath>: abs at 0 and hypot at the origin take the zero subgradient", "[dual][math][edge]") {
  const D3 zero(0.0, Eigen::Vector3d(1.0, -2.0, 3.0));
  CHECK(abs(zero).v == Eigen::Vector3d::Zero());
  CHECK(abs(D3(-0.0, Eigen::Vector3d(1.0, -2.0, 3.0))).a == 0.0);
  CHECK(fabs(zero).v == Eigen::Vector3d::Zero());
  CHECK(abs(DX(0.0, Eigen::Vector2d(1.0, 1.0))).v == Eigen::Vector2d::Zero());

  const D3 h = hypot(zero, D3(0.0, Eigen::Vector3d(0.0, 1.0, 0.0)));
  CHECK(h.a == 0.0);
  CHECK(h.v == Eigen::Vector3d::Zero());
  CHECK(hypot(zero, 0.0).v == Eigen::Vector3d::Zero());
  CHECK(hypot(0, zero).v == Eigen::Vector3d::Zero());
  const DX hd = hypot(DX(0.0, Eigen::Vector3d(1.0, 2.0, 3.0)), DX(0.0));
  CHECK(hd.v == Eigen::Vector3d::Zero());
}

TEST_CASE("Dual <cmath>: atan2 at the origin has no derivative", "[dual][math][edge]") {
  const D3 r = atan2(D3(0.0, Eigen::Vector3d(1.0, 0.0, 0.0)), D3(0.0, Eigen::Vector3d(0.0, 0.0, 2.0)));
  CHECK(r.a == 0.0);
  CHECK(std::isnan(r.v[0]));
  CHECK(r.v[1] == 0.0);
  CHECK(std::isnan(r.v[2]));
  CHECK(atan2(D1(0.0, 0.0), D1(0.0, 0.0)).v[0] == 0.0);
  CHECK(std::isnan(atan2(D1(0.0, 1.0), 0.0).v[0]));
  CHECK(atan2(0.0, D1(0.0, 0.0)).v[0] == 0.0);
}

TEST_CASE("Dual <cmath>: pow at a negative or zero base", "[dual][math][edge]") {
  SECTION("negative base, integer exponent: finite derivative, no log of a negative number") {
    const D1 x(-2.0, 1.0);
    CHECK(pow(x, 3).a == -8.0);
    CHECK(pow(x, 3).v[0] == 12.0);
    CHECK(pow(x, D1(3.0, 0.0)).v[0] == 12.0);
    CHECK(pow(x, 2.0).v[0] == -4.0);
    CHECK(pow(-2.0, D1(3.0, 0.0)).v[0] == 0.0);
    // Moving the exponent leaves the real numbers: NaN in exactly that direction.
    const D3 r = pow(D3(-2.0, Eigen::Vector3d(1.0, 0.0, 0.0)), D3(3.0, Eigen::Vector3d(0.0, 0.0, 1.0)));
    CHECK(r.a == -8.0);
    CHECK(r.v[0] == 12.0);
    CHECK(r.v[1] == 0.0);
    CHECK(std::isnan(r.v[2]));
    CHECK(std::isnan(pow(-2.0, D1(3.0, 1.0)).v[0]));
    // Second derivative of x³ at −2 is 6x = −12.
    CHECK(pow(second_order(-2.0), 3).v[0].v[0] == -12.0);
    CHECK(pow(second_order(-2.0), DD(3.0)).v[0].v[0] == -12.0);
  }
  SECTION("zero base, constant exponent") {
    const D1 x(0.0, 1.0);
    CHECK(pow(x, 2.0).a == 0.0);
    CHECK(pow(x, 2.0).v[0] == 0.0);
    CHECK(pow(x, 1.0).v[0] == 1.0);
    CHECK(pow(x, 0.5).v[0] == inf);
    CHECK(pow(x, 0.0).a == 1.0);
    CHECK(pow(x, 0.0).v[0] == 0.0);
    CHECK(pow(x, -1.0).a == inf);
    CHECK(pow(x, -1.0).v[0] == -inf);
    const D3 y = pow(D3(0.0, Eigen::Vector3d(1.0, 0.0, 0.0)), 0.5);
    CHECK(y.v == Eigen::Vector3d(inf, 0.0, 0.0));
    // Second derivatives at 0 survive: (x²)'' = 2, (x³)'' = 0.
    CHECK(pow(second_order(0.0), 2.0).v[0].v[0] == 2.0);
    CHECK(pow(second_order(0.0), 3.0).v[0].v[0] == 0.0);
    CHECK(pow(second_order(0.0), DD(2.0)).v[0].v[0] == 2.0);
  }
  SECTION("zero base, dual exponent") {
    // 0^y ≡ 0 for y > 0: no derivative in y.
    CHECK(pow(D1(0.0, 1.0), D1(2.0, 1.0)).v[0] == 0.0);
    CHECK(pow(D1(0.0, 0.0), D1(2.0, 1.0)).v[0] == 0.0);
    CHECK(pow(0.0, D1(2.0, 1.0)).v[0] == 0.0);
    CHECK(pow(D1(0.0, 1.0), D1(1.0, 0.0)).v[0] == 1.0);
    // x⁰ ≡ 1: no derivative in x, even at x = 0.
    CHECK(pow(D1(0.0, 1.0), D1(0.0, 0.0)).a == 1.0);
    CHECK(pow(D1(0.0, 1.0), D1(0.0, 0.0)).v[0] == 0.0);
    // 0^y jumps at y = 0 (and is infinite below): the y-derivative is −∞.
    CHECK(pow(D1(0.0, 0.0), D1(0.0, 1.0)).v[0] == -inf);
    CHECK(pow(0.0, D1(-1.0, 1.0)).v[0] == -inf);
    CHECK(pow(0.0, D1(-1.0, 0.0)).v[0] == 0.0);
  }
}

TEST_CASE("Dual <cmath>: min, max, fmin, fmax ties, NaN and constants", "[dual][math][edge]") {
  const D1 a(1.0, 5.0), b(1.0, 7.0), nan(std::numeric_limits<double>::quiet_NaN(), 3.0);
  CHECK(max(a, b).v[0] == 5.0);
  CHECK(min(a, b).v[0] == 5.0);
  CHECK(fmax(a, b).v[0] == 5.0);
  CHECK(fmin(a, b).v[0] == 5.0);
  CHECK(fmax(nan, a).v[0] == 5.0);
  CHECK(fmax(a, nan).v[0] == 5.0);
  CHECK(fmin(nan, a).v[0] == 5.0);
  CHECK(fmin(a, std::numeric_limits<double>::quiet_NaN()).v[0] == 5.0);
  CHECK(std::isnan(max(nan, a).a));  // std::max semantics: (nan < a) is false, so nan
  CHECK(max(a, 2.0).a == 2.0);
  CHECK(max(a, 2.0).v[0] == 0.0);
  CHECK(min(2, a).v[0] == 5.0);
  const DX dynamic = fmax(DX(1.0, Eigen::Vector3d(1.0, 2.0, 3.0)), 4.0);
  CHECK(dynamic.a == 4.0);
  CHECK(dynamic.v == Eigen::Vector3d::Zero());
}

TEST_CASE("Dual classification: finite, infinite and NaN partition every dual", "[dual][math][edge]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(isfinite(D1(1.0, 2.0)));
  CHECK_FALSE(isinf(D1(1.0, 2.0)));
  CHECK_FALSE(isnan(D1(1.0, 2.0)));
  // A finite value with a NaN or infinite tangent is not finite: the derivative is broken.
  CHECK_FALSE(isfinite(D1(1.0, nan)));
  CHECK(isnan(D1(1.0, nan)));
  CHECK_FALSE(isfinite(D1(1.0, inf)));
  CHECK(isinf(D1(1.0, inf)));
  CHECK(isinf(D1(-inf, 0.0)));
  CHECK(isnan(D1(inf, nan)));
  CHECK_FALSE(isinf(D1(inf, nan)));
  CHECK(isnan(D1(nan, 0.0)));
  CHECK(isfinite(DX(1.0)));
  CHECK_FALSE(isfinite(DD(D1(1.0, nan))));
  CHECK(isnan(DD(D1(1.0, 0.0), D1(0.0, nan))));
  for (const double value : {0.0, inf, nan})
    for (const double tangent : {-1.0, -inf, nan}) {
      const D3 x(value, Eigen::Vector3d(0.0, tangent, 2.0));
      CHECK(int(isfinite(x)) + int(isinf(x)) + int(isnan(x)) == 1);
    }
}
