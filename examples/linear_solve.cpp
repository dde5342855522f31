// Seed notebook 003: "the Jacobian of solve is solve".
//
// x = solve(A, b) satisfies A x = b. When A and b depend on θ, differentiating A x = b gives
//     dA x + A dx = db   ⇒   dx = solve(A, db − dA x),
// and once more, d²x = solve(A, d²b − d²A x − 2 dA dx). So the derivative needs no new factorization:
// the one that gave x serves every tangent direction (and, transposed, every adjoint).
//
// Here A(θ) = [[2 + θ, 1], [1, 3θ]] and b(θ) = [θ², 1] at θ = 0.8, so dA = diag(1, 3), db = [2θ, 0],
// d²A = 0 and d²b = [2, 0]. Then the same rule with a matrix-free operator: A(θ) = tridiag(−1, 2 + θ, −1)
// known only through v ↦ A(θ)v, solved by GMRES and CG, for the value and for the derivative.

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <ift/krylov.hpp>
#include <ift/linear_solve.hpp>

namespace {

template <class S>
Eigen::Matrix<S, 2, 2> A_of(const S& theta) {
  Eigen::Matrix<S, 2, 2> A;
  A << 2 + theta, S(1.0), S(1.0), 3 * theta;
  return A;
}

template <class S>
Eigen::Matrix<S, 2, 1> b_of(const S& theta) {
  return Eigen::Matrix<S, 2, 1>(theta * theta, S(1.0));
}

bool check(const char* what, double got, double expected, double tolerance) {
  const bool ok = std::abs(got - expected) <= tolerance;
  std::printf("  %-26s %16.12f   reference %16.12f   %s\n", what, got, expected, ok ? "ok" : "WRONG");
  return ok;
}

}  // namespace

int main() {
  bool ok = true;
  const double theta = 0.8;

  // The reference values, from the formulas above on plain doubles.
  const Eigen::Matrix2d A = A_of(theta);
  const Eigen::Matrix2d dA = Eigen::Vector2d(1, 3).asDiagonal();
  const Eigen::Vector2d x = A.lu().solve(b_of(theta));
  const Eigen::Vector2d dx = A.lu().solve(Eigen::Vector2d(2 * theta, 0) - dA * x);
  const Eigen::Vector2d d2x = A.lu().solve(Eigen::Vector2d(2, 0) - 2 * dA * dx);

  std::printf("Forward: A and b both carry the tangent of theta\n");
  using D = ift::Dual<double>;
  const D t(theta, 1.0);
  const Eigen::Matrix<D, 2, 1> xf = ift::linear_solve(A_of(t), b_of(t));
  for (int i = 0; i < 2; ++i) {
    ok &= check(i == 0 ? "x0" : "x1", xf(i).value(), x(i), 1e-14);
    ok &= check(i == 0 ? "dx0/dtheta" : "dx1/dtheta", xf(i).tangent()(0), dx(i), 1e-13);
  }

  std::printf("Second derivative: nested duals\n");
  using D2 = ift::Dual<ift::Dual<double>>;
  const D2 t2(ift::Dual<double>(theta, 1.0), ift::Dual<double>(1.0, 0.0));
  const Eigen::Matrix<D2, 2, 1> x2 = ift::linear_solve(A_of(t2), b_of(t2));
  for (int i = 0; i < 2; ++i)
    ok &= check(i == 0 ? "d2x0/dtheta2" : "d2x1/dtheta2", x2(i).tangent()(0).tangent()(0), d2x(i), 1e-12);

  std::printf("Reverse: gradient of x0 with respect to theta, through A and b\n");
  {
    ift::Tape tape;
    const ift::Var tv = theta;
    const Eigen::Matrix<ift::Var, 2, 1> xr = ift::linear_solve(A_of(tv), b_of(tv));
    ok &= check("dx0/dtheta", tape.gradient(xr(0), tv), dx(0), 1e-13);
  }

  std::printf("Matrix-free: A(theta) = tridiag(-1, 2 + theta, -1), n = 200, b = theta * ones\n");
  const auto matvec = [](const auto& v, const auto& th) {
    using S = typename std::decay_t<decltype(v)>::Scalar;
    Eigen::Matrix<S, Eigen::Dynamic, 1> out(v.size());
    for (Eigen::Index i = 0; i < v.size(); ++i) {
      out(i) = (2 + th) * v(i);
      if (i > 0) out(i) -= v(i - 1);
      if (i + 1 < v.size()) out(i) -= v(i + 1);
    }
    return out;
  };
  const int n = 200;
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(n, n);
  for (int i = 0; i < n; ++i) {
    dense(i, i) = 2 + theta;
    if (i > 0) dense(i, i - 1) = dense(i - 1, i) = -1;
  }
  // b = θ·1 and dA = I, so dx = A⁻¹(1 − x).
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(n);
  const Eigen::VectorXd x_ref = dense.lu().solve(theta * ones);
  const Eigen::VectorXd dx_ref = dense.lu().solve(ones - x_ref);
  const Eigen::Matrix<D, Eigen::Dynamic, 1> b = Eigen::Matrix<D, Eigen::Dynamic, 1>::Constant(n, t);
  const Eigen::Matrix<D, Eigen::Dynamic, 1> x_gmres = ift::linear_solve(matvec, b, t, ift::GMRES{});
  const Eigen::Matrix<D, Eigen::Dynamic, 1> x_cg = ift::linear_solve(matvec, b, t, ift::CG{});
  // Away from the ends A·1 = θ·1, so x ≈ 1 there; the ends are where x and dx/dθ move.
  ok &= check("GMRES x[0]", x_gmres(0).value(), x_ref(0), 1e-10);
  ok &= check("GMRES dx[0]/dtheta", x_gmres(0).tangent()(0), dx_ref(0), 1e-9);
  ok &= check("CG dx[0]/dtheta", x_cg(0).tangent()(0), dx_ref(0), 1e-9);
  double worst = 0;
  for (int i = 0; i < n; ++i)
    worst = std::max(
        {worst, std::abs(x_gmres(i).tangent()(0) - dx_ref(i)), std::abs(x_cg(i).tangent()(0) - dx_ref(i))});
  ok &= check("max |dx - reference|", worst, 0.0, 1e-9);

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
