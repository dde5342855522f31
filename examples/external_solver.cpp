// Seed notebook 004: solvers that are not ift's own.
//
//  1. Bring your own solver. The notebook is a JAX discussion: a root solver that closes over data
//     (there, the matrix of a linear system) broke under JAX's tracing. In ift a solver is any callable
//     solve(fp, x0) on plain doubles; it may close over whatever it likes, and only the θ handed to
//     ift::root is differentiated. Here the problem is the notebook's A y − b = 0 with θ = (A, b), and
//     the solver is a chord method y ← y − M⁻¹ fp(y) that closes over a factorized matrix M ≈ A.
//     Its derivatives must be those of solve(A, b): b̄ = A⁻ᵀ ȳ and Ā = −b̄ yᵀ.
//  2. Wrap an external solver. Eigen's HybridNonLinearSolver (Powell's hybrid method from MINPACK)
//     knows nothing of AD; it finds x with c(x, θ) = A x + 0.1 sin(x) − θ = 0 on doubles, and
//     ift::implicit attaches the derivatives: dx/dθ = (∂c/∂x)⁻¹ = (A + 0.1 diag(cos x))⁻¹.

#include <cmath>
#include <cstdio>
#include <tuple>

#include <ift/implicit.hpp>
#include <ift/root.hpp>
#include <unsupported/Eigen/NonLinearOptimization>

namespace {

bool check(const char* what, double got, double expected, double tolerance) {
  const bool ok = std::abs(got - expected) <= tolerance;
  std::printf("  %-30s %15.12f   reference %15.12f   %s\n", what, got, expected, ok ? "ok" : "WRONG");
  return ok;
}

const Eigen::Matrix3d A = (Eigen::Matrix3d() << 4, 1, 0, 1, 3, 0.5, 0, 0.5, 2).finished();

/// c(x, θ) = A x + 0.1 sin(x) − θ, generic over the scalar like every ift function.
const auto conditions = [](const auto& x, const auto& theta) {
  return (A * x + 0.1 * x.array().sin().matrix() - theta).eval();
};

/// The same c in the form Eigen's MINPACK port wants: a functor filling `fvec`, on doubles only.
struct MinpackConditions {
  using Scalar = double;
  Eigen::Vector3d theta;
  int operator()(const Eigen::VectorXd& x, Eigen::VectorXd& fvec) const {
    fvec = conditions(Eigen::Vector3d(x), theta);
    return 0;
  }
};

}  // namespace

int main() {
  bool ok = true;

  std::printf("1. A user solver that closes over data: the chord method for A y = b\n");
  {
    Eigen::Matrix2d a;
    a << 3, 1, 1, 2;
    const Eigen::Vector2d b(1, -1);
    // The data the solver closes over: a factorization of an approximation of A (its diagonal).
    const Eigen::PartialPivLU<Eigen::Matrix2d> approximate(Eigen::Matrix2d(a.diagonal().asDiagonal()));
    int iterations = 0;
    const auto chord = [&](const auto& fp, Eigen::Vector2d y) {
      for (iterations = 0; iterations < 200 && fp(y).norm() > 1e-14; ++iterations)
        y -= approximate.solve(fp(y));
      return y;
    };
    const auto residual = [](const auto& y, const auto& theta) {
      const auto& [matrix, rhs] = theta;
      return (matrix * y - rhs).eval();
    };

    ift::Tape tape;
    const std::tuple<Eigen::Matrix<ift::Var, 2, 2>, Eigen::Matrix<ift::Var, 2, 1>> theta(a.cast<ift::Var>(),
                                                                                         b.cast<ift::Var>());
    const Eigen::Matrix<ift::Var, 2, 1> y = ift::root(residual, Eigen::Vector2d::Zero(), theta, chord).x;
    const auto [a_bar, b_bar] = tape.gradient(y(0), theta);

    const Eigen::Vector2d y_ref = a.lu().solve(b);
    const Eigen::Vector2d b_bar_ref = a.transpose().lu().solve(Eigen::Vector2d(1, 0));
    const Eigen::Matrix2d a_bar_ref = -b_bar_ref * y_ref.transpose();
    std::printf("  the chord method took %d iterations\n", iterations);
    ok &= check("y0", y(0).value(), y_ref(0), 1e-13);
    ok &= check("dy0/db0", b_bar(0), b_bar_ref(0), 1e-13);
    ok &= check("dy0/db1", b_bar(1), b_bar_ref(1), 1e-13);
    ok &= check("dy0/dA00", a_bar(0, 0), a_bar_ref(0, 0), 1e-13);
    ok &= check("dy0/dA01", a_bar(0, 1), a_bar_ref(0, 1), 1e-13);
  }

  std::printf("2. Eigen's HybridNonLinearSolver (MINPACK) wrapped with ift::implicit\n");
  {
    const Eigen::Vector3d theta(1.0, -0.5, 2.0);
    MinpackConditions functor{theta};
    Eigen::HybridNonLinearSolver<MinpackConditions> minpack(functor);
    minpack.parameters.xtol = 1e-14;
    Eigen::VectorXd found = Eigen::VectorXd::Zero(3);
    const int info = minpack.hybrd1(found);
    const Eigen::Vector3d x_star = found;
    std::printf("  MINPACK hybrd1 returned info = %d, |c(x*)| = %.1e\n", info,
                conditions(x_star, theta).norm());
    ok &= info == Eigen::HybridNonLinearSolverSpace::RelativeErrorTooSmall;

    const Eigen::Matrix3d J = A + Eigen::Matrix3d(0.1 * x_star.array().cos().matrix().asDiagonal());
    const Eigen::Matrix3d expected = J.inverse();

    // Forward: a tangent per component of θ gives the whole Jacobian dx/dθ in one pass.
    using D = ift::Dual<double, 3>;
    Eigen::Matrix<D, 3, 1> theta_d;
    for (int i = 0; i < 3; ++i) theta_d(i) = D(theta(i), Eigen::Vector3d::Unit(i));
    const Eigen::Matrix<D, 3, 1> x_d = ift::implicit(conditions, x_star, theta_d);
    ok &= check("dx0/dtheta0 (forward)", x_d(0).tangent()(0), expected(0, 0), 1e-12);
    ok &= check("dx1/dtheta2 (forward)", x_d(1).tangent()(2), expected(1, 2), 1e-12);

    // Reverse: the gradient of one output with respect to every component of θ.
    ift::Tape tape;
    const Eigen::Matrix<ift::Var, 3, 1> theta_v = theta.cast<ift::Var>();
    const Eigen::Matrix<ift::Var, 3, 1> x_v = ift::implicit(conditions, x_star, theta_v);
    const Eigen::Vector3d grad = tape.gradient(x_v(2), theta_v);
    for (int j = 0; j < 3; ++j) ok &= check("dx2/dtheta (reverse)", grad(j), expected(2, j), 1e-12);
  }

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
