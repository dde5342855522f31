// Reverse over forward: Dual<Var> gives Hessian-vector products. Seeding x + v·ε with Var values
// makes the tangent of f the Var ∇f(x)·v; one reverse sweep of it gives ∇(∇f·v) = H(x)·v.

#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "ift/dual.hpp"
#include "ift/var.hpp"

using ift::Tape;
using ift::Var;
using DualVar = ift::Dual<Var>;

namespace {

/// H(x)·v by reverse over forward, checking f's value and its directional derivative on the way.
template <class F, class G>
Eigen::VectorXd hessian_vector_product(F f, G gradient, const Eigen::VectorXd& x0, const Eigen::VectorXd& v) {
  Tape tape;
  const Eigen::Index n = x0.size();
  std::vector<Var> x(static_cast<std::size_t>(n));
  Eigen::Matrix<DualVar, Eigen::Dynamic, 1> xd(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    x[i] = x0(i);
    xd(i) = DualVar(x[i], Var::constant(v(i)));
  }
  const DualVar y = f(xd);
  CHECK(y.value().value() == Approx(f(x0)).epsilon(1e-14));
  const Var directional = y.tangent()(0);  // ∇f(x)·v, itself recorded on the tape
  CHECK(directional.value() == Approx(gradient(x0).dot(v)).epsilon(1e-12));
  tape.backward(directional);
  Eigen::VectorXd hv(n);
  for (Eigen::Index i = 0; i < n; ++i) hv(i) = tape.adjoint(x[i]);
  return hv;
}

/// Checks H·v against the analytic Hessian for the unit vectors and one mixed direction.
template <class F, class G, class H>
void check_hessian(F f, G gradient, H hessian, const Eigen::VectorXd& x0) {
  const Eigen::MatrixXd expected = hessian(x0);
  const Eigen::Index n = x0.size();
  for (Eigen::Index j = 0; j < n; ++j) {
    INFO("column " << j);
    const Eigen::VectorXd column = hessian_vector_product(f, gradient, x0, Eigen::VectorXd::Unit(n, j));
    CHECK(column.isApprox(expected.col(j), 1e-12));
  }
  Eigen::VectorXd direction(n);
  for (Eigen::Index i = 0; i < n; ++i) direction(i) = std::cos(1.0 + 2.0 * static_cast<double>(i));
  CHECK(hessian_vector_product(f, gradient, x0, direction).isApprox(expected * direction, 1e-12));
}

}  // namespace

TEST_CASE("Hessian-vector products of the Rosenbrock function", "[dual][var]") {
  // f = Σ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²
  const auto f = [](const auto& x) {
    using S = std::remove_cvref_t<decltype(x(0))>;
    S sum = S(0.0);
    for (Eigen::Index i = 0; i + 1 < x.size(); ++i) {
      const S a = x(i + 1) - x(i) * x(i);
      sum = sum + 100.0 * a * a + (1.0 - x(i)) * (1.0 - x(i));
    }
    return sum;
  };
  const auto gradient = [](const Eigen::VectorXd& x) {
    Eigen::VectorXd g = Eigen::VectorXd::Zero(x.size());
    for (Eigen::Index i = 0; i + 1 < x.size(); ++i) {
      const double a = x(i + 1) - x(i) * x(i);
      g(i) += -400.0 * a * x(i) - 2.0 * (1.0 - x(i));
      g(i + 1) += 200.0 * a;
    }
    return g;
  };
  const auto hessian = [](const Eigen::VectorXd& x) {
    Eigen::MatrixXd h = Eigen::MatrixXd::Zero(x.size(), x.size());
    for (Eigen::Index i = 0; i + 1 < x.size(); ++i) {
      h(i, i) += 1200.0 * x(i) * x(i) - 400.0 * x(i + 1) + 2.0;
      h(i, i + 1) += -400.0 * x(i);
      h(i + 1, i) += -400.0 * x(i);
      h(i + 1, i + 1) += 200.0;
    }
    return h;
  };
  check_hessian(f, gradient, hessian, Eigen::Vector4d(-1.2, 1.0, 0.8, 1.5));
  check_hessian(f, gradient, hessian, Eigen::Vector4d(1.0, 1.0, 1.0, 1.0));  // the minimizer
}

TEST_CASE("Hessian-vector products through exp, log and division", "[dual][var]") {
  // f = exp(x₀x₁) + log(1 + x₂²) + x₀/x₂
  const auto f = [](const auto& x) {
    using std::exp;
    using std::log;
    return exp(x(0) * x(1)) + log(1.0 + x(2) * x(2)) + x(0) / x(2);
  };
  const auto gradient = [](const Eigen::VectorXd& x) {
    const double e = std::exp(x(0) * x(1));
    return Eigen::Vector3d(x(1) * e + 1.0 / x(2), x(0) * e,
                           2.0 * x(2) / (1.0 + x(2) * x(2)) - x(0) / (x(2) * x(2)))
        .eval();
  };
  const auto hessian = [](const Eigen::VectorXd& x) {
    const double e = std::exp(x(0) * x(1)), s = 1.0 + x(2) * x(2);
    Eigen::Matrix3d h;
    h(0, 0) = x(1) * x(1) * e;
    h(0, 1) = h(1, 0) = e * (1.0 + x(0) * x(1));
    h(1, 1) = x(0) * x(0) * e;
    h(0, 2) = h(2, 0) = -1.0 / (x(2) * x(2));
    h(1, 2) = h(2, 1) = 0.0;
    h(2, 2) = (2.0 - 2.0 * x(2) * x(2)) / (s * s) + 2.0 * x(0) / (x(2) * x(2) * x(2));
    return Eigen::MatrixXd(h);
  };
  check_hessian(f, gradient, hessian, Eigen::Vector3d(0.3, -0.7, 1.4));
  check_hessian(f, gradient, hessian, Eigen::Vector3d(-1.1, 0.4, -0.6));
}

TEST_CASE("Hessian-vector products through pow with a variable exponent", "[dual][var]") {
  // f = x₀³/x₁ + x₀^x₁ (x₀ > 0)
  const auto f = [](const auto& x) {
    using std::pow;
    return pow(x(0), 3.0) / x(1) + pow(x(0), x(1));
  };
  const auto gradient = [](const Eigen::VectorXd& x) {
    const double p = std::pow(x(0), x(1));
    return Eigen::Vector2d(3.0 * x(0) * x(0) / x(1) + x(1) * std::pow(x(0), x(1) - 1.0),
                           -std::pow(x(0), 3.0) / (x(1) * x(1)) + p * std::log(x(0)))
        .eval();
  };
  const auto hessian = [](const Eigen::VectorXd& x) {
    const double p = std::pow(x(0), x(1)), l = std::log(x(0));
    Eigen::Matrix2d h;
    h(0, 0) = 6.0 * x(0) / x(1) + x(1) * (x(1) - 1.0) * std::pow(x(0), x(1) - 2.0);
    h(0, 1) = h(1, 0) = -3.0 * x(0) * x(0) / (x(1) * x(1)) + std::pow(x(0), x(1) - 1.0) * (1.0 + x(1) * l);
    h(1, 1) = 2.0 * std::pow(x(0), 3.0) / (x(1) * x(1) * x(1)) + p * l * l;
    return Eigen::MatrixXd(h);
  };
  check_hessian(f, gradient, hessian, Eigen::Vector2d(1.7, 2.5));
  check_hessian(f, gradient, hessian, Eigen::Vector2d(0.4, -1.3));
}

TEST_CASE("Hessian-vector products of the Euclidean norm, through Eigen", "[dual][var]") {
  // f = ‖x‖: H = (I − u uᵀ)/‖x‖ with u = x/‖x‖
  const auto f = [](const auto& x) { return x.norm(); };
  const auto gradient = [](const Eigen::VectorXd& x) { return (x / x.norm()).eval(); };
  const auto hessian = [](const Eigen::VectorXd& x) {
    const double r = x.norm();
    const Eigen::VectorXd u = x / r;
    return ((Eigen::MatrixXd::Identity(x.size(), x.size()) - u * u.transpose()) / r).eval();
  };
  check_hessian(f, gradient, hessian, Eigen::Vector3d(1.0, -2.0, 0.5));
}

TEST_CASE("Two directions at once with Dual<Var, 2>", "[dual][var]") {
  // f = sin(x₀)·x₁²: H = [[−sin(x₀)x₁², 2cos(x₀)x₁], [2cos(x₀)x₁, 2sin(x₀)]]
  const double x0 = 0.9, x1 = -1.6;
  Tape tape;
  const Var a = x0, b = x1;
  using D2 = ift::Dual<Var, 2>;
  const D2 xa(a, Eigen::Matrix<Var, 2, 1>(Var::constant(1.0), Var::constant(0.0)));
  const D2 xb(b, Eigen::Matrix<Var, 2, 1>(Var::constant(0.0), Var::constant(1.0)));
  using std::sin;
  const D2 y = sin(xa) * xb * xb;
  const auto [h00, h01] = tape.gradient(y.tangent()(0), a, b);
  const auto [h10, h11] = tape.gradient(y.tangent()(1), a, b);
  CHECK(h00 == Approx(-std::sin(x0) * x1 * x1));
  CHECK(h01 == Approx(2.0 * std::cos(x0) * x1));
  CHECK(h10 == Approx(2.0 * std::cos(x0) * x1));
  CHECK(h11 == Approx(2.0 * std::sin(x0)));
}

TEST_CASE("Dual, Var and Dual<Var> have double's limits, their special values constants", "[dual][var]") {
  using D = ift::Dual<double, 2>;
  using L = std::numeric_limits<double>;
  static_assert(std::numeric_limits<Var>::is_specialized && std::numeric_limits<D>::is_iec559);
  static_assert(std::numeric_limits<DualVar>::digits == L::digits &&
                std::numeric_limits<Var>::max_exponent10 == L::max_exponent10);
  static_assert(std::numeric_limits<Var>::epsilon().value() ==
                L::epsilon());  // usable in constant expressions
  Tape tape;
  const std::size_t empty = tape.bytes();
  CHECK(std::numeric_limits<Var>::infinity().value() == L::infinity());
  CHECK(std::isnan(std::numeric_limits<Var>::quiet_NaN().value()));
  CHECK(std::numeric_limits<Var>::denorm_min().value() == L::denorm_min());
  const D lowest = std::numeric_limits<D>::lowest();
  CHECK((lowest.a == L::lowest() && lowest.v.isZero()));
  const DualVar max = std::numeric_limits<DualVar>::max();
  CHECK((max.a.value() == L::max() && max.v(0).value() == 0.0));
  CHECK(Eigen::NumTraits<Var>::epsilon().value() == Eigen::NumTraits<double>::epsilon());
  CHECK(Eigen::NumTraits<DualVar>::dummy_precision().a.value() ==
        Eigen::NumTraits<double>::dummy_precision());
  CHECK(Eigen::NumTraits<D>::highest().a == Eigen::NumTraits<double>::highest());
  CHECK(Eigen::NumTraits<D>::digits10() == Eigen::NumTraits<double>::digits10());
  CHECK(tape.bytes() == empty);  // constants: nothing recorded
}
