// ift::root given a user's mistakes: a residual of the wrong size, Vars of the wrong tape, and an
// exception thrown by f, during the solve or during the reverse sweep. Each reaches the caller as a
// typed error (or unchanged), at every scalar mode, and the tape recorded before stays usable.

#include <catch2/catch.hpp>

#include <type_traits>

#include "ift/root.hpp"
#include "support/bad_input.hpp"

namespace {

using bad_input::check_error;
using bad_input::in_every_mode;

// x² = θ: x = √θ, dx/dθ = 1/(2√θ).
const auto g = [](const auto& x, const auto& theta) { return x * x - theta; };

// Three residuals for two unknowns.
const auto three_for_two = [](const auto& x, const auto& theta) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  Eigen::Matrix<S, Eigen::Dynamic, 1> r(3);
  r << x(0) - theta, x(1), x(0) * x(1);
  return r;
};

}  // namespace

TEST_CASE("root: f returning another number of values than x0 has is a std::invalid_argument",
          "[bad_input][root]") {
  const Eigen::VectorXd x0 = Eigen::VectorXd::Ones(2);
  const auto message = {"ift::root", "returns 3 values for x of size 2"};
  const auto own_solver = [](const auto& fp, const Eigen::VectorXd& x) {
    (void)fp(x);
    return x;
  };
  in_every_mode(1.0, [&](const auto& theta) {
    check_error<std::invalid_argument>([&] { (void)ift::root(three_for_two, x0, theta); }, message);
    check_error<std::invalid_argument>([&] { (void)ift::root(three_for_two, x0, theta, ift::Broyden{}); },
                                       message);
    check_error<std::invalid_argument>([&] { (void)ift::root(three_for_two, x0, theta, own_solver); },
                                       message);
    check_error<std::invalid_argument>(
        [&] { (void)ift::root(three_for_two, x0, theta, ift::Newton{}, ift::Unrolled{}); }, message);
    // A fixed-size x0 with a dynamic-size residual is checked at run time too.
    check_error<std::invalid_argument>(
        [&] { (void)ift::root(three_for_two, Eigen::Vector2d(1.0, 1.0), theta); }, message);
  });
}

TEST_CASE("root: Vars of another tape, of a destroyed tape, of no tape; gradients after clear()",
          "[bad_input][root]") {
  bad_input::check_tape_misuse([](const ift::Var& theta) { return ift::root(g, 1.0, theta).x; }, 9.0);
}

TEST_CASE("root: an exception thrown by f mid-solve reaches the caller unchanged", "[bad_input][root]") {
  int calls = 0;
  const auto throwing = [&calls](const auto& x, const auto& theta) {
    if (++calls == 3) throw bad_input::UserError();
    return x * x - theta;
  };
  in_every_mode(9.0, [&](const auto& theta) {
    calls = 0;
    CHECK_THROWS_AS(ift::root(throwing, 1.0, theta), bad_input::UserError);
    calls = 0;
    // Unrolled on a Var records part of the solve before the throw; the witness checks the rest.
    CHECK_THROWS_AS(ift::root(throwing, 1.0, theta, ift::Newton{}, ift::Unrolled{}), bad_input::UserError);
  });
}

TEST_CASE("root: an exception thrown by f during the reverse sweep leaves the tape usable",
          "[bad_input][root]") {
  // The reverse rule evaluates f on AD scalars in the backward pass: on Vars (one VJP on a nested
  // tape), or on duals for a fixed-size state such as this scalar one (forward passes over θ).
  bool armed = false;
  const auto throwing = [&armed](const auto& x, const auto& theta) {
    if constexpr (!std::is_arithmetic_v<std::decay_t<decltype(x)>>)
      if (armed) throw bad_input::UserError();
    return x * x - theta;
  };
  ift::Tape tape;
  const bad_input::Witness witness(tape);
  const ift::Var theta = 9.0;
  const ift::Var x = ift::root(throwing, 1.0, theta).x;
  armed = true;
  CHECK_THROWS_AS(tape.gradient(x, theta), bad_input::UserError);
  witness.check();
  armed = false;
  CHECK_THAT(tape.gradient(x, theta), Catch::Matchers::WithinRel(1.0 / 6.0, 1e-12));
}
