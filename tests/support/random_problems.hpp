#pragma once
// Randomized property tests of derivatives: random well-posed problems of every kind, a reference
// derivative from finite differences of the plain solve, and checks of one solve at the three AD
// modes against it: forward (`Dual<double>`, one parameter per solve), nested forward
// (`Dual<Dual<double>>`, a second derivative along a random direction) and reverse (`Var`, the gradient
// of a random weighted sum of x).
//
// Every problem family is ONE functor type whose random data are run-time Eigen matrices of double,
// so sizes and instances share one instantiation of each solver and adjoint. x and θ always share the
// scalar S of the call; the data enter as doubles multiplying S (`affine`).
//
// The reference
// -------------
// First derivatives: central differences of the plain-double solve x(θ) along a direction u, with one
// Richardson step,
//     D(h) = (x(θ + hu) − x(θ − hu)) / 2h = x' + h²x'''/6 + O(h⁴),
//     R    = (4 D(h/2) − D(h)) / 3         = x' + O(h⁴).
// With h = 10⁻³ and derivatives of order one the truncation error is ~10⁻¹²; a solve accurate to
// δ ≈ 10⁻¹³ adds δ/h ≈ 10⁻¹⁰. So a correct derivative agrees with R to ~10⁻⁹ relative, while any
// error in a derivative rule (a sign, a missing term, a transposition) is of order one.
//
// Second derivatives along u: the same Richardson difference, applied to the first directional
// derivative given by the implicit rule on `Dual<double, 1>` (x'(θ ± hu)·u). Differencing the plain
// solve twice, (x(θ + hu) − 2x(θ) + x(θ − hu))/h², would amplify the solver's stopping error by 1/h²
// (10⁻¹³/10⁻⁶ = 10⁻⁷); differencing a first derivative amplifies it by 1/h only. That first derivative
// is itself compared with differences of the plain solve in the same program, so the chain still rests
// on plain values.
//
// Random numbers
// --------------
// std::mt19937_64 with fixed seeds, mapped to [lo, hi) by our own formula (the top 53 bits of a draw
// times 2⁻⁵³): std::uniform_real_distribution's algorithm is unspecified, so it would give different
// problems with different standard libraries.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <Eigen/LU>

#include "ift/dual.hpp"
#include "ift/fixed_point.hpp"
#include "ift/implicit.hpp"
#include "ift/least_squares.hpp"
#include "ift/linear_solve.hpp"
#include "ift/minimize.hpp"
#include "ift/root.hpp"
#include "ift/var.hpp"

namespace ift_test {

template <class S>
using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <class S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

/// Deterministic random numbers and random matrices of a prescribed conditioning.
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  /// Uniform in [lo, hi): the top 53 bits of one 64-bit draw, times 2⁻⁵³.
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(engine_() >> 11) * 0x1p-53;
  }
  /// Uniform integer in [lo, hi] (the modulo bias is below 2⁻⁶⁰ for the small ranges used here).
  int integer(int lo, int hi) {
    return lo + static_cast<int>(engine_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  /// Entries uniform in [lo, hi).
  Mat<double> matrix(Eigen::Index rows, Eigen::Index cols, double lo = -1.0, double hi = 1.0) {
    Mat<double> m(rows, cols);
    for (Eigen::Index j = 0; j < cols; ++j)
      for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = uniform(lo, hi);
    return m;
  }
  Vec<double> vector(Eigen::Index n, double lo = -1.0, double hi = 1.0) { return matrix(n, 1, lo, hi); }

  /// A random orthogonal n × n matrix: the product of three Householder reflections I − 2vvᵀ/vᵀv.
  Mat<double> orthogonal(Eigen::Index n) {
    Mat<double> q = Mat<double>::Identity(n, n);
    for (int k = 0; k < 3; ++k) {
      const Vec<double> v = vector(n);
      q -= (2.0 / v.squaredNorm()) * (q * v) * v.transpose();
    }
    return q;
  }
  /// An m × n matrix (m ≥ n) with singular values uniform in [lo, hi]: U diag(σ) Vᵀ, U and V orthogonal.
  Mat<double> conditioned(Eigen::Index m, Eigen::Index n, double lo, double hi) {
    const Vec<double> sigma = vector(n, lo, hi);
    return orthogonal(m).leftCols(n) * sigma.asDiagonal() * orthogonal(n).transpose();
  }
  /// A symmetric positive definite n × n matrix with eigenvalues uniform in [lo, hi]: Q diag(λ) Qᵀ.
  Mat<double> spd(Eigen::Index n, double lo, double hi) {
    const Mat<double> q = orthogonal(n);
    return q * vector(n, lo, hi).asDiagonal() * q.transpose();
  }
  /// An m × n matrix with spectral norm at most `bound` (its Frobenius norm is `bound`).
  Mat<double> bounded(Eigen::Index m, Eigen::Index n, double bound) {
    const Mat<double> a = matrix(m, n);
    return a * (bound / a.norm());
  }

 private:
  std::mt19937_64 engine_;
};

/// The data matrix in the scalar of the call.
template <class S>
Mat<S> as(const Mat<double>& m) {
  return m.template cast<S>();
}
template <class S>
Vec<S> as(const Vec<double>& v) {
  return v.template cast<S>();
}

/// m·v + c for data m, c of double and a vector v of S, entry by entry. No copy of m in S is made, and
/// each product is a double times an S (a scaling) rather than a product of two AD numbers: with nested
/// duals or on a tape that is most of the cost of evaluating a problem.
template <class S>
Vec<S> affine(const Mat<double>& m, const Vec<S>& v, const Vec<double>& c) {
  Vec<S> out(m.rows());
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    S sum(c(i));
    for (Eigen::Index j = 0; j < m.cols(); ++j) sum += m(i, j) * v(j);
    out(i) = sum;
  }
  return out;
}
/// m·v, as `affine` with c = 0.
template <class S>
Vec<S> times(const Mat<double>& m, const Vec<S>& v) {
  return affine(m, v, Vec<double>::Zero(m.rows()));
}

/// A solver's state as a flat vector of its scalar (a scalar state becomes a 1-vector).
template <class S, class Y>
Vec<S> as_vector(const Y& y) {
  if constexpr (ift::Scalar<Y>)
    return Vec<S>::Constant(1, y);
  else
    return Vec<S>(y);
}

// ---------------------------------------------------------------------------------------------------
// Problem families. Each has `draw(rng, n, p, copy)`, returning a random instance with its θ and initial
// guess, and `reference_solve(x0, θ)`, the tight plain solve the reference differences (a member
// template, so only the programs that use a family compile its reference solver).
// ---------------------------------------------------------------------------------------------------

/// A random problem with the parameters θ it is solved at and its initial guess.
template <class Family>
struct Draw {
  Family problem;
  Vec<double> theta, x0;
};

/// Root finding with a known root x* = g(θ):
///     f(x, θ) = A d + s·(1 + ½ tanh(Cθ)) ∘ tanh(B d),   d = x − g(θ),   g(θ) = c + Gθ + ½ sin(Hθ).
/// The second term vanishes at d = 0, so g(θ) is a root, and it is the only one: A d = −(second term)
/// needs σ_min(A)‖d‖ ≤ (3/2) s ‖B‖₂ ‖d‖, and the generator keeps (3/2) s ‖B‖₂ < σ_min(A).
/// ∂f/∂x = A + s diag(…) B is nonsymmetric and depends on θ.
struct RootFamily {
  static constexpr const char* name = "root";
  static constexpr std::uint64_t seed = 0x726f6f74;  ///< of its instance sets (`standard_instances`)
  Mat<double> a, b, c_theta, g_theta, h_theta;
  Vec<double> c;
  double s = 0.0;

  /// g(θ), the root.
  template <class S>
  Vec<S> root(const Vec<S>& theta) const {
    return affine(g_theta, theta, c) + Vec<S>(times(h_theta, theta).array().sin()) * S(0.5);
  }
  /// dg/dθ = G + ½ diag(cos(Hθ)) H, for checking the finite-difference reference itself.
  Mat<double> root_jacobian(const Vec<double>& theta) const {
    const Vec<double> cosine = (h_theta * theta).array().cos();
    return g_theta + 0.5 * cosine.asDiagonal() * h_theta;
  }
  /// uᵀg''u = −½ sin(Hθ) ∘ (Hu)², likewise.
  Vec<double> root_second(const Vec<double>& theta, const Vec<double>& u) const {
    const Vec<double> hu = h_theta * u;
    return -0.5 * Vec<double>((h_theta * theta).array().sin()).cwiseProduct(hu.cwiseProduct(hu));
  }

  template <class S>
  Vec<S> residual(const Vec<S>& x, const Vec<S>& theta) const {
    const Vec<S> d = x - root(theta);
    const Vec<S> weight = Vec<S>(times(c_theta, theta).array().tanh()) * S(0.5) + Vec<S>::Ones(d.size());
    const Vec<S> bend = times(b, d).array().tanh();
    return times(a, d) + Vec<S>(weight.cwiseProduct(bend)) * S(s);
  }
  template <class X, class P>
  auto operator()(const X& x, const P& theta) const {
    using S = typename P::Scalar;
    if constexpr (ift::Scalar<X>)
      return S(residual<S>(Vec<S>::Constant(1, x), theta)(0));
    else
      return residual<S>(x, theta);
  }

  /// θ ∈ [−1, 1]ᵖ and x0 within 0.3 (per entry) of the root.
  static Draw<RootFamily> draw(Random& rng, Eigen::Index n, Eigen::Index p, int) {
    RootFamily f;
    f.a = rng.conditioned(n, n, 1.0, 3.0);
    f.b = rng.bounded(n, n, 1.0);
    f.s = 0.5;  // (3/2)·s·‖B‖ ≤ 0.75 < 1 ≤ σ_min(A)
    f.c_theta = rng.matrix(n, p);
    f.g_theta = rng.matrix(n, p);
    f.h_theta = rng.matrix(n, p, -2.0, 2.0);
    f.c = rng.vector(n);
    Vec<double> theta = rng.vector(p);
    Vec<double> x0 = f.root(theta) + rng.vector(n, -0.3, 0.3);
    return {std::move(f), std::move(theta), std::move(x0)};
  }
  /// Newton's method to ‖f‖ ≤ 1e-13.
  template <class P>
  auto reference_solve(const Vec<double>& x0, const P& theta) const {
    return ift::root(*this, x0, theta, ift::Newton{.tol = 1e-13}).x;
  }
};

/// Fixed points of the contraction F(x, θ) = ½ tanh(Wx + Uθ + c) + b with ‖W‖₂ ≤ 0.9, so F is
/// Lipschitz in x with constant 0.45 and has one fixed point; I − ∂F/∂x is nonsymmetric.
struct FixedPointFamily {
  static constexpr const char* name = "fixed_point";
  static constexpr std::uint64_t seed = 0x66697870;  ///< of its instance sets (`standard_instances`)
  Mat<double> w, u;
  Vec<double> b, c;

  template <class X, class P>
  auto operator()(const X& x, const P& theta) const {
    using S = typename P::Scalar;
    const Vec<S> z = affine(w, as_vector<S>(x), c) + times(u, theta);
    const Vec<S> out = Vec<S>(z.array().tanh()) * S(0.5) + as<S>(b);
    if constexpr (ift::Scalar<X>)
      return S(out(0));
    else
      return out;
  }

  /// θ ∈ [−1, 1]ᵖ, x0 = 0.
  static Draw<FixedPointFamily> draw(Random& rng, Eigen::Index n, Eigen::Index p, int) {
    FixedPointFamily f{rng.bounded(n, n, 0.9), rng.matrix(n, p, -1.5, 1.5), rng.vector(n),
                       rng.vector(n, -0.5, 0.5)};
    return {std::move(f), rng.vector(p), Vec<double>::Zero(n)};
  }
  /// The plain iteration to ‖F(x) − x‖ ≤ 1e-13 (a contraction by 0.45 gets there in under 50 steps).
  template <class P>
  auto reference_solve(const Vec<double>& x0, const P& theta) const {
    return ift::fixed_point(*this, x0, theta, ift::Iteration{.tol = 1e-13}).x;
  }
};

/// A strongly convex objective:
///     L(x, θ) = ½ xᵀQx − (b + Cθ + E(θ∘θ))ᵀx + Σₖ αₖ softplus(Rₖx + Sₖθ) + Σₖ βₖ log cosh(Pₖx + Tₖθ),
/// Q ⪰ I, αₖ, βₖ > 0. Both penalties are convex, so ∇²ₓL ⪰ Q ⪰ I, and with softplus'' ≤ ¼ and
/// (log cosh)'' ≤ 1 the curvature is at most λ_max(Q) + Σ ¼αₖ‖Rₖ‖² + Σ βₖ‖Pₖ‖² (`curvature`).
struct MinimizeFamily {
  static constexpr const char* name = "minimize";
  static constexpr std::uint64_t seed = 0x6d696e69;  ///< of its instance sets (`standard_instances`)
  Mat<double> q, c, e, r, s, pen, t;
  Vec<double> b, alpha, beta;
  double curvature = 0.0;

  template <class X, class P>
  auto operator()(const X& x_in, const P& theta) const {
    using S = typename P::Scalar;
    using std::cosh;
    using std::exp;
    using std::log;
    using std::log1p;
    const Vec<S> x = as_vector<S>(x_in);
    const Vec<S> linear = affine(c, theta, b) + times(e, Vec<S>(theta.cwiseProduct(theta)));
    S l = S(0.5) * x.dot(times(q, x)) - linear.dot(x);
    const Vec<S> z = times(r, x) + times(s, theta);
    for (Eigen::Index k = 0; k < z.size(); ++k) l += alpha(k) * log1p(exp(z(k)));
    const Vec<S> y = times(pen, x) + times(t, theta);
    for (Eigen::Index k = 0; k < y.size(); ++k) l += beta(k) * log(cosh(y(k)));
    return l;
  }

  /// n + 2 terms of each penalty, θ ∈ [−1, 1]ᵖ, x0 = 0.
  static Draw<MinimizeFamily> draw(Random& rng, Eigen::Index n, Eigen::Index p, int) {
    MinimizeFamily f;
    const Eigen::Index m = n + 2;
    f.q = rng.spd(n, 1.0, 3.0);
    f.c = rng.matrix(n, p);
    f.e = rng.matrix(n, p, -0.5, 0.5);
    f.b = rng.vector(n);
    const double scale = 1.0 / std::sqrt(static_cast<double>(n));  // ‖Rₖ‖, ‖Pₖ‖ of order one at every n
    f.r = scale * rng.matrix(m, n);
    f.s = rng.matrix(m, p);
    f.alpha = rng.vector(m, 0.5, 1.5);
    f.pen = scale * rng.matrix(m, n);
    f.t = rng.matrix(m, p);
    f.beta = rng.vector(m, 0.2, 0.6);
    // λ_max(Q) ≤ 3, softplus'' ≤ 1/4, (log cosh)'' ≤ 1.
    f.curvature =
        3.0 + 0.25 * f.alpha.dot(f.r.rowwise().squaredNorm()) + f.beta.dot(f.pen.rowwise().squaredNorm());
    return {std::move(f), rng.vector(p), Vec<double>::Zero(n)};
  }
  /// Newton's method to ‖∇L‖ ≤ 1e-12.
  template <class P>
  auto reference_solve(const Vec<double>& x0, const P& theta) const {
    return ift::minimize(*this, x0, theta, ift::NewtonMin{.tol = 1e-12}).x;
  }
};

/// Nonlinear least squares with m = n + 3 residuals and a nonzero residual at the optimum:
///     r(x, θ) = A x − b − Cθ + s tanh(Bx + Dθ + e),
/// σ(A) ⊂ [1, 2], s‖B‖₂ ≤ 0.3, so ∂r/∂x has full column rank (σ_min ≥ 0.7). At the θ it is drawn for,
/// b puts a random point at residuals of order 0.1, so the optimum's residual is as small, and the
/// Hessian JᵀJ + Σ rᵢ∇²rᵢ stays positive definite (the second-order term is at most ‖r‖·s·‖B‖²·0.77,
/// well below σ_min(J)² ≥ 0.49).
struct LeastSquaresFamily {
  static constexpr const char* name = "least_squares";
  static constexpr std::uint64_t seed = 0x6c737173;  ///< of its instance sets (`standard_instances`)
  Mat<double> a, bx, c, d;
  Vec<double> b, e;
  double s = 0.0;

  template <class X, class P>
  Vec<typename P::Scalar> operator()(const X& x_in, const P& theta) const {
    using S = typename P::Scalar;
    const Vec<S> x = as_vector<S>(x_in);
    const Vec<S> z = affine(bx, x, e) + times(d, theta);
    return affine(a, x, Vec<double>(-b)) - times(c, theta) + Vec<S>(z.array().tanh()) * S(s);
  }

  /// θ ∈ [−1, 1]ᵖ, x0 = 0.
  static Draw<LeastSquaresFamily> draw(Random& rng, Eigen::Index n, Eigen::Index p, int) {
    LeastSquaresFamily f;
    const Eigen::Index m = n + 3;
    f.a = rng.conditioned(m, n, 1.0, 2.0);
    f.bx = rng.bounded(m, n, 1.0);
    f.s = 0.3;
    f.c = rng.matrix(m, p);
    f.d = rng.matrix(m, p);
    f.e = rng.vector(m);
    f.b = Vec<double>::Zero(m);
    Vec<double> theta = rng.vector(p);
    const Vec<double> x_near = rng.vector(n);
    f.b = f(x_near, theta) + 0.1 * rng.vector(m);
    return {std::move(f), std::move(theta), Vec<double>::Zero(n)};
  }
  /// Gauss–Newton to ‖Jᵀr‖ ≤ 1e-12.
  template <class P>
  auto reference_solve(const Vec<double>& x0, const P& theta) const {
    return ift::least_squares(*this, x0, theta, ift::GaussNewton{.tol = 1e-12}).x;
  }
};

/// A(θ) x = b(θ) with A(θ) = A₀ + Σₖ tanh(θₖ) Aₖ and b(θ) = b₀ + B sin(θ). A₀ has singular values (or,
/// when `symmetric`, eigenvalues) in [1, 3] and Σₖ‖Aₖ‖₂ ≤ 0.3, so A(θ) stays well conditioned, and
/// symmetric positive definite when A₀ and the Aₖ are symmetric.
struct LinearFamily {
  static constexpr const char* name = "linear_solve";
  static constexpr std::uint64_t seed = 0x6c696e65;  ///< of its instance sets (`standard_instances`)
  Mat<double> a0, rhs_theta;
  std::vector<Mat<double>> a_theta;
  Vec<double> b0;
  bool symmetric = false;

  template <class S>
  Mat<S> matrix(const Vec<S>& theta) const {
    using std::tanh;
    Mat<S> out = as<S>(a0);
    for (Eigen::Index k = 0; k < theta.size(); ++k)
      out += as<S>(a_theta[static_cast<std::size_t>(k)]) * tanh(theta(k));
    return out;
  }
  template <class S>
  Vec<S> rhs(const Vec<S>& theta) const {
    return affine(rhs_theta, Vec<S>(theta.array().sin()), b0);
  }
  /// The matrix-free form v ↦ A(θ)v, without forming A(θ).
  template <class V, class P>
  Vec<typename P::Scalar> operator()(const V& v, const P& theta) const {
    using S = typename P::Scalar;
    using std::tanh;
    const Vec<S> vs = v;
    Vec<S> out = times(a0, vs);
    for (Eigen::Index k = 0; k < theta.size(); ++k)
      out += times(a_theta[static_cast<std::size_t>(k)], vs) * tanh(theta(k));
    return out;
  }

  /// θ ∈ [−1, 1]ᵖ; even copies symmetric positive definite, odd copies general.
  static Draw<LinearFamily> draw(Random& rng, Eigen::Index n, Eigen::Index p, int copy) {
    LinearFamily f;
    f.symmetric = copy % 2 == 0;
    f.a0 = f.symmetric ? rng.spd(n, 1.0, 3.0) : rng.conditioned(n, n, 1.0, 3.0);
    for (Eigen::Index k = 0; k < p; ++k) {
      Mat<double> ak = rng.bounded(n, n, 0.3 / static_cast<double>(p));
      if (f.symmetric) ak = (0.5 * (ak + ak.transpose())).eval();
      f.a_theta.push_back(ak);
    }
    f.b0 = rng.vector(n);
    f.rhs_theta = rng.matrix(n, p);
    return {std::move(f), rng.vector(p), Vec<double>::Zero(n)};
  }
  /// Independent of the library: x = A⁻¹b by Eigen's LU on doubles and, for a `Dual<double, 1>` θ, the
  /// tangent dx = A⁻¹(db − dA·x) from the tangents of A(θ) and b(θ).
  template <class P>
  Vec<typename P::Scalar> reference_solve(const Vec<double>&, const P& theta) const {
    using S = typename P::Scalar;
    const Mat<S> a = matrix(theta);
    const Vec<S> b = rhs(theta);
    if constexpr (std::is_same_v<S, double>) {
      return a.partialPivLu().solve(b);
    } else {
      static_assert(std::is_same_v<S, ift::Dual<double, 1>>);
      const auto value = [](const S& v) { return v.a; };
      const auto tangent = [](const S& v) { return v.v(0); };
      const Eigen::PartialPivLU<Mat<double>> lu(a.unaryExpr(value));
      const Vec<double> x = lu.solve(Vec<double>(b.unaryExpr(value)));
      const Vec<double> dx = lu.solve(Vec<double>(b.unaryExpr(tangent) - a.unaryExpr(tangent) * x));
      Vec<S> out(x.size());
      for (Eigen::Index i = 0; i < x.size(); ++i) out(i) = S(x(i), dx(i));
      return out;
    }
  }
};

// ---------------------------------------------------------------------------------------------------
// Reference derivatives
// ---------------------------------------------------------------------------------------------------

/// Step of the central differences (see the top of this file).
inline constexpr double fd_step = 1e-3;

/// d/dt f(θ + t u) at t = 0 by central differences with one Richardson step (top of this file).
template <class F>
Vec<double> richardson(const F& f, const Vec<double>& theta, const Vec<double>& u, double h = fd_step) {
  const auto central = [&](double step) -> Vec<double> {
    return (f(Vec<double>(theta + step * u)) - f(Vec<double>(theta - step * u))) / (2.0 * step);
  };
  return (4.0 * central(h / 2) - central(h)) / 3.0;
}

/// The n × p Jacobian of f at θ, one Richardson difference per parameter.
template <class F>
Mat<double> richardson_jacobian(const F& f, const Vec<double>& theta) {
  const Eigen::Index p = theta.size();
  Mat<double> jac;
  for (Eigen::Index k = 0; k < p; ++k) {
    const Vec<double> column = richardson(f, theta, Vec<double>::Unit(p, k));
    if (k == 0) jac.resize(column.size(), p);
    jac.col(k) = column;
  }
  return jac;
}

/// x(θ), its Jacobian, and its second derivative along a random direction u, at one θ; `weights` w
/// define the scalar output wᵀx of the reverse-mode checks.
struct Reference {
  Vec<double> theta, x, direction, weights, second;
  Mat<double> jacobian;
};

/// The reference for a problem whose solve at θ's scalar is `solve(theta)` (a plain-double solve for
/// values and first derivatives, and `Dual<double, 1>` for the second-derivative difference).
template <class Solve>
Reference make_reference(const Solve& solve, const Vec<double>& theta, Random& rng) {
  using D1 = ift::Dual<double, 1>;
  Reference ref;
  ref.theta = theta;
  const auto plain = [&](const Vec<double>& th) { return as_vector<double>(solve(th)); };
  ref.x = plain(theta);
  ref.jacobian = richardson_jacobian(plain, theta);
  ref.direction = rng.vector(theta.size());
  ref.weights = rng.vector(ref.x.size());
  const auto directional = [&](const Vec<double>& th) {
    Vec<D1> th_d(th.size());
    for (Eigen::Index k = 0; k < th.size(); ++k) th_d(k) = D1(th(k), ref.direction(k));
    const Vec<D1> x = as_vector<D1>(solve(th_d));
    Vec<double> out(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) out(i) = x(i).v(0);
    return out;
  };
  ref.second = richardson(directional, theta, ref.direction);
  return ref;
}

// ---------------------------------------------------------------------------------------------------
// Errors and their tally
// ---------------------------------------------------------------------------------------------------

/// Bound on the relative error of first derivatives: the reference is good to ~1e-9 and the solves
/// (tol 1e-12, condition numbers ≤ ~50) add ~1e-10, so 1e-6 leaves a wide margin for rounding while a
/// wrong derivative rule gives errors of order one.
inline constexpr double first_order_bound = 1e-6;
/// Second derivatives: the reference differences a derivative that is itself good to ~1e-11, divided by
/// h = 1e-3, so ~1e-8; nested solves compound the stopping error once more. 1e-5 keeps the margin.
inline constexpr double second_order_bound = 1e-5;
/// Values: every solve runs to tol ≤ 1e-12 on a problem of condition ≤ ~50.
inline constexpr double value_bound = 1e-9;

/// ‖actual − expected‖∞ / max(‖expected‖∞, scale_floor). The problems are scaled so that solutions and
/// derivatives are of order one; the floor keeps a tiny reference (a parameter that barely moves x)
/// from turning rounding into a large relative error.
inline double relative_error(const Mat<double>& actual, const Mat<double>& expected,
                             double scale_floor = 1e-3) {
  if (actual.rows() != expected.rows() || actual.cols() != expected.cols())
    return std::numeric_limits<double>::infinity();
  const double scale = std::max(expected.cwiseAbs().maxCoeff(), scale_floor);
  const double err = (actual - expected).cwiseAbs().maxCoeff() / scale;
  return std::isnan(err) ? std::numeric_limits<double>::infinity() : err;
}

/// Counts the cases of one family and keeps its worst first- and second-derivative errors; prints one
/// line when the program ends (a namespace-scope object's destructor runs after Catch's report).
class Tally {
 public:
  explicit Tally(const char* family) : family_(family) {}
  Tally(const Tally&) = delete;
  Tally& operator=(const Tally&) = delete;
  ~Tally() {
    if (cases_ == 0) return;
    std::printf("%s: %d cases; worst relative error", family_, cases_);
    const char* separator = "";
    for (const Worst* w : {&first_, &second_}) {
      if (w->error < 0.0) continue;
      std::printf("%s %.2e in %s derivatives (%s)", separator, w->error, w == &first_ ? "first" : "second",
                  w->what.c_str());
      separator = ",";
    }
    std::printf("\n");
  }

  /// One case: its derivative error against the bound for its order, and its value error.
  void record(int order, double error, double value_error, const std::string& what) {
    ++cases_;
    Worst& worst = order == 1 ? first_ : second_;
    if (error > worst.error) worst = {error, what};
    INFO(what << ": relative error of the derivative " << error << ", of the value " << value_error);
    CHECK(error <= (order == 1 ? first_order_bound : second_order_bound));
    CHECK(value_error <= value_bound);
  }

 private:
  struct Worst {
    double error = -1.0;
    std::string what;
  };
  const char* family_;
  int cases_ = 0;
  Worst first_, second_;
};

// ---------------------------------------------------------------------------------------------------
// One solve checked at each AD mode. `solve(theta)` returns x at the scalar of θ (a scalar or a vector).
// ---------------------------------------------------------------------------------------------------

/// `Dual<double, 1>` seeded with each unit direction in turn: the Jacobian one column per solve. (One
/// direction per solve, rather than all p at once, shares its instantiations with the inner level of
/// the nested check below, which keeps the compile time of these programs down.)
template <class Solve>
void check_forward(const Solve& solve, const Reference& ref, Tally& tally, const std::string& what) {
  using D = ift::Dual<double, 1>;
  const Eigen::Index p = ref.theta.size(), n = ref.x.size();
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  Vec<double> value = Vec<double>::Constant(n, nan);
  Mat<double> jac = Mat<double>::Constant(n, p, nan);
  for (Eigen::Index k = 0; k < p; ++k) {
    Vec<D> theta(p);
    for (Eigen::Index j = 0; j < p; ++j) theta(j) = D(ref.theta(j), j == k ? 1.0 : 0.0);
    const Vec<D> x = as_vector<D>(solve(theta));
    if (x.size() != n) break;
    for (Eigen::Index i = 0; i < n; ++i) {
      value(i) = x(i).a;
      jac(i, k) = x(i).v(0);
    }
  }
  tally.record(1, relative_error(jac, ref.jacobian), relative_error(value, ref.x, 1.0),
               what + ", Dual<double>");
}

/// `Var` on a tape: the gradient of the scalar wᵀx against Jᵀw.
template <class Solve>
void check_reverse(const Solve& solve, const Reference& ref, Tally& tally, const std::string& what) {
  ift::Tape tape;
  const Vec<ift::Var> theta = ref.theta.cast<ift::Var>();
  const Vec<ift::Var> x = as_vector<ift::Var>(solve(theta));
  ift::Var y = 0.0;
  Vec<double> value(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    y += ref.weights(i) * x(i);
    value(i) = x(i).value();
  }
  const Vec<double> gradient = tape.gradient(y, theta);
  const Vec<double> expected = ref.jacobian.transpose() * ref.weights;
  tally.record(1, relative_error(gradient, expected), relative_error(value, ref.x, 1.0), what + ", Var");
}

/// `Dual<Dual<double>>` seeded with u at both levels: x, x'u (twice) and the second derivative uᵀx''u.
template <class Solve>
void check_second(const Solve& solve, const Reference& ref, Tally& tally, const std::string& what) {
  using D1 = ift::Dual<double, 1>;
  using D2 = ift::Dual<D1, 1>;
  const Eigen::Index p = ref.theta.size();
  Vec<D2> theta(p);
  for (Eigen::Index k = 0; k < p; ++k)
    theta(k) = D2(D1(ref.theta(k), ref.direction(k)), D1(ref.direction(k), 0.0));
  const Vec<D2> x = as_vector<D2>(solve(theta));
  const Eigen::Index n = x.size();
  Vec<double> value(n), inner(n), outer(n), second(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    value(i) = x(i).a.a;
    inner(i) = x(i).a.v(0);
    outer(i) = x(i).v(0).a;
    second(i) = x(i).v(0).v(0);
  }
  const Vec<double> first = ref.jacobian * ref.direction;
  {
    INFO(what << ", Dual<Dual<double>>: the first derivatives of the nested solve");
    CHECK(relative_error(inner, first) <= first_order_bound);
    CHECK(relative_error(outer, first) <= first_order_bound);
  }
  tally.record(2, relative_error(second, ref.second), relative_error(value, ref.x, 1.0),
               what + ", Dual<Dual<double>>");
}

/// The AD modes a check runs, as bit flags. They are template arguments, so that a program compiles
/// only the modes it runs (each mode instantiates the solvers at another scalar type).
enum Modes : unsigned { forward = 1, reverse = 2, nested = 4, all_modes = forward | reverse | nested };

/// Each mode in `modes`: forward, reverse, nested forward.
template <unsigned modes = all_modes, class Solve>
void check_modes(const Solve& solve, const Reference& ref, Tally& tally, const std::string& what) {
  if constexpr ((modes & forward) != 0) check_forward(solve, ref, tally, what);
  if constexpr ((modes & reverse) != 0) check_reverse(solve, ref, tally, what);
  if constexpr ((modes & nested) != 0) check_second(solve, ref, tally, what);
}

/// Every mode with each adjoint `ift::Implicit<LS>` in turn: `solve(theta, adjoint)` returns x at the
/// scalar of θ.
template <class... LS, class Solve>
void check_implicit(const Solve& solve, const Reference& ref, Tally& tally, const std::string& what) {
  (check_modes([&](const auto& theta) { return solve(theta, ift::Implicit<LS>{}); }, ref, tally,
               what + ", Implicit<" + std::string(LS::name) + ">"),
   ...);
}

/// Each mode in `modes` with the solver unrolled: `solve(theta, adjoint)` as for `check_implicit`.
template <unsigned modes = all_modes, class Solve>
void check_unrolled(const Solve& solve, const Reference& ref, Tally& tally, const std::string& what) {
  check_modes<modes>([&](const auto& theta) { return solve(theta, ift::Unrolled{}); }, ref, tally,
                     what + ", Unrolled");
}

// ---------------------------------------------------------------------------------------------------
// Instances: random problems with their parameters, initial guess and reference
// ---------------------------------------------------------------------------------------------------

/// One random problem of a family at one θ, with its reference.
template <class Family>
struct Instance {
  Family problem;
  Vec<double> theta, x0;
  Reference ref;
  std::string name;
};

/// `copies` random instances of `Family` for each size n in `sizes` (default 1, 2, 5, 12), with
/// p ∈ [1, 4] parameters each, from a generator seeded with `seed`.
template <class Family>
std::vector<Instance<Family>> instances(std::uint64_t seed, std::vector<Eigen::Index> sizes = {1, 2, 5, 12},
                                        int copies = 2) {
  Random rng(seed);
  std::vector<Instance<Family>> out;
  int k = 0;
  for (const Eigen::Index n : sizes) {
    for (int copy = 0; copy < copies; ++copy, ++k) {
      const Eigen::Index p = rng.integer(1, 4);
      Draw<Family> d = Family::draw(rng, n, p, copy);
      Instance<Family> in{std::move(d.problem), std::move(d.theta), std::move(d.x0), {}, {}};
      in.ref = make_reference([&](const auto& th) { return in.problem.reference_solve(in.x0, th); }, in.theta,
                              rng);
      in.name = std::string(Family::name) + " n = " + std::to_string(n) + ", p = " + std::to_string(p) +
                ", instance " + std::to_string(k);
      out.push_back(std::move(in));
    }
  }
  return out;
}

/// The instance sets the programs share, each drawn once per program on first use (templates, so that a
/// program compiles the reference solvers of only the families it uses): n = 1, 2, 5 and 12, two of each.
template <class Family>
const std::vector<Instance<Family>>& standard_instances() {
  static const std::vector<Instance<Family>> all = instances<Family>(Family::seed);
  return all;
}
/// Seven instances, one of size 12, for checks whose every step is costly (a Krylov product or an unrolled
/// step on nested duals or on the tape): the large size is what sets their run time.
template <class Family>
const std::vector<Instance<Family>>& small_instances() {
  static const std::vector<Instance<Family>> all =
      instances<Family>(Family::seed + 1, {1, 2, 5, 12, 1, 2, 5}, 1);
  return all;
}
/// Six instances of size 1, for scalar states.
template <class Family>
const std::vector<Instance<Family>>& scalar_instances() {
  static const std::vector<Instance<Family>> all = instances<Family>(Family::seed + 2, {1}, 6);
  return all;
}

// ---------------------------------------------------------------------------------------------------
// Sweeps: one solver over every instance of a family
// ---------------------------------------------------------------------------------------------------

/// The entry points as function objects returning x (a function template cannot be passed as it is). A
/// scalar state is the first entry of the instance's x0.
inline constexpr auto root_x = [](const auto& f, const auto& x0, const auto& theta, const auto& solver,
                                  const auto& adjoint) { return ift::root(f, x0, theta, solver, adjoint).x; };
inline constexpr auto scalar_root_x = [](const auto& f, const auto& x0, const auto& theta, const auto& solver,
                                         const auto& adjoint) {
  return ift::root(f, x0(0), theta, solver, adjoint).x;
};
inline constexpr auto fixed_point_x = [](const auto& f, const auto& x0, const auto& theta, const auto& solver,
                                         const auto& adjoint) {
  return ift::fixed_point(f, x0, theta, solver, adjoint).x;
};
inline constexpr auto minimize_x = [](const auto& f, const auto& x0, const auto& theta, const auto& solver,
                                      const auto& adjoint) {
  return ift::minimize(f, x0, theta, solver, adjoint).x;
};
inline constexpr auto least_squares_x = [](const auto& f, const auto& x0, const auto& theta,
                                           const auto& solver, const auto& adjoint) {
  return ift::least_squares(f, x0, theta, solver, adjoint).x;
};

/// The solver for one instance: `solver` itself, or `solver(instance)` when it is a function of the
/// instance (a step size from the problem's curvature, a bracket around its root).
template <class Solver, class Family>
auto solver_for(const Solver& solver, const Instance<Family>& in) {
  if constexpr (std::is_invocable_v<const Solver&, const Instance<Family>&>)
    return solver(in);
  else
    return solver;
}

/// Every instance solved by `entry(problem, x0, θ, solver, adjoint)` (an entry point such as `ift::root`,
/// returning x) and checked at every mode with each implicit adjoint `ift::Implicit<LS>`.
template <class... LS, class Family, class Entry, class Solver>
void sweep_implicit(const std::vector<Instance<Family>>& all, const Entry& entry, const Solver& solver,
                    const std::string& solver_name, Tally& tally) {
  for (const Instance<Family>& in : all) {
    const auto s = solver_for(solver, in);
    check_implicit<LS...>(
        [&](const auto& th, const auto& adjoint) { return entry(in.problem, in.x0, th, s, adjoint); }, in.ref,
        tally, in.name + ", " + solver_name);
  }
}

/// Every instance solved by `entry` as for `sweep_implicit`, unrolled, checked at each mode in `modes`.
template <unsigned modes = all_modes, class Family, class Entry, class Solver>
void sweep_unrolled(const std::vector<Instance<Family>>& all, const Entry& entry, const Solver& solver,
                    const std::string& solver_name, Tally& tally) {
  for (const Instance<Family>& in : all) {
    const auto s = solver_for(solver, in);
    check_unrolled<modes>(
        [&](const auto& th, const auto& adjoint) { return entry(in.problem, in.x0, th, s, adjoint); }, in.ref,
        tally, in.name + ", " + solver_name);
  }
}

}  // namespace ift_test
