// Must not compile: ift::implicit has no solver to unroll.
// expected: Unrolled needs a solver to unroll
#include <ift/implicit.hpp>

int main() {
  const auto c = [](const auto& x, const auto& theta) { return x * x - theta; };
  return ift::implicit(c, 3.0, ift::Dual<double>(9.0, 1.0), ift::Unrolled{}).value() > 0.0 ? 0 : 1;
}
