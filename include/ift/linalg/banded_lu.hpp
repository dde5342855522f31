#pragma once
// Banded LU of ∂c/∂x with partial pivoting — the algorithm of LAPACK's xGBTRF (unblocked, xGBTF2) and
// xGBTRS, on Eigen storage — for Jacobians whose nonzeros lie within kl subdiagonals and ku
// superdiagonals: chains, 1-D stencils, time steps. The band is read off the pattern (O(n)), J is
// filled by colored forward passes (kl + ku + 1 colors, so ⌈(kl + ku + 1)/4⌉ passes however large n
// is) into its compressed columns, packed into band storage — never a dense n × n matrix — and
// factorized in O(n kl (kl + ku)).
//
// Band storage (LAPACK's): column j of A occupies column j of a (2kl + ku + 1) × n matrix AB,
// A(i, j) at row kv + i − j with kv = kl + ku. The top kl rows hold no entry of A: a row interchange
// moves a row of the band up to kl places, so U has kl + ku superdiagonals and fills them there.
// After the factorization P A = L U, row kv is U's diagonal, the rows above U's superdiagonals, the
// rows below L's multipliers (unit diagonal), and `pivot[j]` is the row swapped with row j at step j.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "ift/errors.hpp"
#include "ift/linalg/linear_solver.hpp"
#include "ift/sparsity_pattern.hpp"

namespace ift {
namespace detail {

/// P A = L U of a banded A, with the solves with A and Aᵀ. Shared, so that the tape node holding it
/// stays cheap to copy.
class BandedFactor {
  // A column-major plain object for B (a vector stays a vector), so each column is contiguous.
  template <class B>
  using Result = std::conditional_t<B::ColsAtCompileTime == 1, Eigen::VectorXd, Eigen::MatrixXd>;

 public:
  /// The factors in band storage (see the file comment) and the row interchanges.
  struct Data {
    Eigen::MatrixXd band;
    std::vector<Eigen::Index> pivot;
    Bandwidth bandwidth;
    Eigen::VectorXd inverse_diagonal;  ///< 1 / U(j, j): the solves multiply, off the division's latency
  };
  explicit BandedFactor(std::shared_ptr<const Data> data) : data_(std::move(data)) {}

  /// n, the order of A.
  Eigen::Index size() const { return data_->band.cols(); }
  /// The bandwidths of A (U has lower + upper superdiagonals).
  Bandwidth bandwidth() const { return data_->bandwidth; }

  /// X with A X = B (B a dense vector or matrix): L y = P b column by column, then U x = y.
  template <class B>
  Result<B> solve(const B& b) const {
    return column_by_column(b, [](double* v, const Factors& f) {
      for (Eigen::Index j = 0; j + 1 < f.n && f.kl > 0; ++j) {
        std::swap(v[j], v[f.pivot[j]]);
        const double* l = f.column(j);  // l[t] = L(j + t, j)
        for (Eigen::Index t = 1, m = std::min(f.kl, f.n - 1 - j); t <= m; ++t) v[j + t] -= l[t] * v[j];
      }
      for (Eigen::Index j = f.n - 1; j >= 0; --j) {
        v[j] *= f.inverse[j];
        const double* u = f.column(j);  // u[i − j] = U(i, j)
        for (Eigen::Index i = std::max<Eigen::Index>(0, j - f.kv); i < j; ++i) v[i] -= u[i - j] * v[j];
      }
    });
  }

  /// X with Aᵀ X = B: Uᵀ z = b forward, then Lᵀ and the interchanges backward.
  template <class B>
  Result<B> solve_transposed(const B& b) const {
    return column_by_column(b, [](double* v, const Factors& f) {
      for (Eigen::Index j = 0; j < f.n; ++j) {
        const double* u = f.column(j);
        double s = v[j];
        for (Eigen::Index i = std::max<Eigen::Index>(0, j - f.kv); i < j; ++i) s -= u[i - j] * v[i];
        v[j] = s * f.inverse[j];
      }
      for (Eigen::Index j = f.n - 2; j >= 0 && f.kl > 0; --j) {
        const double* l = f.column(j);
        double s = v[j];
        for (Eigen::Index t = 1, m = std::min(f.kl, f.n - 1 - j); t <= m; ++t) s -= l[t] * v[j + t];
        v[j] = s;
        std::swap(v[j], v[f.pivot[j]]);
      }
    });
  }

 private:
  // What the solves read: the order, kl, kv = kl + ku, the band's columns (`column(j)` points at
  // U(j, j), so U(i, j) is at offset i − j and L(j + t, j) at t), 1/U(j, j) and the interchanges.
  struct Factors {
    Eigen::Index n, kl, kv, ld;
    const double* band;
    const double* inverse;
    const Eigen::Index* pivot;
    const double* column(Eigen::Index j) const { return band + j * ld + kv; }
  };

  // X = B, then `each(v, factors)` on every column v of X in place.
  template <class B, class Each>
  Result<B> column_by_column(const B& b, Each&& each) const {
    Result<B> x = b;
    const Eigen::Index kl = data_->bandwidth.lower;
    const Factors f{size(),
                    kl,
                    kl + data_->bandwidth.upper,
                    data_->band.rows(),
                    data_->band.data(),
                    data_->inverse_diagonal.data(),
                    data_->pivot.data()};
    for (Eigen::Index c = 0; c < x.cols(); ++c) each(x.col(c).data(), f);
    return x;
  }

  std::shared_ptr<const Data> data_;
};

/// Packs the entries of a sparse A within the band `b` into band storage (zeros elsewhere,
/// including the kl rows of fill). Throws `std::invalid_argument` for an entry outside the band.
template <class Sparse>
Eigen::MatrixXd band_storage(const Sparse& A, Bandwidth b) {
  const Eigen::Index kv = b.lower + b.upper;
  Eigen::MatrixXd ab = Eigen::MatrixXd::Zero(kv + b.lower + 1, A.cols());
  for (Eigen::Index j = 0; j < A.outerSize(); ++j)
    for (typename Sparse::InnerIterator it(A, j); it; ++it) {
      const Eigen::Index d = it.row() - j;
      if (d > b.lower || -d > b.upper)
        throw std::invalid_argument("ift::BandedLU: the matrix has an entry outside its band");
      ab(kv + d, j) = it.value();
    }
  return ab;
}

}  // namespace detail

/// Banded LU with partial pivoting (LAPACK's xGBTRF): for J whose band kl + ku + 1 is narrow.
/// Raises `SingularJacobianError` on a zero or tiny pivot (O(n), at every factorization) and, for the
/// implicit rule's J, when the estimated reciprocal condition number (Hager–Higham, a few banded
/// solves) falls below machine epsilon.
struct BandedLU {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "BandedLU";
  /// The structure kept across solves (see `SparseAnalysis`); by default detected once per solve.
  std::optional<SparseAnalysis> analysis{};

  /// Factorizes J given as an operator: the band from its pattern, the entries by colored forward
  /// passes.
  template <JacobianOperator J>
  detail::BandedFactor factor(const J& jac) const {
    const Bandwidth b = analysis ? (detail::sparse_structure(jac, analysis), analysis->bandwidth())
                                 : bandwidth_of(jac.pattern());
    return factorize(detail::sparse_values(jac, analysis), b, detail::is_rule_jacobian_v<J>);
  }

  /// Factorizes a sparse matrix of doubles, its band read from its entries, with the condition
  /// estimate.
  template <class Derived>
  detail::BandedFactor factor(const Eigen::SparseMatrixBase<Derived>& expression) const {
    const Eigen::SparseMatrix<double> A = expression.derived();
    Bandwidth b;
    for (Eigen::Index j = 0; j < A.outerSize(); ++j)
      for (Eigen::SparseMatrix<double>::InnerIterator it(A, j); it; ++it) {
        b.lower = std::max(b.lower, it.row() - j);
        b.upper = std::max(b.upper, j - it.row());
      }
    return factorize(A, b, true);
  }

 private:
  template <class Sparse>
  static detail::BandedFactor factorize(const Sparse& A, Bandwidth b, bool estimate) {
    if (A.rows() != A.cols()) throw std::invalid_argument("ift::BandedLU: the matrix must be square");
    using Values = Eigen::Map<const Eigen::Matrix<typename Sparse::Scalar, Eigen::Dynamic, 1>>;
    detail::require_finite_jacobian(Values(A.valuePtr(), A.nonZeros()), name);
    auto data = std::make_shared<detail::BandedFactor::Data>(
        detail::BandedFactor::Data{detail::band_storage(A, b), {}, b, {}});
    eliminate(*data);
    detail::BandedFactor f(std::move(data));
    if (estimate)
      detail::require_well_conditioned(detail::rcond_estimate(f, A.cols(), detail::norm1(A)), name);
    return f;
  }

  // xGBTF2: at step j the pivot is the largest of the m + 1 entries on and below the diagonal in
  // column j; its row is swapped into place across columns j … last (the furthest column a swapped
  // row reaches), the multipliers are scaled by the pivot's reciprocal (as LAPACK does) and the rank-1
  // update runs over that block.
  // A zero pivot leaves its column alone: the check of the pivots at the end reports it.
  template <class Data>
  static void eliminate(Data& d) {
    const Eigen::Index n = d.band.cols(), ld = d.band.rows();
    const Eigen::Index kl = d.bandwidth.lower, ku = d.bandwidth.upper, kv = kl + ku;
    double* ab = d.band.data();
    const auto at = [&](Eigen::Index r, Eigen::Index c) -> double& { return ab[r + c * ld]; };
    d.pivot.resize(static_cast<std::size_t>(n));
    Eigen::Index last = 0;
    for (Eigen::Index j = 0; j < n; ++j) {
      const Eigen::Index m = std::min(kl, n - 1 - j);
      Eigen::Index p = 0;
      for (Eigen::Index t = 1; t <= m; ++t)
        if (std::abs(at(kv + t, j)) > std::abs(at(kv + p, j))) p = t;
      d.pivot[static_cast<std::size_t>(j)] = j + p;
      if (at(kv + p, j) == 0.0) continue;
      last = std::max(last, std::min(j + ku + p, n - 1));
      if (p != 0)
        for (Eigen::Index c = 0; c <= last - j; ++c) std::swap(at(kv + p - c, j + c), at(kv - c, j + c));
      if (m == 0) continue;
      const double inverse = 1.0 / at(kv, j);
      for (Eigen::Index t = 1; t <= m; ++t) at(kv + t, j) *= inverse;
      for (Eigen::Index c = 1; c <= last - j; ++c) {
        const double u = at(kv - c, j + c);
        if (u != 0.0)
          for (Eigen::Index t = 1; t <= m; ++t) at(kv + t - c, j + c) -= at(kv + t, j) * u;
      }
    }
    const auto diagonal = d.band.row(kv).transpose().eval();
    detail::require_regular_pivots(diagonal, name);
    d.inverse_diagonal = diagonal.cwiseInverse();
  }
};

}  // namespace ift
