// ift::Dual: construction, access, arithmetic (every operand combination and nesting level),
// comparisons, run-time tangent sizes, and the standard-library traits.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "ift/dual.hpp"
#include "support/dual_check.hpp"

using ift::Dual;
using ift::Dynamic;
using ift_test::D1;
using ift_test::D3;
using ift_test::DD;
using ift_test::DX;
using ift_test::near;

static_assert(std::is_same_v<D3::value_type, double>);
static_assert(std::is_same_v<D3::tangent_type, Eigen::Vector3d>);
static_assert(std::is_same_v<DX::tangent_type, Eigen::VectorXd>);
static_assert(std::is_same_v<DD::value_type, D1>);
static_assert(std::is_same_v<ift::value_type_t<DD>, D1>);
static_assert(std::is_same_v<ift::base_scalar_t<DD>, double>);
static_assert(std::is_convertible_v<double, DD> && std::is_convertible_v<int, DD> &&
              std::is_convertible_v<D1, DD>);
static_assert(!std::is_convertible_v<D1, double>, "a dual never silently drops its tangents");

TEST_CASE("Dual construction: constants, tangents, nesting", "[dual]") {
  SECTION("default is zero with a zero tangent") {
    const D3 x;
    CHECK(x.a == 0.0);
    CHECK(x.v == Eigen::Vector3d::Zero());
    CHECK(DX().v.size() == 0);
    const DD z;
    CHECK(z.a.a == 0.0);
    CHECK(z.a.v[0] == 0.0);
    CHECK(z.v[0].a == 0.0);
  }
  SECTION("constants from the value type and from any arithmetic type") {
    const D3 x = 2.5;
    CHECK(x.a == 2.5);
    CHECK(x.v == Eigen::Vector3d::Zero());
    const D1 i = 7;
    CHECK(i.a == 7.0);
    CHECK(i.v[0] == 0.0);
    const Dual<float> f = 0.1;
    CHECK(f.a == 0.1f);
    const DD nested = 2.0;
    CHECK(nested.a.a == 2.0);
    CHECK(nested.a.v[0] == 0.0);
    CHECK(nested.v[0].a == 0.0);
    CHECK(nested.v[0].v[0] == 0.0);
    const Dual<Dual<Dual<double>>> deep = 3;
    CHECK(deep.a.a.a == 3.0);
    const DD from_value = D1(1.5, 4.0);
    CHECK(from_value.a.v[0] == 4.0);
    CHECK(from_value.v[0].a == 0.0);
    CHECK(DX(1.0).v.size() == 0);
  }
  SECTION("value and tangents") {
    const D3 x(1.0, Eigen::Vector3d(1.0, 2.0, 3.0));
    CHECK(x.v == Eigen::Vector3d(1.0, 2.0, 3.0));
    const D3 expression(1.0, 2.0 * Eigen::Vector3d::Ones() - Eigen::Vector3d::UnitX());
    CHECK(expression.v == Eigen::Vector3d(1.0, 2.0, 2.0));
    const DX dynamic(1.0, Eigen::VectorXd::LinSpaced(4, 0.0, 3.0));
    CHECK(dynamic.v.size() == 4);
    CHECK(dynamic.v[3] == 3.0);
    const D1 scalar(2.0, -1.0);
    CHECK(scalar.v[0] == -1.0);
    const DD seeded(D1(2.0, 1.0), D1(1.0, 0.0));
    CHECK(seeded.a.v[0] == 1.0);
    CHECK(seeded.v[0].a == 1.0);
  }
  SECTION("value(), tangent() and ift::value") {
    D3 x(1.0, Eigen::Vector3d(1.0, 2.0, 3.0));
    x.value() = 4.0;
    x.tangent()[1] = -2.0;
    CHECK(x.a == 4.0);
    CHECK(x.v[1] == -2.0);
    const D3& cx = x;
    CHECK(&cx.value() == &x.a);
    CHECK(&cx.tangent() == &x.v);
    CHECK(&ift::value(cx) == &x.a);
    const DD z(D1(2.0, 1.0), D1(1.0, 0.0));
    static_assert(std::is_same_v<decltype(ift::value(z)), const D1&>);
    CHECK(ift::value(z).v[0] == 1.0);
    CHECK(ift::value(ift::value(z)) == 2.0);
    CHECK(ift::value(2.5) == 2.5);
    CHECK(ift::detail::to_double(z) == 2.0);
  }
  SECTION("assignment of constants zeroes the tangent") {
    D3 x(1.0, Eigen::Vector3d(1.0, 2.0, 3.0));
    x = 2.0;
    CHECK(x.a == 2.0);
    CHECK(x.v == Eigen::Vector3d::Zero());
    x = 5;
    CHECK(x.a == 5.0);
    DX y(1.0, Eigen::Vector2d(1.0, 2.0));
    y = 3.0;
    CHECK(y.a == 3.0);
    CHECK(y.v.isZero(0.0));
    DD z(D1(2.0, 1.0), D1(1.0, 0.0));
    z = 4;
    CHECK(z.a.a == 4.0);
    CHECK(z.a.v[0] == 0.0);
    CHECK(z.v[0].a == 0.0);
    z = D1(1.0, 2.0);
    CHECK(z.a.v[0] == 2.0);
    CHECK(z.v[0].a == 0.0);
  }
}

TEST_CASE("Dual arithmetic: derivatives at every scalar type and operand combination", "[dual]") {
  using ift_test::check_binary;
  using ift_test::check_unary;
  using ift_test::Partials;
  const auto points = {std::pair{1.5, -0.75}, std::pair{-2.0, 3.0}, std::pair{0.3, 0.4}};

  SECTION("x + y") {
    check_binary([](auto x, auto y) { return x + y; },
                 [](double, double) {
                   return Partials{1, 1, 0, 0, 0};
                 },
                 points);
  }
  SECTION("x - y") {
    check_binary([](auto x, auto y) { return x - y; },
                 [](double, double) {
                   return Partials{1, -1, 0, 0, 0};
                 },
                 points);
  }
  SECTION("x * y") {
    check_binary([](auto x, auto y) { return x * y; },
                 [](double x, double y) {
                   return Partials{y, x, 0, 1, 0};
                 },
                 points);
  }
  SECTION("x / y") {
    check_binary([](auto x, auto y) { return x / y; },
                 [](double x, double y) {
                   return Partials{1 / y, -x / (y * y), 0, -1 / (y * y), 2 * x / (y * y * y)};
                 },
                 points);
  }
  SECTION("compound assignment") {
    check_binary(
        [](auto x, auto y) {
          decltype(x + y) r = x;
          r += y;
          r *= y;
          r -= x;
          r /= y;
          return r;
        },
        // ((x + y)·y − x)/y = x + y − x/y
        [](double x, double y) {
          return Partials{1 - 1 / y, 1 + x / (y * y), 0, 1 / (y * y), -2 * x / (y * y * y)};
        },
        points);
  }
  SECTION("compound assignment with itself") {
    check_unary(
        [](auto x) {
          auto r = x;
          r *= r;
          r += r;
          r -= x;
          r /= x;
          return r;
        },  // 2x − 1
        [](double) { return 2.0; }, [](double) { return 0.0; }, {0.5, -3.0});
  }
  SECTION("unary minus and plus") {
    check_unary([](auto x) { return -x * +x; }, [](double x) { return -2 * x; }, [](double) { return -2.0; },
                {0.5, -3.0});
  }
  SECTION("a rational expression") {
    check_unary([](auto x) { return (x * x * x - 2.0 * x + 1) / (x * x + 1); },
                [](double x) {
                  const double u = x * x * x - 2 * x + 1, w = x * x + 1;
                  return ((3 * x * x - 2) * w - u * 2 * x) / (w * w);
                },
                [](double x) {
                  // f = x − 3x/(x²+1) + 1/(x²+1), differentiated twice by hand.
                  const double w = x * x + 1;
                  return -3 * (2 * x * x * x - 6 * x) / (w * w * w) + (6 * x * x - 2) / (w * w * w);
                },
                {0.5, -1.7, 2.0});
  }
}

TEST_CASE("Dual arithmetic with int, float and double constants at every nesting level", "[dual]") {
  const D1 x(2.0, 1.0);
  CHECK((x * 2).v[0] == 2.0);
  CHECK((2 * x).v[0] == 2.0);
  CHECK((x / 2).v[0] == 0.5);
  CHECK((2 / x).v[0] == -0.5);  // d(2/x) = −2/x²
  CHECK((x + 1).a == 3.0);
  CHECK((1 - x).v[0] == -1.0);
  CHECK((x * 0.5f).v[0] == 0.5);
  CHECK((3u + x).a == 5.0);

  // x = 2 seeded for first and second order: f = 2/x has f' = −1/2, f'' = 1/2.
  const DD z(D1(2.0, 1.0), D1(1.0, 0.0));
  const DD q = 2.0 / z;
  CHECK(q.a.a == 1.0);
  CHECK(q.v[0].a == -0.5);
  CHECK(q.v[0].v[0] == 0.5);
  const DD p = z * 2 * z;  // 2x²: f'' = 4
  CHECK(p.v[0].v[0] == 4.0);
  CHECK((z / 4.0f).v[0].a == 0.25);
  CHECK((1 - z).v[0].a == -1.0);
  // With the value type one level down: z·w for a w that depends on the inner direction only.
  const D1 w(3.0, 1.0);
  const DD zw = z * w;
  CHECK(zw.a.v[0] == 5.0);     // ∂/∂ε₁ (x·w) with both moving in ε₁: w + x
  CHECK(zw.v[0].a == 3.0);     // ∂/∂ε₂: only x moves, times w
  CHECK(zw.v[0].v[0] == 1.0);  // ∂²/∂ε₁∂ε₂ = ∂w/∂ε₁
  CHECK((w * z).v[0].v[0] == 1.0);
  CHECK((w - z).v[0].a == -1.0);
  CHECK((w / z).a.a == 1.5);

  Dual<float> f(2.0f, 1.0f);
  static_assert(std::is_same_v<decltype(f * 2.0), Dual<float>>);
  f *= 3.0;
  f += 1;
  CHECK(f.a == 7.0f);
  CHECK(f.v[0] == 3.0f);
}

TEST_CASE("Dual comparisons compare values only, recursively", "[dual]") {
  const D1 a(1.0, 5.0), b(2.0, -1.0), a2(1.0, -7.0);
  CHECK(a < b);
  CHECK(a <= b);
  CHECK(b > a);
  CHECK(b >= a);
  CHECK(a == a2);
  CHECK_FALSE(a != a2);
  CHECK(a != b);
  CHECK(a < 2.0);
  CHECK(2 > a);
  CHECK(a == 1);
  CHECK(1.0f == a);
  CHECK(a >= 1.0);
  CHECK_FALSE(a > 1.0);

  const DD z(D1(2.0, 1.0), D1(1.0, 0.0));
  CHECK(z == 2.0);
  CHECK(z > 1);
  CHECK(z == D1(2.0, 9.0));
  CHECK(D1(3.0) > z);
  CHECK(z < DD(3.0));

  const D1 nan(std::numeric_limits<double>::quiet_NaN(), 0.0);
  CHECK_FALSE(nan == nan);
  CHECK(nan != nan);
  CHECK_FALSE(nan < 1.0);
  CHECK_FALSE(nan >= 1.0);
}

TEST_CASE("Dual with run-time directions: empty tangents are zero, mismatched sizes throw", "[dual]") {
  const DX x(2.0, Eigen::Vector3d(1.0, 0.0, -1.0));
  const DX c(4.0);
  REQUIRE(c.v.size() == 0);
  SECTION("an empty tangent combines with any size") {
    for (const DX& r : {x + c, c + x, x - c, x * c, c * x, x / c, c / x}) CHECK(r.v.size() == 3);
    CHECK((c - x).v == Eigen::Vector3d(-1.0, 0.0, 1.0));
    CHECK((x * c).v == Eigen::Vector3d(4.0, 0.0, -4.0));
    CHECK((c / x).v == Eigen::Vector3d(-1.0, 0.0, 1.0));  // −4/x²
    CHECK((x / c).v == Eigen::Vector3d(0.25, 0.0, -0.25));
    CHECK((c + c).v.size() == 0);
    CHECK((c * c).v.size() == 0);
    DX y = c;
    y += x;
    CHECK(y.v == x.v);
    y = c;
    y *= x;
    CHECK(y.v == Eigen::Vector3d(4.0, 0.0, -4.0));
    y = c;
    y -= x;
    CHECK(y.v == -x.v);
    y = x;
    y /= c;
    CHECK(y.v == Eigen::Vector3d(0.25, 0.0, -0.25));
  }
  SECTION("nested run-time tangents") {
    using DDX = Dual<DX, Dynamic>;
    const DDX z(DX(2.0, Eigen::Vector2d(1.0, 0.0)), Eigen::VectorX<DX>::Constant(1, DX(1.0)));
    const DDX r = z * z + 3.0;
    CHECK(r.a.a == 7.0);
    CHECK(r.a.v == Eigen::Vector2d(4.0, 0.0));
    REQUIRE(r.v.size() == 1);
    CHECK(r.v[0].a == 4.0);
    REQUIRE(r.v[0].v.size() == 2);
    CHECK(r.v[0].v[0] == 2.0);
  }
  SECTION("two non-empty tangents of different sizes are an error") {
    const DX w(1.0, Eigen::Vector2d(1.0, 1.0));
    CHECK_THROWS_AS(x + w, std::invalid_argument);
    CHECK_THROWS_AS(x - w, std::invalid_argument);
    CHECK_THROWS_AS(x * w, std::invalid_argument);
    CHECK_THROWS_AS(w / x, std::invalid_argument);
    DX y = x;
    CHECK_THROWS_AS(y += w, std::invalid_argument);
    CHECK_THROWS_AS(y *= w, std::invalid_argument);
    CHECK_THROWS_AS(pow(x, w), std::invalid_argument);
    CHECK_THROWS_AS(atan2(x, w), std::invalid_argument);
    CHECK_THROWS_AS(hypot(x, w), std::invalid_argument);
    CHECK_THROWS_AS(max(x, w), std::invalid_argument);
    CHECK_THROWS_AS(fmin(w, x), std::invalid_argument);
    CHECK_THROWS_AS(hypot(DX(0.0, Eigen::Vector3d::Ones()), DX(0.0, Eigen::Vector2d::Ones())),
                    std::invalid_argument);
    CHECK_THROWS_WITH(x + w, Catch::Contains("sizes 3 and 2"));
  }
}

TEST_CASE("Dual traits: numeric_limits, common_type, printing", "[dual]") {
  using L = std::numeric_limits<D3>;
  STATIC_REQUIRE(L::is_specialized);
  STATIC_REQUIRE(L::is_signed);
  STATIC_REQUIRE(!L::is_integer);
  STATIC_REQUIRE(L::has_quiet_NaN);
  STATIC_REQUIRE(L::digits == std::numeric_limits<double>::digits);
  STATIC_REQUIRE(std::numeric_limits<DD>::digits10 == std::numeric_limits<double>::digits10);
  CHECK(L::epsilon().a == std::numeric_limits<double>::epsilon());
  CHECK(L::epsilon().v == Eigen::Vector3d::Zero());
  CHECK(L::max().a == std::numeric_limits<double>::max());
  CHECK(L::min().a == std::numeric_limits<double>::min());
  CHECK(L::lowest().a == -std::numeric_limits<double>::max());
  CHECK(L::infinity().a == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(L::quiet_NaN().a));
  CHECK(L::denorm_min().a == std::numeric_limits<double>::denorm_min());
  CHECK(L::round_error().a == 0.5);
  CHECK(std::numeric_limits<DD>::epsilon().a.a == std::numeric_limits<double>::epsilon());
  CHECK(std::numeric_limits<Dual<float>>::epsilon().a == std::numeric_limits<float>::epsilon());

  STATIC_REQUIRE(std::is_same_v<std::common_type_t<D1, double>, D1>);
  STATIC_REQUIRE(std::is_same_v<std::common_type_t<int, D1>, D1>);
  STATIC_REQUIRE(std::is_same_v<std::common_type_t<DD, D1>, DD>);
  STATIC_REQUIRE(std::is_same_v<std::common_type_t<D1, DD>, DD>);
  STATIC_REQUIRE(std::is_same_v<std::common_type_t<DD, float>, DD>);
  STATIC_REQUIRE(std::is_same_v<std::common_type_t<D3, D3>, D3>);

  std::ostringstream os;
  os << D3(1.5, Eigen::Vector3d(1.0, 0.0, -2.0)) << ' ' << DX(2.0) << ' ' << DD(D1(2.0, 1.0), D1(1.0, 0.0));
  CHECK(os.str() == "(1.5; 1, 0, -2) (2;) ((2; 1); (1; 0))");
}
