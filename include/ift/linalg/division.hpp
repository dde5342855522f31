#pragma once
// The linear solver of a scalar state: J = ∂c/∂x is 1 × 1, so a solve is a division. The implicit
// rule uses it for every scalar problem whatever linear solver was asked for — every solver's answer
// is this quotient — and a program that differentiates only scalar problems never compiles a
// matrix factorization.

#include <string_view>

#include <Eigen/Core>

#include "ift/detail/traits.hpp"
#include "ift/errors.hpp"
#include "ift/linalg/linear_solver.hpp"

namespace ift::detail {

/// Division by the one entry j of a 1 × 1 J, in j's arithmetic.
template <class T>
struct DivisionFactor {
  T j;
  template <class B>
  typename B::PlainObject solve(const B& b) const {
    return b / j;
  }
  template <class B>
  typename B::PlainObject solve_transposed(const B& b) const {
    return b / j;
  }
};

/// A `DenseLinearSolver` for 1 × 1 matrices (any scalar type). A zero or non-finite entry is a
/// `SingularJacobianError`, as for every solver: a 1 × 1 matrix is singular exactly when it is 0.
/// Errors name the linear solver the user chose, which this one stands in for.
struct Division {
  std::string_view name;

  template <class Derived>
  DivisionFactor<typename Derived::Scalar> factor(const Eigen::MatrixBase<Derived>& J) const {
    require_finite_jacobian(to_double(J), name);
    if (to_double(J(0, 0)) == 0.0) require_well_conditioned(0.0, name);
    return {J(0, 0)};
  }
};

}  // namespace ift::detail
