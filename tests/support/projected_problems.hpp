#pragma once
// Closed-form projected problems shared by the implicit and unrolled tests of ift::minimize_projected:
// a box-constrained quadratic, a half-space and a simplex, each with its x(θ), dx/dθ and d²x/dθ².

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "vector_modes.hpp"

namespace ift_test {

// Box: min ½xᵀQx − sin θ·bᵀx over [−1, 1]³. At θ = 1 the first coordinate sits at its upper bound
// (∂L/∂x₀ < 0 there) and the others are free, so x₀ = 1, dx₀ = 0 and on F = {1, 2}
//   Q_FF x_F = sin θ b_F − Q_F0,   dx_F = cos θ Q_FF⁻¹ b_F,   d²x_F = −sin θ Q_FF⁻¹ b_F.
inline const Eigen::Matrix3d box_q = (Eigen::Matrix3d() << 4, 1, 0, 1, 3, 1, 0, 1, 2).finished();
inline const Eigen::Vector3d box_b(8, 2, -1);
inline const auto box_objective = [](const auto& x, const auto& th) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  return S(0.5 * x.dot(box_q.cast<S>() * x) - sin(th) * box_b.cast<S>().dot(x));
};
inline const auto box_projection = [](const auto& y, const auto&) {
  using S = typename std::decay_t<decltype(y)>::Scalar;
  Vec<S> out = y;
  for (Eigen::Index i = 0; i < y.size(); ++i) out(i) = y(i) > 1.0 ? S(1.0) : (y(i) < -1.0 ? S(-1.0) : y(i));
  return out;
};

inline VectorExpected box_expected(double theta) {
  const Eigen::Matrix2d qff = box_q.bottomRightCorner<2, 2>();
  const Eigen::Vector2d bf = box_b.tail<2>();
  const Eigen::Vector2d xf = qff.ldlt().solve(std::sin(theta) * bf - box_q.block<2, 1>(1, 0));
  const Eigen::Vector2d u = qff.ldlt().solve(bf);
  VectorExpected e{Eigen::VectorXd(3), Eigen::VectorXd(3), Eigen::VectorXd(3)};
  e.x << 1.0, xf;
  e.dx << 0.0, std::cos(theta) * u;
  e.d2x << 0.0, -std::sin(theta) * u;
  // The active set the closed form assumes: x_F inside the box, and L would decrease past x₀ = 1.
  REQUIRE(xf.cwiseAbs().maxCoeff() < 1.0);
  REQUIRE((box_q * e.x - std::sin(theta) * box_b)(0) < 0.0);
  return e;
}

// Half-space: min ½(x − p)ᵀD(x − p) s.t. Σx ≤ 1, p(θ) = (θ, θ², 1), D = diag(1, 2, 4). Active at θ = 1:
//   x = p − μ D⁻¹1,   μ = (1ᵀp − 1)/(1ᵀD⁻¹1),  so dx = dp − (1ᵀdp/1ᵀD⁻¹1) D⁻¹1 (the same for d²).
inline const Eigen::Vector3d half_space_d(1, 2, 4);
inline const auto half_space_objective = [](const auto& x, const auto& th) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  Vec<S> p(3);
  p << th, th * th, S(1.0);
  const Vec<S> r = x - p;
  return S(0.5 * r.dot(half_space_d.cast<S>().asDiagonal() * r));
};
inline const auto half_space_projection = [](const auto& y, const auto&) {
  using S = typename std::decay_t<decltype(y)>::Scalar;
  const S excess = y.sum() - 1.0;
  Vec<S> out = y;
  if (excess > 0.0) out.array() -= excess / 3.0;
  return out;
};

inline VectorExpected half_space_expected(double theta) {
  const Eigen::VectorXd dinv = half_space_d.cwiseInverse();
  const auto along = [&](const Eigen::VectorXd& v, double target) {
    return Eigen::VectorXd(v - (v.sum() - target) / dinv.sum() * dinv);
  };
  Eigen::VectorXd p(3), dp(3), d2p(3);
  p << theta, theta * theta, 1.0;
  dp << 1.0, 2.0 * theta, 0.0;
  d2p << 0.0, 2.0, 0.0;
  REQUIRE(p.sum() > 1.0);
  return {along(p, 1.0), along(dp, 0.0), along(d2p, 0.0)};
}

// Simplex: min ½Σwᵢ(xᵢ − yᵢ)² over {x ≥ 0, Σx = 1}, y(θ) = (θ, ½θ², −1, 0.1), w = (1, 2, 4, 1). At
// θ = 1 the support is S = {0, 1}: x_S = y_S − τ/w_S with τ = (Σ_S y − 1)/Σ_S wᵢ⁻¹ (the off-support
// multipliers wᵢ(0 − yᵢ) + τ stay positive), hence dx_S = dy_S − dτ/w_S and the same for d².
inline const Eigen::Vector4d simplex_w(1, 2, 4, 1);
inline const auto simplex_objective = [](const auto& x, const auto& th) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  Vec<S> y(4);
  y << th, 0.5 * th * th, S(-1.0), S(0.1);
  const Vec<S> r = x - y;
  return S(0.5 * r.dot(simplex_w.cast<S>().asDiagonal() * r));
};
// Sort-based projection (Held, Wolfe & Crowder): τ from the largest k entries with yₖ > τₖ.
inline const auto simplex_projection = [](const auto& y, const auto&) {
  using S = typename std::decay_t<decltype(y)>::Scalar;
  std::vector<S> sorted(y.data(), y.data() + y.size());
  std::sort(sorted.begin(), sorted.end(), [](const S& a, const S& b) { return a > b; });
  S sum = sorted[0] - sorted[0], tau = sum;
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    sum += sorted[k];
    const S t = (sum - 1.0) / static_cast<double>(k + 1);
    if (sorted[k] > t) tau = t;
  }
  Vec<S> out(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) out(i) = y(i) > tau ? S(y(i) - tau) : S(tau - tau);
  return out;
};

inline VectorExpected simplex_expected(double theta) {
  const double winv = 1.0 + 0.5;
  const double tau = (theta + 0.5 * theta * theta - 1.0) / winv, dtau = (1.0 + theta) / winv,
               d2tau = 1.0 / winv;
  VectorExpected e{Eigen::VectorXd::Zero(4), Eigen::VectorXd::Zero(4), Eigen::VectorXd::Zero(4)};
  e.x.head<2>() << theta - tau, 0.5 * theta * theta - tau / 2.0;
  e.dx.head<2>() << 1.0 - dtau, theta - dtau / 2.0;
  e.d2x.head<2>() << -d2tau, 1.0 - d2tau / 2.0;
  REQUIRE(e.x.head<2>().minCoeff() > 0.0);
  REQUIRE(-simplex_w(3) * 0.1 + tau > 0.0);
  return e;
}

}  // namespace ift_test
