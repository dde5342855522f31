// Inputs as a user writes them: Eigen expressions as θ, x0 and the answer given to ift::implicit;
// std::vector trees; struct templates with a plain `double` field. Derivatives against closed forms
// at Dual, Dual<Dual>, Var and Dual<Var>.

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <vector>

#include "ift/fixed_point.hpp"
#include "ift/implicit.hpp"
#include "ift/linear_solve.hpp"
#include "ift/minimize.hpp"
#include "ift/root.hpp"

using Catch::Matchers::WithinAbs;
using ift::Dual;
using ift::Var;
using D1 = Dual<double>;
using DD = Dual<Dual<double>>;
using DV = Dual<Var>;

namespace {

template <class T>
struct Para {
  T alpha;
  T beta;
};

// The struct of the issue: five rates and a constant that is not a parameter.
template <class T>
struct Rates {
  T k1, k2, k3, k4, k5;
  double total;
};

// x ∘ x = θ element-wise: x = √θ.
const auto square_root = [](const auto& x, const auto& theta) {
  return (x.array().square() - theta.array()).matrix().eval();
};

// total · x = k1 k2 + k3 − k4 k5: ∂x/∂k = (k2, k1, 1, −k5, −k4) / total.
const auto rates_root = [](const auto& x, const auto& r) {
  return r.total * x - (r.k1 * r.k2 + r.k3 - r.k4 * r.k5);
};
constexpr double k_values[5] = {1.0, 2.0, 3.0, 4.0, 0.5};
constexpr double total = 2.0;
constexpr double rates_x = (1.0 * 2.0 + 3.0 - 4.0 * 0.5) / total;
constexpr double rates_dx[5] = {2.0 / total, 1.0 / total, 1.0 / total, -0.5 / total, -4.0 / total};

template <class S>
Rates<S> make_rates(const S (&k)[5]) {
  return {k[0], k[1], k[2], k[3], k[4], total};
}

}  // namespace

// ---- Eigen expressions ---------------------------------------------------------------------------

static_assert(ift::Tree<decltype(2.0 * Eigen::VectorXd())> && ift::Tree<decltype(Eigen::Vector2d::Ones())>);
static_assert(std::is_same_v<ift::plain_t<decltype(2.0 * Eigen::Vector2d())>, Eigen::Vector2d>);
static_assert(std::is_same_v<ift::rebind_t<D1, decltype(Eigen::MatrixXd().transpose())>,
                             Eigen::Matrix<D1, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>);
static_assert(std::is_same_v<ift::plain_t<std::tuple<decltype(2.0 * Eigen::VectorXd()), double>>,
                             std::tuple<Eigen::VectorXd, double>>);

TEST_CASE("tree operations read an Eigen expression through its plain object", "[tree_inputs]") {
  const Eigen::Vector3d a(1.0, 2.0, 3.0), b(4.0, 5.0, 6.0);
  CHECK(ift::tree_size(a.cwiseProduct(b)) == 3);
  CHECK(ift::flatten(a.cwiseProduct(b)) == Eigen::VectorXd(Eigen::Vector3d(4.0, 10.0, 18.0)));
  const auto tuple = std::make_tuple(2.0 * a, 7.0);
  CHECK(ift::flatten(tuple) == (Eigen::VectorXd(4) << 2.0, 4.0, 6.0, 7.0).finished());
  const std::tuple<Eigen::Vector3d, double> back = ift::unflatten(tuple, Eigen::Vector4d(1, 2, 3, 4));
  CHECK(std::get<0>(back) == a);
  double sum = 0.0;
  ift::for_each_leaf(Eigen::Vector3d::Ones() + a, b, [&](double x, double y) { sum += x * y; });
  CHECK(sum == 2 * 4 + 3 * 5 + 4 * 6);
  // The matrix of a transpose is row-major: its flatten order is the original's column order.
  const Eigen::Matrix2d m = (Eigen::Matrix2d() << 1, 2, 3, 4).finished();
  CHECK(ift::flatten(m.transpose()) == ift::flatten(m));
}

TEST_CASE("root takes expressions as x0 and theta at every mode", "[tree_inputs]") {
  // θ = 2v with v = (2, 4.5): x = √(2v) = (2, 3), ∂xᵢ/∂vᵢ = 1/√(2vᵢ), ∂²xᵢ/∂vᵢ² = −(2vᵢ)^(−3/2).
  SECTION("double") {
    const auto s = ift::root(square_root, Eigen::Vector2d::Ones(), 2.0 * Eigen::Vector2d(2.0, 4.5));
    static_assert(std::is_same_v<decltype(s.x), Eigen::Vector2d>);
    CHECK_THAT(s.x(1), WithinAbs(3.0, 1e-12));
  }
  SECTION("Dual<double, 2>") {
    using D2 = Dual<double, 2>;
    const Eigen::Matrix<D2, 2, 1> v(D2(2.0, Eigen::Vector2d(1, 0)), D2(4.5, Eigen::Vector2d(0, 1)));
    const auto s = ift::root(square_root, Eigen::Vector2d::Ones(), 2.0 * v);
    CHECK_THAT(s.x(0).v(0), WithinAbs(0.5, 1e-10));
    CHECK_THAT(s.x(0).v(1), WithinAbs(0.0, 1e-12));
    CHECK_THAT(s.x(1).v(1), WithinAbs(1.0 / 3.0, 1e-10));
  }
  SECTION("Dual<Dual<double>>") {
    const Eigen::Matrix<DD, 2, 1> v(DD(D1(2.0, 1.0), D1(1.0, 0.0)), DD(4.5));
    const auto s = ift::root(square_root, Eigen::VectorXd::Ones(2), 2.0 * v);
    CHECK_THAT(s.x(0).v(0).a, WithinAbs(0.5, 1e-10));
    CHECK_THAT(s.x(0).v(0).v(0), WithinAbs(-1.0 / 8.0, 1e-9));
  }
  SECTION("Var") {
    ift::Tape tape;
    const Eigen::Matrix<Var, 2, 1> v(Var(2.0), Var(4.5));
    const auto s = ift::root(square_root, Eigen::Vector2d::Ones(), 2.0 * v);
    const Eigen::Vector2d g = tape.gradient(s.x(0) + s.x(1), v);
    CHECK_THAT(g(0), WithinAbs(0.5, 1e-10));
    CHECK_THAT(g(1), WithinAbs(1.0 / 3.0, 1e-10));
  }
  SECTION("Dual<Var>") {
    ift::Tape tape;
    const Var v0 = 2.0;
    const Eigen::Matrix<DV, 2, 1> v(DV(v0, Var::constant(1.0)), DV(Var::constant(4.5), Var::constant(0.0)));
    const auto s = ift::root(square_root, Eigen::Vector2d::Ones(), 2.0 * v);
    CHECK_THAT(s.x(0).v(0).value(), WithinAbs(0.5, 1e-10));
    CHECK_THAT(tape.gradient(s.x(0).v(0), v0), WithinAbs(-1.0 / 8.0, 1e-9));
  }
}

TEST_CASE("fixed_point and a tuple theta take expressions", "[tree_inputs]") {
  // x = ½x + a ∘ b: x = 2 a ∘ b, ∂xᵢ/∂aᵢ = 2bᵢ.
  const auto F = [](const auto& x, const auto& theta) { return (0.5 * x + theta).eval(); };
  const Eigen::Vector2d b(3.0, -1.0);
  SECTION("Dual") {
    const Eigen::Matrix<D1, 2, 1> a(D1(1.0, 1.0), D1(2.0, 0.0));
    const auto s = ift::fixed_point(F, Eigen::VectorXd::Zero(2), a.cwiseProduct(b.cast<D1>()));
    CHECK_THAT(s.x(0).a, WithinAbs(6.0, 1e-8));
    CHECK_THAT(s.x(0).v(0), WithinAbs(6.0, 1e-8));
    CHECK_THAT(s.x(1).v(0), WithinAbs(0.0, 1e-12));
  }
  SECTION("Var") {
    ift::Tape tape;
    const Eigen::Matrix<Var, 2, 1> a(Var(1.0), Var(2.0));
    const auto s = ift::fixed_point(F, Eigen::VectorXd::Zero(2), a.cwiseProduct(b.cast<Var>()));
    const Eigen::Vector2d g = tape.gradient(s.x(1), a);
    CHECK_THAT(g(0), WithinAbs(0.0, 1e-12));
    CHECK_THAT(g(1), WithinAbs(-2.0, 1e-8));
  }
  SECTION("an expression inside a tuple") {
    // x ∘ x = s·w: ∂x₀/∂s = w₀ / (2x₀) with w = 2·(2, 4.5), s = 1.
    const auto f = [](const auto& x, const auto& theta) {
      return (x.array().square() - std::get<1>(theta) * std::get<0>(theta).array()).matrix().eval();
    };
    const auto s =
        ift::root(f, Eigen::Vector2d::Ones(), std::make_tuple(2.0 * Eigen::Vector2d(2.0, 4.5), D1(1.0, 1.0)));
    CHECK_THAT(s.x(0).v(0), WithinAbs(4.0 / 4.0, 1e-10));
    CHECK_THAT(s.x(1).v(0), WithinAbs(9.0 / 6.0, 1e-10));
  }
}

TEST_CASE("implicit and linear_solve take expressions", "[tree_inputs]") {
  // c = x ∘ x − θ at x* = 2·(1, 1.5): ∂x*/∂θ = diag(1/(2x*)).
  const Eigen::Vector2d half(1.0, 1.5);
  SECTION("implicit, Var") {
    ift::Tape tape;
    const Eigen::Matrix<Var, 2, 1> theta(Var(4.0), Var(9.0));
    const Eigen::Matrix<Var, 2, 1> x = ift::implicit(square_root, 2.0 * half, theta);
    const Eigen::Vector2d g = tape.gradient(x(1), theta);
    CHECK_THAT(g(0), WithinAbs(0.0, 1e-14));
    CHECK_THAT(g(1), WithinAbs(1.0 / 6.0, 1e-12));
  }
  SECTION("implicit, Dual<Dual>: ∂²x/∂θ² = −1/(4x³)") {
    const Eigen::Matrix<DD, 2, 1> theta(DD(D1(4.0, 1.0), D1(1.0, 0.0)), DD(9.0));
    const auto x = ift::implicit(square_root, 2.0 * half, 1.0 * theta);
    CHECK_THAT(x(0).v(0).a, WithinAbs(0.25, 1e-12));
    CHECK_THAT(x(0).v(0).v(0), WithinAbs(-1.0 / 32.0, 1e-12));
  }
  SECTION("linear_solve, dense and matrix-free") {
    // (2M) x = 1 with M = diag(m, 4): x₀ = 1/(2m), ∂x₀/∂m = −1/(2m²).
    Eigen::Matrix<D1, 2, 2> M = Eigen::Matrix<D1, 2, 2>::Zero();
    M(0, 0) = D1(2.0, 1.0);
    M(1, 1) = D1(4.0);
    const Eigen::Matrix<D1, Eigen::Dynamic, 1> x = ift::linear_solve(2.0 * M, Eigen::VectorXd::Ones(2));
    CHECK_THAT(x(0).a, WithinAbs(0.25, 1e-14));
    CHECK_THAT(x(0).v(0), WithinAbs(-1.0 / 8.0, 1e-14));
    const auto diagonal = [](const auto& v, const auto& w) { return w.cwiseProduct(v).eval(); };
    const Eigen::Matrix<D1, Eigen::Dynamic, 1> y =
        ift::linear_solve(diagonal, Eigen::VectorXd::Ones(2), 2.0 * M.diagonal(), ift::DenseLU{});
    CHECK_THAT(y(0).v(0), WithinAbs(-1.0 / 8.0, 1e-14));
  }
}

// ---- std::vector trees ---------------------------------------------------------------------------

static_assert(ift::Tree<std::vector<double>> && ift::Tree<std::vector<Para<Var>>> &&
              ift::Tree<std::vector<std::vector<Eigen::Vector2d>>>);
static_assert(!ift::Tree<std::vector<bool>> && !ift::Tree<std::vector<std::string>>);
static_assert(std::is_same_v<ift::rebind_t<double, std::vector<Para<Var>>>, std::vector<Para<double>>>);
static_assert(std::is_same_v<ift::tree_scalar_t<std::vector<Eigen::Matrix<D1, 2, 1>>>, D1>);

TEST_CASE("std::vector is a tree of run-time length", "[tree_inputs]") {
  const std::vector<Para<double>> ps{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}};
  CHECK(ift::tree_size(ps) == 6);
  CHECK(ift::flatten(ps) == Eigen::VectorXd::LinSpaced(6, 1.0, 6.0));
  const std::vector<Para<double>> back = ift::unflatten(ps, Eigen::VectorXd::LinSpaced(6, 10.0, 60.0));
  REQUIRE(back.size() == 3);
  CHECK(back[2].beta == 60.0);
  const std::vector<Para<float>> f = ift::rebind<float>(ps);
  CHECK(f[1].alpha == 3.0f);
  CHECK(ift::tree_size(std::vector<double>{}) == 0);
  const std::vector<Para<double>> shorter(2);
  CHECK_THROWS_AS(ift::for_each_leaf(ps, shorter, [](double, double) {}), std::invalid_argument);
  // Tape::gradient returns the same shape.
  ift::Tape tape;
  const std::vector<Var> v{Var(2.0), Var(3.0)};
  const std::vector<double> g = tape.gradient(v[0] * v[0] * v[1], v);
  CHECK(g == std::vector<double>{12.0, 4.0});
}

TEST_CASE("root with a std::vector theta at every mode", "[tree_inputs]") {
  // x² = θ₀ + θ₁θ₂ at θ = (1, 2, 4): x = 3, ∂x/∂θ = (1, θ₂, θ₁)/(2x), ∂²x/∂θ₀² = −1/(4x³).
  const auto f = [](const auto& x, const auto& theta) { return x * x - (theta[0] + theta[1] * theta[2]); };
  SECTION("Dual<double, 3>") {
    using D3 = Dual<double, 3>;
    const std::vector<D3> theta{D3(1.0, Eigen::Vector3d::Unit(0)), D3(2.0, Eigen::Vector3d::Unit(1)),
                                D3(4.0, Eigen::Vector3d::Unit(2))};
    const auto s = ift::root(f, 1.0, theta);
    CHECK_THAT(s.x.a, WithinAbs(3.0, 1e-12));
    CHECK_THAT(s.x.v(0), WithinAbs(1.0 / 6.0, 1e-10));
    CHECK_THAT(s.x.v(1), WithinAbs(4.0 / 6.0, 1e-10));
    CHECK_THAT(s.x.v(2), WithinAbs(2.0 / 6.0, 1e-10));
  }
  SECTION("Dual<Dual<double>>") {
    const std::vector<DD> theta{DD(D1(1.0, 1.0), D1(1.0, 0.0)), DD(2.0), DD(4.0)};
    const auto s = ift::root(f, 1.0, theta);
    CHECK_THAT(s.x.v(0).v(0), WithinAbs(-1.0 / 108.0, 1e-10));
  }
  SECTION("Var") {
    ift::Tape tape;
    const std::vector<Var> theta{Var(1.0), Var(2.0), Var(4.0)};
    const auto s = ift::root(f, 1.0, theta);
    const std::vector<double> g = tape.gradient(s.x, theta);
    REQUIRE(g.size() == 3);
    CHECK_THAT(g[1], WithinAbs(4.0 / 6.0, 1e-10));
    CHECK_THAT(g[2], WithinAbs(2.0 / 6.0, 1e-10));
  }
}

TEST_CASE("minimize with a std::vector of structs", "[tree_inputs]") {
  // L = Σᵢ ½αᵢ(x − βᵢ)²: x* = Σαᵢβᵢ / Σαᵢ = 5 for α = (1, 3), β = (2, 6);
  // ∂x*/∂αᵢ = (βᵢ − x*)/Σα = (−3/4, 1/4), ∂x*/∂βᵢ = αᵢ/Σα = (1/4, 3/4).
  const auto L = [](const auto& x, const auto& ps) {
    auto sum = 0.0 * x;
    for (const auto& p : ps) sum += 0.5 * p.alpha * (x - p.beta) * (x - p.beta);
    return sum;
  };
  SECTION("Var") {
    ift::Tape tape;
    const std::vector<Para<Var>> ps{{Var(1.0), Var(2.0)}, {Var(3.0), Var(6.0)}};
    const auto s = ift::minimize(L, 0.0, ps);
    const std::vector<Para<double>> g = tape.gradient(s.x, ps);
    REQUIRE(g.size() == 2);
    CHECK_THAT(g[0].alpha, WithinAbs(-0.75, 1e-8));
    CHECK_THAT(g[1].alpha, WithinAbs(0.25, 1e-8));
    CHECK_THAT(g[0].beta, WithinAbs(0.25, 1e-8));
    CHECK_THAT(g[1].beta, WithinAbs(0.75, 1e-8));
  }
  SECTION("Dual") {
    const std::vector<Para<D1>> ps{{D1(1.0, 1.0), D1(2.0)}, {D1(3.0), D1(6.0)}};
    const auto s = ift::minimize(L, 0.0, ps);
    CHECK_THAT(s.x.a, WithinAbs(5.0, 1e-8));
    CHECK_THAT(s.x.v(0), WithinAbs(-0.75, 1e-8));
  }
}

// ---- A plain double field in a struct template ---------------------------------------------------

static_assert(std::is_same_v<ift::rebind_t<double, Rates<Var>>, Rates<double>>);
static_assert(std::is_same_v<ift::rebind_t<DD, Rates<double>>, Rates<DD>>);
static_assert(std::is_same_v<decltype(Rates<Var>::total), double>);

TEST_CASE("a constant field keeps its type and value; flatten round-trips exactly", "[tree_inputs]") {
  const Rates<double> r = make_rates(k_values);
  const Rates<D1> rd = ift::rebind<D1>(r);
  CHECK(rd.total == total);
  const Eigen::VectorX<D1> flat = ift::flatten(rd);
  REQUIRE(flat.size() == 6);  // the constant has a slot, with a zero tangent
  CHECK(flat(5).a == total);
  CHECK(flat(5).v(0) == 0.0);
  const Rates<D1> back = ift::unflatten(rd, flat);
  CHECK(back.total == total);
  CHECK(back.k4.a == 4.0);
  const Rates<double> v = ift::value(rd);
  CHECK(v.total == total);
  CHECK(v.k5 == 0.5);

  ift::Tape tape;
  const Rates<Var> rv = ift::rebind<Var>(r);
  const Var y = rv.k1 * rv.total;
  const Rates<double> g = tape.gradient(y, rv);
  CHECK(g.k1 == total);
  CHECK(g.total == 0.0);  // a constant: no derivative
}

TEST_CASE("root, minimize and implicit with a struct of a constant field, at every mode", "[tree_inputs]") {
  SECTION("root, Dual<double, 5>") {
    using D5 = Dual<double, 5>;
    D5 k[5];
    for (int i = 0; i < 5; ++i) k[i] = D5(k_values[i], Eigen::Matrix<double, 5, 1>::Unit(i));
    const auto s = ift::root(rates_root, 0.0, make_rates(k));
    CHECK_THAT(s.x.a, WithinAbs(rates_x, 1e-12));
    for (int i = 0; i < 5; ++i) CHECK_THAT(s.x.v(i), WithinAbs(rates_dx[i], 1e-12));
  }
  SECTION("root, Dual<Dual<double>>: ∂²x/∂k1∂k2 = 1/total") {
    DD k[5];
    for (int i = 0; i < 5; ++i) k[i] = DD(k_values[i]);
    k[0] = DD(D1(k_values[0], 1.0), D1(0.0));
    k[1] = DD(D1(k_values[1], 0.0), D1(1.0));
    const auto s = ift::root(rates_root, 0.0, make_rates(k));
    CHECK_THAT(s.x.v(0).v(0), WithinAbs(1.0 / total, 1e-12));
  }
  SECTION("root, Var") {
    ift::Tape tape;
    Var k[5];
    for (int i = 0; i < 5; ++i) k[i] = Var(k_values[i]);
    const Rates<Var> r = make_rates(k);
    const auto s = ift::root(rates_root, 0.0, r);
    const Rates<double> g = tape.gradient(s.x, r);
    CHECK_THAT(g.k1, WithinAbs(rates_dx[0], 1e-12));
    CHECK_THAT(g.k5, WithinAbs(rates_dx[4], 1e-12));
    CHECK(g.total == 0.0);
  }
  SECTION("root, Dual<Var>: ∂/∂k2 of ∂x/∂k1 = 1/total") {
    ift::Tape tape;
    DV k[5];
    for (int i = 0; i < 5; ++i) k[i] = DV(Var::constant(k_values[i]), Var::constant(0.0));
    const Var k2 = k_values[1];
    k[0] = DV(Var::constant(k_values[0]), Var::constant(1.0));
    k[1] = DV(k2, Var::constant(0.0));
    const auto s = ift::root(rates_root, 0.0, make_rates(k));
    CHECK_THAT(s.x.v(0).value(), WithinAbs(rates_dx[0], 1e-12));
    CHECK_THAT(tape.gradient(s.x.v(0), k2), WithinAbs(1.0 / total, 1e-12));
  }
  // L = ½ total (x − k1)² + k2 x: x* = k1 − k2/total, ∂x*/∂k1 = 1, ∂x*/∂k2 = −1/total.
  const auto L = [](const auto& x, const auto& r) {
    return 0.5 * r.total * (x - r.k1) * (x - r.k1) + r.k2 * x;
  };
  SECTION("minimize, Var") {
    ift::Tape tape;
    Var k[5];
    for (int i = 0; i < 5; ++i) k[i] = Var(k_values[i]);
    const Rates<Var> r = make_rates(k);
    const auto s = ift::minimize(L, 0.5, r);
    const Rates<double> g = tape.gradient(s.x, r);
    CHECK_THAT(s.x.value(), WithinAbs(0.0, 1e-8));
    CHECK_THAT(g.k1, WithinAbs(1.0, 1e-8));
    CHECK_THAT(g.k2, WithinAbs(-1.0 / total, 1e-8));
  }
  SECTION("minimize, Dual") {
    D1 k[5];
    for (int i = 0; i < 5; ++i) k[i] = D1(k_values[i], i == 1 ? 1.0 : 0.0);
    const auto s = ift::minimize(L, 0.5, make_rates(k));
    CHECK_THAT(s.x.v(0), WithinAbs(-1.0 / total, 1e-8));
  }
  SECTION("implicit, Var") {
    ift::Tape tape;
    Var k[5];
    for (int i = 0; i < 5; ++i) k[i] = Var(k_values[i]);
    const Rates<Var> r = make_rates(k);
    const Var x = ift::implicit(rates_root, rates_x, r);
    CHECK_THAT(tape.gradient(x, r).k3, WithinAbs(1.0 / total, 1e-12));
  }
}
