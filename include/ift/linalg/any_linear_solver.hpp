#pragma once
// `ift::AnyLinearSolver`: any `ift::LinearSolver`, chosen at run time. It is the type of
// `Newton::linear_solver`, so that `ift::Newton{.linear_solver = ift::SparseLU{}}` works with a
// plain (non-template) `Newton` — designated initializers cannot deduce a class template's
// arguments on every compiler C++20 is used with.
//
// Newton solves J d = −f(x) once per step and never with Jᵀ, so only the forward solve is kept.

#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "ift/linalg/auto.hpp"
#include "ift/linalg/gmres.hpp"
#include "ift/linalg/linear_solver.hpp"

namespace ift {

/// A type-erased `ift::LinearSolver` (dense, sparse, matrix-free, or `Auto`); `DenseLU` by default.
class AnyLinearSolver {
 public:
  /// How the solver wants the matrix.
  enum class Form {
    dense,        ///< an `Eigen::MatrixXd`
    sparse,       ///< an `Eigen::SparseMatrix<double>` (pattern detected, colored passes)
    matrix_free,  ///< products v ↦ J v only
    automatic,    ///< dense or sparse, decided by `prefers_sparse` on the detected pattern (`Auto`)
  };

  /// Dense LU.
  AnyLinearSolver() : AnyLinearSolver(DenseLU{}) {}

  /// Wraps the linear solver `ls` (copied).
  template <LinearSolver LS>
  requires(!std::is_same_v<LS, AnyLinearSolver>) AnyLinearSolver(LS ls)  // NOLINT: converts implicitly
      : model_(std::make_shared<const Model<LS>>(std::move(ls))) {}

  /// The wrapped solver's name.
  std::string_view name() const { return model_->name(); }
  /// How the wrapped solver wants the matrix.
  Form form() const { return model_->form(); }
  /// The wrapped solver when it is an `LS`, else null.
  template <class LS>
  const LS* target() const {
    const auto* model = dynamic_cast<const Model<LS>*>(model_.get());
    return model ? &model->ls : nullptr;
  }
  /// For `Form::automatic`: whether a matrix with this pattern goes to the sparse LU.
  bool prefers_sparse(const SparsityPattern& p) const { return model_->prefers_sparse(p); }
  /// For `Form::automatic`: systems with fewer unknowns go to the dense LU without a pattern.
  Eigen::Index dense_below() const { return model_->dense_below(); }

  // Each solve takes the matrix in one form; a solver of another form is stood in for by DenseLU,
  // SparseLU or GMRES respectively.

  /// d with J d = b, J given densely. Throws `SingularJacobianError` as the solver does.
  Eigen::VectorXd solve(const Eigen::MatrixXd& J, const Eigen::VectorXd& b) const {
    return model_->solve(J, b);
  }
  /// d with J d = b, J given sparsely.
  Eigen::VectorXd solve(const Eigen::SparseMatrix<double>& J, const Eigen::VectorXd& b) const {
    return model_->solve(J, b);
  }
  /// d with J d = b, J given by its products. Throws `SolverError` when the iteration does not converge.
  Eigen::VectorXd solve(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& apply,
                        const Eigen::VectorXd& b) const {
    return model_->solve(apply, b);
  }

 private:
  struct Interface {
    virtual ~Interface() = default;
    virtual std::string_view name() const = 0;
    virtual Form form() const = 0;
    virtual bool prefers_sparse(const SparsityPattern&) const = 0;
    virtual Eigen::Index dense_below() const = 0;
    virtual Eigen::VectorXd solve(const Eigen::MatrixXd&, const Eigen::VectorXd&) const = 0;
    virtual Eigen::VectorXd solve(const Eigen::SparseMatrix<double>&, const Eigen::VectorXd&) const = 0;
    virtual Eigen::VectorXd solve(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>&,
                                  const Eigen::VectorXd&) const = 0;
  };

  template <class LS>
  struct Model final : Interface {
    explicit Model(LS s) : ls(std::move(s)) {}
    LS ls;

    std::string_view name() const override {
      if constexpr (requires { LS::name; })
        return LS::name;
      else
        return "user linear solver";
    }
    Form form() const override {
      if constexpr (std::is_same_v<LS, Auto>)
        return Form::automatic;
      else if constexpr (DenseLinearSolver<LS>)
        return Form::dense;
      else if constexpr (SparseLinearSolver<LS>)
        return Form::sparse;
      else
        return Form::matrix_free;
    }
    bool prefers_sparse(const SparsityPattern& p) const override {
      if constexpr (std::is_same_v<LS, Auto>)
        return ls.prefers_sparse(p);
      else
        return SparseLinearSolver<LS>;
    }
    Eigen::Index dense_below() const override {
      if constexpr (std::is_same_v<LS, Auto>)
        return ls.dense_below;
      else
        return 0;
    }
    Eigen::VectorXd solve(const Eigen::MatrixXd& J, const Eigen::VectorXd& b) const override {
      if constexpr (DenseLinearSolver<LS>)
        return ls.factor(J).solve(b);
      else
        return DenseLU{}.factor(J).solve(b);
    }
    Eigen::VectorXd solve(const Eigen::SparseMatrix<double>& J, const Eigen::VectorXd& b) const override {
      if constexpr (SparseLinearSolver<LS>)
        return ls.factor(J).solve(b);
      else
        return SparseLU{}.factor(J).solve(b);
    }
    Eigen::VectorXd solve(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& apply,
                          const Eigen::VectorXd& b) const override {
      if constexpr (MatrixFreeLinearSolver<LS>)
        return ls.solve(apply, b);
      else
        return GMRES{}.solve(apply, b);
    }
  };

  std::shared_ptr<const Interface> model_;
};

}  // namespace ift
