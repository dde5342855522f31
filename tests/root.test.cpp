// ift::root with every root solver, at every scalar mode, implicit and unrolled.

#include <catch2/catch.hpp>

#include "ift/root.hpp"
#include "support/modes.hpp"

namespace {

// Seed 000: invert f(x) = x² at θ = 9: x = √θ = 3, dx/dθ = 1/(2√θ) = 1/6, d²x/dθ² = −θ^{-3/2}/4 = −1/108.
const auto g = [](const auto& x, const auto& theta) { return x * x - theta; };
constexpr ift_test::Expected sqrt9{3.0, 1.0 / 6.0, -1.0 / 108.0};

template <class Solver>
void check_solver(const Solver& solver) {
  SECTION("implicit") {
    ift_test::check_scalar_modes([&](const auto& th) { return ift::root(g, 1.0, th, solver).x; }, 9.0, sqrt9);
  }
  SECTION("unrolled") {
    ift_test::check_scalar_modes<ift_test::ModeSet::essential>(
        [&](const auto& th) { return ift::root(g, 1.0, th, solver, ift::Unrolled{}).x; }, 9.0, sqrt9, 1e-7);
  }
}

}  // namespace

TEST_CASE("root: Newton, seed x^2 = theta", "[root]") { check_solver(ift::Newton{}); }
TEST_CASE("root: Broyden, seed x^2 = theta", "[root]") { check_solver(ift::Broyden{}); }
TEST_CASE("root: Brent, seed x^2 = theta", "[root]") {
  // Brent's iterates do not depend smoothly on θ (it switches between bisection and interpolation),
  // so only the implicit rule is checked at every mode.
  ift_test::check_scalar_modes(
      [](const auto& th) { return ift::root(g, 1.0, th, ift::Brent{.lo = 0, .hi = 10}).x; }, 9.0, sqrt9);
}
TEST_CASE("root: Bisection, seed x^2 = theta", "[root]") {
  ift_test::check_scalar_modes(
      [](const auto& th) { return ift::root(g, 1.0, th, ift::Bisection{.lo = 0, .hi = 10}).x; }, 9.0, sqrt9);
}

TEST_CASE("root: Newton on a 2-D system with vector parameters", "[root]") {
  // x₀² + x₁ = θ₀, x₀ − x₁ = θ₁  ⇒  x₀ = (−1 + √(1 + 4s))/2 with s = θ₀ + θ₁, x₁ = x₀ − θ₁.
  const auto f = [](const auto& x, const auto& th) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    Eigen::Matrix<S, 2, 1> r;
    r << x(0) * x(0) + x(1) - th(0), x(0) - x(1) - th(1);
    return r;
  };
  const Eigen::Vector2d theta(2.0, 1.0);
  const double s = theta.sum(), q = std::sqrt(1 + 4 * s);
  const double x0 = (-1 + q) / 2, d = 1 / q;
  Eigen::Matrix2d jac;
  jac << d, d, d, d - 1;

  const Eigen::Vector2d start(1.0, 1.0);
  SECTION("forward, Dual<double, 2>") {
    using D = ift::Dual<double, 2>;
    Eigen::Matrix<D, 2, 1> th(D(theta(0), Eigen::Vector2d(1, 0)), D(theta(1), Eigen::Vector2d(0, 1)));
    for (const bool unrolled : {false, true}) {
      const Eigen::Matrix<D, 2, 1> x =
          unrolled ? ift::root(f, start, th, ift::Newton{}, ift::Unrolled{}).x : ift::root(f, start, th).x;
      CHECK_THAT(x(0).a, Catch::Matchers::WithinAbs(x0, 1e-12));
      CHECK_THAT(x(1).a, Catch::Matchers::WithinAbs(x0 - theta(1), 1e-12));
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) CHECK_THAT(x(i).v(j), Catch::Matchers::WithinAbs(jac(i, j), 1e-10));
    }
  }
  SECTION("reverse, Var") {
    ift::Tape tape;
    const Eigen::Matrix<ift::Var, 2, 1> th = theta.cast<ift::Var>();
    const auto x = ift::root(f, start, th, ift::Broyden{}).x;
    for (int i = 0; i < 2; ++i) {
      const Eigen::Vector2d g_i = tape.gradient(x(i), th);
      CHECK_THAT(g_i(0), Catch::Matchers::WithinAbs(jac(i, 0), 1e-10));
      CHECK_THAT(g_i(1), Catch::Matchers::WithinAbs(jac(i, 1), 1e-10));
    }
  }
}

TEST_CASE("root: failures are typed and say why", "[root][errors]") {
  SECTION("max iterations") {
    try {
      (void)ift::root(g, 1.0, 9.0, ift::Newton{.max_iter = 2});
      FAIL("expected SolverError");
    } catch (const ift::SolverError& e) {
      CHECK_THAT(e.what(), Catch::Matchers::Contains("Newton") &&
                               Catch::Matchers::Contains("maximum number") &&
                               Catch::Matchers::Contains("2 iterations"));
    }
  }
  SECTION("status instead of an exception, with the derivatives at the last iterate, flagged") {
    // Newton from 1 stops at x₂ = 3.4; holding g(x₂, 9) fixed, dx/dθ = −(∂g/∂θ)/(∂g/∂x) = 1/(2x₂).
    const auto s =
        ift::root(g, 1.0, ift::Dual<double>(9.0, 1.0), ift::Newton{.max_iter = 2, .throw_on_failure = false});
    CHECK(s.status == ift::Status::max_iterations);
    CHECK_FALSE(s);
    CHECK_FALSE(s.derivatives_exact);
    CHECK_THAT(s.x.a, Catch::Matchers::WithinAbs(3.4, 1e-14));
    CHECK_THAT(s.x.v(0), Catch::Matchers::WithinAbs(1.0 / 6.8, 1e-14));
  }
  SECTION("bad bracket") {
    CHECK_THROWS_WITH(ift::root(g, 1.0, 9.0, ift::Brent{.lo = 4, .hi = 10}),
                      Catch::Matchers::Contains("Brent") && Catch::Matchers::Contains("bracket"));
  }
  SECTION("NaN parameter") {
    CHECK_THROWS_WITH(ift::root(g, 1.0, std::nan(""), ift::Newton{.throw_on_failure = false}),
                      Catch::Matchers::Contains("ift::root: theta holds NaN or Inf"));
    CHECK_THROWS_AS(ift::root(g, 1.0, std::nan("")), std::invalid_argument);
  }
  SECTION("NaN initial guess") {
    CHECK_THROWS_WITH(ift::root(g, std::nan(""), 9.0),
                      Catch::Matchers::Contains("ift::root: x0 holds NaN or Inf"));
  }
  SECTION("singular conditions at the root") {
    // x² = θ at θ = 0: the root x = 0 has ∂g/∂x = 0, and √θ has no derivative there.
    const auto bisect = [](const auto& fp, double) {
      (void)fp;
      return 0.0;
    };
    CHECK_THROWS_AS(ift::root(g, 1.0, ift::Dual<double>(0.0, 1.0), bisect), ift::SingularJacobianError);
    CHECK_THROWS_WITH(
        ift::root(g, 1.0, ift::Dual<double>(0.0, 1.0), bisect),
        Catch::Matchers::Contains("singular") && Catch::Matchers::Contains("condition estimate"));
  }
}

TEST_CASE("root: a user solver that closes over data", "[root]") {
  // Seed 004: the solver may carry any data; only θ passed to root is differentiated.
  const double guess_shift = 0.5;
  int calls = 0;
  const auto solve = [&](const auto& fp, double x0) {
    ++calls;
    double x = x0 + guess_shift;
    for (int k = 0; k < 60; ++k) {
      const double h = 1e-7, fx = fp(x);
      x -= fx / ((fp(x + h) - fx) / h);
    }
    return x;
  };
  ift::Tape tape;
  const ift::Var theta = 9.0;
  const auto s = ift::root(g, 1.0, theta, solve);
  CHECK(calls == 1);
  CHECK(s.status == ift::Status::converged);
  CHECK(s.residual_norm < 1e-10);
  CHECK_THAT(tape.gradient(s.x, theta), Catch::Matchers::WithinAbs(1.0 / 6.0, 1e-12));
}

TEST_CASE("root: a generic user solver can be unrolled", "[root]") {
  // Written over any scalar, the user's solver runs on θ's scalar under ift::Unrolled.
  const auto newton = [](const auto& fp, const auto& x0) {
    auto x = x0;
    for (int k = 0; k < 30; ++k) x = x - fp(x) / (2 * x);
    return x;
  };
  const auto s = ift::root(g, 1.0, ift::Dual<double>(9.0, 1.0), newton, ift::Unrolled{});
  CHECK(s.status == ift::Status::converged);
  CHECK(s.residual_norm < 1e-12);
  CHECK_THAT(s.x.v(0), Catch::Matchers::WithinAbs(1.0 / 6.0, 1e-12));
}
