#pragma once
// The linear-solver protocol: how the implicit rule and Newton's method solve with J = ∂c/∂x.
//
// A linear solver has one member, `factor`, which takes J in the one form it works with and returns
// a factorization: an object with `solve(B)` (X with J X = B) and `solve_transposed(B)` (X with
// Jᵀ X = B), B a vector or a matrix of right-hand sides. The forward rule solves with J (one
// column per tangent direction), the reverse rule with Jᵀ, Newton with J; one factorization made
// once serves them all, so a derivative never factorizes J twice. The forms:
//  * `Eigen::MatrixXd` — dense direct solvers (`DenseLU`, `DenseQR`, `LDLT`). J is formed by
//    chunked forward passes (or given by the problem: the Hessian of `minimize`, A of
//    `linear_solve`). A dense solver whose `factor` is a template over the matrix also factorizes
//    J in AD arithmetic, which is how nested duals get exact higher derivatives;
//  * `Eigen::SparseMatrix<double>` — sparse direct solvers (`SparseLU`, `BandedLU`, a user's): the
//    pattern of J is detected once and its entries filled by colored forward passes
//    (sparsity.hpp). A sparse solver may take J as an operator as well, to fill it in the pattern a
//    `SparseAnalysis` keeps across solves (`with_sparse_values` below);
//  * a `JacobianOperator` — any other solver: it gets J itself and takes what it needs, products
//    v ↦ J v and w ↦ Jᵀ w (the Krylov methods, which never form J), or J densely or sparsely as it
//    decides (`Auto`).
// A factorization that finds J singular throws `SingularJacobianError`; a Krylov method that does
// not converge throws `SolverError`. One threshold decides singularity everywhere
// (`detail::require_well_conditioned`). The sparse factorizations judge a Newton step's J by their
// pivots, O(nnz), and estimate the condition number (a few solves) only for the implicit rule's J —
// the Jacobian with `transposed()` — once per derivative.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "ift/detail/traits.hpp"
#include "ift/errors.hpp"
#include "ift/sparsity_pattern.hpp"

namespace ift {

/// J = ∂c/∂x at a point, handed to a linear solver that takes it whole: its size, products
/// v ↦ J v, J densely or sparsely, and the pattern of its nonzeros — each formed on request. The
/// implicit rule's J also has `transposed()`, a callable w ↦ Jᵀ w for the reverse rule's solves
/// (Newton's J, which is never solved transposed, reaches solvers through `AnyLinearSolver`'s
/// erasure, which has none). An operator may also say, by `pattern_known()`, that its pattern is
/// already at hand (detected earlier in the same solve), so that asking for it costs nothing; `Auto`
/// then reads the pattern instead of probing a column of J (`detail::pattern_known`). And it may write
/// J straight into band storage, `fill_band(band, diagonal, ld)` (A(i, j) at `diagonal[j·ld + i − j]`,
/// true when it did), which `BandedLU` asks before `sparse()`, and keep its pattern's bandwidths,
/// `bandwidth()`, which `Auto` reads at every Newton step (`detail::bandwidth_of_operator`).
template <class J>
concept JacobianOperator = requires(const J& jac, const Eigen::VectorXd& v) {
  { jac.size() } -> std::convertible_to<Eigen::Index>;
  { jac.apply(v) } -> std::convertible_to<Eigen::VectorXd>;
  { jac.dense() } -> std::convertible_to<Eigen::MatrixXd>;
  { jac.sparse() } -> std::convertible_to<Eigen::SparseMatrix<double>>;
  { jac.pattern() } -> std::convertible_to<const SparsityPattern&>;
};

namespace detail {

/// True for the implicit rule's J (the one with `transposed()`): its factorization is the one the
/// sparse and banded solvers give a condition estimate, once per derivative; a Newton step's J is
/// judged by its pivots only.
template <class J>
inline constexpr bool is_rule_jacobian_v = requires(const J& jac) {
  jac.transposed();
};

/// Whether `jac.pattern()` is already at hand: what the operator says by `pattern_known()`, false
/// for an operator that does not say.
template <JacobianOperator J>
bool pattern_known(const J& jac) {
  if constexpr (requires {
                  { jac.pattern_known() } -> std::convertible_to<bool>;
                })
    return jac.pattern_known();
  else
    return false;
}

/// The bandwidths of `jac.pattern()`: the operator's own when it keeps them, else read off the
/// pattern (O(n)).
template <JacobianOperator J>
Bandwidth bandwidth_of_operator(const J& jac) {
  if constexpr (requires { Bandwidth(jac.bandwidth()); })
    return jac.bandwidth();
  else
    return bandwidth_of(jac.pattern());
}

/// A factorization behind virtual calls: what `Auto` holds when its choice depends on types it
/// does not name (the sparse LU a hook provides, CG on the rule's own J).
class ErasedFactor {
 public:
  virtual ~ErasedFactor() = default;
  /// X with J X = B.
  virtual Eigen::MatrixXd solve(const Eigen::MatrixXd& b) const = 0;
  /// X with Jᵀ X = B.
  virtual Eigen::MatrixXd solve_transposed(const Eigen::MatrixXd& b) const = 0;
};

/// True for a J that says it is symmetric (`J::symmetric`, the Hessian of a minimizer's rule).
template <class J>
inline constexpr bool is_symmetric_jacobian_v = requires {
  requires J::symmetric;
};

/// A `JacobianOperator` with no definitions: what the concepts below hand a solver to ask whether
/// it takes J as an operator.
struct JacobianArchetype {
  Eigen::Index size() const;
  Eigen::VectorXd apply(const Eigen::VectorXd&) const;
  Eigen::MatrixXd dense() const;
  Eigen::SparseMatrix<double> sparse() const;
  const SparsityPattern& pattern() const;
};

/// A factorization: solves with J and with Jᵀ.
template <class Factor>
concept Factorization = requires(const Factor& f, const Eigen::VectorXd& b) {
  { f.solve(b) } -> std::convertible_to<Eigen::VectorXd>;
  { f.solve_transposed(b) } -> std::convertible_to<Eigen::VectorXd>;
};

}  // namespace detail

/// A linear solver that takes J as an `Eigen::MatrixXd`.
template <class LS>
concept DenseLinearSolver = requires(const LS& ls, const Eigen::MatrixXd& J) {
  { ls.factor(J) } -> detail::Factorization;
};

/// A linear solver that takes J as an `Eigen::SparseMatrix<double>`.
template <class LS>
concept SparseLinearSolver =
    !DenseLinearSolver<LS> && requires(const LS& ls, const Eigen::SparseMatrix<double>& J) {
  { ls.factor(J) } -> detail::Factorization;
};

/// A linear solver that takes J as a `JacobianOperator`: matrix-free (products only) or choosing
/// its form itself.
template <class LS>
concept OperatorLinearSolver = !DenseLinearSolver<LS> && !SparseLinearSolver<LS> &&
                               requires(const LS& ls, const detail::JacobianArchetype& J) {
  { ls.factor(J) } -> detail::Factorization;
};

/// Anything `Implicit<LS>` and `Newton{.linear_solver}` accept.
template <class LS>
concept LinearSolver = DenseLinearSolver<LS> || SparseLinearSolver<LS> || OperatorLinearSolver<LS>;

namespace detail {

/// A linear solver's name, for messages: its `name`, or "user linear solver".
template <class LS>
constexpr std::string_view linear_solver_name() {
  if constexpr (requires { std::string_view(LS::name); })
    return LS::name;
  else
    return "user linear solver";
}

/// Factorizes J (a `JacobianOperator`) with `ls`, handing it J in the form its `factor` takes. A
/// sparse solver that also takes the operator (`SparseLU`, `BandedLU`: to reuse a `SparseAnalysis`)
/// gets the operator.
template <LinearSolver LS, JacobianOperator J>
auto factorize(const LS& ls, const J& jac) {
  if constexpr (DenseLinearSolver<LS>)
    return ls.factor(jac.dense());
  else if constexpr (SparseLinearSolver<LS> && !requires { ls.factor(jac); })
    return ls.factor(jac.sparse());
  else
    return ls.factor(jac);
}

/// The pattern a sparse solver works with: J's own (detected once per solve by J), or the one
/// `analysis` keeps — recorded from J at its first use. Throws `std::invalid_argument` when the kept
/// pattern is of another size than J.
template <JacobianOperator J>
const SparsityPattern& sparse_structure(const J& jac, const std::optional<SparseAnalysis>& analysis) {
  if (!analysis) return jac.pattern();
  if (!analysis->pattern()) {
    analysis->record(jac.pattern());
  } else if (analysis->pattern()->cols != jac.size()) {
    throw std::invalid_argument("ift: a SparseAnalysis kept for Jacobians of size " +
                                std::to_string(analysis->pattern()->cols) + " was given one of size " +
                                std::to_string(jac.size()) + "; use one analysis per structure");
  }
  return *analysis->pattern();
}

/// J in the pattern `p` by one product J·d per color of `coloring`, d = Σ eⱼ over the color's columns:
/// structurally orthogonal columns, so row i of J·d is the entry of the one column of the color that
/// row i holds.
template <JacobianOperator J>
Eigen::SparseMatrix<double> sparse_by_products(const J& jac, const SparsityPattern& p,
                                               const ColumnColoring& coloring) {
  Eigen::SparseMatrix<double> out = with_structure<Eigen::SparseMatrix<double>>(p);
  for (int c = 0; c < coloring.colors; ++c) {
    Eigen::VectorXd d = Eigen::VectorXd::Zero(p.cols);
    for (Eigen::Index j = 0; j < p.cols; ++j)
      if (coloring.color[j] == c) d(j) = 1.0;
    const Eigen::VectorXd y = jac.apply(d);
    for (Eigen::Index j = 0; j < p.cols; ++j)
      if (coloring.color[j] == c)
        for (int k = p.outer[j]; k < p.outer[j + 1]; ++k) out.valuePtr()[k] = y(p.inner[k]);
  }
  return out;
}

/// `use(A)`, A J's values in compressed-column form, in the pattern `sparse_structure` gives. With no
/// analysis J forms itself (`jac.sparse()`). With one, the kept pattern and coloring are filled: by
/// J's `sparse(pattern, coloring)` when it has one (the conditions' Jacobian: one forward pass per
/// four colors), else by one product per color (`sparse_by_products`). A callback, so that a J kept by the
/// operator (filled in place at every Newton step) is used where it is, not copied.
template <JacobianOperator J, class Use>
decltype(auto) with_sparse_values(const J& jac, const std::optional<SparseAnalysis>& analysis, Use&& use) {
  if (!analysis) return use(jac.sparse());
  const SparsityPattern& p = sparse_structure(jac, analysis);
  const ColumnColoring& coloring = analysis->coloring();
  if constexpr (requires { jac.sparse(p, coloring); }) {
    return use(jac.sparse(p, coloring));
  } else {
    const Eigen::SparseMatrix<double> A = sparse_by_products(jac, p, coloring);
    return use(A);
  }
}

/// Throws `SingularJacobianError` when the reciprocal condition estimate `rcond` of J says the
/// system is numerically singular: below machine epsilon a solve carries no correct digit — the
/// derivative of the implicit rule would be noise, a Newton direction a wild step. This is the one
/// threshold every solver uses.
inline void require_well_conditioned(double rcond, std::string_view solver) {
  if (rcond > std::numeric_limits<double>::epsilon()) return;
  const double condition = rcond > 0 ? 1.0 / rcond : std::numeric_limits<double>::infinity();
  std::ostringstream out;
  out << "ift: " << solver << ": the conditions' Jacobian dc/dx at the solution is "
      << (std::isfinite(condition) ? "numerically singular" : "singular") << " (condition estimate "
      << condition << "); the implicit function theorem gives no derivative here";
  throw SingularJacobianError(out.str(), condition);
}

/// Throws `SingularJacobianError` naming `solver`: J singular (`condition` infinite) or numerically so.
[[noreturn]] inline void throw_singular(std::string_view solver, const std::string& why, double condition) {
  throw SingularJacobianError("ift: " + std::string(solver) +
                                  ": the conditions' Jacobian dc/dx at the solution is " + why +
                                  "; the implicit function theorem gives no derivative here",
                              condition);
}

/// The smallest and largest pivot magnitudes of a factorization, and whether every pivot is finite:
/// what `require_regular_pivots` judges, gathered where the pivots are made or in one pass after.
struct PivotRange {
  double smallest = std::numeric_limits<double>::infinity();
  double largest = 0.0;
  bool finite = true;
  /// Branch-free: a pivot's check is a noticeable part of a banded or sparse step.
  void add(double pivot) {
    const double magnitude = std::abs(pivot);
    finite &= magnitude <= std::numeric_limits<double>::max();  // false for NaN and infinities
    smallest = std::min(smallest, magnitude);
    largest = std::max(largest, magnitude);
  }
};

/// The cheap check of a factorization, O(n): U's diagonal (the pivots) must be finite and nonzero,
/// and the ratio of its smallest to its largest magnitude above machine epsilon — for a
/// triangular U that ratio bounds its reciprocal condition number from above, so a smaller one
/// means U (and so J) is numerically singular. Throws `SingularJacobianError` unless the pivots
/// `range` describes pass; `diagonal`, U's diagonal, is read only to name the column of a zero pivot.
template <class Diagonal>
void require_regular_pivots(const PivotRange& range, const Diagonal& diagonal, std::string_view solver) {
  if (!range.finite) throw_singular(solver, "not finite", std::numeric_limits<double>::quiet_NaN());
  if (diagonal.size() == 0) return;
  if (range.smallest == 0.0) {
    Eigen::Index at = 0;
    while (static_cast<double>(diagonal(at)) != 0.0) ++at;
    std::ostringstream why;
    why << "singular (zero pivot in column " << at << ")";
    throw_singular(solver, why.str(), std::numeric_limits<double>::infinity());
  }
  if (range.smallest <= std::numeric_limits<double>::epsilon() * range.largest) {
    std::ostringstream why;
    why << "numerically singular (pivot ratio " << range.smallest / range.largest << ")";
    throw_singular(solver, why.str(), range.largest / range.smallest);
  }
}

/// `require_regular_pivots` on U's diagonal, in one pass over it.
template <class Diagonal>
void require_regular_pivots(const Diagonal& diagonal, std::string_view solver) {
  PivotRange range;
  for (Eigen::Index j = 0; j < diagonal.size(); ++j) range.add(static_cast<double>(diagonal(j)));
  require_regular_pivots(range, diagonal, solver);
}

/// ‖A‖₁ of a sparse or dense A: the largest column sum of magnitudes.
template <class Matrix>
double norm1(const Matrix& A) {
  if constexpr (std::is_base_of_v<Eigen::MatrixBase<Matrix>, Matrix>) {
    return A.cwiseAbs().colwise().sum().maxCoeff();
  } else {
    double out = 0.0;
    for (Eigen::Index j = 0; j < A.outerSize(); ++j) {
      double sum = 0.0;
      for (typename Matrix::InnerIterator it(A, j); it; ++it) sum += std::abs(it.value());
      out = std::max(out, sum);
    }
    return out;
  }
}

/// Throws when J holds NaN or Inf: every solve with it would be silently wrong.
template <class Matrix>
void require_finite_jacobian(const Matrix& values, std::string_view solver) {
  // v − v is 0 for a finite v and NaN for NaN and ±∞, so one vectorized sum tells (Eigen's
  // `allFinite` tests entry by entry, with a branch each).
  if ((values.array() - values.array()).sum() == 0.0) return;
  throw SingularJacobianError(
      "ift: " + std::string(solver) + ": the conditions' Jacobian dc/dx at the solution is not finite",
      std::numeric_limits<double>::quiet_NaN());
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
  using Vector = typename deferred<Eigen::VectorXd, Factor>::type;  // compiled only when used
  Vector x = Vector::Constant(n, 1.0 / static_cast<double>(n));
  double estimate = 0.0;
  Eigen::Index last = -1;
  for (int step = 0; step < 5; ++step) {
    const Vector y = factor.solve(x);
    if (!y.allFinite()) return 0.0;
    if (y.template lpNorm<1>() <= estimate) break;
    estimate = y.template lpNorm<1>();
    const Vector xi = y.unaryExpr([](double v) { return v >= 0.0 ? 1.0 : -1.0; });
    const Vector z = factor.solve_transposed(xi);
    Eigen::Index j;
    if (z.cwiseAbs().maxCoeff(&j) <= z.dot(x) || j == last) break;
    x.setZero();
    x(j) = 1.0;
    last = j;
  }
  // Higham's safeguard: an alternating vector that catches the cases the ascent misses.
  Vector alt(n);
  for (Eigen::Index i = 0; i < n; ++i)
    alt(i) =
        (i % 2 ? -1.0 : 1.0) * (1.0 + (n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0.0));
  estimate =
      std::max(estimate, 2.0 * factor.solve(alt).template lpNorm<1>() / (3.0 * static_cast<double>(n)));
  return 1.0 / (norm1 * estimate);
}

/// A dense decomposition together with the transposed solve the reverse rule needs.
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

/// The dense factorization `Decomposition` (of J's plain type) of J (any scalar type), after the
/// checks every dense solver makes: J finite, and `rcond` of its values above the threshold. On
/// doubles the one decomposition is both judged and kept; in AD arithmetic the values are judged by
/// `ValuesDecomposition` on doubles, since conditioning is a property of the values and the AD parts
/// only ride along.
template <class Decomposition, class ValuesDecomposition, class Derived, class Rcond>
DenseFactor<Decomposition> factor_dense(const Eigen::MatrixBase<Derived>& J, std::string_view solver,
                                        const Rcond& rcond) {
  DenseFactor<Decomposition> f{Decomposition(J)};
  if constexpr (std::is_same_v<typename Derived::Scalar, double>) {
    require_finite_jacobian(J, solver);
    require_well_conditioned(rcond(f.decomposition), solver);
  } else {
    const Eigen::MatrixXd values = to_double(J);
    require_finite_jacobian(values, solver);
    require_well_conditioned(rcond(ValuesDecomposition(values)), solver);
  }
  return f;
}

}  // namespace detail
}  // namespace ift
