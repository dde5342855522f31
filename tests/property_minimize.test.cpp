// Randomized property test of ift::minimize with the implicit adjoints: random strongly convex objectives,
// every minimizer × every implicit adjoint (the Hessian is symmetric positive definite, so LDLT and CG
// apply) × every AD mode, against Richardson differences of the plain solve (support/random_problems.hpp
// states the reference and the bounds). The unrolled adjoint is in property_minimize_unrolled.test.cpp.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ift/minimize.hpp"
#include "ift/sparse.hpp"
#include "support/random_problems.hpp"

namespace {

using ift_test::Instance;
using ift_test::MinimizeFamily;

ift_test::Tally direct_tally("minimize, implicit, direct");
ift_test::Tally krylov_tally("minimize, implicit, Krylov");

// ‖∇L‖ ≤ 1e-12 with ∇²L ⪰ I puts x within 1e-12 of the minimizer.
constexpr double tol = 1e-12;

constexpr auto objectives = &ift_test::standard_instances<MinimizeFamily>;
constexpr auto krylov_objectives = &ift_test::small_instances<MinimizeFamily>;

template <class Solver>
void sweep(const Solver& solver, const std::string& name) {
  ift_test::sweep_implicit<ift::DenseLU, ift::DenseQR, ift::LDLT, ift::SparseLU>(
      objectives(), ift_test::minimize_x, solver, name, direct_tally);
  ift_test::sweep_implicit<ift::GMRES, ift::BiCGSTAB, ift::CG>(krylov_objectives(), ift_test::minimize_x,
                                                               solver, name, krylov_tally);
}

}  // namespace

TEST_CASE("property minimize: GradientDescent on random convex objectives", "[property][minimize]") {
  // A step of 1/L, L the bound on the curvature, converges at the rate 1 − μ/L with μ ≥ 1.
  sweep(
      [](const Instance<MinimizeFamily>& in) {
        return ift::GradientDescent{.learning_rate = 1.0 / in.problem.curvature, .tol = tol};
      },
      "GradientDescent");
}

TEST_CASE("property minimize: NewtonMin on random convex objectives", "[property][minimize]") {
  sweep(ift::NewtonMin{.tol = tol}, "NewtonMin");
}

TEST_CASE("property minimize: BFGS on random convex objectives", "[property][minimize]") {
  sweep(ift::BFGS{.tol = tol}, "BFGS");
}

TEST_CASE("property minimize: LBFGS on random convex objectives", "[property][minimize]") {
  sweep(ift::LBFGS{.tol = tol}, "LBFGS");
}
