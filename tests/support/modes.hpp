#pragma once
// Checks one solve at every scalar mode: a scalar parameter θ, a scalar solution x(θ) with known
// x, dx/dθ and d²x/dθ². `solve(theta)` is a generic lambda returning x at θ's scalar.

#include <catch2/catch.hpp>
#include <cmath>

#include "ift/dual.hpp"
#include "ift/var.hpp"
#include "mode_set.hpp"

namespace ift_test {

/// x(θ), dx/dθ and d²x/dθ² (NaN when a mode defines no second derivative: see the caller).
struct Expected {
  double x, dx, d2x;
};

/// Forward (N = 1, and N = 3 and Dynamic for `ModeSet::all`), nested forward and reverse derivatives of
/// x(θ) at `theta`.
template <ModeSet modes = ModeSet::all, class Solve>
void check_scalar_modes(Solve&& solve, double theta, Expected e, double rel = 1e-8) {
  using Catch::Matchers::WithinAbs;
  const double tol = rel * (1.0 + std::abs(e.dx));
  SECTION("double") { CHECK_THAT(solve(theta), WithinAbs(e.x, rel * (1 + std::abs(e.x)))); }
  SECTION("Dual<double>") {
    const auto x = solve(ift::Dual<double>(theta, 1.0));
    CHECK_THAT(x.a, WithinAbs(e.x, rel * (1 + std::abs(e.x))));
    CHECK_THAT(x.v(0), WithinAbs(e.dx, tol));
  }
  if constexpr (modes == ModeSet::all) {
    SECTION("Dual<double, 3>") {
      const auto x = solve(ift::Dual<double, 3>(theta, Eigen::Vector3d(1.0, -2.0, 0.0)));
      CHECK_THAT(x.v(0), WithinAbs(e.dx, tol));
      CHECK_THAT(x.v(1), WithinAbs(-2 * e.dx, 2 * tol));
      CHECK(x.v(2) == 0.0);
    }
    SECTION("Dual<double, Dynamic>") {
      const auto x = solve(ift::Dual<double, ift::Dynamic>(theta, Eigen::Vector2d(0.5, 3.0)));
      REQUIRE(x.v.size() == 2);
      CHECK_THAT(x.v(0), WithinAbs(0.5 * e.dx, tol));
      CHECK_THAT(x.v(1), WithinAbs(3.0 * e.dx, 3 * tol));
    }
  }
  SECTION("Dual<Dual<double>>") {
    using D2 = ift::Dual<ift::Dual<double>>;
    const auto x = solve(D2(ift::Dual<double>(theta, 1.0), ift::Dual<double>(1.0, 0.0)));
    CHECK_THAT(x.a.a, WithinAbs(e.x, rel * (1 + std::abs(e.x))));
    CHECK_THAT(x.a.v(0), WithinAbs(e.dx, tol));
    CHECK_THAT(x.v(0).a, WithinAbs(e.dx, tol));
    if (!std::isnan(e.d2x)) CHECK_THAT(x.v(0).v(0), WithinAbs(e.d2x, 100 * rel * (1 + std::abs(e.d2x))));
  }
  SECTION("Var") {
    ift::Tape tape;
    const ift::Var th = theta;
    const ift::Var x = solve(th);
    CHECK_THAT(x.value(), WithinAbs(e.x, rel * (1 + std::abs(e.x))));
    CHECK_THAT(tape.gradient(x, th), WithinAbs(e.dx, tol));
  }
}

}  // namespace ift_test
