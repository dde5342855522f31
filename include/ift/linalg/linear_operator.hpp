#pragma once
// A matrix-free linear operator that Eigen's iterative solvers accept in place of a matrix
// (the pattern of Eigen's "matrix-free solvers" documentation). Its specializations of
// `Eigen::internal::traits` and `generic_product_impl` are that documented extension point, not
// the private kernels detail/eigen_internal.hpp guards, and only the Krylov module needs them. Its product is
// one call of a user-supplied function v ↦ A v: for the implicit rule, a JVP or a VJP of the conditions.

#include <functional>
#include <utility>

#include <Eigen/Core>
#include <Eigen/SparseCore>

namespace ift::detail {
class LinearOperator;
}

namespace Eigen::internal {
// Eigen's iterative solvers dispatch on the operand's traits; a sparse-like shape routes A*x
// to the product implementation below.
template <>
struct traits<ift::detail::LinearOperator> : public traits<Eigen::SparseMatrix<double>> {};
}  // namespace Eigen::internal

namespace ift::detail {

/// The n × n operator A given by its action `apply(v) = A v`.
class LinearOperator : public Eigen::EigenBase<LinearOperator> {
 public:
  using Scalar = double;
  using RealScalar = double;
  using StorageIndex = int;
  enum { ColsAtCompileTime = Eigen::Dynamic, MaxColsAtCompileTime = Eigen::Dynamic, IsRowMajor = false };

  LinearOperator(Eigen::Index n, std::function<Eigen::VectorXd(const Eigen::VectorXd&)> apply)
      : n_(n), apply_(std::move(apply)) {}

  Eigen::Index rows() const { return n_; }
  Eigen::Index cols() const { return n_; }
  Eigen::VectorXd apply(const Eigen::VectorXd& v) const { return apply_(v); }

  template <class Rhs>
  Eigen::Product<LinearOperator, Rhs, Eigen::AliasFreeProduct> operator*(
      const Eigen::MatrixBase<Rhs>& x) const {
    return Eigen::Product<LinearOperator, Rhs, Eigen::AliasFreeProduct>(*this, x.derived());
  }

 private:
  Eigen::Index n_;
  std::function<Eigen::VectorXd(const Eigen::VectorXd&)> apply_;
};

}  // namespace ift::detail

namespace Eigen::internal {
template <class Rhs>
struct generic_product_impl<ift::detail::LinearOperator, Rhs, SparseShape, DenseShape, GemvProduct>
    : generic_product_impl_base<ift::detail::LinearOperator, Rhs,
                                generic_product_impl<ift::detail::LinearOperator, Rhs>> {
  template <class Dest>
  static void scaleAndAddTo(Dest& dst, const ift::detail::LinearOperator& lhs, const Rhs& rhs,
                            const double& alpha) {
    dst.noalias() += alpha * lhs.apply(rhs);
  }
};
}  // namespace Eigen::internal
