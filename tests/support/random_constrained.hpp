#pragma once
// Randomized property tests of the constrained entry points: random well-posed problems whose solution
// is known by construction, a reference derivative from differences of an independent re-solve, and
// checks of one solve at every scalar mode against it.
//
// Construction
// ------------
// At θ* each problem is built around a chosen primal-dual point z* = (x*, ν*, μ*): an active set, a
// multiplier μᵢ ∈ [½, 3/2] on each active inequality (gᵢ(x*) = 0) and a slack −gᵢ(x*) ∈ [½, 3/2] on each
// inactive one (μᵢ = 0), so complementarity is strict with a margin. The right-hand sides are set so
// that the constraints take these values at x*, and the linear term of the objective so that x* is
// stationary: c = −(∇L₀(x*) + Jₑᵀν* + J_gᵀμ*), L₀ the objective without it. The rows of A and the active
// gradients come from one matrix with singular values in [1, 2] (LICQ, well conditioned), and the
// Hessian of the Lagrangian is positive definite, so z* is the unique KKT point and ∂c/∂z is
// nonsingular with a moderate condition number.
//
// The reference
// -------------
// Strict complementarity keeps the active set 𝒜 in a neighbourhood of θ*. There z(θ) is the root of the
// smooth system r(x, ν, μ_𝒜; θ) = (∇ₓℒ, eq, ineq_𝒜) = 0 with μᵢ = 0 off 𝒜, which `reference_z` solves by
// Newton's method on doubles with the analytic Hessian, to rounding (it starts at z* and converges
// quadratically). It shares no code with the library. First derivatives are Richardson differences of it
// (support/random_problems.hpp), the second derivative along u a Richardson difference of that Jacobian.
// The re-solve is accurate to δ ≈ 10⁻¹⁴, so the Jacobian to ~δ/h ≈ 10⁻¹⁰ (h = 10⁻³) and the second
// derivative to ~δ/h² ≈ 10⁻⁸…10⁻⁷ (measured: ≤ 3·10⁻⁷); the bounds of the programs leave a margin over that.
//
// The modes
// ---------
// `Dual<double, 3>`: the full Jacobian (θ has three entries); `Dual<Dual<double>>`: uᵀ∇²z u; `Var`: the
// gradient of a random loss wᵀz; `Dual<Var>`: the gradient of wᵀ(∂z/∂θ u), which is (∂_u J)ᵀw.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <Eigen/LU>

#include "ift/dual.hpp"
#include "ift/var.hpp"
#include "random_problems.hpp"

namespace ift_test {

/// The number of parameters of every constrained family (the Jacobian is one `Dual<double, 3>` solve).
inline constexpr Eigen::Index constrained_parameters = 3;

/// Indices 0 … m − 1 with k of them active, at random positions.
inline std::vector<bool> random_active_set(Random& rng, Eigen::Index m, Eigen::Index k) {
  std::vector<bool> active(static_cast<std::size_t>(m), false);
  std::fill_n(active.begin(), k, true);
  for (Eigen::Index i = m - 1; i > 0; --i)
    std::vector<bool>::swap(active[static_cast<std::size_t>(i)],
                            active[static_cast<std::size_t>(rng.integer(0, int(i)))]);
  return active;
}

/// The pieces of the KKT system at (x, ν, μ, θ), on doubles: ∇ₓℒ, ∇²ₓℒ, the constraints and their Jacobians.
struct KKTParts {
  Vec<double> grad, e, g;
  Mat<double> hess, je, jg;
};

/// A QP with data affine in θ:
///     Q(θ) = Q₀ + θ₀Q₁,  q(θ) = q₀ + C θ,  A(θ) = A₀ + θ₁A₁,  b(θ) = b₀ + Bθ,  G(θ) = G₀ + θ₂G₁,  h(θ) = h₀
///     + Hθ,
/// Q₀ with eigenvalues in [1, 3] and ‖Q₁‖_F ≤ 0.2, so Q(θ) ≻ 0 for |θ₀| ≤ 1.
struct QPFamily {
  Mat<double> q0m, q1m, c, a0, a1, bm, g0, g1, hm;
  Vec<double> q0, b0, h0;
  std::vector<bool> active;
  Vec<double> theta, z;  ///< θ* and the constructed z* = (x*, ν*, μ*)

  Eigen::Index n() const { return q0.size(); }
  Eigen::Index p() const { return b0.size(); }
  Eigen::Index m() const { return h0.size(); }

  template <class S>
  Mat<S> Q(const Vec<S>& th) const {
    return as<S>(q0m) + as<S>(q1m) * th(0);
  }
  template <class S>
  Vec<S> q(const Vec<S>& th) const {
    return affine(c, th, q0);
  }
  template <class S>
  Mat<S> A(const Vec<S>& th) const {
    return as<S>(a0) + as<S>(a1) * th(1);
  }
  template <class S>
  Vec<S> b(const Vec<S>& th) const {
    return affine(bm, th, b0);
  }
  template <class S>
  Mat<S> G(const Vec<S>& th) const {
    return as<S>(g0) + as<S>(g1) * th(2);
  }
  template <class S>
  Vec<S> h(const Vec<S>& th) const {
    return affine(hm, th, h0);
  }

  KKTParts parts(const Vec<double>& x, const Vec<double>& nu, const Vec<double>& mu,
                 const Vec<double>& th) const {
    KKTParts k;
    k.hess = Q(th);
    k.je = A(th);
    k.jg = G(th);
    k.grad = k.hess * x + q(th) + k.je.transpose() * nu + k.jg.transpose() * mu;
    k.e = k.je * x - b(th);
    k.g = k.jg * x - h(th);
    return k;
  }

  /// n unknowns, p ≤ 2 equalities, k active and 1 to 3 inactive inequalities, p + k ≤ n.
  static QPFamily draw(Random& rng, Eigen::Index n) {
    QPFamily f;
    const Eigen::Index p = rng.integer(0, int(std::min<Eigen::Index>(2, n - 1)));
    const Eigen::Index k = rng.integer(0, int(n - p));
    const Eigen::Index m = k + rng.integer(1, 3);
    const Eigen::Index r = constrained_parameters;
    f.theta = rng.vector(r);
    f.q0m = rng.spd(n, 1.0, 3.0);
    f.q1m = rng.bounded(n, n, 0.1);
    f.q1m = (f.q1m + f.q1m.transpose()).eval();
    f.c = rng.matrix(n, r);
    f.a1 = rng.matrix(p, n, -0.2, 0.2);
    f.bm = rng.matrix(p, r);
    f.g1 = rng.matrix(m, n, -0.2, 0.2);
    f.hm = rng.matrix(m, r);
    f.active = random_active_set(rng, m, k);
    // The rows of A(θ*) and the active rows of G(θ*): singular values in [1, 2].
    const Mat<double> rows = rng.conditioned(n, p + k, 1.0, 2.0).transpose();
    f.a0 = rows.topRows(p) - f.a1 * f.theta(1);
    f.g0.resize(m, n);
    Vec<double> slack(m), mu(m);
    for (Eigen::Index i = 0, j = p; i < m; ++i) {
      const bool on = f.active[static_cast<std::size_t>(i)];
      f.g0.row(i) = (on ? Mat<double>(rows.row(j++)) : rng.matrix(1, n)) - f.g1.row(i) * f.theta(2);
      mu(i) = on ? rng.uniform(0.5, 1.5) : 0.0;
      slack(i) = on ? 0.0 : rng.uniform(0.5, 1.5);
    }
    const Vec<double> x = rng.vector(n), nu = rng.vector(p);
    f.q0 = Vec<double>::Zero(n);
    f.b0 = Vec<double>::Zero(p);
    f.h0 = Vec<double>::Zero(m);
    const KKTParts at = f.parts(x, nu, mu, f.theta);  // with q0, b0, h0 = 0
    f.q0 = -at.grad;
    f.b0 = at.e;
    f.h0 = at.g + slack;
    f.z.resize(n + p + m);
    f.z << x, nu, mu;
    return f;
  }
};

/// A smooth convex problem:
///     L(x, θ) = log Σₖ exp(Cx + Dθ)ₖ + ½xᵀQx + (c₀ + Eθ)ᵀx,
///     eq:   Ax − b(θ) = 0,  b(θ) = b₀ + Bθ                  (p ≤ 1 rows)
///     ineq: Gx − h(θ) ≤ 0,  h(θ) = h₀ + Hθ                  (linear rows)
///           ½(‖x − a‖² − ρ(θ)) ≤ 0,  ρ(θ) = ρ₀ + rᵀθ          (the last row, a ball)
/// Q has eigenvalues in [½, 2], so ∇²ₓℒ = Cᵀ(diag(s) − ssᵀ)C + Q + μ_ball I ≻ 0 (s the softmax).
struct NLPFamily {
  Mat<double> cm, dm, qm, em, am, bm, gm, hm;
  Vec<double> c0, b0, h0, centre, rho_theta;
  double rho0 = 0.0;
  std::vector<bool> active;
  Vec<double> theta, z;

  Eigen::Index n() const { return qm.rows(); }
  Eigen::Index p() const { return b0.size(); }
  Eigen::Index m() const { return h0.size() + 1; }

  struct Objective {
    const NLPFamily* f;
    template <class X, class P>
    auto operator()(const X& x_in, const P& th) const {
      using S = typename P::Scalar;
      using std::exp;
      using std::log;
      const Vec<S> x = x_in;
      // |y| stays of order one: no shift by max y is needed.
      const Vec<S> y = times(f->cm, x) + times(f->dm, th);
      S sum(0.0);
      for (Eigen::Index k = 0; k < y.size(); ++k) sum += exp(y(k));
      return S(log(sum) + S(0.5) * x.dot(times(f->qm, x)) + affine(f->em, th, f->c0).dot(x));
    }
  };
  struct Equalities {
    const NLPFamily* f;
    template <class X, class P>
    Vec<typename P::Scalar> operator()(const X& x, const P& th) const {
      using S = typename P::Scalar;
      return times(f->am, Vec<S>(x)) - affine(f->bm, th, f->b0);
    }
  };
  struct Inequalities {
    const NLPFamily* f;
    template <class X, class P>
    Vec<typename P::Scalar> operator()(const X& x_in, const P& th) const {
      using S = typename P::Scalar;
      const Vec<S> x = x_in;
      Vec<S> g(f->m());
      g.head(f->m() - 1) = times(f->gm, x) - affine(f->hm, th, f->h0);
      const Vec<S> d = x - as<S>(f->centre);
      g(f->m() - 1) = S(0.5) * (d.squaredNorm() - (f->rho0 + th.dot(as<S>(f->rho_theta))));
      return g;
    }
  };
  Objective objective() const { return {this}; }
  Equalities equalities() const { return {this}; }
  Inequalities inequalities() const { return {this}; }

  KKTParts parts(const Vec<double>& x, const Vec<double>& nu, const Vec<double>& mu,
                 const Vec<double>& th) const {
    KKTParts k;
    const Vec<double> y = cm * x + dm * th;
    const Vec<double> s = y.array().exp();
    const Vec<double> softmax = s / s.sum();
    const Eigen::Index last = m() - 1;
    k.je = am;
    k.jg.resize(m(), n());
    k.jg.topRows(last) = gm;
    k.jg.row(last) = (x - centre).transpose();
    k.hess = cm.transpose() * (Mat<double>(softmax.asDiagonal()) - softmax * softmax.transpose()) * cm + qm +
             mu(last) * Mat<double>::Identity(n(), n());
    k.grad = cm.transpose() * softmax + qm * x + em * th + c0 + k.je.transpose() * nu + k.jg.transpose() * mu;
    k.e = am * x - bm * th - b0;
    k.g.resize(m());
    k.g.head(last) = gm * x - hm * th - h0;
    k.g(last) = 0.5 * ((x - centre).squaredNorm() - rho0 - rho_theta.dot(th));
    return k;
  }

  /// n unknowns, p ≤ 1 equality, 1 or 2 inactive linear inequalities plus k active ones, and the ball,
  /// active or not; the active constraints number at most n.
  static NLPFamily draw(Random& rng, Eigen::Index n) {
    NLPFamily f;
    const Eigen::Index r = constrained_parameters;
    const Eigen::Index p = rng.integer(0, 1);
    const bool ball_active = rng.integer(0, 1) == 1;
    const Eigen::Index k = rng.integer(0, int(n - p - (ball_active ? 1 : 0)));
    const Eigen::Index m_linear = k + rng.integer(1, 2);
    f.theta = rng.vector(r);
    const double scale = 1.0 / std::sqrt(static_cast<double>(n));
    f.cm = scale * rng.matrix(n + 1, n);
    f.dm = rng.matrix(n + 1, r);
    f.qm = rng.spd(n, 0.5, 2.0);
    f.em = rng.matrix(n, r);
    f.bm = rng.matrix(p, r);
    f.hm = rng.matrix(m_linear, r);
    f.rho_theta = rng.vector(r, -0.3, 0.3);
    f.active = random_active_set(rng, m_linear, k);
    f.active.push_back(ball_active);
    const Mat<double> rows = rng.conditioned(n, p + k + (ball_active ? 1 : 0), 1.0, 2.0).transpose();
    const Vec<double> x = rng.vector(n), nu = rng.vector(p);
    f.am = rows.topRows(p);
    f.gm.resize(m_linear, n);
    Vec<double> slack(m_linear + 1), mu(m_linear + 1);
    Eigen::Index j = p;
    for (Eigen::Index i = 0; i <= m_linear; ++i) {
      const bool on = f.active[static_cast<std::size_t>(i)];
      mu(i) = on ? rng.uniform(0.5, 1.5) : 0.0;
      slack(i) = on ? 0.0 : rng.uniform(0.5, 1.5);
      if (i < m_linear) f.gm.row(i) = on ? Mat<double>(rows.row(j++)) : rng.matrix(1, n);
    }
    // The ball's gradient at x* is x* − a: an active ball takes the last well-conditioned row.
    f.centre = x - (ball_active ? Vec<double>(rows.row(j).transpose()) : rng.vector(n));
    f.c0 = Vec<double>::Zero(n);
    f.b0 = Vec<double>::Zero(p);
    f.h0 = Vec<double>::Zero(m_linear);
    f.rho0 = 0.0;
    const KKTParts at = f.parts(x, nu, mu, f.theta);  // with c0, b0, h0, ρ₀ = 0
    f.c0 = -at.grad;
    f.b0 = at.e;
    f.h0 = at.g.head(m_linear) + slack.head(m_linear);
    // ½(‖x* − a‖² − ρ(θ*)) = −slack: ρ₀ = ‖x* − a‖² + 2·slack − rᵀθ* (at.g holds ½‖x* − a‖² − ½rᵀθ*).
    f.rho0 = 2 * (at.g(m_linear) + slack(m_linear));
    f.z.resize(n + p + m_linear + 1);
    f.z << x, nu, mu;
    return f;
  }
};

/// z(θ) on the active set of the construction: Newton's method on r = (∇ₓℒ, eq, ineq_𝒜) = 0 from z*,
/// to rounding (see the top of this file). NaN if it does not settle in 50 steps.
template <class Family>
Vec<double> reference_z(const Family& f, const Vec<double>& theta) {
  const Eigen::Index n = f.n(), p = f.p(), m = f.m();
  std::vector<Eigen::Index> on;
  for (Eigen::Index i = 0; i < m; ++i)
    if (f.active[static_cast<std::size_t>(i)]) on.push_back(i);
  const auto k = static_cast<Eigen::Index>(on.size());
  Vec<double> z = f.z;
  bool settled = false;
  for (int step = 0; step < 50; ++step) {
    const KKTParts at = f.parts(z.head(n), z.segment(n, p), z.tail(m), theta);
    Mat<double> K = Mat<double>::Zero(n + p + k, n + p + k);
    Vec<double> r(n + p + k);
    K.topLeftCorner(n, n) = at.hess;
    K.block(0, n, n, p) = at.je.transpose();
    K.block(n, 0, p, n) = at.je;
    r << at.grad, at.e, Vec<double>::Zero(k);
    for (Eigen::Index j = 0; j < k; ++j) {
      K.block(0, n + p + j, n, 1) = at.jg.row(on[std::size_t(j)]).transpose();
      K.block(n + p + j, 0, 1, n) = at.jg.row(on[std::size_t(j)]);
      r(n + p + j) = at.g(on[std::size_t(j)]);
    }
    const Vec<double> d = K.partialPivLu().solve(-r);
    z.head(n + p) += d.head(n + p);
    for (Eigen::Index j = 0; j < k; ++j) z(n + p + on[std::size_t(j)]) += d(n + p + j);
    // One more step after the step falls to rounding level.
    if (settled) return z;
    settled = d.template lpNorm<Eigen::Infinity>() <= 1e-14 * (1 + z.template lpNorm<Eigen::Infinity>());
  }
  return Vec<double>::Constant(z.size(), std::numeric_limits<double>::quiet_NaN());
}

/// The reference at θ*: z, the Jacobian J, and ∂_u J along a random direction u; w weighs the loss wᵀz.
struct ConstrainedReference {
  Vec<double> theta, z, direction, weights;
  Mat<double> jacobian, second;  ///< J and ∂_u J = Σₖ uₖ ∂J/∂θₖ
};

template <class Family>
ConstrainedReference make_constrained_reference(const Family& f, Random& rng) {
  ConstrainedReference ref;
  ref.theta = f.theta;
  ref.z = reference_z(f, f.theta);
  const auto plain = [&](const Vec<double>& th) { return reference_z(f, th); };
  ref.jacobian = richardson_jacobian(plain, f.theta);
  ref.direction = rng.vector(f.theta.size());
  ref.weights = rng.vector(ref.z.size());
  const auto flat_jacobian = [&](const Vec<double>& th) {
    const Mat<double> j = richardson_jacobian(plain, th);
    return Vec<double>(Eigen::Map<const Vec<double>>(j.data(), j.size()));
  };
  const Vec<double> second = richardson(flat_jacobian, f.theta, ref.direction);
  ref.second = Eigen::Map<const Mat<double>>(second.data(), ref.jacobian.rows(), ref.jacobian.cols());
  return ref;
}

/// Bounds on relative errors (`relative_error`: ∞-norm, relative to max(‖expected‖∞, 10⁻³)).
struct Bounds {
  double value, first, second;
};

/// The worst errors of one entry point's cases, printed when the program ends (as `Tally`).
class ConstrainedTally {
 public:
  explicit ConstrainedTally(const char* family) : family_(family) {}
  ConstrainedTally(const ConstrainedTally&) = delete;
  ConstrainedTally& operator=(const ConstrainedTally&) = delete;
  ~ConstrainedTally() {
    if (cases_ > 0)
      std::printf(
          "%s: %d cases; worst relative error %.2e in values, %.2e in first, %.2e in second derivatives\n",
          family_, cases_, worst_[0], worst_[1], worst_[2]);
  }
  /// Checks `error` against `bound` and keeps the worst of its order (0 values, 1 first, 2 second).
  void check(int order, double error, double bound) {
    worst_[order] = std::max(worst_[order], error);
    CHECK(error <= bound);
  }
  void count() { ++cases_; }

 private:
  const char* family_;
  int cases_ = 0;
  double worst_[3] = {0.0, 0.0, 0.0};
};

/// The solution stacked as z = (x, ν, μ).
template <class Solution>
auto stacked(const Solution& s) {
  using S = typename Solution::Scalar;
  Vec<S> z(s.x.size() + s.eq_multipliers.size() + s.ineq_multipliers.size());
  z << s.x, s.eq_multipliers, s.ineq_multipliers;
  return z;
}

/// One solve at every mode against the reference. `solve(θ)` returns z = (x, ν, μ) at θ's scalar;
/// `constructed` is z* as built, which the solution must reproduce.
template <class Solve>
void check_constrained(const Solve& solve, const ConstrainedReference& ref, const Vec<double>& constructed,
                       const Bounds& bound, ConstrainedTally& tally, const std::string& what) {
  INFO(what);
  tally.count();
  const Eigen::Index r = ref.theta.size(), nz = ref.z.size();
  // The reference reproduces the construction, so the problem is the one intended.
  REQUIRE(relative_error(ref.z, constructed, 1.0) <= 1e-12);
  {
    const Vec<double> z = solve(ref.theta);
    INFO("double: z = " << z.transpose() << "\nexpected " << constructed.transpose());
    tally.check(0, relative_error(z, constructed, 1.0), bound.value);
  }
  {
    using D = ift::Dual<double, constrained_parameters>;
    Vec<D> th(r);
    for (Eigen::Index k = 0; k < r; ++k) th(k) = D(ref.theta(k), Vec<double>::Unit(r, k));
    const Vec<D> z = solve(th);
    Mat<double> jac(nz, r);
    Vec<double> value(nz);
    for (Eigen::Index i = 0; i < nz; ++i) {
      value(i) = z(i).a;
      jac.row(i) = z(i).v.transpose();
    }
    INFO("Dual<double, 3>: Jacobian\n" << jac << "\nreference\n" << ref.jacobian);
    tally.check(0, relative_error(value, constructed, 1.0), bound.value);
    tally.check(1, relative_error(jac, ref.jacobian), bound.first);
  }
  {
    using D1 = ift::Dual<double>;
    using D2 = ift::Dual<D1>;
    Vec<D2> th(r);
    for (Eigen::Index k = 0; k < r; ++k)
      th(k) = D2(D1(ref.theta(k), ref.direction(k)), D1(ref.direction(k), 0.0));
    const Vec<D2> z = solve(th);
    Vec<double> first(nz), second(nz);
    for (Eigen::Index i = 0; i < nz; ++i) {
      first(i) = z(i).a.v(0);
      second(i) = z(i).v(0).v(0);
    }
    const Vec<double> expected = ref.second * ref.direction;
    INFO("Dual<Dual<double>>: u'z''u = " << second.transpose() << "\nreference " << expected.transpose());
    tally.check(1, relative_error(first, ref.jacobian * ref.direction), bound.first);
    tally.check(2, relative_error(second, expected), bound.second);
  }
  {
    ift::Tape tape;
    Vec<ift::Var> th(r);
    for (Eigen::Index k = 0; k < r; ++k) th(k) = ref.theta(k);
    const Vec<ift::Var> z = solve(th);
    ift::Var loss = 0.0;
    for (Eigen::Index i = 0; i < nz; ++i) loss += ref.weights(i) * z(i);
    const Vec<double> grad = tape.gradient(loss, th);
    const Vec<double> expected = ref.jacobian.transpose() * ref.weights;
    INFO("Var: gradient " << grad.transpose() << "\nreference " << expected.transpose());
    tally.check(1, relative_error(grad, expected), bound.first);
  }
  {
    using DV = ift::Dual<ift::Var>;
    ift::Tape tape;
    Vec<ift::Var> tv(r);
    Vec<DV> th(r);
    for (Eigen::Index k = 0; k < r; ++k) {
      tv(k) = ref.theta(k);
      th(k) = DV(tv(k), ref.direction(k));
    }
    const Vec<DV> z = solve(th);
    ift::Var loss = 0.0;
    Vec<double> first(nz);
    for (Eigen::Index i = 0; i < nz; ++i) {
      loss += ref.weights(i) * z(i).v(0);
      first(i) = z(i).v(0).value();
    }
    const Vec<double> grad = tape.gradient(loss, tv);
    const Vec<double> expected = ref.second.transpose() * ref.weights;
    INFO("Dual<Var>: gradient of w'(dz/du) " << grad.transpose() << "\nreference " << expected.transpose());
    tally.check(1, relative_error(first, ref.jacobian * ref.direction), bound.first);
    tally.check(2, relative_error(grad, expected), bound.second);
  }
}

/// "family seed 0x…, case k: n = …, p = …, m = …, active = 0110…", for INFO.
template <class Family>
std::string describe(const char* family, std::uint64_t seed, int index, const Family& f) {
  std::string active;
  for (const bool on : f.active) active += on ? '1' : '0';
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s seed %#llx, case %d", family,
                static_cast<unsigned long long>(seed), index);
  return std::string(buffer) + ": n = " + std::to_string(f.n()) + ", p = " + std::to_string(f.p()) +
         ", m = " + std::to_string(f.m()) + ", active = " + active;
}

}  // namespace ift_test
