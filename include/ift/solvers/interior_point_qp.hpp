#pragma once
// A dense primal-dual interior-point method for convex quadratic programs
//
//     min ½xᵀPx + qᵀx   s.t.   Ax = b,   Gx + s = h,  s ≥ 0,
//
// with P = ½(Q + Qᵀ) (the objective sees only Q's symmetric part), multipliers ν for Ax = b and μ ≥ 0
// for Gx ≤ h. The KKT conditions are
//
//     r_d = Px + q + Aᵀν + Gᵀμ = 0,   r_p = Ax − b = 0,   r_i = Gx + s − h = 0,   s ⊙ μ = 0,  s, μ ≥ 0.
//
// Each iteration takes Mehrotra's predictor–corrector step (Nocedal & Wright, Algorithm 16.4): a
// Newton step on the equalities with s ⊙ μ = σ·τ·1, τ = sᵀμ/m, where the affine (σ = 0) predictor
// sets σ = (τ_aff/τ)³ and the corrector adds the second-order term −Δs_aff ⊙ Δμ_aff. Eliminating
// Δs = −r_i − GΔx and Δμ = S⁻¹(r_c + M(r_i + GΔx)) (S, M diagonal of s and μ) leaves
//
//     [P + GᵀWG  Aᵀ] [Δx]   [−r_d − GᵀS⁻¹(r_c + M r_i)]
//     [A         0 ] [Δν] = [−r_p                      ],    W = S⁻¹M,
//
// factorized once and solved twice per iteration. Steps keep s and μ positive (fraction 0.99 of the
// way to the boundary). The method converges when the scaled residuals and the mean complementarity τ
// are below `tol`.
//
// Before iterating, P must be positive semidefinite on the null space of A (else the problem is not
// convex: `SolverError`) and A must have full row rank (else ν is not unique: `SolverError`).
// Diverging iterates are reported: primal ones (‖x‖ beyond 10¹⁰ times the data's scale) as
// `Status::unbounded`, dual ones (ν, μ) as `Status::infeasible`.

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string_view>
#include <type_traits>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <Eigen/QR>

#include "ift/detail/traits.hpp"
#include "ift/errors.hpp"
#include "ift/solution.hpp"

namespace ift {

/// A QP's primal and dual solution, as `InteriorPointQP::solve` returns it: on doubles for the
/// solver's ordinary use, on the data's AD scalar when it is run on one (unrolled).
template <class T = double>
struct QPIterate {
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  Vector x;   ///< the minimizer
  Vector nu;  ///< multipliers of Ax = b
  Vector mu;  ///< multipliers of Gx ≤ h (≥ 0)
  Vector s;   ///< slacks h − Gx (≥ 0)
  Status status = Status::converged;
  int iterations = 0;
  double residual_norm = 0.0;  ///< the largest scaled residual and τ
};

/// Mehrotra's primal-dual interior-point method for dense convex QPs (see the top of this header).
struct InteriorPointQP {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "InteriorPointQP";
  /// Bound on the scaled residuals ‖r‖∞ / (1 + ‖data‖∞) and on the mean complementarity sᵀμ/m.
  double tol = 1e-10;
  int max_iter = 100;
  bool throw_on_failure = true;
  IterationCallback on_iteration{};

  /// Solves the QP. P is the symmetric part of Q. `quadratic_program` calls it on doubles; on data of
  /// an AD scalar every iteration is carried out in that scalar, so the iterate's derivatives are
  /// those of the unrolled method (the baseline the implicit rule is measured against): decisions —
  /// convergence, the step to the boundary, the start's fallback — are taken on values. Throws
  /// `SolverError` for a non-convex problem or linearly dependent equality constraints, whatever
  /// `throw_on_failure` says.
  template <class Matrix, class Vector>
  auto solve(const Matrix& P_in, const Vector& q_in, const Matrix& A_in, const Vector& b_in,
             const Matrix& G_in, const Vector& h_in) const {
    using T = std::common_type_t<typename Matrix::Scalar, typename Vector::Scalar>;
    using MatrixT = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    using VectorT = Eigen::Matrix<T, Eigen::Dynamic, 1>;
    const MatrixT P = P_in, A = A_in, G = G_in;
    const VectorT q = q_in, b = b_in, h = h_in;
    const Eigen::Index n = q.size(), p = b.size(), m = h.size();
    require_convex(detail::to_double(P), detail::to_double(A));

    const double scale_d = 1 + norm(q), scale_p = 1 + norm(b), scale_i = 1 + norm(h);
    const double data = std::max({scale_d, scale_p, scale_i, 1 + norm(P), 1 + norm(A), 1 + norm(G)});
    const double divergence = 1e10 * data;

    // Start: the minimizer of ½xᵀ(P + GᵀG)x + (q − Gᵀh)ᵀx on Ax = b (least-squares on the
    // inequalities as if they were equalities), slacks and multipliers moved to at least 1.
    MatrixT K(n + p, n + p);
    K.topLeftCorner(n, n) = P + G.transpose() * G;
    K.topRightCorner(n, p) = A.transpose();
    K.bottomLeftCorner(p, n) = A;
    K.bottomRightCorner(p, p).setZero();
    VectorT rhs(n + p);
    rhs << -q + G.transpose() * h, b;
    QPIterate<T> it;
    {
      const Eigen::PartialPivLU<MatrixT> lu(K);
      const VectorT start = lu.solve(rhs);
      it.x = n + p > 0 && detail::to_double(start).allFinite() && rcond(lu, K) > eps ? VectorT(start.head(n))
                                                                                     : VectorT::Zero(n);
    }
    it.nu = VectorT::Zero(p);
    it.s = (h - G * it.x).cwiseAbs();
    for (Eigen::Index i = 0; i < m; ++i)
      if (!(detail::to_double(it.s(i)) >= 1)) it.s(i) = detail::constant_of<T>(1.0);
    it.mu = VectorT::Ones(m);

    VectorT rd, rp, ri;
    const auto residuals = [&] {
      rd = P * it.x + q + A.transpose() * it.nu + G.transpose() * it.mu;
      rp = A * it.x - b;
      ri = G * it.x + it.s - h;
      const double tau = m > 0 ? detail::to_double(it.s.dot(it.mu)) / static_cast<double>(m) : 0.0;
      return std::max({norm(rd) / scale_d, norm(rp) / scale_p, norm(ri) / scale_i, tau});
    };

    for (;;) {
      it.residual_norm = residuals();
      if (on_iteration) on_iteration(it.iterations, it.residual_norm);
      if (!std::isfinite(it.residual_norm)) return finish(it, Status::non_finite);
      if (it.residual_norm <= tol) return finish(it, Status::converged);
      if (norm(it.x) > divergence) return finish(it, Status::unbounded);
      if (std::max(norm(it.nu), norm(it.mu)) > divergence) return finish(it, Status::infeasible);
      if (it.iterations >= max_iter) return finish(it, Status::max_iterations);
      ++it.iterations;

      const VectorT w = it.mu.cwiseQuotient(it.s);
      K.topLeftCorner(n, n) = P + G.transpose() * w.asDiagonal() * G;
      // Near the solution W has entries of order 1/τ and τ: K is ill-conditioned by construction,
      // yet its solves stay accurate enough for the step (Wright 1997, ch. 11). Only a step that is
      // not finite means a singular K.
      const Eigen::PartialPivLU<MatrixT> lu(K);

      // The step for a complementarity target r_c (the right side of S Δμ + M Δs = r_c).
      VectorT dx, dnu, dmu, ds;
      const auto step = [&](const VectorT& rc) {
        rhs << -rd - G.transpose() * (rc + it.mu.cwiseProduct(ri)).cwiseQuotient(it.s), -rp;
        const VectorT d = lu.solve(rhs);
        dx = d.head(n);
        dnu = d.tail(p);
        ds = -ri - G * dx;
        dmu = (rc - it.mu.cwiseProduct(ds)).cwiseQuotient(it.s);
      };
      const auto max_step = [&] { return smaller(boundary(it.s, ds), boundary(it.mu, dmu)); };

      const VectorT smu = it.s.cwiseProduct(it.mu);
      step(-smu);  // predictor
      if (m > 0) {
        const T tau = smu.sum() / static_cast<double>(m);
        const T alpha = max_step();
        const T tau_aff = (it.s + alpha * ds).dot(it.mu + alpha * dmu) / static_cast<double>(m);
        const T ratio = tau_aff / tau;
        const T sigma = ratio * ratio * ratio;
        step(-smu - ds.cwiseProduct(dmu) + VectorT::Constant(m, sigma * tau));  // corrector
      }
      if (!(detail::to_double(dx).allFinite() && detail::to_double(dnu).allFinite() &&
            detail::to_double(dmu).allFinite()))
        return finish(it, Status::singular);
      const T one = detail::constant_of<T>(1.0);
      const T alpha = m > 0 ? smaller(one, T(0.99 * max_step())) : one;
      it.x += alpha * dx;
      it.nu += alpha * dnu;
      it.s += alpha * ds;
      it.mu += alpha * dmu;
    }
  }

 private:
  static constexpr double eps = std::numeric_limits<double>::epsilon();

  template <class V>
  static double norm(const V& v) {
    return v.size() > 0 ? detail::to_double(v).template lpNorm<Eigen::Infinity>() : 0.0;
  }

  // The reciprocal condition estimate of the start's factorization, on values.
  template <class LU, class M>
  static double rcond(const LU& lu, const M& K) {
    if constexpr (std::is_arithmetic_v<typename M::Scalar>)
      return lu.rcond();
    else
      return Eigen::PartialPivLU<Eigen::MatrixXd>(detail::to_double(K)).rcond();
  }

  // The one of a and b with the smaller value (with its derivative, when unrolled).
  template <class T>
  static T smaller(const T& a, const T& b) {
    return detail::to_double(b) < detail::to_double(a) ? b : a;
  }

  // The largest α ≤ ∞ with v + α dv ≥ 0 (v > 0).
  template <class V>
  static typename V::Scalar boundary(const V& v, const V& dv) {
    using T = typename V::Scalar;
    T alpha = detail::constant_of<T>(std::numeric_limits<double>::infinity());
    for (Eigen::Index i = 0; i < v.size(); ++i)
      if (detail::to_double(dv(i)) < 0) alpha = smaller(alpha, T(-v(i) / dv(i)));
    return alpha;
  }

  template <class Iterate>
  Iterate finish(Iterate& it, Status status) const {
    it.status = status;
    if (throw_on_failure && status != Status::converged)
      throw SolverError(detail::failure_message(name, status, it.iterations, it.residual_norm));
    return it;
  }

  // A convex problem needs P ⪰ 0 on null(A) = {d : Ad = 0}: the eigenvalues of ZᵀPZ, Z an orthonormal
  // basis of null(A) from the QR factorization of Aᵀ, must not be negative (to rounding).
  template <class Matrix>
  static void require_convex(const Matrix& P, const Matrix& A) {
    const Eigen::Index n = P.rows(), p = A.rows();
    Eigen::MatrixXd Z = Eigen::MatrixXd::Identity(n, n);
    if (p > 0) {
      const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(A.transpose());
      if (qr.rank() < p) {
        std::ostringstream out;
        out << "ift: InteriorPointQP: the equality constraints are linearly dependent (A has rank "
            << qr.rank() << " < " << p << " rows); remove the redundant rows";
        throw SolverError(out.str());
      }
      Z = (qr.householderQ() * Eigen::MatrixXd::Identity(n, n)).rightCols(n - p);
    }
    if (Z.cols() == 0) return;
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(Z.transpose() * P * Z, Eigen::EigenvaluesOnly);
    const double lowest = eigen.eigenvalues().minCoeff();
    const double scale = 1 + P.template lpNorm<Eigen::Infinity>();
    if (!(lowest >= -1e-10 * scale)) {
      std::ostringstream out;
      out << "ift: InteriorPointQP: the problem is not convex: Q has curvature " << lowest
          << " along a direction the equality constraints allow (Q must be positive semidefinite on the "
             "null space of A)";
      throw SolverError(out.str());
    }
  }
};

}  // namespace ift
