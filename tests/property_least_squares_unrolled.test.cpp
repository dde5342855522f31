// Randomized property test of ift::least_squares with ift::Unrolled: random nonlinear residuals with a
// nonzero residual at the optimum, Gauss–Newton and Levenberg–Marquardt run on the AD scalar, at every AD
// mode, against Richardson differences of the plain solve (support/random_problems.hpp states the
// reference and the bounds).

#include <catch2/catch.hpp>

#include <vector>

#include "ift/least_squares.hpp"
#include "support/random_problems.hpp"

namespace {

using ift_test::Instance;
using ift_test::LeastSquaresFamily;

ift_test::Tally tally("least_squares, unrolled");

// Unrolled derivatives are exact only up to the stopping error, so the solves run to ‖Jᵀr‖ ≤ 1e-12.
constexpr double tol = 1e-12;

constexpr auto residuals = &ift_test::standard_instances<LeastSquaresFamily>;

}  // namespace

TEST_CASE("property least_squares: GaussNewton unrolled", "[property][least_squares]") {
  ift_test::sweep_unrolled(residuals(), ift_test::least_squares_x, ift::GaussNewton{.tol = tol},
                           "GaussNewton", tally);
}

TEST_CASE("property least_squares: LevenbergMarquardt unrolled", "[property][least_squares]") {
  ift_test::sweep_unrolled(residuals(), ift_test::least_squares_x, ift::LevenbergMarquardt{.tol = tol},
                           "LevenbergMarquardt", tally);
}
