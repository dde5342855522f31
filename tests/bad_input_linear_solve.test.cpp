// ift::linear_solve given bad input: each case gives its typed error with a message that says what
// went wrong, at every scalar mode, and the tape recorded before the failing call stays usable.

#include <catch2/catch.hpp>

#include <limits>
#include <type_traits>

#include "ift/linear_solve.hpp"
#include "support/bad_input.hpp"

namespace {

using bad_input::check_error;
using bad_input::in_every_mode;
using bad_input::infinity;
using bad_input::is_double_v;
using bad_input::not_a_number;

template <class S>
using Matrix2 = Eigen::Matrix<S, 2, 2>;
template <class S>
using Vector2 = Eigen::Matrix<S, 2, 1>;

// A(θ) = [[θ, 1], [1, 2]], b(θ) = (1, θ).
template <class S>
Matrix2<S> a_of(const S& theta) {
  Matrix2<S> a;
  a(0, 0) = theta;
  a(0, 1) = a(1, 0) = bad_input::constant<S>(1.0);
  a(1, 1) = bad_input::constant<S>(2.0);
  return a;
}
template <class S>
Vector2<S> b_of(const S& theta) {
  return Vector2<S>(bad_input::constant<S>(1.0), theta);
}

// The operator v ↦ θ·A v of a symmetric positive definite A, for the matrix-free overload.
const Eigen::Matrix3d spd{{4.0, 1.0, 0.0}, {1.0, 3.0, 0.5}, {0.0, 0.5, 2.0}};
const auto scaled = [](const auto& v, const auto& theta) {
  using S = typename std::decay_t<decltype(v)>::Scalar;
  return Eigen::Matrix<S, Eigen::Dynamic, 1>(theta * (spd.cast<S>() * v));
};

}  // namespace

TEST_CASE("linear_solve: NaN or Inf in A is a std::invalid_argument naming A", "[bad_input][linear_solve]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(bad, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::linear_solve(a_of(theta), b_of(2.0)); },
                                         {"ift::linear_solve", "A", "NaN or Inf"});
    });
  }
}

TEST_CASE("linear_solve: NaN or Inf in b is a std::invalid_argument naming b", "[bad_input][linear_solve]") {
  for (const double bad : {not_a_number, infinity}) {
    in_every_mode(bad, [&](const auto& theta) {
      check_error<std::invalid_argument>([&] { (void)ift::linear_solve(a_of(2.0), b_of(theta)); },
                                         {"ift::linear_solve", "b", "NaN or Inf"});
    });
  }
}

TEST_CASE("linear_solve: a singular A is a SingularJacobianError", "[bad_input][linear_solve]") {
  in_every_mode(3.0, [&](const auto& theta) {
    using S = std::decay_t<decltype(theta)>;
    // Rows (θ, 2θ) and (1, 2): rank one for every θ.
    Matrix2<S> a;
    a << theta, 2.0 * theta, S(1.0), S(2.0);
    check_error<ift::SingularJacobianError>([&] { (void)ift::linear_solve(a, b_of(theta)); },
                                            {"DenseLU", "singular", "condition estimate inf"});
  });
}

TEST_CASE("linear_solve: a nearly singular A is a SingularJacobianError", "[bad_input][linear_solve]") {
  in_every_mode(3.0, [&](const auto& theta) {
    using S = std::decay_t<decltype(theta)>;
    // θ·[[1, 1], [1, 1 + ε]]: condition number about 4/ε ≈ 1.8e16.
    const Matrix2<S> a =
        theta * Eigen::Matrix2d{{1.0, 1.0}, {1.0, 1.0 + std::numeric_limits<double>::epsilon()}};
    check_error<ift::SingularJacobianError>([&] { (void)ift::linear_solve(a, b_of(theta)); },
                                            {"numerically singular", "condition estimate"});
  });
}

TEST_CASE("linear_solve: mismatched sizes are a std::invalid_argument", "[bad_input][linear_solve]") {
  in_every_mode(3.0, [&](const auto& theta) {
    using S = std::decay_t<decltype(theta)>;
    const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> wide = Eigen::MatrixXd::Ones(2, 3) * theta;
    check_error<std::invalid_argument>([&] { (void)ift::linear_solve(wide, b_of(theta)); },
                                       {"ift::linear_solve", "A must be square", "A is 2x3"});
    const Eigen::Matrix<S, 3, 1> long_b = Eigen::Vector3d::Ones() * theta;
    check_error<std::invalid_argument>([&] { (void)ift::linear_solve(a_of(theta), long_b); },
                                       {"ift::linear_solve", "b is 3x1"});
  });
}

TEST_CASE("linear_solve: a Krylov solve that does not converge is a SolverError",
          "[bad_input][linear_solve]") {
  in_every_mode(2.0, [&](const auto& theta) {
    check_error<ift::SolverError>(
        [&] {
          (void)ift::linear_solve(scaled, Eigen::Vector3d(1.0, 2.0, 3.0), theta,
                                  ift::GMRES{.restart = 1, .max_iter = 1});
        },
        {"GMRES", "did not converge", "after 1 iterations"});
  });
}

TEST_CASE("linear_solve: Vars of another tape, of a destroyed tape, of no tape; gradients after clear()",
          "[bad_input][linear_solve]") {
  SECTION("dense") {
    bad_input::check_tape_misuse(
        [](const ift::Var& theta) { return ift::linear_solve(a_of(theta), b_of(2.0))(0); }, 3.0);
  }
  SECTION("matrix-free") {
    bad_input::check_tape_misuse(
        [](const ift::Var& theta) {
          return ift::linear_solve(scaled, Eigen::Vector3d(1.0, 2.0, 3.0), theta)(0);
        },
        2.0);
  }
}

TEST_CASE("linear_solve: an exception thrown by matvec reaches the caller unchanged",
          "[bad_input][linear_solve]") {
  int calls = 0;
  const auto throwing = [&calls](const auto& v, const auto& theta) {
    if (++calls == 3) throw bad_input::UserError();
    return scaled(v, theta);
  };
  in_every_mode(2.0, [&](const auto& theta) {
    calls = 0;
    CHECK_THROWS_AS(ift::linear_solve(throwing, Eigen::Vector3d(1.0, 2.0, 3.0), theta), bad_input::UserError);
  });
}

TEST_CASE("linear_solve: an exception thrown by matvec during the reverse sweep leaves the tape usable",
          "[bad_input][linear_solve]") {
  bool armed = false;
  const auto throwing = [&armed](const auto& v, const auto& theta) {
    if constexpr (bad_input::holds_var_v<typename std::decay_t<decltype(v)>::Scalar>)
      if (armed) throw bad_input::UserError();
    return scaled(v, theta);
  };
  ift::Tape tape;
  const bad_input::Witness witness(tape);
  const ift::Var theta = 2.0;
  const Eigen::Vector3d b(1.0, 2.0, 3.0);
  const ift::Var x0 = ift::linear_solve(throwing, b, theta)(0);
  armed = true;
  CHECK_THROWS_AS(tape.gradient(x0, theta), bad_input::UserError);
  witness.check();
  armed = false;
  // x = A⁻¹b/θ, so dx/dθ = −x/θ.
  const double x0_exact = spd.partialPivLu().solve(b)(0) / 2.0;
  CHECK_THAT(x0.value(), Catch::Matchers::WithinRel(x0_exact, 1e-10));
  CHECK_THAT(tape.gradient(x0, theta), Catch::Matchers::WithinRel(-x0_exact / 2.0, 1e-10));
}

TEST_CASE("linear_solve: a non-finite plain solution, a non-square matvec, an inconsistent singular operator",
          "[bad_input][linear_solve]") {
  // No derivative is asked for, and still no NaN comes back silently.
  CHECK_THROWS_WITH(ift::linear_solve(a_of(3.0), Vector2<double>(1.0, not_a_number)),
                    Catch::Matchers::Contains("NaN or Inf"));
  const auto rectangular = [](const auto& v, const auto& theta) {
    using S = typename std::decay_t<decltype(v)>::Scalar;
    Eigen::Matrix<S, Eigen::Dynamic, 1> out(v.size() + 1);
    out << theta * v, v(0);
    return out;
  };
  CHECK_THROWS_WITH(ift::linear_solve(rectangular, Eigen::Vector3d(1, 2, 3), 2.0),
                    Catch::Matchers::Contains("returns 4 values for v of size 3"));
  // A = ones(2, 2) is singular and b = (1, 2) is not in its range: GMRES stalls at a wrong x.
  const auto ones = [](const auto& v, const auto& theta) {
    using S = typename std::decay_t<decltype(v)>::Scalar;
    return Eigen::Matrix<S, Eigen::Dynamic, 1>::Constant(2, theta * v.sum()).eval();
  };
  CHECK_THROWS_AS(ift::linear_solve(ones, Eigen::Vector2d(1, 2), 1.0), ift::SolverError);
  // A dense matrix with a direct solver picks the dense overload.
  const Eigen::Vector2d x = ift::linear_solve(a_of(3.0), b_of(3.0), ift::DenseQR{});
  CHECK((a_of(3.0) * x - b_of(3.0)).norm() < 1e-14);
}
