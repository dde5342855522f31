// The primal minimizers GradientDescent, NewtonMin, BFGS and LBFGS on problems with known
// minimizers, their failure statuses, their progress callback, and unrolled differentiation
// (the solver run on Dual<double>) against the analytic derivative of the minimizer.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "ift/dual.hpp"
#include "ift/solvers/bfgs.hpp"
#include "ift/solvers/gradient_descent.hpp"
#include "ift/solvers/lbfgs.hpp"
#include "ift/solvers/newton_min.hpp"
#include "ift/var.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

/// Lifts a value of scalar type `T` into the (possibly more deeply nested) scalar `S` the solver
/// calls the objective with, with zero tangents at the added levels.
template <class S, class T>
S lift(const T& a) {
  if constexpr (std::is_same_v<S, T>)
    return a;
  else
    return S(lift<ift::value_type_t<S>>(a));
}

/// The seed problem L(x) = a x² + b x, minimizer x* = −b / (2a); a, b of any scalar type.
template <class P>
auto seed_objective(P a, P b) {
  return [a, b](const auto& x) {
    using S = std::decay_t<decltype(x)>;
    return lift<S>(a) * x * x + lift<S>(b) * x;
  };
}

/// Rosenbrock's function (1 − x₀)² + 100 (x₁ − x₀²)², minimizer (1, 1).
const auto rosenbrock = [](const auto& x) {
  const auto u = 1.0 - x(0);
  const auto w = x(1) - x(0) * x(0);
  return u * u + 100.0 * w * w;
};

/// A 10-D strictly convex quadratic ½ xᵀAx − bᵀx with A = tridiag(−1, 4, −1) (eigenvalues in
/// (2, 6)) and b_i = i − 4; minimizer A⁻¹b.
struct Quadratic {
  Eigen::MatrixXd A;
  Eigen::VectorXd b;
  Quadratic() : A(Eigen::MatrixXd::Zero(10, 10)), b(10) {
    for (int i = 0; i < 10; ++i) {
      A(i, i) = 4.0;
      if (i > 0) A(i, i - 1) = A(i - 1, i) = -1.0;
      b(i) = i - 4.0;
    }
  }
  Eigen::VectorXd minimizer() const { return A.llt().solve(b); }
  template <class V>
  typename V::Scalar operator()(const V& x) const {
    using S = typename V::Scalar;
    S sum(0.0);
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      S Ax(0.0);
      for (Eigen::Index j = 0; j < x.size(); ++j)
        if (A(i, j) != 0.0) Ax += A(i, j) * x(j);
      sum += x(i) * (0.5 * Ax - b(i));
    }
    return sum;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("every minimizer solves the seed problem argmin 2x² − x = 0.25", "[minimize]",
                   ift::GradientDescent, ift::NewtonMin, ift::BFGS, ift::LBFGS) {
  const TestType solver{};
  const auto s = solver.solve(seed_objective(2.0, -1.0), 1.0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK(bool(s));
  CHECK_THAT(s.x, WithinAbs(0.25, 1e-10));
  // |L'(x)| = 4|x − 0.25| is the reported measure.
  CHECK(s.residual_norm <= solver.tol);
  CHECK_THAT(s.residual_norm, WithinAbs(4.0 * std::abs(s.x - 0.25), 1e-15));
}

TEST_CASE("GradientDescent with learning rate 0.1 contracts the seed problem by 0.6 per step", "[minimize]") {
  // x_{k+1} − 0.25 = (1 − 0.1·4)(x_k − 0.25), so after k steps |L'| = 4 · 0.6^k · |x0 − 0.25|.
  std::vector<double> reported;
  const ift::GradientDescent solver{.learning_rate = 0.1, .tol = 1e-9, .on_iteration = [&](int k, double r) {
                                      CHECK(k == static_cast<int>(reported.size()) + 1);
                                      reported.push_back(r);
                                    }};
  const auto s = solver.solve(seed_objective(2.0, -1.0), 1.0);
  REQUIRE(s.status == ift::Status::converged);
  const int expected = static_cast<int>(std::ceil(std::log(1e-9 / 3.0) / std::log(0.6)));
  CHECK(s.iterations == expected);
  REQUIRE(static_cast<int>(reported.size()) == s.iterations);
  // Rounding of x near 0.25 (≈ 3·10⁻¹⁷, times 4 in L') bounds the agreement.
  for (int k = 1; k <= s.iterations; ++k)
    CHECK_THAT(reported[k - 1], WithinAbs(3.0 * std::pow(0.6, k), 1e-15));
  CHECK(reported.back() == s.residual_norm);
}

TEMPLATE_TEST_CASE("Newton-type minimizers find the Rosenbrock minimizer (1, 1)", "[minimize]",
                   ift::NewtonMin, ift::BFGS, ift::LBFGS) {
  const TestType solver{};
  const Eigen::Vector2d x0(-1.2, 1.0);
  const auto s = solver.solve(rosenbrock, x0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK(s.iterations < 200);
  CHECK_THAT(s.x(0), WithinAbs(1.0, 1e-9));
  CHECK_THAT(s.x(1), WithinAbs(1.0, 1e-9));
  // The analytic gradient at the returned point is within the tolerance.
  const double g0 = -2.0 * (1.0 - s.x(0)) - 400.0 * s.x(0) * (s.x(1) - s.x(0) * s.x(0));
  const double g1 = 200.0 * (s.x(1) - s.x(0) * s.x(0));
  CHECK(std::hypot(g0, g1) <= 1.0001 * solver.tol);
}

TEMPLATE_TEST_CASE("Newton-type minimizers solve a 10-D convex quadratic", "[minimize]", ift::NewtonMin,
                   ift::BFGS, ift::LBFGS) {
  const Quadratic L;
  const Eigen::VectorXd expected = L.minimizer();
  const auto s = TestType{}.solve(L, Eigen::VectorXd::Zero(10).eval());
  REQUIRE(s.status == ift::Status::converged);
  // ‖x − x*‖ ≤ ‖∇L‖ / λ_min(A), λ_min > 2.
  CHECK((s.x - expected).norm() <= 0.5 * s.residual_norm + 1e-15);
  CHECK((L.A * s.x - L.b).norm() == Approx(s.residual_norm).margin(1e-14));
  if constexpr (std::is_same_v<TestType, ift::NewtonMin>) CHECK(s.iterations == 1);
}

TEST_CASE("LBFGS with a short memory and GradientDescent on the quadratic", "[minimize]") {
  const Quadratic L;
  const Eigen::VectorXd expected = L.minimizer();
  const auto lbfgs = ift::LBFGS{.memory = 2, .tol = 1e-11}.solve(L, Eigen::VectorXd::Ones(10).eval());
  REQUIRE(lbfgs.status == ift::Status::converged);
  CHECK((lbfgs.x - expected).norm() < 1e-11);
  // Step 0.2 < 2/λ_max: contraction max|1 − 0.2λ| < 0.6.
  const auto gd = ift::GradientDescent{.learning_rate = 0.2}.solve(L, Eigen::VectorXd::Ones(10).eval());
  REQUIRE(gd.status == ift::Status::converged);
  CHECK((gd.x - expected).norm() < 1e-10);
}

TEST_CASE("NewtonMin regularizes an indefinite Hessian and reaches a minimizer", "[minimize]") {
  // L = x⁴/4 − x²/2 + x/10 has L'' = 3x² − 1 < 0 at the start x = 0.1; the minimizers of L are the
  // roots of x³ − x + 0.1 with 3x² > 1.
  const auto L = [](const auto& x) { return 0.25 * x * x * x * x - 0.5 * x * x + 0.1 * x; };
  const auto s = ift::NewtonMin{}.solve(L, 0.1);
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x * s.x * s.x - s.x + 0.1, WithinAbs(0.0, 1e-10));
  CHECK(3.0 * s.x * s.x - 1.0 > 0.0);
}

TEST_CASE("NewtonMin shortens a step that leaves the objective's domain", "[minimize]") {
  // L = x − log x, minimizer 1. From x = 10 the Newton step is −g/h = −0.9/0.01 = −90: log of a
  // negative number is NaN, which the backtracking treats as "too long".
  const auto L = [](const auto& x) {
    using std::log;
    return x - log(x);
  };
  const auto s = ift::NewtonMin{}.solve(L, 10.0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x, WithinAbs(1.0, 1e-10));
  const auto b = ift::BFGS{}.solve(L, 10.0);
  REQUIRE(b.status == ift::Status::converged);
  CHECK_THAT(b.x, WithinAbs(1.0, 1e-8));
}

TEMPLATE_TEST_CASE("minimizers stop at max_iter with Status::max_iterations", "[minimize][failure]",
                   ift::GradientDescent, ift::NewtonMin, ift::BFGS, ift::LBFGS) {
  TestType solver{};
  solver.max_iter = 3;
  int calls = 0;
  solver.on_iteration = [&](int, double) { ++calls; };
  const auto s = solver.solve(rosenbrock, Eigen::Vector2d(-1.2, 1.0));
  CHECK(s.status == ift::Status::max_iterations);
  CHECK_FALSE(bool(s));
  CHECK(s.iterations == 3);
  CHECK(calls == 3);
  CHECK(s.residual_norm > solver.tol);
  CHECK(ift::detail::all_finite(s.x));
}

TEMPLATE_TEST_CASE("minimizers report a NaN start or a NaN objective as Status::non_finite",
                   "[minimize][failure]", ift::GradientDescent, ift::NewtonMin, ift::BFGS, ift::LBFGS) {
  const TestType solver{};
  const auto nan_start = solver.solve(seed_objective(2.0, -1.0), not_a_number);
  CHECK(nan_start.status == ift::Status::non_finite);
  CHECK(nan_start.iterations == 0);

  const auto nan_vector_start = solver.solve(rosenbrock, Eigen::Vector2d(1.0, not_a_number));
  CHECK(nan_vector_start.status == ift::Status::non_finite);
  CHECK(nan_vector_start.iterations == 0);

  const auto nan_objective = solver.solve([](const auto& x) { return x * x + not_a_number; }, 1.0);
  CHECK(nan_objective.status == ift::Status::non_finite);
  CHECK(nan_objective.iterations == 0);
  CHECK(nan_objective.x == 1.0);
}

TEMPLATE_TEST_CASE("a direction that only looks downhill stalls the line search: Status::stalled",
                   "[minimize][failure]", ift::NewtonMin, ift::BFGS, ift::LBFGS) {
  // L = x² − x + 1 with the sign of every derivative flipped, as a wrong hand-written derivative
  // would: each proposed descent direction goes uphill, so no step decreases L.
  const auto uphill = [](const auto& x) {
    auto y = x * x - x + 1.0;
    if constexpr (ift::is_dual_v<decltype(y)>) y.v = -y.v;
    return y;
  };
  const auto s = TestType{}.solve(uphill, 1.0);
  CHECK(s.status == ift::Status::stalled);
  CHECK(s.iterations == 0);
  CHECK(s.x == 1.0);
  CHECK_THAT(s.residual_norm, WithinAbs(1.0, 1e-15));
}

TEST_CASE("GradientDescent returns the last finite iterate when a step leaves the domain",
          "[minimize][failure]") {
  // L = x − log x from x = 3 with step 5: x₁ = 3 − 5(1 − 1/3) < 0, where log is NaN.
  const auto L = [](const auto& x) {
    using std::log;
    return x - log(x);
  };
  const auto s = ift::GradientDescent{.learning_rate = 5.0}.solve(L, 3.0);
  CHECK(s.status == ift::Status::non_finite);
  CHECK(s.iterations == 0);
  CHECK(s.x == 3.0);
  CHECK_THAT(s.residual_norm, WithinRel(2.0 / 3.0, 1e-15));
}

TEMPLATE_TEST_CASE("on_iteration reports every iteration's gradient norm", "[minimize]", ift::NewtonMin,
                   ift::BFGS, ift::LBFGS) {
  std::vector<double> reported;
  TestType solver{};
  solver.on_iteration = [&](int k, double r) {
    CHECK(k == static_cast<int>(reported.size()) + 1);
    reported.push_back(r);
  };
  const auto s = solver.solve(rosenbrock, Eigen::Vector2d(-1.2, 1.0));
  REQUIRE(s.status == ift::Status::converged);
  REQUIRE(static_cast<int>(reported.size()) == s.iterations);
  CHECK(reported.back() == s.residual_norm);
}

TEMPLATE_TEST_CASE(
    "unrolled: the tangent carried through the iterations is the derivative of the seed minimizer",
    "[minimize][unrolled]", ift::GradientDescent, ift::NewtonMin, ift::BFGS, ift::LBFGS) {
  // x*(a, b) = −b/(2a): at a = 2, b = −1, ∂x*/∂a = b/(2a²) = −0.125 and ∂x*/∂b = −1/(2a) = −0.25.
  // The tangent direction (da, db) = (1, 2) gives dx* = −0.125 − 0.5 = −0.625.
  using D = ift::Dual<double>;
  const TestType solver{};
  const auto s = solver.solve(seed_objective(D(2.0, 1.0), D(-1.0, 2.0)), D(1.0));
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x.value(), WithinAbs(0.25, 1e-10));
  CHECK_THAT(s.x.tangent()(0), WithinAbs(-0.625, 1e-8));
}

TEMPLATE_TEST_CASE("unrolled on a vector state: Rosenbrock shifted by a parameter", "[minimize][unrolled]",
                   ift::NewtonMin, ift::BFGS, ift::LBFGS) {
  // L(x; c) = (c − x₀)² + 100(x₁ − x₀²)² has minimizer (c, c²): dx*/dc = (1, 2c) = (1, 3) at c = 1.5.
  using D = ift::Dual<double>;
  const D c(1.5, 1.0);
  const auto L = [c](const auto& x) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    const S u = lift<S>(c) - x(0);
    const S w = x(1) - x(0) * x(0);
    return u * u + 100.0 * w * w;
  };
  const Eigen::Matrix<D, 2, 1> x0(D(-1.2), D(1.0));
  const auto s = TestType{}.solve(L, x0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x(0).value(), WithinAbs(1.5, 1e-9));
  CHECK_THAT(s.x(1).value(), WithinAbs(2.25, 1e-9));
  CHECK_THAT(s.x(0).tangent()(0), WithinAbs(1.0, 1e-7));
  CHECK_THAT(s.x(1).tangent()(0), WithinAbs(3.0, 1e-7));
}

TEMPLATE_TEST_CASE("unrolled on Var: the iterations are recorded on the tape", "[minimize][unrolled]",
                   ift::NewtonMin, ift::BFGS) {
  ift::Tape tape;
  const ift::Var a = 2.0;
  const ift::Var b = -1.0;
  const auto s = TestType{}.solve(seed_objective(a, b), ift::Var::constant(1.0));
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x.value(), WithinAbs(0.25, 1e-10));
  const auto [da, db] = tape.gradient(s.x, a, b);
  CHECK_THAT(da, WithinAbs(-0.125, 1e-8));
  CHECK_THAT(db, WithinAbs(-0.25, 1e-8));
}

TEST_CASE("designated initializers follow the documented field order", "[minimize]") {
  const ift::GradientDescent gd{
      .learning_rate = 0.05, .tol = 1e-9, .max_iter = 10, .throw_on_failure = false};
  CHECK(gd.learning_rate == 0.05);
  CHECK_FALSE(gd.throw_on_failure);
  const ift::LBFGS lbfgs{.memory = 3, .tol = 1e-8};
  CHECK(lbfgs.memory == 3);
  CHECK(lbfgs.max_iter == ift::LBFGS{}.max_iter);
  STATIC_REQUIRE(ift::BuiltinSolver<ift::BFGS>);
  STATIC_REQUIRE(ift::NewtonMin::kind == ift::ProblemKind::minimize);
  STATIC_REQUIRE(ift::GradientDescent::name == "GradientDescent");
}
