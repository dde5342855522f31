#pragma once
// How the minimizers and least-squares solvers see their problem.
//
// A solver iterates on a column vector whose scalar `T` is the scalar of the user's state `X`:
// `X` itself when it is an Eigen vector, a 1-vector when `X` is a scalar. `T` is `double` for an
// ordinary solve and an AD scalar for an unrolled one; everything here is written in `T`
// arithmetic so derivatives flow through the evaluations.
//
// Derivatives: for an Eigen state they come from <ift/derivatives.hpp> (`gradient`, `hessian`,
// `value_and_jacobian`). For a scalar state one or two levels of `Dual<T, 1>` are cheaper and
// need no tape:
//   L(x + ε)            = L(x) + L'(x) ε,
//   L(x + ε₁ + ε₂)      = L(x) + L'(x)(ε₁ + ε₂) + L''(x) ε₁ε₂   (ε₁² = ε₂² = 0),
// so the ε₁ε₂ coefficient of the nested dual is the second derivative.

#include <cstddef>
#include <limits>
#include <type_traits>
#include <utility>

#include <Eigen/Core>

#include "ift/derivatives.hpp"
#include "ift/detail/traits.hpp"
#include "ift/dual.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/solver.hpp"
#include "ift/tree.hpp"

namespace ift::detail {

/// The vector a solver iterates on for a user state `X` (a scalar or an Eigen column vector).
template <class X>
struct SolverState {
  using scalar = typename X::Scalar;
  using vector = Eigen::Matrix<scalar, X::RowsAtCompileTime, 1>;
  static vector to_vector(const X& x) { return x; }
  static X from_vector(const vector& v) { return X(v); }
};

template <Scalar X>
struct SolverState<X> {
  using scalar = X;
  using vector = Eigen::Matrix<X, 1, 1>;
  static vector to_vector(const X& x) { return vector::Constant(x); }
  static X from_vector(const vector& v) { return v(0); }
};

/// Builds the `Solution` a solver returns from its internal vector state.
template <class X, class V>
Solution<X> make_solution(const V& v, Status status, int iterations, double residual_norm) {
  return Solution<X>{SolverState<X>::from_vector(v), status, iterations, residual_norm};
}

/// The `Solution` for an initial guess that is not finite: nothing was iterated.
template <class X>
Solution<X> non_finite_start(const X& x0) {
  return Solution<X>{x0, Status::non_finite, 0, std::numeric_limits<double>::quiet_NaN()};
}

/// Whether a solver running on scalar `T` carries derivatives through its iterations
/// (`ift::Unrolled`).
///
/// The derivative an iteration carries lags its value by one step. For a step map x ← N(x, θ)
/// with fixed point x*, dx_{k+1} = N_x dx_k + N_θ, and a Newton-type map has N_x(x*) ≈ 0, so
/// dx_{k+1} − dx* = O(‖x_k − x*‖): the error of the previous iterate, not of the last one. A
/// superlinear method stops right after a long step, so that error can be far above `tol`. The
/// Newton-type solvers on an AD scalar therefore take one more step from the converged point
/// (the "one-step differentiation" of Bolte, Pauwels & Vaiter, 2023), which brings the carried
/// derivative to the accuracy of x itself and moves the value by O(tol) only.
template <class T>
inline constexpr bool carries_derivatives = ADScalar<T>;

/// The result of a solve converged at `point` (an iterate of `problem` with `x`, `gradient_norm`
/// and `Point::at(problem, x)`) after `iterations`; `options` is the solver struct (`tol`,
/// `on_iteration`). On an AD scalar the solve first takes the extra step (see
/// `carries_derivatives`) when `polish_step()` gives one, h: x + h is kept when its measure is
/// still within `tol`, counted as one more iteration and reported.
template <class X, class Problem, class Point, class Options, class PolishStep>
Solution<X> converged_solution([[maybe_unused]] const Problem& problem, const Point& point, int iterations,
                               [[maybe_unused]] const Options& options,
                               [[maybe_unused]] PolishStep&& polish_step) {
  if constexpr (carries_derivatives<typename SolverState<X>::scalar>) {
    if (const auto h = polish_step()) {
      const Point polished = Point::at(problem, point.x + *h);
      if (polished.gradient_norm <= options.tol) {
        if (options.on_iteration) options.on_iteration(iterations + 1, polished.gradient_norm);
        return make_solution<X>(polished.x, Status::converged, iterations + 1, polished.gradient_norm);
      }
    }
  }
  return make_solution<X>(point.x, Status::converged, iterations, point.gradient_norm);
}

/// A minimization objective `L(x)` (a scalar) with its derivatives, in the state's scalar type.
template <class F, class X>
class Objective {
 public:
  using T = typename SolverState<X>::scalar;
  using Vector = typename SolverState<X>::vector;
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

  explicit Objective(F& f) : f_(f) {}

  /// L(v).
  T value(const Vector& v) const {
    if constexpr (Scalar<X>)
      return f_(v(0));
    else
      return f_(v);
  }

  /// L(v) and ∇L(v).
  std::pair<T, Vector> value_and_gradient(const Vector& v) const {
    if constexpr (Scalar<X>) {
      using D1 = Dual<T, 1>;
      const D1 y = f_(D1(v(0), constant_of<T>(1.0)));
      return {y.value(), Vector::Constant(y.tangent()(0))};
    } else {
      T y = f_(v);
      Vector g = ift::gradient(f_, v);
      return {std::move(y), std::move(g)};
    }
  }

  /// ∇²L(v) as a dense matrix.
  Matrix hessian(const Vector& v) const {
    if constexpr (Scalar<X>) {
      using D1 = Dual<T, 1>;
      using D2 = Dual<D1, 1>;
      const D2 y = f_(D2(D1(v(0), constant_of<T>(1.0)), D1(constant_of<T>(1.0), constant_of<T>(0.0))));
      return Matrix::Constant(1, 1, y.tangent()(0).tangent()(0));
    } else {
      return ift::hessian(f_, v);
    }
  }

 private:
  F& f_;
};

/// A least-squares residual `r(x)` (an Eigen vector of any length m ≥ 1) with its Jacobian.
template <class F, class X>
class Residuals {
 public:
  using T = typename SolverState<X>::scalar;
  using Vector = typename SolverState<X>::vector;
  using ResidualVector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

  explicit Residuals(F& f) : f_(f) {}

  /// r(v).
  ResidualVector value(const Vector& v) const {
    if constexpr (Scalar<X>)
      return f_(v(0));
    else
      return f_(v);
  }

  /// r(v) and the m × n Jacobian ∂r/∂x.
  std::pair<ResidualVector, Matrix> value_and_jacobian(const Vector& v) const {
    if constexpr (Scalar<X>) {
      using D1 = Dual<T, 1>;
      const Eigen::Matrix<D1, Eigen::Dynamic, 1> y = f_(D1(v(0), constant_of<T>(1.0)));
      ResidualVector r(y.size());
      Matrix J(y.size(), 1);
      for (Eigen::Index i = 0; i < y.size(); ++i) {
        r(i) = y(i).value();
        J(i, 0) = y(i).tangent()(0);
      }
      return {std::move(r), std::move(J)};
    } else {
      auto [r, J] = ift::value_and_jacobian(f_, v);
      return {ResidualVector(std::move(r)), Matrix(std::move(J))};
    }
  }

 private:
  F& f_;
};

/// ½‖r‖² on values: the least-squares objective the control flow compares.
template <class V>
double half_squared_norm(const V& r) {
  double sum = 0.0;
  for (Eigen::Index i = 0; i < r.size(); ++i) {
    const double ri = to_double(r(i));
    sum += ri * ri;
  }
  return 0.5 * sum;
}

/// Dot product of the values of two vectors (slopes and curvature tests).
template <class A, class B>
double value_dot(const A& a, const B& b) {
  double sum = 0.0;
  for (Eigen::Index i = 0; i < a.size(); ++i) sum += to_double(a(i)) * to_double(b(i));
  return sum;
}

}  // namespace ift::detail
