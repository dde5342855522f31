// The derivative helpers on inputs of an AD scalar: x(t) = x + t·d as Dual<double>, so every
// result carries its derivative along d, checked against hand-derived higher derivatives. Also
// the forward-over-forward Hessian's chunk boundaries (n = 7, 8, 9, 17).

#include <catch2/catch.hpp>
#include <cmath>

#include "derivative_problems.hpp"
#include "ift/derivatives.hpp"

using problems::check_close;
using problems::direction;
using problems::point;
using D = ift::Dual<double>;

namespace {

/// x + t·d with d the test direction, as a vector of compile-time size N.
template <int N>
Eigen::Matrix<D, N, 1> dual_point(Eigen::Index n) {
  const Eigen::VectorXd x = point(n);
  const Eigen::VectorXd d = direction(n);
  Eigen::Matrix<D, N, 1> out;
  out.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) out(i) = D(x(i), d(i));
  return out;
}

/// The values and the tangents of a matrix of Dual<double>.
template <class M>
Eigen::MatrixXd values(const M& m) {
  return m.unaryExpr([](const D& e) { return e.value(); });
}
template <class M>
Eigen::MatrixXd tangents(const M& m) {
  return m.unaryExpr([](const D& e) { return e.tangent()(0); });
}

template <int N>
void check_rosenbrock(Eigen::Index n) {
  INFO("n = " << n << (N == Eigen::Dynamic ? " (dynamic)" : " (fixed)"));
  const Eigen::VectorXd x = point(n);
  const Eigen::VectorXd d = direction(n);
  const Eigen::MatrixXd H = problems::rosenbrock_hessian(x);

  // d/dt ∇f(x + t d) = H d.
  const Eigen::VectorX<D> g = ift::gradient(problems::Rosenbrock{}, dual_point<N>(n));
  check_close(values(g), problems::rosenbrock_gradient(x));
  check_close(tangents(g), H * d);

  const Eigen::MatrixX<D> h = ift::hessian(problems::Rosenbrock{}, dual_point<N>(n));
  check_close(values(h), H);
  check_close(tangents(h), problems::rosenbrock_hessian_derivative(x, d));
}

}  // namespace

TEST_CASE("gradient and hessian at Dual<double> points carry third derivatives", "[derivatives]") {
  check_rosenbrock<2>(2);
  check_rosenbrock<3>(3);
  for (const Eigen::Index n : {7, 8, 9, 17}) check_rosenbrock<Eigen::Dynamic>(n);
}

TEST_CASE("jacobian and jvp at Dual<double> points", "[derivatives]") {
  for (const Eigen::Index n : {3, 9}) {
    INFO("n = " << n);
    const Eigen::VectorXd x = point(n);
    const Eigen::VectorXd d = direction(n);
    const Eigen::MatrixXd J = problems::vector_function_jacobian(x);
    const Eigen::MatrixXd dJ = problems::vector_function_jacobian_derivative(x, d);

    const auto [y, Jd] = ift::value_and_jacobian(problems::VectorFunction{}, dual_point<Eigen::Dynamic>(n));
    check_close(values(y), problems::VectorFunction{}(x));
    check_close(tangents(y), J * d);
    check_close(values(Jd), J);
    check_close(tangents(Jd), dJ);

    // jvp with a constant direction v: d/dt J(x + t d) v = dJ v.
    const Eigen::VectorXd v = point(n).reverse();
    const auto [fy, Jv] = ift::jvp(problems::VectorFunction{}, dual_point<Eigen::Dynamic>(n), v);
    check_close(tangents(fy), J * d);
    check_close(values(Jv), J * v);
    check_close(tangents(Jv), dJ * v);
  }
}

TEST_CASE("hessian of a fixed-size Vector3 of Dual<double>", "[derivatives]") {
  // f = x₀² x₁ + exp(x₂) x₀: H = [[2x₁, 2x₀, eˣ²], [2x₀, 0, 0], [eˣ², 0, x₀ eˣ²]].
  const auto f = [](const auto& x) {
    using std::exp;
    return x(0) * x(0) * x(1) + exp(x(2)) * x(0);
  };
  const Eigen::Matrix<D, 3, 1> x(D(0.5, 1.0), D(-2.0, 0.0), D(0.25, 0.0));  // d/dx₀
  const Eigen::MatrixX<D> H = ift::hessian(f, x);
  const double e = std::exp(0.25);
  Eigen::Matrix3d expected;
  expected << -4.0, 1.0, e, 1.0, 0.0, 0.0, e, 0.0, 0.5 * e;
  check_close(values(H), expected);
  Eigen::Matrix3d d_expected;  // ∂H/∂x₀
  d_expected << 0.0, 2.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, e;
  check_close(tangents(H), d_expected);
}
