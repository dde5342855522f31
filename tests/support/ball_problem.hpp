#pragma once
// The projection onto the unit ball as a constrained problem, shared by the tests of
// ift::kkt_conditions and ift::minimize_constrained:
//   min ‖x − θ‖² s.t. ‖x‖² ≤ 1,   θ(t) = (t, 1).
// Outside the ball the answer is x = θ/r with r = ‖θ‖ = √(t² + 1), and 2(x − θ) + 2μx = 0 gives
// μ = r − 1; inside, x = θ and μ = 0.

#include <array>
#include <cmath>
#include <type_traits>

#include <Eigen/Core>

#include "modes.hpp"

namespace ift_test {

inline const auto distance = [](const auto& x, const auto& th) { return (x - th).squaredNorm(); };
inline const auto outside_ball = [](const auto& x, const auto&) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  return Eigen::Matrix<S, 1, 1>(x.squaredNorm() - 1.0);
};

template <class S>
Eigen::Matrix<S, 2, 1> theta_of(const S& t) {
  return Eigen::Matrix<S, 2, 1>(t, S(1.0));
}

/// z* = (x, μ) of the ball problem, by hand, at the values of θ.
inline Eigen::Vector3d ball_answer(double t) {
  const double r = std::hypot(t, 1.0);
  if (r <= 1) return Eigen::Vector3d(t, 1.0, 0.0);
  return Eigen::Vector3d(t / r, 1 / r, r - 1);
}

/// x₀ = t/r, x₁ = 1/r, μ = r − 1 and their first and second derivatives in t, outside the ball.
inline std::array<Expected, 3> ball_expected(double t) {
  const double r2 = t * t + 1, r = std::sqrt(r2);
  return {{{t / r, 1 / (r2 * r), -3 * t / (r2 * r2 * r)},
           {1 / r, -t / (r2 * r), (2 * t * t - 1) / (r2 * r2 * r)},
           {r - 1, t / r, 1 / (r2 * r)}}};
}

}  // namespace ift_test
