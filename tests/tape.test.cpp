// ift::Tape: nesting, clear() and reuse, memory accounting, custom nodes, every TapeError path,
// threads, and a long chain.

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ift/var.hpp"
#include "support/counting_allocator.hpp"

using Catch::Matchers::Contains;
using ift::Tape;
using ift::TapeError;
using ift::Var;

// Allocations are counted to show that re-recording allocates nothing.
using ift_test::allocations;

namespace {

const char* const foreign_message = "Var used on a tape that is not its own, or recorded before clear()";
const char* const no_tape_message = "no active ift::Tape";

/// f(x) = Σᵢ sin(xᵢ)·xᵢ₊₁ + xᵢ²/(1 + xᵢ₊₁²), with its analytic gradient.
template <class S>
S chain_function(const std::vector<S>& x) {
  using std::sin;
  S sum = 0.0 * x[0];
  for (std::size_t i = 0; i + 1 < x.size(); ++i)
    sum += sin(x[i]) * x[i + 1] + x[i] * x[i] / (1.0 + x[i + 1] * x[i + 1]);
  return sum;
}
std::vector<double> chain_gradient(const std::vector<double>& x) {
  std::vector<double> g(x.size(), 0.0);
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double d = 1.0 + x[i + 1] * x[i + 1];
    g[i] += std::cos(x[i]) * x[i + 1] + 2.0 * x[i] / d;
    g[i + 1] += std::sin(x[i]) - x[i] * x[i] * 2.0 * x[i + 1] / (d * d);
  }
  return g;
}

}  // namespace

TEST_CASE("The active tape is a per-thread stack", "[tape]") {
  REQUIRE(Tape::active() == nullptr);
  {
    Tape outer;
    CHECK(Tape::active() == &outer);
    {
      Tape inner;
      CHECK(Tape::active() == &inner);
    }
    CHECK(Tape::active() == &outer);
  }
  CHECK(Tape::active() == nullptr);

  // Destroyed out of order, a tape is unlinked: nothing restores a dangling pointer later.
  auto first = std::make_unique<Tape>();
  auto second = std::make_unique<Tape>();
  first.reset();
  CHECK(Tape::active() == second.get());
  second.reset();
  CHECK(Tape::active() == nullptr);
}

TEST_CASE("Nested tapes record independently", "[tape]") {
  Tape outer;
  const Var x = 1.5;
  const Var y = x * x;
  const std::size_t outer_size = outer.size();
  double inner_derivative = 0.0;
  {
    Tape inner;
    const Var z = ift::value(y);  // a new independent variable with y's value
    inner_derivative = inner.gradient(sin(z), z);
    CHECK(inner.size() == 2);
    CHECK_THROWS_WITH(x * 2.0, Contains(foreign_message));  // an outer Var on the inner tape
    CHECK_THROWS_WITH(inner.gradient(sin(z), x), Contains(foreign_message));
  }
  CHECK(inner_derivative == Approx(std::cos(2.25)));
  CHECK(outer.size() == outer_size);  // nothing leaked onto the outer tape
  const Var w = y * x;                // the outer tape records again
  CHECK(outer.gradient(w, x) == Approx(3.0 * 2.25));
}

TEST_CASE("bytes() counts the recording and drops after clear()", "[tape]") {
  Tape tape;
  CHECK(tape.bytes() == 0);
  const Var x = 1.0, y = 2.0;
  CHECK(tape.bytes() == 2);  // an independent variable: its statement's kind, one byte
  const Var p = x * y;
  CHECK(tape.bytes() == 3 + 2 * 12);  // a product: kind + two (index, partial) pairs
  const Var s = sin(p);
  CHECK(tape.bytes() == 4 + 3 * 12);
  const Var t = s + x;
  CHECK(tape.bytes() == 5 + 3 * 12 + 2 * 4);  // a sum: kind + two indices, the partials are implied
  const Var u = 1.0 - t;
  CHECK(tape.bytes() == 6 + 3 * 12 + 3 * 4);
  CHECK(tape.size() == 6);
  CHECK(u.value() == Approx(-std::sin(2.0)));

  tape.clear();
  CHECK(tape.bytes() == 0);
  CHECK(tape.size() == 0);
}

TEST_CASE("Re-recording after clear() reuses the memory: no allocation at all", "[tape]") {
  std::vector<double> x0(200);
  for (std::size_t i = 0; i < x0.size(); ++i) x0[i] = 0.1 * static_cast<double>(i) - 3.0;
  const std::vector<double> expected = chain_gradient(x0);

  Tape tape;
  std::vector<Var> x(x0.size());
  std::vector<double> g(x0.size());
  const auto record_and_differentiate = [&] {
    for (std::size_t i = 0; i < x0.size(); ++i) x[i] = x0[i];
    const Var y = chain_function(x);
    tape.backward(y);
    for (std::size_t i = 0; i < x0.size(); ++i) g[i] = tape.adjoint(x[i]);
    return y.value();
  };
  const double value = record_and_differentiate();
  const std::size_t bytes = tape.bytes();
  const std::size_t capacity = tape.capacity_bytes();
  CHECK(bytes > 0);
  CHECK(capacity >= bytes);

  for (int repeat = 0; repeat < 3; ++repeat) {
    tape.clear();
    const long before = allocations;
    const double again = record_and_differentiate();
    const long allocated = allocations - before;
    CHECK(allocated == 0);
    CHECK(again == value);
    CHECK(tape.bytes() == bytes);
    CHECK(tape.capacity_bytes() == capacity);
  }
  for (std::size_t i = 0; i < x0.size(); ++i) CHECK(g[i] == Approx(expected[i]).epsilon(1e-12));

  // gradient() reuses the adjoint buffer too (after its first growth).
  const Var y = chain_function(x);
  g[0] = tape.gradient(y, x[0]);
  const long before = allocations;
  for (std::size_t i = 0; i < 20; ++i) g[i] = tape.gradient(y, x[i]);
  CHECK(allocations - before == 0);
  CHECK(g[7] == Approx(expected[7]).epsilon(1e-12));
}

TEST_CASE("Vars recorded before clear() are stale", "[tape][errors]") {
  Tape tape;
  const Var x = 2.0;
  const Var y = x * x;
  tape.clear();
  const Var fresh = 1.0;
  CHECK_THROWS_AS(x * fresh, TapeError);
  CHECK_THROWS_WITH(x * fresh, Contains(foreign_message));
  CHECK_THROWS_WITH(sin(x), Contains(foreign_message));
  CHECK_THROWS_WITH(tape.gradient(y, fresh), Contains(foreign_message));
  CHECK_THROWS_WITH(tape.gradient(fresh, x), Contains(foreign_message));
  CHECK_THROWS_WITH(tape.adjoint(x), Contains(foreign_message));
  CHECK(tape.size() == 1);  // the failed operations wrote nothing
  CHECK(tape.gradient(fresh * fresh, fresh) == 2.0);
}

TEST_CASE("Every misuse is a TapeError that leaves the tape intact", "[tape][errors]") {
  SECTION("a Var needs an active tape") {
    REQUIRE(Tape::active() == nullptr);
    CHECK_THROWS_AS(Var(1.0), TapeError);
    CHECK_THROWS_WITH(Var(1.0), Contains(no_tape_message));
    const Var c = Var::constant(2.0);  // constants need no tape
    CHECK((c * 3.0).value() == 6.0);
    CHECK_THROWS_WITH(ift::add_node(std::span<const Var>(), std::span<const double>(), std::span<Var>(),
                                    [](std::span<const double>, std::span<double>) {}),
                      Contains(no_tape_message));
  }
  SECTION("an operation on a variable when no tape is active") {
    Var x;
    {
      Tape tape;
      x = 3.0;
    }
    CHECK_THROWS_WITH(x + 1.0, Contains(no_tape_message));
    CHECK_THROWS_WITH(exp(x), Contains(no_tape_message));
  }
  SECTION("a Var from a sibling tape") {
    Var x;
    {
      Tape first;
      x = 3.0;
    }
    Tape second;
    const Var y = 1.0;
    CHECK_THROWS_WITH(x * y, Contains(foreign_message));
    CHECK_THROWS_WITH(y * x, Contains(foreign_message));
    CHECK_THROWS_WITH(pow(y, x), Contains(foreign_message));
    CHECK_THROWS_WITH(second.gradient(y, x), Contains(foreign_message));
    CHECK(second.size() == 1);
    CHECK(second.gradient(y * y * y, y) == 3.0);
  }
  SECTION("an inner Var after its nested tape is gone") {
    Tape outer;
    const Var x = 2.0;
    Var leaked;
    {
      Tape inner;
      leaked = 5.0;
    }
    CHECK_THROWS_WITH(x + leaked, Contains(foreign_message));
    CHECK_THROWS_WITH(outer.record(1.0, std::array<Var, 1>{leaked}, std::array<double, 1>{1.0}),
                      Contains(foreign_message));
    CHECK(outer.size() == 1);
  }
  SECTION("the Var of an outer tape inside a nested one, in a custom node") {
    Tape outer;
    const Var x = 2.0;
    Tape inner;
    std::array<Var, 1> out;
    CHECK_THROWS_WITH(inner.add_node(std::array<Var, 1>{x}, std::array<double, 1>{1.0}, out,
                                     [](std::span<const double>, std::span<double>) {}),
                      Contains(foreign_message));
    CHECK(inner.size() == 0);
    CHECK(inner.bytes() == 0);
  }
}

TEST_CASE("record(): a custom node with precomputed partials", "[tape][custom]") {
  Tape tape;
  const Var x0 = 1.5, x1 = -2.0;
  // y = x0·x1 computed outside the tape, with its partials (x1, x0).
  const std::array<Var, 3> inputs{x0, x1, Var::constant(4.0)};
  const std::array<double, 3> partials{x1.value(), x0.value(), 100.0};  // the constant's partial is ignored
  const Var y = tape.record(x0.value() * x1.value(), inputs, partials);
  const Var z = sin(y) + y * x0;
  const auto [g0, g1] = tape.gradient(z, x0, x1);
  const Var y_ref = x0 * x1;
  const Var z_ref = sin(y_ref) + y_ref * x0;
  const auto [r0, r1] = tape.gradient(z_ref, x0, x1);
  CHECK(g0 == Approx(r0));
  CHECK(g1 == Approx(r1));
  CHECK(g0 == Approx(std::cos(-3.0) * -2.0 + 2.0 * 1.5 * -2.0));

  // Many inputs: longer than one statement holds, recorded as a chain.
  std::vector<Var> many;
  std::vector<double> weights;
  double weighted = 0.0;
  for (int k = 0; k < 600; ++k) {
    many.push_back(k % 7 == 3 ? Var::constant(2.0) : Var(0.01 * k));
    weights.push_back(0.5 + k);
    weighted += weights.back() * many.back().value();
  }
  const Var big = tape.record(weighted, many, weights);
  const Var squared = big * big;
  tape.backward(squared);
  for (int k = 0; k < 600; ++k) {
    INFO("input " << k);
    CHECK(tape.adjoint(many[k]) == Approx(k % 7 == 3 ? 0.0 : 2.0 * weighted * weights[k]));
  }

  const std::array<Var, 1> only_constants{Var::constant(1.0)};
  const std::array<double, 1> one{1.0};
  CHECK(tape.record(7.0, only_constants, one).is_constant());
  const std::array<double, 2> too_few{1.0, 2.0};
  CHECK_THROWS_AS(tape.record(1.0, inputs, too_few), std::invalid_argument);
}

TEST_CASE("add_node(): a closure node wraps an external function", "[tape][custom]") {
  Tape tape;
  const double a = 0.8, b = 1.7;
  const Var x0 = a, x1 = b;
  int calls = 0;

  // y = (x0·x1, sin x0), computed outside the tape; the closure returns Jᵀ·ȳ.
  std::array<Var, 2> y;
  const auto external = [&](std::span<const Var> in, std::span<Var> out) {
    const double v0 = in[0].value(), v1 = in[1].value();
    const std::array<double, 2> values{v0 * v1, std::sin(v0)};
    tape.add_node(in, values, out, [v0, v1, &calls](std::span<const double> ybar, std::span<double> xbar) {
      ++calls;
      REQUIRE(ybar.size() == 2);
      REQUIRE(xbar.size() == 2);
      CHECK(xbar[0] == 0.0);             // the input adjoints arrive zeroed
      CHECK(Tape::active() == nullptr);  // and the closure cannot record on the swept tape
      xbar[0] = ybar[0] * v1 + ybar[1] * std::cos(v0);
      xbar[1] = ybar[0] * v0;
    });
  };
  external(std::array<Var, 2>{x0, x1}, y);
  CHECK(y[0].value() == Approx(a * b));
  CHECK(y[1].value() == Approx(std::sin(a)));

  const Var z = y[0] + 2.0 * y[1] * x1;
  const auto [g0, g1] = tape.gradient(z, x0, x1);
  CHECK(calls == 1);
  CHECK(g0 == Approx(b + 2.0 * std::cos(a) * b));
  CHECK(g1 == Approx(a + 2.0 * std::sin(a)));

  // One output alone: only its adjoint is seeded, whatever an earlier sweep left behind.
  CHECK(tape.gradient(y[1], x0) == Approx(std::cos(a)));
  CHECK(tape.gradient(y[0], x0) == Approx(b));
  CHECK(tape.gradient(y[0], x1) == Approx(a));
  CHECK(calls == 4);
  // A sweep that does not reach the outputs with a nonzero adjoint does not call the closure.
  const Var unrelated = x1 * 3.0;
  CHECK(tape.gradient(unrelated, x1) == 3.0);
  CHECK(calls == 4);
  CHECK(tape.gradient(z, y[1]) == Approx(2.0 * b));
  CHECK(calls == 5);

  // Inputs and outputs may share storage.
  std::array<Var, 2> inout{x0, x1};
  external(inout, inout);
  CHECK(tape.gradient(inout[0] * inout[1], x1) == Approx(a * std::sin(a)));  // x0·x1·sin x0
}

TEST_CASE("add_node(): constant inputs, move-only closures, nested tapes, lifetime", "[tape][custom]") {
  auto alive = std::make_shared<int>(0);
  {
    Tape tape;
    const Var x = 1.2;
    std::array<Var, 1> y;
    // y = x³ differentiated by a nested reverse pass in the backward closure (the implicit rule's shape).
    auto owned = std::make_unique<double>(3.0);  // move-only capture
    tape.add_node(std::array<Var, 2>{Var::constant(9.0), x}, std::array<double, 1>{std::pow(1.2, 3.0)}, y,
                  [power = std::move(owned), keep = alive, x0 = x.value()](std::span<const double> ybar,
                                                                           std::span<double> xbar) {
                    REQUIRE(xbar.size() == 2);  // the constant input has a slot too; it is ignored
                    Tape nested;
                    const Var u = x0;
                    xbar[0] = 123.0;
                    xbar[1] = ybar[0] * nested.gradient(pow(u, *power), u);
                  });
    CHECK(alive.use_count() == 2);  // the closure is stored in the tape
    CHECK(tape.gradient(y[0] * 2.0, x) == Approx(2.0 * 3.0 * 1.44));
    CHECK(Tape::active() == &tape);  // restored after the closure's nested tape
    tape.clear();
    CHECK(alive.use_count() == 1);  // clear() destroys closures

    const Var x2 = 2.0;
    std::array<Var, 1> y2;
    ift::add_node(
        std::array<Var, 1>{x2}, std::array<double, 1>{4.0}, y2,
        [keep = alive](std::span<const double> ybar, std::span<double> xbar) { xbar[0] = 4.0 * ybar[0]; });
    CHECK(alive.use_count() == 2);
    CHECK(tape.gradient(y2[0], x2) == 4.0);

    std::array<Var, 2> constant_outputs;
    tape.add_node(std::array<Var, 1>{Var::constant(1.0)}, std::array<double, 2>{5.0, 6.0}, constant_outputs,
                  [](std::span<const double>, std::span<double>) { FAIL("never called"); });
    CHECK(constant_outputs[0].is_constant());
    CHECK(constant_outputs[1].value() == 6.0);
    CHECK_THROWS_AS(tape.add_node(std::array<Var, 1>{x2}, std::array<double, 1>{1.0}, constant_outputs,
                                  [](std::span<const double>, std::span<double>) {}),
                    std::invalid_argument);
  }
  CHECK(alive.use_count() == 1);  // the destructor destroys closures
}

TEST_CASE("A closure that misuses its own tape gets a TapeError; the tape stays usable",
          "[tape][custom][errors]") {
  Tape tape;
  const Var x = 2.0;
  std::array<Var, 1> y;
  tape.add_node(std::array<Var, 1>{x}, std::array<double, 1>{4.0}, y,
                [&tape, &y](std::span<const double>, std::span<double>) { (void)tape.gradient(y[0], y[0]); });
  CHECK_THROWS_WITH(tape.gradient(y[0], x), Contains("during the same tape's sweep"));

  std::array<Var, 1> y2;
  tape.add_node(std::array<Var, 1>{x}, std::array<double, 1>{4.0}, y2,
                [&x](std::span<const double>, std::span<double>) { (void)(x * 2.0); });
  CHECK_THROWS_WITH(tape.gradient(y2[0], x), Contains(no_tape_message));

  std::array<Var, 1> y3;
  tape.add_node(std::array<Var, 1>{x}, std::array<double, 1>{4.0}, y3,
                [&tape](std::span<const double>, std::span<double>) { tape.clear(); });
  CHECK_THROWS_AS(tape.gradient(y3[0], x), TapeError);

  CHECK(Tape::active() == &tape);
  const Var z = x * x * x;
  CHECK(tape.gradient(z, x) == 12.0);
}

TEST_CASE("Eight threads record and differentiate on their own tapes at once", "[tape][threads]") {
  constexpr int threads = 8;
  constexpr int n = 300;
  std::vector<std::vector<double>> points(threads), gradients(threads);
  std::vector<int> active_ok(threads, 0);
  for (int t = 0; t < threads; ++t) {
    points[t].resize(n);
    for (int i = 0; i < n; ++i) points[t][i] = std::sin(0.37 * i + t);
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Tape tape;
      active_ok[t] = Tape::active() == &tape;
      for (int repeat = 0; repeat < 20; ++repeat) {
        tape.clear();
        std::vector<Var> x(points[t].begin(), points[t].end());
        const Var y = chain_function(x);
        tape.backward(y);
        gradients[t].assign(n, 0.0);
        for (int i = 0; i < n; ++i) gradients[t][i] = tape.adjoint(x[i]);
      }
    });
  }
  for (auto& th : pool) th.join();
  CHECK(Tape::active() == nullptr);  // the main thread has no tape
  for (int t = 0; t < threads; ++t) {
    CHECK(active_ok[t] == 1);
    const std::vector<double> expected = chain_gradient(points[t]);
    for (int i = 0; i < n; ++i) REQUIRE(gradients[t][i] == Approx(expected[i]).epsilon(1e-12));
  }
}

TEST_CASE("A chain of a million additions needs no deep stack", "[tape]") {
  constexpr int n = 1'000'000;
  Tape tape;
  const Var x = 0.5;
  Var y = x;
  for (int k = 0; k < n; ++k) y = y + x;
  CHECK(y.value() == Approx(0.5 * (n + 1)));
  CHECK(tape.size() == n + 1);
  CHECK(tape.bytes() == static_cast<std::size_t>(n + 1) + static_cast<std::size_t>(n) * 8);
  CHECK(tape.gradient(y, x) == static_cast<double>(n + 1));

  Var z = x;
  for (int k = 0; k < n; ++k) z = sin(z);  // a million nested statements
  double expected = 1.0, v = 0.5;
  for (int k = 0; k < n; ++k) {
    expected *= std::cos(v);
    v = std::sin(v);
  }
  CHECK(tape.gradient(z, x) == Approx(expected).epsilon(1e-9));
}
