// The bad-input matrix of the constrained entry points: non-finite input anywhere, mismatched sizes,
// infeasible and unbounded problems, degenerate active sets, violated constraint qualifications and
// minimizers that are not unique, at the scalar modes that ask for derivatives. Each is a typed error,
// or (with throw_on_failure = false) a status with NaN derivatives and derivatives_exact == false;
// never a silent number. What tests/bad_input_quadratic_program.test.cpp already covers is not
// repeated: here are the non-finite entries of every QP input, the remaining shape mismatches, the
// failures in reverse mode, minimize_constrained, kkt_conditions and the projections in reverse mode.

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

#include "ift/implicit.hpp"
#include "ift/kkt.hpp"
#include "ift/minimize_constrained.hpp"
#include "ift/projections.hpp"
#include "ift/proximal.hpp"
#include "ift/quadratic_program.hpp"
#include "support/bad_input.hpp"

namespace {

using bad_input::check_error;
using bad_input::in_every_mode;
using bad_input::infinity;
using bad_input::not_a_number;
using Catch::Matchers::WithinAbs;
using Eigen::MatrixXd;
using Eigen::VectorXd;

template <class S>
using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <class S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

const MatrixXd no_rows(0, 0);
const VectorXd no_entries(0);

/// True when x's derivative in θ is NaN: the tangent for `Dual`, the adjoint on the active tape for `Var`.
template <class S>
bool derivative_is_nan(const S& x, const S& theta) {
  if constexpr (ift::is_var_v<S>)
    return std::isnan(ift::Tape::active()->gradient(x, theta));
  else
    return std::isnan(x.v(0));
}

// A QP in two unknowns: min ½‖x‖² + qᵀx s.t. x₀ + x₁ = 1, x ≥ 0, with q = (θ, −1). Its six inputs,
// each replaced in turn by one with a NaN or an infinite entry.
struct SmallQP {
  MatrixXd Q = MatrixXd::Identity(2, 2);
  MatrixXd A = MatrixXd::Ones(1, 2);
  VectorXd b = VectorXd::Ones(1);
  MatrixXd G = -MatrixXd::Identity(2, 2);
  VectorXd h = VectorXd::Zero(2);

  template <class S>
  auto solve(const S& theta, const VectorXd& q_rest, const ift::InteriorPointQP& solver = {}) const {
    Vec<S> q(2);
    q << theta, S(q_rest(0));
    return ift::quadratic_program(Q, q, A, b, G, h, solver);
  }
};

// min ‖x − θ‖² s.t. ‖x‖² ≤ 1 (the projection onto the unit disc).
const auto distance = [](const auto& x, const auto& th) { return (x - th).squaredNorm(); };
const auto outside_disc = [](const auto& x, const auto&) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  return Vec<S>::Constant(1, x.squaredNorm() - 1.0);
};

/// θ = (t, 0) in the scalar of t.
template <class S>
Vec<S> on_axis(const S& t) {
  Vec<S> th(2);
  th << t, S(0.0);
  return th;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// quadratic_program
// ---------------------------------------------------------------------------------------------------

TEST_CASE("bad input quadratic_program: NaN or Inf in any of Q, q, A, b, G, h",
          "[bad_input][quadratic_program]") {
  const std::array<double, 3> bad = {not_a_number, infinity, -infinity};
  const std::array<std::string, 6> messages = {"Q holds NaN or Inf", "q holds NaN or Inf",
                                               "A holds NaN or Inf", "b holds NaN or Inf",
                                               "G holds NaN or Inf", "h holds NaN or Inf"};
  in_every_mode(0.5, [&](const auto& theta) {
    for (const double v : bad) {
      for (int input = 0; input < 6; ++input) {
        SmallQP qp;
        VectorXd q_rest = -VectorXd::Ones(1);
        switch (input) {
          case 0:
            qp.Q(1, 0) = v;
            break;
          case 1:
            q_rest(0) = v;
            break;
          case 2:
            qp.A(0, 1) = v;
            break;
          case 3:
            qp.b(0) = v;
            break;
          case 4:
            qp.G(1, 1) = v;
            break;
          default:
            qp.h(0) = v;
            break;
        }
        const std::string& message = messages[std::size_t(input)];
        INFO(message << ": " << v);
        check_error<std::invalid_argument>([&] { (void)qp.solve(theta, q_rest); },
                                           {"ift::quadratic_program", message.c_str()});
      }
    }
  });
}

TEST_CASE("bad input quadratic_program: mismatched shapes", "[bad_input][quadratic_program]") {
  using D = ift::Dual<double>;
  const Vec<D> q = Vec<D>::Constant(2, D(1.0, 1.0));
  const MatrixXd I = MatrixXd::Identity(2, 2);
  const auto check = [](auto&& call) {
    check_error<std::invalid_argument>(call, {"the shapes do not match"});
  };
  check([&] {
    (void)ift::quadratic_program(MatrixXd::Identity(2, 3), q, no_rows, no_entries, no_rows, no_entries);
  });
  check([&] {
    (void)ift::quadratic_program(I, q, MatrixXd::Ones(1, 2), VectorXd::Ones(2), no_rows, no_entries);
  });
  check([&] {
    (void)ift::quadratic_program(I, q, no_rows, no_entries, MatrixXd::Ones(1, 3), VectorXd::Ones(1));
  });
  check([&] {
    (void)ift::quadratic_program(I, MatrixXd::Ones(2, 2), no_rows, no_entries, no_rows, no_entries);
  });
  check([&] {
    (void)ift::quadratic_program(MatrixXd(0, 0), VectorXd(0), no_rows, no_entries, no_rows, no_entries);
  });
}

TEST_CASE("bad input quadratic_program: failed solves give NaN derivatives in reverse mode",
          "[bad_input][quadratic_program]") {
  const ift::InteriorPointQP quiet{.throw_on_failure = false};
  ift::Tape tape;
  const ift::Var theta = 0.5;
  SECTION("infeasible: x₀ = 2 and x₀ ≤ 1") {
    const Eigen::RowVector2d a(1, 0);
    Vec<ift::Var> q(2);
    q << theta, ift::Var(-1.0);
    const auto call = [&](const ift::InteriorPointQP& solver) {
      return ift::quadratic_program(MatrixXd::Identity(2, 2), q, a, VectorXd::Constant(1, 2.0), a,
                                    VectorXd::Ones(1), solver);
    };
    CHECK_THROWS_AS(call({}), ift::SolverError);
    const auto s = call(quiet);
    CHECK(s.status == ift::Status::infeasible);
    CHECK_FALSE(s.derivatives_exact);
    CHECK(derivative_is_nan(s.x(0), theta));
    CHECK(derivative_is_nan(s.ineq_multipliers(0), theta));
  }
  SECTION("unbounded: min θx₀ on x₀ ≤ 0 with no curvature, θ > 0") {
    const auto s = ift::quadratic_program(MatrixXd::Zero(1, 1), Vec<ift::Var>::Constant(1, theta), no_rows,
                                          no_entries, MatrixXd::Ones(1, 1), VectorXd::Zero(1), quiet);
    CHECK(s.status == ift::Status::unbounded);
    CHECK_FALSE(s.derivatives_exact);
    CHECK(derivative_is_nan(s.x(0), theta));
  }
  SECTION("out of iterations") {
    const SmallQP qp;
    CHECK_THROWS_AS(qp.solve(theta, -VectorXd::Ones(1), {.max_iter = 2}), ift::SolverError);
    const auto s = qp.solve(theta, -VectorXd::Ones(1), {.max_iter = 2, .throw_on_failure = false});
    CHECK(s.status == ift::Status::max_iterations);
    CHECK_FALSE(s.derivatives_exact);
    CHECK(derivative_is_nan(s.x(0), theta));
  }
  SECTION("non-convex") {
    Vec<ift::Var> q(2);
    q << theta, ift::Var(-1.0);
    CHECK_THROWS_WITH(ift::quadratic_program(Eigen::Vector2d(1, -1).asDiagonal().toDenseMatrix(), q, no_rows,
                                             no_entries, MatrixXd::Identity(2, 2), VectorXd::Ones(2)),
                      Catch::Contains("not convex"));
  }
}

TEST_CASE("bad input quadratic_program: a degenerate active set in reverse mode",
          "[bad_input][quadratic_program]") {
  // The projection of y = (θ, 0) onto x₀ + 2x₁ ≤ 1 at θ = 1: y is on the boundary, μ = 0.
  const auto project = [](const auto& t) {
    return ift::quadratic_program(MatrixXd::Identity(2, 2), Vec<std::decay_t<decltype(t)>>(-on_axis(t)),
                                  no_rows, no_entries, Eigen::RowVector2d(1, 2), VectorXd::Ones(1));
  };
  CHECK_THAT(project(1.0).x(0), WithinAbs(1.0, 1e-5));  // the value is defined, the derivative is not
  ift::Tape tape;
  const ift::Var t = 1.0;
  CHECK_THROWS_AS(project(t), ift::SingularJacobianError);
  CHECK_THROWS_AS(project(ift::Dual<ift::Var>(t, 1.0)), ift::SingularJacobianError);
}

// ---------------------------------------------------------------------------------------------------
// minimize_constrained
// ---------------------------------------------------------------------------------------------------

TEST_CASE("bad input minimize_constrained: NaN or Inf in theta or x0", "[bad_input][minimize_constrained]") {
  in_every_mode(2.0, [](const auto& t) {
    using S = std::decay_t<decltype(t)>;
    for (const double v : {not_a_number, infinity, -infinity}) {
      INFO("bad entry " << v);
      Vec<S> th = on_axis(t);
      th(1) = S(v);
      check_error<std::invalid_argument>(
          [&] {
            (void)ift::minimize_constrained(distance, ift::none, outside_disc, Eigen::Vector2d::Zero(), th);
          },
          {"ift::minimize_constrained", "theta holds NaN or Inf"});
      check_error<std::invalid_argument>(
          [&] {
            (void)ift::minimize_constrained(distance, ift::none, outside_disc, Eigen::Vector2d(0.0, v),
                                            on_axis(t));
          },
          {"ift::minimize_constrained", "x0 holds NaN or Inf"});
    }
  });
}

TEST_CASE("bad input minimize_constrained: failed solves", "[bad_input][minimize_constrained]") {
  const ift::AugmentedLagrangian quiet{.max_iter = 20, .throw_on_failure = false};
  ift::Tape tape;
  const ift::Var t = 2.0;
  SECTION("infeasible equalities: x₀ = 1 and x₀ = −1") {
    const auto both = [](const auto& x, const auto&) {
      using S = typename std::decay_t<decltype(x)>::Scalar;
      Vec<S> e(2);
      e << x(0) - 1.0, x(0) + 1.0;
      return e;
    };
    CHECK_THROWS_AS(ift::minimize_constrained(distance, both, ift::none, Eigen::Vector2d::Zero(),
                                              on_axis(2.0), ift::AugmentedLagrangian{.max_iter = 20}),
                    ift::SolverError);
    const auto s =
        ift::minimize_constrained(distance, both, ift::none, Eigen::Vector2d::Zero(), on_axis(t), quiet);
    CHECK(s.status != ift::Status::converged);
    CHECK_FALSE(s.derivatives_exact);
    CHECK(derivative_is_nan(s.x(0), t));
    CHECK(derivative_is_nan(s.eq_multipliers(0), t));
  }
  SECTION("out of iterations") {
    const auto s =
        ift::minimize_constrained(distance, ift::none, outside_disc, Eigen::Vector2d::Zero(), on_axis(t),
                                  ift::AugmentedLagrangian{.max_iter = 1, .throw_on_failure = false});
    CHECK(s.status == ift::Status::max_iterations);
    CHECK_FALSE(s.derivatives_exact);
    CHECK(derivative_is_nan(s.x(1), t));
    CHECK(derivative_is_nan(s.ineq_multipliers(0), t));
  }
}

TEST_CASE("bad input minimize_constrained: no derivative exists", "[bad_input][minimize_constrained]") {
  SECTION("a degenerate active set: θ on the circle, in every derivative mode") {
    const auto project = [](const auto& th) {
      return ift::minimize_constrained(distance, ift::none, outside_disc, Eigen::Vector2d::Zero(),
                                       on_axis(th));
    };
    CHECK_THAT(project(1.0).x(0), WithinAbs(1.0, 1e-6));
    using D1 = ift::Dual<double>;
    CHECK_THROWS_AS(project(ift::Dual<D1>(D1(1.0, 1.0), D1(1.0, 0.0))), ift::SingularJacobianError);
    ift::Tape tape;
    const ift::Var t = 1.0;
    CHECK_THROWS_AS(project(t), ift::SingularJacobianError);
    CHECK_THROWS_AS(project(ift::Dual<ift::Var>(t, 1.0)), ift::SingularJacobianError);
  }
  SECTION("a degenerate linear constraint: the minimizer on x₀ ≤ 1 at θ = (1, 0)") {
    const auto half_plane = [](const auto& x, const auto&) {
      using S = typename std::decay_t<decltype(x)>::Scalar;
      return Vec<S>::Constant(1, x(0) - 1.0);
    };
    CHECK_THROWS_AS(ift::minimize_constrained(distance, ift::none, half_plane, Eigen::Vector2d::Zero(),
                                              on_axis(ift::Dual<double>(1.0, 1.0))),
                    ift::SingularJacobianError);
  }
  SECTION("the minimizer is not unique: the objective ignores x₁") {
    const auto flat = [](const auto& x, const auto& th) { return (x(0) - th(0)) * (x(0) - th(0)); };
    CHECK_THROWS_AS(ift::minimize_constrained(flat, ift::none, outside_disc, Eigen::Vector2d::Zero(),
                                              on_axis(ift::Dual<double>(0.5, 1.0))),
                    ift::SingularJacobianError);
  }
}

// ---------------------------------------------------------------------------------------------------
// kkt_conditions
// ---------------------------------------------------------------------------------------------------

TEST_CASE("bad input kkt_conditions: sizes and tolerance", "[bad_input][kkt]") {
  const auto check = [](auto&& call) { check_error<std::invalid_argument>(call, {"ift::kkt_conditions"}); };
  check([] { (void)ift::kkt_conditions(distance, ift::none, outside_disc, 0, 0, 1); });
  check([] { (void)ift::kkt_conditions(distance, outside_disc, outside_disc, 2, -1, 1); });
  check([] { (void)ift::kkt_conditions(distance, ift::none, ift::none, 2, 0, 1); });
  check([] { (void)ift::kkt_conditions(distance, ift::none, outside_disc, 2, 0, 1, -1e-8); });
  check([] { (void)ift::kkt_conditions(distance, ift::none, outside_disc, 2, 0, 1, not_a_number); });
}

TEST_CASE("bad input kkt_conditions: NaN or Inf in the answer or theta", "[bad_input][kkt]") {
  const auto c = ift::kkt_conditions(distance, ift::none, outside_disc, 2, 0, 1);
  in_every_mode(2.0, [&](const auto& t) {
    using S = std::decay_t<decltype(t)>;
    for (const double v : {not_a_number, infinity}) {
      check_error<std::invalid_argument>(
          [&] { (void)ift::implicit(c, Eigen::Vector3d(1, 0, v), on_axis(t)); }, {"x_star holds NaN or Inf"});
      Vec<S> th = on_axis(t);
      th(1) = S(v);
      check_error<std::invalid_argument>([&] { (void)ift::implicit(c, Eigen::Vector3d(1, 0, 1), th); },
                                         {"theta holds NaN or Inf"});
    }
  });
}

TEST_CASE("bad input kkt_conditions: no derivative exists, reverse mode", "[bad_input][kkt]") {
  ift::Tape tape;
  SECTION("a degenerate active set") {
    const ift::Var t = 1.0;
    const auto c = ift::kkt_conditions(distance, ift::none, outside_disc, 2, 0, 1);
    CHECK_THROWS_AS(ift::implicit(c, Eigen::Vector3d(1, 0, 0), on_axis(t)), ift::SingularJacobianError);
    CHECK_THROWS_AS(ift::implicit(c, Eigen::Vector3d(1, 0, 0), on_axis(ift::Dual<ift::Var>(t, 1.0))),
                    ift::SingularJacobianError);
  }
  SECTION("the minimizer is not unique: the objective ignores x₁") {
    const auto flat = [](const auto& x, const auto& th) { return (x(0) - th(0)) * (x(0) - th(0)); };
    const ift::Var t = 0.5;
    const auto c = ift::kkt_conditions(flat, ift::none, outside_disc, 2, 0, 1);
    CHECK_THROWS_AS(ift::implicit(c, Eigen::Vector3d(0.5, 0, 0), on_axis(t)), ift::SingularJacobianError);
  }
}

// ---------------------------------------------------------------------------------------------------
// Projections and proximal operators, in every mode (tests/projections.test.cpp checks double and Dual
// inputs; here the parameter carries derivatives and the tape must survive the error).
// ---------------------------------------------------------------------------------------------------

TEST_CASE("bad input projections: non-finite input and invalid parameters in every mode",
          "[bad_input][projections][proximal]") {
  in_every_mode(0.5, [](const auto& t) {
    using S = std::decay_t<decltype(t)>;
    Vec<S> y(3);
    y << t, S(-0.2), S(1.5);
    Vec<S> y_bad = y;
    y_bad(1) = S(not_a_number);
    Vec<S> y_inf = y;
    y_inf(2) = S(infinity);
    const auto check = [](auto&& call) { check_error<std::invalid_argument>(call, {"ift::"}); };
    check([&] { (void)ift::project_box(y_bad, 0.0, 1.0); });
    check([&] { (void)ift::project_box(y, t, S(t - 1.0)); });  // lo > hi
    check([&] { (void)ift::project_box(y, S(not_a_number), t); });
    check([&] { (void)ift::project_nonnegative(y_inf); });
    check([&] { (void)ift::project_simplex(y, S(-t)); });  // negative radius
    check([&] { (void)ift::project_simplex(y_inf, t); });
    check([&] { (void)ift::project_l1_ball(y, S(infinity)); });
    check([&] { (void)ift::project_l2_ball(y_bad, t); });
    check([&] { (void)ift::project_l2_ball(y, S(not_a_number)); });
    check([&] { (void)ift::prox_l1(y, S(-t)); });
    check([&] { (void)ift::prox_l1(y_inf, t); });
    check([&] { (void)ift::prox_elastic_net(y, t, S(-1.0)); });
    check([&] { (void)ift::prox_elastic_net(y_bad, t, t); });
  });
}

// ---------------------------------------------------------------------------------------------------
// Defects this matrix found in the headers, fixed: kept as regressions.
// ---------------------------------------------------------------------------------------------------

TEST_CASE("minimize_constrained: a NaN objective is non_finite, never converged",
          "[bad_input][minimize_constrained]") {
  // The solver's measure is max(violation, stationarity): a NaN stationarity must survive the max
  // (std::max drops a NaN second argument) and the max-norm of a NaN gradient (which skips NaN
  // entries), or a NaN objective at a feasible x0 would "converge" at x0.
  const ift::AugmentedLagrangian quiet{.max_iter = 20, .throw_on_failure = false};
  ift::Tape tape;
  const ift::Var t = 2.0;
  const auto broken = [](const auto& x, const auto& th) { return (x - th).squaredNorm() * not_a_number; };
  CHECK_THROWS_AS(
      ift::minimize_constrained(broken, ift::none, outside_disc, Eigen::Vector2d::Zero(), on_axis(2.0)),
      ift::SolverError);
  const auto s =
      ift::minimize_constrained(broken, ift::none, outside_disc, Eigen::Vector2d::Zero(), on_axis(t), quiet);
  CHECK(s.status == ift::Status::non_finite);
  CHECK_FALSE(s.derivatives_exact);
  CHECK(derivative_is_nan(s.x(0), t));
}

TEST_CASE("kkt_conditions: eq's values are counted before they are read", "[bad_input][kkt]") {
  // ∇ₓℒ reads e(i) for i < n_eq: with fewer values than declared the size check must come first.
  const auto c = ift::kkt_conditions(distance, outside_disc, ift::none, 2, 2, 0);  // eq has one value
  ift::Tape tape;
  const ift::Var t = 2.0;
  check_error<std::invalid_argument>(
      [&] { (void)ift::implicit(c, Eigen::Vector4d(1, 0, 0.5, 0), on_axis(t)); },
      {"eq(x, theta) returns 1 values, declared 2"});
}

TEST_CASE("minimize_constrained: non-unique multipliers have no derivative",
          "[bad_input][minimize_constrained]") {
  // With the same active constraint twice only μ₁ + μ₂ is determined, but the complementarity rows of
  // ∂c/∂z differ by the slacks g ≈ 10⁻¹⁰ only: an LU meets no zero pivot and would return one split
  // among many as if exact. The rank test of the active constraints refuses it, as quadratic_program's.
  const auto twice = [](const auto& x, const auto&) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    return Vec<S>::Constant(2, x(0) - 1.0);
  };
  CHECK_THROWS_AS(ift::minimize_constrained(distance, ift::none, twice, Eigen::Vector2d::Zero(),
                                            on_axis(ift::Dual<double>(2.0, 1.0))),
                  ift::SingularJacobianError);
}
