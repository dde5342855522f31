// ift::minimize_projected unrolled (ift::Unrolled: the solver runs on θ's scalar and the derivative
// is carried through its iterations) with every solver, at every scalar mode, against the closed
// forms of minimize_projected.test.cpp.

#include <catch2/catch.hpp>

#include <cmath>

#include "ift/minimize_projected.hpp"
#include "support/projected_problems.hpp"
#include "support/vector_modes.hpp"

namespace {

using Eigen::VectorXd;
// The problems of support/projected_problems.hpp and the checks of support/vector_modes.hpp.
using namespace ift_test;
using Expected = VectorExpected;

template <class Objective, class Projection, class Solver>
auto unrolled_solve(const Objective& objective, const Projection& projection, const VectorXd& x0,
                    const Solver& solver) {
  return [=](const auto& th) {
    return ift::minimize_projected(objective, projection, x0, th, solver, ift::Unrolled{}).x;
  };
}

}  // namespace

TEST_CASE("minimize_projected unrolled: box-constrained quadratic", "[minimize_projected][unrolled]") {
  const VectorXd x0 = VectorXd::Zero(3);
  const Expected e = box_expected(1.0);
  SECTION("ProjectedGradient") {
    check_vector_modes<ModeSet::essential>(
        unrolled_solve(box_objective, box_projection, x0, ift::ProjectedGradient{.tol = 1e-12}), 1.0, e,
        1e-8);
  }
  SECTION("ProjectedGradient, accelerated") {
    check_vector_modes<ModeSet::essential>(
        unrolled_solve(box_objective, box_projection, x0,
                       ift::ProjectedGradient{.accelerate = true, .tol = 1e-12}),
        1.0, e, 1e-8);
  }
  SECTION("ProjectedNewton") {
    check_vector_modes<ModeSet::essential>(
        unrolled_solve(box_objective, box_projection, x0, ift::ProjectedNewton{}), 1.0, e, 1e-8);
  }
}

TEST_CASE("minimize_projected unrolled: half-space", "[minimize_projected][unrolled]") {
  check_vector_modes<ModeSet::essential>(
      unrolled_solve(half_space_objective, half_space_projection, VectorXd::Zero(3),
                     ift::ProjectedGradient{.tol = 1e-12}),
      1.0, half_space_expected(1.0), 1e-8);
}

TEST_CASE("minimize_projected unrolled: simplex", "[minimize_projected][unrolled]") {
  check_vector_modes<ModeSet::essential>(
      unrolled_solve(simplex_objective, simplex_projection, VectorXd::Constant(4, 0.25),
                     ift::ProjectedGradient{.tol = 1e-12}),
      1.0, simplex_expected(1.0), 1e-8);
}
