// ift::fixed_point: the seed problems at every scalar mode, implicit and unrolled, with struct parameters.

#include <catch2/catch.hpp>

#include "ift/fixed_point.hpp"
#include "support/modes.hpp"

namespace {

template <class T>
struct Para {
  T alpha;
  T beta;
};

// Seed 001: x = cos(a x + b). Implicit differentiation of x − cos(ax + b) = 0 gives
// dx/da = −x sin(u)/(1 + a sin u), dx/db = −sin(u)/(1 + a sin u), u = ax + b.
const auto cos_map = [](const auto& x, const auto& p) {
  using std::cos;
  return cos(p.alpha * x + p.beta);
};

double cos_fixed_point(double a, double b) {
  double x = 0;
  for (int k = 0; k < 10000; ++k) x = std::cos(a * x + b);
  return x;
}
double cos_dx_da(double a, double b) {
  const double x = cos_fixed_point(a, b), s = std::sin(a * x + b);
  return -x * s / (1 + a * s);
}

template <bool unrolled, class Solver>
void check_cos(const Solver& solver) {
  const double h = 1e-4;
  const ift_test::Expected e{cos_fixed_point(1, 0), cos_dx_da(1, 0),
                             (cos_dx_da(1 + h, 0) - cos_dx_da(1 - h, 0)) / (2 * h)};
  ift_test::check_scalar_modes<ift_test::modes_for<unrolled>>(
      [&](const auto& a) {
        using S = std::decay_t<decltype(a)>;
        const Para<S> p{a, S(0.0)};
        return ift::fixed_point(cos_map, 0.0, p, solver, ift_test::AdjointFor<unrolled>{}).x;
      },
      1.0, e, unrolled ? 1e-7 : 1e-8);
}

// Seed 002: F(x; α, β) = [√(α − x₀x₁), √((57 − x₁)/(β F₀))], fixed point (2, 3) at α = 10, β = 3, and
// ∂x/∂α = (37, −27)/205, ∂x/∂β = (36, −126)/205.
const auto seed002 = [](const auto& x, const auto& p) {
  using std::sqrt;
  using S = typename std::decay_t<decltype(x)>::Scalar;
  const S f0 = sqrt(p.alpha - x(0) * x(1));
  return Eigen::Matrix<S, 2, 1>(f0, sqrt((57 - x(1)) / (p.beta * f0)));
};

}  // namespace

TEST_CASE("fixed_point: seed x = cos(ax + b), Anderson", "[fixed_point]") {
  SECTION("implicit") { check_cos<false>(ift::Anderson{}); }
  SECTION("unrolled") { check_cos<true>(ift::Anderson{}); }
}

TEST_CASE("fixed_point: seed x = cos(ax + b), Iteration", "[fixed_point]") {
  SECTION("implicit") { check_cos<false>(ift::Iteration{}); }
  SECTION("unrolled") { check_cos<true>(ift::Iteration{}); }
}

TEST_CASE("fixed_point: seed published numbers for cos(ax + b)", "[fixed_point][seed]") {
  ift::Tape tape;
  const Para<ift::Var> p{1.0, 0.0};
  const ift::Var x = ift::fixed_point(cos_map, 0.0, p, ift::Iteration{}).x;
  CHECK_THAT(x.value(), Catch::Matchers::WithinAbs(0.7390851, 5e-8));
  const Para<double> g = tape.gradient(x, p);
  CHECK_THAT(g.alpha, Catch::Matchers::WithinAbs(-0.2974743, 5e-8));
  CHECK_THAT(g.beta, Catch::Matchers::WithinAbs(-0.4024899, 1e-7));

  // At a = −0.5, b = 0.5 the fixed point is x = 1 (cos 0) and the gradient vanishes: sin(ax + b) = 0.
  // Anderson stops at |F(x) − x| ≤ 1e-10, so x is within about 1e-10 of 1 and the gradient, taken at
  // that x, within about as much of 0.
  const Para<ift::Var> q{-0.5, 0.5};
  const ift::Var y = ift::fixed_point(cos_map, 0.0, q).x;
  CHECK_THAT(y.value(), Catch::Matchers::WithinAbs(1.0, 1e-9));
  const auto [ga, gb] = tape.gradient(y, q.alpha, q.beta);
  CHECK_THAT(ga, Catch::Matchers::WithinAbs(0.0, 1e-9));
  CHECK_THAT(gb, Catch::Matchers::WithinAbs(0.0, 1e-9));
}

TEST_CASE("fixed_point: seed 2-D map with struct parameters", "[fixed_point][seed]") {
  const Eigen::Vector2d start(1.5, 3.5);
  const Eigen::Matrix2d expected =
      (Eigen::Matrix2d() << 37, 36, -27, -126).finished() / 205.0;  // columns α, β

  SECTION("forward Jacobian in one pass, Dual<double, 2>") {
    using D = ift::Dual<double, 2>;
    const Para<D> p{D(10.0, Eigen::Vector2d(1, 0)), D(3.0, Eigen::Vector2d(0, 1))};
    for (const bool unrolled : {false, true}) {
      const Eigen::Matrix<D, 2, 1> x =
          unrolled ? ift::fixed_point(seed002, start, p, ift::Iteration{}, ift::Unrolled{}).x
                   : ift::fixed_point(seed002, start, p).x;
      CHECK_THAT(x(0).a, Catch::Matchers::WithinAbs(2.0, 1e-10));
      CHECK_THAT(x(1).a, Catch::Matchers::WithinAbs(3.0, 1e-10));
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) CHECK_THAT(x(i).v(j), Catch::Matchers::WithinAbs(expected(i, j), 1e-9));
    }
  }
  SECTION("reverse gradient of each output, Var") {
    ift::Tape tape;
    const Para<ift::Var> p{10.0, 3.0};
    const auto x = ift::fixed_point(seed002, start, p).x;
    for (int i = 0; i < 2; ++i) {
      const Para<double> g = tape.gradient(x(i), p);
      CHECK_THAT(g.alpha, Catch::Matchers::WithinAbs(expected(i, 0), 1e-9));
      CHECK_THAT(g.beta, Catch::Matchers::WithinAbs(expected(i, 1), 1e-9));
    }
  }
  SECTION("the implicit tape does not grow with the iteration count") {
    ift::Tape tape;
    const Para<ift::Var> p{10.0, 3.0};
    const std::size_t before = tape.bytes();
    (void)ift::fixed_point(seed002, start, p, ift::Iteration{.tol = 1e-6});
    const std::size_t loose = tape.bytes() - before;
    const std::size_t middle = tape.bytes();
    (void)ift::fixed_point(seed002, start, p, ift::Iteration{.tol = 1e-13});
    CHECK(tape.bytes() - middle == loose);
  }
}
