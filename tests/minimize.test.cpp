// ift::minimize with every minimizer, at every scalar mode, implicit and unrolled.

#include <catch2/catch.hpp>

#include "ift/minimize.hpp"
#include "support/modes.hpp"

namespace {

template <class T>
struct Para {
  T alpha;
  T beta;
};

// Seed 001: x*(a, b) = argmin a x² + b x = −b/(2a); at a = 2, b = −1: x* = 0.25,
// ∂x*/∂a = b/(2a²) = −0.125, ∂²x*/∂a² = −b/a³ = 0.125, ∂x*/∂b = −1/(2a) = −0.25.
const auto quadratic = [](const auto& x, const auto& p) { return p.alpha * x * x + p.beta * x; };
constexpr ift_test::Expected argmin_a{0.25, -0.125, 0.125};

template <bool unrolled, class Solver>
void check_solver(const Solver& solver) {
  // Quasi-Newton methods keep their curvature model on values (a stop-gradient, so AD numbers never
  // enter H); unrolled through them, the final step makes the first derivative exact but not the second.
  constexpr bool quasi_newton = std::is_same_v<Solver, ift::BFGS> || std::is_same_v<Solver, ift::LBFGS>;
  const ift_test::Expected e{argmin_a.x, argmin_a.dx, unrolled && quasi_newton ? std::nan("") : argmin_a.d2x};
  ift_test::check_scalar_modes<ift_test::modes_for<unrolled>>(
      [&](const auto& a) {
        using S = std::decay_t<decltype(a)>;
        const Para<S> p{a, S(-1.0)};
        return ift::minimize(quadratic, 1.0, p, solver, ift_test::AdjointFor<unrolled>{}).x;
      },
      2.0, e, unrolled ? 1e-7 : 1e-8);
}

}  // namespace

TEST_CASE("minimize: GradientDescent, seed argmin a x^2 + b x", "[minimize]") {
  const ift::GradientDescent gd{.learning_rate = 0.1, .tol = 1e-12};
  SECTION("implicit") { check_solver<false>(gd); }
  SECTION("unrolled") { check_solver<true>(gd); }
}
TEST_CASE("minimize: NewtonMin", "[minimize]") {
  SECTION("implicit") { check_solver<false>(ift::NewtonMin{}); }
  SECTION("unrolled") { check_solver<true>(ift::NewtonMin{}); }
}
TEST_CASE("minimize: BFGS", "[minimize]") {
  SECTION("implicit") { check_solver<false>(ift::BFGS{}); }
  SECTION("unrolled") { check_solver<true>(ift::BFGS{}); }
}
TEST_CASE("minimize: LBFGS", "[minimize]") {
  SECTION("implicit") { check_solver<false>(ift::LBFGS{}); }
  SECTION("unrolled") { check_solver<true>(ift::LBFGS{}); }
}

TEST_CASE("minimize: seed published numbers, both parameters in reverse", "[minimize][seed]") {
  ift::Tape tape;
  const Para<ift::Var> p{2.0, -1.0};
  const ift::Var x = ift::minimize(quadratic, 1.0, p, ift::GradientDescent{.learning_rate = 0.1}).x;
  CHECK_THAT(x.value(), Catch::Matchers::WithinAbs(0.25, 1e-8));
  const Para<double> g = tape.gradient(x, p);
  CHECK_THAT(g.alpha, Catch::Matchers::WithinAbs(-0.125, 1e-8));
  CHECK_THAT(g.beta, Catch::Matchers::WithinAbs(-0.25, 1e-8));
}

TEST_CASE("minimize: vector state, ridge regression hypergradient", "[minimize]") {
  // w*(λ) = argmin ½‖Xw − y‖² + ½λ‖w‖² = (XᵀX + λI)⁻¹Xᵀy, so dw*/dλ = −(XᵀX + λI)⁻¹ w*.
  Eigen::MatrixXd X(6, 3);
  X << 1, 0.5, -1, 0.2, 1, 0.3, -0.7, 0.1, 1, 1.5, -0.3, 0.2, 0.3, 0.8, -0.5, -1, 0.4, 0.9;
  const Eigen::VectorXd y = (Eigen::VectorXd(6) << 1, -0.5, 0.3, 2, -1, 0.7).finished();
  const auto loss = [&](const auto& w, const auto& lambda) {
    const auto r =
        (X.cast<std::decay_t<decltype(lambda)>>() * w - y.cast<std::decay_t<decltype(lambda)>>()).eval();
    return 0.5 * r.squaredNorm() + 0.5 * lambda * w.squaredNorm();
  };
  const double lambda = 0.3;
  const Eigen::MatrixXd A = X.transpose() * X + lambda * Eigen::MatrixXd::Identity(3, 3);
  const Eigen::VectorXd w = A.ldlt().solve(X.transpose() * y);
  const Eigen::VectorXd dw = -A.ldlt().solve(w);
  const Eigen::VectorXd w0 = Eigen::VectorXd::Zero(3);

  SECTION("forward") {
    const auto s = ift::minimize(loss, w0, ift::Dual<double>(lambda, 1.0), ift::LBFGS{});
    for (int i = 0; i < 3; ++i) {
      CHECK_THAT(s.x(i).a, Catch::Matchers::WithinAbs(w(i), 1e-9));
      CHECK_THAT(s.x(i).v(0), Catch::Matchers::WithinAbs(dw(i), 1e-8));
    }
  }
  SECTION("reverse, direct and matrix-free adjoints agree") {
    ift::Tape tape;
    const ift::Var lam = lambda;
    const auto a = ift::minimize(loss, w0, lam, ift::NewtonMin{}).x;
    const auto b = ift::minimize(loss, w0, lam, ift::NewtonMin{}, ift::Implicit<ift::CG>{}).x;
    const auto c = ift::minimize(loss, w0, lam, ift::NewtonMin{}, ift::Implicit<ift::LDLT>{}).x;
    for (int i = 0; i < 3; ++i) {
      CHECK_THAT(tape.gradient(a(i), lam), Catch::Matchers::WithinAbs(dw(i), 1e-9));
      CHECK_THAT(tape.gradient(b(i), lam), Catch::Matchers::WithinAbs(dw(i), 1e-9));
      CHECK_THAT(tape.gradient(c(i), lam), Catch::Matchers::WithinAbs(dw(i), 1e-9));
    }
  }
}

TEST_CASE("minimize: a flat direction has no implicit derivative", "[minimize][errors]") {
  // L = (x₀ + x₁ − θ)²: every point of a line is a minimizer, the Hessian is singular.
  const auto flat_valley = [](const auto& x, const auto& th) {
    return (x(0) + x(1) - th) * (x(0) + x(1) - th);
  };
  CHECK_THROWS_AS(ift::minimize(flat_valley, Eigen::Vector2d(0, 0), ift::Dual<double>(1.0, 1.0), ift::BFGS{}),
                  ift::SingularJacobianError);
}

TEST_CASE("minimize: seed, recovering a by gradient descent through the argmin", "[minimize][seed]") {
  // Data x_i = argmin a* x² + b_i x for a hidden a*; learn â by descending Σ (x̂_i(â) − x_i)², each x̂_i an
  // implicit solve whose gradient w.r.t. â comes from the reverse rule.
  const double true_a = 1.2;
  const std::vector<double> bs{-0.9, -0.4, 0.1, 0.35, 0.8, -0.65, 0.5, 0.95};
  std::vector<double> xs;
  for (const double b : bs) xs.push_back(-b / (2 * true_a));

  double a_hat = 1.5, loss = 0;
  for (int step = 0; step < 200; ++step) {
    ift::Tape tape;
    const ift::Var a = a_hat;
    ift::Var total = 0.0;
    for (std::size_t i = 0; i < bs.size(); ++i) {
      const ift::Var x = ift::minimize(quadratic, 0.0, Para<ift::Var>{a, bs[i]}, ift::NewtonMin{}).x;
      total += (x - xs[i]) * (x - xs[i]);
    }
    loss = total.value();
    a_hat -= 1.0 * tape.gradient(total, a);
  }
  CHECK_THAT(a_hat, Catch::Matchers::WithinAbs(true_a, 1e-6));
  CHECK(loss < 1e-12);
}
