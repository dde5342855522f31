// The derivative helpers on double inputs, against hand-derived derivatives. Inputs of AD
// scalars (derivatives of derivatives) are in derivatives_ad.test.cpp.

#include "ift/derivatives.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>
#include <tuple>
#include <type_traits>

#include "derivative_problems.hpp"

using problems::check_close;
using problems::direction;
using problems::point;

namespace {

/// The test point as a vector of compile-time size N (or dynamic).
template <int N>
Eigen::Matrix<double, N, 1> point_of(Eigen::Index n) {
  return point(n);
}

template <int N>
void check_rosenbrock(Eigen::Index n) {
  INFO("n = " << n << (N == Eigen::Dynamic ? " (dynamic)" : " (fixed)"));
  const Eigen::Matrix<double, N, 1> x = point_of<N>(n);
  check_close(ift::gradient(problems::Rosenbrock{}, x), problems::rosenbrock_gradient(x));
  check_close(ift::hessian(problems::Rosenbrock{}, x), problems::rosenbrock_hessian(x));
}

template <int N>
void check_vector_function(Eigen::Index n) {
  INFO("n = " << n << (N == Eigen::Dynamic ? " (dynamic)" : " (fixed)"));
  const Eigen::Matrix<double, N, 1> x = point_of<N>(n);
  const auto [y, J] = ift::value_and_jacobian(problems::VectorFunction{}, x);
  check_close(y, problems::VectorFunction{}(Eigen::VectorXd(x)));
  check_close(J, problems::vector_function_jacobian(x));
  check_close(ift::jacobian(problems::VectorFunction{}, x), problems::vector_function_jacobian(x));
}

}  // namespace

TEST_CASE("gradient and hessian of Rosenbrock", "[derivatives]") {
  check_rosenbrock<2>(2);
  check_rosenbrock<3>(3);
  check_rosenbrock<9>(9);  // fixed size above one chunk: reverse-over-forward Hessian
  for (const Eigen::Index n : {1, 2, 7, 8, 9, 17}) check_rosenbrock<Eigen::Dynamic>(n);
}

TEST_CASE("Rosenbrock derivatives at a known point", "[derivatives]") {
  // At (−1.2, 1): ∇f = (−215.6, −88), H = [[1330, 480], [480, 200]].
  const Eigen::Vector2d x(-1.2, 1.0);
  const Eigen::VectorXd g = ift::gradient(problems::Rosenbrock{}, x);
  CHECK_THAT(g(0), Catch::Matchers::WithinAbs(-215.6, 1e-12));
  CHECK_THAT(g(1), Catch::Matchers::WithinAbs(-88.0, 1e-12));
  const Eigen::MatrixXd H = ift::hessian(problems::Rosenbrock{}, Eigen::VectorXd(x));
  CHECK_THAT(H(0, 0), Catch::Matchers::WithinAbs(1330.0, 1e-10));
  CHECK_THAT(H(0, 1), Catch::Matchers::WithinAbs(480.0, 1e-10));
  CHECK_THAT(H(1, 0), Catch::Matchers::WithinAbs(480.0, 1e-10));
  CHECK_THAT(H(1, 1), Catch::Matchers::WithinAbs(200.0, 1e-10));
}

TEST_CASE("jacobian of a vector function across chunk boundaries", "[derivatives]") {
  check_vector_function<2>(2);
  check_vector_function<3>(3);
  check_vector_function<9>(9);
  for (const Eigen::Index n : {2, 7, 8, 9, 16, 17}) check_vector_function<Eigen::Dynamic>(n);
}

TEST_CASE("jacobian of a scalar function is the gradient as a row", "[derivatives]") {
  const Eigen::VectorXd x = point(9);
  const auto [y, J] = ift::value_and_jacobian(problems::Rosenbrock{}, x);
  REQUIRE(y.size() == 1);
  CHECK_THAT(y(0), Catch::Matchers::WithinRel(problems::Rosenbrock{}(x), 1e-15));
  check_close(J, problems::rosenbrock_gradient(x).transpose());
}

TEST_CASE("f may return an Eigen expression or a parameter tree", "[derivatives]") {
  const Eigen::Vector3d x(0.5, -1.0, 2.0);
  // An expression: 2x ⊙ x, whose Jacobian is diag(4x).
  const Eigen::MatrixXd J = ift::jacobian([](const auto& v) { return 2.0 * v.cwiseProduct(v); }, x);
  check_close(J, Eigen::MatrixXd(Eigen::Vector3d(4.0 * x).asDiagonal()));

  // A tuple (x₀x₁, sin x₂): rows (x₁, x₀, 0) and (0, 0, cos x₂).
  const auto [y, Jt] = ift::value_and_jacobian(
      [](const auto& v) {
        using std::sin;
        return std::make_tuple(v(0) * v(1), sin(v(2)));
      },
      x);
  check_close(y, Eigen::Vector2d(-0.5, std::sin(2.0)));
  Eigen::MatrixXd expected(2, 3);
  expected << -1.0, 0.5, 0.0, 0.0, 0.0, std::cos(2.0);
  check_close(Jt, expected);
}

TEST_CASE("jvp is J·v and vjp is Jᵀw", "[derivatives]") {
  for (const Eigen::Index n : {2, 8, 9}) {
    INFO("n = " << n);
    const Eigen::VectorXd x = point(n);
    const Eigen::VectorXd v = direction(n);
    const Eigen::VectorXd w = direction(n + 1).reverse();
    const Eigen::MatrixXd J = problems::vector_function_jacobian(x);
    const Eigen::VectorXd y = problems::VectorFunction{}(x);

    const auto [fy, Jv] = ift::jvp(problems::VectorFunction{}, x, v);
    check_close(fy, y);
    check_close(Jv, J * v);

    const auto [gy, Jtw] = ift::vjp(problems::VectorFunction{}, x, w);
    check_close(gy, y);
    check_close(Jtw, J.transpose() * w);
  }
}

TEST_CASE("jvp and vjp of a scalar function", "[derivatives]") {
  const Eigen::Vector3d x = point(3);
  const Eigen::Vector3d v = direction(3);
  const Eigen::VectorXd g = problems::rosenbrock_gradient(x);
  const auto [f, gv] = ift::jvp(problems::Rosenbrock{}, x, v);
  static_assert(std::is_same_v<std::remove_const_t<decltype(f)>, double>);
  CHECK_THAT(f, Catch::Matchers::WithinRel(problems::Rosenbrock{}(x), 1e-15));
  CHECK_THAT(gv, Catch::Matchers::WithinAbs(g.dot(v), 1e-12 * g.norm()));

  const auto [f2, gw] = ift::vjp(problems::Rosenbrock{}, x, -2.5);
  CHECK_THAT(f2, Catch::Matchers::WithinRel(problems::Rosenbrock{}(x), 1e-15));
  check_close(gw, -2.5 * g);
}

TEST_CASE("vjp and gradient nest inside an outer tape", "[derivatives]") {
  ift::Tape outer;
  const ift::Var a = 3.0;
  const Eigen::Vector2d x(-1.2, 1.0);
  const Eigen::VectorXd g = ift::gradient(problems::Rosenbrock{}, x);
  CHECK_THAT(g(0), Catch::Matchers::WithinAbs(-215.6, 1e-12));
  // The outer recording is untouched: it still differentiates its own variables.
  const ift::Var b = a * a;
  CHECK(outer.gradient(b, a) == 6.0);
}

TEST_CASE("the parameters' part of a VJP, recorded with x held constant, is the full VJP's",
          "[derivatives]") {
  // y = (x₀x₁ − sin(θ₀)x₀, eˣ¹ + θ₀θ₁, x₀² + 2): θ̄ = (−w₀ cos(θ₀)x₀ + w₁θ₁, w₁θ₀); the last output
  // does not depend on θ (a constant on the tape that holds x constant).
  const auto f = [](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    Eigen::VectorX<S> y(3);
    y(0) = x(0) * x(1) - sin(theta(0)) * x(0);
    y(1) = exp(x(1)) + theta(0) * theta(1);
    y(2) = x(0) * x(0) + 2.0;
    return y;
  };
  const Eigen::VectorXd x = Eigen::Vector2d(0.3, -0.7), theta = Eigen::Vector2d(1.1, 0.4);
  const Eigen::VectorXd w = Eigen::Vector3d(0.5, -2.0, 3.0);
  const Eigen::Vector2d exact(-w(0) * std::cos(theta(0)) * x(0) + w(1) * theta(1), w(1) * theta(0));
  check_close(ift::detail::vjp_theta(f, x, theta, w), exact);
  check_close(ift::vjp(f, x, theta, w).second, exact);
  CHECK_THROWS_AS(ift::detail::vjp_theta(f, x, theta, Eigen::VectorXd::Ones(2)), std::invalid_argument);
}

TEST_CASE("size mismatches are reported", "[derivatives]") {
  const Eigen::VectorXd x = point(3);
  CHECK_THROWS_AS(ift::jvp(problems::VectorFunction{}, x, Eigen::VectorXd::Ones(2)), std::invalid_argument);
  CHECK_THROWS_AS(ift::vjp(problems::VectorFunction{}, x, Eigen::VectorXd::Ones(3)), std::invalid_argument);
  // f's output size must not depend on the pass (here: on the tangent directions seeded).
  const auto changing = [](const auto& v) {
    using S = typename std::decay_t<decltype(v)>::Scalar;
    const Eigen::Index m = v(8).tangent()(0) == 1.0 ? 2 : 1;
    return Eigen::Matrix<S, Eigen::Dynamic, 1>::Constant(m, v(0));
  };
  CHECK_THROWS_AS(ift::jacobian(changing, point(9)), std::invalid_argument);
}
