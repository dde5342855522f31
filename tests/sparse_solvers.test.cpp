// Structure-exploiting linear solvers: SparseLU, Auto, a user's banded solver, Newton–Krylov, in
// Newton and in the implicit rule. Every combination must give the DenseLU derivatives.

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "ift/ift.hpp"
#include "ift/sparse.hpp"
#include "support/broyden.hpp"

namespace {

/// A user's linear solver, written against the documented concept: LU without pivoting of a banded
/// matrix (half-bandwidth `bandwidth`), for diagonally dominant Jacobians. O(n b²) to factorize.
struct BandedLU {
  int bandwidth = 1;

  struct Factor {
    Eigen::MatrixXd lu;  // L (unit, below the diagonal) and U, within the band
    Eigen::Index b;

    template <class B>
    typename B::PlainObject solve(const B& rhs) const {
      typename B::PlainObject x = rhs;
      const Eigen::Index n = lu.rows();
      for (Eigen::Index i = 0; i < n; ++i)  // L y = rhs
        for (Eigen::Index k = std::max<Eigen::Index>(0, i - b); k < i; ++k) x.row(i) -= lu(i, k) * x.row(k);
      for (Eigen::Index i = n - 1; i >= 0; --i) {  // U x = y
        for (Eigen::Index k = i + 1; k <= std::min(n - 1, i + b); ++k) x.row(i) -= lu(i, k) * x.row(k);
        x.row(i) /= lu(i, i);
      }
      return x;
    }
    template <class B>
    typename B::PlainObject solve_transposed(const B& rhs) const {
      typename B::PlainObject x = rhs;
      const Eigen::Index n = lu.rows();
      for (Eigen::Index i = 0; i < n; ++i) {  // Uᵀ z = rhs
        for (Eigen::Index k = std::max<Eigen::Index>(0, i - b); k < i; ++k) x.row(i) -= lu(k, i) * x.row(k);
        x.row(i) /= lu(i, i);
      }
      for (Eigen::Index i = n - 1; i >= 0; --i)  // Lᵀ x = z
        for (Eigen::Index k = i + 1; k <= std::min(n - 1, i + b); ++k) x.row(i) -= lu(k, i) * x.row(k);
      return x;
    }
  };

  Factor factor(const Eigen::SparseMatrix<double>& J) const {
    Factor f{Eigen::MatrixXd(J), bandwidth};
    const Eigen::Index n = J.rows();
    for (Eigen::Index k = 0; k < n; ++k) {
      if (f.lu(k, k) == 0.0) throw ift::SingularJacobianError("BandedLU: zero pivot", 0.0);
      for (Eigen::Index i = k + 1; i <= std::min(n - 1, k + f.b); ++i) {
        f.lu(i, k) /= f.lu(k, k);
        for (Eigen::Index j = k + 1; j <= std::min(n - 1, k + f.b); ++j)
          f.lu(i, j) -= f.lu(i, k) * f.lu(k, j);
      }
    }
    return f;
  }
};
static_assert(ift::SparseLinearSolver<BandedLU> && ift::LinearSolver<BandedLU>);

using ift_test::broyden;

constexpr Eigen::Index n = 150;  // above Auto's dense threshold, so Auto goes sparse
const Eigen::VectorXd theta = Eigen::VectorXd::LinSpaced(n, -0.1, 0.2);
const Eigen::VectorXd x0 = Eigen::VectorXd::Constant(n, -1.0);
const Eigen::VectorXd w = Eigen::VectorXd::LinSpaced(n, 1.0, -2.0);

/// ∇θ (wᵀx*) by reverse mode, with the given Newton linear solver and adjoint.
template <class Adjoint>
Eigen::VectorXd gradient(const ift::AnyLinearSolver& newton_ls, const Adjoint& adjoint) {
  ift::Tape tape;
  const Eigen::VectorX<ift::Var> p = theta.cast<ift::Var>();
  const auto s = ift::root(broyden, x0, p, ift::Newton{.linear_solver = newton_ls, .tol = 1e-13}, adjoint);
  ift::Var loss = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) loss += w(i) * s.x(i);
  return tape.gradient(loss, p);
}

/// dx*/dt along θ(t) = θ + t·1, by forward mode.
template <class Adjoint>
Eigen::VectorXd tangent(const Adjoint& adjoint) {
  using D = ift::Dual<double>;
  Eigen::VectorX<D> p(n);
  for (Eigen::Index i = 0; i < n; ++i) p(i) = D(theta(i), 1.0);
  const auto x = ift::root(broyden, x0, p, ift::Newton{.tol = 1e-13}, adjoint).x;
  Eigen::VectorXd out(n);
  for (Eigen::Index i = 0; i < n; ++i) out(i) = x(i).v(0);
  return out;
}

double relative_error(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return (a - b).lpNorm<Eigen::Infinity>() / b.lpNorm<Eigen::Infinity>();
}

}  // namespace

TEST_CASE("the DenseLU reference gradient agrees with central differences", "[sparse]") {
  const Eigen::VectorXd g = gradient(ift::DenseLU{}, ift::Implicit<ift::DenseLU>{});
  const auto loss = [&](const Eigen::VectorXd& p) {
    return w.dot(ift::root(broyden, x0, p, ift::Newton{.tol = 1e-13}).x);
  };
  for (const Eigen::Index i : {Eigen::Index(0), Eigen::Index(7), n - 1}) {
    const double h = 1e-5;
    Eigen::VectorXd plus = theta, minus = theta;
    plus(i) += h;
    minus(i) -= h;
    CHECK(g(i) == Approx((loss(plus) - loss(minus)) / (2 * h)).epsilon(1e-7));
  }
}

TEST_CASE("every Newton linear solver × adjoint solver gives the DenseLU gradient", "[sparse]") {
  const Eigen::VectorXd reference = gradient(ift::DenseLU{}, ift::Implicit<ift::DenseLU>{});
  const std::vector<ift::AnyLinearSolver> newton_solvers = {ift::DenseLU{},  ift::SparseLU{}, ift::GMRES{},
                                                            ift::BiCGSTAB{}, ift::Auto{},     BandedLU{},
                                                            ift::DenseQR{}};
  for (const auto& ls : newton_solvers) {
    INFO("Newton with " << ls.name());
    CHECK(relative_error(gradient(ls, ift::Implicit<ift::DenseLU>{}), reference) < 1e-10);
    CHECK(relative_error(gradient(ls, ift::Implicit<ift::SparseLU>{}), reference) < 1e-10);
    CHECK(relative_error(gradient(ls, ift::Implicit<ift::GMRES>{}), reference) < 1e-9);
    CHECK(relative_error(gradient(ls, ift::Implicit<ift::Auto>{}), reference) < 1e-10);
    CHECK(relative_error(gradient(ls, ift::Implicit<BandedLU>{}), reference) < 1e-10);
  }
}

TEST_CASE("forward and nested forward derivatives through the sparse adjoints", "[sparse]") {
  const Eigen::VectorXd reference = tangent(ift::Implicit<ift::DenseLU>{});
  CHECK(relative_error(tangent(ift::Implicit<ift::SparseLU>{}), reference) < 1e-12);
  CHECK(relative_error(tangent(ift::Implicit<ift::Auto>{}), reference) < 1e-12);
  CHECK(relative_error(tangent(ift::Implicit<BandedLU>{}), reference) < 1e-12);

  // Second derivative along θ(t) = θ + t·1: the inner level uses the sparse solver, the outer falls
  // back to dense LU; both must match DenseLU throughout.
  using D2 = ift::Dual<ift::Dual<double>>;
  const auto second = [&](const auto& adjoint) {
    Eigen::VectorX<D2> p(n);
    for (Eigen::Index i = 0; i < n; ++i)
      p(i) = D2(ift::Dual<double>(theta(i), 1.0), ift::Dual<double>(1.0, 0.0));
    const auto x = ift::root(broyden, x0, p, ift::Newton{.tol = 1e-13}, adjoint).x;
    Eigen::VectorXd out(n);
    for (Eigen::Index i = 0; i < n; ++i) out(i) = x(i).v(0).v(0);
    return out;
  };
  const Eigen::VectorXd d2 = second(ift::Implicit<ift::DenseLU>{});
  CHECK(relative_error(second(ift::Implicit<ift::SparseLU>{}), d2) < 1e-11);
  CHECK(relative_error(second(ift::Implicit<ift::Auto>{}), d2) < 1e-11);
  // And d2 itself against central differences of the first derivative.
  const double h = 1e-5;
  Eigen::VectorXd fd(n);
  {
    using D = ift::Dual<double>;
    const auto first_at = [&](double t) {
      Eigen::VectorX<D> p(n);
      for (Eigen::Index i = 0; i < n; ++i) p(i) = D(theta(i) + t, 1.0);
      const auto x = ift::root(broyden, x0, p, ift::Newton{.tol = 1e-13}).x;
      Eigen::VectorXd out(n);
      for (Eigen::Index i = 0; i < n; ++i) out(i) = x(i).v(0);
      return out;
    };
    fd = (first_at(h) - first_at(-h)) / (2 * h);
  }
  CHECK(relative_error(d2, fd) < 1e-6);
}

TEST_CASE("sparse adjoints for fixed points, minimizers and least squares", "[sparse]") {
  // A banded contraction xᵢ = θᵢ + ¼ tanh(xᵢ₋₁) + ¼ tanh(xᵢ₊₁): c = F − x has no shortcut.
  const auto map = [](const auto& x, const auto& p) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    const Eigen::Index m = x.size();
    Eigen::VectorX<S> y(m);
    for (Eigen::Index i = 0; i < m; ++i) {
      using std::tanh;
      S yi = p(i);
      if (i > 0) yi += 0.25 * tanh(x(i - 1));
      if (i + 1 < m) yi += 0.25 * tanh(x(i + 1));
      y(i) = yi;
    }
    return y;
  };
  // A strongly convex objective with a tridiagonal Hessian (minimize forms it densely and the sparse
  // solver takes the nonzeros).
  const auto objective = [](const auto& x, const auto& p) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    S sum = 0.0;
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      using std::cosh;
      using std::log;
      sum += log(cosh(x(i) - p(i))) + 0.5 * x(i) * x(i);
      if (i > 0) sum += 0.25 * (x(i) - x(i - 1)) * (x(i) - x(i - 1));
    }
    return sum;
  };
  const auto residuals = [](const auto& x, const auto& p) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    Eigen::VectorX<S> r(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      using std::sinh;
      r(i) = sinh(x(i)) - p(i) + (i > 0 ? S(0.1 * x(i - 1)) : S(0.0));
    }
    return r;
  };
  const Eigen::Index m = 120;
  const Eigen::VectorXd p = Eigen::VectorXd::LinSpaced(m, -0.5, 0.5), start = Eigen::VectorXd::Zero(m);
  const Eigen::VectorXd weights = Eigen::VectorXd::LinSpaced(m, 0.5, 1.5);
  const auto grad = [&](const auto& solve) {
    ift::Tape tape;
    const Eigen::VectorX<ift::Var> pv = p.cast<ift::Var>();
    const Eigen::VectorX<ift::Var> x = solve(pv);
    ift::Var loss = 0.0;
    for (Eigen::Index i = 0; i < m; ++i) loss += weights(i) * x(i);
    return Eigen::VectorXd(tape.gradient(loss, pv));
  };
  const auto fp = [&](const auto& adjoint) {
    return grad([&](const auto& pv) {
      return ift::fixed_point(map, start, pv, ift::Anderson{.tol = 1e-13}, adjoint).x;
    });
  };
  const auto mn = [&](const auto& adjoint) {
    return grad([&](const auto& pv) {
      return ift::minimize(objective, start, pv, ift::NewtonMin{.tol = 1e-12}, adjoint).x;
    });
  };
  const auto ls = [&](const auto& adjoint) {
    return grad([&](const auto& pv) {
      return ift::least_squares(residuals, start, pv, ift::LevenbergMarquardt{.tol = 1e-13}, adjoint).x;
    });
  };
  CHECK(relative_error(fp(ift::Implicit<ift::SparseLU>{}), fp(ift::Implicit<ift::DenseLU>{})) < 1e-11);
  CHECK(relative_error(fp(ift::Implicit<ift::Auto>{}), fp(ift::Implicit<ift::DenseLU>{})) < 1e-11);
  CHECK(relative_error(mn(ift::Implicit<ift::SparseLU>{}), mn(ift::Implicit<ift::DenseLU>{})) < 1e-10);
  CHECK(relative_error(mn(ift::Implicit<ift::Auto>{}), mn(ift::Implicit<ift::DenseLU>{})) < 1e-10);
  CHECK(relative_error(ls(ift::Implicit<ift::SparseLU>{}), ls(ift::Implicit<ift::DenseLU>{})) < 1e-10);
}

TEST_CASE("SparseLU: solves, transposed solves, condition estimate, singular matrices", "[sparse]") {
  const Eigen::Index m = 30;
  Eigen::MatrixXd A = Eigen::MatrixXd::Random(m, m) + 4.0 * Eigen::MatrixXd::Identity(m, m);
  const Eigen::SparseMatrix<double> S = A.sparseView();
  const Eigen::MatrixXd B = Eigen::MatrixXd::Random(m, 3);
  const auto f = ift::SparseLU{}.factor(S);
  CHECK((A * f.solve(B) - B).norm() < 1e-12 * B.norm() * A.norm());
  CHECK((A.transpose() * f.solve_transposed(B) - B).norm() < 1e-12 * B.norm() * A.norm());

  // Hager–Higham: a lower bound on ‖A⁻¹‖₁, so the rcond estimate is at least the true one, and in
  // practice within a small factor of it.
  for (const double scale : {1.0, 1e-6, 1e-10}) {
    Eigen::MatrixXd C = A;
    C.col(3) = A.col(4) + scale * A.col(3);  // nearly dependent columns
    const double truth =
        1.0 / (C.cwiseAbs().colwise().sum().maxCoeff() * C.inverse().cwiseAbs().colwise().sum().maxCoeff());
    const double estimate = ift::detail::rcond_estimate(
        ift::detail::DenseFactor<Eigen::PartialPivLU<Eigen::MatrixXd>>{C.partialPivLu()}, m,
        C.cwiseAbs().colwise().sum().maxCoeff());
    INFO("scale " << scale);
    CHECK(estimate >= truth * (1 - 1e-10));
    CHECK(estimate <= 10 * truth);
  }

  Eigen::MatrixXd singular = A;
  singular.col(5).setZero();
  CHECK_THROWS_AS(ift::SparseLU{}.factor(singular.sparseView()), ift::SingularJacobianError);
  Eigen::MatrixXd nearly = A;
  nearly.col(5) = A.col(6) * (1 + 1e-17);
  nearly(0, 5) += 1e-18;
  CHECK_THROWS_WITH(ift::SparseLU{}.factor(nearly.sparseView()), Catch::Matchers::Contains("SparseLU"));
  Eigen::MatrixXd infinite = A;
  infinite(2, 2) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(ift::SparseLU{}.factor(infinite.sparseView()), Catch::Matchers::Contains("not finite"));
}

TEST_CASE("Newton's linear solver failures stop it with Status::singular", "[sparse]") {
  // f(x) = (x₀ − θ)², x₁ − θ: the Jacobian is singular at x₀ = θ, reached from x₀ = θ exactly.
  const auto f = [](const auto& x, const auto& p) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    Eigen::VectorX<S> r(2);
    r << (x(0) - p) * (x(0) - p) + 1.0, x(1) - p;
    return r;
  };
  for (const ift::AnyLinearSolver& ls :
       {ift::AnyLinearSolver(ift::SparseLU{}), ift::AnyLinearSolver(BandedLU{}),
        ift::AnyLinearSolver(ift::GMRES{.max_iter = 5})}) {
    INFO(ls.name());
    const auto s = ift::root(f, Eigen::Vector2d(0.5, 0.0), 0.5,
                             ift::Newton{.linear_solver = ls, .throw_on_failure = false});
    CHECK(s.status == ift::Status::singular);
    CHECK_THROWS_AS(ift::root(f, Eigen::Vector2d(0.5, 0.0), 0.5, ift::Newton{.linear_solver = ls}),
                    ift::SolverError);
  }
}

TEST_CASE("sparse Newton on fixed-size states, and unrolled Newton ignores the linear solver", "[sparse]") {
  const auto f = [](const auto& x, const auto& p) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    Eigen::Matrix<S, 3, 1> r;
    r << x(0) * x(0) - p, x(1) - x(0), x(2) * x(2) * x(2) - x(1);
    return r;
  };
  using D = ift::Dual<double>;
  for (const ift::AnyLinearSolver& ls :
       {ift::AnyLinearSolver(ift::SparseLU{}),
        ift::AnyLinearSolver(ift::Auto{.dense_below = 1, .max_density = 1.0}),
        ift::AnyLinearSolver(ift::BiCGSTAB{})}) {
    INFO(ls.name());
    const auto s =
        ift::root(f, Eigen::Vector3d(1, 1, 1), D(4.0, 1.0), ift::Newton{.linear_solver = ls, .tol = 1e-13});
    // x₀ = √θ, x₁ = x₀, x₂ = x₀^(1/3): dx₀/dθ = 1/(2√θ) = 1/4.
    CHECK(s.x(0).a == Approx(2.0).epsilon(1e-12));
    CHECK(s.x(0).v(0) == Approx(0.25).epsilon(1e-12));
    CHECK(s.x(2).v(0) == Approx(std::pow(2.0, -2.0 / 3.0) / 3.0 * 0.25).epsilon(1e-12));
    const auto u = ift::root(f, Eigen::Vector3d(1, 1, 1), D(4.0, 1.0), ift::Newton{.linear_solver = ls},
                             ift::Unrolled{});
    CHECK(u.x(0).v(0) == Approx(0.25).epsilon(1e-9));
  }
}
