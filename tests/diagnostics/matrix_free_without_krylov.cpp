// Must not compile: the matrix-free linear_solve defaults to ift::GMRES, which <ift/krylov.hpp> brings.
// expected: include <ift/krylov.hpp>
#include <ift/linear_solve.hpp>

int main() {
  const auto scaled = [](const auto& v, const auto& theta) { return (theta * v).eval(); };
  const Eigen::VectorXd x = ift::linear_solve(scaled, Eigen::VectorXd::Ones(3), 2.0);
  return x(0) > 0.0 ? 0 : 1;
}
