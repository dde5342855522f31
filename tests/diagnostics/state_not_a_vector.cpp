// Must not compile: the initial guess is a std::vector, not a scalar or an Eigen column vector.
// expected: must be a scalar or an Eigen column vector
#include <ift/minimize.hpp>
#include <vector>

int main() {
  const auto L = [](const auto& x, const auto& theta) { return (x[0] - theta) * (x[0] - theta); };
  return ift::minimize(L, std::vector<double>{0.0}, 2.0).x.empty() ? 0 : 1;
}
