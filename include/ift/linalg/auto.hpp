#pragma once
// `ift::Auto`: dense LU for small or dense Jacobians, sparse LU for large sparse ones — an ordinary
// linear solver that takes J as a `JacobianOperator` and decides which form to ask for.
//
// Below `dense_below` unknowns the dense LU is used straight away (no pattern detection: a dense
// factorization of a small matrix costs less than looking at it). Above, the pattern is detected
// (one tracer run of c, once per solve) and the sparse LU is used when at most `max_density` of the
// entries can be nonzero; otherwise J is formed densely as usual.

#include <string_view>
#include <utility>
#include <variant>

#include <Eigen/Core>

#include "ift/linalg/dense.hpp"
#include "ift/linalg/linear_solver.hpp"
#include "ift/linalg/sparse_lu.hpp"

namespace ift {
namespace detail {

/// The factorization `Auto` chose: dense or sparse LU.
class AutoFactor {
 public:
  using Dense = DenseFactor<Eigen::PartialPivLU<Eigen::MatrixXd>>;
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

  /// Factorizes J densely or sparsely, as its size and pattern say.
  template <JacobianOperator J>
  detail::AutoFactor factor(const J& jac) const {
    if (jac.size() >= dense_below && jac.pattern().density() <= max_density)
      return detail::AutoFactor(SparseLU{}.factor(jac.sparse()));
    return detail::AutoFactor(DenseLU{}.factor(jac.dense()));
  }
};

}  // namespace ift
