// Randomized property test of ift::quadratic_program: random QPs with dense Q ≻ 0, equalities and
// inequalities, n = 2…8, built around a known primal-dual solution with strict complementarity, solved
// at every scalar mode against the construction and against Richardson differences of an independent
// active-set re-solve (support/random_constrained.hpp states the construction and the reference).

#include <catch2/catch.hpp>

#include <cstdint>

#include "ift/quadratic_program.hpp"
#include "support/random_constrained.hpp"

namespace {

using ift_test::QPFamily;
using ift_test::Vec;

constexpr std::uint64_t seed = 0x71707270;

// The interior point stops at scaled residuals and complementarity ≤ 10⁻¹⁰: x, ν, μ within ~10⁻⁹ of
// z* for KKT matrices of condition ≲ 10², and the derivatives, taken there, as close to the reference.
constexpr ift_test::Bounds bounds{1e-8, 1e-6, 1e-5};

ift_test::ConstrainedTally tally("quadratic_program");

}  // namespace

TEST_CASE("property quadratic_program: random QPs with strict complementarity, every mode",
          "[property][quadratic_program]") {
  ift_test::Random rng(seed);
  int index = 0;
  for (Eigen::Index n = 2; n <= 8; ++n) {
    for (int copy = 0; copy < 4; ++copy, ++index) {
      const QPFamily f = QPFamily::draw(rng, n);
      const ift_test::ConstrainedReference ref = ift_test::make_constrained_reference(f, rng);
      ift_test::check_constrained(
          [&](const auto& th) {
            return ift_test::stacked(
                ift::quadratic_program(f.Q(th), f.q(th), f.A(th), f.b(th), f.G(th), f.h(th)));
          },
          ref, f.z, bounds, tally, ift_test::describe("quadratic_program", seed, index, f));
    }
  }
}
