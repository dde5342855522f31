// Seed notebook 000: inverting f(x) = x² by root finding, and differentiating the root.
//
// x(θ) solves g(x, θ) = x² − θ = 0. Differentiating g(x(θ), θ) = 0 in θ gives
//     ∂g/∂x · dx/dθ + ∂g/∂θ = 0   ⇒   dx/dθ = −(∂g/∂θ)/(∂g/∂x) = 1/(2x),
// so at θ = 9: x = 3, dx/dθ = 1/6, and (differentiating 1/(2x) once more) d²x/dθ² = −1/(4x³) = −1/108.
// The rule needs g at the root only: the solver's iterations are not differentiated. Every root solver
// gives the same derivative, and Dual<Dual<double>> gives the second derivative with no extra code.

#include <chrono>
#include <cmath>
#include <cstdio>

#include <ift/root.hpp>

namespace {

bool check(const char* what, double got, double expected, double tolerance) {
  const bool ok = std::abs(got - expected) <= tolerance;
  std::printf("  %-34s %18.15f   reference %18.15f   %s\n", what, got, expected, ok ? "ok" : "WRONG");
  return ok;
}

/// Mean wall time of `f()` in microseconds (an illustration, not a benchmark: see docs/benchmarks.md).
template <class Fn>
double microseconds(Fn&& f, int repeats = 100) {
  const auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < repeats; ++k) f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
         repeats;
}

}  // namespace

int main() {
  bool ok = true;
  const auto g = [](const auto& x, const auto& theta) { return x * x - theta; };

  std::printf("x(theta) with x^2 = theta, at theta = 9\n");
  const ift::Dual<double> x = ift::root(g, 1.0, ift::Dual<double>(9.0, 1.0)).x;
  ok &= check("x", x.value(), 3.0, 1e-14);
  ok &= check("dx/dtheta (forward)", x.tangent()(0), 1.0 / 6, 1e-14);

  using D2 = ift::Dual<ift::Dual<double>>;
  const D2 theta2(ift::Dual<double>(9.0, 1.0), ift::Dual<double>(1.0, 0.0));
  const D2 x2 = ift::root(g, 1.0, theta2).x;
  ok &= check("d2x/dtheta2 (nested forward)", x2.tangent()(0).tangent()(0), -1.0 / 108, 1e-14);

  {
    ift::Tape tape;
    const ift::Var theta = 9.0;
    const ift::Var y = ift::root(g, 1.0, theta).x;
    ok &= check("dx/dtheta (reverse)", tape.gradient(y, theta), 1.0 / 6, 1e-14);
  }

  std::printf("The same derivative from every root solver\n");
  const ift::Dual<double> theta(9.0, 1.0);
  ok &= check("Newton", ift::root(g, 1.0, theta, ift::Newton{}).x.tangent()(0), 1.0 / 6, 1e-12);
  ok &= check("Broyden", ift::root(g, 1.0, theta, ift::Broyden{}).x.tangent()(0), 1.0 / 6, 1e-12);
  ok &= check("Bisection on [0, 10]",
              ift::root(g, 1.0, theta, ift::Bisection{.lo = 0, .hi = 10}).x.tangent()(0), 1.0 / 6, 1e-12);
  ok &= check("Brent on [0, 10]", ift::root(g, 1.0, theta, ift::Brent{.lo = 0, .hi = 10}).x.tangent()(0),
              1.0 / 6, 1e-12);

  std::printf("Implicit rule against differentiating the solver's iterations (reverse mode)\n");
  // The notebook's solver: exactly 1000 Newton steps x ← x − g/g′, with g′ from a dual number. It is
  // written for any scalar: ift::root runs it on doubles, and running it on Vars ourselves records
  // every step on the tape, which is what differentiating through the solver means.
  const auto newton_1000 = [](const auto& fp, auto x) {
    using S = decltype(x);
    for (int k = 0; k < 1000; ++k) {
      const ift::Dual<S> gx = fp(ift::Dual<S>(x, S(1.0)));
      x = x - gx.value() / gx.tangent()(0);
    }
    return x;
  };
  std::size_t implicit_bytes = 0, unrolled_bytes = 0;
  double implicit_derivative = 0, unrolled_derivative = 0;
  const double implicit_us = microseconds([&] {
    ift::Tape tape;
    const ift::Var th = 9.0;
    const ift::Var y = ift::root(g, 1.0, th, newton_1000).x;
    implicit_bytes = tape.bytes();
    implicit_derivative = tape.gradient(y, th);
  });
  const double unrolled_us = microseconds([&] {
    ift::Tape tape;
    const ift::Var th = 9.0;
    const ift::Var y = newton_1000([&](const auto& x) { return g(x, th); }, ift::Var(1.0));
    unrolled_bytes = tape.bytes();
    unrolled_derivative = tape.gradient(y, th);
  });
  ok &= check("dx/dtheta (implicit)", implicit_derivative, 1.0 / 6, 1e-14);
  ok &= check("dx/dtheta (unrolled)", unrolled_derivative, 1.0 / 6, 1e-14);
  ok &= check(
      "dx/dtheta (ift::Unrolled, Newton)",
      [&] {
        ift::Tape tape;
        const ift::Var th = 9.0;
        return tape.gradient(ift::root(g, 1.0, th, ift::Newton{}, ift::Unrolled{}).x, th);
      }(),
      1.0 / 6, 1e-14);
  std::printf("  implicit: %7.2f us, tape %7zu bytes\n", implicit_us, implicit_bytes);
  std::printf("  unrolled: %7.2f us, tape %7zu bytes (timings are illustrations only)\n", unrolled_us,
              unrolled_bytes);

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
