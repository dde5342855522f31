// Sparsemax: the Euclidean projection of a score vector z onto the probability simplex,
//     sparsemax(z) = argmin_{p ≥ 0, Σp = 1} ‖p − z‖² = max(z − τ, 0),
// with τ chosen so that the entries sum to 1 (Martins and Astudillo, 2016). Unlike softmax it gives
// exact zeros. On its support S = {i : zᵢ > τ} it is the affine map z ↦ z − (Σ_{S} z − 1)/|S|, so its
// Jacobian is
//     J = diag(s) − s sᵀ/|S|,   s the indicator of S,
// and ∂p/∂r = s/|S| for the simplex {Σp = r}. `ift::project_simplex` finds S by sorting the values and
// then computes τ from z in the AD scalar, so forward and reverse mode give this J exactly.

#include <cmath>
#include <cstdio>

#include <Eigen/Core>
#include <ift/dual.hpp>
#include <ift/projections.hpp>
#include <ift/var.hpp>

namespace {

bool check(const char* what, double deviation, double tolerance) {
  const bool ok = deviation <= tolerance;
  std::printf("  %-46s max deviation %9.2e   %s\n", what, deviation, ok ? "ok" : "WRONG");
  return ok;
}

double max_abs(const Eigen::MatrixXd& m) { return m.cwiseAbs().maxCoeff(); }

}  // namespace

int main() {
  bool ok = true;
  constexpr int n = 5;
  const Eigen::Matrix<double, n, 1> z(1.2, 0.9, 0.1, -0.5, 0.8);

  const Eigen::Matrix<double, n, 1> p = ift::project_simplex(z);
  const Eigen::Matrix<double, n, 1> softmax = z.array().exp() / z.array().exp().sum();
  std::printf("z         = [% .4f % .4f % .4f % .4f % .4f]\n", z(0), z(1), z(2), z(3), z(4));
  std::printf("softmax   = [% .4f % .4f % .4f % .4f % .4f]\n", softmax(0), softmax(1), softmax(2), softmax(3),
              softmax(4));
  std::printf("sparsemax = [% .4f % .4f % .4f % .4f % .4f]\n", p(0), p(1), p(2), p(3), p(4));

  // By hand: sorted z is 1.2, 0.9, 0.8, 0.1, −0.5; the support is the top three, τ = (2.9 − 1)/3.
  const double tau = 1.9 / 3;
  const Eigen::Matrix<double, n, 1> s(1, 1, 0, 0, 1);
  const Eigen::Matrix<double, n, 1> p_by_hand = (z.array() - tau).max(0.0);
  const Eigen::Matrix<double, n, n> J_closed_form =
      Eigen::Matrix<double, n, n>(s.asDiagonal()) - s * s.transpose() / 3;
  std::printf("Values\n");
  ok &= check("sparsemax against max(z - tau, 0)", max_abs(p - p_by_hand), 1e-15);
  ok &= check("sum of sparsemax - 1", std::abs(p.sum() - 1.0), 1e-15);

  std::printf("Jacobian diag(s) - s s'/|S|\n");
  // Forward mode: five tangent directions, the unit vectors, give the five columns in one evaluation.
  using D5 = ift::Dual<double, n>;
  Eigen::Matrix<D5, n, 1> z_forward;
  for (int k = 0; k < n; ++k) z_forward(k) = D5(z(k), Eigen::Matrix<double, n, 1>::Unit(k));
  const Eigen::Matrix<D5, n, 1> p_forward = ift::project_simplex(z_forward);
  Eigen::Matrix<double, n, n> J_forward;
  for (int i = 0; i < n; ++i) J_forward.row(i) = p_forward(i).tangent().transpose();
  ok &= check("forward mode (Dual<double, 5>)", max_abs(J_forward - J_closed_form), 1e-15);

  // Reverse mode: one sweep per output gives one row.
  {
    ift::Tape tape;
    Eigen::Matrix<ift::Var, n, 1> z_reverse;
    for (int k = 0; k < n; ++k) z_reverse(k) = z(k);
    const Eigen::Matrix<ift::Var, n, 1> p_reverse = ift::project_simplex(z_reverse);
    Eigen::Matrix<double, n, n> J_reverse;
    for (int i = 0; i < n; ++i) J_reverse.row(i) = tape.gradient(p_reverse(i), z_reverse).transpose();
    ok &= check("reverse mode (Var)", max_abs(J_reverse - J_closed_form), 1e-15);

    // A loss on top: L = ½‖p − t‖², so ∇_z L = Jᵀ(p − t), from a single sweep.
    const Eigen::Matrix<double, n, 1> target(0.0, 1.0, 0.0, 0.0, 0.0);
    ift::Var loss = ift::Var::constant(0.0);
    for (int i = 0; i < n; ++i) loss += 0.5 * (p_reverse(i) - target(i)) * (p_reverse(i) - target(i));
    const Eigen::Matrix<double, n, 1> grad = tape.gradient(loss, z_reverse);
    ok &= check("gradient of a loss, J'(p - t)", max_abs(grad - J_closed_form.transpose() * (p - target)),
                1e-15);
  }

  // The radius of the simplex may carry a derivative too: ∂p/∂r = s/|S|.
  const auto p_radius = ift::project_simplex(z, ift::Dual<double>(1.0, 1.0));
  Eigen::Matrix<double, n, 1> dp_dr;
  for (int i = 0; i < n; ++i) dp_dr(i) = p_radius(i).tangent()(0);
  ok &= check("derivative in the radius, s/|S|", max_abs(dp_dr - s / 3), 1e-15);

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
