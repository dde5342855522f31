// The derivative helpers at Var points: forward mode on Dual<Var, K> records on the caller's
// tape, so a reverse sweep over a gradient, Jacobian or Hessian gives the next derivative.

#include <catch2/catch.hpp>
#include <cmath>

#include "derivative_problems.hpp"
#include "ift/derivatives.hpp"

using ift::Var;
using problems::check_close;
using problems::point;

namespace {

template <int N>
Eigen::Matrix<Var, N, 1> var_point(const Eigen::Matrix<double, N, 1>& x) {
  Eigen::Matrix<Var, N, 1> out;
  out.resize(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) out(i) = Var(x(i));
  return out;
}

template <class M>
Eigen::MatrixXd values(const M& m) {
  return m.unaryExpr([](const Var& e) { return e.value(); });
}

}  // namespace

TEST_CASE("gradient at Var points: its reverse sweeps give the Hessian", "[derivatives]") {
  const Eigen::VectorXd x = point(9);  // two forward chunks of 8 directions
  ift::Tape tape;
  const Eigen::VectorX<Var> xv = var_point<Eigen::Dynamic>(x);
  const Eigen::VectorX<Var> g = ift::gradient(problems::Rosenbrock{}, xv);
  check_close(values(g), problems::rosenbrock_gradient(x));
  Eigen::MatrixXd H(9, 9);
  for (Eigen::Index k = 0; k < 9; ++k) H.row(k) = tape.gradient(g(k), xv).transpose();
  check_close(H, problems::rosenbrock_hessian(x));
}

TEST_CASE("jacobian and jvp at Var points", "[derivatives]") {
  const Eigen::Vector3d x = point(3);
  ift::Tape tape;
  const Eigen::Matrix<Var, 3, 1> xv = var_point<3>(x);
  const Eigen::MatrixX<Var> J = ift::jacobian(problems::VectorFunction{}, xv);
  check_close(values(J), problems::vector_function_jacobian(x));
  // J₀₀ = 2x₀x₁ + cos x₀: ∇J₀₀ = (2x₁ − sin x₀, 2x₀, 0).
  check_close(tape.gradient(J(0, 0), xv), Eigen::Vector3d(2.0 * x(1) - std::sin(x(0)), 2.0 * x(0), 0.0));

  const Eigen::Vector3d v(1.0, -1.0, 0.5);
  const auto [y, Jv] = ift::jvp(problems::VectorFunction{}, xv, v);
  check_close(values(y), problems::VectorFunction{}(Eigen::VectorXd(x)));
  check_close(values(Jv), problems::vector_function_jacobian(x) * v);
}

TEST_CASE("hessian at a Var point: its reverse sweep gives third derivatives", "[derivatives]") {
  const Eigen::Vector2d x(-1.2, 1.0);
  ift::Tape tape;
  const Eigen::Matrix<Var, 2, 1> xv = var_point<2>(x);
  const Eigen::MatrixX<Var> H = ift::hessian(problems::Rosenbrock{}, xv);
  check_close(values(H), problems::rosenbrock_hessian(x));
  // H₀₀ = 1200x₀² − 400x₁ + 2: ∇H₀₀ = (2400x₀, −400).
  check_close(tape.gradient(H(0, 0), xv), Eigen::Vector2d(2400.0 * x(0), -400.0));
}
