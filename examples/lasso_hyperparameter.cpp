// Bilevel optimization: tuning the lasso penalty by gradient descent on a validation loss.
//
// Inner problem (training), for a penalty λ = e^ρ:
//     w*(ρ) = argmin_w  ½‖X w − y‖² + e^ρ ‖w‖₁
// Outer problem (validation):
//     V(ρ) = ½‖X_val w*(ρ) − y_val‖²,   minimized over ρ.
//
// The L1 term is not differentiable, so w* is no stationary point of a smooth objective; it is the
// fixed point of proximal gradient, w = prox_{ηλ‖·‖₁}(w − η∇f(w)), and ift::minimize_composite
// differentiates those conditions. On the support S of w* (with signs s) that gives the closed form
//     dw_S/dλ = −(X_SᵀX_S)⁻¹ s,   dw_{not S} = 0,
// which the example checks, with a central finite difference of V, before a few descent steps on ρ.

#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include <ift/minimize_composite.hpp>
#include <ift/proximal.hpp>

namespace {

/// A fixed, portable data set with a sparse truth: std::mt19937's output is specified exactly by the
/// standard (its distributions are not, so the uniforms and normals are made here).
struct Data {
  Eigen::MatrixXd X, X_val;
  Eigen::VectorXd y, y_val;
};

Data make_data(int features, int train, int validation) {
  std::mt19937 engine(7);
  const auto uniform = [&] { return (engine() + 0.5) / 4294967296.0; };
  const auto normal = [&] {
    return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * std::numbers::pi * uniform());
  };
  Eigen::VectorXd w_true = Eigen::VectorXd::Zero(features);
  for (Eigen::Index j = 0; j < features; j += 4) w_true(j) = 2.0 * normal();
  const auto sample = [&](int rows, Eigen::MatrixXd& X, Eigen::VectorXd& y) {
    X.resize(rows, features);
    for (Eigen::Index i = 0; i < X.size(); ++i) X(i) = normal();
    y = X * w_true;
    for (Eigen::Index i = 0; i < rows; ++i) y(i) += 1.0 * normal();
  };
  Data d;
  sample(train, d.X, d.y);
  sample(validation, d.X_val, d.y_val);
  return d;
}

bool check(const char* what, double got, double expected, double tolerance) {
  const bool ok = std::abs(got - expected) <= tolerance;
  std::printf("  %-34s %15.10f   reference %15.10f   %s\n", what, got, expected, ok ? "ok" : "WRONG");
  return ok;
}

}  // namespace

int main() {
  bool ok = true;
  const int features = 20;
  const Data data = make_data(features, 30, 50);
  const Eigen::VectorXd w0 = Eigen::VectorXd::Zero(features);

  // The smooth part and the prox of η e^ρ‖·‖₁, generic over the scalar: w, η and ρ arrive with one
  // scalar type S.
  const auto training_loss = [&](const auto& w, const auto&) {
    return 0.5 * (data.X * w - data.y).squaredNorm();
  };
  const auto l1_prox = [](const auto& v, const auto& eta, const auto& rho) {
    using std::exp;  // for a plain double ρ; Dual and Var find ift's exp by argument-dependent lookup
    return ift::prox_l1(v, eta * exp(rho));
  };

  // V(ρ) and dV/dρ: the inner solve on a tape, the validation loss on top, one reverse sweep.
  const auto hypergradient = [&](double rho_value) {
    ift::Tape tape;
    const ift::Var rho = rho_value;
    const Eigen::Matrix<ift::Var, Eigen::Dynamic, 1> w =
        ift::minimize_composite(training_loss, l1_prox, w0, rho).x;
    const Eigen::Matrix<ift::Var, Eigen::Dynamic, 1> r = data.X_val * w - data.y_val;
    const ift::Var V = 0.5 * r.squaredNorm();
    return std::pair{V.value(), tape.gradient(V, rho)};
  };
  const auto solve = [&](double rho) { return ift::minimize_composite(training_loss, l1_prox, w0, rho).x; };
  const auto validation_loss = [&](double rho) {
    return 0.5 * (data.X_val * solve(rho) - data.y_val).squaredNorm();
  };

  double rho = std::log(5.0);
  const Eigen::VectorXd w = solve(rho);
  std::vector<Eigen::Index> support;
  for (Eigen::Index j = 0; j < features; ++j)
    if (w(j) != 0.0) support.push_back(j);
  std::printf("The hypergradient at lambda = %.3f (%zu of %d weights nonzero)\n", std::exp(rho),
              support.size(), features);
  const auto [V, dV] = hypergradient(rho);
  const double h = 1e-5;
  const double finite_difference = (validation_loss(rho + h) - validation_loss(rho - h)) / (2 * h);
  ok &= check("V(rho)", V, validation_loss(rho), 1e-10);
  ok &= check("dV/drho vs central difference", dV, finite_difference, 1e-6 * (1 + std::abs(dV)));

  // Closed form on the support: dw_S/dρ = −λ (X_SᵀX_S)⁻¹ sign(w_S), dV/dρ = (X_val w − y_val)ᵀ X_val dw/dρ.
  const Eigen::MatrixXd xs = data.X(Eigen::all, support);
  const Eigen::VectorXd signs = w(support).cwiseSign();
  Eigen::VectorXd dw = Eigen::VectorXd::Zero(features);
  dw(support) = -std::exp(rho) * (xs.transpose() * xs).ldlt().solve(signs);
  const double closed_form = (data.X_val * w - data.y_val).dot(data.X_val * dw);
  ok &= check("dV/drho vs closed form", dV, closed_form, 1e-7 * (1 + std::abs(dV)));

  std::printf("Descent on rho = log(lambda), the step halved until V decreases\n");
  double value = V, gradient = dV;
  for (int k = 0; k < 6; ++k) {
    std::printf("  step %d: lambda = %8.4f, validation loss = %.8f, dV/drho = %+.3e\n", k, std::exp(rho),
                value, gradient);
    double step = 0.5 / (1e-12 + std::abs(gradient));  // a first move of half a unit in log λ
    double next = validation_loss(rho - step * gradient);
    for (int halvings = 0; next >= value && halvings < 30; ++halvings) {
      step *= 0.5;
      next = validation_loss(rho - step * gradient);
    }
    if (!(next < value)) {
      std::printf("  no step lowered the validation loss: WRONG\n");
      ok = false;
      break;
    }
    rho -= step * gradient;
    std::tie(value, gradient) = hypergradient(rho);
  }
  const bool lowered = value < V;
  std::printf("  validation loss %.8f -> %.8f: %s\n", V, value, lowered ? "lowered" : "WRONG");
  ok &= lowered;

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
