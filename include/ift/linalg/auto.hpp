#pragma once
// `ift::Auto`: dense LU for small or dense Jacobians, sparse LU for large sparse ones.
//
// Below `dense_below` unknowns the dense LU is used straight away (no pattern detection: a dense
// factorization of a small matrix costs less than looking at it). Above, the pattern is detected
// (one tracer run of c) and the sparse LU is used when at most `max_density` of the entries can be
// nonzero; otherwise the Jacobian is formed densely as usual.

#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "ift/linalg/dense_lu.hpp"
#include "ift/linalg/linear_solver.hpp"
#include "ift/linalg/sparse_lu.hpp"
#include "ift/sparsity.hpp"

namespace ift {
namespace detail {

/// The factorization `Auto` chose: dense or sparse LU.
class AutoFactor {
 public:
  using Dense = decltype(DenseLU{}.factor(std::declval<const Eigen::MatrixXd&>()));
  explicit AutoFactor(Dense f) : factor_(std::move(f)) {}
  explicit AutoFactor(SparseFactor f) : factor_(std::move(f)) {}

  /// True when the sparse LU was chosen.
  bool sparse() const { return std::holds_alternative<SparseFactor>(factor_); }
  /// X with J X = B.
  template <class B>
  typename B::PlainObject solve(const B& b) const {
    return std::visit([&](const auto& f) -> typename B::PlainObject { return f.solve(b); }, factor_);
  }
  /// X with Jᵀ X = B.
  template <class B>
  typename B::PlainObject solve_transposed(const B& b) const {
    return std::visit([&](const auto& f) -> typename B::PlainObject { return f.solve_transposed(b); },
                      factor_);
  }

 private:
  std::variant<Dense, SparseFactor> factor_;
};

}  // namespace detail

/// Dense LU below `dense_below` unknowns or when the detected pattern is dense, sparse LU otherwise.
struct Auto {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "Auto";
  /// Systems with fewer unknowns use the dense LU without detecting a pattern.
  Eigen::Index dense_below = 100;
  /// The sparse LU is used when the fraction of possibly nonzero entries is at most this.
  double max_density = 0.05;

  /// True when a Jacobian with this pattern is factorized sparsely.
  bool prefers_sparse(const SparsityPattern& p) const {
    return p.cols >= dense_below && p.density() <= max_density;
  }

  /// Factorizes ∂f/∂x at x (f generic over the scalar), forming it densely or sparsely as chosen.
  template <class F>
  detail::AutoFactor factor_jacobian(F&& f, const Eigen::VectorXd& x) const {
    if (x.size() >= dense_below) {
      const SparsityPattern p = sparsity_pattern(f, x);
      if (prefers_sparse(p))
        return detail::AutoFactor(SparseLU{}.factor(sparse_jacobian(f, x, p, color_columns(p))));
    }
    return detail::AutoFactor(DenseLU{}.factor(jacobian(f, x)));
  }

  /// Factorizes a Jacobian given densely (a problem's own ∂c/∂x), sparsely when its nonzeros are few.
  detail::AutoFactor factor(const Eigen::MatrixXd& J) const {
    if (J.cols() >= dense_below &&
        static_cast<double>((J.array() != 0.0).count()) <= max_density * static_cast<double>(J.size()))
      return detail::AutoFactor(SparseLU{}.factor(Eigen::SparseMatrix<double>(J.sparseView())));
    return detail::AutoFactor(DenseLU{}.factor(J));
  }
};

}  // namespace ift
