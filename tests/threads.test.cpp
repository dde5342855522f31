// Eight threads solving and differentiating at once, each on its own tapes: root, fixed_point and
// minimize in forward (Dual) and reverse (Var) mode, and implicit with Krylov adjoints (matrix-free
// JVPs forward, VJPs on nested tapes in the reverse sweep). Every thread's results must be bitwise
// identical to the same work done serially: nothing is shared between threads but the atomic
// counter of tape ids. The ThreadSanitizer build (`tools/dev sanitize`) runs this program.

#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <exception>
#include <latch>
#include <thread>
#include <vector>

#include "ift/fixed_point.hpp"
#include "ift/implicit.hpp"
#include "ift/minimize.hpp"
#include "ift/root.hpp"

namespace {

constexpr int thread_count = 8;

using D = ift::Dual<double>;

// x² = 9θ: x = 3√θ, dx/dθ = 3/(2√θ).
const auto g = [](const auto& x, const auto& theta) { return x * x - 9.0 * theta; };
// x = cos(x)/2 + θ: dx/dθ = 1/(1 + sin(x)/2).
const auto F = [](const auto& x, const auto& theta) {
  using std::cos;
  return 0.5 * cos(x) + theta;
};
// L = (x − θ)²/2 + x⁴/4: x + x³ = θ, dx/dθ = 1/(1 + 3x²).
const auto L = [](const auto& x, const auto& theta) {
  return 0.5 * (x - theta) * (x - theta) + 0.25 * x * x * x * x;
};
// c(x, θ) = A x + sin(x)/10 − θ·1 on three unknowns: dx/dθ = J⁻¹1 with J = A + diag(cos x)/10.
const Eigen::Matrix3d A{{4.0, 1.0, 0.0}, {1.0, 3.0, 0.5}, {0.0, 0.5, 2.0}};
const auto c = [](const auto& x, const auto& theta) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  using std::sin;
  return Eigen::Matrix<S, 3, 1>(A.cast<S>() * x + 0.1 * x.unaryExpr([](const S& v) { return sin(v); }) -
                                Eigen::Matrix<S, 3, 1>::Constant(theta));
};

double parameter(int thread) { return 1.0 + 0.25 * thread; }

/// One thread's work, as the list of values and derivatives it computes.
std::vector<double> work(int thread) {
  const double theta = parameter(thread);
  std::vector<double> out;
  const auto forward = [&](const D& x) {
    out.push_back(x.a);
    out.push_back(x.v(0));
  };
  forward(ift::root(g, 1.0, D(theta, 1.0)).x);
  forward(ift::fixed_point(F, 0.0, D(theta, 1.0)).x);
  forward(ift::minimize(L, 0.0, D(theta, 1.0)).x);
  {
    ift::Tape tape;
    const ift::Var th = theta;
    const ift::Var x_root = ift::root(g, 1.0, th).x;
    const ift::Var x_fixed = ift::fixed_point(F, 0.0, th).x;
    const ift::Var x_min = ift::minimize(L, 0.0, th).x;
    for (const ift::Var& x : {x_root, x_fixed, x_min}) {
      out.push_back(x.value());
      out.push_back(tape.gradient(x, th));
    }
  }
  // A solution of c = 0 by plain Newton, then Krylov adjoints: GMRES forward, BiCGSTAB reverse.
  Eigen::Vector3d x = Eigen::Vector3d::Zero();
  for (int k = 0; k < 30; ++k) {
    const Eigen::Matrix3d J = A + Eigen::Matrix3d(0.1 * x.array().cos().matrix().asDiagonal());
    x -= J.partialPivLu().solve(c(x, theta));
  }
  const Eigen::Matrix<D, 3, 1> xf =
      ift::implicit(c, x, D(theta, 1.0), ift::Implicit<ift::GMRES>{.linear_solver = {.tol = 1e-13}});
  for (int i = 0; i < 3; ++i) forward(xf(i));
  ift::Tape tape;
  const ift::Var th = theta;
  const Eigen::Matrix<ift::Var, 3, 1> xr =
      ift::implicit(c, x, th, ift::Implicit<ift::BiCGSTAB>{.linear_solver = {.tol = 1e-13}});
  for (int i = 0; i < 3; ++i) {
    out.push_back(xr(i).value());
    out.push_back(tape.gradient(xr(i), th));
  }
  return out;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<std::uint64_t>(a[i]) != std::bit_cast<std::uint64_t>(b[i])) return false;
  return true;
}

}  // namespace

TEST_CASE("threads: eight threads at once give bitwise the serial results", "[threads]") {
  std::vector<std::vector<double>> serial(thread_count);
  for (int t = 0; t < thread_count; ++t) serial[t] = work(t);

  // The serial results are right: the analytic derivatives of every problem.
  for (int t = 0; t < thread_count; ++t) {
    using Catch::Matchers::WithinRel;
    const std::vector<double>& r = serial[t];
    REQUIRE(r.size() == 24);
    const double theta = parameter(t);
    CHECK_THAT(r[0], WithinRel(3.0 * std::sqrt(theta), 1e-12));
    CHECK_THAT(r[1], WithinRel(1.5 / std::sqrt(theta), 1e-10));
    CHECK_THAT(r[3], WithinRel(1.0 / (1.0 + 0.5 * std::sin(r[2])), 1e-8));
    CHECK_THAT(r[4] + r[4] * r[4] * r[4], WithinRel(theta, 1e-8));
    CHECK_THAT(r[5], WithinRel(1.0 / (1.0 + 3.0 * r[4] * r[4]), 1e-8));
    for (int k = 0; k < 6; ++k) CHECK_THAT(r[6 + k], WithinRel(r[k], 1e-12));  // reverse = forward
    const Eigen::Vector3d x(r[12], r[14], r[16]);
    const Eigen::Matrix3d J = A + Eigen::Matrix3d(0.1 * x.array().cos().matrix().asDiagonal());
    const Eigen::Vector3d dx = J.partialPivLu().solve(Eigen::Vector3d::Ones());
    for (int i = 0; i < 3; ++i) {
      CHECK_THAT(r[13 + 2 * i], WithinRel(dx(i), 1e-10));
      CHECK_THAT(r[19 + 2 * i], WithinRel(dx(i), 1e-10));
    }
  }

  // All threads start together and each repeats its work; every repetition must match.
  std::vector<std::vector<double>> parallel(thread_count);
  std::vector<int> mismatches(thread_count, 0);
  std::vector<std::exception_ptr> errors(thread_count);
  std::latch start(thread_count);
  {
    std::vector<std::thread> pool;
    for (int t = 0; t < thread_count; ++t) {
      pool.emplace_back([&, t] {
        try {
          start.arrive_and_wait();
          for (int repeat = 0; repeat < 20; ++repeat) {
            std::vector<double> result = work(t);
            if (repeat == 0)
              parallel[t] = std::move(result);
            else if (!bitwise_equal(result, parallel[t]))
              ++mismatches[t];
          }
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
    }
    for (std::thread& thread : pool) thread.join();
  }
  for (int t = 0; t < thread_count; ++t) {
    INFO("thread " << t);
    if (errors[t]) std::rethrow_exception(errors[t]);
    CHECK(bitwise_equal(parallel[t], serial[t]));
    CHECK(mismatches[t] == 0);
  }
}

TEST_CASE("threads: a Var of another thread's tape is a TapeError there, and both tapes stay usable",
          "[threads]") {
  ift::Tape tape;
  const ift::Var theta = 9.0;
  const ift::Var y = theta * theta;
  bool tape_error = false;
  double other_gradient = 0.0;
  std::thread other([&] {
    ift::Tape own;
    try {
      (void)ift::root(g, 1.0, theta);
    } catch (const ift::TapeError&) {
      tape_error = true;
    }
    const ift::Var a = 2.0;
    other_gradient = own.gradient(a * a * a, a);
  });
  other.join();
  CHECK(tape_error);
  CHECK(other_gradient == 12.0);
  CHECK(tape.gradient(y, theta) == 18.0);
}
