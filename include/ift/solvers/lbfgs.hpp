#pragma once
// L-BFGS: BFGS that keeps only the last m pairs (sᵢ, yᵢ) instead of the dense H, so an iteration
// costs O(mn) memory and time (Nocedal & Wright, Algorithm 7.4, the two-loop recursion):
//
//   q = ∇L
//   for i = newest … oldest:  aᵢ = ρᵢ sᵢᵀq,  q ← q − aᵢ yᵢ
//   r = γ q,  γ = sᵀy / yᵀy of the newest pair   (the initial H₀ = γI)
//   for i = oldest … newest:  b = ρᵢ yᵢᵀr,  r ← r + sᵢ (aᵢ − b)
//   p = −r  (= −H ∇L for the BFGS matrix built from H₀ and the stored pairs).
//
// As in BFGS, a pair with sᵀy ≤ 0 would make H indefinite and is not stored, the step comes
// from a strong Wolfe line search, and the pairs are kept as values (doubles) also on an AD
// scalar: H is a preconditioner the minimizer does not depend on (see bfgs.hpp), so the recursion
// is linear in the AD gradient with constant coefficients.

#include <cstddef>
#include <deque>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ift/detail/objective.hpp"
#include "ift/solution.hpp"
#include "ift/solvers/bfgs.hpp"
#include "ift/solvers/line_search.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

/// Limited-memory BFGS (two-loop recursion over the last `memory` pairs) with a strong Wolfe
/// line search; stops when ‖∇L(x)‖₂ ≤ `tol`.
struct LBFGS {
  /// The kind of problem this solver serves (entry points check it).
  static constexpr ProblemKind kind = ProblemKind::minimize;
  /// The solver's name, used in error messages.
  static constexpr std::string_view name = "LBFGS";

  int memory = 10;                   ///< number of (s, y) pairs kept
  double tol = 1e-9;                 ///< bound on ‖∇L(x)‖₂
  int max_iter = 1000;               ///< iterations before giving up
  bool throw_on_failure = true;      ///< read by the entry points: throw `SolverError` on failure
  IterationCallback on_iteration{};  ///< called after each iteration with (k, ‖∇L‖₂)

  /// Minimizes `f` (a scalar function of a scalar or an Eigen vector) from `x0`; never throws for
  /// a failed solve, the `Status` says why it stopped and `x` is the last finite iterate.
  template <class F, class X>
  Solution<X> solve(F&& f, const X& x0) const {
    using State = detail::SolverState<X>;
    using Vector = typename State::vector;
    using Objective = detail::Objective<std::remove_reference_t<F>, X>;
    using T = typename Objective::T;
    const Objective objective(f);

    struct Pair {
      Eigen::VectorXd s;
      Eigen::VectorXd y;
      double rho;  // 1 / sᵀy
    };
    std::deque<Pair> pairs;
    std::vector<T> a;
    // Σⱼ uⱼ qⱼ for a vector u of doubles and q in T arithmetic.
    const auto dot = [](const Eigen::VectorXd& u, const Vector& q) {
      T sum = u(0) * q(0);
      for (Eigen::Index j = 1; j < q.size(); ++j) sum += u(j) * q(j);
      return sum;
    };
    const auto direction_from = [&](const Vector& gradient) -> Vector {
      Vector q = gradient;
      if (pairs.empty()) return -q;
      // a[j] belongs to pair m − 1 − j: the first loop runs from the newest pair.
      const std::size_t m = pairs.size();
      a.clear();
      for (std::size_t i = m; i-- > 0;) {
        a.push_back(pairs[i].rho * dot(pairs[i].s, q));
        for (Eigen::Index j = 0; j < q.size(); ++j) q(j) -= a.back() * pairs[i].y(j);
      }
      const Pair& newest = pairs.back();
      Vector r = (newest.s.dot(newest.y) / newest.y.squaredNorm()) * q;
      for (std::size_t i = 0; i < m; ++i) {
        const T c = a[m - 1 - i] - pairs[i].rho * dot(pairs[i].y, r);
        for (Eigen::Index j = 0; j < r.size(); ++j) r(j) += c * pairs[i].s(j);
      }
      return -r;
    };

    Vector x = State::to_vector(x0);
    if (!detail::all_finite(x)) return detail::non_finite_start(x0);
    // Named variables, not a structured binding: lambdas below capture them.
    auto initial = objective.value_and_gradient(x);
    auto value = std::move(initial.first);
    auto gradient = std::move(initial.second);
    double gradient_norm = detail::value_norm(gradient);
    if (!std::isfinite(detail::to_double(value)) || !std::isfinite(gradient_norm))
      return detail::make_solution<X>(x, Status::non_finite, 0, gradient_norm);

    for (int k = 0;; ++k) {
      if (gradient_norm <= tol) {
        const auto polish = [&] {
          Vector polished = x + direction_from(gradient);
          const double norm = detail::value_norm(objective.value_and_gradient(polished).second);
          return std::optional{std::pair{std::move(polished), norm}};
        };
        return detail::converged_solution<X>(x, k, gradient_norm, tol, on_iteration, polish);
      }
      if (k == max_iter) return detail::make_solution<X>(x, Status::max_iterations, k, gradient_norm);

      Vector direction = direction_from(gradient);
      double slope = detail::value_dot(gradient, direction);
      if (!(slope < 0.0)) {
        // The implicit H lost definiteness to rounding: forget the pairs, use steepest descent.
        pairs.clear();
        direction = -gradient;
        slope = -gradient_norm * gradient_norm;
      }

      Vector trial = x;
      T trial_value = value;
      Vector trial_gradient = gradient;
      const auto phi = [&](double step) {
        trial = x + step * direction;
        auto [v, g] = objective.value_and_gradient(trial);
        trial_value = std::move(v);
        trial_gradient = std::move(g);
        return std::pair{detail::to_double(trial_value), detail::value_dot(trial_gradient, direction)};
      };
      const double first_step = pairs.empty() ? detail::first_quasi_newton_step(gradient_norm) : 1.0;
      const auto search = detail::strong_wolfe_line_search(phi, detail::to_double(value), slope, first_step);
      if (search.outcome != detail::LineSearchOutcome::accepted)
        return detail::make_solution<X>(x, detail::line_search_failure(search.outcome), k, gradient_norm);

      Eigen::VectorXd s = detail::vector_values(trial) - detail::vector_values(x);
      Eigen::VectorXd y = detail::vector_values(trial_gradient) - detail::vector_values(gradient);
      if (memory > 0 && detail::has_curvature(s, y)) {
        if (static_cast<int>(pairs.size()) == memory) pairs.pop_front();
        const double rho = 1.0 / s.dot(y);
        pairs.push_back(Pair{std::move(s), std::move(y), rho});
      }
      x = std::move(trial);
      value = std::move(trial_value);
      gradient = std::move(trial_gradient);
      gradient_norm = detail::value_norm(gradient);
      if (on_iteration) on_iteration(k + 1, gradient_norm);
    }
  }
};

}  // namespace ift
