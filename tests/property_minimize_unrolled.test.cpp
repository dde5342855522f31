// Randomized property test of ift::minimize with ift::Unrolled: random strongly convex objectives, every
// minimizer run on the AD scalar, against Richardson differences of the plain solve
// (support/random_problems.hpp states the reference and the bounds). GradientDescent and NewtonMin are
// checked at every AD mode; BFGS and LBFGS at the first-order modes only: differentiating their unrolled
// iterations twice differentiates the quasi-Newton updates' curvature ratios 1/(sₖᵀyₖ), whose steps sₖ
// shrink to zero, so those second derivatives are not accurate to the bound.

#include <catch2/catch.hpp>

#include <vector>

#include "ift/minimize.hpp"
#include "support/random_problems.hpp"

namespace {

using ift_test::Instance;
using ift_test::MinimizeFamily;

ift_test::Tally tally("minimize, unrolled");

// Unrolled derivatives are exact only up to the stopping error, so the solves run to ‖∇L‖ ≤ 1e-12.
constexpr double tol = 1e-12;

constexpr auto objectives = &ift_test::small_instances<MinimizeFamily>;

}  // namespace

TEST_CASE("property minimize: GradientDescent and NewtonMin unrolled", "[property][minimize]") {
  ift_test::sweep_unrolled(
      objectives(), ift_test::minimize_x,
      [](const Instance<MinimizeFamily>& in) {
        return ift::GradientDescent{.learning_rate = 1.0 / in.problem.curvature, .tol = tol};
      },
      "GradientDescent", tally);
  ift_test::sweep_unrolled(objectives(), ift_test::minimize_x, ift::NewtonMin{.tol = tol}, "NewtonMin",
                           tally);
}

TEST_CASE("property minimize: BFGS and LBFGS unrolled, first derivatives", "[property][minimize]") {
  constexpr unsigned first_order = ift_test::forward | ift_test::reverse;
  ift_test::sweep_unrolled<first_order>(objectives(), ift_test::minimize_x, ift::BFGS{.tol = tol}, "BFGS",
                                        tally);
  ift_test::sweep_unrolled<first_order>(objectives(), ift_test::minimize_x, ift::LBFGS{.tol = tol}, "LBFGS",
                                        tally);
}
