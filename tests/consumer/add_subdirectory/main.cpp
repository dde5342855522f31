// Uses ift built as a subdirectory of this project.
#include <cmath>
#include <cstdio>

#include <ift/fixed_point.hpp>

int main() {
  // x = cos(a x) at a = 1: x = 0.7390851…, dx/da = −x sin(x)/(1 + sin(x)).
  const auto map = [](const auto& x, const auto& a) {
    using std::cos;
    return cos(a * x);
  };
  const ift::Dual<double> x = ift::fixed_point(map, 0.0, ift::Dual<double>(1.0, 1.0)).x;
  const double s = std::sin(x.value());
  const double expected = -x.value() * s / (1 + s);
  std::printf("x = %.10f, dx/da = %.10f, expected %.10f\n", x.value(), x.tangent()(0), expected);
  return std::abs(x.value() - 0.7390851332) < 1e-9 && std::abs(x.tangent()(0) - expected) < 1e-10 ? 0 : 1;
}
