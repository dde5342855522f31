#pragma once
// Conjugate gradients on Hessian-vector products: how `Auto` solves the implicit rule of a large
// minimization, H dx = b with H = ∂²L/∂x² at the minimizer, without forming H.
//
// Forming H costs one reverse-over-forward pass per unknown, n passes, then n³/3 flops for its LU. A
// product H v costs one such pass (about two gradients of L: the VJP of ∇ₓL, which H's symmetry makes
// a JVP too), and CG needs a product per iteration — about √κ · log(1/tol) of them for a Hessian of
// condition number κ, far fewer than n on a well-posed problem of many unknowns.
//
// CG only vouches for a positive definite H, and only once it has converged. So the products spent
// by the factorization's solves, over all their columns, are bounded by n, the cost of forming H; a
// column that CG does not finish within what is left — slow convergence, or a direction of
// nonpositive curvature pᵀHp ≤ 0 (a saddle, or a singular H) — and every column after it are solved
// by the dense LU of H, formed once, with its condition check. The derivative is then the dense path's
// exactly (a singular H still raises `SingularJacobianError`), at most about twice the dense cost; a
// converged column is accepted only after its true residual ‖b − H x‖ ≤ tol ‖b‖ is checked by one more
// product.

#include <cmath>
#include <memory>
#include <optional>
#include <utility>

#include <Eigen/Core>

#include "ift/linalg/dense.hpp"
#include "ift/linalg/linear_solver.hpp"

namespace ift::detail {

/// The implicit rule's factorization of a symmetric J (see the file comment): CG on products with J,
/// the dense LU of J when CG cannot finish. `J` is the rule's `JacobianOperator`, copied: the reverse
/// rule keeps the factorization until its backward pass.
template <class J>
class HessianFactor final : public ErasedFactor {
 public:
  HessianFactor(J jac, double tol) : jac_(std::move(jac)), tol_(tol), budget_(jac_.size()) {}

  /// X with J X = B.
  Eigen::MatrixXd solve(const Eigen::MatrixXd& rhs) const override {
    const Matrix& b = rhs;
    Matrix x(b.rows(), b.cols());
    auto product = jac_.transposed();  // J v = Jᵀ v, by the rule's cheapest product
    for (Eigen::Index k = 0; k < b.cols(); ++k)
      if (dense_ || !conjugate_gradients(product, b.col(k), x.col(k))) x.col(k) = dense().solve(b.col(k));
    return x;
  }
  /// X with Jᵀ X = B: the same, J being symmetric.
  Eigen::MatrixXd solve_transposed(const Eigen::MatrixXd& b) const override { return solve(b); }

  /// True once CG gave up and the dense LU was formed.
  bool fell_back() const { return dense_.has_value(); }

 private:
  // Spelt out, not deduced from DenseLU::factor (deducing it would compile the LU in every unit), and
  // dependent on J, as are the vectors below, so that nothing is compiled before a unit uses it.
  using Dense = typename deferred<DenseFactor<Eigen::PartialPivLU<Eigen::MatrixXd>>, J>::type;
  using Vector = typename deferred<Eigen::VectorXd, J>::type;
  using Matrix = typename deferred<Eigen::MatrixXd, J>::type;

  // CG from x = 0 within the budget; false when it cannot vouch for x.
  template <class Product, class B, class X>
  bool conjugate_gradients(Product& product, const B& b, X&& x) const {
    x.setZero();
    const double bound = tol_ * b.norm();
    if (bound == 0.0) return true;
    Vector r = b, p = b;
    double rr = r.squaredNorm();
    while (budget_ > 1) {  // one product kept for the check of the true residual
      const Vector hp = product(p);
      --budget_;
      const double curvature = p.dot(hp);
      if (!(curvature > 0.0)) return false;
      const double alpha = rr / curvature;
      x += alpha * p;
      r -= alpha * hp;
      const double rr_next = r.squaredNorm();
      if (std::sqrt(rr_next) <= bound) {
        --budget_;
        return (b - product(Vector(x))).norm() <= bound;
      }
      p = r + (rr_next / rr) * p;
      rr = rr_next;
    }
    return false;
  }

  const Dense& dense() const {
    if (!dense_) dense_.emplace(DenseLU{}.factor(jac_.dense()));
    return *dense_;
  }

  J jac_;
  double tol_;
  mutable Eigen::Index budget_;  // products CG may still spend
  mutable std::optional<Dense> dense_;
};

}  // namespace ift::detail
