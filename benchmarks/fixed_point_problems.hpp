#pragma once
// The fixed-point problems that implicit_fixed_point.bench.cpp (implicit against unrolled gradients)
// and implicit_peers.bench.cpp (other tools unrolled) both time: the seed's 2-D map and the
// deep-equilibrium layer, in the problem form of implicit_support.hpp.

#include <cmath>
#include <type_traits>

#include <Eigen/Core>

#include "ift/fixed_point.hpp"
#include "implicit_support.hpp"

namespace bench {

template <class T>
struct Para {
  T alpha;
  T beta;
};

/// wᵀx over any scalar; w of any size (a fixed-size w costs no heap).
template <class W, class X>
auto weighted_sum(const Eigen::MatrixBase<W>& w, const X& x) {
  using S = typename X::Scalar;
  S sum = w(0) * x(0);
  for (Eigen::Index i = 1; i < x.size(); ++i) sum += w(i) * x(i);
  return sum;
}

// -----------------------------------------------------------------------------------------------

/// The seed's 2-D map F(x; α, β) = [√(α − x₀x₁), √((57 − x₁)/(β F₀))] at α = 10, β = 3 from
/// (1.5, 3.5), iterated to ‖F(x) − x‖ ≤ 1e-10; unrolled, exactly `unrolled_iterations` plain steps.
struct Seed002 {
  static constexpr int n = 2;
  Para<double> theta{10.0, 3.0};
  Eigen::Vector2d start{1.5, 3.5};
  Eigen::Vector2d w{1.0, 1.0};
  ift::Iteration solver{};
  int unrolled_iterations = 1000;

  static constexpr auto map = [](const auto& x, const auto& p) {
    using std::sqrt;
    using S = typename std::decay_t<decltype(x)>::Scalar;
    const S f0 = sqrt(p.alpha - x(0) * x(1));
    return Eigen::Matrix<S, 2, 1>(f0, sqrt((57.0 - x(1)) / (p.beta * f0)));
  };

  template <class P, class Adjoint>
  auto solve(const P& p, const Adjoint& adjoint) const {
    if constexpr (std::is_same_v<Adjoint, ift::Unrolled>) {
      // A negative tolerance is never met: exactly `unrolled_iterations` steps, like the seed's scan.
      const ift::Iteration fixed{.tol = -1.0, .max_iter = unrolled_iterations, .throw_on_failure = false};
      return ift::fixed_point(map, start, p, fixed, adjoint);
    } else {
      return ift::fixed_point(map, start, p, solver, adjoint);
    }
  }
  template <class X>
  auto loss(const X& x) const {
    return weighted_sum(w, x);
  }
};

// -----------------------------------------------------------------------------------------------

/// W with spectral norm `norm`: a Gaussian matrix rescaled by its largest singular value (power
/// iteration on WᵀW).
Eigen::MatrixXd contraction_matrix(Eigen::Index n, double norm, unsigned seed) {
  const Eigen::VectorXd entries = random_vector(n * n, seed);
  Eigen::MatrixXd w = Eigen::Map<const Eigen::MatrixXd>(entries.data(), n, n);
  Eigen::VectorXd v = Eigen::VectorXd::Ones(n).normalized();
  double sigma = 0.0;
  for (int k = 0; k < 200; ++k) {
    const Eigen::VectorXd u = w.transpose() * (w * v);
    sigma = std::sqrt(u.norm());
    v = u.normalized();
  }
  return w * (norm / sigma);
}

/// A deep-equilibrium layer x = tanh(W x + θ), W dense with spectral norm 0.9, by Anderson.
struct Deq {
  Eigen::MatrixXd weights;
  Eigen::VectorXd theta;
  Eigen::VectorXd w;
  Eigen::VectorXd direction;
  Eigen::VectorXd start;
  ift::Anderson solver{};

  explicit Deq(Eigen::Index n)
      : weights(contraction_matrix(n, 0.9, 3)),
        theta(random_vector(n, 4)),
        w(random_vector(n, 5)),
        direction(random_vector(n, 6)),
        start(Eigen::VectorXd::Zero(n)) {}

  template <class P, class Adjoint>
  auto solve(const P& p, const Adjoint& adjoint) const {
    const auto map = [this](const auto& x, const auto& b) {
      using S = typename std::decay_t<decltype(x)>::Scalar;
      using std::tanh;
      bench::VectorX<S> z = weights * x + b;
      for (Eigen::Index i = 0; i < z.size(); ++i) z(i) = tanh(z(i));
      return z;
    };
    return ift::fixed_point(map, start, p, solver, adjoint);
  }
  template <class X>
  auto loss(const X& x) const {
    return weighted_sum(w, x);
  }
};

}  // namespace bench
