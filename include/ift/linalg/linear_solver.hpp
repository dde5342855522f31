#pragma once
// The linear solvers: how the implicit rule (and Newton's method) solve with ∂c/∂x.
//
// Three families satisfy `ift::LinearSolver`, by what they are given:
//  * dense direct solvers (`DenseLU`, `DenseQR`, `LDLT`) get ∂c/∂x as an `Eigen::MatrixXd` and
//    factorize it once; the factorization serves every tangent direction (forward mode) and the
//    transposed adjoint solve (reverse mode), and is kept from the forward pass to the backward pass;
//  * sparse direct solvers (`SparseLU`) get it as an `Eigen::SparseMatrix<double>` whose pattern is
//    detected and whose entries are filled by colored forward passes (sparsity.hpp), so a banded
//    n × n Jacobian costs O(n) to form and factorize instead of O(n³);
//  * matrix-free solvers (`GMRES`, `BiCGSTAB`, `CG`) see ∂c/∂x only through products
//    v ↦ (∂c/∂x)v (one JVP of c each) or w ↦ (∂c/∂x)ᵀw (one VJP each), so ∂c/∂x is never formed.
// `Auto` chooses between dense and sparse from the size and the detected pattern.
//
// A user type plugs in by satisfying one of the three concepts below; a factorization's
// `solve(B)` and `solve_transposed(B)` take a vector or a matrix of right-hand sides.

namespace ift {

/// A dense direct solver: `factor(J)` (J an `Eigen::MatrixXd`) returns an object with `solve(B)`
/// (J X = B) and `solve_transposed(B)` (Jᵀ X = B), and throws `SingularJacobianError` when J is singular.
template <class LS>
concept DenseLinearSolver = requires(const LS& ls, const Eigen::MatrixXd& J) {
  {ls.factor(J).solve(J)};
  {ls.factor(J).solve_transposed(J)};
};

/// A sparse direct solver: as `DenseLinearSolver`, with J an `Eigen::SparseMatrix<double>` and
/// dense right-hand sides.
template <class LS>
concept SparseLinearSolver =
    !DenseLinearSolver<LS> &&
    requires(const LS& ls, const Eigen::SparseMatrix<double>& J, const Eigen::MatrixXd& B) {
  {ls.factor(J).solve(B)};
  {ls.factor(J).solve_transposed(B)};
};

/// A matrix-free solver: `solve(apply, b)` solves A x = b given only `apply(v) = A v`
/// (`Eigen::VectorXd` in and out), and throws `SolverError` when it does not converge.
template <class LS>
concept MatrixFreeLinearSolver = requires(const LS& ls, const Eigen::VectorXd& b,
                                          std::function<Eigen::VectorXd(const Eigen::VectorXd&)> apply) {
  { ls.solve(apply, b) } -> std::convertible_to<Eigen::VectorXd>;
};

/// Anything the implicit rule and Newton's method can use to solve with ∂c/∂x. (`Auto` is a dense
/// solver that may also form the Jacobian itself: `factor_jacobian(f, x)`.)
template <class LS>
concept LinearSolver = DenseLinearSolver<LS> || SparseLinearSolver<LS> || MatrixFreeLinearSolver<LS>;

namespace detail {

/// Throws `SingularJacobianError` when the reciprocal condition estimate `rcond` of ∂c/∂x says the
/// implicit function theorem does not apply numerically: below machine epsilon the computed
/// derivative would carry no correct digits.
inline void require_well_conditioned(double rcond, std::string_view solver) {
  if (rcond > std::numeric_limits<double>::epsilon()) return;
  const double condition = rcond > 0 ? 1.0 / rcond : std::numeric_limits<double>::infinity();
  std::ostringstream out;
  out << "ift: " << solver << ": the conditions' Jacobian dc/dx at the solution is "
      << (std::isfinite(condition) ? "numerically singular" : "singular") << " (condition estimate "
      << condition << "); the implicit function theorem gives no derivative here";
  throw SingularJacobianError(out.str(), condition);
}

/// Hager's estimate (as refined by Higham, the method of LAPACK's xGECON) of the reciprocal
/// 1-norm condition number 1 / (‖J‖₁ ‖J⁻¹‖₁) from a factorization of J: ‖J⁻¹‖₁ is the maximum of
/// the convex function x ↦ ‖J⁻¹x‖₁ over the unit 1-ball, reached at a vertex eⱼ; a gradient
/// ascent over vertices (each step one solve with J and one with Jᵀ) finds it or a close lower
/// bound in a handful of steps. `norm1` is ‖J‖₁. Cost: at most ten solves.
template <class Factor>
double rcond_estimate(const Factor& factor, Eigen::Index n, double norm1) {
  if (n == 0) return 1.0;
  if (norm1 == 0.0) return 0.0;
  Eigen::VectorXd x = Eigen::VectorXd::Constant(n, 1.0 / static_cast<double>(n));
  double estimate = 0.0;
  Eigen::Index last = -1;
  for (int step = 0; step < 5; ++step) {
    const Eigen::VectorXd y = factor.solve(x);
    if (!y.allFinite()) return 0.0;
    if (y.lpNorm<1>() <= estimate) break;
    estimate = y.lpNorm<1>();
    const Eigen::VectorXd xi = y.unaryExpr([](double v) { return v >= 0.0 ? 1.0 : -1.0; });
    const Eigen::VectorXd z = factor.solve_transposed(xi);
    Eigen::Index j;
    if (z.cwiseAbs().maxCoeff(&j) <= z.dot(x) || j == last) break;
    x.setZero();
    x(j) = 1.0;
    last = j;
  }
  // Higham's safeguard: an alternating vector that catches the cases the ascent misses.
  Eigen::VectorXd alt(n);
  for (Eigen::Index i = 0; i < n; ++i)
    alt(i) =
        (i % 2 ? -1.0 : 1.0) * (1.0 + (n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0.0));
  estimate =
      std::max(estimate, 2.0 * factor.solve(alt).template lpNorm<1>() / (3.0 * static_cast<double>(n)));
  return 1.0 / (norm1 * estimate);
}

/// Throws when ∂c/∂x holds NaN or Inf: the derivative would be silently wrong.
template <class Matrix>
void require_finite_jacobian(const Matrix& values, std::string_view solver) {
  if (values.allFinite()) return;
  throw SingularJacobianError(
      "ift: " + std::string(solver) + ": the conditions' Jacobian dc/dx at the solution is not finite",
      std::numeric_limits<double>::quiet_NaN());
}

/// The values (as double) of a matrix of any scalar type.
template <class Matrix>
Eigen::MatrixXd values_of(const Matrix& m) {
  return m.unaryExpr([](const auto& s) { return to_double(s); });
}

/// A factorization together with the transposed solve the reverse rule needs.
template <class Decomposition>
struct DenseFactor {
  Decomposition decomposition;
  template <class B>
  auto solve(const B& b) const {
    return decomposition.solve(b).eval();
  }
  template <class B>
  auto solve_transposed(const B& b) const {
    return decomposition.transpose().solve(b).eval();
  }
};

}  // namespace detail
}  // namespace ift
