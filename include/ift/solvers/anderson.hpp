#pragma once
// Anderson acceleration (type II) for a fixed point x = F(x).
//
// With the residual g(x) = F(x) − x and the last m differences
//   ΔX = [x_{i+1} − x_i],  ΔG = [g_{i+1} − g_i]   (n × m),
// the step solves the least-squares problem γ = argmin ‖g_k − ΔG γ‖₂ and mixes
//   x_{k+1} = x_k + β g_k − (ΔX + β ΔG) γ,
// i.e. the combination of past iterates whose linearized residual is smallest, pushed through
// F (β = 1 gives x_{k+1} = F(x_k) − ΔF γ). On a linear map this is GMRES in disguise, so it
// converges much faster than x ← F(x) when the contraction factor is close to 1.
//
// The least-squares problem is solved through its normal equations with the columns of ΔG
// scaled to unit length (D = diag ‖ΔG_i‖, Â = D⁻¹ΔGᵀΔG D⁻¹) and Tikhonov regularization
//   (Â + λI) γ̂ = D⁻¹ΔGᵀ g_k,  γ = D⁻¹ γ̂,
// which keeps γ bounded when the history is nearly linearly dependent (as it becomes near
// convergence). Two safeguards keep the method from doing worse than the plain iteration:
// when the (regularized) system is still numerically singular, or when the accelerated point
// has a non-finite image or a residual more than ten times the best one seen, the history is
// dropped and the plain step x_k + β g_k is taken instead.
//
// The arithmetic is in the scalar type of x, so on AD scalars derivatives flow through the
// iterations; every decision (conditioning, safeguard, convergence) compares plain values.

#include <cmath>
#include <deque>
#include <limits>
#include <stdexcept>
#include <string_view>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/LU>

#include "ift/solution.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

/// Type-II Anderson acceleration of `x ← F(x)` with a regularized least-squares step and a
/// fall-back to the plain step; for a scalar or an Eigen vector (fixed or dynamic size).
///
/// Converged when `‖F(x) − x‖₂ ≤ tol`; `residual_norm` is that norm at the returned `x`.
/// When `F` returns NaN or Inf at the plain step the status is `Status::non_finite` and `x`
/// is the last iterate whose image was finite.
/// Throws `std::invalid_argument` for `memory < 0`, `regularization < 0` or `damping` outside
/// `(0, 1]`.
struct Anderson {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::fixed_point;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "Anderson";

  int memory = 5;                 ///< number m of past differences kept (0: plain damped iteration)
  double regularization = 1e-10;  ///< Tikhonov λ on the column-normalized normal equations
  double damping = 1.0;           ///< mixing β ∈ (0, 1]: weight of F(x) against x (1: undamped)

  double tol = 1e-10;                ///< bound on ‖F(x) − x‖₂
  int max_iter = 1000;               ///< maximum number of accepted steps
  bool throw_on_failure = true;      ///< read by the entry points (`detail::check`)
  IterationCallback on_iteration{};  ///< called after each step with ‖F(x) − x‖₂

  /// Solves `x = f(x)` from `x0`.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0) const {
    if (memory < 0) throw std::invalid_argument("ift::Anderson: memory must be >= 0");
    if (!(regularization >= 0.0)) throw std::invalid_argument("ift::Anderson: regularization must be >= 0");
    if (!(damping > 0.0 && damping <= 1.0))
      throw std::invalid_argument("ift::Anderson: damping must be in (0, 1]");
    return detail::solve_state(f, x0, [this](auto& g, const auto& v0) { return this->solve_vector(g, v0); });
  }

 private:
  // Smallest acceptable reciprocal condition number of the normalized, regularized system;
  // below it γ carries no correct digits (only reachable with regularization ≈ 0).
  static constexpr double min_rcond = 1e3 * std::numeric_limits<double>::epsilon();
  // An accelerated point whose residual exceeds this multiple of the best residual so far is
  // rejected: the extrapolation left the region where the linear model of g holds.
  static constexpr double max_growth = 10.0;

  template <class F, class X>
  Solution<X> solve_vector(F& f, const X& x0) const {
    using T = typename X::Scalar;
    using MatrixT = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    using VectorT = Eigen::Matrix<T, Eigen::Dynamic, 1>;

    Solution<X> out{x0, Status::converged, 0, std::numeric_limits<double>::quiet_NaN()};
    if (!detail::all_finite(x0)) {
      out.status = Status::non_finite;
      return out;
    }
    X g = X(f(out.x)) - out.x;
    out.residual_norm = detail::value_norm(g);
    if (!detail::all_finite(g)) {
      out.status = Status::non_finite;
      return out;
    }

    std::deque<X> dx;  // x_{i+1} − x_i, oldest first
    std::deque<X> dg;  // g_{i+1} − g_i
    double best = out.residual_norm;
    for (int k = 1; out.residual_norm > tol; ++k) {
      if (k > max_iter) {
        out.status = Status::max_iterations;
        return out;
      }
      const X plain = out.x + damping * g;
      X next = plain;
      bool accelerated = false;
      if (!dg.empty()) {
        const auto m = static_cast<Eigen::Index>(dg.size());
        MatrixT gram(m, m);
        VectorT rhs(m);
        Eigen::VectorXd scale(m);
        for (Eigen::Index i = 0; i < m; ++i) scale(i) = detail::value_norm(dg[i]);
        for (Eigen::Index i = 0; i < m; ++i) {
          rhs(i) = dg[i].dot(g) / scale(i);
          for (Eigen::Index j = 0; j <= i; ++j) {
            gram(i, j) = dg[i].dot(dg[j]) / (scale(i) * scale(j));
            gram(j, i) = gram(i, j);
          }
          gram(i, i) += regularization;
        }
        const Eigen::MatrixXd gram_values = gram.unaryExpr([](const T& v) { return detail::to_double(v); });
        const Eigen::LDLT<Eigen::MatrixXd> check(gram_values);
        if (check.info() == Eigen::Success && check.isPositive() && check.rcond() >= min_rcond) {
          const VectorT gamma = gram.partialPivLu().solve(rhs);
          for (Eigen::Index i = 0; i < m; ++i) next -= (gamma(i) / scale(i)) * (dx[i] + damping * dg[i]);
          accelerated = true;
        } else {
          dx.clear();
          dg.clear();
        }
      }

      X g_next = X(f(next)) - next;
      double r_next = detail::value_norm(g_next);
      if (accelerated && !(std::isfinite(r_next) && r_next <= max_growth * best)) {
        dx.clear();
        dg.clear();
        next = plain;
        g_next = X(f(next)) - next;
        r_next = detail::value_norm(g_next);
      }
      if (!std::isfinite(r_next)) {
        out.status = Status::non_finite;
        return out;
      }

      X change = g_next - g;
      if (memory > 0 && detail::value_norm(change) > 0.0) {
        if (static_cast<int>(dg.size()) == memory) {
          dx.pop_front();
          dg.pop_front();
        }
        dx.push_back(next - out.x);
        dg.push_back(std::move(change));
      }
      out.x = std::move(next);
      g = std::move(g_next);
      out.residual_norm = r_next;
      out.iterations = k;
      if (r_next < best) best = r_next;
      if (on_iteration) on_iteration(k, r_next);
    }
    return out;
  }
};

}  // namespace ift
