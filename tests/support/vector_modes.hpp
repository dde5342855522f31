#pragma once
// Checks one solve at every scalar mode: a scalar parameter θ, a vector solution x(θ) with known
// x, dx/dθ and d²x/dθ². `solve(theta)` is a generic lambda returning x as a vector of θ's scalar.

#include <catch2/catch.hpp>

#include <Eigen/Core>

#include "ift/dual.hpp"
#include "ift/tape.hpp"
#include "ift/tree.hpp"
#include "ift/var.hpp"
#include "mode_set.hpp"

namespace ift_test {

template <class S>
using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;

/// x(θ), dx/dθ and d²x/dθ² of a vector solution.
struct VectorExpected {
  Eigen::VectorXd x, dx, d2x;
};

/// ‖got − want‖∞ ≤ tol (1 + ‖want‖∞).
inline void check_near(const Eigen::VectorXd& got, const Eigen::VectorXd& want, double tol) {
  INFO("got " << got.transpose() << "\nwant " << want.transpose());
  CHECK((got - want).lpNorm<Eigen::Infinity>() <= tol * (1.0 + want.lpNorm<Eigen::Infinity>()));
}

/// The k-th tangent of each entry of a vector of duals, as doubles.
template <class S>
Eigen::VectorXd tangent(const Vec<S>& x, int k) {
  Eigen::VectorXd t(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) t(i) = ift::detail::to_double(x(i).v(k));
  return t;
}

/// x(θ) at double, Dual<double>, Dual<double, 2> (for `ModeSet::all`), Dual<Dual<double>>, Var and
/// Dual<Var>; second derivatives are held to 100 tol.
template <ModeSet modes = ModeSet::all, class Solve>
void check_vector_modes(Solve&& solve, double theta, const VectorExpected& e, double tol) {
  using Eigen::VectorXd;
  using ift::Dual;
  using ift::Var;
  SECTION("double") { check_near(solve(theta), e.x, tol); }
  SECTION("Dual<double>") {
    const Vec<Dual<double>> x = solve(Dual<double>(theta, 1.0));
    check_near(ift::value(x), e.x, tol);
    check_near(tangent(x, 0), e.dx, tol);
  }
  if constexpr (modes == ModeSet::all) {
    SECTION("Dual<double, 2>") {
      const Vec<Dual<double, 2>> x = solve(Dual<double, 2>(theta, Eigen::Vector2d(1.0, -3.0)));
      check_near(tangent(x, 0), e.dx, tol);
      check_near(tangent(x, 1), -3.0 * e.dx, tol);
    }
  }
  SECTION("Dual<Dual<double>>") {
    using D2 = Dual<Dual<double>>;
    const Vec<D2> x = solve(D2(Dual<double>(theta, 1.0), Dual<double>(1.0, 0.0)));
    const Vec<Dual<double>> inner = ift::value(x);
    check_near(tangent(inner, 0), e.dx, tol);
    VectorXd second(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) second(i) = x(i).v(0).v(0);
    check_near(second, e.d2x, 100 * tol);
  }
  SECTION("Var") {
    ift::Tape tape;
    const Var th = theta;
    const Vec<Var> x = solve(th);
    VectorXd dx(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) dx(i) = tape.gradient(x(i), th);
    check_near(ift::detail::to_double(x), e.x, tol);
    check_near(dx, e.dx, tol);
  }
  SECTION("Dual<Var>") {
    ift::Tape tape;
    const Var th = theta;
    const Vec<Dual<Var>> x = solve(Dual<Var>(th, Var::constant(1.0)));
    VectorXd dx(x.size()), d2x(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      dx(i) = tape.gradient(x(i).a, th);
      d2x(i) = tape.gradient(x(i).v(0), th);
    }
    check_near(tangent(x, 0), e.dx, tol);
    check_near(dx, e.dx, tol);
    check_near(d2x, e.d2x, 100 * tol);
  }
}

}  // namespace ift_test
