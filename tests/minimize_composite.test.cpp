// ift::minimize_composite with ProximalGradient, at every scalar mode, implicit and unrolled: the
// lasso against its closed form on the support, an L1-regularized logistic regression against
// central differences, and the failure modes.

#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "ift/minimize_composite.hpp"
#include "ift/proximal.hpp"
#include "support/vector_modes.hpp"

namespace {

using Eigen::VectorXd;
using ift_test::check_near;
using ift_test::check_vector_modes;
using ift_test::ModeSet;
using ift_test::tangent;
using ift_test::Vec;
using Expected = ift_test::VectorExpected;

// Lasso: min ½‖Ax − b‖² + λ‖x‖₁. On its support S with signs s (x₁ = 0 here at λ = 0.6)
//   x_S = (A_SᵀA_S)⁻¹(A_Sᵀb − λ s),   dx_S/dλ = −(A_SᵀA_S)⁻¹ s,   d²x/dλ² = 0,
// valid while |A_jᵀ(b − Ax)| < λ off the support.
const Eigen::Matrix<double, 4, 3> lasso_a =
    (Eigen::Matrix<double, 4, 3>() << 1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.2, -0.3).finished();
const Eigen::Vector4d lasso_b(2.0, 0.3, -1.5, 0.5);
const auto least_squares = [](const auto& x, const auto&) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  const Vec<S> r = lasso_a.cast<S>() * x - lasso_b.cast<S>();
  return S(0.5 * r.squaredNorm());
};
// prox of η λ‖·‖₁: soft thresholding by ηλ.
const auto soft_threshold = [](const auto& y, const auto& eta, const auto& lambda) {
  using S = typename std::decay_t<decltype(y)>::Scalar;
  const S t = eta * lambda;
  Vec<S> out(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i)
    out(i) = y(i) > t ? S(y(i) - t) : (y(i) < -t ? S(y(i) + t) : S(t - t));
  return out;
};

Expected lasso_expected(double lambda) {
  const Eigen::Matrix<double, 4, 2> as = lasso_a(Eigen::all, std::vector<int>{0, 2});
  const Eigen::Vector2d signs(1.0, -1.0);
  const Eigen::Matrix2d gram = as.transpose() * as;
  const Eigen::Vector2d xs = gram.ldlt().solve(as.transpose() * lasso_b - lambda * signs);
  const Eigen::Vector2d dxs = -gram.ldlt().solve(signs);
  Expected e{VectorXd::Zero(3), VectorXd::Zero(3), VectorXd::Zero(3)};
  e.x << xs(0), 0.0, xs(1);
  e.dx << dxs(0), 0.0, dxs(1);
  REQUIRE(xs(0) > 0.0);
  REQUIRE(xs(1) < 0.0);
  REQUIRE(std::abs(lasso_a.col(1).dot(lasso_b - lasso_a * e.x)) < lambda);
  return e;
}

// L1-regularized logistic regression with a tree θ = (λ, s): min Σᵢ log(1 + exp(−yᵢ s aᵢᵀx)) + ½‖x‖²/10
// + λ‖x‖₁, no closed form: derivatives against central differences of the double solve.
template <class T>
struct Logistic {
  T lambda;
  T scale;
};
const Eigen::Matrix<double, 5, 3> logistic_a =
    (Eigen::Matrix<double, 5, 3>() << 1, 0.2, -0.5, -0.3, 1, 0.8, 0.6, -1, 0.1, -1, 0.4, 0.3, 0.2, 0.1, -1)
        .finished();
const Eigen::Matrix<double, 5, 1> logistic_y = (Eigen::Matrix<double, 5, 1>() << 1, 1, -1, -1, 1).finished();
const auto logistic_loss = [](const auto& x, const auto& p) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  const Vec<S> margins = p.scale * logistic_y.cast<S>().cwiseProduct(logistic_a.cast<S>() * x);
  S loss = 0.05 * x.squaredNorm();
  for (Eigen::Index i = 0; i < margins.size(); ++i) loss += log1p(exp(-margins(i)));
  return loss;
};
const auto logistic_prox = [](const auto& y, const auto& eta, const auto& p) {
  return soft_threshold(y, eta, p.lambda);
};

}  // namespace

TEST_CASE("minimize_composite: lasso on its support, implicit", "[minimize_composite]") {
  check_vector_modes(
      [](const auto& lambda) {
        return ift::minimize_composite(least_squares, soft_threshold, VectorXd::Zero(3), lambda).x;
      },
      0.6, lasso_expected(0.6), 1e-8);
}

TEST_CASE("minimize_composite: lasso on its support, unrolled", "[minimize_composite][unrolled]") {
  check_vector_modes<ModeSet::essential>(
      [](const auto& lambda) {
        return ift::minimize_composite(least_squares, soft_threshold, VectorXd::Zero(3), lambda,
                                       ift::ProximalGradient{.tol = 1e-12}, ift::Unrolled{})
            .x;
      },
      0.6, lasso_expected(0.6), 1e-8);
}

TEST_CASE("minimize_composite: lasso with ift::prox_l1", "[minimize_composite]") {
  const auto prox = [](const auto& y, const auto& eta, const auto& lambda) {
    return ift::prox_l1(y, eta * lambda);
  };
  check_vector_modes(
      [&](const auto& lambda) {
        return ift::minimize_composite(least_squares, prox, VectorXd::Zero(3), lambda).x;
      },
      0.6, lasso_expected(0.6), 1e-8);
}

TEST_CASE("minimize_composite: L1 logistic regression against central differences", "[minimize_composite]") {
  const Logistic<double> p{0.9, 1.5};
  const auto solve = [](const auto& th) {
    return ift::minimize_composite(logistic_loss, logistic_prox, VectorXd::Zero(3), th).x;
  };
  const VectorXd x = solve(p);
  REQUIRE((x.array() == 0.0).count() >= 1);  // the L1 term is active on some coordinate
  REQUIRE((x.array() != 0.0).count() >= 1);
  // Central differences with Richardson extrapolation: (4 D(h/2) − D(h))/3, error O(h⁴).
  const auto central = [&](int k, double h) {
    Logistic<double> up = p, down = p;
    (k == 0 ? up.lambda : up.scale) += h;
    (k == 0 ? down.lambda : down.scale) -= h;
    return VectorXd((solve(up) - solve(down)) / (2.0 * h));
  };
  const auto richardson = [&](int k) { return VectorXd((4.0 * central(k, 5e-4) - central(k, 1e-3)) / 3.0); };
  const VectorXd d_lambda = richardson(0), d_scale = richardson(1);

  ift::Tape tape;
  const Logistic<ift::Var> pv{0.9, 1.5};
  const Vec<ift::Var> xv = solve(pv);
  for (Eigen::Index i = 0; i < 3; ++i) {
    const auto g = tape.gradient(xv(i), pv);
    CHECK(std::abs(g.lambda - d_lambda(i)) <= 1e-7);
    CHECK(std::abs(g.scale - d_scale(i)) <= 1e-7);
  }
  using D = ift::Dual<double, 2>;
  const Vec<D> xd = solve(Logistic<D>{D(0.9, Eigen::Vector2d(1, 0)), D(1.5, Eigen::Vector2d(0, 1))});
  check_near(tangent(xd, 0), d_lambda, 1e-7);
  check_near(tangent(xd, 1), d_scale, 1e-7);
}

TEST_CASE("minimize_composite: a user solver sees fp(x) and fp.prox(y, step)", "[minimize_composite]") {
  const auto ista = [](auto& fp, const VectorXd& x0) {
    VectorXd x = x0;
    for (int k = 0; k < 2000; ++k) x = fp.prox(VectorXd(x - 0.5 * ift::gradient(fp, x)), 0.5);
    return x;
  };
  const auto s = ift::minimize_composite(least_squares, soft_threshold, VectorXd::Zero(3),
                                         ift::Dual<double>(0.6, 1.0), ista);
  CHECK(s.status == ift::Status::converged);
  CHECK(s.residual_norm <= 1e-12);
  check_near(tangent(s.x, 0), lasso_expected(0.6).dx, 1e-8);
}

TEST_CASE("minimize_composite: bad input and failures", "[minimize_composite][bad_input]") {
  const VectorXd x0 = VectorXd::Zero(3);
  CHECK_THROWS_AS(ift::minimize_composite(least_squares, soft_threshold, x0, std::nan("")),
                  std::invalid_argument);
  CHECK_THROWS_AS(ift::minimize_composite(least_squares, soft_threshold, VectorXd::Constant(3, NAN), 0.6),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      ift::minimize_composite(least_squares, soft_threshold, x0, 0.6, ift::ProximalGradient{.step = -1.0}),
      std::invalid_argument);
  CHECK_THROWS_AS(
      ift::minimize_composite(least_squares, soft_threshold, x0, 0.6, ift::ProximalGradient{.max_iter = 3}),
      ift::SolverError);
  const auto s = ift::minimize_composite(least_squares, soft_threshold, x0, ift::Dual<double>(0.6, 1.0),
                                         ift::ProximalGradient{.max_iter = 3, .throw_on_failure = false});
  CHECK(s.status == ift::Status::max_iterations);
  CHECK_FALSE(s.derivatives_exact);
  // The iteration's derivative at x₃: that of the problem x₃ solves exactly (its residual held fixed).
  CHECK(std::isfinite(s.x(0).v(0)));
  const auto not_finite = [](const auto& x, const auto& lambda) { return lambda * sqrt(x(0) - 1.0); };
  CHECK_THROWS_AS(ift::minimize_composite(not_finite, soft_threshold, x0, 0.6), ift::SolverError);
}
