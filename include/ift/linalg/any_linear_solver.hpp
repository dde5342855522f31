#pragma once
// `ift::AnyLinearSolver`: any `ift::LinearSolver`, chosen at run time. It is the type of
// `Newton::linear_solver`, so that `ift::Newton{.linear_solver = ift::SparseLU{}}` works with a
// plain (non-template) `Newton` — designated initializers cannot deduce a class template's
// arguments on every compiler C++20 is used with (clang 14 has no aggregate deduction).
//
// The erasure is lazy: only the solver a program stores is compiled, through the one protocol
// (`detail::factorize`); the default, `Auto`, needs no stored solver at all. Newton solves
// J d = −f(x) once per step and never with Jᵀ, so the erased operation is "factorize J and solve
// once", and J reaches the stored solver as a type-erased `JacobianOperator`.

#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "ift/linalg/auto.hpp"
#include "ift/linalg/linear_solver.hpp"
#include "ift/sparsity_pattern.hpp"

namespace ift {

/// A type-erased `ift::LinearSolver`; `Auto` when default-constructed.
class AnyLinearSolver {
 public:
  /// `Auto`.
  AnyLinearSolver() = default;

  /// Wraps the linear solver `ls` (copied).
  template <LinearSolver LS>
  requires(!std::is_same_v<LS, AnyLinearSolver>) AnyLinearSolver(LS ls)  // NOLINT: converts implicitly
      : model_(std::make_shared<const Model<LS>>(std::move(ls))) {}

  /// The wrapped solver's name.
  std::string_view name() const { return model_ ? model_->name() : Auto::name; }

  /// d with J d = b: factorizes J (a `JacobianOperator`) with the wrapped solver and solves once.
  /// Throws `SingularJacobianError` or `SolverError` as the solver does.
  template <JacobianOperator J>
  Eigen::VectorXd solve(const J& jac, const Eigen::VectorXd& b) const {
    // The default sees J behind the same virtual calls as a stored solver: one `Auto::factor` for
    // every problem of a program, and Newton's J is taken for a step's, not for the solution's (it
    // has no `transposed()` there), so a banded or sparse step gets no condition estimate.
    // The erased J named through J, so that this call is compiled only when `solve` is: written with
    // `Jacobian` alone it would compile `Auto::factor` in every program that includes this header.
    using ErasedJacobian = typename detail::deferred<Jacobian, J>::type;
    const Erased<J> erased(jac);
    if (!model_) return Auto{}.factor(static_cast<const ErasedJacobian&>(erased)).solve(b);
    return model_->solve(erased, b);
  }

 private:
  // J behind virtual calls: what the stored solver sees.
  struct Jacobian {
    virtual ~Jacobian() = default;
    virtual Eigen::Index size() const = 0;
    virtual Eigen::VectorXd apply(const Eigen::VectorXd& v) const = 0;
    virtual Eigen::MatrixXd dense() const = 0;
    virtual const Eigen::SparseMatrix<double>& sparse() const = 0;
    virtual const Eigen::SparseMatrix<double>& sparse(const SparsityPattern& p,
                                                      const ColumnColoring& coloring) const = 0;
    virtual const SparsityPattern& pattern() const = 0;
    virtual bool pattern_known() const = 0;
    virtual Bandwidth bandwidth() const = 0;
    virtual bool fill_band(Bandwidth band, double* diagonal, Eigen::Index ld) const = 0;
  };
  template <class J>
  struct Erased final : Jacobian {
    explicit Erased(const J& j) : jac(j) {}
    const J& jac;
    Eigen::Index size() const override { return jac.size(); }
    Eigen::VectorXd apply(const Eigen::VectorXd& v) const override { return jac.apply(v); }
    Eigen::MatrixXd dense() const override { return jac.dense(); }
    const Eigen::SparseMatrix<double>& sparse() const override { return held(jac.sparse()); }
    const Eigen::SparseMatrix<double>& sparse(const SparsityPattern& p,
                                              const ColumnColoring& coloring) const override {
      if constexpr (requires { jac.sparse(p, coloring); })
        return held(jac.sparse(p, coloring));
      else
        return held(detail::sparse_by_products(jac, p, coloring));
    }
    const SparsityPattern& pattern() const override { return jac.pattern(); }
    bool pattern_known() const override { return detail::pattern_known(jac); }
    Bandwidth bandwidth() const override { return detail::bandwidth_of_operator(jac); }
    bool fill_band(Bandwidth band, double* diagonal, Eigen::Index ld) const override {
      if constexpr (requires { bool(jac.fill_band(band, diagonal, ld)); })
        return jac.fill_band(band, diagonal, ld);
      else
        return false;
    }

   private:
    // A J the operator keeps is passed on; one it returns by value is kept here.
    template <class S>
    const Eigen::SparseMatrix<double>& held(S&& s) const {
      if constexpr (std::is_same_v<S, const Eigen::SparseMatrix<double>&>) {
        return s;
      } else {
        kept = std::forward<S>(s);
        return kept;
      }
    }
    mutable Eigen::SparseMatrix<double> kept;
  };

  struct Interface {
    virtual ~Interface() = default;
    virtual std::string_view name() const = 0;
    virtual Eigen::VectorXd solve(const Jacobian& jac, const Eigen::VectorXd& b) const = 0;
  };
  template <class LS>
  struct Model final : Interface {
    explicit Model(LS s) : ls(std::move(s)) {}
    LS ls;
    std::string_view name() const override { return detail::linear_solver_name<LS>(); }
    Eigen::VectorXd solve(const Jacobian& jac, const Eigen::VectorXd& b) const override {
      return detail::factorize(ls, jac).solve(b);
    }
  };

  std::shared_ptr<const Interface> model_;
};

}  // namespace ift
