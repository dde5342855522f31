// Must not compile: the residual takes x only, but ift::root calls f(x, theta).
// expected: ResidualFunction
#include <ift/root.hpp>

int main() {
  const auto f = [](const auto& x) { return x * x - 9.0; };
  return ift::root(f, 1.0, 9.0).x > 0.0 ? 0 : 1;
}
