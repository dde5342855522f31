#pragma once
// Broyden's tridiagonal system with a parameter per equation,
//   gᵢ(x, θ) = (3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1 − θᵢ   (x₋₁ = xₙ = 0),
// generic over the scalar. Its Jacobian, 3 − 4xᵢ on the diagonal, −1 below and −2 above, is
// diagonally dominant near the root reached from x = −1.

#include <type_traits>

#include <Eigen/Core>

namespace ift_test {

inline constexpr auto broyden = [](const auto& x, const auto& p) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  const Eigen::Index n = x.size();
  Eigen::VectorX<S> g(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    S gi = (3.0 - 2.0 * x(i)) * x(i) + 1.0 - p(i);
    if (i > 0) gi -= x(i - 1);
    if (i + 1 < n) gi -= 2.0 * x(i + 1);
    g(i) = gi;
  }
  return g;
};

}  // namespace ift_test
