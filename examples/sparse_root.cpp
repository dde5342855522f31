// A large sparse system, with no sparsity written by hand.
//
// Broyden's tridiagonal system with a parameter per equation,
//     gᵢ(x, θ) = (3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1 − θᵢ,   x₀ = xₙ₊₁ = 0,
// with n = 10 000 unknowns. A dense Jacobian would hold 10⁸ entries and its LU take minutes; here
// `SparseLU` detects the tridiagonal pattern by running g once on tracers, colors it with 3 colors,
// and fills the Jacobian with one forward pass per Newton step — in Newton and in the adjoint.
//
// The check: ∂g/∂θ = −I, so ∇θ(wᵀx*) = λ with (∂g/∂x)ᵀλ = w, solved here independently with the
// Jacobian written out by hand and Eigen's own sparse LU.

#include <cmath>
#include <cstdio>
#include <vector>

#include <Eigen/SparseLU>
#include <ift/ift.hpp>
#include <ift/sparse.hpp>

int main() {
  const Eigen::Index n = 10000;
  const auto g = [](const auto& x, const auto& theta) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    const Eigen::Index m = x.size();
    Eigen::Matrix<S, Eigen::Dynamic, 1> r(m);
    for (Eigen::Index i = 0; i < m; ++i) {
      S ri = (3.0 - 2.0 * x(i)) * x(i) + 1.0 - theta(i);
      if (i > 0) ri -= x(i - 1);
      if (i + 1 < m) ri -= 2.0 * x(i + 1);
      r(i) = ri;
    }
    return r;
  };
  const Eigen::VectorXd theta = Eigen::VectorXd::LinSpaced(n, -0.1, 0.1);
  const Eigen::VectorXd w = Eigen::VectorXd::LinSpaced(n, 1.0, 2.0);
  const Eigen::VectorXd x0 = Eigen::VectorXd::Constant(n, -1.0);

  ift::Tape tape;
  const Eigen::Matrix<ift::Var, Eigen::Dynamic, 1> p = theta.cast<ift::Var>();
  const auto s =
      ift::root(g, x0, p, ift::Newton{.linear_solver = ift::SparseLU{}}, ift::Implicit<ift::SparseLU>{});
  const ift::Var loss = s.x.dot(w);  // wᵀx*: double weights are constants, only x* is recorded
  const Eigen::VectorXd gradient = tape.gradient(loss, p);

  // The reference: (∂g/∂x)ᵀ λ = w with ∂g/∂x written out.
  const Eigen::VectorXd x = ift::value(s.x);
  std::vector<Eigen::Triplet<double>> entries;
  for (Eigen::Index i = 0; i < n; ++i) {
    entries.emplace_back(i, i, 3.0 - 4.0 * x(i));
    if (i > 0) entries.emplace_back(i - 1, i, -1.0);      // Jᵀ(i − 1, i) = J(i, i − 1)
    if (i + 1 < n) entries.emplace_back(i + 1, i, -2.0);  // Jᵀ(i + 1, i) = J(i, i + 1)
  }
  Eigen::SparseMatrix<double> jt(n, n);
  jt.setFromTriplets(entries.begin(), entries.end());
  const Eigen::SparseLU<Eigen::SparseMatrix<double>> lu(jt);
  const Eigen::VectorXd lambda = lu.solve(w);

  const double error = (gradient - lambda).lpNorm<Eigen::Infinity>() / lambda.lpNorm<Eigen::Infinity>();
  const double residual = g(x, theta).norm();
  std::printf("n = %ld: Newton took %d steps, |g(x*)| = %.2e\n", static_cast<long>(n), s.iterations,
              residual);
  std::printf("gradient of w'x* w.r.t. theta: first entries %.10f %.10f %.10f\n", gradient(0), gradient(1),
              gradient(2));
  std::printf("relative error against the hand-written adjoint solve: %.2e\n", error);
  const bool ok = error < 1e-10 && residual < 1e-9;
  std::printf("%s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
