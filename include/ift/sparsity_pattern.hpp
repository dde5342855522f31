#pragma once
// The structure of a sparse Jacobian, as plain data: which entries may be nonzero (compressed-column
// form), and a grouping of its columns into structurally orthogonal groups. No scalar type and no
// differentiation here: sparsity.hpp detects patterns and fills Jacobians, the linear solvers read
// them.

#include <algorithm>
#include <limits>
#include <stdexcept>
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

/// Greedy coloring of the columns of `p` in natural order: each column takes the smallest color
/// not already taken by a column sharing a row with it. Optimal for banded patterns (w colors for
/// bandwidth w); a dense row forces n colors. Cost O(Σᵢ (row i's count)²).
inline ColumnColoring color_columns(const SparsityPattern& p) {
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

}  // namespace ift
