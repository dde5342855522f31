#pragma once
// Test functions for the derivative helpers, each generic over the scalar, with their
// derivatives worked out by hand.

#include <Eigen/Core>
#include <catch2/catch.hpp>
#include <cmath>

namespace problems {

/// Rosenbrock: f(x) = Σ_{i<n−1} 100 (x_{i+1} − x_i²)² + (1 − x_i)².
struct Rosenbrock {
  template <class V>
  typename V::Scalar operator()(const V& x) const {
    using S = typename V::Scalar;
    S sum{};  // zero; for Var a constant (Var(0.0) would be a new independent variable)
    for (Eigen::Index i = 0; i + 1 < x.size(); ++i) {
      const S a = x(i + 1) - x(i) * x(i);
      const S b = 1.0 - x(i);
      sum += 100.0 * a * a + b * b;
    }
    return sum;
  }
};

/// ∂f/∂x_i = −400 x_i (x_{i+1} − x_i²) − 2 (1 − x_i) + 200 (x_i − x_{i−1}²) (terms that exist).
inline Eigen::VectorXd rosenbrock_gradient(const Eigen::VectorXd& x) {
  const Eigen::Index n = x.size();
  Eigen::VectorXd g = Eigen::VectorXd::Zero(n);
  for (Eigen::Index i = 0; i + 1 < n; ++i) {
    g(i) += -400.0 * x(i) * (x(i + 1) - x(i) * x(i)) - 2.0 * (1.0 - x(i));
    g(i + 1) += 200.0 * (x(i + 1) - x(i) * x(i));
  }
  return g;
}

/// H_ii = 1200 x_i² − 400 x_{i+1} + 2 (i < n−1) + 200 (i > 0), H_{i,i+1} = −400 x_i.
inline Eigen::MatrixXd rosenbrock_hessian(const Eigen::VectorXd& x) {
  const Eigen::Index n = x.size();
  Eigen::MatrixXd H = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index i = 0; i + 1 < n; ++i) {
    H(i, i) += 1200.0 * x(i) * x(i) - 400.0 * x(i + 1) + 2.0;
    H(i + 1, i + 1) += 200.0;
    H(i, i + 1) = H(i + 1, i) = -400.0 * x(i);
  }
  return H;
}

/// d/dt H(x + t d) at t = 0: the third derivatives contracted with d. Only ∂³/∂x_i³ = 2400 x_i
/// and ∂³/∂x_i²∂x_{i+1} = −400 are nonzero.
inline Eigen::MatrixXd rosenbrock_hessian_derivative(const Eigen::VectorXd& x, const Eigen::VectorXd& d) {
  const Eigen::Index n = x.size();
  Eigen::MatrixXd dH = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index i = 0; i + 1 < n; ++i) {
    dH(i, i) += 2400.0 * x(i) * d(i) - 400.0 * d(i + 1);
    dH(i, i + 1) = dH(i + 1, i) = -400.0 * d(i);
  }
  return dH;
}

/// F: ℝⁿ → ℝⁿ⁺¹ (n ≥ 2), F_i = x_i² x_{i+1} + sin x_i (indices mod n), F_n = exp(0.1 Σ x_k).
struct VectorFunction {
  template <class V>
  Eigen::Matrix<typename V::Scalar, Eigen::Dynamic, 1> operator()(const V& x) const {
    using std::exp;
    using std::sin;
    using S = typename V::Scalar;
    const Eigen::Index n = x.size();
    Eigen::Matrix<S, Eigen::Dynamic, 1> y(n + 1);
    S sum{};  // zero; for Var a constant (Var(0.0) would be a new independent variable)
    for (Eigen::Index i = 0; i < n; ++i) {
      y(i) = x(i) * x(i) * x((i + 1) % n) + sin(x(i));
      sum += x(i);
    }
    y(n) = exp(0.1 * sum);
    return y;
  }
};

inline Eigen::MatrixXd vector_function_jacobian(const Eigen::VectorXd& x) {
  const Eigen::Index n = x.size();
  Eigen::MatrixXd J = Eigen::MatrixXd::Zero(n + 1, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::Index next = (i + 1) % n;
    J(i, i) = 2.0 * x(i) * x(next) + std::cos(x(i));
    J(i, next) = x(i) * x(i);
  }
  J.row(n).setConstant(0.1 * std::exp(0.1 * x.sum()));
  return J;
}

/// d/dt J(x + t d) at t = 0.
inline Eigen::MatrixXd vector_function_jacobian_derivative(const Eigen::VectorXd& x,
                                                           const Eigen::VectorXd& d) {
  const Eigen::Index n = x.size();
  Eigen::MatrixXd dJ = Eigen::MatrixXd::Zero(n + 1, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::Index next = (i + 1) % n;
    dJ(i, i) = 2.0 * d(i) * x(next) + 2.0 * x(i) * d(next) - std::sin(x(i)) * d(i);
    dJ(i, next) = 2.0 * x(i) * d(i);
  }
  dJ.row(n).setConstant(0.01 * std::exp(0.1 * x.sum()) * d.sum());
  return dJ;
}

/// A test point away from the minimizer, with entries of both signs.
inline Eigen::VectorXd point(Eigen::Index n) {
  Eigen::VectorXd x(n);
  for (Eigen::Index i = 0; i < n; ++i) x(i) = std::cos(1.0 + static_cast<double>(i));
  return x;
}

/// A direction for tangents and adjoints.
inline Eigen::VectorXd direction(Eigen::Index n) {
  Eigen::VectorXd d(n);
  for (Eigen::Index i = 0; i < n; ++i) d(i) = std::sin(2.0 + 0.5 * static_cast<double>(i));
  return d;
}

/// Entry-wise |actual − expected| ≤ tol·(1 + max |expected|).
template <class A, class B>
void check_close(const A& actual, const B& expected, double tol = 1e-12) {
  REQUIRE(actual.rows() == expected.rows());
  REQUIRE(actual.cols() == expected.cols());
  const double scale = 1.0 + (expected.size() == 0 ? 0.0 : expected.cwiseAbs().maxCoeff());
  for (Eigen::Index j = 0; j < expected.cols(); ++j)
    for (Eigen::Index i = 0; i < expected.rows(); ++i)
      CHECK_THAT(actual(i, j), Catch::Matchers::WithinAbs(expected(i, j), tol * scale));
}

}  // namespace problems
