// ift::least_squares with Gauss–Newton and Levenberg–Marquardt, at every scalar mode.

#include <catch2/catch.hpp>

#include "ift/least_squares.hpp"
#include "support/modes.hpp"

namespace {

// Fit x in y ≈ x·t: rᵢ(x, θ) = x tᵢ − θ yᵢ, so x*(θ) = θ (tᵀy)/(tᵀt), a nonzero-residual problem
// (y is not proportional to t) with dx/dθ = tᵀy/tᵀt and zero second derivative.
const Eigen::Vector3d t(1.0, 2.0, 3.0);
const Eigen::Vector3d y(1.1, 1.9, 3.3);
const auto residual = [](const auto& x, const auto& theta) {
  using S = std::decay_t<decltype(x)>;
  return (t.cast<S>() * x - y.cast<S>() * theta).eval();
};
const double slope = t.dot(y) / t.dot(t);

template <bool unrolled, class Solver>
void check_solver(const Solver& solver) {
  ift_test::check_scalar_modes<ift_test::modes_for<unrolled>>(
      [&](const auto& th) {
        return ift::least_squares(residual, 0.0, th, solver, ift_test::AdjointFor<unrolled>{}).x;
      },
      2.0, {2.0 * slope, slope, 0.0}, 1e-7);
}

}  // namespace

TEST_CASE("least_squares: GaussNewton", "[least_squares]") {
  SECTION("implicit") { check_solver<false>(ift::GaussNewton{}); }
  SECTION("unrolled") { check_solver<true>(ift::GaussNewton{}); }
}
TEST_CASE("least_squares: LevenbergMarquardt", "[least_squares]") {
  SECTION("implicit") { check_solver<false>(ift::LevenbergMarquardt{}); }
  SECTION("unrolled") { check_solver<true>(ift::LevenbergMarquardt{}); }
}

TEST_CASE("least_squares: nonlinear curve fit against finite differences", "[least_squares]") {
  // Fit y = p₀ exp(p₁ s) to data that depends on θ; the second-order term Σ rᵢ∇²rᵢ matters because the
  // residual at the optimum is not zero.
  const Eigen::VectorXd s = Eigen::VectorXd::LinSpaced(8, 0.0, 1.4);
  const auto fit = [&](const auto& p, const auto& theta) {
    using S = typename std::decay_t<decltype(p)>::Scalar;
    Eigen::Matrix<S, Eigen::Dynamic, 1> r(s.size());
    for (Eigen::Index i = 0; i < s.size(); ++i) {
      using std::exp, std::sin;
      const S data = theta * exp(0.7 * s(i)) + 0.05 * sin(7.0 * s(i));
      r(i) = p(0) * exp(p(1) * s(i)) - data;
    }
    return r;
  };
  const Eigen::Vector2d p0(1.0, 0.5);
  const auto solve = [&](double theta) { return ift::least_squares(fit, p0, theta).x; };
  const double theta = 1.3, h = 1e-5;
  const Eigen::Vector2d fd = (solve(theta + h) - solve(theta - h)) / (2 * h);

  const auto fwd = ift::least_squares(fit, p0, ift::Dual<double>(theta, 1.0), ift::GaussNewton{}).x;
  ift::Tape tape;
  const ift::Var th = theta;
  const auto rev = ift::least_squares(fit, p0, th).x;
  for (int i = 0; i < 2; ++i) {
    CHECK_THAT(fwd(i).v(0), Catch::Matchers::WithinAbs(fd(i), 1e-7));
    CHECK_THAT(tape.gradient(rev(i), th), Catch::Matchers::WithinAbs(fd(i), 1e-7));
  }
}
