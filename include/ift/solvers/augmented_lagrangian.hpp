#pragma once
// The augmented Lagrangian method (Powell–Hestenes–Rockafellar; Nocedal & Wright, section 17.4) for
//
//     min L(x)   s.t.   e(x) = 0,   g(x) ≤ 0,
//
// on doubles, with θ already bound. Each outer iteration minimizes, with BFGS over x,
//
//     L_A(x) = L(x) + νᵀe(x) + ρ/2 ‖e(x)‖² + 1/(2ρ) Σᵢ (max(0, μᵢ + ρ gᵢ(x))² − μᵢ²),
//
// whose gradient is ∇L + Jₑᵀ(ν + ρe) + J_gᵀ max(0, μ + ρg), and then takes the first-order multiplier
// steps ν ← ν + ρe(x), μ ← max(0, μ + ρg(x)). So μ stays ≥ 0 and is exactly 0 on a constraint
// inactive by more than μᵢ/ρ. The penalty ρ grows tenfold whenever the constraint violation
// ‖(e, max(g, −μ/ρ))‖∞ fails to fall by a factor four. The method converges when that violation and
// the stationarity ‖∇ₓL + Jₑᵀν + J_gᵀμ‖∞ are both at most `tol`.

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>
#include <tuple>

#include <Eigen/Core>

#include "ift/derivatives.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/bfgs.hpp"

namespace ift {

/// The primal-dual answer of a constrained minimization on doubles.
template <class X>
struct ConstrainedIterate {
  X x;                 ///< the minimizer
  Eigen::VectorXd nu;  ///< multipliers of eq(x) = 0
  Eigen::VectorXd mu;  ///< multipliers of ineq(x) ≤ 0 (≥ 0)
  Status status = Status::converged;
  int iterations = 0;          ///< outer iterations
  double residual_norm = 0.0;  ///< max of the stationarity and the constraint violation
};

/// The augmented Lagrangian method over BFGS (see the top of this header) for small and medium
/// dense constrained problems.
struct AugmentedLagrangian {
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "AugmentedLagrangian";
  double penalty = 10.0;             ///< the initial penalty ρ
  double tol = 1e-9;                 ///< bound on the stationarity and the constraint violation
  int max_iter = 50;                 ///< outer iterations
  bool throw_on_failure = true;      ///< read by the entry point: throw `SolverError` on failure
  IterationCallback on_iteration{};  ///< called after each outer iteration with (k, residual)

  /// Solves the problem from x0 (an Eigen vector of doubles) given by `augmented(x, ν, μ, ρ)`, L_A at
  /// x of any scalar; `constraints(x)`, the pair (e, g) on doubles; and `stationarity(x, ν, μ)`,
  /// ‖∇ₓL + Jₑᵀν + J_gᵀμ‖∞ on doubles. Never throws for a failed solve.
  template <class X, class Augmented, class Constraints, class Stationarity>
  ConstrainedIterate<X> solve(const Augmented& augmented, const Constraints& constraints,
                              const Stationarity& stationarity, const X& x0) const {
    ConstrainedIterate<X> it{x0, {}, {}};
    auto [e, g] = constraints(it.x);
    it.nu = Eigen::VectorXd::Zero(e.size());
    it.mu = Eigen::VectorXd::Zero(g.size());
    double rho = penalty;
    double previous = std::numeric_limits<double>::infinity();
    for (;;) {
      const BFGS inner{.tol = std::max(0.1 * tol, 1e-12), .max_iter = 1000};
      const Solution<X> s = inner.solve([&](const auto& x) { return augmented(x, it.nu, it.mu, rho); }, it.x);
      if (!s.x.allFinite()) return finish(it, Status::non_finite);
      it.x = s.x;
      std::tie(e, g) = constraints(it.x);
      const double violation = std::max(norm(e), norm(g.cwiseMax(-it.mu / rho)));
      it.nu += rho * e;
      it.mu = (it.mu + rho * g).cwiseMax(0.0);
      ++it.iterations;
      // std::max would drop a NaN stationarity (a NaN objective) and report convergence.
      const double stationary = stationarity(it.x, it.nu, it.mu);
      it.residual_norm = std::isnan(stationary) ? stationary : std::max(violation, stationary);
      if (on_iteration) on_iteration(it.iterations, it.residual_norm);
      if (!std::isfinite(it.residual_norm)) return finish(it, Status::non_finite);
      if (it.residual_norm <= tol) return finish(it, Status::converged);
      if (it.iterations >= max_iter) return finish(it, Status::max_iterations);
      if (violation > 0.25 * previous) rho *= 10;
      previous = violation;
    }
  }

 private:
  template <class V>
  static double norm(const V& v) {
    return v.size() > 0 ? v.template lpNorm<Eigen::Infinity>() : 0.0;
  }
  template <class Iterate>
  static Iterate finish(Iterate& it, Status status) {
    it.status = status;
    return it;
  }
};

}  // namespace ift
