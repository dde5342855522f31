#pragma once
// What the implicit-vs-unrolled benchmark programs share: the methods, the harness that times one
// gradient per iteration and sets the counters, and a count of heap bytes.
//
// A problem is a struct with
//   `theta`          the parameters θ on doubles (any parameter tree),
//   `solve(θ, adjoint)`  the solve with θ of any scalar and `ift::Implicit<…>` or `ift::Unrolled`,
//                    returning the `ift::Solution`,
//   `loss(x)`        a scalar loss of the solution, written over the scalar;
//   `direction`      optional: when present, forward methods compute the one JVP ∇loss·d along it
//                    (for θ with many leaves) instead of the whole gradient.
// The gradient compared is ∇θ loss(x*(θ)). Counters: `solver_iterations` (Google Benchmark's JSON
// already uses `iterations` for its own count), `tape_bytes` (reverse methods: the recording after
// the sweep), `grad_rel_err` (max |gᵢ − rᵢ| / max |rᵢ| against the reference r, the implicit dense
// result unless the problem has an exact one) and `peak_heap_bytes` (one more gradient, untimed).
//
// Heap: this header defines the program's global allocation functions and wraps malloc, free,
// calloc and realloc (linked with --wrap=…, see CMakeLists.txt), so every byte the library and
// Eigen allocate is counted. Include it in exactly one translation unit per program.

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <utility>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include "ift/dual.hpp"
#include "ift/implicit.hpp"
#include "ift/krylov.hpp"
#include "ift/sparse.hpp"
#include "ift/tree.hpp"
#include "ift/var.hpp"

namespace bench {

// ---------------------------------------------------------------------------------------------
// Heap accounting. The benchmarks run on one thread, so plain counters suffice. Counting is on only
// inside `peak_heap_during`: the timed loops call the allocator untouched, so that the accounting
// (a `malloc_usable_size` per call) weighs on no figure — it would on the methods that allocate and
// not on the hand-written ones that do not.

struct HeapCounter {
  bool on = false;
  std::size_t current = 0;
  std::size_t peak = 0;
  void add(std::size_t n) {
    current += n;
    peak = std::max(peak, current);
  }
  void remove(std::size_t n) { current -= std::min(n, current); }
};

inline HeapCounter heap;

/// The peak heap bytes in use while `f()` runs, above what was in use when it started. A block
/// allocated before and freed during `f()` is not subtracted below the start, so the figure errs
/// high, never low.
template <class F>
std::size_t peak_heap_during(F&& f) {
  heap = {true, 0, 0};
  f();
  heap.on = false;
  return heap.peak;
}

}  // namespace bench

extern "C" {
void* __real_malloc(std::size_t size);
void __real_free(void* p);
void* __real_calloc(std::size_t count, std::size_t size);
void* __real_realloc(void* p, std::size_t size);

void* __wrap_malloc(std::size_t size) {
  void* p = __real_malloc(size);
  if (bench::heap.on && p != nullptr) bench::heap.add(malloc_usable_size(p));
  return p;
}
void __wrap_free(void* p) {
  if (bench::heap.on && p != nullptr) bench::heap.remove(malloc_usable_size(p));
  __real_free(p);
}
void* __wrap_calloc(std::size_t count, std::size_t size) {
  void* p = __real_calloc(count, size);
  if (bench::heap.on && p != nullptr) bench::heap.add(malloc_usable_size(p));
  return p;
}
void* __wrap_realloc(void* p, std::size_t size) {
  if (!bench::heap.on) return __real_realloc(p, size);
  const std::size_t old = p != nullptr ? malloc_usable_size(p) : 0;
  void* q = __real_realloc(p, size);
  if (q != nullptr || size == 0) {
    bench::heap.remove(old);
    if (q != nullptr) bench::heap.add(malloc_usable_size(q));
  }
  return q;
}
}

// The global allocation functions, routed through the (wrapped) malloc of this program so that
// `new` is counted too, including calls from the standard library. Aligned requests get an
// over-allocated block with the offset to the malloc'ed pointer stored just before the result.
namespace bench::detail {
inline void* allocate(std::size_t size) {
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
inline void* allocate_aligned(std::size_t size, std::size_t alignment) {
  alignment = std::max(alignment, alignof(std::max_align_t));
  auto* base = static_cast<unsigned char*>(allocate(size + alignment));
  unsigned char* p = base + alignment - (reinterpret_cast<std::uintptr_t>(base) % alignment);
  reinterpret_cast<std::size_t*>(p)[-1] = static_cast<std::size_t>(p - base);
  return p;
}
inline void deallocate_aligned(void* p) {
  if (p == nullptr) return;
  auto* q = static_cast<unsigned char*>(p);
  std::free(q - reinterpret_cast<std::size_t*>(q)[-1]);
}
}  // namespace bench::detail

void* operator new(std::size_t size) { return bench::detail::allocate(size); }
void* operator new[](std::size_t size) { return bench::detail::allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void* operator new(std::size_t size, std::align_val_t a) {
  return bench::detail::allocate_aligned(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
  return bench::detail::allocate_aligned(size, static_cast<std::size_t>(a));
}
void operator delete(void* p, std::align_val_t) noexcept { bench::detail::deallocate_aligned(p); }
void operator delete[](void* p, std::align_val_t) noexcept { bench::detail::deallocate_aligned(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  bench::detail::deallocate_aligned(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  bench::detail::deallocate_aligned(p);
}

namespace bench {

template <class T>
using VectorX = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// n independent N(0, scale²) entries from the generator seeded with `seed`.
inline Eigen::VectorXd random_vector(Eigen::Index n, unsigned seed, double scale = 1.0) {
  std::mt19937 random(seed);
  std::normal_distribution<double> normal(0.0, scale);
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) v(i) = normal(random);
  return v;
}

/// max |gᵢ − rᵢ| / max |rᵢ|.
inline double relative_error(const Eigen::VectorXd& g, const Eigen::VectorXd& r) {
  const double scale = r.cwiseAbs().maxCoeff();
  return (g - r).cwiseAbs().maxCoeff() / (scale > 0 ? scale : 1.0);
}

/// ∇θ loss(x*(θ)) by one reverse sweep; also the tape bytes and the solver's iteration count.
struct ReverseResult {
  Eigen::VectorXd gradient;
  std::size_t tape_bytes = 0;
  int iterations = 0;
};

template <class Problem, class Adjoint>
ReverseResult reverse_gradient(ift::Tape& tape, const Problem& problem, const Adjoint& adjoint) {
  tape.clear();
  const auto theta = ift::rebind<ift::Var>(problem.theta);  // independent variables
  const auto solution = problem.solve(theta, adjoint);
  const ift::Var loss = problem.loss(solution.x);
  tape.backward(loss);
  ReverseResult out{Eigen::VectorXd(ift::tree_size(theta)), tape.bytes(), solution.iterations};
  Eigen::Index k = 0;
  ift::for_each_leaf(theta, [&](const ift::Var& leaf) { out.gradient(k++) = tape.adjoint(leaf); });
  return out;
}

/// Whether forward methods compute one JVP ∇loss·d (a problem with a `direction` d, for θ with
/// many leaves) instead of the whole gradient (one unit tangent per leaf of θ).
template <class Problem>
inline constexpr bool directional = requires(const Problem& p) {
  p.direction;
};

/// The gradient a forward method computes with K tangents: ∇θ loss, or ∇θ loss · d (K = 1).
/// The tangent plane has K rows fixed at compile time, so a tiny problem's gradient costs no heap here.
template <int K, class Problem, class Adjoint>
std::pair<Eigen::Matrix<double, K, 1>, int> forward_gradient(const Problem& problem, const Adjoint& adjoint) {
  using D = ift::Dual<double, K>;
  auto theta = ift::rebind<D>(problem.theta);
  Eigen::Index k = 0;
  ift::for_each_leaf(theta, [&](D& leaf) {
    leaf.v.setZero();
    if constexpr (directional<Problem>)
      leaf.v(0) = problem.direction(k);
    else
      leaf.v(k) = 1.0;
    ++k;
  });
  const auto solution = problem.solve(theta, adjoint);
  const D loss = problem.loss(solution.x);
  return {loss.v, solution.iterations};
}

/// The reference in the shape a forward method computes it.
template <class Problem>
Eigen::VectorXd forward_reference(const Problem& problem, const Eigen::VectorXd& reference) {
  if constexpr (directional<Problem>)
    return Eigen::VectorXd::Constant(1, reference.dot(problem.direction));
  else
    return reference;
}

/// The reference gradient of a problem, computed when a benchmark first needs it (outside the
/// timed loop) and then shared, so that benchmarks left out by a filter cost nothing.
class Reference {
 public:
  explicit Reference(std::function<Eigen::VectorXd()> make)
      : state_(std::make_shared<State>(State{std::move(make), {}})) {}
  const Eigen::VectorXd& get() const {
    if (!state_->value) state_->value = state_->make();
    return *state_->value;
  }

 private:
  struct State {
    std::function<Eigen::VectorXd()> make;
    std::optional<Eigen::VectorXd> value;
  };
  std::shared_ptr<State> state_;
};

/// Runs `body` and reports a failure as the benchmark's error instead of ending the program.
template <class Body>
bool guarded(benchmark::State& state, Body&& body) {
  try {
    body();
    return true;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return false;
  }
}

/// `primal`: the solve on doubles, no derivative.
template <class Problem>
void primal(benchmark::State& state, const Problem& problem) {
  guarded(state, [&] {
    int iterations = 0;
    for (auto _ : state) {
      const auto solution = problem.solve(problem.theta, ift::Implicit<>{});
      iterations = solution.iterations;
      benchmark::DoNotOptimize(solution.x);
    }
    state.counters["solver_iterations"] = iterations;
    state.counters["peak_heap_bytes"] = static_cast<double>(peak_heap_during(
        [&] { benchmark::DoNotOptimize(problem.solve(problem.theta, ift::Implicit<>{}).x); }));
  });
}

/// A reverse method: record the solve and the loss, sweep once.
template <class Problem, class Adjoint>
void reverse(benchmark::State& state, const Problem& problem, Adjoint adjoint, const Reference& reference) {
  guarded(state, [&] {
    const Eigen::VectorXd& expected = reference.get();
    ift::Tape tape;
    ReverseResult result;
    for (auto _ : state) {
      result = reverse_gradient(tape, problem, adjoint);
      benchmark::DoNotOptimize(result.gradient.data());
    }
    state.counters["tape_bytes"] = static_cast<double>(result.tape_bytes);
    state.counters["solver_iterations"] = result.iterations;
    state.counters["grad_rel_err"] = relative_error(result.gradient, expected);
    state.counters["peak_heap_bytes"] = static_cast<double>(peak_heap_during([&] {
      ift::Tape fresh;  // a tape of its own, so that its growth is counted
      benchmark::DoNotOptimize(reverse_gradient(fresh, problem, adjoint).gradient.data());
    }));
  });
}

/// A forward method with K tangent directions.
template <int K, class Problem, class Adjoint>
void forward(benchmark::State& state, const Problem& problem, Adjoint adjoint, const Reference& reference) {
  guarded(state, [&] {
    const Eigen::VectorXd expected = forward_reference(problem, reference.get());
    std::pair<Eigen::Matrix<double, K, 1>, int> result;
    for (auto _ : state) {
      result = forward_gradient<K>(problem, adjoint);
      benchmark::DoNotOptimize(result.first.data());
    }
    state.counters["solver_iterations"] = result.second;
    state.counters["grad_rel_err"] = relative_error(Eigen::VectorXd(result.first), expected);
    state.counters["peak_heap_bytes"] = static_cast<double>(peak_heap_during(
        [&] { benchmark::DoNotOptimize(forward_gradient<K>(problem, adjoint).first.data()); }));
  });
}

/// The implicit dense result: reverse mode through the implicit rule with a dense LU.
template <class Problem>
Reference dense_reference(std::shared_ptr<const Problem> problem) {
  return Reference([problem] {
    ift::Tape tape;
    return reverse_gradient(tape, *problem, ift::Implicit<ift::DenseLU>{}).gradient;
  });
}

/// `<problem>/<method>/<n>` plus an optional suffix.
inline std::string name(const std::string& problem, const std::string& method, long n,
                        const std::string& suffix = "") {
  return problem + "/" + method + "/" + std::to_string(n) + (suffix.empty() ? "" : "/" + suffix);
}

}  // namespace bench
