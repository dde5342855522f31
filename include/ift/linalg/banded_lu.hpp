#pragma once
// Banded LU of ∂c/∂x with partial pivoting — the algorithm of LAPACK's xGBTRF (unblocked, xGBTF2) and
// xGBTRS, on Eigen storage — for Jacobians whose nonzeros lie within kl subdiagonals and ku
// superdiagonals: chains, 1-D stencils, time steps. The band is read off the pattern (O(n)), J is
// filled by colored forward passes (kl + ku + 1 colors, so ⌈(kl + ku + 1)/4⌉ passes however large n
// is) straight into band storage (through its compressed columns when the operator cannot write the
// band itself, or when a kept analysis fixes the pattern) — never a dense n × n matrix — and
// factorized in O(n kl (kl + ku)).
//
// Band storage (LAPACK's): column j of A occupies column j of a (2kl + ku + 1) × n matrix AB,
// A(i, j) at row kv + i − j with kv = kl + ku. The top kl rows hold no entry of A: a row interchange
// moves a row of the band up to kl places, so U has kl + ku superdiagonals and fills them there.
// After the factorization P A = L U, row kv is U's diagonal, the rows above U's superdiagonals, the
// rows below L's multipliers (unit diagonal), and `pivot[j]` is the row swapped with row j at step j.
// One more row, the last, holds 1/U(j, j): the solves multiply instead of dividing, and the factors
// take one allocation.

#include <algorithm>
#include <array>
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

/// Calls `f.template operator()<KL, KU>()` with the band's kl and ku as constants for the narrow bands
/// of chains and 1-D stencils (tridiagonal, pentadiagonal), with `Eigen::Dynamic` for any other: the
/// one place that chooses which bands get kernels of their own (each costs compile time wherever a
/// banded LU is used).
template <class F>
void with_constant_band(Bandwidth b, F&& f) {
  if (b.lower == 1 && b.upper == 1)
    f.template operator()<1, 1>();
  else if (b.lower == 2 && b.upper == 2)
    f.template operator()<2, 2>();
  else
    f.template operator()<Eigen::Dynamic, Eigen::Dynamic>();
}

/// P A = L U of a banded A, with the solves with A and Aᵀ. Shared, so that the tape node holding it
/// stays cheap to copy.
class BandedFactor {
  // A column-major plain object for B (a vector stays a vector), so each column is contiguous.
  template <class B>
  using Result = std::conditional_t<B::ColsAtCompileTime == 1, Eigen::VectorXd, Eigen::MatrixXd>;

 public:
  /// The factors in band storage with 1 / U(j, j) in the last row (see the file comment), and the row
  /// interchanges.
  struct Data {
    Eigen::MatrixXd band;
    std::vector<Eigen::Index> pivot;
    Bandwidth bandwidth;
  };
  explicit BandedFactor(std::shared_ptr<const Data> data) : data_(std::move(data)) {}

  /// n, the order of A.
  Eigen::Index size() const { return data_->band.cols(); }
  /// The bandwidths of A (U has lower + upper superdiagonals).
  Bandwidth bandwidth() const { return data_->bandwidth; }

  /// X with A X = B (B a dense vector or matrix): L y = P b column by column, then U x = y.
  template <class B>
  Result<B> solve(const B& b) const {
    return column_by_column(b, []<int KL, int KV>(double* v, const Factors& f) {
      forward_l<KL>(v, f);
      backward_u<KV>(v, f);
    });
  }

  /// X with Aᵀ X = B: Uᵀ z = b forward, then Lᵀ and the interchanges backward.
  template <class B>
  Result<B> solve_transposed(const B& b) const {
    return column_by_column(b, []<int KL, int KV>(double* v, const Factors& f) {
      forward_ut<KV>(v, f);
      backward_lt<KL>(v, f);
    });
  }

 private:
  // What the solves read: the order, kl, kv = kl + ku, the band's columns (`column(j)` points at
  // U(j, j), so U(i, j) is at offset i − j and L(j + t, j) at t), 1/U(j, j) and the interchanges.
  struct Factors {
    Eigen::Index n, kl, kv, ld;
    const double* band;
    const Eigen::Index* pivot;
    const double* column(Eigen::Index j) const { return band + j * ld + kv; }
    double inverse(Eigen::Index j) const { return band[j * ld + ld - 1]; }
  };

  // X = B, then `each.template operator()<KL, KV>(v, factors)` on every column v of X in place, with
  // the bandwidths as constants for the narrow bands of chains and stencils (`with_constant_band`),
  // or `Eigen::Dynamic` for any other.
  //
  // Why constants: each step of a solve reads what the step before it wrote, so a loop that goes
  // through memory waits on a store and a reload at every row, and the few-entry inner loops cost
  // more in control than in arithmetic. With the band known, the kernels below keep the window of
  // x the band touches in registers and unroll the inner loops; a tridiagonal solve then runs at
  // about the latency of its multiply-adds, as a hand-written Thomas sweep does.
  template <class B, class Each>
  Result<B> column_by_column(const B& b, Each&& each) const {
    Result<B> x = b;
    const Eigen::Index kl = data_->bandwidth.lower, ku = data_->bandwidth.upper;
    const Factors f{size(), kl, kl + ku, data_->band.rows(), data_->band.data(), data_->pivot.data()};
    with_constant_band(data_->bandwidth, [&]<int KL, int KU>() {
      constexpr int KV = KL == Eigen::Dynamic ? Eigen::Dynamic : KL + KU;
      for (Eigen::Index c = 0; c < x.cols(); ++c) each.template operator()<KL, KV>(x.col(c).data(), f);
    });
    return x;
  }

  // The four triangular sweeps, each as a loop over memory for a range of columns (any bandwidth,
  // and the last rows, where the band is cut short by the matrix's end) and as a kernel for a
  // constant bandwidth that runs the full-band rows with a window of x in registers.

  // L y = P b, columns [begin, end) of L: the interchange of step j, then the multipliers below it.
  static void forward_l(double* v, const Factors& f, Eigen::Index begin, Eigen::Index end) {
    for (Eigen::Index j = begin; j < end; ++j) {
      std::swap(v[j], v[f.pivot[j]]);
      const double* l = f.column(j);  // l[t] = L(j + t, j)
      for (Eigen::Index t = 1, m = std::min(f.kl, f.n - 1 - j); t <= m; ++t) v[j + t] -= l[t] * v[j];
    }
  }
  template <int KL>
  static void forward_l(double* v, const Factors& f) {
    if (f.kl == 0) return;
    Eigen::Index j = 0;
    if constexpr (KL != Eigen::Dynamic) {
      if (f.n > KL) {
        std::array<double, KL + 1> w;  // w[t] = v[j + t]
        for (int t = 0; t <= KL; ++t) w[t] = v[t];
        for (;; ++j) {
          const Eigen::Index p = f.pivot[j] - j;
          for (int t = 1; t <= KL; ++t)
            if (p == t) std::swap(w[0], w[t]);
          const double* l = f.column(j);
          for (int t = 1; t <= KL; ++t) w[t] -= l[t] * w[0];
          v[j] = w[0];
          if (j + KL + 1 == f.n) break;
          for (int t = 0; t < KL; ++t) w[t] = w[t + 1];
          w[KL] = v[j + KL + 1];
        }
        for (int t = 1; t <= KL; ++t) v[j + t] = w[t];
        ++j;
      }
    }
    forward_l(v, f, j, f.n - 1);
  }

  // U x = y, columns `from` down to 0: x(j) = y(j) / U(j, j), then x(j)'s multiples off the rows above.
  static void backward_u(double* v, const Factors& f, Eigen::Index from) {
    for (Eigen::Index j = from; j >= 0; --j) {
      v[j] *= f.inverse(j);
      const double* u = f.column(j);  // u[i − j] = U(i, j)
      for (Eigen::Index i = std::max<Eigen::Index>(0, j - f.kv); i < j; ++i) v[i] -= u[i - j] * v[j];
    }
  }
  template <int KV>
  static void backward_u(double* v, const Factors& f) {
    Eigen::Index j = f.n - 1;
    if constexpr (KV != Eigen::Dynamic) {
      if (f.n > KV) {
        std::array<double, KV + 1> w;  // w[t] = v[j − KV + t]
        for (int t = 0; t <= KV; ++t) w[t] = v[j - KV + t];
        for (;; --j) {
          w[KV] *= f.inverse(j);
          const double* u = f.column(j);
          for (int t = 1; t <= KV; ++t) w[KV - t] -= u[-t] * w[KV];
          v[j] = w[KV];
          if (j == KV) break;
          for (int t = KV; t > 0; --t) w[t] = w[t - 1];
          w[0] = v[j - KV - 1];
        }
        for (int t = 0; t < KV; ++t) v[t] = w[t];
        j = KV - 1;
      }
    }
    backward_u(v, f, j);
  }

  // Uᵀ z = b, columns [begin, end): z(j) = (b(j) − Σᵢ U(i, j) z(i)) / U(j, j) over the band above j.
  static void forward_ut(double* v, const Factors& f, Eigen::Index begin, Eigen::Index end) {
    for (Eigen::Index j = begin; j < end; ++j) {
      const double* u = f.column(j);
      double s = v[j];
      for (Eigen::Index i = std::max<Eigen::Index>(0, j - f.kv); i < j; ++i) s -= u[i - j] * v[i];
      v[j] = s * f.inverse(j);
    }
  }
  template <int KV>
  static void forward_ut(double* v, const Factors& f) {
    Eigen::Index j = 0;
    if constexpr (KV != Eigen::Dynamic) {
      j = std::min<Eigen::Index>(KV, f.n);
      forward_ut(v, f, 0, j);
      if (j < f.n) {
        std::array<double, KV> w;  // w[t] = z(j − KV + t), solved
        for (int t = 0; t < KV; ++t) w[t] = v[t];
        for (; j < f.n; ++j) {
          const double* u = f.column(j);
          double s = v[j];
          for (int t = 0; t < KV; ++t) s -= u[t - KV] * w[t];  // the newest z last: the shortest chain
          s *= f.inverse(j);
          v[j] = s;
          for (int t = 0; t + 1 < KV; ++t) w[t] = w[t + 1];
          w[KV - 1] = s;
        }
      }
    }
    forward_ut(v, f, j, f.n);
  }

  // Lᵀ and the interchanges, columns `from` down to `to`: y(j) −= Σₜ L(j + t, j) y(j + t), then the
  // interchange of step j undone.
  static void backward_lt(double* v, const Factors& f, Eigen::Index from, Eigen::Index to) {
    for (Eigen::Index j = from; j >= to; --j) {
      const double* l = f.column(j);
      double s = v[j];
      for (Eigen::Index t = 1, m = std::min(f.kl, f.n - 1 - j); t <= m; ++t) s -= l[t] * v[j + t];
      v[j] = s;
      std::swap(v[j], v[f.pivot[j]]);
    }
  }
  template <int KL>
  static void backward_lt(double* v, const Factors& f) {
    if (f.kl == 0) return;
    if constexpr (KL != Eigen::Dynamic) {
      const Eigen::Index full = f.n - 1 - KL;  // the last column with the whole band below it
      if (full >= 0) {
        backward_lt(v, f, f.n - 2, full + 1);
        std::array<double, KL + 1> w;  // w[t] = v[j + t]
        for (int t = 0; t <= KL; ++t) w[t] = v[full + t];
        for (Eigen::Index j = full;; --j) {
          const double* l = f.column(j);
          double s = w[0];
          for (int t = KL; t >= 1; --t) s -= l[t] * w[t];  // the newest y(j + 1) last
          w[0] = s;
          const Eigen::Index p = f.pivot[j] - j;
          for (int t = 1; t <= KL; ++t)
            if (p == t) std::swap(w[0], w[t]);
          v[j + KL] = w[KL];
          if (j == 0) break;
          for (int t = KL; t > 0; --t) w[t] = w[t - 1];
          w[0] = v[j - 1];
        }
        for (int t = 0; t < KL; ++t) v[t] = w[t];
        return;
      }
    }
    backward_lt(v, f, f.n - 2, 0);
  }

  std::shared_ptr<const Data> data_;
};

/// The rows of band storage for bandwidths `b` (see the file comment): kl rows of fill, the band's
/// kl + ku + 1 diagonals, and the row of 1/U(j, j).
inline Eigen::Index band_rows(Bandwidth b) { return 2 * b.lower + b.upper + 2; }

/// Packs the entries of a compressed-column A (an `Eigen::SparseMatrix<double>`) within the band `b`
/// into band storage (zeros elsewhere). Throws `std::invalid_argument` for an entry outside the band.
template <class Sparse>
Eigen::MatrixXd band_storage(const Sparse& A, Bandwidth b) {
  const Eigen::Index ld = band_rows(b);
  Eigen::MatrixXd ab = Eigen::MatrixXd::Zero(ld, A.cols());
  BandWriter{b, ab.data() + b.lower + b.upper, ld}.all_of(A);
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
    return factor(jac, analysis ? (detail::sparse_structure(jac, analysis), analysis->bandwidth())
                                : detail::bandwidth_of_operator(jac));
  }

  /// Factorizes J given as an operator whose band is known already (`Auto` reads it off the pattern
  /// to choose this solver): filled straight into band storage when the operator can
  /// (`fill_band`, without a kept analysis), else from its compressed columns. Throws
  /// `std::invalid_argument` if J has an entry outside `band`.
  template <JacobianOperator J>
  detail::BandedFactor factor(const J& jac, Bandwidth band) const {
    constexpr bool estimate = detail::is_rule_jacobian_v<J>;
    if constexpr (requires(double* diagonal) { bool(jac.fill_band(band, diagonal, Eigen::Index{})); }) {
      if (!analysis) {
        Eigen::MatrixXd ab = Eigen::MatrixXd::Zero(detail::band_rows(band), jac.size());
        if (jac.fill_band(band, ab.data() + band.lower + band.upper, ab.rows()))
          return factorize_band(std::move(ab), band, estimate);
      }
    }
    return detail::with_sparse_values(
        jac, analysis, [&](const Eigen::SparseMatrix<double>& A) { return factorize(A, band, estimate); });
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
    return factorize_band(detail::band_storage(A, b), b, estimate);
  }

  // A in band storage (its fill rows and last row zero), so its finiteness and ‖A‖₁ are read there.
  // A template (Band is `Eigen::MatrixXd`), so that the elimination and the condition estimate are
  // compiled only where a banded factorization is made, not in every translation unit.
  template <class Band>
  static detail::BandedFactor factorize_band(Band band, Bandwidth b, bool estimate) {
    detail::require_finite_jacobian(band, name);
    const double norm = estimate ? detail::norm1(band) : 0.0;
    auto data =
        std::make_shared<detail::BandedFactor::Data>(detail::BandedFactor::Data{std::move(band), {}, b});
    eliminate(*data);
    detail::BandedFactor f(std::move(data));
    if (estimate) detail::require_well_conditioned(detail::rcond_estimate(f, f.size(), norm), name);
    return f;
  }

  // xGBTF2: at step j the pivot is the largest of the m + 1 entries on and below the diagonal in
  // column j; its row is swapped into place across columns j … last (the furthest column a swapped
  // row reaches), the multipliers are scaled by the pivot's reciprocal (as LAPACK does) and the rank-1
  // update runs over that block.
  // A zero pivot leaves its column alone: the check of the pivots at the end reports it. Each pivot's
  // reciprocal goes to the last row of the storage, for the solves.
  // The narrow bands run with the band as constants (KL, KU), as the solves do
  // (`detail::with_constant_band`): the inner loops of the full-band columns unroll.
  template <class Data>
  static void eliminate(Data& d) {
    detail::with_constant_band(d.bandwidth, [&]<int KL, int KU>() { eliminate<KL, KU>(d); });
  }

  template <int KL, int KU, class Data>
  static void eliminate(Data& d) {
    const Eigen::Index n = d.band.cols(), ld = d.band.rows();  // the last row: 1/U(j, j)
    const Eigen::Index kl = d.bandwidth.lower, ku = d.bandwidth.upper, kv = kl + ku;
    double* ab = d.band.data();
    const auto at = [&](Eigen::Index r, Eigen::Index c) -> double& { return ab[r + c * ld]; };
    d.pivot.resize(static_cast<std::size_t>(n));
    detail::PivotRange pivots;
    Eigen::Index last = 0;
    // Column j with m entries below the diagonal and at most `width` = kv columns right of it to update.
    const auto step = [&](Eigen::Index j, auto m, auto width) {
      Eigen::Index p = 0;
      for (Eigen::Index t = 1; t <= m; ++t)
        if (std::abs(at(kv + t, j)) > std::abs(at(kv + p, j))) p = t;
      d.pivot[static_cast<std::size_t>(j)] = j + p;
      if (at(kv + p, j) == 0.0) {
        pivots.add(0.0);
        return;
      }
      last = std::max(last, std::min(j + ku + p, n - 1));
      if (p != 0)
        for (Eigen::Index c = 0; c <= last - j; ++c) std::swap(at(kv + p - c, j + c), at(kv - c, j + c));
      // U(j, j) is final here: its check and reciprocal (for the solves) come off the elimination's
      // critical path, which divides by the pivot directly — a division, not a division and then a
      // multiplication, before the next column's pivot is known.
      const double pivot = at(kv, j);
      pivots.add(pivot);
      at(ld - 1, j) = 1.0 / pivot;
      if (m == 0) return;
      for (Eigen::Index t = 1; t <= m; ++t) at(kv + t, j) /= pivot;
      for (Eigen::Index c = 1; c <= width; ++c) {
        if (c > last - j) break;
        const double u = at(kv - c, j + c);
        if (u != 0.0)
          for (Eigen::Index t = 1; t <= m; ++t) at(kv + t - c, j + c) -= at(kv + t, j) * u;
      }
    };
    Eigen::Index j = 0;
    if constexpr (KL != Eigen::Dynamic)
      for (; j + KL < n; ++j)
        step(j, std::integral_constant<Eigen::Index, KL>{}, std::integral_constant<Eigen::Index, KL + KU>{});
    for (; j < n; ++j) step(j, std::min(kl, n - 1 - j), kv);
    detail::require_regular_pivots(pivots, d.band.row(kv).transpose(), name);
  }
};

}  // namespace ift
