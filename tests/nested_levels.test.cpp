// The implicit rule at nested AD levels solves with the factorization of ∂c/∂x on doubles only
// (refinement X ← X + J₀⁻¹(B − J X), one step per AD level). Checked on conditions whose solution is
// known in closed form, x*(θ) = g(θ) = (θ², sin θ, e^{θ/2}), with a ∂c/∂x that depends on x and θ,
// so that the derivative of J enters every order: first, second and third derivatives equal g′, g″,
// g‴ at every mode and with a direct, a rank-revealing and a Krylov linear solver.

#include <catch2/catch.hpp>

#include <cmath>

#include <Eigen/Core>

#include "ift/implicit.hpp"
#include "ift/krylov.hpp"
#include "support/modes.hpp"

using Catch::Matchers::WithinAbs;

namespace {

/// c(x, θ) = A(x, θ)(x − g(θ)) with A = M + diag(θ x): zero exactly at x = g(θ), and
/// ∂c/∂x = A there, which moves with both x and θ.
const auto conditions = [](const auto& x, const auto& theta) {
  using std::exp;
  using std::sin;
  using S = typename std::decay_t<decltype(x)>::Scalar;
  Eigen::Matrix<S, 3, 1> e;
  e << x(0) - theta * theta, x(1) - sin(theta), x(2) - exp(0.5 * theta);
  Eigen::Matrix<S, 3, 1> r;
  r(0) = (4.0 + theta * x(0)) * e(0) + 1.0 * e(1) - 0.5 * e(2);
  r(1) = 2.0 * e(0) + (3.0 + theta * x(1)) * e(1) + 1.0 * e(2);
  r(2) = -1.0 * e(0) + 0.5 * e(1) + (5.0 + theta * x(2)) * e(2);
  return r;
};

constexpr double theta0 = 0.7;

/// g(θ₀) and its first three derivatives, one row per component.
Eigen::Vector3d g(int order) {
  const double t = theta0, s = std::sin(t), c = std::cos(t), e = std::exp(0.5 * t);
  switch (order) {
    case 0:
      return {t * t, s, e};
    case 1:
      return {2 * t, c, 0.5 * e};
    case 2:
      return {2.0, -s, 0.25 * e};
    default:
      return {0.0, -c, 0.125 * e};
  }
}

template <class Adjoint, class Theta>
auto solve(const Theta& theta, const Adjoint& adjoint) {
  return ift::implicit(conditions, g(0), theta, adjoint);
}

template <class Adjoint>
void check_every_mode(const Adjoint& adjoint, double rel) {
  for (int i = 0; i < 3; ++i) {
    DYNAMIC_SECTION("component " << i)
    ift_test::check_scalar_modes([&](const auto& theta) { return solve(theta, adjoint)(i); }, theta0,
                                 {g(0)(i), g(1)(i), g(2)(i)}, rel);
  }
  SECTION("Dual<Dual<Dual<double>>>: third derivatives") {
    using D1 = ift::Dual<double>;
    using D2 = ift::Dual<D1>;
    using D3 = ift::Dual<D2>;
    const D3 theta(D2(D1(theta0, 1.0), D1(1.0, 0.0)), D2(D1(1.0, 0.0), D1(0.0, 0.0)));
    const auto x = solve(theta, adjoint);
    for (int i = 0; i < 3; ++i) {
      INFO("component " << i);
      CHECK_THAT(x(i).a.a.a, WithinAbs(g(0)(i), rel));
      CHECK_THAT(x(i).v(0).a.a, WithinAbs(g(1)(i), rel));
      CHECK_THAT(x(i).v(0).v(0).a, WithinAbs(g(2)(i), 10 * rel));
      CHECK_THAT(x(i).a.v(0).v(0), WithinAbs(g(2)(i), 10 * rel));
      CHECK_THAT(x(i).v(0).v(0).v(0), WithinAbs(g(3)(i), 100 * rel));
    }
  }
  SECTION("Dual<Var>: second derivatives by reverse over forward") {
    ift::Tape tape;
    const ift::Var t = theta0;
    const auto x = solve(ift::Dual<ift::Var>(t, ift::Var(1.0)), adjoint);
    for (int i = 0; i < 3; ++i) {
      INFO("component " << i);
      CHECK_THAT(x(i).a.value(), WithinAbs(g(0)(i), rel));
      CHECK_THAT(x(i).v(0).value(), WithinAbs(g(1)(i), rel));
      CHECK_THAT(tape.gradient(x(i).v(0), t), WithinAbs(g(2)(i), 10 * rel));
      CHECK_THAT(tape.gradient(x(i).a, t), WithinAbs(g(1)(i), rel));
    }
  }
}

}  // namespace

TEST_CASE("nested levels: exact derivatives of every order from one factorization on doubles",
          "[implicit][nested]") {
  SECTION("DenseLU") { check_every_mode(ift::Implicit<ift::DenseLU>{}, 1e-10); }
  SECTION("Auto, the default") { check_every_mode(ift::Implicit<>{}, 1e-10); }
  SECTION("DenseQR") { check_every_mode(ift::Implicit<ift::DenseQR>{}, 1e-10); }
  SECTION("GMRES") { check_every_mode(ift::Implicit<ift::GMRES>{}, 1e-7); }
}
