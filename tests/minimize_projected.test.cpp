// ift::minimize_projected with ProjectedGradient (spectral and accelerated) and ProjectedNewton, at
// every scalar mode, against closed forms: a box-constrained quadratic, a half-space, a simplex.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <vector>

#include "ift/minimize_projected.hpp"
#include "ift/projections.hpp"

namespace {

using Eigen::VectorXd;
template <class S>
using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;

/// x(θ), dx/dθ and d²x/dθ² of a vector solution.
struct Expected {
  VectorXd x, dx, d2x;
};

void check_near(const VectorXd& got, const VectorXd& want, double tol) {
  INFO("got " << got.transpose() << "\nwant " << want.transpose());
  CHECK((got - want).lpNorm<Eigen::Infinity>() <= tol * (1.0 + want.lpNorm<Eigen::Infinity>()));
}

template <class S>
VectorXd tangent(const Vec<S>& x, int k) {
  VectorXd t(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) t(i) = ift::detail::to_double(x(i).v(k));
  return t;
}

/// x(θ) at double, Dual<double>, Dual<double, 2>, Dual<Dual<double>>, Var and Dual<Var>; `solve(θ)`
/// returns the solution as a vector of θ's scalar.
template <class Solve>
void check_modes(Solve&& solve, double theta, const Expected& e, double tol) {
  using ift::Dual;
  using ift::Var;
  SECTION("double") { check_near(solve(theta), e.x, tol); }
  SECTION("Dual<double>") {
    const Vec<Dual<double>> x = solve(Dual<double>(theta, 1.0));
    check_near(ift::value(x), e.x, tol);
    check_near(tangent(x, 0), e.dx, tol);
  }
  SECTION("Dual<double, 2>") {
    const Vec<Dual<double, 2>> x = solve(Dual<double, 2>(theta, Eigen::Vector2d(1.0, -3.0)));
    check_near(tangent(x, 0), e.dx, tol);
    check_near(tangent(x, 1), -3.0 * e.dx, tol);
  }
  SECTION("Dual<Dual<double>>") {
    using D2 = Dual<Dual<double>>;
    const Vec<D2> x = solve(D2(Dual<double>(theta, 1.0), Dual<double>(1.0, 0.0)));
    const Vec<Dual<double>> inner = ift::value(x);
    check_near(tangent(inner, 0), e.dx, tol);
    VectorXd second(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) second(i) = x(i).v(0).v(0);
    check_near(second, e.d2x, 100 * tol);
  }
  SECTION("Var") {
    ift::Tape tape;
    const Var th = theta;
    const Vec<Var> x = solve(th);
    VectorXd dx(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) dx(i) = tape.gradient(x(i), th);
    check_near(ift::detail::to_double(x), e.x, tol);
    check_near(dx, e.dx, tol);
  }
  SECTION("Dual<Var>") {
    ift::Tape tape;
    const Var th = theta;
    const Vec<Dual<Var>> x = solve(Dual<Var>(th, Var::constant(1.0)));
    VectorXd dx(x.size()), d2x(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      dx(i) = tape.gradient(x(i).a, th);
      d2x(i) = tape.gradient(x(i).v(0), th);
    }
    check_near(tangent(x, 0), e.dx, tol);
    check_near(dx, e.dx, tol);
    check_near(d2x, e.d2x, 100 * tol);
  }
}

// Box: min ½xᵀQx − sin θ·bᵀx over [−1, 1]³. At θ = 1 the first coordinate sits at its upper bound
// (∂L/∂x₀ < 0 there) and the others are free, so x₀ = 1, dx₀ = 0 and on F = {1, 2}
//   Q_FF x_F = sin θ b_F − Q_F0,   dx_F = cos θ Q_FF⁻¹ b_F,   d²x_F = −sin θ Q_FF⁻¹ b_F.
const Eigen::Matrix3d box_q = (Eigen::Matrix3d() << 4, 1, 0, 1, 3, 1, 0, 1, 2).finished();
const Eigen::Vector3d box_b(8, 2, -1);
const auto box_objective = [](const auto& x, const auto& th) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  return S(0.5 * x.dot(box_q.cast<S>() * x) - sin(th) * box_b.cast<S>().dot(x));
};
const auto box_projection = [](const auto& y, const auto&) {
  using S = typename std::decay_t<decltype(y)>::Scalar;
  Vec<S> out = y;
  for (Eigen::Index i = 0; i < y.size(); ++i) out(i) = y(i) > 1.0 ? S(1.0) : (y(i) < -1.0 ? S(-1.0) : y(i));
  return out;
};

Expected box_expected(double theta) {
  const Eigen::Matrix2d qff = box_q.bottomRightCorner<2, 2>();
  const Eigen::Vector2d bf = box_b.tail<2>();
  const Eigen::Vector2d xf = qff.ldlt().solve(std::sin(theta) * bf - box_q.block<2, 1>(1, 0));
  const Eigen::Vector2d u = qff.ldlt().solve(bf);
  Expected e{VectorXd(3), VectorXd(3), VectorXd(3)};
  e.x << 1.0, xf;
  e.dx << 0.0, std::cos(theta) * u;
  e.d2x << 0.0, -std::sin(theta) * u;
  // The active set the closed form assumes: x_F inside the box, and L would decrease past x₀ = 1.
  REQUIRE(xf.cwiseAbs().maxCoeff() < 1.0);
  REQUIRE((box_q * e.x - std::sin(theta) * box_b)(0) < 0.0);
  return e;
}

// The box with an upper bound on x₀ that moves with θ, u(θ) = (1 + θ)/2 (1 at θ = 1), by
// ift::project_box: x₀ = u, dx₀ = ½, and on F
//   Q_FF dx_F = cos θ b_F − ½ Q_F0,   Q_FF d²x_F = −sin θ b_F.
const auto moving_box_projection = [](const auto& y, const auto& th) {
  using S = typename std::decay_t<decltype(y)>::Scalar;
  Vec<S> hi = Vec<S>::Constant(3, S(1.0));
  hi(0) = 0.5 + 0.5 * th;
  return ift::project_box(y, -1.0, hi);
};

Expected moving_box_expected(double theta) {
  Expected e = box_expected(theta);
  const Eigen::Matrix2d qff = box_q.bottomRightCorner<2, 2>();
  e.dx << 0.5, qff.ldlt().solve(std::cos(theta) * box_b.tail<2>() - 0.5 * box_q.block<2, 1>(1, 0));
  return e;
}

// Half-space: min ½(x − p)ᵀD(x − p) s.t. Σx ≤ 1, p(θ) = (θ, θ², 1), D = diag(1, 2, 4). Active at θ = 1:
//   x = p − μ D⁻¹1,   μ = (1ᵀp − 1)/(1ᵀD⁻¹1),  so dx = dp − (1ᵀdp/1ᵀD⁻¹1) D⁻¹1 (the same for d²).
const Eigen::Vector3d half_space_d(1, 2, 4);
const auto half_space_objective = [](const auto& x, const auto& th) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  Vec<S> p(3);
  p << th, th * th, S(1.0);
  const Vec<S> r = x - p;
  return S(0.5 * r.dot(half_space_d.cast<S>().asDiagonal() * r));
};
const auto half_space_projection = [](const auto& y, const auto&) {
  using S = typename std::decay_t<decltype(y)>::Scalar;
  const S excess = y.sum() - 1.0;
  Vec<S> out = y;
  if (excess > 0.0) out.array() -= excess / 3.0;
  return out;
};

Expected half_space_expected(double theta) {
  const VectorXd dinv = half_space_d.cwiseInverse();
  const auto along = [&](const VectorXd& v, double target) {
    return VectorXd(v - (v.sum() - target) / dinv.sum() * dinv);
  };
  VectorXd p(3), dp(3), d2p(3);
  p << theta, theta * theta, 1.0;
  dp << 1.0, 2.0 * theta, 0.0;
  d2p << 0.0, 2.0, 0.0;
  REQUIRE(p.sum() > 1.0);
  return {along(p, 1.0), along(dp, 0.0), along(d2p, 0.0)};
}

// Simplex: min ½Σwᵢ(xᵢ − yᵢ)² over {x ≥ 0, Σx = 1}, y(θ) = (θ, ½θ², −1, 0.1), w = (1, 2, 4, 1). At
// θ = 1 the support is S = {0, 1}: x_S = y_S − τ/w_S with τ = (Σ_S y − 1)/Σ_S wᵢ⁻¹ (the off-support
// multipliers wᵢ(0 − yᵢ) + τ stay positive), hence dx_S = dy_S − dτ/w_S and the same for d².
const Eigen::Vector4d simplex_w(1, 2, 4, 1);
const auto simplex_objective = [](const auto& x, const auto& th) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  Vec<S> y(4);
  y << th, 0.5 * th * th, S(-1.0), S(0.1);
  const Vec<S> r = x - y;
  return S(0.5 * r.dot(simplex_w.cast<S>().asDiagonal() * r));
};
// Sort-based projection (Held, Wolfe & Crowder): τ from the largest k entries with yₖ > τₖ.
const auto simplex_projection = [](const auto& y, const auto&) {
  using S = typename std::decay_t<decltype(y)>::Scalar;
  std::vector<S> sorted(y.data(), y.data() + y.size());
  std::sort(sorted.begin(), sorted.end(), [](const S& a, const S& b) { return a > b; });
  S sum = sorted[0] - sorted[0], tau = sum;
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    sum += sorted[k];
    const S t = (sum - 1.0) / static_cast<double>(k + 1);
    if (sorted[k] > t) tau = t;
  }
  Vec<S> out(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) out(i) = y(i) > tau ? S(y(i) - tau) : S(tau - tau);
  return out;
};

Expected simplex_expected(double theta) {
  const double winv = 1.0 + 0.5;
  const double tau = (theta + 0.5 * theta * theta - 1.0) / winv, dtau = (1.0 + theta) / winv,
               d2tau = 1.0 / winv;
  Expected e{VectorXd::Zero(4), VectorXd::Zero(4), VectorXd::Zero(4)};
  e.x.head<2>() << theta - tau, 0.5 * theta * theta - tau / 2.0;
  e.dx.head<2>() << 1.0 - dtau, theta - dtau / 2.0;
  e.d2x.head<2>() << -d2tau, 1.0 - d2tau / 2.0;
  REQUIRE(e.x.head<2>().minCoeff() > 0.0);
  REQUIRE(-simplex_w(3) * 0.1 + tau > 0.0);
  return e;
}

template <class Objective, class Projection, class Solver>
auto projected_solve(const Objective& objective, const Projection& projection, const VectorXd& x0,
                     const Solver& solver) {
  return [=](const auto& th) { return ift::minimize_projected(objective, projection, x0, th, solver).x; };
}

}  // namespace

TEST_CASE("minimize_projected: box-constrained quadratic", "[minimize_projected]") {
  const VectorXd x0 = VectorXd::Zero(3);
  const Expected e = box_expected(1.0);
  SECTION("ProjectedGradient") {
    check_modes(projected_solve(box_objective, box_projection, x0, ift::ProjectedGradient{}), 1.0, e, 1e-8);
  }
  SECTION("ProjectedGradient, no BB steps") {
    check_modes(projected_solve(box_objective, box_projection, x0, ift::ProjectedGradient{.bb = false}), 1.0,
                e, 1e-8);
  }
  SECTION("ProjectedGradient, accelerated") {
    check_modes(
        projected_solve(box_objective, box_projection, x0, ift::ProjectedGradient{.accelerate = true}), 1.0,
        e, 1e-8);
  }
  SECTION("ProjectedNewton") {
    check_modes(projected_solve(box_objective, box_projection, x0, ift::ProjectedNewton{}), 1.0, e, 1e-8);
  }
}

TEST_CASE("minimize_projected: a bound that moves with theta, ift::project_box", "[minimize_projected]") {
  const VectorXd x0 = VectorXd::Zero(3);
  const Expected e = moving_box_expected(1.0);
  SECTION("ProjectedGradient") {
    check_modes(projected_solve(box_objective, moving_box_projection, x0, ift::ProjectedGradient{}), 1.0, e,
                1e-8);
  }
  SECTION("ProjectedNewton") {
    check_modes(projected_solve(box_objective, moving_box_projection, x0, ift::ProjectedNewton{}), 1.0, e,
                1e-8);
  }
}

TEST_CASE("minimize_projected: ProjectedNewton identifies the active set in a few iterations",
          "[minimize_projected]") {
  const auto s =
      ift::minimize_projected(box_objective, box_projection, VectorXd::Zero(3), 1.0, ift::ProjectedNewton{});
  CHECK(s.iterations <= 6);
  CHECK(s.residual_norm <= 1e-10);
  check_near(s.x, box_expected(1.0).x, 1e-10);
}

TEST_CASE("minimize_projected: half-space", "[minimize_projected]") {
  check_modes(projected_solve(half_space_objective, half_space_projection, VectorXd::Zero(3),
                              ift::ProjectedGradient{}),
              1.0, half_space_expected(1.0), 1e-8);
}

TEST_CASE("minimize_projected: simplex", "[minimize_projected]") {
  check_modes(projected_solve(simplex_objective, simplex_projection, VectorXd::Constant(4, 0.25),
                              ift::ProjectedGradient{}),
              1.0, simplex_expected(1.0), 1e-8);
}

TEST_CASE("minimize_projected: simplex, ift::project_simplex", "[minimize_projected]") {
  const auto sparsemax = [](const auto& y, const auto&) { return ift::project_simplex(y); };
  check_modes(
      projected_solve(simplex_objective, sparsemax, VectorXd::Constant(4, 0.25), ift::ProjectedGradient{}),
      1.0, simplex_expected(1.0), 1e-8);
}

TEST_CASE("minimize_projected: residual_norm is the conditions' residual", "[minimize_projected]") {
  const auto s =
      ift::minimize_projected(simplex_objective, simplex_projection, VectorXd::Constant(4, 0.25), 1.0);
  VectorXd y(4);
  y << 1.0, 0.5, -1.0, 0.1;
  const VectorXd g = simplex_w.cwiseProduct(s.x - y);
  const VectorXd r = s.x - simplex_projection(VectorXd(s.x - g), 1.0);
  CHECK(s.status == ift::Status::converged);
  CHECK(s.residual_norm <= 1e-10);
  CHECK(std::abs(s.residual_norm - r.norm()) <= 1e-15);
}

TEST_CASE("minimize_projected: a user solver sees fp(x) and fp.project(y)", "[minimize_projected]") {
  const auto user = [](auto& fp, const VectorXd& x0) {
    VectorXd x = x0;
    for (int k = 0; k < 500; ++k) x = fp.project(VectorXd(x - 0.2 * ift::gradient(fp, x)));
    return x;
  };
  const Expected e = box_expected(1.0);
  const auto s = ift::minimize_projected(box_objective, box_projection, VectorXd::Zero(3),
                                         ift::Dual<double>(1.0, 1.0), user);
  CHECK(s.status == ift::Status::converged);
  CHECK(s.residual_norm <= 1e-12);
  check_near(tangent(s.x, 0), e.dx, 1e-8);
}

TEST_CASE("minimize_projected: bad input and failures", "[minimize_projected][bad_input]") {
  const VectorXd x0 = VectorXd::Zero(3);
  SECTION("non-finite theta or x0") {
    CHECK_THROWS_AS(ift::minimize_projected(box_objective, box_projection, x0, std::nan("")),
                    std::invalid_argument);
    CHECK_THROWS_AS(
        ift::minimize_projected(box_objective, box_projection, VectorXd::Constant(3, INFINITY), 1.0),
        std::invalid_argument);
  }
  SECTION("a step that is not positive") {
    CHECK_THROWS_AS(
        ift::minimize_projected(box_objective, box_projection, x0, 1.0, ift::ProjectedGradient{.step = 0.0}),
        std::invalid_argument);
  }
  SECTION("too few iterations") {
    CHECK_THROWS_AS(ift::minimize_projected(box_objective, box_projection, x0, 1.0,
                                            ift::ProjectedGradient{.max_iter = 2}),
                    ift::SolverError);
    CHECK_THROWS_AS(
        ift::minimize_projected(box_objective, box_projection, x0, 1.0, ift::ProjectedNewton{.max_iter = 0}),
        ift::SolverError);
    const auto s = ift::minimize_projected(box_objective, box_projection, x0, ift::Dual<double>(1.0, 1.0),
                                           ift::ProjectedGradient{.max_iter = 2, .throw_on_failure = false});
    CHECK(s.status == ift::Status::max_iterations);
    CHECK_FALSE(s.derivatives_exact);
  }
  SECTION("an objective that is not finite") {
    const auto bad = [](const auto& x, const auto& th) { return log(x(0) - 2.0) + th * x.sum(); };
    CHECK_THROWS_AS(ift::minimize_projected(bad, box_projection, x0, 1.0), ift::SolverError);
  }
}

// Where strict complementarity fails the projection is not differentiable and x*(θ) has one-sided
// derivatives only: min ½(x − θ)² over x ≥ 0 at θ = 0 has x* = max(θ, 0), with dx/dθ = 0 from the
// left and 1 from the right. The rule returns the one of the branch the projection takes at the
// tie: here `y > 0 ? y : 0` takes 0, so dx/dθ = 0 (the left derivative).
TEST_CASE("minimize_projected: a degenerate point gives a one-sided derivative", "[minimize_projected]") {
  const auto objective = [](const auto& x, const auto& th) { return 0.5 * (x - th) * (x - th); };
  const auto nonnegative = [](const auto& y, const auto&) {
    using S = std::decay_t<decltype(y)>;
    return y > 0.0 ? y : S(y - y);
  };
  const auto x = ift::minimize_projected(objective, nonnegative, 1.0, ift::Dual<double>(0.0, 1.0)).x;
  CHECK(x.a == 0.0);
  CHECK(x.v(0) == 0.0);
}
