#pragma once
// ift::kkt_conditions — the Karush–Kuhn–Tucker conditions of
//
//     min_x L(x, θ)   s.t.   eq(x, θ) = 0  (p constraints),   ineq(x, θ) ≤ 0  (m constraints)
//
// as conditions c(z, θ) = 0 on the stacked state z = (x, ν, μ), so that `ift::implicit` differentiates
// an answer found by any NLP solver. With the Lagrangian ℒ = L + νᵀeq + μᵀineq (μ ≥ 0):
//
//     c = ( ∇ₓℒ(x, ν, μ, θ),  eq(x, θ),  μ ⊙ ineq(x, θ) )
//
// The last block is the complementarity μᵢ·gᵢ = 0 (gᵢ = ineqᵢ) of OptNet (Amos & Kolter 2017). Its
// rows of ∂c/∂z are [μᵢ∇gᵢᵀ, 0, gᵢeᵢᵀ]: for an active constraint with μᵢ > 0 the row fixes dgᵢ = 0 (the
// constraint stays active), for an inactive one with gᵢ < 0 it fixes dμᵢ = 0. So under strict
// complementarity (never gᵢ = μᵢ = 0), linear independence of the active constraints' gradients
// (LICQ) and a Hessian of ℒ positive definite on their null space, ∂c/∂z is nonsingular and the
// implicit rule gives the derivative of the solution, multipliers included. A degenerate pair
// gᵢ = μᵢ = 0 makes row i zero: the solution is not differentiable there, and the rule would
// otherwise return one of its one-sided derivatives. Such a pair is refused before any derivative
// is taken (below), and a violated LICQ makes ∂c/∂z singular (`SingularJacobianError`).

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <Eigen/Core>
#include <Eigen/QR>

#include "ift/derivatives.hpp"
#include "ift/detail/conditions.hpp"
#include "ift/errors.hpp"
#include "ift/tree.hpp"

namespace ift {

namespace detail {

/// Refuses active constraints whose gradients are linearly dependent (LICQ fails): the rows of
/// ∂eq/∂x and the rows of ∂ineq/∂x whose slack −gᵢ is below their multiplier μᵢ. The multipliers are
/// then not unique and have no derivative, yet ∂c/∂z is only nearly singular (its complementarity
/// rows differ by the small slacks), so a factorization alone would not say so.
template <class Matrix>
void require_independent_active_constraints(const Matrix& eq_rows, const Matrix& ineq_rows,
                                            const Eigen::VectorXd& slack, const Eigen::VectorXd& mu,
                                            std::string_view entry) {
  Eigen::MatrixXd active(eq_rows.rows() + ineq_rows.rows(), eq_rows.cols());
  Eigen::Index k = eq_rows.rows();
  active.topRows(k) = eq_rows;
  for (Eigen::Index i = 0; i < ineq_rows.rows(); ++i)
    if (slack(i) < mu(i)) active.row(k++) = ineq_rows.row(i);
  if (k == 0) return;
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(active.topRows(k).transpose());
  if (qr.rank() == k) return;
  std::ostringstream out;
  out << entry << ": the " << k << " active constraints (equalities and tight inequalities) "
      << "have linearly dependent gradients (rank " << qr.rank()
      << "): the multipliers are not unique and have no derivative";
  throw SingularJacobianError(out.str(), std::numeric_limits<double>::infinity());
}

}  // namespace detail

/// The type of `ift::none`: "no constraints of this kind".
struct NoConstraints {};
/// Passed for `eq` or `ineq`: the problem has no constraints of that kind.
inline constexpr NoConstraints none{};

/// The KKT conditions of a constrained minimization on z = (x, ν, μ); see the top of this header.
/// Made by `ift::kkt_conditions`.
template <class L, class Eq, class Ineq>
struct KKTConditions {
  L objective;  ///< L(x, θ), a scalar
  Eq eq;        ///< eq(x, θ), an Eigen vector of n_eq values, or `NoConstraints`
  Ineq ineq;    ///< ineq(x, θ), an Eigen vector of n_ineq values, or `NoConstraints`
  Eigen::Index n_x, n_eq, n_ineq;
  /// A pair with |gᵢ| ≤ tol and |μᵢ| ≤ tol is degenerate; μᵢ < −tol or gᵢ > tol is not a KKT point.
  double tolerance;

  /// c(z, θ) for z of any scalar Q and θ a tree of Q. On doubles the answer is checked first: a
  /// degenerate constraint throws `SingularJacobianError`, a negative multiplier or a violated
  /// inequality `std::invalid_argument`.
  template <class Derived, class Theta>
  detail::VectorX<typename Derived::Scalar> operator()(const Eigen::MatrixBase<Derived>& z,
                                                       const Theta& theta) const {
    using Q = typename Derived::Scalar;
    if (z.size() != n_x + n_eq + n_ineq) {
      std::ostringstream out;
      out << "ift::kkt_conditions: z has " << z.size() << " entries; (x, nu, mu) needs " << n_x << " + "
          << n_eq << " + " << n_ineq;
      throw std::invalid_argument(out.str());
    }
    const detail::VectorX<Q> x = z.head(n_x);
    const detail::VectorX<Q> nu = z.segment(n_x, n_eq);
    const detail::VectorX<Q> mu = z.tail(n_ineq);
    // Both checked for their declared sizes before ∇ₓℒ reads them entry by entry.
    const detail::VectorX<Q> e = values(eq, x, theta, n_eq, "eq");
    const detail::VectorX<Q> g = values(ineq, x, theta, n_ineq, "ineq");
    if constexpr (std::is_same_v<Q, double>) check_complementarity(mu, g);

    // ∇ₓℒ, ℒ = L + νᵀeq + μᵀineq with ν and μ held constant: in Q arithmetic, so that the rule's
    // forward passes over c differentiate it once more.
    const auto lagrangian = [&](const auto& xd) {
      using D = typename std::decay_t<decltype(xd)>::Scalar;
      const auto theta_d = rebind<D>(theta);
      const detail::VectorX<D> xv = xd;
      D value = objective(xv, theta_d);
      if constexpr (!std::is_same_v<Eq, NoConstraints>) {
        const detail::VectorX<D> e = eq(xv, theta_d);
        for (Eigen::Index i = 0; i < n_eq; ++i) value += e(i) * nu(i);
      }
      if constexpr (!std::is_same_v<Ineq, NoConstraints>) {
        const detail::VectorX<D> h = ineq(xv, theta_d);
        for (Eigen::Index i = 0; i < n_ineq; ++i) value += h(i) * mu(i);
      }
      return value;
    };
    detail::VectorX<Q> c(z.size());
    c.head(n_x) = gradient(lagrangian, x);
    c.segment(n_x, n_eq) = e;
    c.tail(n_ineq) = mu.cwiseProduct(g);
    return c;
  }

 private:
  // f(x, θ) as a vector of its declared size (empty for `NoConstraints`).
  template <class F, class Q, class Theta>
  static detail::VectorX<Q> values(const F& f, const detail::VectorX<Q>& x, const Theta& theta,
                                   Eigen::Index n, const char* name) {
    if constexpr (std::is_same_v<F, NoConstraints>) {
      return detail::VectorX<Q>(0);
    } else {
      detail::VectorX<Q> out = f(x, theta);
      if (out.size() != n) {
        std::ostringstream message;
        message << "ift::kkt_conditions: " << name << "(x, theta) returns " << out.size()
                << " values, declared " << n;
        throw std::invalid_argument(message.str());
      }
      return out;
    }
  }

  void check_complementarity(const Eigen::VectorXd& mu, const Eigen::VectorXd& g) const {
    for (Eigen::Index i = 0; i < mu.size(); ++i) {
      std::ostringstream out;
      out << "ift::kkt_conditions: inequality " << i << " has ineq = " << g(i) << " and mu = " << mu(i);
      if (std::abs(g(i)) <= tolerance && std::abs(mu(i)) <= tolerance)
        throw SingularJacobianError(
            out.str() +
                ": an active constraint with a zero multiplier (a degenerate active set) "
                "leaves the solution without a derivative",
            std::numeric_limits<double>::infinity());
      if (mu(i) < -tolerance || g(i) > tolerance)
        throw std::invalid_argument(out.str() + ": not a KKT point (needs mu >= 0 and ineq <= 0)");
    }
  }
};

/// The KKT conditions of min L(x, θ) s.t. eq(x, θ) = 0, ineq(x, θ) ≤ 0 on z = (x, ν, μ), for
/// `ift::implicit(kkt_conditions(L, eq, ineq, n_x, n_eq, n_ineq), z_star, θ)` with an answer z* of
/// any solver. `L`, `eq` and `ineq` are generic over the scalar and take x as an Eigen vector of n_x
/// entries; `eq` and `ineq` return Eigen vectors of n_eq and n_ineq entries, or are `ift::none`.
/// `tolerance` decides, at z*, that a constraint with |ineqᵢ| ≤ tolerance and |μᵢ| ≤ tolerance is a
/// degenerate active constraint (`SingularJacobianError`: no derivative exists) and that μᵢ < −tolerance
/// or ineqᵢ > tolerance is not a KKT point (`std::invalid_argument`). Multipliers follow ℒ = L + νᵀeq +
/// μᵀineq. Cost per evaluation: one gradient of ℒ (forward passes on Dual, or one reverse sweep on doubles).
template <class L, class Eq, class Ineq>
auto kkt_conditions(L&& objective, Eq&& eq, Ineq&& ineq, Eigen::Index n_x, Eigen::Index n_eq,
                    Eigen::Index n_ineq, double tolerance = 1e-8) {
  using E = std::decay_t<Eq>;
  using I = std::decay_t<Ineq>;
  if (n_x < 1 || n_eq < 0 || n_ineq < 0 || (std::is_same_v<E, NoConstraints> && n_eq != 0) ||
      (std::is_same_v<I, NoConstraints> && n_ineq != 0) || !(tolerance >= 0)) {
    std::ostringstream out;
    out << "ift::kkt_conditions: invalid sizes (n_x = " << n_x << ", n_eq = " << n_eq
        << ", n_ineq = " << n_ineq << ", tolerance = " << tolerance
        << "); n_x >= 1, and ift::none has 0 constraints";
    throw std::invalid_argument(out.str());
  }
  return KKTConditions<std::decay_t<L>, E, I>{std::forward<L>(objective),
                                              std::forward<Eq>(eq),
                                              std::forward<Ineq>(ineq),
                                              n_x,
                                              n_eq,
                                              n_ineq,
                                              tolerance};
}

}  // namespace ift
