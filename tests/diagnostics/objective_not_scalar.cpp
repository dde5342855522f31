// Must not compile: ift::minimize needs an objective that returns a scalar.
// expected: ObjectiveFunction
#include <ift/minimize.hpp>

int main() {
  const auto L = [](const auto& x, const auto& theta) { return (x - theta).eval(); };
  return ift::minimize(L, Eigen::Vector2d(0.0, 0.0), Eigen::Vector2d(1.0, 2.0)).x(0) > 0.0 ? 0 : 1;
}
