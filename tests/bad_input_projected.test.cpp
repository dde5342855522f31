// The bad-input matrix of minimize_projected (ProjectedGradient, ProjectedNewton) and
// minimize_composite (ProximalGradient), at every scalar mode with a tape active: non-finite θ or x0,
// invalid solver options, a projection or proximal map that changes the length of its argument,
// failed solves (out of iterations, an unbounded objective, a map that returns NaN). Each is a typed
// error naming the entry point, or with throw_on_failure = false a status, derivatives_exact == false
// and the derivatives the contract gives (early-stop ones out of iterations, NaN where a value is not
// finite); the recording made before the call stays intact.

#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "ift/minimize_composite.hpp"
#include "ift/minimize_projected.hpp"
#include "ift/projections.hpp"
#include "ift/proximal.hpp"
#include "support/bad_input.hpp"

namespace {

using namespace bad_input;  // check_error, in_every_mode, is_double_v, not_a_number, infinity
using Eigen::VectorXd;

// min ½‖x − θ·1‖² over the box [0, 1]³ (projected), or plus 0.1‖x‖₁ (composite); at θ = 0.6 the
// solution is interior, x = (0.6, 0.6, 0.6), resp. 0.5 per coordinate.
const auto distance = [](const auto& x, const auto& th) { return 0.5 * (x.array() - th).square().sum(); };
const auto unit_box = [](const auto& y, const auto&) { return ift::project_box(y, 0.0, 1.0); };
const auto l1 = [](const auto& y, const auto& eta, const auto&) { return ift::prox_l1(y, 0.1 * eta); };
const VectorXd x0 = VectorXd::Zero(3);

/// x's derivative in θ: the tangent for `Dual`, the adjoint on the active tape for `Var`.
template <class S>
double derivative(const S& x, const S& theta) {
  if constexpr (ift::is_var_v<S>)
    return ift::Tape::active()->gradient(x, theta);
  else
    return x.v(0);
}

/// Runs `solve(θ, x0)` for each entry point and its built-in solvers, `options` applied to each
/// solver; `solve` gets the entry point's name and a callable taking (θ, x0).
template <class Options, class Check>
void each_solver(const Options& options, Check&& check) {
  check("ift::minimize_projected", "ProjectedGradient", [&](const auto& th, const VectorXd& start) {
    ift::ProjectedGradient solver{};
    options(solver);
    return ift::minimize_projected(distance, unit_box, start, th, solver);
  });
  check("ift::minimize_projected", "ProjectedNewton", [&](const auto& th, const VectorXd& start) {
    ift::ProjectedNewton solver{};
    options(solver);
    return ift::minimize_projected(distance, unit_box, start, th, solver);
  });
  check("ift::minimize_composite", "ProximalGradient", [&](const auto& th, const VectorXd& start) {
    ift::ProximalGradient solver{};
    options(solver);
    return ift::minimize_composite(distance, l1, start, th, solver);
  });
}

const auto defaults = [](auto&) {};

}  // namespace

TEST_CASE("bad input minimize_projected and minimize_composite: NaN or Inf in theta or x0",
          "[bad_input][minimize_projected][minimize_composite]") {
  in_every_mode(0.6, [](const auto& t) {
    using S = std::decay_t<decltype(t)>;
    each_solver(defaults, [&](const char* entry, const char* solver, const auto& solve) {
      for (const double v : {not_a_number, infinity, -infinity}) {
        INFO(solver << ", bad entry " << v);
        check_error<std::invalid_argument>([&] { (void)solve(S(v), x0); }, {entry, "theta holds NaN or Inf"});
        VectorXd start = x0;
        start(1) = v;
        check_error<std::invalid_argument>([&] { (void)solve(t, start); }, {entry, "x0 holds NaN or Inf"});
      }
    });
  });
}

TEST_CASE("bad input minimize_projected and minimize_composite: invalid solver options",
          "[bad_input][minimize_projected][minimize_composite]") {
  in_every_mode(0.6, [](const auto& t) {
    for (const double step : {0.0, -1.0, not_a_number, infinity}) {
      INFO("step " << step);
      check_error<std::invalid_argument>(
          [&] {
            (void)ift::minimize_projected(distance, unit_box, x0, t, ift::ProjectedGradient{.step = step});
          },
          {"ift::ProjectedGradient", "step must be positive and finite"});
      check_error<std::invalid_argument>(
          [&] { (void)ift::minimize_composite(distance, l1, x0, t, ift::ProximalGradient{.step = step}); },
          {"ift::ProximalGradient", "step must be positive and finite"});
    }
    for (const double epsilon : {-1.0, not_a_number}) {
      INFO("epsilon " << epsilon);
      check_error<std::invalid_argument>(
          [&] {
            (void)ift::minimize_projected(distance, unit_box, x0, t,
                                          ift::ProjectedNewton{.epsilon = epsilon});
          },
          {"ift::ProjectedNewton", "epsilon must be finite and nonnegative"});
    }
  });
}

TEST_CASE("bad input minimize_projected and minimize_composite: a map that changes the length",
          "[bad_input][minimize_projected][minimize_composite]") {
  // Returning fewer entries than y has would mismatch every later expression: refused, never read.
  const auto short_box = [](const auto& y, const auto&) {
    return ift::project_box(y.head(2).eval(), 0.0, 1.0);
  };
  const auto short_l1 = [](const auto& y, const auto& eta, const auto&) {
    return ift::prox_l1(y.head(2).eval(), 0.1 * eta);
  };
  in_every_mode(0.6, [&](const auto& t) {
    for (const bool newton : {false, true}) {
      INFO((newton ? "ProjectedNewton" : "ProjectedGradient"));
      check_error<std::invalid_argument>(
          [&] {
            if (newton)
              (void)ift::minimize_projected(distance, short_box, x0, t, ift::ProjectedNewton{});
            else
              (void)ift::minimize_projected(distance, short_box, x0, t);
          },
          {"ift::minimize_projected: proj(y, theta) returned 2 entries for a y of 3"});
    }
    check_error<std::invalid_argument>(
        [&] { (void)ift::minimize_composite(distance, short_l1, x0, t); },
        {"ift::minimize_composite: prox(y, eta, theta) returned 2 entries for a y of 3"});
  });
}

TEST_CASE("bad input minimize_projected and minimize_composite: out of iterations",
          "[bad_input][minimize_projected][minimize_composite]") {
  in_every_mode(0.6, [](const auto& t) {
    using S = std::decay_t<decltype(t)>;
    const VectorXd far = VectorXd::Constant(3, 5.0);
    each_solver([](auto& solver) { solver.max_iter = 0; },
                [&](const char*, const char* solver, const auto& solve) {
                  INFO(solver);
                  check_error<ift::SolverError>([&] { (void)solve(t, far); },
                                                {solver, "maximum number of iterations"});
                });
    each_solver(
        [](auto& solver) {
          solver.max_iter = 0;
          solver.throw_on_failure = false;
        },
        [&](const char*, const char* solver, const auto& solve) {
          INFO(solver);
          const auto s = solve(t, far);
          CHECK(s.status == ift::Status::max_iterations);
          CHECK_FALSE(s.derivatives_exact);
          // The early-stop derivative (that of the problem the iterate solves exactly) is finite.
          if constexpr (!is_double_v<S>) CHECK(std::isfinite(derivative(S(s.x(0)), t)));
        });
  });
}

TEST_CASE("bad input minimize_projected and minimize_composite: an unbounded objective",
          "[bad_input][minimize_projected][minimize_composite]") {
  // min −θ Σx over x ≥ 0 (or plus 0.1‖x‖₁ with θ > 0.1) has no minimizer: the iterates walk off, and
  // the solve ends in a typed failure, never in a converged status.
  const auto falling = [](const auto& x, const auto& th) { return -th * x.sum(); };
  const auto orthant = [](const auto& y, const auto&) { return ift::project_nonnegative(y); };
  in_every_mode(0.6, [&](const auto& t) {
    check_error<ift::SolverError>(
        [&] {
          (void)ift::minimize_projected(falling, orthant, x0, t, ift::ProjectedGradient{.max_iter = 500});
        },
        {"ProjectedGradient"});
    check_error<ift::SolverError>(
        [&] {
          (void)ift::minimize_projected(falling, orthant, x0, t, ift::ProjectedNewton{.max_iter = 500});
        },
        {"ProjectedNewton"});
    check_error<ift::SolverError>(
        [&] { (void)ift::minimize_composite(falling, l1, x0, t, ift::ProximalGradient{.max_iter = 500}); },
        {"ProximalGradient"});
  });
}

TEST_CASE("bad input minimize_projected and minimize_composite: a map that returns NaN",
          "[bad_input][minimize_projected][minimize_composite]") {
  const auto broken_box = [](const auto& y, const auto& th) {
    auto p = ift::project_box(y, 0.0, 1.0);
    p(0) = p(0) * sqrt(th - 1.0);  // NaN for θ < 1
    return p;
  };
  const auto broken_l1 = [](const auto& y, const auto& eta, const auto& th) {
    auto p = ift::prox_l1(y, 0.1 * eta);
    p(0) = p(0) * sqrt(th - 1.0);
    return p;
  };
  in_every_mode(0.6, [&](const auto& t) {
    using S = std::decay_t<decltype(t)>;
    check_error<ift::SolverError>([&] { (void)ift::minimize_projected(distance, broken_box, x0, t); },
                                  {"ProjectedGradient", "non-finite"});
    check_error<ift::SolverError>([&] { (void)ift::minimize_composite(distance, broken_l1, x0, t); },
                                  {"ProximalGradient", "non-finite"});
    const auto s =
        ift::minimize_projected(distance, broken_box, x0, t, ift::ProjectedNewton{.throw_on_failure = false});
    CHECK(s.status == ift::Status::non_finite);
    CHECK_FALSE(s.derivatives_exact);
    if constexpr (!is_double_v<S>) CHECK(std::isnan(derivative(S(s.x(1)), t)));
    const auto c =
        ift::minimize_composite(distance, broken_l1, x0, t, ift::ProximalGradient{.throw_on_failure = false});
    CHECK(c.status == ift::Status::non_finite);
    CHECK_FALSE(c.derivatives_exact);
    if constexpr (!is_double_v<S>) CHECK(std::isnan(derivative(S(c.x(1)), t)));
  });
}
