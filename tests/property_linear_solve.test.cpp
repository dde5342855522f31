// Randomized property test of ift::linear_solve: random well-conditioned A(θ), b(θ) (half of them
// symmetric positive definite), the dense form with every direct solver and the matrix-free form with
// every Krylov solver and a dense and a sparse direct one, × every AD mode, against Richardson
// differences of a plain Eigen LU solve (support/random_problems.hpp states the reference and the bounds).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ift/linear_solve.hpp"
#include "ift/sparse.hpp"
#include "support/random_problems.hpp"

namespace {

using ift_test::Instance;
using ift_test::LinearFamily;

ift_test::Tally tally("linear_solve");

constexpr auto systems = &ift_test::standard_instances<LinearFamily>;

// A(θ) and b(θ) formed in θ's scalar and passed as matrices.
template <class Solver>
void check_dense(const Instance<LinearFamily>& in, const Solver& solver, const std::string& name) {
  const LinearFamily& f = in.problem;
  ift_test::check_modes([&](const auto& th) { return ift::linear_solve(f.matrix(th), f.rhs(th), solver); },
                        in.ref, tally, in.name + ", dense, " + name);
}

// A(θ) known only by its product v ↦ A(θ)v; b(θ) formed in θ's scalar.
template <class Solver>
void check_matrix_free(const Instance<LinearFamily>& in, const Solver& solver, const std::string& name) {
  const LinearFamily& f = in.problem;
  ift_test::check_modes([&](const auto& th) { return ift::linear_solve(f, f.rhs(th), th, solver); }, in.ref,
                        tally, in.name + ", matrix-free, " + name);
}

}  // namespace

TEST_CASE("property linear_solve: dense A(theta), b(theta)", "[property][linear_solve]") {
  for (const Instance<LinearFamily>& in : systems()) {
    check_dense(in, ift::DenseLU{}, "DenseLU");
    check_dense(in, ift::DenseQR{}, "DenseQR");
    if (in.problem.symmetric) check_dense(in, ift::LDLT{}, "LDLT");
  }
}

TEST_CASE("property linear_solve: matrix-free A(theta)", "[property][linear_solve]") {
  for (const Instance<LinearFamily>& in : systems()) {
    check_matrix_free(in, ift::GMRES{}, "GMRES");
    check_matrix_free(in, ift::BiCGSTAB{}, "BiCGSTAB");
    check_matrix_free(in, ift::DenseLU{}, "DenseLU");
    check_matrix_free(in, ift::SparseLU{}, "SparseLU");
    if (in.problem.symmetric) check_matrix_free(in, ift::CG{}, "CG");
  }
}
