// The AD scalars against their peers, on the same kernels written once over the scalar type:
//
//  * forward mode: `ift::Dual<double, N>` against `ceres::Jet<double, N>` for N = 1, 4, 16 on a
//    polynomial (Horner), a chain of transcendental functions and an 8×8 dense mat-vec;
//    names `scalars_<kernel>/{dual,jet}/<N>`;
//  * reverse mode: `ift::Var` against ADOL-C, each recording the function and sweeping it once
//    for the gradient, on a 1,000-operation scalar function and a chain of three n = 100 dense
//    mat-vecs; names `tape_<kernel>/{var,adolc}/<n>`, with counters `tape_bytes` and
//    `bytes_per_op` (bytes over the kernel's count of arithmetic operations, the same count for
//    both tapes);
//  * element-wise functions of a `Var` vector: y = tanh(x) over n entries and the gradient of Σy,
//    as Eigen writes it (`x.array().tanh()`: n unary statements, `tape_elementwise/var/<n>`), with
//    the n partials as one node (`Tape::add_node` and a closure that multiplies the outputs'
//    adjoints by them: `tape_elementwise/var_node/<n>`), and Σx alone (`tape_elementwise/var_sum/<n>`),
//    the part both share — what a node for a whole vector of element-wise operations would gain.
//
// The peers are compared when CMake finds them (IFT_HAVE_CERES, IFT_HAVE_ADOLC).

#include <array>
#include <cmath>
#include <cstddef>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include "ift/dual.hpp"
#include "ift/var.hpp"

#ifdef IFT_HAVE_CERES
#include <ceres/jet.h>
#endif
#ifdef IFT_HAVE_ADOLC
#include <adolc/adolc.h>
#endif

namespace {

// ---------------------------------------------------------------------------------------------
// Forward-mode kernels.

/// p(x) = Σₖ cₖ xᵏ of degree 16 by Horner's rule: 16 products of two duals, 16 constant additions.
template <class S>
S horner(const S& x) {
  static constexpr std::array<double, 17> c = {1.0,   -0.5,  0.25, -0.125, 0.0625, 0.5,   -0.3, 0.2, 0.1,
                                               -0.05, 0.025, 0.01, -0.02,  0.03,   -0.04, 0.05, 0.06};
  S p = S(c[16]);
  for (int k = 15; k >= 0; --k) p = p * x + c[static_cast<std::size_t>(k)];
  return p;
}

/// Eight steps of y ← sin(y)·x + exp(−y²/2)·cos(x) + √(1 + y²) − log(1 + x²) + tanh(y)·atan(x):
/// each step evaluates seven functions and eight arithmetic operations on duals.
template <class S>
S transcendental(const S& x) {
  using std::atan, std::cos, std::exp, std::log, std::sin, std::sqrt, std::tanh;
  S y = x;
  for (int k = 0; k < 8; ++k)
    y = sin(y) * x + exp(-0.5 * (y * y)) * cos(x) + sqrt(1.0 + y * y) - log(1.0 + x * x) + tanh(y) * atan(x);
  return y;
}

constexpr int matvec_size = 8;

template <class S>
using SquareMatrix = Eigen::Matrix<S, matvec_size, matvec_size>;
template <class S>
using Column = Eigen::Matrix<S, matvec_size, 1>;

/// A value with N random tangents, built the same way for both dual types (their layouts agree:
/// a value `a` and an `Eigen::Matrix<double, N, 1>` `v`).
template <class S, int N>
S seeded(std::mt19937& random) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  S s;
  s.a = u(random);
  for (int i = 0; i < N; ++i) s.v(i) = u(random);
  return s;
}

/// Inputs for one batch: 16 points for the scalar kernels, one matrix and vector for the mat-vec.
template <class S, int N>
struct ForwardInputs {
  static constexpr int points = 16;
  std::array<S, points> x;
  SquareMatrix<S> a;
  Column<S> b;
  explicit ForwardInputs(unsigned seed) {
    std::mt19937 random(seed);
    for (S& xi : x) xi = seeded<S, N>(random);
    for (int i = 0; i < matvec_size; ++i) {
      b(i) = seeded<S, N>(random);
      for (int j = 0; j < matvec_size; ++j) a(i, j) = seeded<S, N>(random);
    }
  }
};

template <class S, int N>
void scalars_horner(benchmark::State& state) {
  ForwardInputs<S, N> in(1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(in.x.data());
    for (const S& x : in.x) {
      S y = horner(x);
      benchmark::DoNotOptimize(y);
    }
  }
  state.SetItemsProcessed(state.iterations() * ForwardInputs<S, N>::points);
}

template <class S, int N>
void scalars_transcendental(benchmark::State& state) {
  ForwardInputs<S, N> in(2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(in.x.data());
    for (const S& x : in.x) {
      S y = transcendental(x);
      benchmark::DoNotOptimize(y);
    }
  }
  state.SetItemsProcessed(state.iterations() * ForwardInputs<S, N>::points);
}

template <class S, int N>
void scalars_matvec(benchmark::State& state) {
  ForwardInputs<S, N> in(3);
  Column<S> y;
  for (auto _ : state) {
    benchmark::DoNotOptimize(in.a.data());
    benchmark::DoNotOptimize(in.b.data());
    y.noalias() = in.a * in.b;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

/// Repetitions of each forward-mode benchmark. They take microseconds, and the ratios compared
/// with Ceres are close to 1, so the smallest of many short runs is what tells them apart on a
/// shared machine.
constexpr int forward_repetitions = 9;

/// Registers `<kernel>/<type>/<N>` for the three kernels.
template <class S, int N>
void register_forward(const std::string& type) {
  const std::string suffix = "/" + type + "/" + std::to_string(N);
  benchmark::RegisterBenchmark(("scalars_horner" + suffix).c_str(), scalars_horner<S, N>)
      ->Repetitions(forward_repetitions);
  benchmark::RegisterBenchmark(("scalars_transcendental" + suffix).c_str(), scalars_transcendental<S, N>)
      ->Repetitions(forward_repetitions);
  benchmark::RegisterBenchmark(("scalars_matvec" + suffix).c_str(), scalars_matvec<S, N>)
      ->Repetitions(forward_repetitions);
}

template <int N>
void register_forward() {
  register_forward<ift::Dual<double, N>, N>("dual");
#ifdef IFT_HAVE_CERES
  register_forward<ceres::Jet<double, N>, N>("jet");
#endif
}

// ---------------------------------------------------------------------------------------------
// Reverse-mode kernels. Written with `S y = …` (never `auto`), so that ADOL-C's temporaries
// convert to `adouble` as they would in user code.

constexpr int scalar_inputs = 10;
constexpr int scalar_steps = 200;
/// Arithmetic operations in `scalar_function`: five per step.
constexpr int scalar_ops = 5 * scalar_steps;

/// 1,000 operations on 10 inputs: 200 steps of y ← sin(y·xⱼ) + 0.5·cos(xⱼ₊₁).
template <class S>
S scalar_function(std::span<const S> x) {
  using std::cos, std::sin;
  S y = x[0];
  for (int k = 0; k < scalar_steps; ++k) {
    const S& a = x[static_cast<std::size_t>(k % scalar_inputs)];
    const S& b = x[static_cast<std::size_t>((k + 1) % scalar_inputs)];
    y = sin(y * a) + 0.5 * cos(b);
  }
  return y;
}

constexpr int chain_size = 100;
constexpr int chain_layers = 3;
/// Arithmetic operations in `matvec_chain`: per layer n² products, n(n − 1) sums and n tanh; then
/// n − 1 sums.
constexpr int chain_ops = chain_layers * 2 * chain_size * chain_size + chain_size - 1;

/// Three layers x ← tanh(A x) with a constant dense A (n = 100), then Σᵢ xᵢ.
template <class S>
S matvec_chain(const Eigen::MatrixXd& a, std::span<const S> x0) {
  using std::tanh;
  std::vector<S> x(x0.begin(), x0.end());
  std::vector<S> y(x.size());
  for (int layer = 0; layer < chain_layers; ++layer) {
    for (int i = 0; i < chain_size; ++i) {
      S acc = a(i, 0) * x[0];
      for (int j = 1; j < chain_size; ++j) acc += a(i, j) * x[static_cast<std::size_t>(j)];
      y[static_cast<std::size_t>(i)] = tanh(acc);
    }
    std::swap(x, y);
  }
  S sum = x[0];
  for (int i = 1; i < chain_size; ++i) sum += x[static_cast<std::size_t>(i)];
  return sum;
}

std::vector<double> random_vector(int n, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& vi : v) vi = u(random);
  return v;
}

Eigen::MatrixXd chain_matrix() {
  // Entries of size 1/√n keep A x of order 1, so tanh is not saturated.
  const std::vector<double> entries = random_vector(chain_size * chain_size, 7);
  return Eigen::Map<const Eigen::MatrixXd>(entries.data(), chain_size, chain_size) / std::sqrt(chain_size);
}

/// Records `kernel` on inputs `values` and sweeps once for the gradient into `gradient`.
template <class Kernel>
std::size_t var_record_and_sweep(ift::Tape& tape, const std::vector<double>& values,
                                 std::vector<double>& gradient, Kernel kernel) {
  tape.clear();
  std::vector<ift::Var> x(values.begin(), values.end());
  const ift::Var y = kernel(std::span<const ift::Var>(x));
  tape.backward(y);
  for (std::size_t i = 0; i < x.size(); ++i) gradient[i] = tape.adjoint(x[i]);
  return tape.bytes();
}

template <class Kernel>
void tape_var(benchmark::State& state, int inputs, int ops, Kernel kernel) {
  const std::vector<double> values = random_vector(inputs, 11);
  std::vector<double> gradient(values.size());
  ift::Tape tape;
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = var_record_and_sweep(tape, values, gradient, kernel);
    benchmark::DoNotOptimize(gradient.data());
    benchmark::ClobberMemory();
  }
  state.counters["tape_bytes"] = static_cast<double>(bytes);
  state.counters["bytes_per_op"] = static_cast<double>(bytes) / ops;
  state.counters["ops"] = ops;
}

#ifdef IFT_HAVE_ADOLC
/// ADOL-C's fastest record-and-sweep: trace with `keep = 1` (the forward values are kept while
/// taping, so no separate forward sweep is needed), then one first-order reverse sweep.
/// `tape_bytes` counts the tape proper as `tapestats` reports it: one byte per operation code,
/// four per location, eight per stored value; `bytes_per_op` is a lower bound on ADOL-C's memory
/// and `bytes_per_op_with_taylor` an upper bound.
template <class Kernel>
void tape_adolc(benchmark::State& state, int inputs, int ops, Kernel kernel) {
  constexpr short tag = 1;
  const std::vector<double> values = random_vector(inputs, 11);
  std::vector<double> gradient(values.size());
  for (auto _ : state) {
    trace_on(tag, 1);
    std::vector<adouble> x(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) x[i] <<= values[i];
    adouble y = kernel(std::span<const adouble>(x));
    double y_value = 0.0;
    y >>= y_value;
    trace_off();
    reverse(tag, 1, inputs, 0, 1.0, gradient.data());
    benchmark::DoNotOptimize(gradient.data());
    benchmark::ClobberMemory();
  }
  std::size_t stats[STAT_SIZE];
  tapestats(tag, stats);
  const double bytes = static_cast<double>(stats[NUM_OPERATIONS]) * sizeof(unsigned char) +
                       static_cast<double>(stats[NUM_LOCATIONS]) * sizeof(locint) +
                       static_cast<double>(stats[NUM_VALUES]) * sizeof(double);
  // While taping with keep = 1, every operation that writes a location also pushes the value it
  // overwrites on the Taylor stack (8 bytes) for the reverse sweep: at most one entry per recorded
  // operation, an upper bound `tapestats` does not report.
  const double taylor_bytes = static_cast<double>(stats[NUM_OPERATIONS]) * sizeof(double);
  state.counters["tape_bytes"] = bytes;
  state.counters["bytes_per_op"] = bytes / ops;
  state.counters["bytes_per_op_with_taylor"] = (bytes + taylor_bytes) / ops;
  state.counters["recorded_operations"] = static_cast<double>(stats[NUM_OPERATIONS]);
  state.counters["ops"] = ops;
}
#endif

/// Σ tanh(xᵢ) with tanh(x) recorded as one node holding its n partials 1 − tanh²(xᵢ).
ift::Var tanh_node_sum(std::span<const ift::Var> x) {
  std::vector<double> values(x.size()), partials(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    values[i] = std::tanh(x[i].value());
    partials[i] = 1.0 - values[i] * values[i];
  }
  std::vector<ift::Var> y(x.size());
  ift::add_node(x, values, y, [p = std::move(partials)](std::span<const double> out, std::span<double> in) {
    for (std::size_t k = 0; k < out.size(); ++k) in[k] = p[k] * out[k];
  });
  ift::Var sum = 0.0;
  for (const ift::Var& e : y) sum += e;
  return sum;
}

void register_reverse() {
  const auto scalar = [](auto x) { return scalar_function(x); };
  const Eigen::MatrixXd a = chain_matrix();
  const auto chain = [a](auto x) { return matvec_chain(a, x); };
  const std::string scalar_n = "/" + std::to_string(scalar_ops);
  const std::string chain_n = "/" + std::to_string(chain_size);
  benchmark::RegisterBenchmark(("tape_scalar/var" + scalar_n).c_str(),
                               [=](benchmark::State& s) { tape_var(s, scalar_inputs, scalar_ops, scalar); });
  benchmark::RegisterBenchmark(("tape_matvec/var" + chain_n).c_str(),
                               [=](benchmark::State& s) { tape_var(s, chain_size, chain_ops, chain); });
  for (const int n : {1000, 100000}) {
    const auto vector = [](std::span<const ift::Var> x) {
      return Eigen::Map<const Eigen::VectorX<ift::Var>>(x.data(), static_cast<Eigen::Index>(x.size()));
    };
    const std::string size = "/" + std::to_string(n);
    benchmark::RegisterBenchmark(("tape_elementwise/var" + size).c_str(), [=](benchmark::State& s) {
      tape_var(s, n, 2 * n, [&](auto x) { return vector(x).array().tanh().sum(); });
    });
    benchmark::RegisterBenchmark(("tape_elementwise/var_node" + size).c_str(),
                                 [=](benchmark::State& s) { tape_var(s, n, 2 * n, tanh_node_sum); });
    benchmark::RegisterBenchmark(("tape_elementwise/var_sum" + size).c_str(), [=](benchmark::State& s) {
      tape_var(s, n, n, [&](auto x) { return vector(x).sum(); });
    });
  }
#ifdef IFT_HAVE_ADOLC
  benchmark::RegisterBenchmark(("tape_scalar/adolc" + scalar_n).c_str(), [=](benchmark::State& s) {
    tape_adolc(s, scalar_inputs, scalar_ops, scalar);
  });
  benchmark::RegisterBenchmark(("tape_matvec/adolc" + chain_n).c_str(),
                               [=](benchmark::State& s) { tape_adolc(s, chain_size, chain_ops, chain); });
#endif
}

}  // namespace

int main(int argc, char** argv) {
  register_forward<1>();
  register_forward<4>();
  register_forward<16>();
  register_reverse();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
