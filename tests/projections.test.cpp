// Projections and proximal operators (include/ift/projections.hpp, include/ift/proximal.hpp).
//
// Each operator is seen as a function x(p) of the stacked inputs p = (y, the set's parameters), and
// checked at every scalar mode against a reference built independently of the library: the value (the
// simplex threshold found by bisection, not by sorting), the Jacobian from the closed form of the piece
// p lies in, and the second derivative (zero for the piecewise linear operators, a closed form for the
// l2 ball and the elastic net). Then the conventions at kinks, the mixed scalar types a projected or
// proximal gradient method passes, the sparsity tracer, and the bad inputs.

#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "ift/dual.hpp"
#include "ift/projections.hpp"
#include "ift/proximal.hpp"
#include "ift/tracer.hpp"
#include "ift/var.hpp"

namespace {

using ift::Dual;
using ift::Var;
using D1 = Dual<double>;
using DX = Dual<double, ift::Dynamic>;
using DD = Dual<Dual<double>>;
using DV = Dual<Var>;

/// y has n = 4 entries in every case; the parameters follow it in p.
constexpr Eigen::Index n = 4;

/// What x(p) must give at p₀: its value, its Jacobian (m × |p|) and its second derivative as the bilinear
/// form (d, e) ↦ Σₖₗ ∂²x/∂pₖ∂pₗ dₖ eₗ (absent: zero, as for the piecewise linear operators).
struct Expected {
  Eigen::VectorXd x;
  Eigen::MatrixXd jacobian;
  std::function<Eigen::VectorXd(const Eigen::VectorXd&, const Eigen::VectorXd&)> second = {};

  Eigen::VectorXd second_derivative(const Eigen::VectorXd& d, const Eigen::VectorXd& e) const {
    return second ? second(d, e) : Eigen::VectorXd::Zero(x.size());
  }
};

void check_close(const Eigen::MatrixXd& got, const Eigen::MatrixXd& want, double tol = 1e-12) {
  REQUIRE(got.rows() == want.rows());
  REQUIRE(got.cols() == want.cols());
  INFO("got\n" << got << "\nexpected\n" << want);
  CHECK((got - want).cwiseAbs().maxCoeff() <= tol * (1.0 + want.cwiseAbs().maxCoeff()));
}

/// A direction with distinct nonzero entries.
Eigen::VectorXd direction(Eigen::Index size, double phase) {
  Eigen::VectorXd d(size);
  for (Eigen::Index i = 0; i < size; ++i) d(i) = std::cos(phase + 1.7 * static_cast<double>(i));
  return d;
}

/// Row i: the tangent of xᵢ (a Dual of double); an empty run-time tangent is zero.
template <class V>
Eigen::MatrixXd tangents(const V& x, Eigen::Index directions) {
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(x.size(), directions);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    REQUIRE((x(i).v.size() == directions || x(i).v.size() == 0));
    for (Eigen::Index k = 0; k < x(i).v.size(); ++k) t(i, k) = x(i).v(k);
  }
  return t;
}

template <class V, class Get>
Eigen::VectorXd entries(const V& x, Get get) {
  Eigen::VectorXd out(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) out(i) = get(x(i));
  return out;
}

/// Checks x = f(p) at p₀ in every scalar mode: double; Dual<double, P> and Dual<double, Dynamic> seeded
/// with the unit vectors (the whole Jacobian); Dual<double> along d; Dual<Dual<double>> along d and e
/// (the second derivative); Var (one reverse sweep per row); Dual<Var> (reverse over forward: the rows of
/// the Jacobian from the values, the second derivative along d from the tangents).
template <int P, class F>
void check_modes(const F& f, const Eigen::VectorXd& p0, const Expected& expected) {
  REQUIRE(p0.size() == P);
  const Eigen::VectorXd d = direction(P, 0.3), e = direction(P, 1.1);
  const Eigen::MatrixXd& J = expected.jacobian;
  {
    INFO("double");
    check_close(f(p0), expected.x);
  }
  {
    INFO("Dual<double, P>");
    Eigen::VectorX<Dual<double, P>> p(P);
    for (Eigen::Index k = 0; k < P; ++k) p(k) = Dual<double, P>(p0(k), Eigen::Matrix<double, P, 1>::Unit(k));
    const auto x = f(p);
    check_close(entries(x, [](const auto& s) { return s.a; }), expected.x);
    check_close(tangents(x, P), J);
  }
  {
    INFO("Dual<double, Dynamic>");
    Eigen::VectorX<DX> p(P);
    for (Eigen::Index k = 0; k < P; ++k) p(k) = DX(p0(k), Eigen::VectorXd::Unit(P, k));
    check_close(tangents(f(p), P), J);
  }
  {
    INFO("Dual<double> along d");
    Eigen::VectorX<D1> p(P);
    for (Eigen::Index k = 0; k < P; ++k) p(k) = D1(p0(k), d(k));
    check_close(tangents(f(p), 1), J * d);
  }
  {
    INFO("Dual<Dual<double>> along d and e");
    Eigen::VectorX<DD> p(P);
    for (Eigen::Index k = 0; k < P; ++k) p(k) = DD(D1(p0(k), d(k)), D1(e(k), 0.0));
    const auto x = f(p);
    check_close(entries(x, [](const auto& s) { return s.a.a; }), expected.x);
    check_close(entries(x, [](const auto& s) { return s.a.v(0); }), J * d);
    check_close(entries(x, [](const auto& s) { return s.v(0).a; }), J * e);
    check_close(entries(x, [](const auto& s) { return s.v(0).v(0); }), expected.second_derivative(d, e),
                1e-10);
  }
  {
    INFO("Var");
    ift::Tape tape;
    Eigen::VectorX<Var> p(P);
    for (Eigen::Index k = 0; k < P; ++k) p(k) = p0(k);
    const auto x = f(p);
    Eigen::MatrixXd rows(x.size(), P);
    for (Eigen::Index i = 0; i < x.size(); ++i) rows.row(i) = tape.gradient(x(i), p).transpose();
    check_close(entries(x, [](const Var& s) { return s.value(); }), expected.x);
    check_close(rows, J);
  }
  {
    INFO("Dual<Var> along d");
    ift::Tape tape;
    Eigen::VectorX<Var> leaves(P);
    Eigen::VectorX<DV> p(P);
    for (Eigen::Index k = 0; k < P; ++k) {
      leaves(k) = p0(k);
      p(k) = DV(leaves(k), Var::constant(d(k)));
    }
    const auto x = f(p);
    Eigen::MatrixXd rows(x.size(), P), second_rows(x.size(), P), second(x.size(), P);
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      rows.row(i) = tape.gradient(x(i).a, leaves).transpose();
      second_rows.row(i) = tape.gradient(x(i).v(0), leaves).transpose();
    }
    for (Eigen::Index k = 0; k < P; ++k)
      second.col(k) = expected.second_derivative(d, Eigen::VectorXd::Unit(P, k));
    check_close(rows, J);
    check_close(entries(x, [](const DV& s) { return s.v(0).value(); }), J * d);
    check_close(second_rows, second, 1e-10);
  }
}

/// y as a vector of Ny (fixed 4 or ift::Dynamic) entries of p's scalar.
template <int Ny, class V>
Eigen::Matrix<typename V::Scalar, Ny, 1> head(const V& p) {
  return p.head(n);
}

// The operators as functions of p, for y of compile-time size Ny.

template <int Ny>
struct BoxScalarBounds {  // p = (y, lo, hi)
  template <class V>
  auto operator()(const V& p) const {
    return ift::project_box(head<Ny>(p), p(n), p(n + 1));
  }
};
template <int Ny>
struct BoxVectorBounds {  // p = (y, lo₁…lo₄, hi₁…hi₄), the bounds passed as expressions
  template <class V>
  auto operator()(const V& p) const {
    return ift::project_box(head<Ny>(p), p.segment(n, n), p.segment(2 * n, n));
  }
};
template <int Ny>
struct Nonnegative {  // p = y
  template <class V>
  auto operator()(const V& p) const {
    return ift::project_nonnegative(head<Ny>(p));
  }
};
template <int Ny>
struct Simplex {  // p = (y, r)
  template <class V>
  auto operator()(const V& p) const {
    return ift::project_simplex(head<Ny>(p), p(n));
  }
};
template <int Ny>
struct L1Ball {  // p = (y, r)
  template <class V>
  auto operator()(const V& p) const {
    return ift::project_l1_ball(head<Ny>(p), p(n));
  }
};
template <int Ny>
struct L2Ball {  // p = (y, r)
  template <class V>
  auto operator()(const V& p) const {
    return ift::project_l2_ball(head<Ny>(p), p(n));
  }
};
template <int Ny>
struct ProxL1 {  // p = (y, λ)
  template <class V>
  auto operator()(const V& p) const {
    return ift::prox_l1(head<Ny>(p), p(n));
  }
};
template <int Ny>
struct ElasticNet {  // p = (y, λ, μ)
  template <class V>
  auto operator()(const V& p) const {
    return ift::prox_elastic_net(head<Ny>(p), p(n), p(n + 1));
  }
};

// The references.

double sign(double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); }

/// Box: the bound where yᵢ ≤ loᵢ or yᵢ ≥ hiᵢ (derivative 1 in that bound), else yᵢ (derivative 1 in yᵢ).
Expected box_reference(const Eigen::VectorXd& p, bool vector_bounds) {
  Expected e{Eigen::VectorXd(n), Eigen::MatrixXd::Zero(n, p.size())};
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::Index lo = vector_bounds ? n + i : n, hi = vector_bounds ? 2 * n + i : n + 1;
    const Eigen::Index from = p(i) <= p(lo) ? lo : (p(i) >= p(hi) ? hi : i);
    e.x(i) = p(from);
    e.jacobian(i, from) = 1.0;
  }
  return e;
}

Expected nonnegative_reference(const Eigen::VectorXd& y) {
  Expected e{y.cwiseMax(0.0), Eigen::MatrixXd::Zero(n, n)};
  for (Eigen::Index i = 0; i < n; ++i) e.jacobian(i, i) = y(i) > 0 ? 1.0 : 0.0;
  return e;
}

/// The threshold τ with Σ max(uᵢ − τ, 0) = r, by bisection (the sum falls from ≥ r at min(u) − r to 0
/// at max(u)).
double threshold_by_bisection(const Eigen::VectorXd& u, double r) {
  double lo = u.minCoeff() - r, hi = u.maxCoeff();
  for (int k = 0; k < 200; ++k) {
    const double mid = 0.5 * (lo + hi);
    ((u.array() - mid).max(0.0).sum() > r ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

/// x = σ ⊙ max(σ ⊙ y − τ, 0) for the simplex (σ = 1) or the l1 ball (σ = sign y) with the Jacobian
/// D(diag(s) − s sᵀ/|S|)D in y and σ ⊙ s/|S| in r, s the indicator of the support. An entry within 1e-9
/// of τ is outside (the convention at the kink).
Expected shifted_reference(const Eigen::VectorXd& p, bool signs) {
  const Eigen::VectorXd y = p.head(n);
  const Eigen::VectorXd sigma = signs ? Eigen::VectorXd(y.unaryExpr(&sign)) : Eigen::VectorXd::Ones(n);
  const Eigen::VectorXd u = sigma.cwiseProduct(y);
  const double tau = threshold_by_bisection(u, p(n));
  const Eigen::VectorXd s = (u.array() > tau + 1e-9).cast<double>();
  Expected e{sigma.cwiseProduct((u.array() - tau).max(0.0).matrix()), Eigen::MatrixXd::Zero(n, n + 1)};
  e.jacobian.leftCols(n) = Eigen::MatrixXd(s.asDiagonal()) - s * s.transpose() / s.sum();
  e.jacobian.leftCols(n) = sigma.asDiagonal() * e.jacobian.leftCols(n) * sigma.asDiagonal();
  e.jacobian.col(n) = sigma.cwiseProduct(s) / s.sum();
  return e;
}

Expected l1_reference(const Eigen::VectorXd& p) {
  if (p.head(n).lpNorm<1>() < p(n)) return {p.head(n), Eigen::MatrixXd::Identity(n, n + 1)};
  return shifted_reference(p, true);
}

/// Outside the l2 ball x = r w with w = y/‖y‖: Jacobian (r(I − u uᵀ)/‖y‖, u); second derivative
/// r w''(d, e) + d_r w'(e) + e_r w'(d) with w'(d) = (d − u aᵈ)/s, w''(d, e) = −(aᵈ e + aᵉ d)/s² +
/// y(3aᵈaᵉ − d·e)/s³, s = ‖y‖, aᵈ = u·d.
Expected l2_reference(const Eigen::VectorXd& p) {
  const Eigen::VectorXd y = p.head(n);
  const double r = p(n), s = y.norm();
  if (s < r) return {y, Eigen::MatrixXd::Identity(n, n + 1)};
  const Eigen::VectorXd u = y / s;
  Expected e{r * u, Eigen::MatrixXd(n, n + 1)};
  e.jacobian.leftCols(n) = r * (Eigen::MatrixXd::Identity(n, n) - u * u.transpose()) / s;
  e.jacobian.col(n) = u;
  e.second = [y, u, r, s](const Eigen::VectorXd& d, const Eigen::VectorXd& f) {
    const Eigen::VectorXd dy = d.head(n), fy = f.head(n);
    const double ad = u.dot(dy), af = u.dot(fy);
    const auto first = [&](const Eigen::VectorXd& v, double a) -> Eigen::VectorXd { return (v - u * a) / s; };
    const Eigen::VectorXd w2 = -(ad * fy + af * dy) / (s * s) + y * (3 * ad * af - dy.dot(fy)) / (s * s * s);
    return Eigen::VectorXd(r * w2 + d(n) * first(fy, af) + f(n) * first(dy, ad));
  };
  return e;
}

/// z = (y − λσ)s/(1 + μ) with s the indicator of |y| > λ (μ = 0 for prox_l1): derivative s/(1 + μ) in y,
/// −σs/(1 + μ) in λ, −z/(1 + μ) in μ; second derivatives c²s(−(dᵧe_μ + eᵧd_μ) + σ(d_λe_μ + e_λd_μ))
/// + 2zc²d_μe_μ with c = 1/(1 + μ).
Expected soft_threshold_reference(const Eigen::VectorXd& p, bool elastic) {
  const Eigen::VectorXd y = p.head(n), sigma = y.unaryExpr(&sign);
  const double lambda = p(n), mu = elastic ? p(n + 1) : 0.0, c = 1.0 / (1.0 + mu);
  const Eigen::VectorXd s = (y.array().abs() > lambda).cast<double>();
  Expected e{c * (y - lambda * sigma).cwiseProduct(s), Eigen::MatrixXd::Zero(n, p.size())};
  e.jacobian.leftCols(n) = c * Eigen::MatrixXd(s.asDiagonal());
  e.jacobian.col(n) = -c * sigma.cwiseProduct(s);
  if (elastic) {
    e.jacobian.col(n + 1) = -c * e.x;
    e.second = [s, sigma, z = e.x, c](const Eigen::VectorXd& d, const Eigen::VectorXd& f) {
      const double dl = d(n), fl = f(n), dm = d(n + 1), fm = f(n + 1);
      const Eigen::VectorXd mixed = -(d.head(n) * fm + f.head(n) * dm) + sigma * (dl * fm + fl * dm);
      return Eigen::VectorXd(c * c * s.cwiseProduct(mixed) + 2 * c * c * dm * fm * z);
    };
  }
  return e;
}

Eigen::VectorXd stack(std::initializer_list<double> values) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(values.size()));
  Eigen::Index i = 0;
  for (const double x : values) v(i++) = x;
  return v;
}

}  // namespace

// The operators keep y's compile-time size and take the common scalar of y and the parameters.
static_assert(std::is_same_v<decltype(ift::project_simplex(Eigen::Vector4d())), Eigen::Vector4d>);
static_assert(std::is_same_v<decltype(ift::project_l2_ball(Eigen::VectorXd(), D1())), Eigen::VectorX<D1>>);
static_assert(std::is_same_v<decltype(ift::project_box(Eigen::Vector3<Var>(), 0, 1.0)), Eigen::Vector3<Var>>);
static_assert(std::is_same_v<decltype(ift::prox_l1(Eigen::RowVector2d(), 1.0)), Eigen::Vector2d>);

TEMPLATE_TEST_CASE_SIG("box projection: inside, clipped at either bound, scalar and vector bounds",
                       "[projections]", ((int Ny), Ny), ift::Dynamic, 4) {
  SECTION("scalar bounds; one entry inside, one below, one above, one on lo") {
    const Eigen::VectorXd p = stack({0.5, -0.7, -0.2, 1.3, -0.2, 0.8});
    const Expected e = box_reference(p, false);
    check_close(e.x, stack({0.5, -0.2, -0.2, 0.8}));
    check_modes<6>(BoxScalarBounds<Ny>{}, p, e);
  }
  SECTION("vector bounds, one infinite; every entry clipped") {
    constexpr double inf = std::numeric_limits<double>::infinity();
    const Eigen::VectorXd p = stack({-3.0, 2.0, 0.4, -1.0, -1.0, 0.0, 0.5, -inf, 1.0, 1.5, 0.7, -2.0});
    const Expected e = box_reference(p, true);
    check_close(e.x, stack({-1.0, 1.5, 0.5, -2.0}));
    check_modes<12>(BoxVectorBounds<Ny>{}, p, e);
  }
  SECTION("already feasible: the identity") {
    const Eigen::VectorXd p = stack({0.1, 0.2, 0.3, 0.4, 0.0, 1.0});
    check_close(box_reference(p, false).jacobian.leftCols(n), Eigen::MatrixXd::Identity(n, n));
    check_modes<6>(BoxScalarBounds<Ny>{}, p, box_reference(p, false));
  }
  SECTION("lo = hi: the point, with the derivative of lo") {
    const Eigen::VectorXd p = stack({0.1, 0.2, 0.3, 0.4, 0.25, 0.25});
    check_close(box_reference(p, false).x, Eigen::VectorXd::Constant(n, 0.25));
    check_modes<6>(BoxScalarBounds<Ny>{}, p, box_reference(p, false));
  }
}

TEMPLATE_TEST_CASE_SIG("projection onto the nonnegative orthant", "[projections]", ((int Ny), Ny),
                       ift::Dynamic, 4) {
  // Entry 2 sits on the kink y = 0: it takes the clipped side (0, derivative 0).
  const Eigen::VectorXd p = stack({0.5, -0.7, 0.0, 1.3});
  check_close(nonnegative_reference(p).x, stack({0.5, 0.0, 0.0, 1.3}));
  check_modes<4>(Nonnegative<Ny>{}, p, nonnegative_reference(p));
}

TEMPLATE_TEST_CASE_SIG("simplex projection: support, threshold and the Jacobian diag(s) - s s'/|S|",
                       "[projections]", ((int Ny), Ny), ift::Dynamic, 4) {
  SECTION("sparsemax with three entries in the support") {
    const Eigen::VectorXd p = stack({0.5, 0.2, -0.3, 0.4, 1.0});
    const Expected e = shifted_reference(p, false);
    const double tau = 0.1 / 3;  // (0.5 + 0.2 + 0.4 − 1)/3
    check_close(e.x, stack({0.5 - tau, 0.2 - tau, 0.0, 0.4 - tau}));
    check_modes<5>(Simplex<Ny>{}, p, e);
  }
  SECTION("radius 2.5, every entry in the support") {
    const Eigen::VectorXd p = stack({0.5, 0.2, -0.3, 0.4, 2.5});
    check_modes<5>(Simplex<Ny>{}, p, shifted_reference(p, false));
  }
  SECTION("a single winner: the Jacobian in y is 0, in r it is e_winner") {
    const Eigen::VectorXd p = stack({3.0, 0.2, -0.3, 0.4, 1.0});
    const Expected e = shifted_reference(p, false);
    check_close(e.x, stack({1.0, 0.0, 0.0, 0.0}));
    check_modes<5>(Simplex<Ny>{}, p, e);
  }
  SECTION("ties: equal entries enter the support together") {
    const Eigen::VectorXd p = stack({0.7, 0.7, 0.1, 0.7, 1.5});
    const Expected e = shifted_reference(p, false);
    check_close(e.x, stack({0.5, 0.5, 0.0, 0.5}));
    check_modes<5>(Simplex<Ny>{}, p, e);
  }
  SECTION("already on the simplex: x = y") {
    const Eigen::VectorXd p = stack({0.125, 0.25, 0.5, 0.125, 1.0});
    check_close(shifted_reference(p, false).x, p.head(n));
    check_modes<5>(Simplex<Ny>{}, p, shifted_reference(p, false));
  }
  SECTION("an entry exactly on the threshold is outside the support") {
    // y = (1, 0, −1, 0), r = 1: τ = 0 and y₂ = y₄ = τ; S = {1}.
    const Eigen::VectorXd p = stack({1.0, 0.0, -1.0, 0.0, 1.0});
    Expected e{stack({1.0, 0.0, 0.0, 0.0}), Eigen::MatrixXd::Zero(n, n + 1)};
    e.jacobian(0, n) = 1.0;
    check_modes<5>(Simplex<Ny>{}, p, e);
  }
  SECTION("radius 0: the point 0, with the one-sided derivative in r over the largest entries") {
    const Eigen::VectorXd p = stack({0.5, 0.2, 0.5, 0.4, 0.0});
    Expected e{Eigen::VectorXd::Zero(n), Eigen::MatrixXd::Zero(n, n + 1)};
    const Eigen::VectorXd s = stack({1, 0, 1, 0});
    e.jacobian.leftCols(n) = Eigen::MatrixXd(s.asDiagonal()) - s * s.transpose() / 2;
    e.jacobian.col(n) = s / 2;
    check_modes<5>(Simplex<Ny>{}, p, e);
  }
}

TEMPLATE_TEST_CASE_SIG("l1-ball projection: inside, outside with signs, on the sphere", "[projections]",
                       ((int Ny), Ny), ift::Dynamic, 4) {
  SECTION("outside: sign(y) times the simplex projection of |y|") {
    const Eigen::VectorXd p = stack({0.5, 0.2, -0.3, 0.4, 0.5});
    const Expected e = l1_reference(p);
    check_close(e.x, stack({0.8 / 3, 0.0, -0.2 / 3, 0.5 / 3}));
    check_modes<5>(L1Ball<Ny>{}, p, e);
  }
  SECTION("inside: the identity, nothing in r") {
    const Eigen::VectorXd p = stack({0.5, 0.2, -0.3, 0.4, 2.0});
    check_close(l1_reference(p).jacobian, Eigen::MatrixXd::Identity(n, n + 1));
    check_modes<5>(L1Ball<Ny>{}, p, l1_reference(p));
  }
  SECTION("on the sphere: x = y with the derivative of the outside formula") {
    const Eigen::VectorXd p = stack({0.5, 0.25, -0.125, -0.125, 1.0});
    Expected e = shifted_reference(p, true);
    check_close(e.x, p.head(n));
    check_modes<5>(L1Ball<Ny>{}, p, e);
  }
  SECTION("y = 0 and r = 0: the point 0, derivative 0") {
    const Eigen::VectorXd p = Eigen::VectorXd::Zero(n + 1);
    check_modes<5>(L1Ball<Ny>{}, p, Expected{Eigen::VectorXd::Zero(n), Eigen::MatrixXd::Zero(n, n + 1)});
  }
}

TEMPLATE_TEST_CASE_SIG("l2-ball projection: inside, outside with its curvature, on the sphere",
                       "[projections]", ((int Ny), Ny), ift::Dynamic, 4) {
  SECTION("outside: y r/|y|, Jacobian (I - u u') r/|y|, second derivatives") {
    const Eigen::VectorXd p = stack({0.5, 0.2, -0.3, 0.4, 0.5});
    check_modes<5>(L2Ball<Ny>{}, p, l2_reference(p));
  }
  SECTION("outside by far, entries of very different magnitudes") {
    const Eigen::VectorXd p = stack({3e5, -4e5, 1e-3, 0.0, 2.0});
    check_modes<5>(L2Ball<Ny>{}, p, l2_reference(p));
  }
  SECTION("inside: the identity") {
    const Eigen::VectorXd p = stack({0.5, 0.2, -0.3, 0.4, 1.0});
    check_close(l2_reference(p).jacobian, Eigen::MatrixXd::Identity(n, n + 1));
    check_modes<5>(L2Ball<Ny>{}, p, l2_reference(p));
  }
  SECTION("on the sphere: x = y with the derivative of the outside formula") {
    const Eigen::VectorXd p = stack({0.5, 0.5, -0.5, 0.5, 1.0});
    check_close(l2_reference(p).x, p.head(n));
    check_modes<5>(L2Ball<Ny>{}, p, l2_reference(p));
  }
  SECTION("y = 0 and r = 0: the point 0, derivative 0") {
    const Eigen::VectorXd p = Eigen::VectorXd::Zero(n + 1);
    check_modes<5>(L2Ball<Ny>{}, p, Expected{Eigen::VectorXd::Zero(n), Eigen::MatrixXd::Zero(n, n + 1)});
  }
}

TEMPLATE_TEST_CASE_SIG("prox_l1 is soft thresholding; prox_elastic_net divides it by 1 + l2", "[proximal]",
                       ((int Ny), Ny), ift::Dynamic, 4) {
  SECTION("prox_l1: two entries survive, one is on the kink |y| = lambda") {
    const Eigen::VectorXd p = stack({0.5, -0.2, -0.3, 0.1, 0.2});
    const Expected e = soft_threshold_reference(p, false);
    check_close(e.x, stack({0.3, 0.0, -0.1, 0.0}));
    check_modes<5>(ProxL1<Ny>{}, p, e);
  }
  SECTION("prox_l1 with strength 0: the identity") {
    const Eigen::VectorXd p = stack({0.5, -0.2, -0.3, 0.1, 0.0});
    check_close(soft_threshold_reference(p, false).jacobian.leftCols(n), Eigen::MatrixXd::Identity(n, n));
    check_modes<5>(ProxL1<Ny>{}, p, soft_threshold_reference(p, false));
  }
  SECTION("prox_elastic_net: first and second derivatives in y, l1 and l2") {
    const Eigen::VectorXd p = stack({0.5, -0.2, -0.3, 0.1, 0.15, 0.5});
    const Expected e = soft_threshold_reference(p, true);
    check_close(e.x, stack({0.35 / 1.5, -0.05 / 1.5, -0.15 / 1.5, 0.0}));
    check_modes<6>(ElasticNet<Ny>{}, p, e);
  }
}

TEST_CASE("the Jacobians agree with central finite differences away from kinks", "[projections]") {
  // Richardson-extrapolated central differences of the double evaluation against the Dual Jacobian.
  const auto check = [](const auto& f, const Eigen::VectorXd& p) {
    Eigen::VectorX<DX> pd(p.size());
    for (Eigen::Index k = 0; k < p.size(); ++k) pd(k) = DX(p(k), Eigen::VectorXd::Unit(p.size(), k));
    const Eigen::MatrixXd J = tangents(f(pd), p.size());
    Eigen::MatrixXd fd(J.rows(), J.cols());
    for (Eigen::Index k = 0; k < p.size(); ++k) {
      const auto central = [&](double h) {
        const Eigen::VectorXd step = h * Eigen::VectorXd::Unit(p.size(), k);
        return Eigen::VectorXd((f(Eigen::VectorXd(p + step)) - f(Eigen::VectorXd(p - step))) / (2 * h));
      };
      fd.col(k) = (4 * central(1e-4) - central(2e-4)) / 3;
    }
    check_close(J, fd, 1e-8);
  };
  check(Simplex<ift::Dynamic>{}, stack({0.5, 0.2, -0.3, 0.4, 1.0}));
  check(L1Ball<ift::Dynamic>{}, stack({0.5, 0.2, -0.3, 0.4, 0.5}));
  check(L2Ball<ift::Dynamic>{}, stack({0.5, 0.2, -0.3, 0.4, 0.5}));
  check(ElasticNet<ift::Dynamic>{}, stack({0.5, -0.2, -0.3, 0.1, 0.15, 0.5}));
  check(BoxVectorBounds<ift::Dynamic>{},
        stack({-3.0, 2.0, 0.4, -1.0, -1.0, 0.0, 0.5, -9.0, 1.0, 1.5, 0.7, -2.0}));
}

TEST_CASE("derivatives in y alone or in the parameter alone (the other plain numbers)", "[projections]") {
  const Eigen::Vector4d y(0.5, 0.2, -0.3, 0.4);
  SECTION("y carries the derivative, the radius is a double") {
    Eigen::Matrix<Dual<double, 4>, 4, 1> yd;
    for (Eigen::Index k = 0; k < 4; ++k) yd(k) = Dual<double, 4>(y(k), Eigen::Vector4d::Unit(k));
    const auto x = ift::project_l2_ball(yd, 0.5);
    static_assert(std::is_same_v<std::remove_const_t<decltype(x)>, Eigen::Matrix<Dual<double, 4>, 4, 1>>);
    check_close(tangents(x, 4), l2_reference(stack({0.5, 0.2, -0.3, 0.4, 0.5})).jacobian.leftCols(n));
  }
  SECTION("only the radius carries the derivative: the result is of the radius' scalar") {
    const auto x = ift::project_simplex(y, D1(1.0, 1.0));
    static_assert(std::is_same_v<std::remove_const_t<decltype(x)>, Eigen::Matrix<D1, 4, 1>>);
    check_close(tangents(x, 1), stack({1.0, 1.0, 0.0, 1.0}) / 3);
  }
  SECTION("only the bounds carry the derivative, on the tape") {
    ift::Tape tape;
    const Var lo = -0.2, hi = 0.3;
    const auto x = ift::project_box(y, lo, hi);
    CHECK(tape.gradient(x(0), hi) == 1.0);
    CHECK(tape.gradient(x(1), hi) == 0.0);
    CHECK(tape.gradient(x(1), lo) == 0.0);
    CHECK(tape.gradient(x(2), lo) == 1.0);
    CHECK(x(1).is_constant());
  }
  SECTION("only the strength carries the derivative") {
    const auto z = ift::prox_elastic_net(y, 0.25, D1(1.0, 1.0));
    check_close(tangents(z, 1), -stack({0.25, 0.0, -0.05, 0.15}) / 4);
  }
}

namespace {
template <class T>
struct Bounds {
  Eigen::VectorX<T> lo, hi;
};
template <class T>
struct ScalarBounds {
  T lo;
  double hi;
};
}  // namespace

TEST_CASE("the call shapes of a projected or proximal gradient method compile and keep the scalar",
          "[projections][proximal]") {
  const auto project = [](const auto& y, const auto& th) { return ift::project_box(y, th.lo, th.hi); };
  const auto prox = [](const auto& y, const auto& eta, const auto& lam) {
    return ift::prox_l1(y, eta * lam);
  };
  Eigen::VectorX<D1> y(3);
  y << D1(-1.0, 1.0), D1(0.5, 1.0), D1(2.0, 1.0);
  const Bounds<D1> box{Eigen::VectorX<D1>::Constant(3, D1(0.0)),
                       Eigen::VectorX<D1>::Constant(3, D1(1.0, 2.0))};
  const auto x = project(y, box);
  static_assert(std::is_same_v<std::remove_const_t<decltype(x)>, Eigen::VectorX<D1>>);
  check_close(tangents(x, 1), stack({0.0, 1.0, 2.0}));
  const auto x2 = project(y, ScalarBounds<D1>{D1(0.0), 1.0});
  check_close(tangents(x2, 1), stack({0.0, 1.0, 0.0}));

  const auto z = prox(y, 0.5, D1(1.0, 1.0));  // η a double, λ carries a derivative
  static_assert(std::is_same_v<std::remove_const_t<decltype(z)>, Eigen::VectorX<D1>>);
  check_close(tangents(z, 1), stack({1.5, 0.0, 0.5}));  // y₂ = 0.5 = ηλ is on the kink
  const auto z2 = prox(y, D1(0.5), D1(1.0));
  check_close(tangents(z2, 1), stack({1.0, 0.0, 1.0}));
  check_close(ift::prox_l1(Eigen::Vector3d(-1.0, 0.5, 2.0), 0.5 * 1.0), stack({-0.5, 0.0, 1.5}));
}

TEST_CASE("the sparsity tracer sees the support", "[projections]") {
  Eigen::VectorX<ift::Tracer> y(4);
  const double values[] = {0.5, 0.2, -0.3, 0.4};
  for (int i = 0; i < 4; ++i) y(i) = ift::Tracer(values[i], i);
  const auto x = ift::project_simplex(y);
  CHECK(std::ranges::equal(x(0).dependencies(), std::vector<int>{0, 1, 3}));
  CHECK(x(2).dependencies().empty());
  CHECK(ift::prox_l1(y, 0.25)(1).dependencies().empty());
  CHECK(std::ranges::equal(ift::prox_l1(y, 0.25)(3).dependencies(), std::vector<int>{3}));
}

TEST_CASE("bad input is std::invalid_argument", "[projections][proximal]") {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  constexpr double inf = std::numeric_limits<double>::infinity();
  const Eigen::Vector3d y(0.5, -0.2, 1.0);
  const Eigen::Vector3d y_nan(0.5, nan, 1.0), y_inf(inf, 0.0, 1.0);
  using std::invalid_argument;

  CHECK_THROWS_AS(ift::project_box(y_nan, 0.0, 1.0), invalid_argument);
  CHECK_THROWS_AS(ift::project_box(y_inf, 0.0, 1.0), invalid_argument);
  CHECK_THROWS_WITH(ift::project_box(y, 1.0, 0.0),
                    Catch::Contains("ift::project_box") && Catch::Contains("lo > hi"));
  CHECK_THROWS_AS(ift::project_box(y, nan, 1.0), invalid_argument);
  CHECK_THROWS_AS(ift::project_box(y, 0.0, Eigen::Vector3d(1.0, nan, 1.0)), invalid_argument);
  CHECK_THROWS_WITH(ift::project_box(y, Eigen::VectorXd::Zero(2), 1.0), Catch::Contains("lo has 2 entries"));
  CHECK_THROWS_AS(ift::project_box(y, Eigen::Vector3d(0.0, 2.0, 0.0), Eigen::Vector3d::Ones()),
                  invalid_argument);
  CHECK_NOTHROW(ift::project_box(y, -inf, inf));

  CHECK_THROWS_AS(ift::project_nonnegative(y_nan), invalid_argument);

  CHECK_THROWS_WITH(ift::project_simplex(y, -1.0), Catch::Contains("radius must be finite and >= 0"));
  CHECK_THROWS_AS(ift::project_simplex(y, nan), invalid_argument);
  CHECK_THROWS_AS(ift::project_simplex(y, inf), invalid_argument);
  CHECK_THROWS_AS(ift::project_simplex(y_nan), invalid_argument);
  CHECK_THROWS_WITH(ift::project_simplex(Eigen::VectorXd()), Catch::Contains("y is empty"));
  CHECK(ift::project_l1_ball(Eigen::VectorXd(), 1.0).size() == 0);

  CHECK_THROWS_AS(ift::project_l1_ball(y, -0.5), invalid_argument);
  CHECK_THROWS_AS(ift::project_l1_ball(y_inf, 0.5), invalid_argument);
  CHECK_THROWS_AS(ift::project_l2_ball(y, -0.5), invalid_argument);
  CHECK_THROWS_AS(ift::project_l2_ball(y_nan, 0.5), invalid_argument);

  CHECK_THROWS_WITH(ift::prox_l1(y, -0.1), Catch::Contains("ift::prox_l1: the strength"));
  CHECK_THROWS_AS(ift::prox_l1(y_nan, 0.1), invalid_argument);
  CHECK_THROWS_AS(ift::prox_elastic_net(y, -0.1, 0.0), invalid_argument);
  CHECK_THROWS_AS(ift::prox_elastic_net(y, 0.1, -1.0), invalid_argument);
  CHECK_THROWS_AS(ift::prox_elastic_net(y, 0.1, nan), invalid_argument);

  // A NaN tangent is as bad as a NaN value.
  CHECK_THROWS_AS(ift::project_simplex(Eigen::Vector2<D1>(D1(0.5, nan), D1(0.1, 0.0))), invalid_argument);
  CHECK_THROWS_AS(ift::prox_l1(Eigen::Vector2<D1>(D1(0.5), D1(0.1)), D1(0.1, nan)), invalid_argument);
}
