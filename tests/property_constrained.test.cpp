// Randomized property test of ift::minimize_constrained and of ift::kkt_conditions through
// ift::implicit: a smooth convex nonquadratic objective (log-sum-exp plus a quadratic) with a linear
// equality, linear inequalities and a convex quadratic (ball) constraint, n = 2…6, built around a known
// primal-dual solution with strict complementarity, solved at every scalar mode against the construction
// and against Richardson differences of an independent active-set re-solve
// (support/random_constrained.hpp states the construction and the reference). The QPs are in
// property_constrained_qp.test.cpp.

#include <catch2/catch.hpp>

#include <cstdint>

#include "ift/implicit.hpp"
#include "ift/kkt.hpp"
#include "ift/minimize_constrained.hpp"
#include "support/random_constrained.hpp"

namespace {

using ift_test::NLPFamily;
using ift_test::Vec;

constexpr std::uint64_t seed = 0x6e6c7072;

// The augmented Lagrangian stops at stationarity and violation ≤ 10⁻⁹, so z is within ~10⁻⁸ of z* and
// the derivatives, taken there, are as close to the reference.
constexpr ift_test::Bounds solve_bounds{1e-7, 1e-6, 1e-5};
// kkt_conditions is given z* itself: the first derivatives are exact up to the reference's error; the
// second-derivative reference is good to ~10⁻⁷ only (support/random_constrained.hpp).
constexpr ift_test::Bounds answer_bounds{1e-12, 1e-7, 1e-5};

ift_test::ConstrainedTally solve_tally("minimize_constrained");
ift_test::ConstrainedTally answer_tally("kkt_conditions");

/// Five problems of each size n = 2…6 with their references, drawn once.
struct Case {
  NLPFamily problem;
  ift_test::ConstrainedReference ref;
  std::string name;
};
const std::vector<Case>& cases() {
  static const std::vector<Case> all = [] {
    std::vector<Case> out;
    ift_test::Random rng(seed);
    int index = 0;
    for (Eigen::Index n = 2; n <= 6; ++n) {
      for (int copy = 0; copy < 5; ++copy, ++index) {
        NLPFamily f = NLPFamily::draw(rng, n);
        ift_test::ConstrainedReference ref = ift_test::make_constrained_reference(f, rng);
        std::string name = ift_test::describe("constrained", seed, index, f);
        out.push_back({std::move(f), std::move(ref), std::move(name)});
      }
    }
    return out;
  }();
  return all;
}

}  // namespace

TEST_CASE("property minimize_constrained: random convex problems with strict complementarity, every mode",
          "[property][minimize_constrained]") {
  for (const Case& c : cases()) {
    const NLPFamily& f = c.problem;
    ift_test::check_constrained(
        [&](const auto& th) {
          return ift_test::stacked(ift::minimize_constrained(f.objective(), f.equalities(), f.inequalities(),
                                                             Vec<double>::Zero(f.n()), th));
        },
        c.ref, f.z, solve_bounds, solve_tally, c.name);
  }
}

TEST_CASE("property kkt_conditions: the constructed answer through ift::implicit, every mode",
          "[property][kkt]") {
  for (const Case& c : cases()) {
    const NLPFamily& f = c.problem;
    const auto conditions =
        ift::kkt_conditions(f.objective(), f.equalities(), f.inequalities(), f.n(), f.p(), f.m());
    ift_test::check_constrained(
        [&](const auto& th) {
          return Vec<typename std::decay_t<decltype(th)>::Scalar>(ift::implicit(conditions, f.z, th));
        },
        c.ref, f.z, answer_bounds, answer_tally, c.name);
  }
}
