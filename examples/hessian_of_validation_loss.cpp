// Second derivatives through an argmin by reverse over forward: a Hessian-vector product and the full
// Hessian of a validation loss with respect to the hyperparameters of the training problem.
//
// Training (one penalty per feature, λⱼ = e^ρⱼ):
//     w*(ρ) = argmin_w  ½‖X w − y‖² + ½ Σⱼ e^ρⱼ wⱼ²
// Validation:
//     V(ρ) = ½‖X_val w*(ρ) − y_val‖².
//
// Give ρ the scalar `Dual<Var>`: each hyperparameter's value is a variable on the tape and its tangent
// is a constant, the direction v. The forward part then carries the directional derivative
// d/dε V(ρ + εv) = vᵀ∇V, and because that tangent is itself a `Var`, one reverse sweep of it gives
// ∇(vᵀ∇V) = H v, the Hessian-vector product, at the cost of a few gradients. With `Dual<Var, k>` and the
// k unit vectors as tangents, the k tangents of V are the k components of ∇V, and k sweeps give the
// rows of H. ift::minimize applies the implicit rule at each level, so w*'s iterations are never
// differentiated. The example checks ∇V, H v and H against central differences of exact gradients.

#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>

#include <ift/minimize.hpp>

namespace {

constexpr int features = 4;
using Vector = Eigen::Matrix<double, features, 1>;
using Matrix = Eigen::Matrix<double, features, features>;

struct Data {
  Eigen::MatrixXd X, X_val;
  Eigen::VectorXd y, y_val;
};

/// A fixed data set (std::mt19937's output is specified by the standard; its distributions are not).
Data make_data(int train, int validation) {
  std::mt19937 engine(7);
  const auto uniform = [&] { return (engine() + 0.5) / 4294967296.0; };
  const auto normal = [&] {
    return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * std::numbers::pi * uniform());
  };
  const Vector w_true(1.0, -0.5, 0.25, 0.0);
  const auto sample = [&](int rows, Eigen::MatrixXd& X, Eigen::VectorXd& y) {
    X.resize(rows, features);
    for (Eigen::Index i = 0; i < X.size(); ++i) X(i) = normal();
    y = X * w_true;
    for (Eigen::Index i = 0; i < rows; ++i) y(i) += 0.8 * normal();
  };
  Data d;
  sample(train, d.X, d.y);
  sample(validation, d.X_val, d.y_val);
  return d;
}

bool check(const char* what, double got, double expected, double tolerance) {
  const bool ok = std::abs(got - expected) <= tolerance;
  std::printf("  %-28s %15.10f   reference %15.10f   %s\n", what, got, expected, ok ? "ok" : "WRONG");
  return ok;
}

}  // namespace

int main() {
  bool ok = true;
  const Data data = make_data(20, 30);

  // Written once for every scalar: w and ρ arrive with one scalar type.
  const auto training_loss = [&](const auto& w, const auto& rho) {
    return 0.5 * (data.X * w - data.y).squaredNorm() +
           0.5 * w.dot(rho.array().exp().matrix().cwiseProduct(w));
  };
  const auto validation_loss = [&](const auto& rho) {
    const auto w = ift::minimize(training_loss, Vector::Zero(), rho, ift::NewtonMin{}).x;
    return 0.5 * (data.X_val * w - data.y_val).squaredNorm();
  };
  const Vector rho(0.5, -0.3, 1.0, 2.0);

  // ∇V by reverse mode: exact, and the reference for the differences below.
  const auto gradient_at = [&](const Vector& at) {
    ift::Tape tape;
    const Eigen::Matrix<ift::Var, features, 1> r = at.cast<ift::Var>();
    return Vector(tape.gradient(validation_loss(r), r));
  };
  const Vector g = gradient_at(rho);

  std::printf("Hessian-vector product by reverse over forward (Dual<Var>)\n");
  const Vector v(1.0, 2.0, -1.0, 0.5);
  Vector g_rof, hv;
  {
    ift::Tape tape;
    using D = ift::Dual<ift::Var, 1>;
    // The seeding rule: values are variables on the tape, tangents are constants (the direction v).
    Eigen::Matrix<ift::Var, features, 1> r;
    Eigen::Matrix<D, features, 1> rho_d;
    for (int j = 0; j < features; ++j) {
      r(j) = rho(j);
      rho_d(j) = D(r(j), ift::Var::constant(v(j)));
    }
    const D V = validation_loss(rho_d);
    g_rof = tape.gradient(V.value(), r);    // ∇V, from the value part
    hv = tape.gradient(V.tangent()(0), r);  // ∇(vᵀ∇V) = H v
    ok &= check("dV/dv = v'grad V", V.tangent()(0).value(), v.dot(g), 1e-10);
  }
  for (int j = 0; j < features; ++j) ok &= check("grad V (value part)", g_rof(j), g(j), 1e-12);

  std::printf("Full Hessian: Dual<Var, %d> with the unit vectors as tangents, one sweep per row\n", features);
  Matrix H;
  {
    ift::Tape tape;
    using D = ift::Dual<ift::Var, features>;
    Eigen::Matrix<ift::Var, features, 1> r;
    Eigen::Matrix<D, features, 1> rho_d;
    for (int j = 0; j < features; ++j) {
      r(j) = rho(j);
      rho_d(j) = D(r(j), Vector::Unit(j).unaryExpr([](double e) { return ift::Var::constant(e); }));
    }
    const D V = validation_loss(rho_d);
    for (int i = 0; i < features; ++i) H.row(i) = tape.gradient(V.tangent()(i), r).transpose();
  }

  // References: central differences of the exact gradient, h² ≈ 1e-10 truncation.
  const double h = 1e-5;
  Matrix H_fd;
  for (int j = 0; j < features; ++j) {
    const Vector e = h * Vector::Unit(j);
    H_fd.col(j) = (gradient_at(rho + e) - gradient_at(rho - e)) / (2 * h);
  }
  const double scale = 1e-7 * (1 + H_fd.cwiseAbs().maxCoeff());
  for (int i = 0; i < features; ++i)
    for (int j = 0; j < features; ++j) ok &= check("H(i, j) vs differences", H(i, j), H_fd(i, j), scale);
  for (int i = 0; i < features; ++i)
    ok &= check("(H v)_i vs H * v", hv(i), (H * v)(i), 1e-10 * (1 + hv.norm()));
  ok &= check("asymmetry max |H - H'|", (H - H.transpose()).cwiseAbs().maxCoeff(), 0.0, 1e-10);

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
