#pragma once
// What the built-in primal solvers share: the kind of problem they solve and the value-level
// helpers their control flow uses. A solver runs on plain `double`, or on an AD scalar when the
// caller asks for `ift::Unrolled`; either way, decisions (convergence, line search, safeguards)
// are taken on values only.

#include <cmath>
#include <string_view>
#include <type_traits>

#include <Eigen/Core>

#include "ift/detail/traits.hpp"
#include "ift/solution.hpp"

namespace ift {

/// The problem a built-in solver is written for; entry points reject a solver of another kind.
enum class ProblemKind { root, fixed_point, minimize, least_squares };

/// A built-in solver: an option struct that names its problem kind and solves `f` from `x0`.
template <class S>
concept BuiltinSolver = requires {
  { S::kind } -> std::convertible_to<ProblemKind>;
  { S::name } -> std::convertible_to<std::string_view>;
};

namespace detail {

/// Euclidean norm of the values of a scalar or an Eigen vector of any scalar type.
template <class V>
double value_norm(const V& v) {
  if constexpr (Scalar<V>) {
    return std::abs(to_double(v));
  } else {
    double sum = 0.0;
    for (Eigen::Index i = 0; i < v.size(); ++i) {
      const double vi = to_double(v(i));
      sum += vi * vi;
    }
    return std::sqrt(sum);
  }
}

/// True when every value in a scalar or an Eigen vector is finite.
template <class V>
bool all_finite(const V& v) {
  if constexpr (Scalar<V>) {
    return std::isfinite(to_double(v));
  } else {
    for (Eigen::Index i = 0; i < v.size(); ++i)
      if (!std::isfinite(to_double(v(i)))) return false;
    return true;
  }
}

}  // namespace detail
}  // namespace ift
