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
// Everything else (the strong Wolfe line search, skipping pairs with sᵀy ≤ 0, keeping the pairs
// as values also on an AD scalar) is the quasi-Newton policy of line_search_minimizer.hpp.

#include <cstddef>
#include <deque>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "ift/solution.hpp"
#include "ift/solvers/line_search_minimizer.hpp"
#include "ift/solvers/solver.hpp"

namespace ift {

namespace detail {

/// The L-BFGS inverse Hessian: the last `memory` pairs (s, y) as values, applied by the two-loop
/// recursion; empty (H = I) until the first pair.
class LimitedMemoryInverseHessian {
 public:
  explicit LimitedMemoryInverseHessian(int memory) : memory_(memory) {}

  bool empty() const { return pairs_.empty(); }
  void clear() { pairs_.clear(); }

  // A template only so that a program that never runs L-BFGS does not compile it.
  template <class Vector>
  void add(Vector s, Vector y) {
    if (memory_ <= 0) return;
    if (static_cast<int>(pairs_.size()) == memory_) pairs_.pop_front();
    const double rho = 1.0 / s.dot(y);
    pairs_.push_back(Pair{std::move(s), std::move(y), rho});
  }

  /// H g in the arithmetic of g's scalar.
  template <class Vector>
  Vector apply(const Vector& g) const {
    using T = typename Vector::Scalar;
    Vector q = g;
    if (pairs_.empty()) return q;
    // a[j] belongs to pair m − 1 − j: the first loop runs from the newest pair.
    const std::size_t m = pairs_.size();
    std::vector<T> a;
    a.reserve(m);
    for (std::size_t i = m; i-- > 0;) {
      a.push_back(pairs_[i].rho * dot_with_values(pairs_[i].s, q));
      for (Eigen::Index j = 0; j < q.size(); ++j) q(j) -= a.back() * pairs_[i].y(j);
    }
    const Pair& newest = pairs_.back();
    Vector r = (newest.s.dot(newest.y) / newest.y.squaredNorm()) * q;
    for (std::size_t i = 0; i < m; ++i) {
      const T c = a[m - 1 - i] - pairs_[i].rho * dot_with_values(pairs_[i].y, r);
      for (Eigen::Index j = 0; j < r.size(); ++j) r(j) += c * pairs_[i].s(j);
    }
    return r;
  }

 private:
  struct Pair {
    Eigen::VectorXd s;
    Eigen::VectorXd y;
    double rho;  // 1 / sᵀy
  };
  int memory_;
  std::deque<Pair> pairs_;
};

}  // namespace detail

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
    using Direction = detail::QuasiNewtonDirection<detail::LimitedMemoryInverseHessian>;
    return detail::line_search_minimize(f, x0, Direction{detail::LimitedMemoryInverseHessian(memory)}, *this);
  }
};

}  // namespace ift
