#pragma once
// BFGS: quasi-Newton minimization with a dense approximation H ≈ (∇²L)⁻¹.
//
//   p = −H ∇L(x),   x⁺ = x + αp  (α from a strong Wolfe line search),
//   s = x⁺ − x,  y = ∇L(x⁺) − ∇L(x),  ρ = 1/(sᵀy),
//   H⁺ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
//      = H + (ρ + ρ² yᵀHy) s sᵀ − ρ (Hy sᵀ + s yᵀH)      (H symmetric; O(n²) per update).
//
// H⁺ is positive definite exactly when sᵀy > 0, which the Wolfe curvature condition guarantees;
// a pair without it is skipped (see `QuasiNewtonDirection`). Before the first update H = I is
// rescaled to (sᵀy / yᵀy) I (Nocedal & Wright eq. 6.20), so the first trial step of the next
// iteration has about the right length. Cost per iteration: one gradient per line-search trial
// plus O(n²). The loop, the line search and the handling of AD scalars are those of
// line_search_minimizer.hpp.

#include <string_view>

#include <Eigen/Core>

#include "ift/solution.hpp"
#include "ift/solvers/line_search_minimizer.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

namespace detail {

/// The BFGS inverse Hessian as a dense matrix of values; empty (H = I) until the first update.
class DenseInverseHessian {
 public:
  bool empty() const { return H_.size() == 0; }
  void clear() { H_.resize(0, 0); }

  // A template only so that a program that never runs BFGS does not compile it.
  template <class Vector>
  void add(const Vector& s, const Vector& y) {
    const double sy = s.dot(y);
    if (empty()) H_ = (sy / y.squaredNorm()) * Eigen::MatrixXd::Identity(s.size(), s.size());
    const double rho = 1.0 / sy;
    const Eigen::VectorXd Hy = H_ * y;
    H_ +=
        (rho + rho * rho * y.dot(Hy)) * (s * s.transpose()) - rho * (Hy * s.transpose() + s * Hy.transpose());
  }

  /// H g in the arithmetic of g's scalar.
  template <class Vector>
  Vector apply(const Vector& g) const {
    if (empty()) return g;
    Vector out = g;
    for (Eigen::Index i = 0; i < g.size(); ++i) out(i) = dot_with_values(H_.row(i), g);
    return out;
  }

 private:
  Eigen::MatrixXd H_;
};

}  // namespace detail

/// BFGS with a dense inverse-Hessian approximation and a strong Wolfe line search; stops when
/// ‖∇L(x)‖₂ ≤ `tol`. The default minimizer.
struct BFGS {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::minimize;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "BFGS";

  double tol = 1e-9;                 ///< bound on ‖∇L(x)‖₂
  int max_iter = 1000;               ///< iterations before giving up
  bool throw_on_failure = true;      ///< read by the entry points: throw `SolverError` on failure
  IterationCallback on_iteration{};  ///< called after each iteration with (k, ‖∇L‖₂)

  /// Minimizes `f` (a scalar function of a scalar or an Eigen vector) from `x0`; never throws for
  /// a failed solve, the `Status` says why it stopped and `x` is the last finite iterate.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0) const {
    return detail::line_search_minimize(f, x0, detail::QuasiNewtonDirection<detail::DenseInverseHessian>{},
                                        *this);
  }
};

}  // namespace ift
