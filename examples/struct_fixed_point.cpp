// Seed notebook 002: a 2-D fixed point whose parameters are a struct.
//
//     x = F(x; α, β),   F(x) = ( √(α − x₀x₁),  √((57 − x₁)/(β F₀(x))) ),
//
// At α = 10, β = 3 the fixed point is x = (2, 3): F₀ = √(10 − 6) = 2, F₁ = √(54/6) = 3. The implicit
// rule for a fixed point, c = F − x, gives (I − ∂F/∂x) dx = ∂F/∂θ dθ, and with the numbers here
// ∂x/∂α = (37, −27)/205 and ∂x/∂β = (36, −126)/205, the values the notebook prints.
//
// The example computes the whole Jacobian in one forward pass with Dual<double, 2> (one tangent per
// field of the struct), the gradient of each output in reverse mode, and compares the implicit rule
// with differentiating through 1000 plain iterations, as the notebook does: time and tape memory.

#include <chrono>
#include <cmath>
#include <cstdio>

#include <ift/fixed_point.hpp>

namespace {

template <class T>
struct Para {
  T alpha;
  T beta;
};

const auto F = [](const auto& x, const auto& p) {
  using std::sqrt;
  using S = typename std::decay_t<decltype(x)>::Scalar;
  const S f0 = sqrt(p.alpha - x(0) * x(1));
  return Eigen::Matrix<S, 2, 1>(f0, sqrt((57 - x(1)) / (p.beta * f0)));
};

/// The notebook's solver: exactly 1000 steps x ← F(x), whatever the residual. Written for any scalar:
/// ift::fixed_point runs it on doubles, and running it on Vars ourselves records every step on the
/// tape, which is what differentiating through the solver means.
const auto thousand_steps = [](const auto& fp, auto x) {
  for (int k = 0; k < 1000; ++k) x = fp(x);
  return x;
};

bool check(const char* what, double got, double expected, double tolerance) {
  const bool ok = std::abs(got - expected) <= tolerance;
  std::printf("  %-24s %14.10f   reference %14.10f   %s\n", what, got, expected, ok ? "ok" : "WRONG");
  return ok;
}

/// Mean wall time of `f()` in microseconds (an illustration, not a benchmark: see docs/benchmarks.md).
template <class Fn>
double microseconds(Fn&& f, int repeats = 200) {
  const auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < repeats; ++k) f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
         repeats;
}

}  // namespace

int main() {
  bool ok = true;
  const Eigen::Vector2d x0(1.5, 3.5);
  const double dx_dalpha[2] = {37.0 / 205, -27.0 / 205};
  const double dx_dbeta[2] = {36.0 / 205, -126.0 / 205};

  std::printf("Forward: the whole Jacobian in one pass, a tangent per field\n");
  using D = ift::Dual<double, 2>;
  const Para<D> p{D(10.0, Eigen::Vector2d(1, 0)), D(3.0, Eigen::Vector2d(0, 1))};
  const Eigen::Matrix<D, 2, 1> x = ift::fixed_point(F, x0, p).x;
  ok &= check("x0", x(0).value(), 2.0, 1e-10);
  ok &= check("x1", x(1).value(), 3.0, 1e-10);
  for (int i = 0; i < 2; ++i) {
    ok &= check(i == 0 ? "dx0/dalpha = 37/205" : "dx1/dalpha = -27/205", x(i).tangent()(0), dx_dalpha[i],
                1e-10);
    ok &=
        check(i == 0 ? "dx0/dbeta = 36/205" : "dx1/dbeta = -126/205", x(i).tangent()(1), dx_dbeta[i], 1e-10);
  }

  std::printf("Reverse: the gradient of each output on a tape\n");
  {
    ift::Tape tape;
    const Para<ift::Var> pv{10.0, 3.0};
    const Eigen::Matrix<ift::Var, 2, 1> xv = ift::fixed_point(F, x0, pv).x;
    for (int i = 0; i < 2; ++i) {
      const Para<double> g = tape.gradient(xv(i), pv);
      ok &= check(i == 0 ? "grad x0: alpha" : "grad x1: alpha", g.alpha, dx_dalpha[i], 1e-10);
      ok &= check(i == 0 ? "grad x0: beta" : "grad x1: beta", g.beta, dx_dbeta[i], 1e-10);
    }
  }

  std::printf("Implicit rule against 1000 unrolled iterations (reverse mode)\n");
  std::size_t implicit_bytes = 0, unrolled_bytes = 0;
  double implicit_alpha = 0, unrolled_alpha = 0;
  const double implicit_us = microseconds([&] {
    ift::Tape tape;
    const Para<ift::Var> pv{10.0, 3.0};
    const ift::Var x0_out = ift::fixed_point(F, x0, pv, thousand_steps).x(0);
    implicit_bytes = tape.bytes();
    implicit_alpha = tape.gradient(x0_out, pv.alpha);
  });
  const double unrolled_us = microseconds([&] {
    ift::Tape tape;
    const Para<ift::Var> pv{10.0, 3.0};
    const auto map = [&](const auto& x) { return F(x, pv); };
    const ift::Var x0_out = thousand_steps(map, Eigen::Matrix<ift::Var, 2, 1>(x0.cast<ift::Var>()))(0);
    unrolled_bytes = tape.bytes();
    unrolled_alpha = tape.gradient(x0_out, pv.alpha);
  });
  ok &= check("implicit dx0/dalpha", implicit_alpha, dx_dalpha[0], 1e-10);
  ok &= check("unrolled dx0/dalpha", unrolled_alpha, dx_dalpha[0], 1e-10);
  std::printf("  implicit: %8.1f us, tape %8zu bytes\n", implicit_us, implicit_bytes);
  std::printf("  unrolled: %8.1f us, tape %8zu bytes (%.0fx the memory)\n", unrolled_us, unrolled_bytes,
              double(unrolled_bytes) / double(implicit_bytes));
  // The one number here that is not a timing: the unrolled tape holds every iteration.
  ok &= unrolled_bytes > 100 * implicit_bytes;

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
