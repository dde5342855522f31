// The primal root solvers: ift::Newton, ift::Broyden, ift::Bisection and ift::Brent.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "ift/dual.hpp"
#include "ift/solvers/bisection.hpp"
#include "ift/solvers/brent.hpp"
#include "ift/solvers/broyden.hpp"
#include "ift/solvers/newton.hpp"

namespace {

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double dottie = 0.7390851332151607;  // cos x = x
constexpr double wallis = 2.0945514815423265;  // x³ − 2x − 5 = 0

// Records the callback's calls.
struct Recorder {
  std::vector<std::pair<int, double>> calls;
  ift::IterationCallback callback() {
    return [this](int k, double r) { calls.emplace_back(k, r); };
  }
  void check(int iterations, double final_residual) const {
    REQUIRE(calls.size() == static_cast<std::size_t>(iterations));
    for (std::size_t i = 0; i < calls.size(); ++i) CHECK(calls[i].first == static_cast<int>(i) + 1);
    if (!calls.empty()) CHECK(calls.back().second == final_residual);
  }
};

// gᵢ = (3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1 with x₀ = x_{n+1} = 0: Broyden's tridiagonal function.
const auto broyden_tridiagonal = [](const auto& x) {
  using V = std::remove_cvref_t<decltype(x)>;
  const Eigen::Index n = x.size();
  V g(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    g(i) = (3.0 - 2.0 * x(i)) * x(i) + 1.0;
    if (i > 0) g(i) -= x(i - 1);
    if (i + 1 < n) g(i) -= 2.0 * x(i + 1);
  }
  return g;
};

// fᵢ = xᵢ³ + 2xᵢ − xᵢ₋₁ − xᵢ₊₁ − cᵢ with c chosen so that x = a is the root: the gradient of the
// strictly convex Σ xᵢ⁴/4 + xᵢ² − … plus a Laplacian, so a is the only root.
struct CubicChain {
  Eigen::VectorXd a;
  Eigen::VectorXd c;
  explicit CubicChain(Eigen::Index n) : a(n), c(n) {
    for (Eigen::Index i = 0; i < n; ++i) a(i) = 1.0 + std::sin(static_cast<double>(i));
    c = apply(a);
  }
  template <class V>
  V apply(const V& x) const {
    const Eigen::Index n = x.size();
    V f(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      f(i) = x(i) * x(i) * x(i) + 2.0 * x(i);
      if (i > 0) f(i) -= x(i - 1);
      if (i + 1 < n) f(i) -= x(i + 1);
    }
    return f;
  }
  template <class V>
  V operator()(const V& x) const {
    V f = apply(x);
    for (Eigen::Index i = 0; i < x.size(); ++i) f(i) -= c(i);
    return f;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Newton

TEST_CASE("Newton solves x² = 9", "[solvers][root]") {
  Recorder rec;
  const auto f = [](const auto& x) { return x * x - 9.0; };
  const auto s = ift::Newton{.on_iteration = rec.callback()}.solve(f, 1.0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK(s);
  CHECK_THAT(s.x, WithinAbs(3.0, 1e-12));
  CHECK(s.residual_norm <= 1e-10);
  CHECK(s.residual_norm == std::abs(s.x * s.x - 9.0));
  CHECK(s.iterations >= 4);
  CHECK(s.iterations <= 8);
  rec.check(s.iterations, s.residual_norm);

  const auto negative = ift::Newton{}.solve(f, -0.5);
  REQUIRE(negative.status == ift::Status::converged);
  CHECK_THAT(negative.x, WithinAbs(-3.0, 1e-12));
}

TEST_CASE("Newton solves 2-D systems, fixed and dynamic size", "[solvers][root]") {
  // x₀² + x₁² = 25, x₁ = x₀ + 1: the roots (3, 4) and (−4, −3).
  const auto circle_line = [](const auto& x) {
    using V = std::remove_cvref_t<decltype(x)>;
    V f(2);
    f(0) = x(0) * x(0) + x(1) * x(1) - 25.0;
    f(1) = x(1) - x(0) - 1.0;
    return f;
  };
  const auto fixed = ift::Newton{}.solve(circle_line, Eigen::Vector2d(1.0, 2.0));
  REQUIRE(fixed.status == ift::Status::converged);
  CHECK_THAT(fixed.x(0), WithinAbs(3.0, 1e-11));
  CHECK_THAT(fixed.x(1), WithinAbs(4.0, 1e-11));
  CHECK(fixed.residual_norm <= 1e-10);

  Eigen::VectorXd x0(2);
  x0 << -2.0, -1.0;
  const auto dynamic = ift::Newton{}.solve(circle_line, x0);
  REQUIRE(dynamic.status == ift::Status::converged);
  CHECK_THAT(dynamic.x(0), WithinAbs(-4.0, 1e-11));
  CHECK_THAT(dynamic.x(1), WithinAbs(-3.0, 1e-11));

  // Rosenbrock's system 10(x₁ − x₀²) = 0, 1 − x₀ = 0 from the classical start.
  const auto rosenbrock = [](const auto& x) {
    using V = std::remove_cvref_t<decltype(x)>;
    V f(2);
    f(0) = 10.0 * (x(1) - x(0) * x(0));
    f(1) = 1.0 - x(0);
    return f;
  };
  const auto r = ift::Newton{}.solve(rosenbrock, Eigen::Vector2d(-1.2, 1.0));
  REQUIRE(r.status == ift::Status::converged);
  CHECK_THAT((r.x - Eigen::Vector2d(1.0, 1.0)).norm(), WithinAbs(0.0, 1e-12));
}

TEST_CASE("Newton solves a 50-D nonlinear system with a known root", "[solvers][root]") {
  const CubicChain f(50);
  Recorder rec;
  const auto s = ift::Newton{.on_iteration = rec.callback()}.solve(f, Eigen::VectorXd::Zero(50).eval());
  REQUIRE(s.status == ift::Status::converged);
  CHECK((s.x - f.a).norm() <= 1e-10);
  CHECK(s.residual_norm <= 1e-10);
  CHECK_THAT(s.residual_norm, WithinRel(f(s.x).norm(), 1e-12));
  CHECK(s.iterations <= 12);
  rec.check(s.iterations, s.residual_norm);
}

TEST_CASE("Newton's line search converges where the full step diverges", "[solvers][root]") {
  // The undamped Newton iteration on atan diverges from |x₀| > 1.39.
  const auto f = [](const auto& x) {
    using std::atan;
    return atan(x);
  };
  const auto s = ift::Newton{}.solve(f, 10.0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x, WithinAbs(0.0, 1e-10));
}

TEST_CASE("Newton reports its failures", "[solvers][root]") {
  const auto square_minus_9 = [](const auto& x) { return x * x - 9.0; };
  SECTION("max_iterations") {
    Recorder rec;
    const auto s = ift::Newton{.max_iter = 2, .on_iteration = rec.callback()}.solve(square_minus_9, 1.0);
    CHECK(s.status == ift::Status::max_iterations);
    CHECK(s.iterations == 2);
    CHECK(s.residual_norm == std::abs(s.x * s.x - 9.0));
    rec.check(2, s.residual_norm);
  }
  SECTION("a NaN initial guess") {
    const auto s = ift::Newton{}.solve(square_minus_9, not_a_number);
    CHECK(s.status == ift::Status::non_finite);
    CHECK(s.iterations == 0);
    const auto v = ift::Newton{}.solve(
        [](const auto& x) {
          using V = std::remove_cvref_t<decltype(x)>;
          return V(x.array() - 1.0);
        },
        Eigen::Vector2d(0.0, not_a_number));
    CHECK(v.status == ift::Status::non_finite);
  }
  SECTION("a residual that is NaN") {
    const auto s = ift::Newton{}.solve([](const auto& x) { return x * not_a_number; }, 1.0);
    CHECK(s.status == ift::Status::non_finite);
    CHECK(s.x == 1.0);
    CHECK(s.iterations == 0);
  }
  SECTION("a derivative that is infinite") {
    // f(x) = √x − 1 at x = 0: f' = 1/(2√x) = ∞.
    const auto s = ift::Newton{}.solve(
        [](const auto& x) {
          using std::sqrt;
          return sqrt(x) - 1.0;
        },
        0.0);
    CHECK(s.status == ift::Status::non_finite);
    CHECK(s.x == 0.0);
  }
  SECTION("a scalar singular derivative") {
    // x² + 1 has no real root; at x = 0 its derivative vanishes.
    const auto s = ift::Newton{}.solve([](const auto& x) { return x * x + 1.0; }, 0.0);
    CHECK(s.status == ift::Status::singular);
    CHECK(s.iterations == 0);
    CHECK(s.residual_norm == 1.0);
  }
  SECTION("a singular Jacobian") {
    // Two parallel lines: J = [[1, 1], [2, 2]] everywhere.
    const auto parallel = [](const auto& x) {
      using V = std::remove_cvref_t<decltype(x)>;
      V f(2);
      f(0) = x(0) + x(1) - 1.0;
      f(1) = 2.0 * x(0) + 2.0 * x(1) - 3.0;
      return f;
    };
    const auto s = ift::Newton{}.solve(parallel, Eigen::Vector2d(0.0, 0.0));
    CHECK(s.status == ift::Status::singular);
    CHECK(s.iterations == 0);
  }
  SECTION("stalled: ‖f‖ cannot reach tol in floating point") {
    // 10¹²(x² − 2): between the doubles next to √2, f jumps by about 10¹²·2√2·2⁻⁵² ≈ 6e-4 ≫ tol.
    Recorder rec;
    const auto s = ift::Newton{.on_iteration = rec.callback()}.solve(
        [](const auto& x) { return 1e12 * (x * x - 2.0); }, 1.0);
    CHECK(s.status == ift::Status::stalled);
    CHECK_THAT(s.x, WithinRel(std::sqrt(2.0), 1e-15));
    CHECK(s.residual_norm > 1e-10);
    rec.check(s.iterations, s.residual_norm);
  }
  SECTION("stalled at a local minimum of ‖f‖ that is not a root") {
    // x³ − 2x − 5 from 0: the damped iteration slides into the minimum of |f| at x = −√(2/3),
    // where f = (4/3)√(2/3) − 5 ≠ 0 and f' = 0, so no step decreases |f|.
    const auto s = ift::Newton{}.solve([](const auto& x) { return x * x * x - 2.0 * x - 5.0; }, 0.0);
    CHECK(s.status == ift::Status::stalled);
    CHECK_THAT(s.x, WithinAbs(-std::sqrt(2.0 / 3.0), 1e-5));
    CHECK_THAT(s.residual_norm, WithinRel(5.0 - 4.0 / 3.0 * std::sqrt(2.0 / 3.0), 1e-9));
  }
  SECTION("a residual of the wrong size throws") {
    const auto three_residuals = [](const auto& x) {
      using S = typename std::remove_cvref_t<decltype(x)>::Scalar;
      return Eigen::VectorX<S>(Eigen::Vector<S, 3>(x(0), x(1), x(0) * x(1)));
    };
    const Eigen::VectorXd x0 = Eigen::VectorXd::Ones(2);
    CHECK_THROWS_AS(ift::Newton{}.solve(three_residuals, x0), std::invalid_argument);
  }
}

TEST_CASE("Newton unrolled on Dual carries dx/dθ", "[solvers][root][unrolled]") {
  // x² = θ: x = √θ, dx/dθ = 1/(2√θ).
  using D = ift::Dual<double>;
  const D theta(9.0, 1.0);
  const auto s = ift::Newton{}.solve([&](const auto& x) { return x * x - theta; }, D(1.0));
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x.value(), WithinAbs(3.0, 1e-12));
  CHECK_THAT(s.x.tangent()(0), WithinRel(1.0 / 6.0, 1e-10));

  // x₀² + x₁² = r, x₁ = x₀ + 1: x₀ = (−1 + √(2r − 1))/2, so dx₀/dr = dx₁/dr = 1/(2√(2r − 1)).
  const D r(25.0, 1.0);
  const auto v = ift::Newton{}.solve(
      [&](const auto& x) {
        using V = std::remove_cvref_t<decltype(x)>;
        V f(2);
        f(0) = x(0) * x(0) + x(1) * x(1) - r;
        f(1) = x(1) - x(0) - 1.0;
        return f;
      },
      Eigen::Vector2<D>(D(1.0), D(2.0)));
  REQUIRE(v.status == ift::Status::converged);
  CHECK_THAT(v.x(0).value(), WithinAbs(3.0, 1e-11));
  CHECK_THAT(v.x(0).tangent()(0), WithinRel(1.0 / 14.0, 1e-9));
  CHECK_THAT(v.x(1).tangent()(0), WithinRel(1.0 / 14.0, 1e-9));
}

// ---------------------------------------------------------------------------------------------
// Broyden

TEST_CASE("Broyden solves the tridiagonal Broyden function", "[solvers][root]") {
  for (const Eigen::Index n : {10, 100}) {
    Recorder rec;
    const Eigen::VectorXd x0 = Eigen::VectorXd::Constant(n, -1.0);
    const auto s = ift::Broyden{.on_iteration = rec.callback()}.solve(broyden_tridiagonal, x0);
    INFO("n = " << n);
    REQUIRE(s.status == ift::Status::converged);
    const double residual = broyden_tridiagonal(s.x).norm();
    CHECK(residual <= 1e-10);
    CHECK_THAT(s.residual_norm, WithinRel(residual, 1e-12));
    CHECK(s.iterations <= 40);
    rec.check(s.iterations, s.residual_norm);
    // The root agrees with Newton's.
    const auto newton = ift::Newton{}.solve(broyden_tridiagonal, x0);
    REQUIRE(newton.status == ift::Status::converged);
    CHECK((s.x - newton.x).norm() <= 1e-9);
  }
}

TEST_CASE("Broyden solves scalar and small fixed-size systems", "[solvers][root]") {
  const auto s = ift::Broyden{}.solve([](const auto& x) { return x * x - 9.0; }, 1.0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x, WithinAbs(3.0, 1e-11));
  CHECK(s.residual_norm <= 1e-10);

  const CubicChain chain(5);
  const auto v =
      ift::Broyden{}.solve([&](const auto& x) { return chain(x); }, Eigen::Vector<double, 5>::Zero().eval());
  REQUIRE(v.status == ift::Status::converged);
  CHECK((v.x - chain.a).norm() <= 1e-9);
}

TEST_CASE("Broyden restarts from a fresh Jacobian on Powell's badly scaled function", "[solvers][root]") {
  // 10⁴x₀x₁ = 1, e^{−x₀} + e^{−x₁} = 1.0001 from (0, 1); root (1.098159…e-5, 9.106146…).
  int jacobian_passes = 0;
  const auto powell = [&](const auto& x) {
    using V = std::remove_cvref_t<decltype(x)>;
    using std::exp;
    if constexpr (!std::is_same_v<typename V::Scalar, double>) ++jacobian_passes;
    V f(2);
    f(0) = 1e4 * x(0) * x(1) - 1.0;
    f(1) = exp(-x(0)) + exp(-x(1)) - 1.0001;
    return f;
  };
  const auto s = ift::Broyden{}.solve(powell, Eigen::Vector2d(0.0, 1.0));
  REQUIRE(s.status == ift::Status::converged);
  CHECK(s.residual_norm <= 1e-10);
  CHECK_THAT(s.x(0), WithinRel(1.098159329699759e-5, 1e-8));
  CHECK_THAT(s.x(1), WithinRel(9.106146739866598, 1e-8));
  CHECK(jacobian_passes > 1);
}

TEST_CASE("Broyden reports its failures", "[solvers][root]") {
  SECTION("max_iterations") {
    Recorder rec;
    const auto s = ift::Broyden{.max_iter = 3, .on_iteration = rec.callback()}.solve(
        broyden_tridiagonal, Eigen::VectorXd::Constant(10, -1.0).eval());
    CHECK(s.status == ift::Status::max_iterations);
    CHECK(s.iterations == 3);
    CHECK_THAT(s.residual_norm, WithinRel(broyden_tridiagonal(s.x).norm(), 1e-12));
    rec.check(3, s.residual_norm);
  }
  SECTION("a NaN initial guess") {
    const auto s = ift::Broyden{}.solve([](const auto& x) { return x * x - 9.0; }, not_a_number);
    CHECK(s.status == ift::Status::non_finite);
  }
  SECTION("a residual that is NaN") {
    const auto s = ift::Broyden{}.solve([](const auto& x) { return x * not_a_number; }, 1.0);
    CHECK(s.status == ift::Status::non_finite);
    CHECK(s.x == 1.0);
  }
  SECTION("a singular Jacobian") {
    const auto s = ift::Broyden{}.solve([](const auto& x) { return x * x + 1.0; }, 0.0);
    CHECK(s.status == ift::Status::singular);
    CHECK(s.iterations == 0);
  }
  SECTION("stalled at a local minimum of ‖f‖ that is not a root") {
    const auto s = ift::Broyden{}.solve([](const auto& x) { return x * x * x - 2.0 * x - 5.0; }, 0.0);
    CHECK(s.status == ift::Status::stalled);
    CHECK_THAT(s.x, WithinAbs(-std::sqrt(2.0 / 3.0), 1e-5));
  }
}

TEST_CASE("Broyden unrolled on Dual carries dx/dθ", "[solvers][root][unrolled]") {
  using D = ift::Dual<double>;
  const D theta(9.0, 1.0);
  const auto s = ift::Broyden{}.solve([&](const auto& x) { return x * x - theta; }, D(1.0));
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x.value(), WithinAbs(3.0, 1e-11));
  CHECK_THAT(s.x.tangent()(0), WithinRel(1.0 / 6.0, 1e-8));
}

// ---------------------------------------------------------------------------------------------
// Bisection and Brent

TEST_CASE("Bisection and Brent find cubic roots and cos x = x", "[solvers][root]") {
  const auto wallis_cubic = [](const auto& x) { return x * x * x - 2.0 * x - 5.0; };
  const auto cos_minus_x = [](const auto& x) {
    using std::cos;
    return cos(x) - x;
  };
  // (x + 3)(x − 1)(x − 2) on [1.5, 4]: only the root 2 inside.
  const auto three_roots = [](const auto& x) { return (x + 3.0) * (x - 1.0) * (x - 2.0); };

  Recorder rec;
  const auto b1 =
      ift::Bisection{.lo = 2.0, .hi = 3.0, .on_iteration = rec.callback()}.solve(wallis_cubic, 0.0);
  REQUIRE(b1.status == ift::Status::converged);
  CHECK_THAT(b1.x, WithinAbs(wallis, 1e-12));
  CHECK(b1.residual_norm <= 1e-12);
  // Width 1 halves to ≤ 1e-12 + 4ε·2.09 in ⌈log₂(1/1.0000019e-12)⌉ = 40 steps.
  CHECK(b1.iterations == 40);
  rec.check(b1.iterations, b1.residual_norm);

  Recorder brent_rec;
  const auto r1 =
      ift::Brent{.lo = 2.0, .hi = 3.0, .on_iteration = brent_rec.callback()}.solve(wallis_cubic, 0.0);
  REQUIRE(r1.status == ift::Status::converged);
  CHECK_THAT(r1.x, WithinAbs(wallis, 1e-12));
  CHECK(r1.residual_norm <= 1e-12 + 4 * std::numeric_limits<double>::epsilon() * wallis);
  CHECK(r1.iterations < 15);
  brent_rec.check(r1.iterations, r1.residual_norm);

  for (const auto& s : {ift::Bisection{.lo = 0.0, .hi = 1.0}.solve(cos_minus_x, 0.0),
                        ift::Brent{.lo = 0.0, .hi = 1.0}.solve(cos_minus_x, 0.0)}) {
    REQUIRE(s.status == ift::Status::converged);
    CHECK_THAT(s.x, WithinAbs(dottie, 1e-12));
  }
  for (const auto& s : {ift::Bisection{.lo = 1.5, .hi = 4.0}.solve(three_roots, 0.0),
                        ift::Brent{.lo = 1.5, .hi = 4.0}.solve(three_roots, 0.0)}) {
    REQUIRE(s.status == ift::Status::converged);
    CHECK_THAT(s.x, WithinAbs(2.0, 1e-12));
  }
  const auto brent_cos = ift::Brent{.lo = 0.0, .hi = 1.0}.solve(cos_minus_x, 0.0);
  const auto bisection_cos = ift::Bisection{.lo = 0.0, .hi = 1.0}.solve(cos_minus_x, 0.0);
  CHECK(brent_cos.iterations < bisection_cos.iterations / 3);
}

TEST_CASE("Bisection and Brent stop at exact zeros", "[solvers][root]") {
  const auto linear = [](double x) { return x - 0.5; };
  const auto mid = ift::Bisection{.lo = 0.0, .hi = 1.0}.solve(linear, 0.0);
  REQUIRE(mid.status == ift::Status::converged);
  CHECK(mid.x == 0.5);
  CHECK(mid.iterations == 1);
  CHECK(mid.residual_norm == 0.0);

  for (const auto& s : {ift::Bisection{.lo = 0.5, .hi = 1.0}.solve(linear, 0.0),
                        ift::Brent{.lo = 0.5, .hi = 1.0}.solve(linear, 0.0)}) {
    CHECK(s.status == ift::Status::converged);
    CHECK(s.x == 0.5);
    CHECK(s.iterations == 0);
    CHECK(s.residual_norm == 0.0);
  }
  // The secant step through the ends of a line lands on its root exactly.
  const auto secant = ift::Brent{.lo = 0.0, .hi = 2.0}.solve(linear, 0.0);
  CHECK(secant.status == ift::Status::converged);
  CHECK(secant.x == 0.5);
  CHECK(secant.iterations == 1);
}

TEST_CASE("Bisection and Brent report their failures", "[solvers][root]") {
  const auto square_minus_4 = [](double x) { return x * x - 4.0; };
  SECTION("invalid_bracket") {
    CHECK(ift::Bisection{.lo = -3.0, .hi = 3.0}.solve(square_minus_4, 0.0).status ==
          ift::Status::invalid_bracket);
    CHECK(ift::Brent{.lo = -3.0, .hi = 3.0}.solve(square_minus_4, 0.0).status ==
          ift::Status::invalid_bracket);
    CHECK(ift::Brent{.lo = -1.0, .hi = 1.0}.solve(square_minus_4, 0.0).status ==
          ift::Status::invalid_bracket);
  }
  SECTION("lo >= hi or a non-finite end throws") {
    const auto bisection = [&](double lo, double hi) {
      return ift::Bisection{lo, hi}.solve(square_minus_4, 0.0);
    };
    const auto brent = [&](double lo, double hi) { return ift::Brent{lo, hi}.solve(square_minus_4, 0.0); };
    const double inf = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(bisection(3.0, 1.0), std::invalid_argument);
    CHECK_THROWS_AS(bisection(0.0, 0.0), std::invalid_argument);
    CHECK_THROWS_AS(bisection(not_a_number, 1.0), std::invalid_argument);
    CHECK_THROWS_AS(brent(1.0, 1.0), std::invalid_argument);
    CHECK_THROWS_AS(brent(0.0, inf), std::invalid_argument);
  }
  SECTION("max_iterations") {
    Recorder rec;
    const auto s = ift::Bisection{.lo = 0.0, .hi = 3.0, .max_iter = 5, .on_iteration = rec.callback()}.solve(
        square_minus_4, 0.0);
    CHECK(s.status == ift::Status::max_iterations);
    CHECK(s.iterations == 5);
    CHECK(s.residual_norm == 3.0 / 32.0);
    CHECK(std::abs(s.x - 2.0) <= 3.0 / 64.0);
    rec.check(5, s.residual_norm);
    const auto r = ift::Brent{.lo = 0.0, .hi = 3.0, .max_iter = 2}.solve(square_minus_4, 0.0);
    CHECK(r.status == ift::Status::max_iterations);
    CHECK(r.iterations == 2);
  }
  SECTION("non_finite at an end or inside") {
    const auto log_shifted = [](double x) { return std::log(x) + 0.5; };
    CHECK(ift::Bisection{.lo = -1.0, .hi = 2.0}.solve(log_shifted, 0.0).status == ift::Status::non_finite);
    CHECK(ift::Brent{.lo = -1.0, .hi = 2.0}.solve(log_shifted, 0.0).status == ift::Status::non_finite);
    // Finite at the ends, NaN on (0.4, 0.6) where both methods' first steps land (the midpoint,
    // and the secant through (0, −½), (1, ½)).
    const auto hole = [](double x) { return x > 0.4 && x < 0.6 ? not_a_number : x - 0.5; };
    const auto b = ift::Bisection{.lo = 0.0, .hi = 1.0}.solve(hole, 0.0);
    CHECK(b.status == ift::Status::non_finite);
    CHECK(b.x == 0.5);
    const auto r = ift::Brent{.lo = 0.0, .hi = 1.0}.solve(hole, 0.0);
    CHECK(r.status == ift::Status::non_finite);
    CHECK(r.x == 1.0);
    CHECK(r.iterations == 0);
  }
}
