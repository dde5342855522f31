// Fixed-point problems: implicit against unrolled gradients, and their cost against the primal
// solve.
//
//  * seed002_fixed_point: the 2-D map of seed 002, F(x; α, β) = [√(α − x₀x₁), √((57 − x₁)/(β F₀))]
//    at α = 10, β = 3 from (1.5, 3.5). Implicit methods and the primal solve iterate x ← F(x) to
//    ‖F(x) − x‖ ≤ 1e-10; the unrolled ones take the seed's 1000 plain iterations. A sweep over the
//    iteration count (tolerances for the implicit rule, fixed counts for unrolling) shows how time
//    and tape grow with iterations.
//  * deq_fixed_point: a deep-equilibrium layer x = tanh(W x + θ), W dense with spectral norm 0.9,
//    n = 100 and 1000, Anderson acceleration.
//  * large_fixed_point: a banded contraction xᵢ = θᵢ + ¼ tanh(xᵢ₋₁) + ¼ tanh(xᵢ₊₁) + ⅕ sin(xᵢ),
//    n = 10,000 and 100,000, Anderson; the default adjoint (`Auto`: pattern detected, a band of 3,
//    BandedLU), the matrix-free one (GMRES) and the sparse one (3 colors, SparseLU) — the dense
//    Jacobian would hold n² = 10¹⁰ entries.
//
// The loss is wᵀx* for a fixed random w; θ = (α, β) for the seed, θ ∈ ℝⁿ otherwise.

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "fixed_point_problems.hpp"
#include "ift/fixed_point.hpp"
#include "implicit_support.hpp"

namespace {

using bench::Deq;
using bench::random_vector;
using bench::Seed002;
using bench::weighted_sum;

// -----------------------------------------------------------------------------------------------

struct Banded {
  static constexpr double coupling = 0.25;
  static constexpr double self = 0.2;
  Eigen::VectorXd theta;
  Eigen::VectorXd w;
  Eigen::VectorXd direction;
  Eigen::VectorXd start;
  ift::Anderson solver{};

  explicit Banded(Eigen::Index n)
      : theta(random_vector(n, 7)),
        w(random_vector(n, 8)),
        direction(random_vector(n, 9)),
        start(Eigen::VectorXd::Zero(n)) {}

  static constexpr auto map = [](const auto& x, const auto& p) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    using std::sin, std::tanh;
    const Eigen::Index n = x.size();
    bench::VectorX<S> t(n);
    for (Eigen::Index i = 0; i < n; ++i) t(i) = tanh(x(i));
    bench::VectorX<S> out(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      S fi = p(i) + self * sin(x(i));
      if (i > 0) fi += coupling * t(i - 1);
      if (i + 1 < n) fi += coupling * t(i + 1);
      out(i) = fi;
    }
    return out;
  };

  template <class P, class Adjoint>
  auto solve(const P& p, const Adjoint& adjoint) const {
    return ift::fixed_point(map, start, p, solver, adjoint);
  }
  template <class X>
  auto loss(const X& x) const {
    return weighted_sum(w, x);
  }

  /// The exact gradient, independently of the library: with J = ∂F/∂x (tridiagonal) and
  /// ∂F/∂θ = I, ∇θ(wᵀx*) = λ where λ = w + Jᵀλ, a contraction (‖J‖∞ ≤ 0.7) iterated to rounding.
  Eigen::VectorXd exact_gradient() const {
    const Eigen::VectorXd x = solve(theta, ift::Implicit<>{}).x;
    const Eigen::Index n = x.size();
    const Eigen::VectorXd sech2 = (1.0 - x.array().tanh().square()).matrix();
    Eigen::VectorXd lambda = w;
    for (int k = 0; k < 200; ++k) {
      Eigen::VectorXd next = w;
      for (Eigen::Index j = 0; j < n; ++j) {
        // (Jᵀλ)ⱼ = Σᵢ J(i, j) λᵢ with J(j, j) = ⅕ cos xⱼ, J(j ± 1, j) = ¼ sech² xⱼ.
        double s = self * std::cos(x(j)) * lambda(j);
        if (j > 0) s += coupling * sech2(j) * lambda(j - 1);
        if (j + 1 < n) s += coupling * sech2(j) * lambda(j + 1);
        next(j) += s;
      }
      lambda = next;
    }
    return lambda;
  }
};

// -----------------------------------------------------------------------------------------------

/// Registers the methods on a problem shared by all of them; `unrolled_rev` only when asked.
template <class Problem>
void register_methods(const std::string& problem_name, long n, std::shared_ptr<const Problem> problem,
                      const bench::Reference& reference, bool unrolled_rev) {
  using bench::name;
  constexpr int directions = std::is_same_v<Problem, Seed002> ? 2 : 1;
  benchmark::RegisterBenchmark(name(problem_name, "primal", n).c_str(),
                               [=](benchmark::State& s) { bench::primal(s, *problem); });
  benchmark::RegisterBenchmark(name(problem_name, "implicit_fwd", n).c_str(), [=](benchmark::State& s) {
    bench::forward<directions>(s, *problem, ift::Implicit<>{}, reference);
  });
  benchmark::RegisterBenchmark(name(problem_name, "implicit_rev", n).c_str(), [=](benchmark::State& s) {
    bench::reverse(s, *problem, ift::Implicit<>{}, reference);
  });
  benchmark::RegisterBenchmark(name(problem_name, "implicit_rev_gmres", n).c_str(), [=](benchmark::State& s) {
    bench::reverse(s, *problem, ift::Implicit<ift::GMRES>{}, reference);
  });
  benchmark::RegisterBenchmark(name(problem_name, "unrolled_fwd", n).c_str(), [=](benchmark::State& s) {
    bench::forward<directions>(s, *problem, ift::Unrolled{}, reference);
  });
  if (unrolled_rev)
    benchmark::RegisterBenchmark(name(problem_name, "unrolled_rev", n).c_str(), [=](benchmark::State& s) {
      bench::reverse(s, *problem, ift::Unrolled{}, reference);
    });
}

void register_seed002() {
  const auto seed = std::make_shared<const Seed002>();
  const bench::Reference reference = bench::dense_reference(seed);
  register_methods("seed002_fixed_point", Seed002::n, seed, reference, true);

  // Time and tape against the iteration count: tolerances for the implicit rule (the solver stops
  // when it meets them), fixed step counts for unrolling.
  for (const double tol : {1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12}) {
    auto p = std::make_shared<Seed002>(*seed);
    p->solver.tol = tol;
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, "tol:%.0e", tol);
    benchmark::RegisterBenchmark(
        bench::name("seed002_fixed_point", "implicit_rev", Seed002::n, suffix).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *p, ift::Implicit<>{}, reference); });
  }
  for (const int k : {10, 30, 100, 300, 1000, 3000}) {
    auto p = std::make_shared<Seed002>(*seed);
    p->unrolled_iterations = k;
    benchmark::RegisterBenchmark(
        bench::name("seed002_fixed_point", "unrolled_rev", Seed002::n, "iterations:" + std::to_string(k))
            .c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *p, ift::Unrolled{}, reference); });
  }
}

void register_deq() {
  for (const long n : {100L, 1000L}) {
    const auto deq = std::make_shared<const Deq>(n);
    // Unrolled reverse at n = 1000 records about 2n² operations per Anderson step, over a gigabyte
    // of tape for the whole solve: not run.
    register_methods("deq_fixed_point", n, deq, bench::dense_reference(deq), n <= 100);
  }
}

void register_large() {
  for (const long n : {10000L, 100000L}) {
    const auto banded = std::make_shared<const Banded>(n);
    const bench::Reference reference([banded] { return banded->exact_gradient(); });
    benchmark::RegisterBenchmark(bench::name("large_fixed_point", "primal", n).c_str(),
                                 [=](benchmark::State& s) { bench::primal(s, *banded); });
    benchmark::RegisterBenchmark(
        bench::name("large_fixed_point", "implicit_rev_default", n).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *banded, ift::Implicit<>{}, reference); });
    benchmark::RegisterBenchmark(
        bench::name("large_fixed_point", "implicit_rev_gmres", n).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *banded, ift::Implicit<ift::GMRES>{}, reference); });
    benchmark::RegisterBenchmark(
        bench::name("large_fixed_point", "implicit_rev_sparselu", n).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *banded, ift::Implicit<ift::SparseLU>{}, reference); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_seed002();
  register_deq();
  register_large();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
