// Unrolled peers of the implicit fixed-point gradients, written as a skilled user of each tool would
// write them, in the harness of the implicit benchmarks (same problems, counters and heap count):
//
//  * deq_fixed_point/unrolled_var/<n> and deq_fixed_point/unrolled_adolc/<n>: the deep-equilibrium
//    layer x = tanh(W x + θ) of implicit_fixed_point.bench.cpp, unrolled by plain iteration from
//    x = 0 just until ‖F(x) − x‖₂ ≤ 1e-10 (the implicit methods' tolerance), then one reverse sweep
//    for ∇θ wᵀx. On `ift::Var` the step is Eigen (`(W * x + theta).array().tanh()`: one block node for
//    W x per step); on ADOL-C's `adouble`, which has no matrix operations, loops of scalar operations
//    retaped for every gradient (`trace_on` with keep = 1, then `reverse`).
//  * seed002_fixed_point/unrolled_jet/2: the seed's 2-D map iterated on `ceres::Jet<double, 2>`
//    seeded with (α, β) to the same tolerance, the full 2×2 Jacobian of x* in one pass.
//  * tape_matvec/var_blocks/100: the kernel of scalars.bench.cpp's tape_matvec (three layers
//    x ← tanh(A x), A dense n = 100, then Σᵢ xᵢ; record and sweep once) as a `Var` user writes it in
//    Eigen, `(a * x).array().tanh()`, with A x one block node per layer. scalars.bench.cpp writes the
//    kernel once over the scalar type, as loops, for ADOL-C's sake; compare with tape_matvec/adolc/100
//    there.
//
// `grad_rel_err` compares with the implicit dense gradient, as in implicit_fixed_point.bench.cpp.

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "fixed_point_problems.hpp"
#include "ift/fixed_point.hpp"
#include "implicit_support.hpp"

#ifdef IFT_HAVE_CERES
#include <ceres/jet.h>
#endif
#ifdef IFT_HAVE_ADOLC
#include <adolc/adolc.h>
#endif

namespace {

using bench::Deq;
using bench::Para;
using bench::Seed002;

constexpr double tolerance = 1e-10;  // ift::Iteration's and ift::Anderson's default
constexpr int max_steps = 10000;

/// What an unrolled gradient reports.
struct Unrolled {
  Eigen::VectorXd gradient;
  double tape_bytes = 0.0;
  int iterations = 0;
};

/// Times `gradient()` (returning `Unrolled`) and sets the counters of the implicit benchmarks.
template <class Gradient>
void run_unrolled(benchmark::State& state, Gradient gradient, const bench::Reference& reference) {
  bench::guarded(state, [&] {
    const Eigen::VectorXd& expected = reference.get();
    Unrolled result;
    for (auto _ : state) {
      result = gradient();
      benchmark::DoNotOptimize(result.gradient.data());
    }
    state.counters["tape_bytes"] = result.tape_bytes;
    state.counters["solver_iterations"] = result.iterations;
    state.counters["grad_rel_err"] = bench::relative_error(result.gradient, expected);
    state.counters["peak_heap_bytes"] = static_cast<double>(
        bench::peak_heap_during([&] { benchmark::DoNotOptimize(gradient().gradient.data()); }));
  });
}

// ---- The seed's map (fixed_point_problems.hpp) --------------------------------------------------

#ifdef IFT_HAVE_CERES
/// ∇(α, β) wᵀx* with x ← F(x) on Jets carrying ∂/∂α and ∂/∂β, until the values move by ≤ tol.
Unrolled seed002_jet(const Seed002& seed) {
  using Jet = ceres::Jet<double, 2>;
  const Para<Jet> p{Jet(seed.theta.alpha, 0), Jet(seed.theta.beta, 1)};
  Eigen::Matrix<Jet, 2, 1> x(Jet(seed.start(0)), Jet(seed.start(1)));
  int k = 0;
  for (;;) {
    const Eigen::Matrix<Jet, 2, 1> next = Seed002::map(x, p);
    const double dx = std::hypot(next(0).a - x(0).a, next(1).a - x(1).a);
    x = next;
    if (++k >= max_steps || dx <= tolerance) break;
  }
  const Jet loss = seed.loss(x);
  return {Eigen::VectorXd(loss.v), 0.0, k};
}
#endif

// ---- The deep-equilibrium layer (fixed_point_problems.hpp) ---------------------------------------

/// ∇θ wᵀx on `ift::Var`: the iteration recorded on `tape` (cleared first), one sweep.
Unrolled deq_var(ift::Tape& tape, const Deq& deq) {
  using ift::Var;
  tape.clear();
  const bench::VectorX<Var> theta = deq.theta.unaryExpr([](double t) { return Var(t); });
  bench::VectorX<Var> x = deq.start.unaryExpr([](double s) { return Var::constant(s); });
  bench::VectorX<Var> next(x.size());
  int k = 0;
  for (;;) {
    next = (deq.weights * x + theta).array().tanh().matrix();
    double dx2 = 0.0;
    for (Eigen::Index i = 0; i < x.size(); ++i) dx2 += std::pow(next(i).value() - x(i).value(), 2);
    x.swap(next);
    if (++k >= max_steps || std::sqrt(dx2) <= tolerance) break;
  }
  tape.backward(deq.loss(x));
  Unrolled out{Eigen::VectorXd(theta.size()), static_cast<double>(tape.bytes()), k};
  for (Eigen::Index i = 0; i < theta.size(); ++i) out.gradient(i) = tape.adjoint(theta(i));
  return out;
}

#ifdef IFT_HAVE_ADOLC
/// ∇θ wᵀx on ADOL-C: the iteration taped with keep = 1 (so that no forward sweep is needed before
/// the reverse one), Wx as loops, then one first-order reverse sweep. `tape_bytes` counts the tape
/// proper as `tapestats` reports it, as in scalars.bench.cpp.
Unrolled deq_adolc(const Deq& deq) {
  constexpr short tag = 3;
  const Eigen::Index n = deq.theta.size();
  const auto size = static_cast<std::size_t>(n);
  trace_on(tag, 1);
  std::vector<adouble> theta(size), x(size), next(size);
  for (std::size_t i = 0; i < size; ++i) {
    theta[i] <<= deq.theta(Eigen::Index(i));
    x[i] = deq.start(Eigen::Index(i));
  }
  int k = 0;
  for (;;) {
    double dx2 = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
      adouble z = theta[std::size_t(i)];
      for (Eigen::Index j = 0; j < n; ++j) z += deq.weights(i, j) * x[std::size_t(j)];
      next[std::size_t(i)] = tanh(z);
      dx2 += std::pow(next[std::size_t(i)].getValue() - x[std::size_t(i)].getValue(), 2);
    }
    std::swap(x, next);
    if (++k >= max_steps || std::sqrt(dx2) <= tolerance) break;
  }
  adouble loss = deq.w(0) * x[0];
  for (std::size_t i = 1; i < size; ++i) loss += deq.w(Eigen::Index(i)) * x[i];
  double loss_value = 0.0;
  loss >>= loss_value;
  trace_off();
  Unrolled out{Eigen::VectorXd(n), 0.0, k};
  reverse(tag, 1, int(n), 0, 1.0, out.gradient.data());
  std::size_t stats[STAT_SIZE];
  tapestats(tag, stats);
  out.tape_bytes = static_cast<double>(stats[NUM_OPERATIONS]) * sizeof(unsigned char) +
                   static_cast<double>(stats[NUM_LOCATIONS]) * sizeof(locint) +
                   static_cast<double>(stats[NUM_VALUES]) * sizeof(double);
  return out;
}
#endif

// ---- The mat-vec chain of scalars.bench.cpp, in Eigen ------------------------------------------

constexpr int chain_size = 100;

/// The chain's matrix and inputs, drawn as scalars.bench.cpp draws them.
Eigen::MatrixXd chain_uniform(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = u(random);
  return m;
}

void tape_matvec_blocks(benchmark::State& state) {
  using ift::Var;
  const Eigen::MatrixXd a = chain_uniform(chain_size, chain_size, 7) / std::sqrt(double(chain_size));
  const Eigen::VectorXd values = chain_uniform(chain_size, 1, 11);
  Eigen::VectorXd gradient(chain_size);
  ift::Tape tape;
  for (auto _ : state) {
    tape.clear();
    const bench::VectorX<Var> x0 = values.unaryExpr([](double v) { return Var(v); });
    bench::VectorX<Var> x = x0;
    for (int layer = 0; layer < 3; ++layer) x = (a * x).array().tanh().matrix();
    tape.backward(x.sum());
    for (Eigen::Index i = 0; i < chain_size; ++i) gradient(i) = tape.adjoint(x0(i));
    benchmark::DoNotOptimize(gradient.data());
    benchmark::ClobberMemory();
  }
  state.counters["tape_bytes"] = static_cast<double>(tape.bytes());
}

void register_all() {
  using bench::name;
  benchmark::RegisterBenchmark(name("tape_matvec", "var_blocks", chain_size).c_str(), tape_matvec_blocks);
#ifdef IFT_HAVE_CERES
  const auto seed = std::make_shared<const Seed002>();
  const bench::Reference seed_reference = bench::dense_reference(seed);
  benchmark::RegisterBenchmark(name("seed002_fixed_point", "unrolled_jet", Seed002::n).c_str(),
                               [=](benchmark::State& s) {
                                 run_unrolled(
                                     s, [&] { return seed002_jet(*seed); }, seed_reference);
                               });
#endif
  for (const long n : {100L, 1000L}) {
    const auto deq = std::make_shared<const Deq>(n);
    const bench::Reference reference = bench::dense_reference(deq);
    benchmark::RegisterBenchmark(name("deq_fixed_point", "unrolled_var", n).c_str(),
                                 [=](benchmark::State& s) {
                                   ift::Tape tape;
                                   run_unrolled(
                                       s, [&] { return deq_var(tape, *deq); }, reference);
                                 });
#ifdef IFT_HAVE_ADOLC
    benchmark::RegisterBenchmark(name("deq_fixed_point", "unrolled_adolc", n).c_str(),
                                 [=](benchmark::State& s) {
                                   run_unrolled(
                                       s, [&] { return deq_adolc(*deq); }, reference);
                                 });
#endif
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
