#pragma once
// The typed errors of ift. Every failure the library detects is one of these (or
// std::invalid_argument for malformed arguments), never a silent wrong number.

#include <stdexcept>
#include <string>

namespace ift {

/// Misuse of a reverse-mode tape: a `Var` with no active tape, or a `Var` used on a tape
/// that is not its own (or was cleared since the `Var` was recorded).
class TapeError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// A primal solver failed: the message names the solver, the iterations, the residual and why.
class SolverError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The conditions' Jacobian ∂c/∂x at the solution is singular or numerically singular, so the
/// implicit function theorem does not give a derivative. The message names the condition estimate.
class SingularJacobianError : public std::runtime_error {
 public:
  /// The error with its message and the condition estimate of ∂c/∂x.
  SingularJacobianError(const std::string& what, double condition_estimate)
      : std::runtime_error(what), condition_estimate_(condition_estimate) {}
  /// Estimate of the reciprocal-free condition number of ∂c/∂x (infinity when exactly singular).
  double condition_estimate() const noexcept { return condition_estimate_; }

 private:
  double condition_estimate_;
};

}  // namespace ift
