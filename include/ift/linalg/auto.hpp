#pragma once
// `ift::Auto`: dense LU for small or dense Jacobians, banded LU for narrow bands, sparse LU for other
// sparse ones — an ordinary linear solver that takes J as a `JacobianOperator` and decides which form
// to ask for.
//
// Below `dense_below` unknowns the dense LU is used straight away (no pattern detection: a dense
// factorization of a small matrix costs less than looking at it). Above, one column of J (one forward
// pass) tells a dense J, which is then formed densely without detection; otherwise the pattern is
// detected (one tracer run of c, once per solve, or never with a kept `analysis`) and
//  * its band kl + ku + 1 is at most `max_band` and at most half of n → `BandedLU`: the Jacobian
//    costs ⌈(kl + ku + 1)/4⌉ forward passes and the factorization O(n kl (kl + ku));
//  * else at most `max_density` of its entries can be nonzero → `SparseLU`;
//  * else J is formed densely as usual.
// The defaults are measured (reverse-mode gradients through Newton, benchmarks/
// implicit_sparse.bench.cpp): on Broyden's tridiagonal system the dense and banded paths cost the
// same near 12–16 unknowns (dense LU ahead below, banded ahead above: 2.6 times at 64); the sparse LU
// costs about twice the banded LU on a narrow band, so a band of up to 32 diagonals goes banded,
// while a wider one (a 2-D stencil's, of width √n) fills less under the sparse LU's ordering.

#include <optional>
#include <string_view>
#include <utility>
#include <variant>

#include <Eigen/Core>

#include "ift/linalg/banded_lu.hpp"
#include "ift/linalg/dense.hpp"
#include "ift/linalg/linear_solver.hpp"
#include "ift/linalg/sparse_lu.hpp"
#include "ift/sparsity_pattern.hpp"

namespace ift {
namespace detail {

/// The factorization `Auto` chose: dense, banded or sparse LU.
class AutoFactor {
 public:
  using Dense = DenseFactor<Eigen::PartialPivLU<Eigen::MatrixXd>>;
  explicit AutoFactor(Dense f) : factor_(std::move(f)) {}
  explicit AutoFactor(BandedFactor f) : factor_(std::move(f)) {}
  explicit AutoFactor(SparseFactor f) : factor_(std::move(f)) {}

  /// True when the sparse LU was chosen.
  bool sparse() const { return std::holds_alternative<SparseFactor>(factor_); }
  /// True when the banded LU was chosen.
  bool banded() const { return std::holds_alternative<BandedFactor>(factor_); }
  /// X with J X = B.
  template <class B>
  typename B::PlainObject solve(const B& b) const {
    return std::visit([&](const auto& f) -> typename B::PlainObject { return f.solve(b); }, factor_);
  }
  /// X with Jᵀ X = B.
  template <class B>
  typename B::PlainObject solve_transposed(const B& b) const {
    return std::visit([&](const auto& f) -> typename B::PlainObject { return f.solve_transposed(b); },
                      factor_);
  }

 private:
  std::variant<Dense, BandedFactor, SparseFactor> factor_;
};

}  // namespace detail

/// Dense LU below `dense_below` unknowns or when the detected pattern is dense, banded LU for a
/// narrow band, sparse LU otherwise.
struct Auto {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "Auto";
  /// Systems with fewer unknowns use the dense LU without detecting a pattern.
  Eigen::Index dense_below = 12;
  /// The sparse LU is used when the fraction of possibly nonzero entries is at most this.
  double max_density = 0.05;
  /// The banded LU is used when the band kl + ku + 1 has at most this many diagonals (and at most n/2).
  Eigen::Index max_band = 32;
  /// The structure kept across solves, handed to the banded or sparse LU (see `SparseAnalysis`).
  std::optional<SparseAnalysis> analysis{};

  /// Factorizes J densely, banded or sparsely, as its size and pattern say.
  template <JacobianOperator J>
  detail::AutoFactor factor(const J& jac) const {
    const Eigen::Index n = jac.size();
    if (n >= dense_below && (analysis || !dense_column(jac))) {
      const SparsityPattern& p = detail::sparse_structure(jac, analysis);
      const Eigen::Index width = (analysis ? analysis->bandwidth() : bandwidth_of(p)).width();
      if (width <= max_band && 2 * width <= n) return detail::AutoFactor(BandedLU{analysis}.factor(jac));
      if (p.density() <= max_density) return detail::AutoFactor(SparseLU{analysis}.factor(jac));
    }
    return detail::AutoFactor(DenseLU{}.factor(jac.dense()));
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
