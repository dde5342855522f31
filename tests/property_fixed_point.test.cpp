// Randomized property test of ift::fixed_point: random contractions x ↦ ½ tanh(Wx + Uθ + c) + b, Iteration
// and Anderson × every implicit adjoint and unrolled × every AD mode, against Richardson differences of the
// plain solve (support/random_problems.hpp states the reference and the bounds).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ift/fixed_point.hpp"
#include "ift/sparse.hpp"
#include "support/random_problems.hpp"

namespace {

using ift_test::FixedPointFamily;
using ift_test::Instance;

ift_test::Tally implicit_tally("fixed_point, implicit");
ift_test::Tally unrolled_tally("fixed_point, unrolled");

// ‖F(x) − x‖ ≤ 1e-12 at contraction q ≤ 0.45 puts x within 1e-12/(1 − q) < 2e-12 of the fixed point.
// Unrolled derivatives are exact only up to the stopping error (for the plain iteration they lag the
// values by a factor k·qᵏ after k steps), which the same tolerance makes negligible.
constexpr double tol = 1e-12;

constexpr auto contractions = &ift_test::standard_instances<FixedPointFamily>;

template <class Solver>
void sweep(const Solver& solver, const std::string& name) {
  ift_test::sweep_implicit<ift::DenseLU, ift::DenseQR, ift::SparseLU, ift::GMRES, ift::BiCGSTAB>(
      contractions(), ift_test::fixed_point_x, solver, name, implicit_tally);
  ift_test::sweep_unrolled(contractions(), ift_test::fixed_point_x, solver, name, unrolled_tally);
}

}  // namespace

TEST_CASE("property fixed_point: Iteration on random contractions", "[property][fixed_point]") {
  sweep(ift::Iteration{.tol = tol}, "Iteration");
}

TEST_CASE("property fixed_point: Anderson on random contractions", "[property][fixed_point]") {
  sweep(ift::Anderson{.tol = tol}, "Anderson");
}
