// Root finding: the cost of the implicit gradient against the primal Newton solve, and against
// differentiating through Newton's iterations.
//
// broyden_root: Broyden's tridiagonal system with a parameter per equation,
//     gᵢ(x, θ) = (3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1 − θᵢ,   x₀ = xₙ₊₁ = 0,
// from xᵢ = −1, n = 10, 100, 1000, damped Newton. The loss is wᵀx* for a fixed random w. The
// implicit gradient costs one more Jacobian and factorization (of ∂g/∂x at x*) and one reverse pass
// over g, so it should cost about one Newton step more than the primal solve.
//
// Two structures of the same solve: dense (`primal`, `implicit_*`: `DenseLU` given in Newton and the
// rule — the default, `Auto`, would see the band — Jacobian by chunked forward duals, O(n³)) and sparse
// (`*_sparse`, `implicit_rev_sparselu`: the tridiagonal pattern detected once, the Jacobian filled by one
// 4-direction dual pass, sparse LU, O(n)); Newton–Krylov
// (`primal_krylov`, `implicit_rev_krylov`: GMRES on JVPs in Newton and VJPs in the adjoint) never
// forms the Jacobian. The sparse and Krylov paths also run at n = 100,000.
//
// Unrolled Newton differentiates the dense LU of every step: at n = 1000 that is some 10⁹
// operations on AD scalars per step (tens of gigabytes of tape in reverse mode, minutes in
// forward mode), so the unrolled methods run for n ≤ 100 only.

#include <memory>
#include <utility>
#include <vector>

#include <Eigen/SparseLU>
#include <random>

#include "../tests/support/broyden.hpp"
#include "ift/root.hpp"
#include "implicit_support.hpp"

namespace {

using bench::random_vector;

struct Broyden {
  ift::Newton solver;
  Eigen::VectorXd theta;
  Eigen::VectorXd w;
  Eigen::VectorXd direction;
  Eigen::VectorXd start;

  explicit Broyden(Eigen::Index n, ift::Newton newton = {.linear_solver = ift::DenseLU{}})
      : solver(std::move(newton)),
        theta(random_vector(n, 21, 0.1)),
        w(random_vector(n, 22)),
        direction(random_vector(n, 23)),
        start(Eigen::VectorXd::Constant(n, -1.0)) {}

  /// Broyden's tridiagonal system, gᵢ = (3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1 − θᵢ.
  static constexpr const auto& residual = ift_test::broyden;

  template <class P, class Adjoint>
  auto solve(const P& p, const Adjoint& adjoint) const {
    return ift::root(residual, start, p, solver, adjoint);
  }
  /// The exact gradient, independently of the library's derivative code: g has ∂g/∂θ = −I, so
  /// ∇θ(wᵀx*) = λ with Jᵀλ = w, J = ∂g/∂x at x* tridiagonal (3 − 4xᵢ on the diagonal, −1 below,
  /// −2 above), solved by Eigen's sparse LU.
  Eigen::VectorXd exact_gradient() const {
    const Eigen::VectorXd x = ift::root(residual, start, theta, solver).x;
    const Eigen::Index n = x.size();
    std::vector<Eigen::Triplet<double>> entries;
    for (Eigen::Index i = 0; i < n; ++i) {
      entries.emplace_back(i, i, 3.0 - 4.0 * x(i));
      if (i > 0) entries.emplace_back(i, i - 1, -1.0);
      if (i + 1 < n) entries.emplace_back(i, i + 1, -2.0);
    }
    Eigen::SparseMatrix<double> jt(n, n);
    jt.setFromTriplets(entries.begin(), entries.end());
    jt = Eigen::SparseMatrix<double>(jt.transpose());
    Eigen::SparseLU<Eigen::SparseMatrix<double>> lu(jt);
    return lu.solve(w);
  }

  template <class X>
  auto loss(const X& x) const {
    typename X::Scalar sum = w(0) * x(0);
    for (Eigen::Index i = 1; i < x.size(); ++i) sum += w(i) * x(i);
    return sum;
  }
};

void register_broyden() {
  using bench::name;
  for (const long n : {10L, 100L, 1000L}) {
    const auto problem = std::make_shared<const Broyden>(n);
    const bench::Reference reference = bench::dense_reference(problem);
    benchmark::RegisterBenchmark(name("broyden_root", "primal", n).c_str(),
                                 [=](benchmark::State& s) { bench::primal(s, *problem); });
    benchmark::RegisterBenchmark(name("broyden_root", "implicit_fwd", n).c_str(), [=](benchmark::State& s) {
      bench::forward<1>(s, *problem, ift::Implicit<ift::DenseLU>{}, reference);
    });
    benchmark::RegisterBenchmark(name("broyden_root", "implicit_rev", n).c_str(), [=](benchmark::State& s) {
      bench::reverse(s, *problem, ift::Implicit<ift::DenseLU>{}, reference);
    });
    benchmark::RegisterBenchmark(
        name("broyden_root", "implicit_rev_gmres", n).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *problem, ift::Implicit<ift::GMRES>{}, reference); });
    if (n <= 100) {
      benchmark::RegisterBenchmark(name("broyden_root", "unrolled_fwd", n).c_str(), [=](benchmark::State& s) {
        bench::forward<1>(s, *problem, ift::Unrolled{}, reference);
      });
      benchmark::RegisterBenchmark(name("broyden_root", "unrolled_rev", n).c_str(), [=](benchmark::State& s) {
        bench::reverse(s, *problem, ift::Unrolled{}, reference);
      });
    }
  }
  // The structured paths, against the exact gradient.
  for (const long n : {10L, 100L, 1000L, 10000L, 100000L}) {
    const auto sparse = std::make_shared<const Broyden>(n, ift::Newton{.linear_solver = ift::SparseLU{}});
    const auto krylov = std::make_shared<const Broyden>(n, ift::Newton{.linear_solver = ift::GMRES{}});
    const bench::Reference reference([sparse] { return sparse->exact_gradient(); });
    benchmark::RegisterBenchmark(name("broyden_root", "primal_sparse", n).c_str(),
                                 [=](benchmark::State& s) { bench::primal(s, *sparse); });
    benchmark::RegisterBenchmark(
        name("broyden_root", "implicit_rev_sparselu", n).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *sparse, ift::Implicit<ift::SparseLU>{}, reference); });
    benchmark::RegisterBenchmark(name("broyden_root", "primal_krylov", n).c_str(),
                                 [=](benchmark::State& s) { bench::primal(s, *krylov); });
    benchmark::RegisterBenchmark(
        name("broyden_root", "implicit_rev_krylov", n).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *krylov, ift::Implicit<ift::GMRES>{}, reference); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_broyden();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
