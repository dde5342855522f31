// Randomized property test of ift::least_squares with the implicit adjoints: random nonlinear residuals with
// a nonzero residual at the optimum, Gauss–Newton and Levenberg–Marquardt × every implicit adjoint (the
// Hessian of ½‖r‖² is symmetric positive definite at these optima, so LDLT and CG apply) × every AD mode,
// against Richardson differences of the plain solve (support/random_problems.hpp states the reference and
// the bounds). The unrolled adjoint is in property_least_squares_unrolled.test.cpp.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ift/least_squares.hpp"
#include "ift/sparse.hpp"
#include "support/random_problems.hpp"

namespace {

using ift_test::Instance;
using ift_test::LeastSquaresFamily;

ift_test::Tally direct_tally("least_squares, implicit, direct");
ift_test::Tally krylov_tally("least_squares, implicit, Krylov");

// ‖Jᵀr‖ ≤ 1e-12 puts x within ~3e-12 of the optimum (the Hessian there is ⪰ 0.4·I).
constexpr double tol = 1e-12;

constexpr auto residuals = &ift_test::standard_instances<LeastSquaresFamily>;

template <class Solver>
void sweep(const Solver& solver, const std::string& name) {
  ift_test::sweep_implicit<ift::DenseLU, ift::DenseQR, ift::LDLT, ift::SparseLU>(
      residuals(), ift_test::least_squares_x, solver, name, direct_tally);
  ift_test::sweep_implicit<ift::GMRES, ift::BiCGSTAB, ift::CG>(residuals(), ift_test::least_squares_x, solver,
                                                               name, krylov_tally);
}

}  // namespace

TEST_CASE("property least_squares: GaussNewton on random residuals", "[property][least_squares]") {
  sweep(ift::GaussNewton{.tol = tol}, "GaussNewton");
}

TEST_CASE("property least_squares: LevenbergMarquardt on random residuals", "[property][least_squares]") {
  sweep(ift::LevenbergMarquardt{.tol = tol}, "LevenbergMarquardt");
}
