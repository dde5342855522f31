#pragma once
// ift::quadratic_program — the solution of
//
//     min ½xᵀQx + qᵀx   s.t.   Ax = b,   Gx ≤ h
//
// with derivatives w.r.t. any of Q, q, A, b, G, h (OptNet, Amos & Kolter 2017). The primal-dual
// solution z* = (x, ν, μ) comes from a dense interior-point method on doubles; derivatives from the
// implicit rule on the KKT conditions (the Lagrangian ½xᵀQx + qᵀx + νᵀ(Ax − b) + μᵀ(Gx − h))
//
//     c(z, θ) = ( Px + q + Aᵀν + Gᵀμ,  Ax − b,  μ ⊙ (Gx − h) ),   P = ½(Q + Qᵀ),
//
// whose Jacobian is the KKT matrix, formed in closed form:
//
//     ∂c/∂z = [ P       Aᵀ  Gᵀ         ]
//             [ A       0   0          ]
//             [ diag(μ)G 0  diag(Gx − h) ]
//
// It is nonsingular when A and the active rows of G are linearly independent, P is positive definite
// on their null space, and complementarity is strict (see kkt.hpp); a degenerate constraint (slack and
// multiplier both ~0) is refused with `SingularJacobianError`. The VJP is in closed form as well:
// for w = (w_x, w_ν, w_μ), w̃ = w_μ ⊙ μ,
//
//     Q̄ = ½(w_x xᵀ + x w_xᵀ),  q̄ = w_x,  Ā = ν w_xᵀ + w_ν xᵀ,  b̄ = −w_ν,  Ḡ = μ w_xᵀ + w̃ xᵀ,  h̄ = −w̃.

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ift/implicit.hpp"
#include "ift/kkt.hpp"
#include "ift/solvers/interior_point_qp.hpp"

namespace ift {
namespace detail {

/// The KKT conditions of a QP on z = (x, ν, μ) with θ = (Q, q, A, b, G, h); see the top of this header.
struct QPConditions : JacobianShortcut, VjpShortcut {
  Eigen::Index n, p, m;

  template <class T, class Theta>
  VectorX<T> operator()(const VectorX<T>& z, const Theta& theta) const {
    const auto& [Q, q, A, b, G, h] = theta;
    const VectorX<T> x = z.head(n), nu = z.segment(n, p), mu = z.tail(m);
    VectorX<T> c(n + p + m);
    c.head(n) = T(0.5) * (Q * x + Q.transpose() * x) + q + A.transpose() * nu + G.transpose() * mu;
    c.segment(n, p) = A * x - b;
    c.tail(m) = mu.cwiseProduct(G * x - h);
    return c;
  }

  template <class T, class Theta>
  MatrixX<T> jacobian_x(const VectorX<T>& z, const Theta& theta) const {
    const auto& [Q, q, A, b, G, h] = theta;
    const VectorX<T> x = z.head(n), mu = z.tail(m);
    MatrixX<T> K = MatrixX<T>::Zero(n + p + m, n + p + m);
    K.topLeftCorner(n, n) = T(0.5) * (Q + Q.transpose());
    K.block(0, n, n, p) = A.transpose();
    K.block(0, n + p, n, m) = G.transpose();
    K.block(n, 0, p, n) = A;
    K.block(n + p, 0, m, n) = mu.asDiagonal() * G;
    K.bottomRightCorner(m, m).diagonal() = G * x - h;
    return K;
  }

  template <class Theta>
  std::pair<Eigen::VectorXd, Eigen::VectorXd> vjp(const Eigen::VectorXd& z, const Theta& theta,
                                                  const Eigen::VectorXd& w) const {
    const auto& [Q, q, A, b, G, h] = theta;
    const Eigen::VectorXd x = z.head(n), nu = z.segment(n, p), mu = z.tail(m);
    const Eigen::VectorXd wx = w.head(n), wnu = w.segment(n, p), wmu = w.tail(m);
    const Eigen::VectorXd wt = wmu.cwiseProduct(mu);
    // (∂c/∂z)ᵀw: the transposed KKT matrix applied to w.
    Eigen::VectorXd z_bar(n + p + m);
    z_bar.head(n) = 0.5 * (Q * wx + Q.transpose() * wx) + A.transpose() * wnu + G.transpose() * wt;
    z_bar.segment(n, p) = A * wx;
    z_bar.tail(m) = G * wx + wmu.cwiseProduct(G * x - h);
    // (∂c/∂θ)ᵀw in θ's flatten order, each matrix column-major.
    Eigen::VectorXd theta_bar(n * n + n + p * n + p + m * n + m);
    Eigen::Index k = 0;
    const auto put = [&](const Eigen::MatrixXd& block) {
      Eigen::Map<Eigen::MatrixXd>(theta_bar.data() + k, block.rows(), block.cols()) = block;
      k += block.size();
    };
    put(0.5 * (wx * x.transpose() + x * wx.transpose()));
    put(wx);
    put(nu * wx.transpose() + wnu * x.transpose());
    put(-wnu);
    put(mu * wx.transpose() + wt * x.transpose());
    put(-wt);
    return {z_bar, theta_bar};
  }
};

/// Throws `std::invalid_argument` unless the six inputs have the shapes of one QP in n unknowns.
template <class MQ, class VQ, class MA, class VB, class MG, class VH>
void require_qp_shapes(const MQ& Q, const VQ& q, const MA& A, const VB& b, const MG& G, const VH& h) {
  const Eigen::Index n = q.rows();
  const auto constraint_ok = [n](const auto& M, const auto& v) {
    return v.cols() == 1 && M.rows() == v.rows() && (M.cols() == n || M.rows() == 0);
  };
  if (Q.rows() == n && Q.cols() == n && q.cols() == 1 && n > 0 && constraint_ok(A, b) && constraint_ok(G, h))
    return;
  std::ostringstream out;
  out << "ift::quadratic_program: the shapes do not match: Q is " << Q.rows() << "x" << Q.cols() << ", q "
      << q.rows() << "x" << q.cols() << ", A " << A.rows() << "x" << A.cols() << ", b " << b.rows() << "x"
      << b.cols() << ", G " << G.rows() << "x" << G.cols() << ", h " << h.rows() << "x" << h.cols()
      << " (need Q n x n, q n, A p x n, b p, G m x n, h m with n >= 1; p or m may be 0)";
  throw std::invalid_argument(out.str());
}

/// Refuses a degenerate inequality: slack and multiplier both at most δ = 10√tol (relative to
/// 1 + ‖h‖∞ and 1 + ‖μ‖∞). At such a constraint the solution has no derivative (kkt.hpp).
template <class Iterate>
void require_strict_complementarity(const Iterate& it, double scale_h, double tol) {
  const double delta = 10 * std::sqrt(tol);
  const double scale_mu = 1 + (it.mu.size() > 0 ? it.mu.template lpNorm<Eigen::Infinity>() : 0.0);
  for (Eigen::Index i = 0; i < it.mu.size(); ++i) {
    if (it.s(i) <= delta * scale_h && it.mu(i) <= delta * scale_mu) {
      std::ostringstream out;
      out << "ift::quadratic_program: inequality " << i << " is weakly active (slack " << it.s(i)
          << ", multiplier " << it.mu(i)
          << "): at a degenerate active set the solution is not differentiable";
      throw SingularJacobianError(out.str(), std::numeric_limits<double>::infinity());
    }
  }
}

}  // namespace detail

/// Solves min ½xᵀQx + qᵀx s.t. Ax = b, Gx ≤ h and returns x, ν and μ (`ConstrainedSolution`), with
/// derivatives w.r.t. the inputs that carry them. Q, q, A, b, G, h are Eigen objects or expressions,
/// fixed or dynamic size, of `double` (constants) or of one AD scalar (`Dual`, nested `Dual`, `Var`,
/// `Dual<Var>`). A and b, or G and h, with 0 rows mean no such constraints. Only Q's symmetric part
/// enters the objective, and so its derivative.
///
/// Throws `std::invalid_argument` on mismatched shapes or non-finite input; `SolverError` for a
/// non-convex problem, linearly dependent equality rows, or a failed solve — infeasible constraints
/// (`Status::infeasible`), an unbounded objective (`Status::unbounded`), `max_iter` — unless
/// `solver.throw_on_failure` is false (then the status is reported and the derivatives are NaN);
/// `SingularJacobianError` when derivatives are asked for at a degenerate active set or where the
/// KKT matrix is singular (LICQ violated, or the minimizer not unique).
/// Cost: the solve on doubles (O((n + p)³ + m n²) per iteration), then one LU of the KKT matrix
/// (n + p + m) for all tangent directions or for the reverse sweep.
template <class MQ, class VQ, class MA, class VB, class MG, class VH, class Solver = InteriorPointQP>
auto quadratic_program(const Eigen::MatrixBase<MQ>& Q, const Eigen::MatrixBase<VQ>& q,
                       const Eigen::MatrixBase<MA>& A, const Eigen::MatrixBase<VB>& b,
                       const Eigen::MatrixBase<MG>& G, const Eigen::MatrixBase<VH>& h,
                       const Solver& solver = {}) {
  using S = std::common_type_t<typename MQ::Scalar, typename VQ::Scalar, typename MA::Scalar,
                               typename VB::Scalar, typename MG::Scalar, typename VH::Scalar>;
  using Y = Eigen::Matrix<S, VQ::RowsAtCompileTime, 1>;
  detail::require_qp_shapes(Q, q, A, b, G, h);
  const Eigen::Index n = q.rows(), p = b.rows(), m = h.rows();
  using M = detail::MatrixX<S>;
  using V = detail::VectorX<S>;
  // Constraints with 0 rows get n columns, so that every block below has its size.
  const std::tuple<M, V, M, V, M, V> theta(Q.template cast<S>(), q.template cast<S>(),
                                           p > 0 ? M(A.template cast<S>()) : M(0, n), b.template cast<S>(),
                                           m > 0 ? M(G.template cast<S>()) : M(0, n), h.template cast<S>());
  const char* names[] = {"Q", "q", "A", "b", "G", "h"};
  std::apply(
      [&](const auto&... input) {
        int k = 0;
        (detail::require_finite_input(input, "ift::quadratic_program", names[k++]), ...);
      },
      theta);
  const auto [Qd, qd, Ad, bd, Gd, hd] = detail::base_values(theta);
  const Eigen::MatrixXd P = 0.5 * (Qd + Qd.transpose());
  const auto it = solver.solve(P, qd, Ad, bd, Gd, hd);

  const Eigen::VectorXd z = detail::primal_dual_state(it);
  V zs;
  if constexpr (std::is_arithmetic_v<S>) {
    zs = z;
  } else if (it.status == Status::converged) {
    detail::require_strict_complementarity(it, 1 + (m > 0 ? hd.template lpNorm<Eigen::Infinity>() : 0.0),
                                           solver.tol);
    detail::require_independent_active_constraints(Ad, Gd, it.s, it.mu, "ift::quadratic_program");
    zs = detail::implicit_conditions(detail::QPConditions{{}, {}, n, p, m}, z, theta, DenseLU{});
  } else {
    zs = detail::undefined_derivatives_flat(z, theta);
  }
  return detail::constrained_solution<Y>(zs, it);
}

}  // namespace ift
