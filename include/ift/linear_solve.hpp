#pragma once
// ift::linear_solve — x = A⁻¹b with A and/or b carrying derivatives. The conditions are
// c(x, (A, b)) = A x − b, so ∂c/∂x = A and the implicit rule reads
//     dx = A⁻¹(db − dA·x)                      ("the Jacobian of solve is solve")
//     λ = A⁻ᵀx̄,  b̄ = λ,  Ā = −λxᵀ.
// The matrix-free form takes A only as a product v ↦ A(θ)v.

#include <optional>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "ift/implicit.hpp"

namespace ift {

struct GMRES;  // <ift/krylov.hpp>: the matrix-free form's default solver

namespace detail {

/// True when `T` is a complete type here.
template <class T>
concept complete = requires {
  sizeof(T);
};

/// c(x, (A, b)) = A x − b, with ∂c/∂x = A known and the VJP in closed form.
struct DenseLinearConditions : JacobianShortcut, VjpShortcut {
  template <class Q, class Theta>
  VectorX<Q> operator()(const VectorX<Q>& x, const Theta& theta) const {
    return std::get<0>(theta) * x - std::get<1>(theta);
  }
  template <class T, class Theta>
  MatrixX<T> jacobian_x(const VectorX<T>&, const Theta& theta) const {
    return std::get<0>(theta);
  }
  template <class Vector, class Theta>
  std::pair<Vector, Vector> vjp(const Vector& x, const Theta& theta, const Vector& w) const {
    const auto& a = std::get<0>(theta);
    Vector theta_bar(a.size() + w.size());
    // Leaves in tree order: A column-major (∂(wᵀAx)/∂A = w xᵀ), then b (∂(−wᵀb)/∂b = −w).
    Eigen::Map<Eigen::MatrixXd>(theta_bar.data(), a.rows(), a.cols()) = w * x.transpose();
    theta_bar.tail(w.size()) = -w;
    return {a.transpose() * w, theta_bar};
  }
};

/// A solution with NaN or Inf (from a non-finite b or θ) would give silently wrong derivatives.
template <class Vector>
void require_finite_solution(const Vector& x) {
  if (!x.allFinite())
    throw std::invalid_argument(
        "ift::linear_solve: the solution is not finite (NaN or Inf in b or the operator)");
}

/// A at fixed θ as a `JacobianOperator` given by its product on doubles: what the primal solve
/// factorizes (a direct solver gets A formed column by column, n products).
template <class Product>
struct ProductOperator {
  Eigen::Index n;
  Product product;
  Eigen::Index size() const { return n; }
  Eigen::VectorXd apply(const Eigen::VectorXd& v) const { return product(v); }
  Eigen::MatrixXd dense() const {
    using Vector = typename deferred<Eigen::VectorXd, Product>::type;
    typename deferred<Eigen::MatrixXd, Product>::type a(n, n);
    for (Eigen::Index j = 0; j < n; ++j) a.col(j) = product(Vector::Unit(n, j));
    return a;
  }
  Eigen::SparseMatrix<double> sparse() const { return dense().sparseView(); }
  const SparsityPattern& pattern() const {
    if (!pattern_) pattern_ = sparsity_of(dense());
    return *pattern_;
  }
  mutable std::optional<SparsityPattern> pattern_{};
};

/// c(x, (θ, b)) = matvec(x, θ) − b for a user's matrix-free operator.
template <class MatVec>
struct MatrixFreeLinearConditions {
  MatVec matvec;
  template <class Q, class Theta>
  VectorX<Q> operator()(const VectorX<Q>& x, const Theta& theta) const {
    return VectorX<Q>(matvec(x, std::get<0>(theta))) - std::get<1>(theta);
  }
};

}  // namespace detail

/// Solves A x = b where A (square, dense) and b may hold `double`, `Dual` or `Var` (one AD scalar).
/// `solver` is a direct linear solver (`DenseLU`, `DenseQR`, `LDLT`). Throws `std::invalid_argument`
/// on mismatched sizes and `SingularJacobianError` when A is singular.
/// Cost: one factorization of A's values; each tangent direction or adjoint is one more back-substitution.
template <class MatrixA, class VectorB, class LS = DenseLU>
requires DenseLinearSolver<LS>
auto linear_solve(const Eigen::MatrixBase<MatrixA>& A, const Eigen::MatrixBase<VectorB>& b,
                  const LS& solver = {}) {
  if (A.rows() != A.cols() || A.rows() != b.rows() || b.cols() != 1) {
    std::ostringstream out;
    out << "ift::linear_solve: A must be square and b a vector of its size (A is " << A.rows() << "x"
        << A.cols() << ", b is " << b.rows() << "x" << b.cols() << ")";
    throw std::invalid_argument(out.str());
  }
  using Scalar = std::common_type_t<typename MatrixA::Scalar, typename VectorB::Scalar>;
  const std::tuple<detail::MatrixX<Scalar>, detail::VectorX<Scalar>> theta(A.template cast<Scalar>(),
                                                                           b.template cast<Scalar>());
  detail::require_finite_input(std::get<0>(theta), "ift::linear_solve", "A");
  detail::require_finite_input(std::get<1>(theta), "ift::linear_solve", "b");
  const auto theta_d = detail::base_values(theta);
  // One factorization of A's values: the solution, then the rule's solves on doubles.
  const auto factor = solver.factor(std::get<0>(theta_d));
  const Eigen::VectorXd x = factor.solve(std::get<1>(theta_d));
  detail::require_finite_solution(x);
  return detail::implicit_conditions(detail::DenseLinearConditions{}, x, theta, solver, factor);
}

/// Solves A(θ) x = b for an operator known only by its product `matvec(v, θ)` (linear in v, generic
/// over the scalar like every ift function). `b` and `theta` may carry derivatives (one AD scalar).
/// With a matrix-free `solver` (`GMRES`, `BiCGSTAB`, `CG`; `#include <ift/krylov.hpp>`) A is never
/// formed, for the value or the derivative; a direct solver gets A formed from n products.
template <class MatVec, class VectorB, class P, class LS>
requires LinearSolver<LS> &&
    (!std::is_base_of_v<Eigen::EigenBase<std::decay_t<MatVec>>, std::decay_t<MatVec>>)auto linear_solve(
        MatVec&& matvec, const Eigen::MatrixBase<VectorB>& b, const P& theta, const LS& solver) {
  if constexpr (!detail::require_tree<P>()) {
    return detail::VectorX<typename VectorB::Scalar>();
  } else {
    using B = detail::VectorX<typename VectorB::Scalar>;
    const std::tuple<plain_t<P>, B> params(detail::evaluated(theta), B(b));
    detail::require_finite_input(std::get<0>(params), "ift::linear_solve", "theta");
    detail::require_finite_input(std::get<1>(params), "ift::linear_solve", "b");
    const auto params_d = detail::base_values(params);
    const auto& theta_d = std::get<0>(params_d);
    const auto& b_d = std::get<1>(params_d);
    const auto product = [&](const Eigen::VectorXd& v) -> Eigen::VectorXd {
      Eigen::VectorXd av = matvec(v, theta_d);
      if (av.size() != v.size()) {
        std::ostringstream out;
        out << "ift::linear_solve: matvec(v, theta) returns " << av.size() << " values for v of size "
            << v.size() << "; the operator must be square";
        throw std::invalid_argument(out.str());
      }
      return av;
    };
    const Eigen::VectorXd x =
        detail::factorize(solver, detail::ProductOperator<decltype(product)>{b_d.size(), product}).solve(b_d);
    detail::require_finite_solution(x);
    return detail::implicit_conditions(detail::MatrixFreeLinearConditions<std::decay_t<MatVec>>{matvec}, x,
                                       params, solver);
  }
}

/// `linear_solve(matvec, b, theta, GMRES{})`.
template <class MatVec, class VectorB, class P>
requires(!std::is_base_of_v<Eigen::EigenBase<std::decay_t<MatVec>>, std::decay_t<MatVec>>) auto linear_solve(
    MatVec&& matvec, const Eigen::MatrixBase<VectorB>& b, const P& theta) {
  using Default = typename detail::deferred<GMRES, MatVec>::type;
  static_assert(detail::complete<Default>,
                "ift::linear_solve: the matrix-free form solves with ift::GMRES by default; #include "
                "<ift/krylov.hpp> for it, or pass a linear solver");
  return linear_solve(std::forward<MatVec>(matvec), b, theta, Default{});
}

}  // namespace ift
