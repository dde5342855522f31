#pragma once
// `ift::Auto`, the default linear solver of `Implicit<>` and `Newton`: dense LU for small or dense
// Jacobians, banded LU for narrow bands, sparse LU for other sparse ones — an ordinary linear solver
// that takes J as a `JacobianOperator` and decides which form to ask for.
//
// Below `dense_below` unknowns the dense LU is used straight away (no pattern detection: a dense
// factorization of a small matrix costs less than looking at it), and so is it for a J of a size known
// at compile time (the fixed-size rules' matrices, ≤ 16 × 16) — up to 4 × 4 its closed-form inverse,
// with the exact condition number. Above, one column of J (one forward
// pass) tells a dense J, which is then formed densely without detection — unless the pattern is
// already at hand (kept in `analysis`, or detected at an earlier step of the same solve), which
// tells it for free; otherwise the pattern is detected (one tracer run of c, once per solve) and
//  * its band kl + ku + 1 is at most `max_band` and at most half of n → `BandedLU`: the Jacobian
//    costs ⌈(kl + ku + 1)/4⌉ forward passes and the factorization O(n kl (kl + ku));
//  * else at most `max_density` of its entries can be nonzero → `SparseLU`, when the program includes
//    `<ift/sparse.hpp>`;
//  * else J is formed densely as usual.
// The defaults are measured (reverse-mode gradients through Newton, benchmarks/
// implicit_sparse.bench.cpp): on Broyden's tridiagonal system the dense and banded paths cost the
// same at 7 unknowns (dense LU ahead below, banded ahead above: 1.3 times at 10, 2.6 times at 64),
// while probing a column costs a dense J of 8–12 unknowns about a tenth of its gradient; the sparse LU
// costs about twice the banded LU on a narrow band, so a band of up to 32 diagonals goes banded,
// while a wider one (a 2-D stencil's, of width √n) fills less under the sparse LU's ordering.
//
// Why the sparse LU comes through a hook: Eigen's supernodal LU costs more to compile than the rest
// of a typical program (6–7 s at -O2), and `Auto` is the default everywhere. Its factorization does
// not depend on the user's types — only filling J does — so `<ift/sparse.hpp>` registers it, behind
// a virtual interface, in `detail::sparse_lu_for_auto()` at static initialization, and `Auto` asks
// the hook. A program without the header compiles no sparse LU and factorizes a wide sparse J
// densely (the same numbers to rounding, at dense cost). Every translation unit sees one definition
// of `Auto`: the choice is made at run time, never by what a unit included.

#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <Eigen/Core>

#include "ift/linalg/banded_lu.hpp"
#include "ift/linalg/dense.hpp"
#include "ift/linalg/hessian_cg.hpp"
#include "ift/linalg/linear_solver.hpp"
#include "ift/sparsity_pattern.hpp"

namespace ift {
namespace detail {

/// The sparse LU `Auto` uses (set by `<ift/sparse.hpp>`): factorizes A, with the symbolic analyses
/// `kept` (or none), estimating the condition number when `estimate`; null when the program has no
/// sparse LU.
using SparseLUHook = std::shared_ptr<const ErasedFactor> (*)(const Eigen::SparseMatrix<double>& A,
                                                             AnalysisState* kept, bool estimate);

/// The one hook of the program (a function-local static: one object across translation units).
inline SparseLUHook& sparse_lu_for_auto() {
  static SparseLUHook hook = nullptr;
  return hook;
}

/// The factorization `Auto` chose for a Jacobian of type `J`: dense, banded or sparse LU, or CG on a
/// Hessian. (A template, so that a program that never calls `Auto::factor` compiles none of it.)
template <class J>
class AutoFactor {
 public:
  using Dense = DenseFactor<Eigen::PartialPivLU<Eigen::MatrixXd>>;
  /// The sparse LU, from the hook.
  struct Sparse {
    std::shared_ptr<const ErasedFactor> factor;
  };
  /// CG on products with a symmetric J (hessian_cg.hpp).
  struct ConjugateGradients {
    std::shared_ptr<const ErasedFactor> factor;
  };
  template <class F>
  explicit AutoFactor(F f) : factor_(std::move(f)) {}

  /// True when the sparse LU was chosen.
  bool sparse() const { return std::holds_alternative<Sparse>(factor_); }
  /// True when the banded LU was chosen.
  bool banded() const { return std::holds_alternative<BandedFactor>(factor_); }
  /// True when conjugate gradients were chosen (for a symmetric J).
  bool conjugate_gradients() const { return std::holds_alternative<ConjugateGradients>(factor_); }
  /// X with J X = B.
  template <class B>
  typename B::PlainObject solve(const B& b) const {
    return std::visit([&](const auto& f) -> typename B::PlainObject { return held(f).solve(b); }, factor_);
  }
  /// X with Jᵀ X = B.
  template <class B>
  typename B::PlainObject solve_transposed(const B& b) const {
    return std::visit([&](const auto& f) -> typename B::PlainObject { return held(f).solve_transposed(b); },
                      factor_);
  }

 private:
  template <class F>
  static const F& held(const F& f) {
    return f;
  }
  template <class F>
  requires requires(const F& f) { *f.factor; }
  static const ErasedFactor& held(const F& f) { return *f.factor; }

  std::variant<Dense, BandedFactor, Sparse, ConjugateGradients> factor_;
};

}  // namespace detail

/// Dense LU below `dense_below` unknowns, for a state whose size is known at compile time (the
/// implicit rule decides that before calling `factor`), or when the detected pattern is dense; banded
/// LU for a narrow band, sparse LU for another sparse pattern (dense LU when the program does not
/// include `<ift/sparse.hpp>`). The default linear solver of `Implicit<>` and `Newton`.
struct Auto {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "Auto";
  /// Systems with fewer unknowns use the dense LU without detecting a pattern.
  Eigen::Index dense_below = 8;
  /// The sparse LU is used when the fraction of possibly nonzero entries is at most this.
  double max_density = 0.05;
  /// The banded LU is used when the band kl + ku + 1 has at most this many diagonals (and at most n/2).
  Eigen::Index max_band = 32;
  /// A symmetric J (the Hessian of a minimizer's rule) of at least this many unknowns is solved by
  /// conjugate gradients on Hessian-vector products, by its dense LU when CG cannot finish within
  /// the cost of forming it (hessian_cg.hpp).
  Eigen::Index cg_from = 32;
  /// CG's bound on the relative residual ‖b − J x‖ / ‖b‖.
  double cg_tol = 1e-12;
  /// The structure kept across solves, handed to the banded or sparse LU (see `SparseAnalysis`).
  std::optional<SparseAnalysis> analysis{};

  /// Factorizes J densely, banded or sparsely, as its size and pattern say.
  template <JacobianOperator J>
  detail::AutoFactor<J> factor(const J& jac) const {
    using Factor = detail::AutoFactor<J>;
    const Eigen::Index n = jac.size();
    if constexpr (detail::is_symmetric_jacobian_v<J>) {
      if (n >= cg_from && !analysis)
        return Factor(typename Factor::ConjugateGradients{
            std::make_shared<const detail::HessianFactor<J>>(jac, cg_tol)});
    }
    if (n >= dense_below && (analysis || detail::pattern_known(jac) || !dense_column(jac))) {
      const SparsityPattern& p = detail::sparse_structure(jac, analysis);
      const Bandwidth band = analysis ? analysis->bandwidth() : detail::bandwidth_of_operator(jac);
      if (band.width() <= max_band && 2 * band.width() <= n)
        return Factor(BandedLU{analysis}.factor(jac, band));
      const detail::SparseLUHook sparse_lu = detail::sparse_lu_for_auto();
      if (sparse_lu && p.density() <= max_density) {
        return detail::with_sparse_values(jac, analysis, [&](const Eigen::SparseMatrix<double>& A) {
          return Factor(typename Factor::Sparse{
              sparse_lu(A, analysis ? &analysis->state() : nullptr, detail::is_rule_jacobian_v<J>)});
        });
      }
    }
    if constexpr (detail::is_rule_jacobian_v<J>)
      return Factor(DenseLU{}.factor(jac.dense()));
    else
      return Factor(detail::dense_lu_of_step(jac.dense(), DenseLU::name));
  }

  /// Factorizes a J whose size is known at compile time (the fixed-size rules'): up to 4 × 4 by its
  /// closed-form inverse, larger by dense LU.
  template <class Derived>
  requires(Derived::RowsAtCompileTime !=
           Eigen::Dynamic) auto factor(const Eigen::MatrixBase<Derived>& J) const {
    constexpr int n = Derived::RowsAtCompileTime;
    if constexpr (n <= 4 && Derived::ColsAtCompileTime == n &&
                  std::is_same_v<typename Derived::Scalar, double>)
      return detail::factor_by_inverse<n>(J.eval(), DenseLU::name);
    else
      return DenseLU{}.factor(J);
  }

 private:
  // Column n/2 of J by one forward pass: when more than half of it is nonzero, J is taken as dense
  // without detecting its pattern — a tracer run merges dependency sets, O(n²) work for a dense J,
  // measured at 2–4 times the dense Jacobian and LU it would decide for. One-sided: an entry nonzero
  // in value is in the pattern, so a narrow band never looks dense; a sparse J with one dense column
  // in the middle would be factorized densely.
  template <JacobianOperator J>
  static bool dense_column(const J& jac) {
    const Eigen::Index n = jac.size();
    Eigen::VectorXd e = Eigen::VectorXd::Zero(n);
    e(n / 2) = 1.0;
    return 2 * (jac.apply(e).array() != 0.0).count() > n;
  }
};

}  // namespace ift
