// Uses the installed package through the umbrella header, so a header missing from the install fails here.
#include <cmath>
#include <cstdio>

#include <ift/ift.hpp>

int main() {
  // x² = θ at θ = 9: x = 3, dx/dθ = 1/(2√θ) = 1/6.
  const auto g = [](const auto& x, const auto& theta) { return x * x - theta; };
  const ift::Dual<double> x = ift::root(g, 1.0, ift::Dual<double>(9.0, 1.0)).x;

  ift::Tape tape;
  const ift::Var theta = 9.0;
  const ift::Var y = ift::root(g, 1.0, theta).x;
  const double dy = tape.gradient(y, theta);

  std::printf("x = %.12f, dx/dtheta = %.12f (forward), %.12f (reverse), expected 1/6 = %.12f\n", x.value(),
              x.tangent()(0), dy, 1.0 / 6.0);
  const bool ok = std::abs(x.value() - 3.0) < 1e-12 && std::abs(x.tangent()(0) - 1.0 / 6.0) < 1e-12 &&
                  std::abs(dy - 1.0 / 6.0) < 1e-12;
  return ok ? 0 : 1;
}
