#pragma once
// Proximal operators, differentiable almost everywhere.
//
// prox_g(y) = argmin_z ½‖z − y‖² + g(z) for
//
//   prox_l1(y, λ)              g = λ‖z‖₁               zᵢ = sign(yᵢ) max(|yᵢ| − λ, 0)   (soft thresholding)
//   prox_elastic_net(y, λ, μ)  g = λ‖z‖₁ + ½μ‖z‖²      zᵢ = sign(yᵢ) max(|yᵢ| − λ, 0)/(1 + μ)
//
// The elastic net follows from the l1 case: ½‖z − y‖² + ½μ‖z‖² = ½(1 + μ)‖z − y/(1 + μ)‖² + const, so its
// prox is prox_l1 of y/(1 + μ) with strength λ/(1 + μ), which is prox_l1(y, λ)/(1 + μ).
//
// As for the projections (ift/projections.hpp, whose conventions these share), the piece is chosen on
// plain values and its closed form evaluated in the AD scalar: ∂zᵢ/∂yᵢ = 1/(1 + μ) where |yᵢ| > λ and 0
// elsewhere, ∂zᵢ/∂λ = −sign(yᵢ)/(1 + μ) where |yᵢ| > λ, ∂zᵢ/∂μ = −zᵢ/(1 + μ). At the kink |yᵢ| = λ the
// entry is the constant 0 (the thresholded side). The strengths are scalars of y's scalar type or plain
// numbers, finite and ≥ 0; a proximal-gradient step calls prox_l1(y, η·λ) for a step η.

#include <Eigen/Core>
#include <cmath>

#include "ift/detail/traits.hpp"
#include "ift/projections.hpp"

namespace ift {
namespace detail::projection {

/// zᵢ = finish(yᵢ ∓ λ) where ±yᵢ > λ (values), the constant 0 elsewhere.
template <class R, class Y, class Finish>
result_vector<R, Y> soft_threshold(const Y& y, const R& lambda, Finish finish) {
  const double threshold = to_double(lambda);
  result_vector<R, Y> z(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const double v = to_double(y(i));
    if (v > threshold)
      z(i) = finish(constant_of<R>(y(i)) - lambda);
    else if (v < -threshold)
      z(i) = finish(constant_of<R>(y(i)) + lambda);
    else
      z(i) = constant_of<R>(0.0);
  }
  return z;
}

}  // namespace detail::projection

/// Soft thresholding, the prox of strength·‖z‖₁: zᵢ = yᵢ − strength·sign(yᵢ) where |yᵢ| > strength,
/// else the constant 0.
/// @throws std::invalid_argument for a non-finite y or a negative or non-finite strength.
template <class Derived, Scalar Strength>
auto prox_l1(const Eigen::MatrixBase<Derived>& y, const Strength& strength) {
  namespace p = detail::projection;
  using R = p::result_scalar_t<typename Derived::Scalar, Strength>;
  static_assert(Derived::IsVectorAtCompileTime, "ift::prox_l1: y must be an Eigen vector");
  static_assert(p::supported_v<R>,
                "ift::prox_l1: y and the strength must hold one scalar type (double, Dual, Var, Dual<Var>) "
                "or plain numbers");
  const typename Derived::PlainObject& yv = y.derived();
  p::require_finite(yv, "prox_l1");
  p::require_nonnegative(strength, "prox_l1", "the strength");
  return p::soft_threshold(yv, detail::constant_of<R>(strength), [](R z) { return z; });
}

/// The prox of l1·‖z‖₁ + ½ l2·‖z‖²: prox_l1(y, l1)/(1 + l2).
/// @throws std::invalid_argument for a non-finite y or a negative or non-finite l1 or l2.
template <class Derived, Scalar L1, Scalar L2>
auto prox_elastic_net(const Eigen::MatrixBase<Derived>& y, const L1& l1, const L2& l2) {
  namespace p = detail::projection;
  using R = p::result_scalar_t<typename Derived::Scalar, L1, L2>;
  static_assert(Derived::IsVectorAtCompileTime, "ift::prox_elastic_net: y must be an Eigen vector");
  static_assert(p::supported_v<R>,
                "ift::prox_elastic_net: y, l1 and l2 must hold one scalar type (double, Dual, Var, "
                "Dual<Var>) or plain numbers");
  const typename Derived::PlainObject& yv = y.derived();
  p::require_finite(yv, "prox_elastic_net");
  p::require_nonnegative(l1, "prox_elastic_net", "l1");
  p::require_nonnegative(l2, "prox_elastic_net", "l2");
  const R shrink = 1.0 / (1.0 + detail::constant_of<R>(l2));
  return p::soft_threshold(yv, detail::constant_of<R>(l1), [&shrink](const R& z) { return R(z * shrink); });
}

}  // namespace ift
