// `Auto`, the default linear solver of Newton and of the implicit rule, in a program that includes
// only the umbrella (this file is built without the suite's precompiled header, so that nothing else
// is included): small and dense Jacobians go to dense LU, narrow bands to BandedLU, and a wide
// sparse pattern — with no sparse LU compiled in — to dense LU. Every choice, with no options given,
// at every scalar mode against derivatives from the implicit function theorem on dense matrices.

#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/LU>

#include "ift/ift.hpp"
#include "support/vector_modes.hpp"

namespace {

/// gᵢ(x, θ) = Σⱼ aᵢⱼ xⱼ + xᵢ³ − θ bᵢ over the couplings (j, aᵢⱼ) of row i: the pattern of ∂g/∂x is
/// the couplings' (the tracer sees no product by a structural zero).
struct Coupled {
  std::vector<std::vector<std::pair<Eigen::Index, double>>> rows;
  Eigen::VectorXd b;

  template <class V, class T>
  auto operator()(const V& x, const T& theta) const {
    using S = typename V::Scalar;
    Eigen::VectorX<S> g(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      S gi = x(i) * x(i) * x(i) - theta * b(i);
      for (const auto& [j, a] : rows[static_cast<std::size_t>(i)]) gi += a * x(j);
      g(i) = gi;
    }
    return g;
  }

  Eigen::Index size() const { return b.size(); }

  /// ∂g/∂x at x, densely.
  Eigen::MatrixXd jacobian(const Eigen::VectorXd& x) const {
    Eigen::MatrixXd J = Eigen::MatrixXd::Zero(size(), size());
    for (Eigen::Index i = 0; i < size(); ++i) {
      J(i, i) = 3.0 * x(i) * x(i);
      for (const auto& [j, a] : rows[static_cast<std::size_t>(i)]) J(i, j) += a;
    }
    return J;
  }
};

/// Diagonal 6 plus, for each row, the couplings `couple(i)` names, of weight −1/(1 + |i − j| mod 5):
/// diagonally dominant whatever the pattern.
template <class Couple>
Coupled coupled(Eigen::Index n, Couple couple) {
  Coupled c{std::vector<std::vector<std::pair<Eigen::Index, double>>>(static_cast<std::size_t>(n)),
            Eigen::VectorXd::LinSpaced(n, 0.5, 1.5)};
  for (Eigen::Index i = 0; i < n; ++i) {
    auto& row = c.rows[static_cast<std::size_t>(i)];
    row.emplace_back(i, 6.0);
    for (const Eigen::Index j : couple(i))
      row.emplace_back(j, -1.0 / (1.0 + static_cast<double>(std::abs(i - j) % 5)));
  }
  return c;
}

/// A tridiagonal system (a band of 3).
Coupled chain(Eigen::Index n) {
  return coupled(n, [n](Eigen::Index i) {
    std::vector<Eigen::Index> js;
    if (i > 0) js.push_back(i - 1);
    if (i + 1 < n) js.push_back(i + 1);
    return js;
  });
}

/// The 5-point stencil on an m × m grid: sparse, of bandwidth m on each side.
Coupled grid(Eigen::Index m) {
  return coupled(m * m, [m](Eigen::Index i) {
    const Eigen::Index r = i / m, c = i % m;
    std::vector<Eigen::Index> js;
    if (r > 0) js.push_back(i - m);
    if (r + 1 < m) js.push_back(i + m);
    if (c > 0) js.push_back(i - 1);
    if (c + 1 < m) js.push_back(i + 1);
    return js;
  });
}

/// Every unknown coupled to every other one, weakly.
Coupled all_to_all(Eigen::Index n) {
  return coupled(n, [n](Eigen::Index i) {
    std::vector<Eigen::Index> js;
    for (Eigen::Index j = 0; j < n; ++j)
      if (j != i) js.push_back(j);
    return js;
  });
}

/// x*, dx/dθ = J⁻¹b and d²x/dθ² = −J⁻¹(6 x∘ẋ∘ẋ) (from J ẋ = b differentiated once more).
ift_test::VectorExpected expected(const Coupled& g, double theta) {
  const Eigen::VectorXd x = ift::root(g, Eigen::VectorXd::Zero(g.size()), theta,
                                      ift::Newton{.linear_solver = ift::DenseLU{}, .tol = 1e-14})
                                .x;
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu(g.jacobian(x));
  const Eigen::VectorXd dx = lu.solve(g.b);
  return {x, dx, lu.solve(Eigen::VectorXd(-6.0 * x.cwiseProduct(dx).cwiseProduct(dx)))};
}

void check_defaults(const Coupled& g) {
  const double theta = 0.7;
  ift_test::check_vector_modes(
      [&g](const auto& th) { return ift::root(g, Eigen::VectorXd::Zero(g.size()), th).x; }, theta,
      expected(g, theta), 1e-9);
}

}  // namespace

TEST_CASE("without <ift/sparse.hpp> no sparse LU is compiled in", "[auto]") {
  CHECK(ift::detail::sparse_lu_for_auto() == nullptr);
}

TEST_CASE("the defaults (Newton, Implicit<>) at every mode: small, banded, wide sparse, dense", "[auto]") {
  SECTION("small: dense LU") { check_defaults(chain(5)); }
  SECTION("tridiagonal: banded LU") { check_defaults(chain(60)); }
  SECTION("2-D stencil: dense LU, as no sparse LU is compiled in") { check_defaults(grid(16)); }
  SECTION("all to all: dense LU") { check_defaults(all_to_all(30)); }
}

TEST_CASE("Auto's choice, seen through a kept analysis", "[auto]") {
  // A kept analysis records the pattern whenever Auto looks at it, and a symbolic factorization only
  // when the sparse LU is used.
  const auto analysed = [](const Coupled& g) {
    const ift::SparseAnalysis handle;
    const ift::Auto choose{.analysis = handle};
    ift::Tape tape;
    const ift::Var theta = 0.7;
    const auto s = ift::root(g, Eigen::VectorXd::Zero(g.size()), theta, ift::Newton{.linear_solver = choose},
                             ift::Implicit<ift::Auto>{choose});
    const Eigen::VectorXd x = ift::detail::to_double(s.x);
    Eigen::VectorXd dx(g.size());
    for (Eigen::Index i = 0; i < g.size(); ++i) dx(i) = tape.gradient(s.x(i), theta);
    CHECK((dx - g.jacobian(x).partialPivLu().solve(g.b)).norm() <= 1e-10 * dx.norm());
    return std::pair{handle.patterns_detected(), handle.symbolic_analyses()};
  };
  CHECK(analysed(chain(60)) == std::pair{1, 0});  // banded: the pattern, no sparse LU
  CHECK(analysed(grid(16)) == std::pair{1, 0});   // wide and sparse: no sparse LU here, dense
}

TEST_CASE("Auto factorizes a state whose size is known at compile time densely, at every level", "[auto]") {
  // Its J is small, so the rule takes the dense LU without looking at the pattern, whatever Auto's options
  // say: a kept analysis records nothing. x' = J⁻¹b and, from J x' = b with J = A + 3 diag(x²),
  // x'' = −J⁻¹(6 x ∘ x' ∘ x').
  const Coupled g = chain(6);
  using X = Eigen::Matrix<double, 6, 1>;
  const ift::SparseAnalysis handle;
  const ift::Implicit<ift::Auto> rule{{.dense_below = 2, .analysis = handle}};
  const X x = ift::root(g, X::Zero().eval(), 0.7).x;
  const Eigen::MatrixXd J = g.jacobian(x);
  const Eigen::VectorXd dx = J.partialPivLu().solve(g.b);
  const Eigen::VectorXd d2x = J.partialPivLu().solve(-6.0 * x.cwiseProduct(dx).cwiseProduct(dx));

  ift::Tape tape;
  const ift::Var theta = 0.7;
  const auto reverse = ift::root(g, X::Zero().eval(), theta, ift::Newton{}, rule).x;
  for (Eigen::Index i = 0; i < 6; ++i) CHECK(std::abs(tape.gradient(reverse(i), theta) - dx(i)) <= 1e-10);

  using D2 = ift::Dual<ift::Dual<double>>;
  const auto nested =
      ift::root(g, X::Zero().eval(), D2(ift::Dual<double>(0.7, 1.0), ift::Dual<double>(1.0, 0.0)),
                ift::Newton{}, rule)
          .x;
  for (Eigen::Index i = 0; i < 6; ++i) {
    CHECK(std::abs(nested(i).a.v(0) - dx(i)) <= 1e-10);
    CHECK(std::abs(nested(i).v(0).a - dx(i)) <= 1e-10);
    CHECK(std::abs(nested(i).v(0).v(0) - d2x(i)) <= 1e-9);
  }
  CHECK(handle.patterns_detected() == 0);

  // The same problem on a dynamic-size state: Auto, told to detect from 2 unknowns, records the pattern.
  const ift::Var theta2 = 0.7;
  const auto dynamic = ift::root(g, Eigen::VectorXd::Zero(6).eval(), theta2, ift::Newton{}, rule).x;
  for (Eigen::Index i = 0; i < 6; ++i) CHECK(std::abs(tape.gradient(dynamic(i), theta2) - dx(i)) <= 1e-10);
  CHECK(handle.patterns_detected() == 1);
}

TEST_CASE("Auto probes a column of J only until the solve has J's pattern", "[auto]") {
  // The probe (one forward pass on Dual<double, 1>) tells a dense J without detecting its pattern;
  // once the first step has detected the pattern, it tells the density itself.
  const Coupled g = chain(60);
  int probes = 0;
  const auto counted = [&](const auto& x, const auto& theta) {
    if constexpr (std::is_same_v<typename std::decay_t<decltype(x)>::Scalar, ift::Dual<double, 1>>) ++probes;
    return g(x, theta);
  };
  const auto s = ift::root(counted, Eigen::VectorXd::Zero(g.size()), 0.7);
  REQUIRE(s.iterations >= 3);
  CHECK(g(s.x, 0.7).norm() <= 1e-10);
  CHECK(probes == 1);
}
