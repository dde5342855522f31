// Many solves of one structure: the pattern detected once, kept in a `SparseAnalysis`.
//
// A chain of n masses on springs, xᵢ the displacement of mass i, pulled by loads θ:
//     gᵢ(x, θ) = xᵢ + xᵢ³/3 + (xᵢ − xᵢ₋₁) + (xᵢ − xᵢ₊₁) − θᵢ = 0,   x₀ = xₙ₊₁ = 0,
// solved for 50 load cases, with the gradient of the mean displacement (1/n)Σxᵢ* for each. Every
// solve has the same tridiagonal ∂g/∂x, so the handle records its pattern, coloring and bandwidths at
// the first solve, and every later Newton step and every implicit-rule factorization only fills the
// band and refactorizes it: `patterns_detected()` stays at 1. The handle is shared by the Newton
// solver and the adjoint (copies share one state).
//
// The check: ∂g/∂θ = −I, so ∇θ(1ᵀx*/n) = λ with (∂g/∂x)ᵀλ = 1/n, ∂g/∂x = tridiag(−1, 3 + xᵢ², −1),
// solved densely here; and the same gradients as solves that detect the pattern afresh.

#include <cmath>
#include <cstdio>

#include <Eigen/LU>
#include <ift/ift.hpp>
#include <ift/sparse.hpp>

int main() {
  const Eigen::Index n = 200;
  const auto g = [](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    const Eigen::Index m = x.size();
    Eigen::Matrix<S, Eigen::Dynamic, 1> r(m);
    for (Eigen::Index i = 0; i < m; ++i) {
      S ri = x(i) + x(i) * x(i) * x(i) / 3.0 - theta(i) + 2.0 * x(i);
      if (i > 0) ri -= x(i - 1);
      if (i + 1 < m) ri -= x(i + 1);
      r(i) = ri;
    }
    return r;
  };
  const Eigen::VectorXd x0 = Eigen::VectorXd::Zero(n);

  const ift::SparseAnalysis analysis;  // empty: the first solve fills it
  const ift::Newton newton{.linear_solver = ift::BandedLU{.analysis = analysis}, .tol = 1e-12};
  const ift::Implicit<ift::BandedLU> adjoint{{.analysis = analysis}};

  double worst_exact = 0.0, worst_fresh = 0.0;
  for (int load_case = 0; load_case < 50; ++load_case) {
    const Eigen::VectorXd theta =
        Eigen::VectorXd::LinSpaced(n, -1.0, 1.0).array().sin() * (1.0 + 0.1 * load_case);
    const auto gradient_with = [&](const ift::Newton& solver, const auto& implicit) {
      ift::Tape tape;
      const Eigen::Matrix<ift::Var, Eigen::Dynamic, 1> p = theta.cast<ift::Var>();
      const auto s = ift::root(g, x0, p, solver, implicit);
      const ift::Var mean = s.x.sum() / static_cast<double>(n);
      return std::pair{Eigen::VectorXd(ift::value(s.x)), Eigen::VectorXd(tape.gradient(mean, p))};
    };
    const auto [x, gradient] = gradient_with(newton, adjoint);
    const auto fresh = gradient_with(ift::Newton{.linear_solver = ift::BandedLU{}, .tol = 1e-12},
                                     ift::Implicit<ift::BandedLU>{});

    Eigen::MatrixXd J = Eigen::MatrixXd::Zero(n, n);
    for (Eigen::Index i = 0; i < n; ++i) {
      J(i, i) = 3.0 + x(i) * x(i);
      if (i > 0) J(i, i - 1) = -1.0;
      if (i + 1 < n) J(i, i + 1) = -1.0;
    }
    const Eigen::VectorXd lambda =
        J.transpose().partialPivLu().solve(Eigen::VectorXd::Constant(n, 1.0 / static_cast<double>(n)));
    worst_exact = std::max(worst_exact,
                           (gradient - lambda).lpNorm<Eigen::Infinity>() / lambda.lpNorm<Eigen::Infinity>());
    worst_fresh = std::max(worst_fresh, (gradient - fresh.second).lpNorm<Eigen::Infinity>());
  }

  std::printf(
      "50 solves of n = %ld: the pattern was detected %d time(s); band kl = %ld, ku = %ld, %d colors\n",
      static_cast<long>(n), analysis.patterns_detected(), static_cast<long>(analysis.bandwidth().lower),
      static_cast<long>(analysis.bandwidth().upper), analysis.coloring().colors);
  std::printf(
      "gradients: max relative error against the exact ones %.2e, max difference from fresh "
      "analyses %.2e\n",
      worst_exact, worst_fresh);
  const bool ok = analysis.patterns_detected() == 1 && analysis.bandwidth().lower == 1 &&
                  analysis.bandwidth().upper == 1 && worst_exact < 1e-12 && worst_fresh == 0.0;
  std::printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
