#pragma once
// Checks a generic scalar function at every forward-mode scalar type, in the manner of Stan's
// expect_ad: `f` is a generic lambda, evaluated at double and at Dual<double>, Dual<double, 3>,
// Dual<double, Dynamic>, Dual<Dual<double>> (and Dual<float>), and its derivatives are compared
// with analytic values and with fourth-order central finite differences of the plain function.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>

#include "ift/dual.hpp"

namespace ift_test {

using D1 = ift::Dual<double>;
using D3 = ift::Dual<double, 3>;
using DX = ift::Dual<double, ift::Dynamic>;
using DD = ift::Dual<ift::Dual<double>>;
using I2 = ift::Dual<double, 2>;
using H2 = ift::Dual<I2, 2>;  // two directions over two directions: a Hessian

/// |actual − expected| ≤ rel·max(1, |expected|); equal infinities also match.
class Near : public Catch::MatcherBase<double> {
 public:
  Near(double expected, double rel) : expected_(expected), rel_(rel) {}
  bool match(const double& actual) const override {
    if (actual == expected_) return true;
    return std::abs(actual - expected_) <= rel_ * std::max(1.0, std::abs(expected_));
  }
  std::string describe() const override {
    std::ostringstream os;
    os.precision(17);
    os << "is within " << rel_ << " (relative) of " << expected_;
    return os.str();
  }

 private:
  double expected_, rel_;
};

inline Near near(double expected, double rel = 1e-12) { return Near(expected, rel); }

/// Tolerance of a derivative against a finite difference.
inline constexpr double fd_tolerance = 1e-7;

/// Fourth-order central difference of a plain function g at x.
template <class G>
double finite_difference(G&& g, double x) {
  const double h = 1e-3 * std::max(1.0, std::abs(x));
  return (8 * (g(x + h) - g(x - h)) - (g(x + 2 * h) - g(x - 2 * h))) / (12 * h);
}

/// Checks f: ℝ → ℝ at every point against its analytic first and second derivatives `df`, `d2f`.
template <class F, class DF, class D2F>
void check_unary(F f, DF df, D2F d2f, std::initializer_list<double> points) {
  for (const double x : points) {
    INFO("x = " << x);
    const double fx = f(x), d1 = df(x), d2 = d2f(x);

    const D1 y = f(D1(x, 1.0));
    CHECK_THAT(y.a, near(fx, 1e-14));
    CHECK_THAT(y.v[0], near(d1));
    CHECK_THAT(y.v[0], near(finite_difference(f, x), fd_tolerance));

    // Three directions with tangent (1, 0, −2.5): the result is f'·t and the zero stays exactly 0.
    const D3 y3 = f(D3(x, Eigen::Vector3d(1.0, 0.0, -2.5)));
    CHECK_THAT(y3.a, near(fx, 1e-14));
    CHECK_THAT(y3.v[0], near(d1));
    CHECK(y3.v[1] == 0.0);
    CHECK_THAT(y3.v[2], near(-2.5 * d1));

    const DX yx = f(DX(x, Eigen::Vector3d(1.0, 0.0, -2.5)));
    REQUIRE(yx.v.size() == 3);
    CHECK_THAT(yx.v[0], near(d1));
    CHECK(yx.v[1] == 0.0);
    CHECK_THAT(yx.v[2], near(-2.5 * d1));
    // A run-time-sized constant stays a constant: no tangent storage.
    const DX constant = f(DX(x));
    CHECK_THAT(constant.a, near(fx, 1e-14));
    CHECK(constant.v.size() == 0);

    // Second order: x = (x + ε₁) + (1 + 0 ε₁) ε₂ gives f'' in the ε₁ε₂ part.
    const DD z = f(DD(D1(x, 1.0), D1(1.0, 0.0)));
    CHECK_THAT(z.a.a, near(fx, 1e-14));
    CHECK_THAT(z.a.v[0], near(d1));
    CHECK_THAT(z.v[0].a, near(d1));
    CHECK_THAT(z.v[0].v[0], near(d2, 1e-11));
    CHECK_THAT(z.v[0].v[0],
               near(finite_difference([&](double t) { return f(D1(t, 1.0)).v[0]; }, x), fd_tolerance));

    const auto yf = f(ift::Dual<float>(static_cast<float>(x), 1.0f));
    CHECK_THAT(static_cast<double>(yf.v[0]), near(d1, 1e-4));
  }
}

/// Analytic first and second partial derivatives of f(x, y).
struct Partials {
  double fx, fy, fxx, fxy, fyy;
};

/// x with an outer tangent eᵢ (i = 0, 1) over a value with inner tangent eᵢ: Hessian seeding.
inline H2 hessian_seed(double x, int i) {
  const Eigen::Vector2d e = Eigen::Vector2d::Unit(i);
  H2::tangent_type outer;
  outer << I2(e[0]), I2(e[1]);
  return H2(I2(x, e), outer);
}

/// Checks f: ℝ² → ℝ at every point against its analytic partials, including every combination of a
/// dual with a constant (`double`, or the value type one level down) on either side.
template <class F, class P>
void check_binary(F f, P partials, std::initializer_list<std::pair<double, double>> points) {
  for (const auto& point : points) {
    const double x = point.first, y = point.second;
    INFO("(x, y) = (" << x << ", " << y << ")");
    const double fxy_value = f(x, y);
    const Partials p = partials(x, y);
    const double fd_x = finite_difference([&](double t) { return f(t, y); }, x);
    const double fd_y = finite_difference([&](double t) { return f(x, t); }, y);

    const D1 gx = f(D1(x, 1.0), D1(y, 0.0));
    const D1 gy = f(D1(x, 0.0), D1(y, 1.0));
    CHECK_THAT(gx.a, near(fxy_value, 1e-14));
    CHECK_THAT(gx.v[0], near(p.fx));
    CHECK_THAT(gy.v[0], near(p.fy));
    CHECK_THAT(gx.v[0], near(fd_x, fd_tolerance));
    CHECK_THAT(gy.v[0], near(fd_y, fd_tolerance));

    // A constant on either side.
    const D1 cx = f(D1(x, 1.0), y);
    const D1 cy = f(x, D1(y, 1.0));
    CHECK_THAT(cx.a, near(fxy_value, 1e-14));
    CHECK_THAT(cy.a, near(fxy_value, 1e-14));
    CHECK_THAT(cx.v[0], near(p.fx));
    CHECK_THAT(cy.v[0], near(p.fy));

    // Three directions: t_x = (1, 0, 2), t_y = (0, 0, −1).
    const D3 g3 = f(D3(x, Eigen::Vector3d(1.0, 0.0, 2.0)), D3(y, Eigen::Vector3d(0.0, 0.0, -1.0)));
    CHECK_THAT(g3.v[0], near(p.fx));
    CHECK(g3.v[1] == 0.0);
    CHECK_THAT(g3.v[2], near(2 * p.fx - p.fy));

    // Run-time directions, with an empty (constant) tangent on either side.
    const DX both = f(DX(x, Eigen::Vector3d(1.0, 0.0, 2.0)), DX(y, Eigen::Vector3d(0.0, 0.0, -1.0)));
    REQUIRE(both.v.size() == 3);
    CHECK_THAT(both.v[2], near(2 * p.fx - p.fy));
    const DX only_x = f(DX(x, Eigen::Vector3d(1.0, 0.0, 2.0)), DX(y));
    REQUIRE(only_x.v.size() == 3);
    CHECK_THAT(only_x.v[2], near(2 * p.fx));
    const DX only_y = f(DX(x), DX(y, Eigen::Vector3d(0.0, 0.0, -1.0)));
    REQUIRE(only_y.v.size() == 3);
    CHECK_THAT(only_y.v[2], near(-p.fy));
    const DX with_double = f(x, DX(y, Eigen::Vector3d(0.0, 0.0, -1.0)));
    REQUIRE(with_double.v.size() == 3);
    CHECK_THAT(with_double.v[2], near(-p.fy));

    // The Hessian from two directions over two directions.
    const H2 h = f(hessian_seed(x, 0), hessian_seed(y, 1));
    CHECK_THAT(h.a.a, near(fxy_value, 1e-14));
    CHECK_THAT(h.a.v[0], near(p.fx));
    CHECK_THAT(h.a.v[1], near(p.fy));
    CHECK_THAT(h.v[0].a, near(p.fx));
    CHECK_THAT(h.v[1].a, near(p.fy));
    CHECK_THAT(h.v[0].v[0], near(p.fxx, 1e-11));
    CHECK_THAT(h.v[0].v[1], near(p.fxy, 1e-11));
    CHECK_THAT(h.v[1].v[0], near(p.fxy, 1e-11));
    CHECK_THAT(h.v[1].v[1], near(p.fyy, 1e-11));
    CHECK_THAT(
        h.v[0].v[0],
        near(finite_difference([&](double t) { return f(D1(t, 1.0), D1(y, 0.0)).v[0]; }, x), fd_tolerance));
    CHECK_THAT(
        h.v[0].v[1],
        near(finite_difference([&](double t) { return f(D1(x, 1.0), D1(t, 0.0)).v[0]; }, y), fd_tolerance));

    // Nested duals with a plain constant, and with a constant of the value type one level down
    // (its inner tangent e₁ still counts: the outer ε₂ sees it as constant, the inner ε₁ does not).
    const H2 hx = f(hessian_seed(x, 0), y);
    CHECK_THAT(hx.v[0].v[0], near(p.fxx, 1e-11));
    const H2 hy = f(x, hessian_seed(y, 1));
    CHECK_THAT(hy.v[1].v[1], near(p.fyy, 1e-11));
    const H2 hxt = f(hessian_seed(x, 0), I2(y, Eigen::Vector2d(0.0, 1.0)));
    CHECK_THAT(hxt.a.v[1], near(p.fy));
    CHECK_THAT(hxt.v[0].v[1], near(p.fxy, 1e-11));
    CHECK(hxt.v[1].a == 0.0);
    const H2 hty = f(I2(x, Eigen::Vector2d(1.0, 0.0)), hessian_seed(y, 1));
    CHECK_THAT(hty.a.v[0], near(p.fx));
    CHECK_THAT(hty.v[1].v[0], near(p.fxy, 1e-11));
  }
}

}  // namespace ift_test
