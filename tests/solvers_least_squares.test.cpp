// The least-squares solvers GaussNewton and LevenbergMarquardt: an exact exponential fit (zero
// residual), a linear problem against its normal equations, the NIST StRD problem Misra1a
// (non-zero residual, certified values), failure statuses, the progress callback, and unrolled
// differentiation against the analytic derivative of the fitted parameters.

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <type_traits>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "ift/dual.hpp"
#include "ift/solvers/gauss_newton.hpp"
#include "ift/solvers/levenberg_marquardt.hpp"
#include "ift/var.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

template <class S>
using VectorX = Eigen::Matrix<S, Eigen::Dynamic, 1>;

/// Lifts a value of scalar type `T` into the (possibly more deeply nested) scalar `S` the solver
/// calls the residual with, with zero tangents at the added levels.
template <class S, class T>
S lift(const T& a) {
  if constexpr (std::is_same_v<S, T>)
    return a;
  else
    return S(lift<ift::value_type_t<S>>(a));
}

/// Exact data y = 2 exp(−1.5 t) at t = 0, 0.1, …, 1 and the residual of the model p₀ exp(p₁ t).
const auto exponential_fit = [](const auto& p) {
  using S = typename std::decay_t<decltype(p)>::Scalar;
  VectorX<S> r(11);
  for (int i = 0; i < 11; ++i) {
    const double t = 0.1 * i;
    using std::exp;
    r(i) = p(0) * exp(p(1) * t) - 2.0 * std::exp(-1.5 * t);
  }
  return r;
};

/// NIST StRD Misra1a: y = b₁(1 − exp(−b₂ x)), 14 observations, certified values below.
constexpr std::array<double, 14> misra_x{77.6,  114.9, 141.1, 190.8, 239.9, 289.0, 332.8,
                                         378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0};
constexpr std::array<double, 14> misra_y{10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02,
                                         44.82, 50.76, 55.05, 61.01, 66.40, 75.47, 81.78};
constexpr double misra_b1 = 2.3894212918e+02;
constexpr double misra_b2 = 5.5015643181e-04;
constexpr double misra_rss = 1.2455138894e-01;

/// Misra1a residuals with the observations scaled by `scale` (1 for the published problem).
template <class P>
auto misra(P scale) {
  return [scale](const auto& b) {
    using S = typename std::decay_t<decltype(b)>::Scalar;
    VectorX<S> r(14);
    for (int i = 0; i < 14; ++i) {
      using std::exp;
      r(i) = b(0) * (1.0 - exp(-b(1) * misra_x[i])) - lift<S>(scale) * misra_y[i];
    }
    return r;
  };
}

/// A linear problem r = A x − b with an 8 × 3 Vandermonde A (t_i = i/7) and b_i = sin(i).
struct Linear {
  Eigen::MatrixXd A{8, 3};
  Eigen::VectorXd b{8};
  Linear() {
    for (int i = 0; i < 8; ++i) {
      const double t = i / 7.0;
      A(i, 0) = 1.0;
      A(i, 1) = t;
      A(i, 2) = t * t;
      b(i) = std::sin(i);
    }
  }
  /// The normal-equations solution (AᵀA)⁻¹Aᵀb.
  Eigen::VectorXd normal_solution() const { return (A.transpose() * A).ldlt().solve(A.transpose() * b); }
  template <class V>
  VectorX<typename V::Scalar> operator()(const V& x) const {
    using S = typename V::Scalar;
    VectorX<S> r(8);
    for (int i = 0; i < 8; ++i) r(i) = A(i, 0) * x(0) + A(i, 1) * x(1) + A(i, 2) * x(2) - b(i);
    return r;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("least squares recovers the parameters of an exact exponential fit", "[least_squares]",
                   ift::GaussNewton, ift::LevenbergMarquardt) {
  const TestType solver{};
  const auto s = solver.solve(exponential_fit, Eigen::Vector2d(1.0, 0.0));
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x(0), WithinAbs(2.0, 1e-10));
  CHECK_THAT(s.x(1), WithinAbs(-1.5, 1e-10));
  CHECK(s.residual_norm <= solver.tol);
  CHECK(exponential_fit(s.x).norm() < 1e-10);
}

TEMPLATE_TEST_CASE("least squares on a linear problem matches the normal equations", "[least_squares]",
                   ift::GaussNewton, ift::LevenbergMarquardt) {
  const Linear r;
  const Eigen::VectorXd expected = r.normal_solution();
  const auto s = TestType{}.solve(r, Eigen::VectorXd::Zero(3).eval());
  REQUIRE(s.status == ift::Status::converged);
  CHECK((s.x - expected).norm() < 1e-9);
  // The reported measure is ‖Aᵀ(Ax − b)‖.
  CHECK_THAT(s.residual_norm, WithinAbs((r.A.transpose() * (r.A * s.x - r.b)).norm(), 1e-14));
  // Gauss–Newton solves a linear problem in one step.
  if constexpr (std::is_same_v<TestType, ift::GaussNewton>) CHECK(s.iterations == 1);
}

TEMPLATE_TEST_CASE("least squares reproduces the NIST certified values of Misra1a (non-zero residual)",
                   "[least_squares]", ift::GaussNewton, ift::LevenbergMarquardt) {
  // NIST's second start (250, 5e-4); the parameters differ in scale by 10⁶. The rounding of r
  // (≈ 10⁻¹⁴) times the b₂ column of J (≈ 10⁵) puts the floor of ‖Jᵀr‖ near 10⁻⁹, so the
  // absolute tolerance is set above it; (JᵀJ)⁻¹ turns it into a parameter error below 10⁻¹⁰.
  TestType solver{};
  solver.tol = 1e-8;
  const auto s = solver.solve(misra(1.0), Eigen::Vector2d(250.0, 5e-4));
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x(0), WithinRel(misra_b1, 1e-9));
  CHECK_THAT(s.x(1), WithinRel(misra_b2, 1e-9));
  CHECK_THAT(misra(1.0)(s.x).squaredNorm(), WithinRel(misra_rss, 1e-9));
}

TEST_CASE("LevenbergMarquardt from NIST's far start of Misra1a, scaled and unscaled", "[least_squares]") {
  // Start 1 is (500, 1e-4): far from the solution and badly scaled.
  for (const bool scaled : {true, false}) {
    const ift::LevenbergMarquardt solver{.scaled = scaled, .tol = 1e-8, .max_iter = 5000};
    const auto s = solver.solve(misra(1.0), Eigen::Vector2d(500.0, 1e-4));
    REQUIRE(s.status == ift::Status::converged);
    CHECK_THAT(s.x(0), WithinRel(misra_b1, 1e-9));
    CHECK_THAT(s.x(1), WithinRel(misra_b2, 1e-9));
  }
}

TEMPLATE_TEST_CASE("least squares with a scalar parameter", "[least_squares]", ift::GaussNewton,
                   ift::LevenbergMarquardt) {
  // r_i(p) = exp(p t_i) − exp(0.7 t_i), t_i = i/4: zero residual at p = 0.7.
  const auto r = [](const auto& p) {
    using S = std::decay_t<decltype(p)>;
    VectorX<S> out(5);
    for (int i = 0; i < 5; ++i) {
      using std::exp;
      out(i) = exp(p * (i / 4.0)) - std::exp(0.7 * (i / 4.0));
    }
    return out;
  };
  const auto s = TestType{}.solve(r, 0.0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x, WithinAbs(0.7, 1e-10));
}

TEMPLATE_TEST_CASE("least-squares solvers report NaN starts and residuals as Status::non_finite",
                   "[least_squares][failure]", ift::GaussNewton, ift::LevenbergMarquardt) {
  const TestType solver{};
  const auto nan_start = solver.solve(exponential_fit, Eigen::Vector2d(not_a_number, 0.0));
  CHECK(nan_start.status == ift::Status::non_finite);
  CHECK(nan_start.iterations == 0);

  const auto nan_residual = solver.solve(
      [](const auto& p) {
        auto r = exponential_fit(p);
        r(3) += not_a_number;
        return r;
      },
      Eigen::Vector2d(1.0, 0.0));
  CHECK(nan_residual.status == ift::Status::non_finite);
  CHECK(nan_residual.iterations == 0);
  CHECK(nan_residual.x == Eigen::Vector2d(1.0, 0.0));
}

TEMPLATE_TEST_CASE("a Jacobian with the wrong sign stalls the solver: Status::stalled",
                   "[least_squares][failure]", ift::GaussNewton, ift::LevenbergMarquardt) {
  // r(p) = (p − 1, p + 1) with its derivative negated: every model step increases ½‖r‖².
  const auto r = [](const auto& p) {
    using S = std::decay_t<decltype(p)>;
    VectorX<S> out(2);
    out(0) = p - 1.0;
    out(1) = p + 1.0;
    if constexpr (ift::is_dual_v<S>)
      for (auto& ri : out) ri.v = -ri.v;
    return out;
  };
  const auto s = TestType{}.solve(r, 3.0);
  CHECK(s.status == ift::Status::stalled);
  CHECK(s.x == 3.0);
  CHECK_THAT(s.residual_norm, WithinAbs(6.0, 1e-14));
}

TEMPLATE_TEST_CASE("least-squares solvers stop at max_iter and report every iteration",
                   "[least_squares][failure]", ift::GaussNewton, ift::LevenbergMarquardt) {
  TestType solver{};
  solver.max_iter = 2;
  int calls = 0;
  solver.on_iteration = [&](int k, double) { CHECK(k == ++calls); };
  const auto s = solver.solve(misra(1.0), Eigen::Vector2d(500.0, 1e-4));
  CHECK(s.status == ift::Status::max_iterations);
  CHECK(s.iterations == 2);
  CHECK(calls == 2);
  CHECK(s.residual_norm > solver.tol);

  calls = 0;
  solver.max_iter = 100;
  const auto converged = solver.solve(exponential_fit, Eigen::Vector2d(1.0, 0.0));
  REQUIRE(converged.status == ift::Status::converged);
  CHECK(calls == converged.iterations);
}

TEMPLATE_TEST_CASE("unrolled least squares on a linear problem: dx*/dθ = (AᵀA)⁻¹Aᵀ c",
                   "[least_squares][unrolled]", ift::GaussNewton, ift::LevenbergMarquardt) {
  // r(x; θ) = A x − (b + θ c) with c_i = cos(i): x* is linear in θ with slope (AᵀA)⁻¹Aᵀc.
  using D = ift::Dual<double>;
  const Linear linear;
  Eigen::VectorXd c(8);
  for (int i = 0; i < 8; ++i) c(i) = std::cos(i);
  const D theta(0.5, 1.0);
  const auto r = [&](const auto& x) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    VectorX<S> out = linear(x);
    for (int i = 0; i < 8; ++i) out(i) -= lift<S>(theta) * c(i);
    return out;
  };
  const Eigen::Matrix<D, Eigen::Dynamic, 1> x0 = Eigen::VectorXd::Zero(3).cast<D>();
  const auto s = TestType{}.solve(r, x0);
  REQUIRE(s.status == ift::Status::converged);
  const Eigen::MatrixXd normal = linear.A.transpose() * linear.A;
  const Eigen::VectorXd expected_x = normal.ldlt().solve(linear.A.transpose() * (linear.b + 0.5 * c));
  const Eigen::VectorXd expected_dx = normal.ldlt().solve(linear.A.transpose() * c);
  for (int i = 0; i < 3; ++i) {
    CHECK_THAT(s.x(i).value(), WithinAbs(expected_x(i), 1e-9));
    CHECK_THAT(s.x(i).tangent()(0), WithinAbs(expected_dx(i), 1e-8));
  }
}

TEMPLATE_TEST_CASE("unrolled least squares with a non-zero residual: Misra1a with scaled observations",
                   "[least_squares][unrolled]", ift::GaussNewton, ift::LevenbergMarquardt) {
  // Scaling every observation by θ scales b₁ by θ and leaves b₂: at θ = 1, db*/dθ = (b₁*, 0).
  // The curvature of the residual enters here (J depends on b), so this checks that J is carried
  // in the AD scalar.
  using D = ift::Dual<double>;
  const Eigen::Matrix<D, 2, 1> x0(D(250.0), D(5e-4));
  TestType solver{};
  solver.tol = 1e-8;
  const auto s = solver.solve(misra(D(1.0, 1.0)), x0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x(0).value(), WithinRel(misra_b1, 1e-9));
  CHECK_THAT(s.x(0).tangent()(0), WithinRel(misra_b1, 1e-7));
  CHECK_THAT(s.x(1).tangent()(0), WithinAbs(0.0, 1e-12));
}

TEST_CASE("unrolled LevenbergMarquardt on Var: the tape gives dx*/dθ of the linear problem",
          "[least_squares][unrolled]") {
  const Linear linear;
  Eigen::VectorXd c(8);
  for (int i = 0; i < 8; ++i) c(i) = std::cos(i);
  ift::Tape tape;
  const ift::Var theta = 0.5;
  const auto r = [&](const auto& x) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    VectorX<S> out = linear(x);
    for (int i = 0; i < 8; ++i) out(i) -= lift<S>(theta) * c(i);
    return out;
  };
  Eigen::Matrix<ift::Var, Eigen::Dynamic, 1> x0(3);
  for (int i = 0; i < 3; ++i) x0(i) = ift::Var::constant(0.0);
  const auto s = ift::LevenbergMarquardt{}.solve(r, x0);
  REQUIRE(s.status == ift::Status::converged);
  const Eigen::MatrixXd normal = linear.A.transpose() * linear.A;
  const Eigen::VectorXd expected_dx = normal.ldlt().solve(linear.A.transpose() * c);
  for (int i = 0; i < 3; ++i) CHECK_THAT(tape.gradient(s.x(i), theta), WithinAbs(expected_dx(i), 1e-8));
}

TEST_CASE("least-squares solver structs: kind, name and designated initializers", "[least_squares]") {
  STATIC_REQUIRE(ift::GaussNewton::kind == ift::ProblemKind::least_squares);
  STATIC_REQUIRE(ift::LevenbergMarquardt::kind == ift::ProblemKind::least_squares);
  STATIC_REQUIRE(ift::LevenbergMarquardt::name == "LevenbergMarquardt");
  const ift::LevenbergMarquardt lm{
      .initial_damping = 1e-2, .scaled = false, .tol = 1e-8, .throw_on_failure = false};
  CHECK(lm.initial_damping == 1e-2);
  CHECK_FALSE(lm.scaled);
  CHECK(lm.max_iter == ift::LevenbergMarquardt{}.max_iter);
  const ift::GaussNewton gn{.tol = 1e-12, .max_iter = 20};
  CHECK(gn.max_iter == 20);
}
