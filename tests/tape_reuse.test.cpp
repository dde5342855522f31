// Tape memory reused across tapes: a tape takes the storage a destroyed tape of its thread left
// behind, so a backward pass that records and sweeps a nested tape allocates nothing once it has run
// at its size; each thread reuses its own storage.

#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <thread>
#include <vector>

#include "ift/var.hpp"
#include "support/counting_allocator.hpp"

using ift::Tape;
using ift::Var;

using ift_test::allocations;

namespace {

/// The deep-equilibrium map's Jacobian-transpose product, as a backward pass computes it: on a
/// nested tape, record y = tanh(W x) at the point x (one block node for W x, then n scalar
/// statements) and sweep from ȳ, giving x̄ = Wᵀ (ȳ ∘ (1 − y²)). Every buffer is the caller's, so
/// the only allocations are the tape's own.
struct NestedPass {
  Eigen::MatrixXd w;
  Eigen::VectorX<Var> x, wx;
  std::vector<Var> y;

  explicit NestedPass(Eigen::Index n) : w(n, n), x(n), wx(n), y(static_cast<std::size_t>(n)) {
    for (Eigen::Index j = 0; j < n; ++j)
      for (Eigen::Index i = 0; i < n; ++i)
        w(i, j) = 0.8 * std::sin(1.7 * double(i) + 0.3 * double(j)) / double(n);
  }

  void operator()(const Eigen::VectorXd& point, std::span<const double> y_bar, std::span<double> x_bar) {
    using std::tanh;
    Tape tape;
    for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = point(i);
    wx.noalias() = w * x;
    for (Eigen::Index i = 0; i < x.size(); ++i) y[static_cast<std::size_t>(i)] = tanh(wx(i));
    tape.backward(y, y_bar);
    for (Eigen::Index i = 0; i < x.size(); ++i) x_bar[static_cast<std::size_t>(i)] = tape.adjoint(x(i));
  }

  /// x̄ = Wᵀ (ȳ ∘ (1 − tanh²(W x))), in closed form.
  Eigen::VectorXd expected(const Eigen::VectorXd& point, const Eigen::VectorXd& y_bar) const {
    const Eigen::ArrayXd t = (w * point).array().tanh();
    return w.transpose() * (y_bar.array() * (1.0 - t.square())).matrix();
  }
};

/// Allocations made by one call of `pass` on this thread.
template <class Pass>
long allocations_of(Pass&& pass) {
  const long before = allocations;
  pass();
  return allocations - before;
}

}  // namespace

TEST_CASE("A nested tape's second backward pass of the same size allocates nothing", "[tape][reuse]") {
  const Eigen::Index n = 60;
  NestedPass pass(n);
  const Eigen::VectorXd point = Eigen::VectorXd::LinSpaced(n, -1.0, 1.0);
  const Eigen::VectorXd y_bar = Eigen::VectorXd::LinSpaced(n, 0.5, 2.0);
  Eigen::VectorXd x_bar(n);
  const auto run = [&] {
    pass(point, std::span<const double>(y_bar.data(), n), std::span<double>(x_bar.data(), n));
  };

  SECTION("a tape on its own") {
    CHECK(allocations_of(run) > 0);  // the first tape of the thread grows its storage
    CHECK(allocations_of(run) == 0);
    CHECK(allocations_of(run) == 0);
    CHECK(x_bar.isApprox(pass.expected(point, y_bar), 1e-13));
  }

  SECTION("inside a closure node's backward pass, as the implicit function theorem runs it") {
    Tape outer;
    std::array<Var, 2> inputs{Var(0.5), Var(-0.25)};
    std::array<Var, 1> output;
    const std::array<double, 1> value{0.0};
    // The node's input adjoints: x̄ of the nested pass at the point (θ₀, θ₁, 0, …), first two entries.
    outer.add_node(inputs, value, output, [&](std::span<const double> out, std::span<double> in) {
      Eigen::VectorXd at = Eigen::VectorXd::Zero(n);
      at.head<2>() << 0.5, -0.25;
      Eigen::VectorXd seed = Eigen::VectorXd::Constant(n, out[0]);
      Eigen::VectorXd bar(n);
      pass(at, std::span<const double>(seed.data(), n), std::span<double>(bar.data(), n));
      in[0] = bar(0);
      in[1] = bar(1);
    });
    const Var loss = 3.0 * output[0];
    outer.backward(loss);  // the first nested tape grows its storage, and the closure its vectors
    const double first = outer.adjoint(inputs[0]);
    Eigen::VectorXd at = Eigen::VectorXd::Zero(n);
    at.head<2>() << 0.5, -0.25;
    CHECK(first == Approx(pass.expected(at, Eigen::VectorXd::Constant(n, 3.0))(0)).epsilon(1e-13));

    // The tape allocates through operator new (the closure's Eigen vectors through malloc, which
    // this count does not see): the outer sweep and the nested tape allocate nothing the second time.
    CHECK(allocations_of([&] { outer.backward(loss); }) == 0);
    CHECK(outer.adjoint(inputs[0]) == first);
  }

  SECTION("a larger recording grows the kept storage once, a smaller one fits in it") {
    allocations_of(run);
    NestedPass larger(2 * n);
    const Eigen::VectorXd point2 = Eigen::VectorXd::LinSpaced(2 * n, -1.0, 1.0);
    const Eigen::VectorXd y_bar2 = Eigen::VectorXd::Ones(2 * n);
    Eigen::VectorXd x_bar2(2 * n);
    const auto run_larger = [&] {
      larger(point2, std::span<const double>(y_bar2.data(), 2 * n), std::span<double>(x_bar2.data(), 2 * n));
    };
    CHECK(allocations_of(run_larger) > 0);
    CHECK(allocations_of(run_larger) == 0);
    CHECK(allocations_of(run) == 0);
    CHECK(x_bar2.isApprox(larger.expected(point2, y_bar2), 1e-13));
  }

  SECTION("release_thread_storage frees the kept storage") {
    allocations_of(run);
    Tape::release_thread_storage();
    CHECK(allocations_of(run) > 0);
    CHECK(allocations_of(run) == 0);
  }
}

TEST_CASE("A new tape starts with the capacity of the last one destroyed, and an empty recording",
          "[tape][reuse]") {
  std::size_t capacity = 0;
  Var stale;
  {
    Tape tape;
    std::vector<Var> x(500);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = Var(double(i));
    Var sum = x[0];
    for (std::size_t i = 1; i < x.size(); ++i) sum = sum + x[i] * x[i];
    stale = sum;
    capacity = tape.capacity_bytes();
  }
  Tape tape;
  CHECK(tape.capacity_bytes() == capacity);
  CHECK(tape.size() == 0);
  CHECK(tape.bytes() == 0);
  // The previous tape's variables are foreign to this one, though it holds the same memory.
  CHECK_THROWS_AS(stale + 1.0, ift::TapeError);
  const Var a = 2.0;
  CHECK(tape.gradient(a * a, a) == 4.0);
}

TEST_CASE("Nested tapes on two threads keep their storage apart", "[tape][reuse][threads]") {
  // Each thread runs passes of its own size: if storage moved between threads, a pass would find
  // a buffer sized for the other thread and allocate, or read the other's adjoints.
  const auto worker = [](Eigen::Index n, long* steady, bool* correct) {
    NestedPass pass(n);
    const Eigen::VectorXd point = Eigen::VectorXd::LinSpaced(n, -0.5, 0.5);
    const Eigen::VectorXd y_bar = Eigen::VectorXd::Ones(n);
    Eigen::VectorXd x_bar(n);
    const auto run = [&] {
      pass(point, std::span<const double>(y_bar.data(), n), std::span<double>(x_bar.data(), n));
    };
    run();
    *steady = 0;
    *correct = true;
    for (int k = 0; k < 50; ++k) {
      *steady += allocations_of(run);
      *correct = *correct && x_bar.isApprox(pass.expected(point, y_bar), 1e-13);
    }
  };
  long steady_a = -1, steady_b = -1;
  bool correct_a = false, correct_b = false;
  std::thread a(worker, 40, &steady_a, &correct_a);
  std::thread b(worker, 90, &steady_b, &correct_b);
  a.join();
  b.join();
  CHECK(steady_a == 0);
  CHECK(steady_b == 0);
  CHECK(correct_a);
  CHECK(correct_b);
}
