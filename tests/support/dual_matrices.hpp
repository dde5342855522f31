#pragma once
// Dual matrices for the Eigen tests: test matrices with tangents in three directions, the values and
// tangents of a dual matrix read back as double matrices, and a check of a dual linear solve.

#include <array>
#include <cmath>

#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <Eigen/LU>

#include "ift/dual.hpp"

namespace ift_test {

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;

/// A well-conditioned test matrix with entries of both signs.
inline Eigen::MatrixXd test_matrix(Eigen::Index rows, Eigen::Index cols, double shift) {
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i)
      m(i, j) = std::sin(1.3 * double(i) + 0.7 * double(j) + shift) + (i == j ? 3.0 : 0.0);
  return m;
}

/// Three tangent directions of a matrix-valued function; direction 1 is sparse, so that with
/// run-time sizes some entries are constants (empty tangents) while others carry three directions.
inline std::array<Eigen::MatrixXd, 3> test_directions(Eigen::Index rows, Eigen::Index cols, double shift) {
  Eigen::MatrixXd sparse = Eigen::MatrixXd::Zero(rows, cols);
  sparse(0, 0) = 1.0;
  sparse(rows - 1, 0) = -2.0;
  return {test_matrix(rows, cols, shift + 1.0) - 3.0 * Eigen::MatrixXd::Identity(rows, cols), sparse,
          0.5 * test_matrix(rows, cols, shift + 2.0)};
}

/// The dual matrix with values `value` and tangents `directions[k]` in direction k. For run-time
/// sizes an entry with no tangent in any direction is a constant with an empty tangent.
template <class D>
Matrix<D> dual_matrix(const Eigen::MatrixXd& value, const std::array<Eigen::MatrixXd, 3>& directions) {
  Matrix<D> m(value.rows(), value.cols());
  for (Eigen::Index j = 0; j < value.cols(); ++j)
    for (Eigen::Index i = 0; i < value.rows(); ++i) {
      const Eigen::Vector3d t(directions[0](i, j), directions[1](i, j), directions[2](i, j));
      if constexpr (D::tangent_type::SizeAtCompileTime == ift::Dynamic)
        m(i, j) = t.isZero(0.0) ? D(value(i, j)) : D(value(i, j), t);
      else
        m(i, j) = D(value(i, j), t.head<D::tangent_type::SizeAtCompileTime>());
    }
  return m;
}

/// The tangent in direction k of a dual matrix, as a double matrix (empty tangents count as zero).
template <class D>
Eigen::MatrixXd tangent(const Matrix<D>& m, int k) {
  Eigen::MatrixXd t(m.rows(), m.cols());
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    const auto& v = m.data()[i].v;
    t.data()[i] = v.size() == 0 ? 0.0 : v[k];
  }
  return t;
}

/// The values of a dual matrix.
template <class D>
Eigen::MatrixXd values(const Matrix<D>& m) {
  Eigen::MatrixXd r(m.rows(), m.cols());
  for (Eigen::Index i = 0; i < m.size(); ++i) r.data()[i] = m.data()[i].a;
  return r;
}

/// Solves A x = b with `solve` on duals and checks value and every direction against matrix calculus.
template <class D, class Solve>
void check_solve(const Eigen::MatrixXd& a, const std::array<Eigen::MatrixXd, 3>& da, const Eigen::VectorXd& b,
                 const std::array<Eigen::MatrixXd, 3>& db, Solve solve) {
  const Matrix<D> ad = dual_matrix<D>(a, da);
  const Matrix<D> bd = dual_matrix<D>(b, db);
  const Vector<D> x = solve(ad, bd.col(0));
  const Eigen::VectorXd x0 = a.partialPivLu().solve(b);
  CHECK(values<D>(x).isApprox(x0, 1e-12));
  constexpr int directions =
      D::tangent_type::SizeAtCompileTime == ift::Dynamic ? 3 : D::tangent_type::SizeAtCompileTime;
  for (int k = 0; k < directions; ++k) {
    INFO("direction " << k);
    const Eigen::VectorXd expected = a.partialPivLu().solve(db[k] - da[k] * x0);
    CHECK(tangent<D>(x, k).isApprox(expected, 1e-11));
  }
}

}  // namespace ift_test
