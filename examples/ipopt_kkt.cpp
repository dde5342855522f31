// Derivatives of a constrained optimum found by IPOPT: the parametric Hock–Schittkowski problem 71,
//
//     min  x₁x₄(x₁ + x₂ + x₃) + x₃
//     s.t. x₁x₂x₃x₄ ≥ θ₀,   x₁² + x₂² + x₃² + x₄² = θ₁,   1 ≤ xᵢ ≤ 5,
//
// at θ = (25, 40), IPOPT's own test problem. IPOPT returns x* and its multipliers; ift::kkt_conditions
// states the KKT conditions of the same problem on z = (x, ν, μ), with the Lagrangian L + νᵀeq + μᵀineq,
// μ ≥ 0, and ift::implicit gives dz*/dθ from those conditions at IPOPT's answer — one linear solve with the
// KKT matrix, IPOPT's iterations never differentiated. The active set is read at the solution: x₁ = 1 and
// the product constraint are active, the other bounds are not. Every derivative IPOPT asks for (gradient,
// constraint Jacobian, Hessian of the Lagrangian) comes from the same generic functions through
// ift::gradient, ift::jacobian and ift::hessian. The example checks dx*/dθ against central differences of
// tighter IPOPT solves.

#include <cmath>
#include <cstdio>

#include <IpIpoptApplication.hpp>
#include <IpTNLP.hpp>
#include <ift/ift.hpp>
#include <ift/kkt.hpp>

namespace {

using Vector4 = Eigen::Matrix<double, 4, 1>;

// The problem, written once for every scalar: x and θ arrive with one scalar type.
const auto objective = [](const auto& x, const auto&) { return x(0) * x(3) * (x(0) + x(1) + x(2)) + x(2); };
const auto equality = [](const auto& x, const auto& theta) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  return Eigen::Matrix<S, 1, 1>(x.squaredNorm() - theta(1));
};
/// ineq(x, θ) ≤ 0: the product constraint, then the bounds 1 − xᵢ ≤ 0 and xᵢ − 5 ≤ 0.
const auto inequality = [](const auto& x, const auto& theta) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  Eigen::Matrix<S, 9, 1> g;
  g(0) = theta(0) - x(0) * x(1) * x(2) * x(3);
  g.template segment<4>(1) = 1.0 - x.array();
  g.template segment<4>(5) = x.array() - 5.0;
  return g;
};

/// HS071 for IPOPT with the bounds on x as IPOPT's variable bounds and the two constraints as g(x).
class Hs071 : public Ipopt::TNLP {
 public:
  explicit Hs071(const Eigen::Vector2d& theta) : theta_(theta) {}
  Vector4 x;
  Eigen::Vector2d lambda;  // IPOPT's multipliers of g: ∇f + ∇g λ − z_L + z_U = 0
  Vector4 z_lower, z_upper;

  bool get_nlp_info(Ipopt::Index& n, Ipopt::Index& m, Ipopt::Index& nnz_jac, Ipopt::Index& nnz_h,
                    IndexStyleEnum& style) override {
    n = 4, m = 2, nnz_jac = 8, nnz_h = 10, style = C_STYLE;
    return true;
  }
  bool get_bounds_info(Ipopt::Index, Ipopt::Number* x_l, Ipopt::Number* x_u, Ipopt::Index, Ipopt::Number* g_l,
                       Ipopt::Number* g_u) override {
    for (int i = 0; i < 4; ++i) x_l[i] = 1.0, x_u[i] = 5.0;
    g_l[0] = theta_(0), g_u[0] = 2e19;  // x₁x₂x₃x₄ ≥ θ₀ (2e19: IPOPT's infinity)
    g_l[1] = g_u[1] = theta_(1);        // Σ xᵢ² = θ₁
    return true;
  }
  bool get_starting_point(Ipopt::Index, bool, Ipopt::Number* x0, bool, Ipopt::Number*, Ipopt::Number*,
                          Ipopt::Index, bool, Ipopt::Number*) override {
    const double start[4] = {1.0, 5.0, 5.0, 1.0};
    std::copy(start, start + 4, x0);
    return true;
  }
  bool eval_f(Ipopt::Index, const Ipopt::Number* x, bool, Ipopt::Number& f) override {
    f = objective(map(x), theta_);
    return true;
  }
  bool eval_grad_f(Ipopt::Index, const Ipopt::Number* x, bool, Ipopt::Number* g) override {
    const Vector4 gradient = ift::gradient([&](const auto& v) { return objective(v, theta_); }, map(x));
    std::copy(gradient.data(), gradient.data() + 4, g);
    return true;
  }
  bool eval_g(Ipopt::Index, const Ipopt::Number* x, bool, Ipopt::Index, Ipopt::Number* g) override {
    const Eigen::Vector2d c = constraints(map(x));
    std::copy(c.data(), c.data() + 2, g);
    return true;
  }
  bool eval_jac_g(Ipopt::Index, const Ipopt::Number* x, bool, Ipopt::Index, Ipopt::Index, Ipopt::Index* rows,
                  Ipopt::Index* cols, Ipopt::Number* values) override {
    if (values == nullptr) {  // structure: dense 2 × 4, row by row
      for (int k = 0; k < 8; ++k) rows[k] = k / 4, cols[k] = k % 4;
      return true;
    }
    const Eigen::Matrix<double, 2, 4, Eigen::RowMajor> J =
        ift::jacobian([&](const auto& v) { return constraints(v); }, map(x));
    std::copy(J.data(), J.data() + 8, values);
    return true;
  }
  bool eval_h(Ipopt::Index, const Ipopt::Number* x, bool, Ipopt::Number sigma, Ipopt::Index,
              const Ipopt::Number* lam, bool, Ipopt::Index, Ipopt::Index* rows, Ipopt::Index* cols,
              Ipopt::Number* values) override {
    int k = 0;
    if (values == nullptr) {  // structure: the lower triangle of a dense 4 × 4
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j <= i; ++j) rows[k] = i, cols[k] = j, ++k;
      return true;
    }
    const auto lagrangian = [&](const auto& v) {
      const auto c = constraints(v);
      return sigma * objective(v, theta_) + lam[0] * c(0) + lam[1] * c(1);
    };
    const Eigen::Matrix4d H = ift::hessian(lagrangian, map(x));
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j <= i; ++j) values[k++] = H(i, j);
    return true;
  }
  void finalize_solution(Ipopt::SolverReturn, Ipopt::Index, const Ipopt::Number* x_out,
                         const Ipopt::Number* zl, const Ipopt::Number* zu, Ipopt::Index, const Ipopt::Number*,
                         const Ipopt::Number* lam, Ipopt::Number, const Ipopt::IpoptData*,
                         Ipopt::IpoptCalculatedQuantities*) override {
    x = map(x_out), z_lower = map(zl), z_upper = map(zu), lambda = Eigen::Vector2d(lam[0], lam[1]);
  }

 private:
  Eigen::Vector2d theta_;
  static Vector4 map(const Ipopt::Number* x) { return Eigen::Map<const Vector4>(x); }
  /// g(x) = (x₁x₂x₃x₄, Σ xᵢ²), IPOPT's form.
  template <class V>
  static Eigen::Matrix<typename V::Scalar, 2, 1> constraints(const V& x) {
    return {x(0) * x(1) * x(2) * x(3), x.squaredNorm()};
  }
};

/// Solves HS071 at θ with IPOPT; null when IPOPT does not report success.
Ipopt::SmartPtr<Hs071> solve(const Eigen::Vector2d& theta, double tol) {
  Ipopt::SmartPtr<Hs071> nlp = new Hs071(theta);
  const Ipopt::SmartPtr<Ipopt::IpoptApplication> app = IpoptApplicationFactory();
  app->Options()->SetNumericValue("tol", tol);
  app->Options()->SetIntegerValue("print_level", 0);
  app->Options()->SetStringValue("sb", "yes");
  const Ipopt::SmartPtr<Ipopt::TNLP> problem = Ipopt::GetRawPtr(nlp);
  if (app->Initialize() != Ipopt::Solve_Succeeded || app->OptimizeTNLP(problem) != Ipopt::Solve_Succeeded)
    return nullptr;
  return nlp;
}

Vector4 solve_x(const Eigen::Vector2d& theta) {
  const Ipopt::SmartPtr<Hs071> nlp = solve(theta, 1e-13);
  return Ipopt::IsValid(nlp) ? nlp->x : Vector4::Constant(std::nan(""));
}

bool check(const char* what, double got, double expected, double tolerance) {
  const bool ok = std::abs(got - expected) <= tolerance;
  std::printf("  %-26s %15.10f   reference %15.10f   %s\n", what, got, expected, ok ? "ok" : "WRONG");
  return ok;
}

}  // namespace

int main() {
  bool ok = true;
  const Eigen::Vector2d theta(25.0, 40.0);
  const Ipopt::SmartPtr<Hs071> nlp = solve(theta, 1e-12);
  if (!Ipopt::IsValid(nlp)) {
    std::printf("IPOPT failed\n");
    return 1;
  }
  std::printf("IPOPT: x* = (%.8f, %.8f, %.8f, %.8f)\n", nlp->x(0), nlp->x(1), nlp->x(2), nlp->x(3));
  ok &= check("f(x*) (published 17.014)", objective(nlp->x, theta), 17.0140173, 1e-6);

  // IPOPT's multipliers in the KKT convention: ν = λ₂ for Σxᵢ² = θ₁; the product constraint is
  // θ₀ − x₁x₂x₃x₄ ≤ 0, the negative of IPOPT's g₁ ≥ θ₀, so μ₀ = −λ₁; the bounds' μ are z_L and z_U.
  Eigen::Matrix<double, 14, 1> z_star;
  z_star << nlp->x, nlp->lambda(1), -nlp->lambda(0), nlp->z_lower, nlp->z_upper;

  const auto kkt = ift::kkt_conditions(objective, equality, inequality, 4, 1, 9);
  std::printf("dx*/dtheta by ift::implicit on the KKT conditions at IPOPT's answer\n");
  using D = ift::Dual<double, 2>;
  const Eigen::Matrix<D, 2, 1> theta_d(D(theta(0), Eigen::Vector2d(1, 0)),
                                       D(theta(1), Eigen::Vector2d(0, 1)));
  const Eigen::Matrix<D, 14, 1> z = ift::implicit(kkt, z_star, theta_d);

  ift::Tape tape;
  const Eigen::Matrix<ift::Var, 2, 1> theta_v = theta.cast<ift::Var>();
  const Eigen::Matrix<ift::Var, 14, 1> z_v = ift::implicit(kkt, z_star, theta_v);

  // Central differences of tight re-solves: truncation O(h²), IPOPT's error O(tol / h).
  const double h = 1e-4;
  for (int j = 0; j < 2; ++j) {
    const Eigen::Vector2d e = h * Eigen::Vector2d::Unit(j);
    const Vector4 difference = (solve_x(theta + e) - solve_x(theta - e)) / (2 * h);
    const Eigen::Vector4d reverse(tape.gradient(z_v(0), theta_v)(j), tape.gradient(z_v(1), theta_v)(j),
                                  tape.gradient(z_v(2), theta_v)(j), tape.gradient(z_v(3), theta_v)(j));
    for (int i = 0; i < 4; ++i) {
      ok &= check(j == 0 ? "dx_i/dtheta0 (forward)" : "dx_i/dtheta1 (forward)", z(i).tangent()(j),
                  difference(i), 1e-6);
      ok &= check("  reverse", reverse(i), z(i).tangent()(j), 1e-12);
    }
  }
  // x₁ stays at its bound 1 while it is active: dx₁/dθ = 0 exactly.
  ok &= check("dx1/dtheta0 at the bound", z(0).tangent()(0), 0.0, 1e-12);

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
