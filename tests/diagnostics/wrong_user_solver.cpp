// Must not compile: 42 is neither a built-in solver nor a callable solve(fp, x0).
// expected: a solver must be a built-in solver struct or a callable
#include <ift/root.hpp>

int main() {
  const auto f = [](const auto& x, const auto& theta) { return x * x - theta; };
  return ift::root(f, 1.0, 9.0, 42).x > 0.0 ? 0 : 1;
}
