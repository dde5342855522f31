// Must not compile: Bisection's iterates carry no derivative, so unrolling it would give dx/dθ = 0.
// expected: this solver's iterates carry no derivative
#include <ift/root.hpp>

int main() {
  const auto f = [](const auto& x, const auto& theta) { return x * x - theta; };
  const auto s =
      ift::root(f, 1.0, ift::Dual<double>(9.0, 1.0), ift::Bisection{.lo = 0.0, .hi = 10.0}, ift::Unrolled{});
  return s.x.value() > 0.0 ? 0 : 1;
}
