// Randomized property test of ift::root with the implicit adjoints: random nonlinear systems with a known
// root (vector states) and random scalar equations, every solver × every implicit adjoint × every AD mode,
// against Richardson differences of the plain solve (support/random_problems.hpp states the reference and
// the bounds). The unrolled adjoint is in property_root_unrolled.test.cpp.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ift/root.hpp"
#include "ift/sparse.hpp"
#include "support/random_problems.hpp"

namespace {

using ift_test::Instance;
using ift_test::RootFamily;

ift_test::Tally vector_tally("root, vector state, implicit");
ift_test::Tally scalar_tally("root, scalar state, implicit");

// ‖f‖ ≤ 1e-12 with σ_min(∂f/∂x) ≥ 1/4 puts x within 4e-12 of the root.
constexpr double tol = 1e-12;

constexpr auto systems = &ift_test::standard_instances<RootFamily>;
constexpr auto equations = &ift_test::scalar_instances<RootFamily>;

template <class Solver>
void sweep_systems(const Solver& solver, const std::string& name) {
  ift_test::sweep_implicit<ift::DenseLU, ift::DenseQR, ift::SparseLU, ift::GMRES, ift::BiCGSTAB>(
      systems(), ift_test::root_x, solver, name, vector_tally);
}
template <class Solver>
void sweep_equations(const Solver& solver, const std::string& name) {
  ift_test::sweep_implicit<ift::DenseLU, ift::DenseQR, ift::GMRES, ift::BiCGSTAB>(
      equations(), ift_test::scalar_root_x, solver, name, scalar_tally);
}

}  // namespace

TEST_CASE("property root: the reference matches the known root", "[property][root]") {
  // x*(θ) = g(θ) is known in closed form, which shows how accurate the Richardson reference is.
  for (const auto* all : {&systems(), &equations()}) {
    for (const Instance<RootFamily>& in : *all) {
      INFO(in.name);
      CHECK(ift_test::relative_error(in.ref.x, in.problem.root(in.theta), 1.0) <= 1e-12);
      CHECK(ift_test::relative_error(in.ref.jacobian, in.problem.root_jacobian(in.theta)) <= 1e-8);
      CHECK(ift_test::relative_error(in.ref.second, in.problem.root_second(in.theta, in.ref.direction)) <=
            1e-7);
    }
  }
}

TEST_CASE("property root: Newton with each linear solver on random systems", "[property][root]") {
  // The linear solver inside Newton changes the iterates, not the rule: the derivatives must agree.
  sweep_systems(ift::Newton{.tol = tol}, "Newton");
  sweep_systems(ift::Newton{.linear_solver = ift::SparseLU{}, .tol = tol}, "Newton (SparseLU)");
  sweep_systems(ift::Newton{.linear_solver = ift::GMRES{}, .tol = tol}, "Newton-Krylov (GMRES)");
}

TEST_CASE("property root: Broyden on random systems", "[property][root]") {
  sweep_systems(ift::Broyden{.tol = tol}, "Broyden");
}

TEST_CASE("property root: Newton and Broyden on random scalar equations", "[property][root]") {
  sweep_equations(ift::Newton{.tol = tol}, "Newton");
  sweep_equations(ift::Broyden{.tol = tol}, "Broyden");
}

TEST_CASE("property root: Bisection and Brent on random scalar equations", "[property][root]") {
  // f is monotone in x (its slope a + s·w·b·sech² keeps the sign of a, since |s·w·b| < |a|), so
  // [x* − 1, x* + 1] brackets the root. There is no unrolled counterpart: the iterates are points of a
  // bracket that does not depend on θ, so an unrolled derivative is zero, not an approximation of x'(θ).
  sweep_equations(
      [](const Instance<RootFamily>& in) {
        return ift::Bisection{.lo = in.ref.x(0) - 1.0, .hi = in.ref.x(0) + 1.0, .tol = 1e-14};
      },
      "Bisection");
  sweep_equations(
      [](const Instance<RootFamily>& in) {
        return ift::Brent{.lo = in.ref.x(0) - 1.0, .hi = in.ref.x(0) + 1.0, .tol = 1e-14};
      },
      "Brent");
}
