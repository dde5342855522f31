#pragma once
// The structure of a sparse Jacobian, as plain data: which entries may be nonzero (compressed-column
// form), its bandwidths, a grouping of its columns into structurally orthogonal groups, and
// `SparseAnalysis`, the handle that keeps all of it (and a sparse solver's symbolic factorization)
// across the solves of problems of one structure. No scalar type and no differentiation here:
// sparsity.hpp detects patterns and fills Jacobians, the linear solvers read them.

#include <algorithm>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <Eigen/Core>

namespace ift {

/// Which entries of an m × n Jacobian may be nonzero, in compressed-column form: column j's row
/// indices are `inner[outer[j]] … inner[outer[j + 1] − 1]`, increasing.
struct SparsityPattern {
  Eigen::Index rows = 0;   ///< m
  Eigen::Index cols = 0;   ///< n
  std::vector<int> outer;  ///< n + 1 column starts into `inner`
  std::vector<int> inner;  ///< row indices, column by column

  /// The number of entries that may be nonzero.
  Eigen::Index nonzeros() const { return static_cast<Eigen::Index>(inner.size()); }
  /// nonzeros / (m n): 1 for a dense pattern.
  double density() const {
    return rows * cols == 0 ? 0.0 : static_cast<double>(nonzeros()) / (static_cast<double>(rows) * cols);
  }
  /// True when entry (i, j) may be nonzero.
  bool contains(Eigen::Index i, Eigen::Index j) const {
    const auto first = inner.begin() + outer[j], last = inner.begin() + outer[j + 1];
    return std::binary_search(first, last, static_cast<int>(i));
  }
  friend bool operator==(const SparsityPattern&, const SparsityPattern&) = default;
};

/// The pattern of the nonzero entries of a dense matrix (for a Jacobian known in closed form).
inline SparsityPattern sparsity_of(const Eigen::MatrixXd& J) {
  if (J.cols() > std::numeric_limits<int>::max() || J.rows() > std::numeric_limits<int>::max())
    throw std::invalid_argument("ift::sparsity_of: the matrix is too large for 32-bit indices");
  SparsityPattern p{J.rows(), J.cols(), {0}, {}};
  for (Eigen::Index j = 0; j < J.cols(); ++j) {
    for (Eigen::Index i = 0; i < J.rows(); ++i)
      if (J(i, j) != 0.0) p.inner.push_back(static_cast<int>(i));
    p.outer.push_back(static_cast<int>(p.inner.size()));
  }
  return p;
}

/// A grouping of the columns of a pattern into structurally orthogonal groups.
struct ColumnColoring {
  std::vector<int> color;  ///< the group of each column
  int colors = 0;          ///< the number of groups (directional derivatives one Jacobian costs)
};

/// The bandwidths of a pattern: entry (i, j) may be nonzero only for −`lower` ≤ j − i ≤ `upper`.
struct Bandwidth {
  Eigen::Index lower = 0;  ///< kl, the number of subdiagonals
  Eigen::Index upper = 0;  ///< ku, the number of superdiagonals
  /// kl + ku + 1, the number of diagonals of the band.
  Eigen::Index width() const { return lower + upper + 1; }
};

namespace detail {

/// Writes entries of a matrix into band storage: A(i, j) at `diagonal[j·ld + i − j]` (`diagonal`
/// points at A(0, 0)'s place, each column `ld` further on). Throws `std::invalid_argument` for an
/// entry outside `band`, which the storage has no place for.
struct BandWriter {
  Bandwidth band;
  double* diagonal;
  Eigen::Index ld;
  void operator()(Eigen::Index i, Eigen::Index j, double value) const {
    const Eigen::Index d = i - j;
    if (d > band.lower || -d > band.upper)
      throw std::invalid_argument("ift: the matrix has an entry outside the band it is stored in");
    diagonal[j * ld + d] = value;
  }
  /// Every stored entry of a compressed-column A (compressed or not).
  template <class Sparse>
  void all_of(const Sparse& A) const {
    const auto* outer = A.outerIndexPtr();
    const auto* inner = A.innerIndexPtr();
    const auto* counts = A.innerNonZeroPtr();  // null when compressed
    for (Eigen::Index j = 0; j < A.outerSize(); ++j) {
      const Eigen::Index end = counts ? outer[j] + counts[j] : outer[j + 1];
      for (Eigen::Index k = outer[j]; k < end; ++k) (*this)(inner[k], j, A.valuePtr()[k]);
    }
  }
};

}  // namespace detail

/// The bandwidths of `p`, in O(n) (the extreme rows of each column). An empty column adds nothing.
inline Bandwidth bandwidth_of(const SparsityPattern& p) {
  Bandwidth b;
  for (Eigen::Index j = 0; j < p.cols; ++j) {
    if (p.outer[j] == p.outer[j + 1]) continue;
    b.upper = std::max<Eigen::Index>(b.upper, j - p.inner[p.outer[j]]);
    b.lower = std::max<Eigen::Index>(b.lower, p.inner[p.outer[j + 1] - 1] - j);
  }
  return b;
}

/// Greedy coloring of the columns of `p` in natural order: each column takes the smallest color
/// not already taken by a column sharing a row with it. Optimal for banded patterns (w colors for
/// bandwidth w); a dense row forces n colors. Cost O(Σᵢ (row i's count)²), O(n) for a full band.
inline ColumnColoring color_columns(const SparsityPattern& p) {
  // A square full band (every entry within its bandwidths present: chains, 1-D stencils) needs no
  // search: each column shares a row with the w − 1 columns before it, which hold the other w − 1
  // colors, so the greedy order gives column j the color j mod w.
  if (p.rows == p.cols) {
    const Bandwidth b = bandwidth_of(p);
    Eigen::Index full = 0;
    for (Eigen::Index j = 0; j < p.cols; ++j)
      full += std::min(p.rows - 1, j + b.lower) - std::max<Eigen::Index>(0, j - b.upper) + 1;
    if (full == p.nonzeros()) {
      ColumnColoring out{std::vector<int>(static_cast<std::size_t>(p.cols)),
                         static_cast<int>(std::min(b.width(), p.cols))};
      for (Eigen::Index j = 0; j < p.cols; ++j)
        out.color[static_cast<std::size_t>(j)] = static_cast<int>(j % b.width());
      return out;
    }
  }
  // The pattern row by row (compressed-row copy), to find a column's neighbors.
  std::vector<int> row_start(static_cast<std::size_t>(p.rows) + 1, 0), row_cols(p.inner.size());
  for (const int i : p.inner) ++row_start[static_cast<std::size_t>(i) + 1];
  for (Eigen::Index i = 0; i < p.rows; ++i) row_start[i + 1] += row_start[i];
  std::vector<int> next(row_start.begin(), row_start.end() - 1);
  for (Eigen::Index j = 0; j < p.cols; ++j)
    for (int k = p.outer[j]; k < p.outer[j + 1]; ++k) row_cols[next[p.inner[k]]++] = static_cast<int>(j);

  ColumnColoring out{std::vector<int>(static_cast<std::size_t>(p.cols), -1), 0};
  std::vector<Eigen::Index> taken_by;  // taken_by[c] == j: color c is used by a neighbor of column j
  for (Eigen::Index j = 0; j < p.cols; ++j) {
    for (int k = p.outer[j]; k < p.outer[j + 1]; ++k) {
      const int i = p.inner[k];
      for (int r = row_start[i]; r < row_start[i + 1]; ++r)
        if (const int c = out.color[row_cols[r]]; c >= 0) taken_by[c] = j;
    }
    int c = 0;
    while (c < out.colors && taken_by[c] == j) ++c;
    if (c == out.colors) {
      ++out.colors;
      taken_by.push_back(-1);
    }
    out.color[j] = c;
  }
  return out;
}

namespace detail {

/// A compressed-column matrix (`Eigen::SparseMatrix<double>`) with the structure of `p` and its
/// values left to fill, in `p`'s order. A template, so that this header needs no sparse module.
template <class Sparse>
Sparse with_structure(const SparsityPattern& p) {
  Sparse out(p.rows, p.cols);
  out.resizeNonZeros(p.nonzeros());
  std::copy(p.outer.begin(), p.outer.end(), out.outerIndexPtr());
  std::copy(p.inner.begin(), p.inner.end(), out.innerIndexPtr());
  return out;
}

/// What a `SparseAnalysis` keeps: the pattern and its coloring, and the symbolic factorizations a
/// sparse solver made for it (opaque here: the solver that made them reads them back).
struct AnalysisState {
  std::optional<SparsityPattern> pattern;
  ColumnColoring coloring;
  Bandwidth band;
  int patterns_detected = 0;
  int symbolic_analyses = 0;
  std::vector<std::shared_ptr<void>> symbolic;
};

}  // namespace detail

/// A handle on the structure of ∂c/∂x for a family of problems that share it — the same function at
/// other parameters or starting points: the pattern, its coloring and bandwidths, and the symbolic
/// factorization of a sparse solver (the fill-reducing ordering and elimination tree of
/// `SparseLU`). Given to a sparse solver (`SparseLU{.analysis = handle}`, `BandedLU{…}`,
/// `Auto{…}`), it is filled at the first solve and reused by every later one, Newton steps and
/// implicit rule alike: each factorization is then numerical only. Copies share one state.
///
/// The handle trusts that every problem it serves has the pattern it recorded: a Jacobian of another
/// size is rejected (`std::invalid_argument`), one of the same size and another structure is not
/// detected. Not for concurrent solves: give each thread its own handle.
class SparseAnalysis {
 public:
  /// An empty analysis: the first solve records its pattern.
  SparseAnalysis() : state_(std::make_shared<detail::AnalysisState>()) {}
  /// An analysis of a pattern known in advance: no solve detects it.
  explicit SparseAnalysis(SparsityPattern pattern) : SparseAnalysis() { record(std::move(pattern)); }

  /// The recorded pattern, or null before the first solve.
  const SparsityPattern* pattern() const { return state_->pattern ? &*state_->pattern : nullptr; }
  /// The coloring of the recorded pattern.
  const ColumnColoring& coloring() const { return state_->coloring; }
  /// The bandwidths of the recorded pattern.
  Bandwidth bandwidth() const { return state_->band; }
  /// How many patterns were recorded: 1 however many solves a well-used handle served.
  int patterns_detected() const { return state_->patterns_detected; }
  /// How many symbolic factorizations a sparse solver made for the handle: one per factorization
  /// alive at a time (a reverse-mode tape keeps the implicit rule's), not one per solve.
  int symbolic_analyses() const { return state_->symbolic_analyses; }

  /// Records `pattern` (square), with its coloring and bandwidths; forgets what was recorded before.
  /// Const: a handle, like a `shared_ptr`, gives access to a state it does not own alone.
  void record(SparsityPattern pattern) const {
    if (pattern.rows != pattern.cols)
      throw std::invalid_argument("ift::SparseAnalysis: the pattern of a Jacobian dc/dx must be square");
    state_->coloring = color_columns(pattern);
    state_->band = bandwidth_of(pattern);
    state_->pattern = std::move(pattern);
    state_->symbolic.clear();
    ++state_->patterns_detected;
  }

  /// The shared state, for the solvers that read and extend it.
  detail::AnalysisState& state() const { return *state_; }

 private:
  std::shared_ptr<detail::AnalysisState> state_;
};

}  // namespace ift
