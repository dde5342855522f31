#pragma once
// The conditions c(x, θ) = 0 as the core sees them — on flat vectors — and their Jacobian
// J = ∂c/∂x at a point as a `JacobianOperator`, the one form every linear solver is handed.
//
// J is formed only in the form the solver asks for: densely by chunked forward passes (one pass per
// eight columns), sparsely by a tracer run for the pattern and one forward pass per four colors
// (sparsity.hpp), or not at all — products J v are one forward pass on `Dual<double, 1>`, products
// Jᵀ w one reverse sweep of c recorded once on a nested tape. A problem that knows J or the VJP in
// closed form (the Hessian of `minimize`, A of `linear_solve`) says so by deriving its conditions
// from `JacobianShortcut` or `VjpShortcut`: an explicit opt-in, so a misspelt member is a compile
// error, never a silent fall back to the slow path.

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "ift/derivatives.hpp"
#include "ift/dual.hpp"
#include "ift/sparsity.hpp"
#include "ift/tree.hpp"

namespace ift::detail {

template <class T>
using VectorX = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using MatrixX = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

/// A state as a flat dynamic vector (the core's working form).
template <class X>
auto flat(const X& x) {
  if constexpr (Scalar<X>) {
    return VectorX<X>::Constant(1, x).eval();
  } else {
    return VectorX<typename X::Scalar>(x);
  }
}

/// A flat vector that arrives as an rvalue of the working form is moved, not copied.
template <class T>
VectorX<T> flat(VectorX<T>&& x) {
  return std::move(x);
}

/// A flat vector back in the shape of the state type `X`, with the vector's scalar.
template <class X, class V>
auto unflat(const V& v) {
  using Q = typename V::Scalar;
  if constexpr (Scalar<X>) {
    return Q(v(0));
  } else {
    return rebind_t<Q, X>(v);
  }
}

/// A flat vector seen as the state type `X`, for one call of the user's function: the vector
/// itself when it already is that type (a dynamic vector state — no copy of n AD scalars per
/// evaluation), else `unflat`'s copy. Use only within the full expression of the call.
template <class X, class V>
decltype(auto) state_of(const V& v) {
  if constexpr (!Scalar<X> && std::is_same_v<rebind_t<typename V::Scalar, X>, V>)
    return (v);
  else
    return unflat<X>(v);
}

/// Every leaf's value as `double`, whatever the nesting: the tree the primal solver sees.
template <class P>
rebind_t<double, P> base_values(const P& theta) {
  if constexpr (Scalar<P>) {
    return to_double(theta);
  } else {
    // Leaf by leaf into the tree's own structure: no flat intermediate (nothing on the heap for a
    // tree of fixed size).
    auto down = [](const auto& leaf) { return to_double(leaf); };
    return map_leaves<double>(theta, down);
  }
}

/// The user's c(x, θ) seen on flat vectors. `X` is the state type the user writes c for.
template <class C, class X>
struct Conditions {
  C c;
  template <class Q, class Theta>
  VectorX<Q> operator()(const VectorX<Q>& x, const Theta& theta) const {
    return flat(c(state_of<X>(x), theta));
  }
};

/// Opt-in: the conditions have `jacobian_x(x, θ)`, ∂c/∂x in the scalar of x, cheaper than forward
/// passes (the Hessian of an objective; A of a linear system).
struct JacobianShortcut {};
/// Opt-in: ∂c/∂x is symmetric (the conditions are a gradient, ∂c/∂x a Hessian), so products with
/// it may be taken by the VJP and `Auto` may solve with conjugate gradients.
struct SymmetricJacobian {};
/// Opt-in: the conditions have `vjp(x, θ, w)`, the pair ((∂c/∂x)ᵀw, (∂c/∂θ)ᵀw) on doubles, cheaper
/// than recording c on a tape.
struct VjpShortcut {};

/// What the sparse path learns of J's structure: kept for the whole solve, since the pattern of
/// ∂c/∂x does not change from one Newton step to the next, and handed on to the implicit rule.
struct SparsityCache {
  std::optional<SparsityPattern> pattern;
  ColumnColoring coloring;
  /// The pattern was detected at another point (Newton's x0) than the one J is now taken at (x*): it
  /// holds there only if c takes the same branches, so it is checked before use — unless the tracer
  /// run read no traced value (`read_values` false), and so could not have branched on one.
  bool detected_elsewhere = false;
  bool read_values = true;
  /// The pattern's bandwidths, once asked for (`Auto` asks at every Newton step).
  std::optional<Bandwidth> band;
  /// The last J filled, kept so that the next fill (the next Newton step's, the rule's) writes its
  /// values where these are instead of allocating a matrix; `structure_of` is the pattern whose
  /// structure it has (null: none yet, or the pattern changed).
  Eigen::SparseMatrix<double> jacobian;
  const SparsityPattern* structure_of = nullptr;
};

/// J = ∂c/∂x at (x, θ), θ a tree of doubles, x of scalar T (`double`, or an AD scalar for the
/// factorizations of nested forward mode, where only `dense()` applies). A `JacobianOperator` for
/// T = double. Copies share the sparsity cache.
template <class Conds, class Theta, class T = double>
class ConditionsJacobian {
 public:
  ConditionsJacobian(Conds conds, VectorX<T> x, Theta theta, std::shared_ptr<SparsityCache> cache = {})
      : conds_(std::move(conds)), x_(std::move(x)), theta_(std::move(theta)), cache_(std::move(cache)) {}

  /// True when the conditions say J is symmetric.
  static constexpr bool symmetric = std::is_base_of_v<SymmetricJacobian, Conds>;

  /// n, the number of unknowns.
  Eigen::Index size() const { return x_.size(); }
  /// x ↦ c(x, θ) for x of any scalar, θ held constant: what the derivative helpers differentiate.
  template <class V>
  auto operator()(const V& x) const {
    using D = typename V::Scalar;
    if constexpr (std::is_same_v<V, VectorX<D>>)
      return conds_(x, rebind<D>(theta_));
    else
      return conds_(VectorX<D>(x), rebind<D>(theta_));
  }

  /// J densely, in T arithmetic. A closed form is formed once and kept: `Auto` reads the pattern of
  /// J before it asks for J.
  MatrixX<T> dense() const {
    if constexpr (std::is_base_of_v<JacobianShortcut, Conds>) {
      if (!closed_form_) closed_form_ = conds_.jacobian_x(x_, theta_);
      return *closed_form_;
    } else {
      return jacobian(*this, x_);
    }
  }
  /// J v: one forward pass.
  Eigen::VectorXd apply(const Eigen::VectorXd& v) const { return jvp(*this, x_, v).second; }
  /// w ↦ Jᵀ w, valid while the returned callable lives (it may hold a nested tape with c recorded
  /// once; create it in the scope that uses it).
  auto transposed() const {
    if constexpr (std::is_base_of_v<VjpShortcut, Conds>)
      return [this](const Eigen::VectorXd& w) { return conds_.vjp(x_, theta_, w).first; };
    else
      return TransposedProducts(conds_, x_, theta_);
  }
  /// Which entries of J may be nonzero: from the closed form when there is one, else one tracer run
  /// of c. Detected once per cache; a pattern detected at another point is kept when its tracer run
  /// took no branch on values, or when J filled in it is J here (`fills_jacobian`), else detected
  /// anew.
  const SparsityPattern& pattern() const {
    SparsityCache& cache = this->cache();
    if (cache.pattern && cache.detected_elsewhere) {
      cache.detected_elsewhere = false;
      if (!cache.read_values) return *cache.pattern;
      if constexpr (!std::is_base_of_v<JacobianShortcut, Conds>) {
        if (fills_jacobian(fill(*cache.pattern, cache.coloring))) {
          filled_ = true;
          return *cache.pattern;
        }
      }
      cache.pattern.reset();
    }
    if (!cache.pattern) {
      cache.structure_of = nullptr;
      if constexpr (std::is_base_of_v<JacobianShortcut, Conds>) {
        cache.pattern = sparsity_of(dense());  // the nonzero values at this point
        cache.read_values = true;
      } else {
        TracedPattern traced = trace_pattern(*this, x_);
        cache.pattern = std::move(traced.pattern);
        cache.read_values = traced.read_values;
      }
      cache.coloring = color_columns(*cache.pattern);
      cache.band.reset();
    }
    return *cache.pattern;
  }
  /// The bandwidths of `pattern()`, read off it once per pattern.
  Bandwidth bandwidth() const {
    const SparsityPattern& p = pattern();
    SparsityCache& cache = this->cache();
    if (!cache.band) cache.band = bandwidth_of(p);
    return *cache.band;
  }
  /// True when the pattern is in the cache (detected earlier in this solve, or handed on by Newton).
  bool pattern_known() const { return cache_ && cache_->pattern; }
  /// J in compressed-column form: one forward pass per four colors of its pattern. Valid until J is
  /// filled again (by this operator or another of the same solve).
  const Eigen::SparseMatrix<double>& sparse() const {
    SparsityCache& cache = this->cache();
    if constexpr (std::is_base_of_v<JacobianShortcut, Conds>) {
      cache.structure_of = nullptr;
      return cache.jacobian = dense().sparseView();
    } else {
      const SparsityPattern& p = pattern();
      if (filled_) {
        filled_ = false;
        return cache.jacobian;
      }
      return fill(p, cache.coloring);
    }
  }
  /// J straight into band storage (`BandWriter`: A(i, j) at `diagonal[j·ld + i − j]`), without a
  /// compressed-column J in between: what `BandedLU` asks first. False, with nothing written, when
  /// J is not square or comes in closed form (then `sparse()` serves). Throws
  /// `std::invalid_argument` for an entry outside `band`.
  bool fill_band(Bandwidth band, double* diagonal, Eigen::Index ld) const {
    if constexpr (std::is_base_of_v<JacobianShortcut, Conds>) {
      return false;
    } else {
      const SparsityPattern& p = pattern();
      if (p.rows != p.cols) return false;
      const BandWriter write{band, diagonal, ld};
      if (filled_) {  // by the check of the pattern: copied from there
        filled_ = false;
        write.all_of(cache().jacobian);
      } else {
        fill_jacobian(*this, x_, p, cache().coloring,
                      [&write](int, int i, Eigen::Index j, double v) { write(i, j, v); });
      }
      return true;
    }
  }
  /// J in a pattern known beforehand (a `SparseAnalysis`'s), with `coloring` of it: no detection.
  /// A closed form is checked against the pattern — a nonzero outside it throws
  /// `std::invalid_argument` rather than being dropped. Valid until J is filled again.
  const Eigen::SparseMatrix<double>& sparse(const SparsityPattern& p, const ColumnColoring& coloring) const {
    if constexpr (std::is_base_of_v<JacobianShortcut, Conds>) {
      const MatrixX<T> J = dense();
      if (J.rows() != p.rows || J.cols() != p.cols) throw std::invalid_argument(outside_pattern);
      Eigen::SparseMatrix<double>& out = structured(p);
      for (Eigen::Index j = 0; j < p.cols; ++j) {
        Eigen::Index inside = 0;  // nonzeros of column j within the pattern, against all of them
        for (int k = p.outer[j]; k < p.outer[j + 1]; ++k)
          inside += (out.valuePtr()[k] = J(p.inner[k], j)) != 0.0;
        if ((J.col(j).array() != 0.0).count() != inside) throw std::invalid_argument(outside_pattern);
      }
      return out;
    } else {
      filled_ = false;
      return fill(p, coloring);
    }
  }

 private:
  // One recording of c, reverse sweeps from it.
  class TransposedProducts {
   public:
    TransposedProducts(const Conds& conds, const Eigen::VectorXd& x, const Theta& theta)
        : pullback_(conds, x, theta) {}
    Eigen::VectorXd operator()(const Eigen::VectorXd& w) { return pullback_(w).first; }

   private:
    Pullback<Conds, Theta> pullback_;
  };

  // Whether J, filled in a pattern detected elsewhere, is ∂c/∂x here: J r against r ↦ ∂c/∂x · r by
  // one forward pass, r with distinct entries. A nonzero of ∂c/∂x outside the pattern is dropped by
  // the fill or added to a column j of its color in place of its own column k, so its row of J r
  // misses J(i, k)·r_k or J(i, k)·(r_k − r_j) — never zero. The rows agree to rounding when the fill
  // is right.
  template <class Sparse>
  bool fills_jacobian(const Sparse& J) const {
    using V = VectorX<T>;  // double here; spelt through T so that nothing is compiled before use
    V r(x_.size());
    for (Eigen::Index j = 0; j < r.size(); ++j) {  // 1 + frac(j / golden ratio): distinct, in [1, 2)
      const double t = 0.6180339887498949 * static_cast<double>(j + 1);
      r(j) = 1.0 + (t - std::floor(t));  // not fmod, exact and slow: 4 % of a default gradient at n = 1000
    }
    const V exact = apply(r), filled = J * r;
    const auto scale = ((J.cwiseAbs() * r).array() + exact.array().abs()).eval();
    return ((exact - filled).array().abs() <= 1e-12 * scale).all();
  }

  // The cache's J with the structure of `p` (values unset): the kept one when it has it.
  Eigen::SparseMatrix<double>& structured(const SparsityPattern& p) const {
    SparsityCache& cache = this->cache();
    if (cache.structure_of != &p) {
      cache.jacobian = with_structure<Eigen::SparseMatrix<double>>(p);
      cache.structure_of = &p;
    }
    return cache.jacobian;
  }
  // J in `p` by colored forward passes, into the cache's J.
  const Eigen::SparseMatrix<double>& fill(const SparsityPattern& p, const ColumnColoring& coloring) const {
    Eigen::SparseMatrix<double>& J = structured(p);
    fill_jacobian(*this, x_, p, coloring,
                  [values = J.valuePtr()](int k, int, Eigen::Index, double v) { values[k] = v; });
    return J;
  }

  SparsityCache& cache() const {
    if (!cache_) cache_ = std::make_shared<SparsityCache>();
    return *cache_;
  }

  static constexpr const char* outside_pattern =
      "ift: the Jacobian dc/dx has a nonzero outside the pattern its SparseAnalysis keeps; a "
      "SparseAnalysis serves problems of one structure";

  Conds conds_;
  VectorX<T> x_;
  Theta theta_;
  mutable std::shared_ptr<SparsityCache> cache_;
  mutable std::optional<MatrixX<T>> closed_form_;
  // The cache's J was filled here by the check of a pattern detected elsewhere, for the `sparse()`
  // that follows it.
  mutable bool filled_ = false;
};

}  // namespace ift::detail
