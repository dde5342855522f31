#pragma once
// Sparse Jacobians without user input: detect which entries of ∂f/∂x can be nonzero, group the
// columns that share no row, and fill the Jacobian with one forward pass per group.
//
//  * Detection: one run of f on `ift::Tracer`s (tracer.hpp), input j seeded with {j}; output i's
//    set is row i of the pattern. Cost about one evaluation of f with small set merges.
//  * Compression: columns j and k with no row in common (structurally orthogonal) can share a
//    tangent direction. Seeding d = Σ_{j ∈ group} eⱼ, output i receives Σ_{j ∈ group} ∂fᵢ/∂xⱼ, of
//    which at most one term is in the pattern — so the pattern says which column it belongs to. A
//    greedy coloring of the columns (each column takes the smallest color not used by a column it
//    shares a row with) makes the groups; a band of width w needs w colors whatever n is, so a
//    tridiagonal Jacobian costs 3 directions instead of n.
//  * Fill: the colors are evaluated K at a time on `Dual<double, K>` (K = 4), straight into the
//    compressed-column storage of an `Eigen::SparseMatrix<double>`.

#include <algorithm>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "ift/derivatives.hpp"
#include "ift/dual.hpp"
#include "ift/tracer.hpp"
#include "ift/tree.hpp"

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

/// The sparsity pattern of ∂f/∂x at x: f (generic over its argument's scalar, like the functions
/// `ift::jacobian` takes) runs once on `ift::Tracer`s. Branches on values follow the branch taken
/// at x. Throws `std::invalid_argument` when x has more than 2³¹ − 1 entries.
template <class F, class Derived>
SparsityPattern sparsity_pattern(F&& f, const Eigen::MatrixBase<Derived>& x) {
  static_assert(Derived::IsVectorAtCompileTime && std::is_same_v<typename Derived::Scalar, double>,
                "ift::sparsity_pattern: x must be an Eigen vector of double");
  const Eigen::Index n = x.size();
  if (n > std::numeric_limits<int>::max())
    throw std::invalid_argument("ift::sparsity_pattern: x is too large for 32-bit indices");
  Eigen::Matrix<Tracer, Derived::SizeAtCompileTime, 1> xt(n);
  for (Eigen::Index j = 0; j < n; ++j) xt(j) = Tracer(x(j), static_cast<int>(j));
  const Eigen::VectorX<Tracer> y = detail::flat_output<Tracer>(f(std::as_const(xt)));

  SparsityPattern p{y.size(), n, std::vector<int>(static_cast<std::size_t>(n) + 1, 0), {}};
  for (Eigen::Index i = 0; i < y.size(); ++i)
    for (const int j : y(i).dependencies()) ++p.outer[static_cast<std::size_t>(j) + 1];
  for (Eigen::Index j = 0; j < n; ++j) p.outer[j + 1] += p.outer[j];
  p.inner.resize(static_cast<std::size_t>(p.outer[n]));
  std::vector<int> next(p.outer.begin(), p.outer.end() - 1);
  for (Eigen::Index i = 0; i < y.size(); ++i)  // rows in increasing order: each column comes out sorted
    for (const int j : y(i).dependencies())
      p.inner[static_cast<std::size_t>(next[j]++)] = static_cast<int>(i);
  return p;
}

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

/// ∂f/∂x at x as an `Eigen::SparseMatrix<double>` with the structure of `pattern`, by one forward
/// pass on `Dual<double, 4>` per four colors of `coloring` (which must color `pattern`).
/// Throws `std::invalid_argument` when f's output size or x's size do not match the pattern.
template <class F, class Derived>
Eigen::SparseMatrix<double> sparse_jacobian(F&& f, const Eigen::MatrixBase<Derived>& x,
                                            const SparsityPattern& pattern, const ColumnColoring& coloring) {
  constexpr int K = 4;
  using D = Dual<double, K>;
  if (x.size() != pattern.cols || static_cast<Eigen::Index>(coloring.color.size()) != pattern.cols)
    throw std::invalid_argument("ift::sparse_jacobian: x, the pattern and the coloring differ in size");
  Eigen::SparseMatrix<double> J(pattern.rows, pattern.cols);
  J.resizeNonZeros(pattern.nonzeros());
  std::copy(pattern.outer.begin(), pattern.outer.end(), J.outerIndexPtr());
  std::copy(pattern.inner.begin(), pattern.inner.end(), J.innerIndexPtr());

  Eigen::Matrix<D, Derived::SizeAtCompileTime, 1> xd(x.size());
  for (int first = 0; first < coloring.colors; first += K) {
    for (Eigen::Index j = 0; j < x.size(); ++j) {
      xd(j) = D(x(j));
      if (const int c = coloring.color[j] - first; c >= 0 && c < K) xd(j).v(c) = 1.0;
    }
    const Eigen::VectorX<D> y = detail::flat_output<D>(f(std::as_const(xd)));
    if (y.size() != pattern.rows) {
      std::ostringstream out;
      out << "ift::sparse_jacobian: f returns " << y.size() << " values, the pattern has " << pattern.rows
          << " rows";
      throw std::invalid_argument(out.str());
    }
    for (Eigen::Index j = 0; j < x.size(); ++j)
      if (const int c = coloring.color[j] - first; c >= 0 && c < K)
        for (int k = pattern.outer[j]; k < pattern.outer[j + 1]; ++k)
          J.valuePtr()[k] = y(pattern.inner[k]).v(c);
  }
  return J;
}

/// ∂f/∂x at x as an `Eigen::SparseMatrix<double>`: detects the pattern, colors it and fills it
/// (one tracer run of f, then one `Dual<double, 4>` run per four colors).
template <class F, class Derived>
Eigen::SparseMatrix<double> sparse_jacobian(F&& f, const Eigen::MatrixBase<Derived>& x) {
  const SparsityPattern pattern = sparsity_pattern(f, x);
  return sparse_jacobian(f, x, pattern, color_columns(pattern));
}

}  // namespace ift
