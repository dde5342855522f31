// Tiny problems: a state and parameters of fixed size take a forward path with no heap allocation at
// all — the solve (plain iteration; Anderson's history is on the heap) and the implicit rule
// (∂c/∂x, its LU and the tangent solve in fixed-size matrices). Checked by counting every allocation
// of the process: malloc, calloc and realloc are replaced in this program (Eigen allocates with
// malloc, operator new calls it), and the derivatives against the seed-002 fixed point's published
// Jacobian.

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <vector>

#include <Eigen/Core>

#include "ift/fixed_point.hpp"
#include "ift/implicit.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define IFT_TEST_COUNTS_ALLOCATIONS 0  // the sanitizers own malloc
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define IFT_TEST_COUNTS_ALLOCATIONS 0
#endif
#endif
#ifndef IFT_TEST_COUNTS_ALLOCATIONS
#define IFT_TEST_COUNTS_ALLOCATIONS 1
#endif

namespace {
std::atomic<long> allocations{0};
}  // namespace

#if IFT_TEST_COUNTS_ALLOCATIONS
// glibc's allocator under its own names; the definitions below take the public ones for the whole
// program, so every allocation passes through the counter.
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);

void* malloc(std::size_t size) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, size);
}
}
#endif

namespace {

using Catch::Matchers::WithinAbs;
using D2 = ift::Dual<double, 2>;

/// The number of allocations made by `f()`.
template <class Fn>
long allocations_in(Fn&& f) {
  const long before = allocations.load();
  f();
  return allocations.load() - before;
}

template <class T>
struct Para {
  T alpha;
  T beta;
};

/// Seed 002: x = F(x; α, β) = (√(α − x₀x₁), √((57 − x₁)/(β F₀))), fixed point (2, 3) at α = 10,
/// β = 3, where ∂x/∂α = (37, −27)/205 and ∂x/∂β = (36, −126)/205.
const auto seed_map = [](const auto& x, const auto& p) {
  using std::sqrt;
  using S = typename std::decay_t<decltype(x)>::Scalar;
  const S f0 = sqrt(p.alpha - x(0) * x(1));
  return Eigen::Matrix<S, 2, 1>(f0, sqrt((57 - x(1)) / (p.beta * f0)));
};

const Para<D2> seed_theta{D2(10.0, Eigen::Vector2d(1.0, 0.0)), D2(3.0, Eigen::Vector2d(0.0, 1.0))};
const Eigen::Vector2d seed_start(1.5, 3.5);

void check_seed_jacobian(const Eigen::Matrix<D2, 2, 1>& x) {
  CHECK_THAT(x(0).a, WithinAbs(2.0, 1e-9));
  CHECK_THAT(x(1).a, WithinAbs(3.0, 1e-9));
  CHECK_THAT(x(0).v(0), WithinAbs(37.0 / 205, 1e-9));
  CHECK_THAT(x(1).v(0), WithinAbs(-27.0 / 205, 1e-9));
  CHECK_THAT(x(0).v(1), WithinAbs(36.0 / 205, 1e-9));
  CHECK_THAT(x(1).v(1), WithinAbs(-126.0 / 205, 1e-9));
}

/// Runs `solve()` once to warm up, then checks that a second run allocates nothing.
template <class Solve>
void check_no_allocation(Solve&& solve) {
  solve();
  const long count = allocations_in(solve);
  if (IFT_TEST_COUNTS_ALLOCATIONS) CHECK(count == 0);
}

}  // namespace

TEST_CASE("tiny problems: the seed-002 Jacobian in one forward pass, with no heap", "[implicit][tiny]") {
  SECTION("plain iteration") {
    Eigen::Matrix<D2, 2, 1> x;
    check_no_allocation([&] { x = ift::fixed_point(seed_map, seed_start, seed_theta, ift::Iteration{}).x; });
    check_seed_jacobian(x);
  }
  SECTION("the default solver (Anderson): the rule adds no heap to the solve's") {
    Eigen::Matrix<D2, 2, 1> x;
    const long solve_only =
        allocations_in([&] { (void)ift::fixed_point(seed_map, seed_start, ift::value(seed_theta)); });
    const long with_rule = allocations_in([&] { x = ift::fixed_point(seed_map, seed_start, seed_theta).x; });
    if (IFT_TEST_COUNTS_ALLOCATIONS) CHECK(with_rule == solve_only);
    check_seed_jacobian(x);
  }
  SECTION("ift::implicit on the answer, with DenseQR") {
    Eigen::Matrix<D2, 2, 1> x;
    const auto c = [](const auto& y, const auto& p) { return (seed_map(y, p) - y).eval(); };
    check_no_allocation(
        [&] { x = ift::implicit(c, Eigen::Vector2d(2.0, 3.0), seed_theta, ift::Implicit<ift::DenseQR>{}); });
    check_seed_jacobian(x);
  }
}

TEST_CASE("tiny problems: a scalar state and std::array parameters, with no heap", "[implicit][tiny]") {
  // x = θ₀ cos x + θ₁: dx/dθ₀ = cos x / (1 + θ₀ sin x), dx/dθ₁ = 1 / (1 + θ₀ sin x).
  const auto map = [](const auto& x, const auto& theta) {
    using std::cos;
    return theta[0] * cos(x) + theta[1];
  };
  const std::array<D2, 2> theta{D2(0.5, Eigen::Vector2d(1.0, 0.0)), D2(0.2, Eigen::Vector2d(0.0, 1.0))};
  D2 x;
  check_no_allocation([&] { x = ift::fixed_point(map, 0.0, theta, ift::Iteration{.tol = 1e-13}).x; });
  const double denominator = 1.0 + 0.5 * std::sin(x.a);
  CHECK_THAT(x.a, WithinAbs(0.5 * std::cos(x.a) + 0.2, 1e-12));
  CHECK_THAT(x.v(0), WithinAbs(std::cos(x.a) / denominator, 1e-10));
  CHECK_THAT(x.v(1), WithinAbs(1.0 / denominator, 1e-10));
}

TEST_CASE("tiny problems: a singular Jacobian on the fixed-size path is an error", "[implicit][tiny]") {
  // c = (x₀ − θ, 2x₀ − 2θ): ∂c/∂x = [1 0; 2 0] has rank 1.
  const auto c = [](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    return Eigen::Matrix<S, 2, 1>(x(0) - theta, 2.0 * x(0) - 2.0 * theta);
  };
  CHECK_THROWS_AS(ift::implicit(c, Eigen::Vector2d(1.0, 0.0), ift::Dual<double, 1>(1.0, 1.0)),
                  ift::SingularJacobianError);
}

namespace {

// Auto's factorization of a J of fixed size n ≤ 4 (its closed-form inverse) against the pivoted LU.
template <int n>
void check_inverse_factor() {
  Eigen::Matrix<double, n, n> J;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      J(i, j) = std::cos(1.0 + 2.0 * i + 3.0 * j * j) + (i == (j + 1) % n ? 2.0 : 0.0);
  const Eigen::Matrix<double, n, 3> b = Eigen::Matrix<double, n, 3>::Random();
  const auto f = ift::Auto{}.factor(J);
  const Eigen::Matrix<double, n, 3> x = J.partialPivLu().solve(b), xt = J.transpose().partialPivLu().solve(b);
  CHECK((f.solve(b) - x).norm() <= 1e-13 * x.norm());
  CHECK((f.solve_transposed(b) - xt).norm() <= 1e-13 * xt.norm());
  Eigen::Matrix<double, n, n> bad = J;
  bad(n - 1, 0) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(ift::Auto{}.factor(bad), ift::SingularJacobianError);
  bad = J;
  bad.row(n - 1) = bad.row(0) * (1.0 + std::numeric_limits<double>::epsilon());
  if (n > 1) CHECK_THROWS_AS(ift::Auto{}.factor(bad), ift::SingularJacobianError);
  CHECK_THROWS_AS(ift::Auto{}.factor(Eigen::Matrix<double, n, n>::Zero().eval()), ift::SingularJacobianError);
}

}  // namespace

TEST_CASE("tiny problems: Auto factorizes a fixed-size J of up to 4 x 4 by its inverse", "[implicit][tiny]") {
  check_inverse_factor<1>();
  check_inverse_factor<2>();
  check_inverse_factor<3>();
  check_inverse_factor<4>();
}

TEST_CASE("tiny problems: reverse mode keeps the rule in fixed-size storage", "[implicit][tiny]") {
  // One reverse sweep per output gives a row of the seed's Jacobian. On the fixed-size path the rule's
  // only heap is the list of θ's tape inputs; ∂c/∂θ comes from a forward pass, so no nested tape is
  // recorded.
  ift::Tape tape;
  const Para<ift::Var> theta{10.0, 3.0};
  const auto solve = [&] { return ift::fixed_point(seed_map, seed_start, theta, ift::Iteration{}).x; };
  Eigen::Matrix<ift::Var, 2, 1> x = solve();
  CHECK_THAT(x(0).value(), WithinAbs(2.0, 1e-9));
  CHECK_THAT(x(1).value(), WithinAbs(3.0, 1e-9));
  const Para<double> row0 = tape.gradient(x(0), theta), row1 = tape.gradient(x(1), theta);
  CHECK_THAT(row0.alpha, WithinAbs(37.0 / 205, 1e-9));
  CHECK_THAT(row0.beta, WithinAbs(36.0 / 205, 1e-9));
  CHECK_THAT(row1.alpha, WithinAbs(-27.0 / 205, 1e-9));
  CHECK_THAT(row1.beta, WithinAbs(-126.0 / 205, 1e-9));
  // The same numbers as the general path (a run-time-size state).
  const auto c = [](const auto& y, const auto& p) {
    using S = typename std::decay_t<decltype(y)>::Scalar;
    const Eigen::Matrix<S, 2, 1> y2 = y;
    return Eigen::Matrix<S, Eigen::Dynamic, 1>(seed_map(y2, p) - y2);
  };
  const Eigen::Matrix<ift::Var, Eigen::Dynamic, 1> general =
      ift::implicit(c, Eigen::VectorXd(x.unaryExpr([](const ift::Var& v) { return v.value(); })), theta);
  const Para<double> general_row1 = tape.gradient(general(1), theta);
  CHECK_THAT(general_row1.alpha, WithinAbs(row1.alpha, 1e-14));
  CHECK_THAT(general_row1.beta, WithinAbs(row1.beta, 1e-14));
  // Recording the node: the inputs' list only (tape storage is reused once it has grown).
  x = solve();
  const long recording = allocations_in([&] { x = solve(); });
  if (IFT_TEST_COUNTS_ALLOCATIONS) CHECK(recording <= 1);
}

TEST_CASE("tiny problems: the counter sees the heap that Eigen and operator new use", "[tiny]") {
  Eigen::VectorXd v;
  const long eigen = allocations_in([&] { v.resize(1000); });
  std::vector<int>* p = nullptr;
  const long standard = allocations_in([&] { p = new std::vector<int>(10); });
  delete p;
  if (IFT_TEST_COUNTS_ALLOCATIONS) {
    CHECK(eigen == 1);
    CHECK(standard == 2);
  }
}
