// Randomized property test of ift::root with ift::Unrolled: random nonlinear systems with a known root
// (vector states) and random scalar equations, Newton and Broyden run on the AD scalar, at every AD mode,
// against Richardson differences of the plain solve (support/random_problems.hpp states the reference and
// the bounds).

#include <catch2/catch.hpp>

#include <vector>

#include "ift/root.hpp"
#include "support/random_problems.hpp"

namespace {

using ift_test::Instance;
using ift_test::RootFamily;

ift_test::Tally vector_tally("root, vector state, unrolled");
ift_test::Tally scalar_tally("root, scalar state, unrolled");

// Unrolled derivatives are exact only up to the stopping error, so the solves run to ‖f‖ ≤ 1e-12.
constexpr double tol = 1e-12;

constexpr auto systems = &ift_test::standard_instances<RootFamily>;
constexpr auto equations = &ift_test::scalar_instances<RootFamily>;

}  // namespace

TEST_CASE("property root: Newton and Broyden unrolled on random systems", "[property][root]") {
  ift_test::sweep_unrolled(systems(), ift_test::root_x, ift::Newton{.tol = tol}, "Newton", vector_tally);
  ift_test::sweep_unrolled(systems(), ift_test::root_x, ift::Broyden{.tol = tol}, "Broyden", vector_tally);
}

TEST_CASE("property root: Newton and Broyden unrolled on random scalar equations", "[property][root]") {
  ift_test::sweep_unrolled(equations(), ift_test::scalar_root_x, ift::Newton{.tol = tol}, "Newton",
                           scalar_tally);
  ift_test::sweep_unrolled(equations(), ift_test::scalar_root_x, ift::Broyden{.tol = tol}, "Broyden",
                           scalar_tally);
}
