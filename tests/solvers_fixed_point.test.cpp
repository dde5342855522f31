// The primal fixed-point solvers: ift::Iteration and ift::Anderson.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "ift/dual.hpp"
#include "ift/solvers/anderson.hpp"
#include "ift/solvers/iteration.hpp"

namespace {

constexpr double dottie = 0.7390851332151607;  // the fixed point of cos
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

// F(x) = [sqrt(10 − x₀x₁), sqrt((57 − x₁)/(3·F₀(x)))], fixed point (2, 3).
template <class V>
V two_d_map(const V& x) {
  using std::sqrt;
  V y(2);
  y(0) = sqrt(10.0 - x(0) * x(1));
  y(1) = sqrt((57.0 - x(1)) / (3.0 * y(0)));
  return y;
}

// x = 0.5·tanh(W x) + b with W symmetric positive semidefinite and ‖W‖₂ = 1.9, so F is a
// contraction with factor at most 0.95, reached along W's top eigenvector: slow for x ← F(x).
struct TanhContraction {
  Eigen::MatrixXd W;
  Eigen::VectorXd b;

  explicit TanhContraction(Eigen::Index n) : W(n, n), b(n) {
    Eigen::MatrixXd A(n, n);
    for (Eigen::Index i = 0; i < n; ++i) {
      b(i) = 0.05 * std::cos(1.0 + static_cast<double>(i));
      for (Eigen::Index j = 0; j < n; ++j) {
        // A deterministic hash in [−½, ½).
        const double h =
            std::sin(12.9898 * static_cast<double>(i) + 78.233 * static_cast<double>(j)) * 43758.5453;
        A(i, j) = h - std::floor(h) - 0.5;
      }
    }
    W = A * A.transpose();
    // ‖W‖₂ = its largest eigenvalue, by power iteration.
    Eigen::VectorXd v = Eigen::VectorXd::Ones(n);
    double lambda = 0.0;
    for (int k = 0; k < 1000; ++k) {
      const Eigen::VectorXd w = W * v;
      lambda = w.norm() / v.norm();
      v = w / w.norm();
    }
    W *= 1.9 / lambda;
  }
  Eigen::VectorXd operator()(const Eigen::VectorXd& x) const {
    return 0.5 * (W * x).array().tanh().matrix() + b;
  }
};

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

}  // namespace

TEST_CASE("Iteration solves x = cos x", "[solvers][fixed_point]") {
  Recorder rec;
  const ift::Iteration solver{.on_iteration = rec.callback()};
  const auto s = solver.solve([](double x) { return std::cos(x); }, 1.0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK(s);
  CHECK_THAT(s.x, Catch::Matchers::WithinAbs(dottie, 1e-10));
  CHECK(s.residual_norm <= 1e-10);
  CHECK(s.residual_norm == std::abs(std::cos(s.x) - s.x));
  // |cos'(x*)| = sin(x*) ≈ 0.674: about log(1e-10)/log(0.674) ≈ 58 iterations.
  CHECK(s.iterations > 40);
  CHECK(s.iterations < 80);
  rec.check(s.iterations, s.residual_norm);
}

TEST_CASE("Iteration solves the 2-D map, fixed and dynamic size", "[solvers][fixed_point]") {
  const auto fixed = ift::Iteration{}.solve([](const Eigen::Vector2d& x) { return two_d_map(x); },
                                            Eigen::Vector2d(1.5, 3.5));
  REQUIRE(fixed.status == ift::Status::converged);
  CHECK_THAT(fixed.x(0), Catch::Matchers::WithinAbs(2.0, 1e-9));
  CHECK_THAT(fixed.x(1), Catch::Matchers::WithinAbs(3.0, 1e-9));
  CHECK(fixed.residual_norm <= 1e-10);

  Eigen::VectorXd x0(2);
  x0 << 1.5, 3.5;
  const auto dynamic = ift::Iteration{}.solve([](const Eigen::VectorXd& x) { return two_d_map(x); }, x0);
  REQUIRE(dynamic.status == ift::Status::converged);
  CHECK(dynamic.iterations == fixed.iterations);
  CHECK_THAT((dynamic.x - Eigen::Vector2d(2.0, 3.0)).norm(), Catch::Matchers::WithinAbs(0.0, 1e-9));
}

TEST_CASE("Iteration reports its failures", "[solvers][fixed_point]") {
  const auto cosine = [](double x) { return std::cos(x); };
  SECTION("max_iterations") {
    Recorder rec;
    const auto s = ift::Iteration{.max_iter = 5, .on_iteration = rec.callback()}.solve(cosine, 1.0);
    CHECK(s.status == ift::Status::max_iterations);
    CHECK(s.iterations == 5);
    CHECK(s.residual_norm == std::abs(std::cos(s.x) - s.x));
    rec.check(5, s.residual_norm);
  }
  SECTION("a NaN initial guess") {
    const auto s = ift::Iteration{}.solve(cosine, not_a_number);
    CHECK(s.status == ift::Status::non_finite);
    CHECK(s.iterations == 0);
  }
  SECTION("a map that returns NaN keeps the last iterate with a finite image") {
    // 16 → sqrt(16) − 2 = 2 → sqrt(2) − 2 < 0 → NaN.
    const auto s = ift::Iteration{}.solve([](double x) { return std::sqrt(x) - 2.0; }, 16.0);
    CHECK(s.status == ift::Status::non_finite);
    CHECK(s.x == 2.0);
    CHECK(s.iterations == 1);
    CHECK(s.residual_norm == std::abs(std::sqrt(2.0) - 4.0));
  }
  SECTION("a diverging map overflows to non_finite") {
    // F(x) = 3 − 2x has the repelling fixed point 1: |x − 1| doubles until it overflows.
    const auto s = ift::Iteration{}.solve([](double x) { return 3.0 - 2.0 * x; }, 1.5);
    CHECK(s.status == ift::Status::non_finite);
    CHECK(std::isfinite(s.x));
    CHECK(s.iterations > 1000);
  }
  SECTION("zero iterations when x0 is already a fixed point") {
    const auto s = ift::Iteration{}.solve([](double x) { return x * x; }, 1.0);
    CHECK(s.status == ift::Status::converged);
    CHECK(s.iterations == 0);
    CHECK(s.residual_norm == 0.0);
  }
}

TEST_CASE("Anderson solves x = cos x", "[solvers][fixed_point]") {
  Recorder rec;
  const ift::Anderson solver{.memory = 5, .on_iteration = rec.callback()};
  const auto s = solver.solve([](double x) { return std::cos(x); }, 1.0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x, Catch::Matchers::WithinAbs(dottie, 1e-11));
  CHECK(s.residual_norm <= 1e-10);
  CHECK(s.residual_norm == std::abs(std::cos(s.x) - s.x));
  const auto plain = ift::Iteration{}.solve([](double x) { return std::cos(x); }, 1.0);
  CHECK(s.iterations < plain.iterations / 4);
  rec.check(s.iterations, s.residual_norm);
}

TEST_CASE("Anderson solves the 2-D map, fixed and dynamic size", "[solvers][fixed_point]") {
  const auto fixed =
      ift::Anderson{}.solve([](const Eigen::Vector2d& x) { return two_d_map(x); }, Eigen::Vector2d(1.5, 3.5));
  REQUIRE(fixed.status == ift::Status::converged);
  CHECK_THAT((fixed.x - Eigen::Vector2d(2.0, 3.0)).norm(), Catch::Matchers::WithinAbs(0.0, 1e-10));
  CHECK(fixed.residual_norm <= 1e-10);

  Eigen::VectorXd x0(2);
  x0 << 1.5, 3.5;
  const auto dynamic = ift::Anderson{}.solve([](const Eigen::VectorXd& x) { return two_d_map(x); }, x0);
  REQUIRE(dynamic.status == ift::Status::converged);
  CHECK_THAT((dynamic.x - Eigen::Vector2d(2.0, 3.0)).norm(), Catch::Matchers::WithinAbs(0.0, 1e-10));

  const auto plain = ift::Iteration{}.solve([](const Eigen::Vector2d& x) { return two_d_map(x); },
                                            Eigen::Vector2d(1.5, 3.5));
  CHECK(fixed.iterations < plain.iterations);
}

TEST_CASE("Anderson accelerates a 100-D tanh contraction", "[solvers][fixed_point]") {
  const TanhContraction F(100);
  const Eigen::VectorXd x0 = Eigen::VectorXd::Zero(100);
  const auto plain = ift::Iteration{}.solve(F, x0);
  const auto anderson = ift::Anderson{}.solve(F, x0);
  REQUIRE(plain.status == ift::Status::converged);
  REQUIRE(anderson.status == ift::Status::converged);
  CHECK((F(anderson.x) - anderson.x).norm() <= 1e-10);
  CHECK_THAT(anderson.residual_norm, Catch::Matchers::WithinRel((F(anderson.x) - anderson.x).norm(), 1e-12));
  // Both are within ‖F(x) − x‖/(1 − 0.95) = 2e-9 of the fixed point.
  CHECK((anderson.x - plain.x).norm() <= 4e-9);
  CHECK(plain.iterations > 200);
  CHECK(anderson.iterations < plain.iterations / 4);
}

TEST_CASE("Anderson options", "[solvers][fixed_point]") {
  const auto cosine = [](double x) { return std::cos(x); };
  SECTION("memory 0 is the plain iteration") {
    const auto s = ift::Anderson{.memory = 0}.solve(cosine, 1.0);
    const auto plain = ift::Iteration{}.solve(cosine, 1.0);
    REQUIRE(s.status == ift::Status::converged);
    CHECK(std::abs(s.iterations - plain.iterations) <= 1);
  }
  SECTION("damping makes a repelling linear map converge") {
    // F(x) = 3 − 2x: x ← x + ½(F(x) − x) = 1.5 − x/2 contracts to 1 with factor ½.
    const auto s =
        ift::Anderson{.memory = 0, .damping = 0.5}.solve([](double x) { return 3.0 - 2.0 * x; }, 5.0);
    REQUIRE(s.status == ift::Status::converged);
    CHECK_THAT(s.x, Catch::Matchers::WithinAbs(1.0, 1e-10));
    CHECK(s.iterations > 30);
    // With memory the secant step solves the linear map at once.
    const auto accelerated = ift::Anderson{.damping = 0.5}.solve([](double x) { return 3.0 - 2.0 * x; }, 5.0);
    REQUIRE(accelerated.status == ift::Status::converged);
    CHECK(accelerated.iterations <= 3);
  }
  SECTION("invalid options throw") {
    CHECK_THROWS_AS(ift::Anderson{.memory = -1}.solve(cosine, 1.0), std::invalid_argument);
    CHECK_THROWS_AS(ift::Anderson{.damping = 0.0}.solve(cosine, 1.0), std::invalid_argument);
    CHECK_THROWS_AS(ift::Anderson{.damping = 1.5}.solve(cosine, 1.0), std::invalid_argument);
    CHECK_THROWS_AS(ift::Anderson{.regularization = -1.0}.solve(cosine, 1.0), std::invalid_argument);
  }
}

TEST_CASE("Anderson rejects an extrapolation that multiplies the residual", "[solvers][fixed_point]") {
  // F(x) = x − 0.2·tanh x: g = F(x) − x is nearly flat far from 0, so an extrapolation through
  // iterates where g is flat shoots far past the fixed point 0. There |g| approaches 0.2, more
  // than ten times the best residual once that is below 0.02, and the point is rejected. F is
  // finite everywhere, so every evaluation beyond one per accepted step is such a rejection.
  int evaluations = 0;
  const auto F = [&](double x) {
    ++evaluations;
    return x - 0.2 * std::tanh(x);
  };
  const auto s = ift::Anderson{}.solve(F, 2.0);
  REQUIRE(s.status == ift::Status::converged);
  CHECK_THAT(s.x, Catch::Matchers::WithinAbs(0.0, 1e-9));
  CHECK(evaluations > s.iterations + 1);
  const auto plain = ift::Iteration{}.solve([](double x) { return x - 0.2 * std::tanh(x); }, 2.0);
  CHECK(s.iterations < plain.iterations / 3);
}

TEST_CASE("Anderson reports its failures", "[solvers][fixed_point]") {
  SECTION("max_iterations") {
    Recorder rec;
    const TanhContraction F(100);
    const auto s = ift::Anderson{.max_iter = 3, .on_iteration = rec.callback()}.solve(
        F, Eigen::VectorXd::Zero(100).eval());
    CHECK(s.status == ift::Status::max_iterations);
    CHECK(s.iterations == 3);
    CHECK_THAT(s.residual_norm, Catch::Matchers::WithinRel((F(s.x) - s.x).norm(), 1e-12));
    rec.check(3, s.residual_norm);
  }
  SECTION("a NaN initial guess") {
    Eigen::Vector2d x0(1.5, not_a_number);
    const auto s = ift::Anderson{}.solve([](const Eigen::Vector2d& x) { return two_d_map(x); }, x0);
    CHECK(s.status == ift::Status::non_finite);
    CHECK(s.iterations == 0);
  }
  SECTION("a map that returns NaN keeps the last iterate with a finite image") {
    // 16 → 2 (plain step); the extrapolated point and the plain step from 2 are both negative.
    const auto s = ift::Anderson{}.solve([](double x) { return std::sqrt(x) - 2.0; }, 16.0);
    CHECK(s.status == ift::Status::non_finite);
    CHECK(s.x == 2.0);
    CHECK(s.iterations == 1);
  }
  SECTION("the safeguard falls back to the plain step when extrapolation leaves the domain") {
    // From 0.01 the extrapolation overshoots below 0, where sqrt is NaN; the plain step keeps
    // the iteration going to the fixed point x* = ((1 + √2)/2)² of sqrt(x) + 1/4.
    int negative_calls = 0;
    const auto F = [&](double x) {
      negative_calls += x < 0.0;
      return std::sqrt(x) + 0.25;
    };
    const auto s = ift::Anderson{}.solve(F, 0.01);
    REQUIRE(s.status == ift::Status::converged);
    CHECK(negative_calls > 0);
    const double root = (1.0 + std::sqrt(2.0)) / 2.0;
    // F'(x*) = 1/(2√x*) ≈ 0.41, so |x − x*| ≤ residual/(1 − 0.41).
    CHECK_THAT(s.x, Catch::Matchers::WithinAbs(root * root, 2e-10));
  }
}

TEST_CASE("Iteration and Anderson unrolled on Dual carry dx/dθ", "[solvers][fixed_point][unrolled]") {
  using D = ift::Dual<double>;
  // The tangent follows ẋ ← F'(x)ẋ + ∂F/∂θ, whose error decays like k·qᵏ: one factor k behind
  // the values, hence the looser bound for the plain iteration.
  const auto check_tangent = [](const D& x, double expected, double rel) {
    CHECK_THAT(x.tangent()(0), Catch::Matchers::WithinRel(expected, rel));
  };

  // x = θ cos x at θ = 1: x = 0.739…, dx/dθ = cos x / (1 + θ sin x).
  const D theta(1.0, 1.0);
  const auto F = [&](const D& x) { return theta * cos(x); };
  const double expected = std::cos(dottie) / (1.0 + std::sin(dottie));
  const auto plain = ift::Iteration{}.solve(F, D(1.0));
  const auto anderson = ift::Anderson{}.solve(F, D(1.0));
  REQUIRE(plain.status == ift::Status::converged);
  REQUIRE(anderson.status == ift::Status::converged);
  CHECK_THAT(plain.x.value(), Catch::Matchers::WithinAbs(dottie, 1e-10));
  CHECK_THAT(anderson.x.value(), Catch::Matchers::WithinAbs(dottie, 1e-10));
  check_tangent(plain.x, expected, 1e-7);
  check_tangent(anderson.x, expected, 1e-9);

  // The 2-D map with 10 replaced by θ: dx/dθ = (I − ∂F/∂x)⁻¹ ∂F/∂θ at (2, 3), θ = 10, where
  // ∂F/∂x = [[−3/4, −1/2], [9/16, 25/72]] and ∂F/∂θ = [1/4, −3/16].
  const D ten(10.0, 1.0);
  const auto map = [&](const Eigen::Vector2<D>& x) {
    Eigen::Vector2<D> y;
    y(0) = sqrt(ten - x(0) * x(1));
    y(1) = sqrt((57.0 - x(1)) / (3.0 * y(0)));
    return y;
  };
  Eigen::Matrix2d jacobian;
  jacobian << -3.0 / 4.0, -1.0 / 2.0, 9.0 / 16.0, 25.0 / 72.0;
  const Eigen::Vector2d dx =
      (Eigen::Matrix2d::Identity() - jacobian).lu().solve(Eigen::Vector2d(0.25, -3.0 / 16.0));
  const Eigen::Vector2<D> x0(D(1.5), D(3.5));
  const auto plain2 = ift::Iteration{}.solve(map, x0);
  const auto anderson2 = ift::Anderson{}.solve(map, x0);
  REQUIRE(plain2.status == ift::Status::converged);
  REQUIRE(anderson2.status == ift::Status::converged);
  for (Eigen::Index i = 0; i < 2; ++i) {
    CHECK_THAT(anderson2.x(i).value(), Catch::Matchers::WithinAbs(i == 0 ? 2.0 : 3.0, 1e-10));
    check_tangent(plain2.x(i), dx(i), 1e-7);
    check_tangent(anderson2.x(i), dx(i), 1e-9);
  }
}
