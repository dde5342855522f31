// When the implicit rule cannot give a derivative, ift says so instead of returning a plausible number.
//
//  1. The solver does not converge: by default ift::SolverError, whose message names the solver, the
//     iterations, the residual and the reason. With `throw_on_failure = false` the Solution reports the
//     status, `x` is the last iterate x_k, and `derivatives_exact` is false: the derivatives are those of
//     the perturbed problem g(x, θ) = g(x_k, θ) that x_k solves exactly, here 1/(2x_k) instead of 1/6.
//  2. The conditions are singular at the solution: x² = θ at θ = 0 has the root x = 0 where
//     ∂g/∂x = 2x = 0, and √θ has no derivative there. ift::SingularJacobianError names the condition
//     estimate of ∂c/∂x.
//  3. NaN in θ: a bad input, not an outcome of the solve: std::invalid_argument naming the entry point
//     and the input, whatever `throw_on_failure` says.

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#include <ift/root.hpp>

int main() {
  bool ok = true;
  const auto g = [](const auto& x, const auto& theta) { return x * x - theta; };

  std::printf("1. A solver that runs out of iterations\n");
  try {
    (void)ift::root(g, 1.0, 9.0, ift::Newton{.max_iter = 2});
    ok = false;
  } catch (const ift::SolverError& e) {
    std::printf("  SolverError: %s\n", e.what());
    ok &= std::string(e.what()).find("Newton") != std::string::npos;
  }
  const auto s =
      ift::root(g, 1.0, ift::Dual<double>(9.0, 1.0), ift::Newton{.max_iter = 2, .throw_on_failure = false});
  std::printf(
      "  with throw_on_failure = false: status '%s', x = %.6f after %d iterations, dx/dtheta = %f "
      "(derivatives_exact = %s; 1/(2x) = %f)\n",
      std::string(ift::to_string(s.status)).c_str(), s.x.value(), s.iterations, s.x.tangent()(0),
      s.derivatives_exact ? "true" : "false", 1.0 / (2.0 * s.x.value()));
  ok &= !s && s.status == ift::Status::max_iterations && !s.derivatives_exact &&
        std::abs(s.x.tangent()(0) - 1.0 / (2.0 * s.x.value())) < 1e-14;

  std::printf("2. Singular conditions at the solution\n");
  // A user solver that returns the exact root x = 0 of x² = 0, so only the derivative step can fail.
  const auto exact_root = [](const auto&, double) { return 0.0; };
  try {
    (void)ift::root(g, 1.0, ift::Dual<double>(0.0, 1.0), exact_root);
    ok = false;
  } catch (const ift::SingularJacobianError& e) {
    std::printf("  SingularJacobianError: %s\n", e.what());
    ok &= std::isinf(e.condition_estimate());
  }

  std::printf("3. NaN in the parameters\n");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  try {
    (void)ift::root(g, 1.0, ift::Dual<double>(nan, 1.0), ift::Newton{.throw_on_failure = false});
    ok = false;
  } catch (const std::invalid_argument& e) {
    std::printf("  std::invalid_argument: %s\n", e.what());
    ok &= std::string(e.what()).find("theta") != std::string::npos;
  }

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
