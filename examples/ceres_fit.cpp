// An outside solver, end to end: fit y = a·exp(−b t) + c with Ceres, then the derivatives of the fitted
// parameters p = (a, b, c) with respect to the data y through ift::implicit.
//
// Ceres minimizes ½ Σᵢ rᵢ(p, y)², rᵢ = a e^(−b tᵢ) + c − yᵢ. Its answer p* satisfies the stationarity
// conditions
//     c(p, y) = Jᵀ r = Σᵢ rᵢ ∇ₚrᵢ = 0,   ∇ₚrᵢ = (e^(−b tᵢ), −a tᵢ e^(−b tᵢ), 1),
// so the implicit function theorem gives dp*/dy = −(∂c/∂p)⁻¹ ∂c/∂y from c at p* alone: Ceres' iterations
// are never differentiated, and Ceres needs to know nothing about ift. ift::implicit_solution also reports
// ‖c(p*, y)‖, which says how far the outside answer is from the conditions the derivatives assume.
// The example checks dp*/dy against central differences of tighter Ceres solves.

#include <cmath>
#include <cstdio>
#include <vector>

#include <ceres/ceres.h>
#include <ift/ift.hpp>

namespace {

constexpr int samples = 20;

/// One residual rᵢ = a e^(−b tᵢ) + c − yᵢ for Ceres' automatic differentiation (ceres::Jet).
struct ExponentialResidual {
  double t, y;
  template <class T>
  bool operator()(const T* p, T* r) const {
    r[0] = p[0] * exp(-p[1] * t) + p[2] - y;
    return true;
  }
};

/// Fits (a, b, c) to (t, y) from `start` with Ceres' trust-region Levenberg–Marquardt.
Eigen::Vector3d fit(const Eigen::VectorXd& t, const Eigen::VectorXd& y, double tolerance) {
  Eigen::Vector3d p(1.0, 0.5, 0.0);
  ceres::Problem problem;
  for (int i = 0; i < samples; ++i)
    problem.AddResidualBlock(
        new ceres::AutoDiffCostFunction<ExponentialResidual, 1, 3>(new ExponentialResidual{t(i), y(i)}),
        nullptr, p.data());
  ceres::Solver::Options options;
  options.function_tolerance = tolerance;
  options.gradient_tolerance = tolerance;
  options.parameter_tolerance = tolerance;
  options.max_num_iterations = 200;
  ceres::Solver::Summary summary;
  ceres::Solve(options, &problem, &summary);
  return p;
}

bool check(const char* what, double got, double expected, double tolerance) {
  const bool ok = std::abs(got - expected) <= tolerance;
  std::printf("  %-26s %15.10f   reference %15.10f   %s\n", what, got, expected, ok ? "ok" : "WRONG");
  return ok;
}

}  // namespace

int main() {
  bool ok = true;
  Eigen::VectorXd t(samples), y(samples);
  for (int i = 0; i < samples; ++i) {
    t(i) = 0.25 * i;
    // Data from a = 2, b = 0.7, c = 0.5 with a deterministic perturbation.
    y(i) = 2.0 * std::exp(-0.7 * t(i)) + 0.5 + 0.02 * std::sin(3.0 * i);
  }

  // The stationarity conditions Jᵀr, written once for every scalar (p and y arrive with one scalar type).
  const auto conditions = [&t](const auto& p, const auto& data) {
    using S = typename std::decay_t<decltype(p)>::Scalar;
    using std::exp;  // for plain double p
    Eigen::Matrix<S, 3, 1> g = Eigen::Matrix<S, 3, 1>::Zero();
    for (int i = 0; i < samples; ++i) {
      const S e = exp(-p(1) * t(i));
      const S r = p(0) * e + p(2) - data(i);
      g += r * Eigen::Matrix<S, 3, 1>(e, -p(0) * t(i) * e, S(1.0));
    }
    return g;
  };

  std::printf("Ceres fit of y = a exp(-b t) + c to %d samples\n", samples);
  const Eigen::Vector3d p_star = fit(t, y, 1e-12);
  std::printf("  a = %.10f, b = %.10f, c = %.10f\n", p_star(0), p_star(1), p_star(2));

  // How well Ceres' answer satisfies the conditions the derivatives rest on.
  const auto report = ift::implicit_solution(conditions, p_star, y, {.tol = 1e-8});
  std::printf("  |J'r| at Ceres' answer = %.2e (%s)\n", report.residual_norm,
              report ? "within 1e-8" : "NOT within 1e-8");
  ok &= static_cast<bool>(report);

  std::printf("dp*/dy by ift::implicit, reverse mode (one sweep per fitted parameter)\n");
  ift::Tape tape;
  const Eigen::Matrix<ift::Var, Eigen::Dynamic, 1> y_var = y.cast<ift::Var>();
  const Eigen::Matrix<ift::Var, 3, 1> p = ift::implicit(conditions, p_star, y_var);
  Eigen::Matrix<double, 3, samples> dp_dy;
  for (int k = 0; k < 3; ++k) dp_dy.row(k) = tape.gradient(p(k), y_var).transpose();

  std::printf("the same by forward mode, one direction per sample\n");
  using D = ift::Dual<double, ift::Dynamic>;
  Eigen::Matrix<D, Eigen::Dynamic, 1> y_dual(samples);
  for (int i = 0; i < samples; ++i) y_dual(i) = D(y(i), Eigen::VectorXd::Unit(samples, i));
  const Eigen::Matrix<D, 3, 1> p_dual = ift::implicit(conditions, p_star, y_dual);
  double forward_gap = 0;
  for (int k = 0; k < 3; ++k)
    forward_gap =
        std::max(forward_gap, (p_dual(k).tangent().transpose() - dp_dy.row(k)).cwiseAbs().maxCoeff());
  ok &= check("max |forward - reverse|", forward_gap, 0.0, 1e-12);

  // Central differences of tight re-fits, Richardson-extrapolated: D(h) = (p(y + h eᵢ) − p(y − h eᵢ))/2h
  // has error O(h²) + O(ε/h) for a fit accurate to ε ≈ 1e-10, and (4 D(h/2) − D(h))/3 cancels the h² term,
  // so h = 1e-2 leaves both parts near 1e-8.
  std::printf("checked against Richardson-extrapolated central differences of Ceres re-fits\n");
  const auto central = [&](int i, double h) {
    Eigen::VectorXd up = y, down = y;
    up(i) += h;
    down(i) -= h;
    return Eigen::Vector3d((fit(t, up, 1e-15) - fit(t, down, 1e-15)) / (2 * h));
  };
  for (int i : {0, 7, 19}) {
    const Eigen::Vector3d difference = (4 * central(i, 5e-3) - central(i, 1e-2)) / 3;
    for (int k = 0; k < 3; ++k) ok &= check("dp_k/dy_i", dp_dy(k, i), difference(k), 1e-6);
  }

  // Shifting every yᵢ by δ shifts the fitted offset c by δ and leaves a and b: Σᵢ dc/dyᵢ = 1, Σᵢ da/dyᵢ = 0.
  ok &= check("sum_i dc/dy_i", dp_dy.row(2).sum(), 1.0, 1e-10);
  ok &= check("sum_i da/dy_i", dp_dy.row(0).sum(), 0.0, 1e-10);

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
