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
//    compressed-column storage of an `Eigen::SparseMatrix<double>` (a new one, or one of the same
//    structure kept from an earlier fill: a Newton step's J is filled where the last step's was).

#include <algorithm>
#include <cstdint>
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
#include "ift/sparsity_pattern.hpp"
#include "ift/tracer.hpp"
#include "ift/tree.hpp"

namespace ift {

namespace detail {

/// A pattern detected by a tracer run, and whether that run read traced values: if it did not, no
/// branch on the values was taken and the pattern holds at every point, not only at the traced one.
struct TracedPattern {
  SparsityPattern pattern;
  bool read_values = true;
};

/// `sparsity_pattern`, with whether the run read traced values.
template <class F, class Derived>
TracedPattern trace_pattern(F&& f, const Eigen::MatrixBase<Derived>& x) {
  static_assert(Derived::IsVectorAtCompileTime && std::is_same_v<typename Derived::Scalar, double>,
                "ift::sparsity_pattern: x must be an Eigen vector of double");
  const Eigen::Index n = x.size();
  if (n > std::numeric_limits<int>::max())
    throw std::invalid_argument("ift::sparsity_pattern: x is too large for 32-bit indices");
  Eigen::Matrix<Tracer, Derived::SizeAtCompileTime, 1> xt(n);
  for (Eigen::Index j = 0; j < n; ++j) xt(j) = Tracer(x(j), static_cast<int>(j));
  using Traced = typename deferred<Eigen::VectorX<Tracer>, F>::type;  // compiled only when used
  const std::uint64_t reads = tracer_reads();
  const Traced y = flat_output<Tracer>(f(std::as_const(xt)));
  const bool read_values = tracer_reads() != reads;

  SparsityPattern p{y.size(), n, std::vector<int>(static_cast<std::size_t>(n) + 1, 0), {}};
  for (Eigen::Index i = 0; i < y.size(); ++i)
    for (const int j : y(i).dependencies()) ++p.outer[static_cast<std::size_t>(j) + 1];
  for (Eigen::Index j = 0; j < n; ++j) p.outer[j + 1] += p.outer[j];
  p.inner.resize(static_cast<std::size_t>(p.outer[n]));
  std::vector<int> next(p.outer.begin(), p.outer.end() - 1);
  for (Eigen::Index i = 0; i < y.size(); ++i)  // rows in increasing order: each column comes out sorted
    for (const int j : y(i).dependencies())
      p.inner[static_cast<std::size_t>(next[j]++)] = static_cast<int>(i);
  return {std::move(p), read_values};
}

}  // namespace detail

/// The sparsity pattern of ∂f/∂x at x: f (generic over its argument's scalar, like the functions
/// `ift::jacobian` takes) runs once on `ift::Tracer`s. Branches on values follow the branch taken
/// at x. Throws `std::invalid_argument` when x has more than 2³¹ − 1 entries.
template <class F, class Derived>
SparsityPattern sparsity_pattern(F&& f, const Eigen::MatrixBase<Derived>& x) {
  return detail::trace_pattern(std::forward<F>(f), x).pattern;
}

namespace detail {

/// The entries of ∂f/∂x at x in `pattern`, each handed to `store(k, i, j, value)` (k its place in the
/// pattern's compressed columns, (i, j) its row and column), by one forward pass on `Dual<double, 4>`
/// per four colors of `coloring` (which must color `pattern`): a direction seeds the columns of one
/// color, and row i of its tangent is the entry of the one column of that color that row i holds.
/// Throws `std::invalid_argument` when f's output size or x's size do not match the pattern.
template <class F, class Derived, class Store>
void fill_jacobian(F&& f, const Eigen::MatrixBase<Derived>& x, const SparsityPattern& pattern,
                   const ColumnColoring& coloring, Store&& store) {
  constexpr int K = 4;
  static_assert(Derived::IsVectorAtCompileTime && std::is_same_v<typename Derived::Scalar, double>,
                "ift::sparse_jacobian: x must be an Eigen vector of double");
  using D = typename deferred<Dual<double, K>, F>::type;  // compiled only when used
  if (x.size() != pattern.cols || static_cast<Eigen::Index>(coloring.color.size()) != pattern.cols)
    throw std::invalid_argument("ift::sparse_jacobian: x, the pattern and the coloring differ in size");
  Eigen::Matrix<D, Derived::SizeAtCompileTime, 1> xd(x.size());
  for (int first = 0; first < coloring.colors; first += K) {
    for (Eigen::Index j = 0; j < x.size(); ++j) {
      xd(j) = D(x(j));
      if (const int c = coloring.color[j] - first; c >= 0 && c < K) xd(j).v(c) = 1.0;
    }
    const Eigen::VectorX<D> y = flat_output<D>(f(std::as_const(xd)));
    if (y.size() != pattern.rows) {
      std::ostringstream out;
      out << "ift::sparse_jacobian: f returns " << y.size() << " values, the pattern has " << pattern.rows
          << " rows";
      throw std::invalid_argument(out.str());
    }
    for (Eigen::Index j = 0; j < x.size(); ++j)
      if (const int c = coloring.color[j] - first; c >= 0 && c < K)
        for (int k = pattern.outer[j]; k < pattern.outer[j + 1]; ++k)
          store(k, pattern.inner[k], j, y(pattern.inner[k]).v(c));
  }
}

}  // namespace detail

/// ∂f/∂x at x as an `Eigen::SparseMatrix<double>` with the structure of `pattern`, by one forward
/// pass on `Dual<double, 4>` per four colors of `coloring` (which must color `pattern`).
/// Throws `std::invalid_argument` when f's output size or x's size do not match the pattern.
template <class F, class Derived>
Eigen::SparseMatrix<double> sparse_jacobian(F&& f, const Eigen::MatrixBase<Derived>& x,
                                            const SparsityPattern& pattern, const ColumnColoring& coloring) {
  using Sparse = typename detail::deferred<Eigen::SparseMatrix<double>, F>::type;
  Sparse J = detail::with_structure<Sparse>(pattern);
  detail::fill_jacobian(f, x, pattern, coloring,
                        [values = J.valuePtr()](int k, int, Eigen::Index, double v) { values[k] = v; });
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
