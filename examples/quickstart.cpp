// The README's example: x(θ) solves x² = θ; its derivative dx/dθ = 1/(2√θ) = 1/6 at θ = 9,
// by forward mode (Dual) and by reverse mode (Var on a tape), without differentiating Newton's steps.
#include <cmath>
#include <cstdio>

#include <ift/ift.hpp>

int main() {
  // The conditions g(x, θ) = 0, written once for every scalar type.
  const auto g = [](const auto& x, const auto& theta) { return x * x - theta; };

  // Forward mode: θ = 9 with tangent 1.
  const ift::Dual<double> x = ift::root(g, 1.0, ift::Dual<double>(9.0, 1.0)).x;
  std::printf("x = %.15f, dx/dtheta = %.15f (forward)\n", x.value(), x.tangent()(0));

  // Reverse mode: θ recorded on a tape.
  ift::Tape tape;
  const ift::Var theta = 9.0;
  const ift::Var y = ift::root(g, 1.0, theta).x;
  const double dy = tape.gradient(y, theta);
  std::printf("x = %.15f, dx/dtheta = %.15f (reverse), exact 1/6 = %.15f\n", y.value(), dy, 1.0 / 6);

  const bool ok = std::abs(x.tangent()(0) - 1.0 / 6) < 1e-12 && std::abs(dy - 1.0 / 6) < 1e-12;
  return ok ? 0 : 1;
}
