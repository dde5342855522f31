// Must not compile: Newton is a root solver, passed to ift::fixed_point.
// expected: written for another kind of problem
#include <ift/fixed_point.hpp>
#include <ift/root.hpp>

int main() {
  const auto F = [](const auto& x, const auto& theta) { return 0.5 * x + theta; };
  return ift::fixed_point(F, 0.0, 1.0, ift::Newton{}).x > 0.0 ? 0 : 1;
}
