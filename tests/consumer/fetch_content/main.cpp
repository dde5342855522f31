// Uses ift fetched with FetchContent.
#include <cmath>
#include <cstdio>

#include <ift/linear_solve.hpp>

int main() {
  // A(θ) x = b with A = diag(θ, 2), b = (1, 1): x₀ = 1/θ, dx₀/dθ = −1/θ².
  using D = ift::Dual<double>;
  const D theta(4.0, 1.0);
  Eigen::Matrix<D, 2, 2> A;
  A << theta, D(0.0), D(0.0), D(2.0);
  const Eigen::Matrix<D, 2, 1> b(D(1.0), D(1.0));
  const Eigen::Matrix<D, 2, 1> x = ift::linear_solve(A, b);
  std::printf("x0 = %.12f, dx0/dtheta = %.12f, expected 0.25 and -0.0625\n", x(0).value(), x(0).tangent()(0));
  return std::abs(x(0).value() - 0.25) < 1e-14 && std::abs(x(0).tangent()(0) + 0.0625) < 1e-14 ? 0 : 1;
}
