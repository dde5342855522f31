// Must not compile: x0 has 2 entries, f returns a vector of fixed size 3.
// expected: shape differs from x0
#include <ift/root.hpp>

int main() {
  const auto f = [](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    return Eigen::Matrix<S, 3, 1>(x(0) - theta, x(1), x(0) * x(1));
  };
  return ift::root(f, Eigen::Vector2d(1.0, 1.0), 2.0).x(0) > 0.0 ? 0 : 1;
}
