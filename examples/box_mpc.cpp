// One step of a differentiable model-predictive controller with bounded controls.
//
// The controller plans T controls u ∈ [−1, 1]ᵀ for the model xₖ₊₁ = a xₖ + b uₖ from x₀:
//     u*(a, b) = argmin_u  Σₖ (xₖ − rₖ)² + ρ Σₖ uₖ²   s.t.  −1 ≤ uₖ ≤ 1,
// a box-constrained problem solved by ift::minimize_projected with ift::project_box and projected
// Newton. Learning the model from the closed loop needs dJ/da, J the tracking cost of the plan run on
// the true system:
//     J(a, b) = Σₖ (x̃ₖ(u*) − rₖ)²,   x̃ₖ₊₁ = a_true x̃ₖ + b_true uₖ.
// The implicit rule on x = proj(x − η∇L(x)) differentiates u*: on the free controls it is the
// unconstrained derivative, and a control held at a bound does not move (du/da = 0 there), which the
// example checks along with dJ/da against central differences of re-solved plans.

#include <cmath>
#include <cstdio>

#include <ift/minimize_projected.hpp>
#include <ift/projections.hpp>

namespace {

constexpr int horizon = 12;
using Controls = Eigen::Matrix<double, horizon, 1>;

template <class T>
struct Model {
  T a;
  T b;
};

/// The states x₁ … x_T of xₖ₊₁ = a xₖ + b uₖ from x₀ = 1.
template <class U, class T>
auto trajectory(const U& u, const T& a, const T& b) {
  using S = typename U::Scalar;
  Eigen::Matrix<S, horizon, 1> x;
  S state = S(1.0);
  for (int k = 0; k < horizon; ++k) x(k) = state = a * state + b * u(k);
  return x;
}

const Controls reference = Controls::LinSpaced(0.0, 3.0);
constexpr double rho = 0.1;

// The planning cost and the feasible set, written once for every scalar.
const auto planning_cost = [](const auto& u, const auto& model) {
  return (trajectory(u, model.a, model.b) - reference).squaredNorm() + rho * u.squaredNorm();
};
const auto box = [](const auto& y, const auto&) { return ift::project_box(y, -1.0, 1.0); };

/// The tracking cost of a plan on the true system.
template <class U>
auto tracking_cost(const U& u) {
  return (trajectory(u, 0.9, 0.6) - reference).squaredNorm();
}

template <class T>
Eigen::Matrix<T, horizon, 1> plan(const Model<T>& model) {
  // Projected Newton suits a box: Newton on the free controls, a gradient step on the ones at a bound.
  return ift::minimize_projected(planning_cost, box, Controls::Zero(), model, ift::ProjectedNewton{}).x;
}

bool check(const char* what, double got, double expected, double tolerance) {
  const bool ok = std::abs(got - expected) <= tolerance;
  std::printf("  %-26s %15.10f   reference %15.10f   %s\n", what, got, expected, ok ? "ok" : "WRONG");
  return ok;
}

}  // namespace

int main() {
  bool ok = true;
  const Model<double> model{0.8, 0.5};
  const Controls u = plan(model);
  int saturated = 0;
  for (int k = 0; k < horizon; ++k) saturated += std::abs(u(k)) == 1.0;
  std::printf("plan: %d of %d controls at a bound; tracking cost %.6f\n", saturated, horizon,
              tracking_cost(u));
  if (saturated == 0 || saturated == horizon) {
    std::printf("  the example needs both free controls and controls at a bound: WRONG\n");
    ok = false;
  }

  std::printf("du*/da by forward mode\n");
  using D = ift::Dual<double>;
  const Eigen::Matrix<D, horizon, 1> u_d = plan(Model<D>{D(model.a, 1.0), D(model.b)});
  for (int k = 0; k < horizon; ++k)
    if (std::abs(u(k)) == 1.0) ok &= check("du_k/da at a bound", u_d(k).tangent()(0), 0.0, 1e-12);

  std::printf("dJ/d(a, b) by reverse mode, against central differences of re-solved plans\n");
  ift::Tape tape;
  const Model<ift::Var> model_v{model.a, model.b};
  const ift::Var J = tracking_cost(plan(model_v));
  const double h = 1e-6;
  const double dJ_da = (tracking_cost(plan(Model<double>{model.a + h, model.b})) -
                        tracking_cost(plan(Model<double>{model.a - h, model.b}))) /
                       (2 * h);
  const double dJ_db = (tracking_cost(plan(Model<double>{model.a, model.b + h})) -
                        tracking_cost(plan(Model<double>{model.a, model.b - h}))) /
                       (2 * h);
  ok &= check("dJ/da", tape.gradient(J, model_v.a), dJ_da, 1e-5 * (1 + std::abs(dJ_da)));
  ok &= check("dJ/db", tape.gradient(J, model_v.b), dJ_db, 1e-5 * (1 + std::abs(dJ_db)));

  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}
