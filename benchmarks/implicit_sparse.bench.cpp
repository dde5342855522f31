// Sparse problems at the limit: ift's gradient through a sparse root against the fastest code a user
// could write by hand for the one problem.
//
// broyden_root: Broyden's tridiagonal system with a parameter per equation,
//     gᵢ(x, θ) = (3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1 − θᵢ,   x₀ = xₙ₊₁ = 0,
// from xᵢ = −1, Newton to ‖g‖₂ ≤ 1e-10; the gradient of Σᵢ xᵢ* with respect to θ.
//
//  * `primal_thomas`: Newton on plain doubles with the Jacobian written out and a hand-written
//    Thomas (tridiagonal) solve, no derivative — the limit;
//  * `unrolled_jet_thomas` (with Ceres): the same Newton on `ceres::Jet<double, 8>`, θ seeded eight
//    parameters at a time, so the gradient costs n/8 unrolled solves (n ≤ 1000);
//  * `unrolled_adolc_thomas` (with ADOL-C): the same Newton on `adouble`, taped, one reverse sweep;
//  * `implicit_rev_default`: `ift::root(g, x0, θ)` on `Var`, no option given (so `Auto`, the default
//    linear solver: banded LU here from n = 8 on);
//  * `implicit_rev_auto`: Newton and the implicit rule with `ift::Auto` given explicitly (the same
//    choices; Newton's solver then behind `AnyLinearSolver`'s stored model);
//  * `implicit_rev_banded`, `implicit_rev_sparselu`: Newton and the implicit rule with `BandedLU`,
//    `SparseLU`; `…_kept`: the same with a `SparseAnalysis` kept across the benchmark's solves;
//  * `primal_default`, `primal_auto`, `primal_banded`: ift's Newton with no option, with `Auto`, with
//    `BandedLU`, on doubles, no derivative.
// `implicit_rev_default` and `implicit_rev_auto` also run at n = 2, where detection would cost most.

#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#ifdef IFT_HAVE_CERES
#include <ceres/jet.h>
#endif
#ifdef IFT_HAVE_ADOLC
#include <adolc/adolc.h>
#endif

#include "../tests/support/broyden.hpp"
#include "ift/root.hpp"
#include "implicit_support.hpp"

namespace {

constexpr double tol = 1e-10;

/// gᵢ(x, θ) = (3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1 − θᵢ, generic over the scalar.
const auto& residual = ift_test::broyden;

/// Solves the tridiagonal system (sub a, diagonal b, super c) for d in place, without pivoting
/// (Broyden's Jacobian is diagonally dominant along the iteration): forward elimination, back
/// substitution. `cp` is scratch of size n.
template <class T>
void thomas(const std::vector<T>& a, const std::vector<T>& b, const std::vector<T>& c, std::vector<T>& d,
            std::vector<T>& cp) {
  const std::size_t n = d.size();
  cp[0] = c[0] / b[0];
  d[0] = d[0] / b[0];
  for (std::size_t i = 1; i < n; ++i) {
    const T m = b[i] - a[i] * cp[i - 1];
    cp[i] = c[i] / m;
    d[i] = (d[i] - a[i] * d[i - 1]) / m;
  }
  for (std::size_t i = n - 1; i-- > 0;) d[i] = d[i] - cp[i] * d[i + 1];
}

/// Newton with the Thomas solve on any scalar T with double arithmetic, `value` reading a T's double:
/// J = tridiag(−1, 3 − 4xᵢ, −2), full steps (from x = −1 they decrease ‖g‖ at every step).
template <class T, class Value>
std::vector<T> newton_thomas(const std::vector<T>& theta, Value value) {
  const std::size_t n = theta.size();
  std::vector<T> x(n, T(-1.0)), g(n), a(n, T(-1.0)), b(n), c(n, T(-2.0)), cp(n);
  for (int k = 0; k < 100; ++k) {
    double norm2 = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      T gi = (3.0 - 2.0 * x[i]) * x[i] + 1.0 - theta[i];
      if (i > 0) gi = gi - x[i - 1];
      if (i + 1 < n) gi = gi - 2.0 * x[i + 1];
      g[i] = gi;
      norm2 += value(gi) * value(gi);
      b[i] = 3.0 - 4.0 * x[i];
    }
    if (std::sqrt(norm2) <= tol) break;
    thomas(a, b, c, g, cp);
    for (std::size_t i = 0; i < n; ++i) x[i] = x[i] - g[i];
  }
  return x;
}

/// The problem in the shape bench::reverse and bench::primal take. `defaults`: no option at all.
struct Broyden {
  ift::Newton solver;
  bool defaults = false;
  Eigen::VectorXd theta;
  Eigen::VectorXd start;

  Broyden(Eigen::Index n, ift::Newton newton, bool no_options = false)
      : solver(std::move(newton)),
        defaults(no_options),
        theta(Eigen::VectorXd::LinSpaced(n, -0.1, 0.1)),
        start(Eigen::VectorXd::Constant(n, -1.0)) {}

  template <class P, class Adjoint>
  auto solve(const P& p, const Adjoint& adjoint) const {
    if (defaults) return ift::root(residual, start, p);
    return ift::root(residual, start, p, solver, adjoint);
  }
  template <class X>
  auto loss(const X& x) const {
    return x.sum();
  }
  /// ∇θ Σx* = λ with Jᵀλ = 1 (∂g/∂θ = −I), Jᵀ tridiagonal: by the Thomas solve at x*.
  Eigen::VectorXd exact_gradient() const {
    const std::vector<double> th(theta.data(), theta.data() + theta.size());
    const std::vector<double> x = newton_thomas(th, [](double v) { return v; });
    const std::size_t n = x.size();
    std::vector<double> a(n, -2.0), b(n), c(n, -1.0), d(n, 1.0), cp(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = 3.0 - 4.0 * x[i];
    thomas(a, b, c, d, cp);
    return Eigen::Map<const Eigen::VectorXd>(d.data(), static_cast<Eigen::Index>(n));
  }
};

void primal_thomas(benchmark::State& state, const Broyden& problem) {
  const std::vector<double> th(problem.theta.data(), problem.theta.data() + problem.theta.size());
  for (auto _ : state) {
    std::vector<double> x = newton_thomas(th, [](double v) { return v; });
    benchmark::DoNotOptimize(x.data());
  }
}

#ifdef IFT_HAVE_CERES
void unrolled_jet_thomas(benchmark::State& state, const Broyden& problem, const bench::Reference& reference) {
  constexpr int K = 8;
  using Jet = ceres::Jet<double, K>;
  const std::size_t n = static_cast<std::size_t>(problem.theta.size());
  Eigen::VectorXd gradient(static_cast<Eigen::Index>(n));
  for (auto _ : state) {
    for (std::size_t first = 0; first < n; first += K) {
      std::vector<Jet> th(n);
      for (std::size_t i = 0; i < n; ++i) {
        th[i] = Jet(problem.theta(static_cast<Eigen::Index>(i)));
        if (i >= first && i < first + K) th[i].v[static_cast<int>(i - first)] = 1.0;
      }
      const std::vector<Jet> x = newton_thomas(th, [](const Jet& v) { return v.a; });
      Jet sum(0.0);
      for (const Jet& xi : x) sum += xi;
      for (std::size_t k = first; k < std::min(n, first + K); ++k)
        gradient(static_cast<Eigen::Index>(k)) = sum.v[static_cast<int>(k - first)];
    }
    benchmark::DoNotOptimize(gradient.data());
  }
  state.counters["grad_rel_err"] = bench::relative_error(gradient, reference.get());
}
#endif

#ifdef IFT_HAVE_ADOLC
void unrolled_adolc_thomas(benchmark::State& state, const Broyden& problem,
                           const bench::Reference& reference) {
  // A tape per size: ADOL-C keeps a tag's buffers and files across retapings, and one sized for
  // n = 100,000 (spilled to files) would slow the smaller sizes interleaved with it.
  const short tag =
      static_cast<short>(3 + std::lround(std::log10(static_cast<double>(problem.theta.size()))));
  const std::size_t n = static_cast<std::size_t>(problem.theta.size());
  Eigen::VectorXd gradient(static_cast<Eigen::Index>(n));
  for (auto _ : state) {
    trace_on(tag, 1);
    std::vector<adouble> th(n);
    for (std::size_t i = 0; i < n; ++i) th[i] <<= problem.theta(static_cast<Eigen::Index>(i));
    const std::vector<adouble> x = newton_thomas(th, [](const adouble& v) { return v.getValue(); });
    adouble sum = 0.0;
    for (const adouble& xi : x) sum += xi;
    double value = 0.0;
    sum >>= value;
    trace_off();
    reverse(tag, 1, static_cast<int>(n), 0, 1.0, gradient.data());
    benchmark::DoNotOptimize(gradient.data());
  }
  state.counters["grad_rel_err"] = bench::relative_error(gradient, reference.get());
}
#endif

void register_broyden() {
  using bench::name;
  for (const long n : {2L, 10L, 100L, 1000L, 10000L, 100000L}) {
    const auto defaults = std::make_shared<const Broyden>(n, ift::Newton{}, true);
    const auto automatic = std::make_shared<const Broyden>(n, ift::Newton{.linear_solver = ift::Auto{}});
    const bench::Reference reference([defaults] { return defaults->exact_gradient(); });
    benchmark::RegisterBenchmark(name("broyden_root", "primal_thomas", n).c_str(),
                                 [=](benchmark::State& s) { primal_thomas(s, *defaults); });
    benchmark::RegisterBenchmark(
        name("broyden_root", "implicit_rev_default", n).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *defaults, ift::Implicit<>{}, reference); });
    benchmark::RegisterBenchmark(
        name("broyden_root", "implicit_rev_auto", n).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *automatic, ift::Implicit<ift::Auto>{}, reference); });
    benchmark::RegisterBenchmark(name("broyden_root", "primal_default", n).c_str(),
                                 [=](benchmark::State& s) { bench::primal(s, *defaults); });
    benchmark::RegisterBenchmark(name("broyden_root", "primal_auto", n).c_str(),
                                 [=](benchmark::State& s) { bench::primal(s, *automatic); });
    if (n < 10) continue;

    const auto banded = std::make_shared<const Broyden>(n, ift::Newton{.linear_solver = ift::BandedLU{}});
    const auto sparse = std::make_shared<const Broyden>(n, ift::Newton{.linear_solver = ift::SparseLU{}});
    const ift::SparseAnalysis band_analysis, sparse_analysis;
    const auto banded_kept = std::make_shared<const Broyden>(
        n, ift::Newton{.linear_solver = ift::BandedLU{.analysis = band_analysis}});
    const auto sparse_kept = std::make_shared<const Broyden>(
        n, ift::Newton{.linear_solver = ift::SparseLU{.analysis = sparse_analysis}});
    benchmark::RegisterBenchmark(name("broyden_root", "primal_banded", n).c_str(),
                                 [=](benchmark::State& s) { bench::primal(s, *banded); });
    benchmark::RegisterBenchmark(
        name("broyden_root", "implicit_rev_banded", n).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *banded, ift::Implicit<ift::BandedLU>{}, reference); });
    benchmark::RegisterBenchmark(
        name("broyden_root", "implicit_rev_banded_kept", n).c_str(), [=](benchmark::State& s) {
          bench::reverse(s, *banded_kept, ift::Implicit<ift::BandedLU>{{.analysis = band_analysis}},
                         reference);
          s.counters["patterns_detected"] = band_analysis.patterns_detected();
        });
    benchmark::RegisterBenchmark(
        name("broyden_root", "implicit_rev_sparselu", n).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *sparse, ift::Implicit<ift::SparseLU>{}, reference); });
    benchmark::RegisterBenchmark(
        name("broyden_root", "implicit_rev_sparselu_kept", n).c_str(), [=](benchmark::State& s) {
          bench::reverse(s, *sparse_kept, ift::Implicit<ift::SparseLU>{{.analysis = sparse_analysis}},
                         reference);
          s.counters["symbolic_analyses"] = sparse_analysis.symbolic_analyses();
        });
#ifdef IFT_HAVE_CERES
    if (n <= 1000)  // n/8 unrolled solves: O(n²)
      benchmark::RegisterBenchmark(
          name("broyden_root", "unrolled_jet_thomas", n).c_str(),
          [=](benchmark::State& s) { unrolled_jet_thomas(s, *defaults, reference); });
#endif
#ifdef IFT_HAVE_ADOLC
    benchmark::RegisterBenchmark(
        name("broyden_root", "unrolled_adolc_thomas", n).c_str(),
        [=](benchmark::State& s) { unrolled_adolc_thomas(s, *defaults, reference); });
#endif
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
