// SparseAnalysis: a pattern and symbolic factorization kept across Newton steps, the implicit rule and
// separate solves give bit-identical results to fresh ones, are made once, and are refused for
// Jacobians of another size or with entries outside the pattern.

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "ift/minimize.hpp"
#include "ift/root.hpp"
#include "ift/sparse.hpp"
#include "ift/var.hpp"
#include "support/broyden.hpp"

namespace {

using ift_test::broyden;

/// x* and ∇θ(wᵀx*) by reverse mode, Newton and the implicit rule both with `ls`.
template <class LS>
std::pair<Eigen::VectorXd, Eigen::VectorXd> solve(const LS& ls, const Eigen::VectorXd& theta) {
  const Eigen::Index n = theta.size();
  ift::Tape tape;
  const Eigen::VectorX<ift::Var> p = theta.cast<ift::Var>();
  const auto s = ift::root(broyden, Eigen::VectorXd::Constant(n, -1.0), p,
                           ift::Newton{.linear_solver = ls, .tol = 1e-12}, ift::Implicit<LS>{ls});
  ift::Var loss = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) loss += static_cast<double>(i % 5 - 2) * s.x(i);
  Eigen::VectorXd x(n);
  for (Eigen::Index i = 0; i < n; ++i) x(i) = s.x(i).value();
  return {x, tape.gradient(loss, p)};
}

/// Three problems of one structure: Broyden's system at three parameter vectors.
std::vector<Eigen::VectorXd> family(Eigen::Index n) {
  return {Eigen::VectorXd::LinSpaced(n, -0.1, 0.2), Eigen::VectorXd::LinSpaced(n, 0.3, -0.2),
          Eigen::VectorXd::Constant(n, 0.05)};
}

template <class LS>
void check_reuse(const std::string& label, Eigen::Index n, bool sparse = true) {
  INFO(label << ", n = " << n);
  const ift::SparseAnalysis analysis;
  LS kept{};
  kept.analysis = analysis;
  for (const Eigen::VectorXd& theta : family(n)) {
    const auto fresh = solve(LS{}, theta);
    const auto reused = solve(kept, theta);
    CHECK(reused.first == fresh.first);    // bit-identical x*
    CHECK(reused.second == fresh.second);  // and gradient
  }
  if (!sparse) {  // Auto below dense_below never looks at the pattern
    CHECK(analysis.patterns_detected() == 0);
    return;
  }
  CHECK(analysis.patterns_detected() == 1);
  REQUIRE(analysis.pattern() != nullptr);
  CHECK(analysis.pattern()->nonzeros() == 3 * n - 2);
  CHECK(analysis.coloring().colors == 3);
  CHECK(analysis.bandwidth().lower == 1);
  CHECK(analysis.bandwidth().upper == 1);
}

}  // namespace

TEST_CASE("a kept analysis gives bit-identical results and detects the pattern once", "[analysis]") {
  check_reuse<ift::BandedLU>("BandedLU", 30);
  check_reuse<ift::SparseLU>("SparseLU", 30);
  check_reuse<ift::Auto>("Auto (banded)", 60);
  check_reuse<ift::Auto>("Auto (dense below dense_below)", 7, false);
}

TEST_CASE("SparseLU makes one symbolic analysis per factorization alive at a time", "[analysis]") {
  const ift::SparseAnalysis analysis;
  const ift::SparseLU ls{.analysis = analysis};
  for (const Eigen::VectorXd& theta : family(25)) solve(ls, theta);
  // Every Newton step reuses the one analysis; the implicit rule's factorization, held by the tape
  // while its gradient runs, is made on it too, since no Newton step is alive then.
  CHECK(analysis.symbolic_analyses() == 1);
  // A factorization kept alive (here by a tape) while another is made needs a second analysis.
  ift::Tape tape;
  const Eigen::VectorXd theta = family(25)[0];
  const Eigen::VectorXd x0 = Eigen::VectorXd::Constant(25, -1.0);
  const Eigen::VectorX<ift::Var> p = theta.cast<ift::Var>();
  const auto kept =
      ift::root(broyden, x0, p, ift::Newton{.linear_solver = ls}, ift::Implicit<ift::SparseLU>{ls});
  CHECK(analysis.symbolic_analyses() == 1);
  ift::root(broyden, x0, theta, ift::Newton{.linear_solver = ls});
  CHECK(analysis.symbolic_analyses() == 2);
  CHECK(tape.gradient(kept.x(3), p).allFinite());
}

TEST_CASE("a pattern given up front is used without detection", "[analysis]") {
  const Eigen::Index n = 20;
  ift::SparsityPattern tridiagonal{n, n, {0}, {}};
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = std::max<Eigen::Index>(0, j - 1); i <= std::min(n - 1, j + 1); ++i)
      tridiagonal.inner.push_back(static_cast<int>(i));
    tridiagonal.outer.push_back(static_cast<int>(tridiagonal.inner.size()));
  }
  const ift::SparseAnalysis analysis(tridiagonal);
  const Eigen::VectorXd theta = family(n)[1];
  CHECK(solve(ift::BandedLU{.analysis = analysis}, theta) == solve(ift::BandedLU{}, theta));
  CHECK(analysis.patterns_detected() == 1);
  CHECK(*analysis.pattern() == tridiagonal);
}

TEST_CASE("a kept analysis refuses Jacobians it does not describe", "[analysis]") {
  const ift::SparseAnalysis analysis;
  solve(ift::BandedLU{.analysis = analysis}, family(12)[0]);
  CHECK_THROWS_AS(solve(ift::BandedLU{.analysis = analysis}, family(13)[0]), std::invalid_argument);
  CHECK_THROWS_AS(ift::SparseAnalysis(ift::SparsityPattern{2, 3, {0, 0, 0, 0}, {}}), std::invalid_argument);

  // A Hessian in closed form (minimize) with an entry outside the kept (diagonal) pattern.
  const auto objective = [](const auto& x, const auto& p) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    S sum = 0.0;
    for (Eigen::Index i = 0; i < x.size(); ++i) sum += (x(i) - p(i)) * (x(i) - p(i));
    return sum + x(0) * x(1);
  };
  ift::SparsityPattern diagonal{4, 4, {0, 1, 2, 3, 4}, {0, 1, 2, 3}};
  const ift::Implicit<ift::BandedLU> adjoint{{.analysis = ift::SparseAnalysis(diagonal)}};
  const Eigen::Vector4d theta(0.1, 0.2, 0.3, 0.4);
  ift::Tape tape;
  const Eigen::Vector4<ift::Var> p = theta.cast<ift::Var>();
  CHECK_THROWS_AS(ift::minimize(objective, Eigen::Vector4d::Zero(), p, ift::NewtonMin{}, adjoint),
                  std::invalid_argument);
}

namespace {

// Broyden's system with, when `far` is set, a term coupling xᵢ to x_{(i + n/2) mod n} where xᵢ < −0.1:
// off at x0 = 0, on at the solution (whose entries are near −0.5), so the pattern Newton detects at x0
// is not the pattern at x*. With `compare` set (and `far` not), it compares x₀ with a bound it never
// reaches: a branch on a value that does not change the pattern. Counts its runs on tracers (pattern
// detections) and on `Dual<double, 1>` (Jacobian-vector products: Auto's probe of a column at
// Newton's first step, and the check of Newton's pattern at x*).
struct Branchy {
  bool far = false;
  int* tracer_runs = nullptr;
  bool compare = false;
  int* product_runs = nullptr;
  template <class V, class P>
  auto operator()(const V& x, const P& theta) const {
    using S = typename V::Scalar;
    if constexpr (std::is_same_v<S, ift::Tracer>) ++*tracer_runs;
    if constexpr (std::is_same_v<S, ift::Dual<double, 1>>)
      if (product_runs) ++*product_runs;
    Eigen::VectorX<S> g = broyden(x, theta);
    const Eigen::Index n = x.size();
    if (far)
      for (Eigen::Index i = 0; i < n; ++i)
        if (x(i) < -0.1) g(i) += 0.05 * x((i + n / 2) % n);
    if (compare && x(0) > 1e6) g(0) += x(n - 1);
    return g;
  }
};

/// ∇θ(Σ x*) by reverse mode, with the default solver and rule, or (`own_solver`) with Newton run as a
/// user's solver, which hands no structure to the rule.
Eigen::VectorXd branchy_gradient(const Branchy& g, const Eigen::VectorXd& theta, bool own_solver) {
  ift::Tape tape;
  const Eigen::VectorX<ift::Var> p = theta.cast<ift::Var>();
  const Eigen::VectorXd x0 = Eigen::VectorXd::Zero(theta.size());
  const ift::Newton newton{.tol = 1e-12};
  const auto x = own_solver
                     ? ift::root(g, x0, p, [&](auto& f, const auto& x) { return newton.solve(f, x); }).x
                     : ift::root(g, x0, p, newton).x;
  return tape.gradient(x.sum(), p);
}

}  // namespace

TEST_CASE("the implicit rule reuses the pattern Newton detected, after checking it at the solution",
          "[analysis]") {
  const Eigen::VectorXd theta = Eigen::VectorXd::LinSpaced(60, -0.1, 0.2);
  int runs = 0;
  SECTION("same pattern at x0 and x*: one detection per solve, the same numbers as two") {
    const Branchy g{false, &runs};
    const Eigen::VectorXd reused = branchy_gradient(g, theta, false);
    CHECK(runs == 1);
    runs = 0;
    const Eigen::VectorXd fresh = branchy_gradient(g, theta, true);
    CHECK(runs == 2);
    CHECK(reused == fresh);
  }
  SECTION("a trace that read no value needs no check; one that did is checked at x*") {
    int products = 0;
    const Branchy smooth{false, &runs, false, &products};
    const Eigen::VectorXd unchecked = branchy_gradient(smooth, theta, false);
    CHECK(runs == 1);
    CHECK(products == 1);  // Auto's probe only
    runs = 0, products = 0;
    const Branchy compares{false, &runs, true, &products};
    const Eigen::VectorXd checked = branchy_gradient(compares, theta, false);
    CHECK(runs == 1);
    CHECK(products == 2);  // the probe and the check
    CHECK(checked == unchecked);
  }
  SECTION("the branches change between x0 and x*: the check rejects Newton's pattern") {
    const Branchy g{true, &runs};
    const Eigen::VectorXd reused = branchy_gradient(g, theta, false);
    CHECK(runs == 2);
    // The reference: the dense rule, which reads no pattern.
    ift::Tape tape;
    const Eigen::VectorX<ift::Var> p = theta.cast<ift::Var>();
    const auto x = ift::root(g, Eigen::VectorXd::Zero(60).eval(), p, ift::Newton{.tol = 1e-12},
                             ift::Implicit<ift::DenseLU>{})
                       .x;
    const Eigen::VectorXd dense = tape.gradient(x.sum(), p);
    CHECK((reused - dense).norm() <= 1e-10 * dense.norm());
  }
}
