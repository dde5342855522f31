// ift::quadratic_program: the solution and its derivatives against closed forms at every scalar mode,
// and random QPs against central differences of re-solves (the errors: bad_input_quadratic_program).

#include <catch2/catch.hpp>

#include <cmath>

#include "ift/quadratic_program.hpp"
#include "support/modes.hpp"
#include "support/random_problems.hpp"

namespace {

using Catch::Matchers::WithinAbs;
using ift_test::Mat;
using ift_test::Vec;

const Eigen::MatrixXd no_rows(0, 0);
const Eigen::VectorXd no_entries(0);

// An equality-constrained QP: Q(θ) = [[2 + θ, ½, 0], [½, 3, ⅕], [0, ⅕, 1 + θ²]], q(θ) = (θ, −1, 2θ),
// A = (1 1 1), b(θ) = θ. Its solution solves the KKT system K(θ) z = r(θ), K = [Q Aᵀ; A 0],
// r = (−q, b), so z' = K⁻¹(r' − K'z) and z'' = K⁻¹(r'' − K''z − 2K'z').
template <class S>
Mat<S> q_matrix(const S& t) {
  Mat<S> Q(3, 3);
  Q << 2 + t, S(0.5), S(0.0), S(0.5), S(3.0), S(0.2), S(0.0), S(0.2), 1 + t * t;
  return Q;
}
template <class S>
Vec<S> q_vector(const S& t) {
  Vec<S> q(3);
  q << t, S(-1.0), 2 * t;
  return q;
}
template <class S>
auto equality_qp(const S& t) {
  const Eigen::RowVector3d A(1, 1, 1);
  Vec<S> b(1);
  b << t;
  return ift::quadratic_program(q_matrix(t), q_vector(t), A, b, no_rows, no_entries);
}

struct EqualityClosedForm {
  Eigen::Vector4d z, dz, d2z;
  explicit EqualityClosedForm(double t) {
    Eigen::Matrix4d K = Eigen::Matrix4d::Zero();
    K.topLeftCorner<3, 3>() = q_matrix(t);
    K.block<3, 1>(0, 3).setOnes();
    K.block<1, 3>(3, 0).setOnes();
    Eigen::Matrix4d dK = Eigen::Matrix4d::Zero(), d2K = Eigen::Matrix4d::Zero();
    dK.diagonal().head<3>() << 1, 0, 2 * t;
    d2K(2, 2) = 2;
    const auto lu = K.partialPivLu();
    z = lu.solve(Eigen::Vector4d(-t, 1, -2 * t, t));
    dz = lu.solve(Eigen::Vector4d(-1, 0, -2, 1) - dK * z);
    d2z = lu.solve(-d2K * z - 2 * dK * dz);
  }
};

}  // namespace

TEST_CASE("quadratic_program: an equality-constrained QP against its KKT system, every mode",
          "[quadratic_program]") {
  const double t = 0.7;
  const EqualityClosedForm e(t);
  for (int i = 0; i < 4; ++i) {
    DYNAMIC_SECTION((i < 3 ? "x" : "nu") << (i < 3 ? i : 0)) {
      ift_test::check_scalar_modes(
          [i](const auto& th) {
            const auto s = equality_qp(th);
            return i < 3 ? s.x(i) : s.eq_multipliers(0);
          },
          t, {e.z(i), e.dz(i), e.d2z(i)});
    }
  }
  SECTION("Dual<Var>: reverse over forward gives the second derivative") {
    ift::Tape tape;
    const ift::Var tv = t;
    const auto s = equality_qp(ift::Dual<ift::Var>(tv, 1.0));
    for (int i = 0; i < 3; ++i) {
      CHECK_THAT(s.x(i).v(0).value(), WithinAbs(e.dz(i), 1e-9));
      CHECK_THAT(tape.gradient(s.x(i).v(0), tv), WithinAbs(e.d2z(i), 1e-8));
    }
    CHECK_THAT(tape.gradient(s.eq_multipliers(0).v(0), tv), WithinAbs(e.d2z(3), 1e-8));
  }
}

TEST_CASE("quadratic_program: projection onto a half-space, active and inactive", "[quadratic_program]") {
  // min ½‖x − y‖² s.t. aᵀx ≤ 1, a = (1, 2), y(θ) = (θ, 1). Active when aᵀy = θ + 2 > 1:
  // x = y − (θ + 1)/5 · a, μ = (θ + 1)/5; inactive: x = y, μ = 0.
  const auto project = [](const auto& th) {
    using S = std::decay_t<decltype(th)>;
    Eigen::Matrix<S, 2, 1> y(th, S(1.0));
    return ift::quadratic_program(Eigen::Matrix2d::Identity(), (-y).eval(), no_rows, no_entries,
                                  Eigen::RowVector2d(1, 2), Eigen::Matrix<double, 1, 1>(1.0));
  };
  SECTION("active") {
    const double t = 0.5;
    const double expected[3][2] = {{t - (t + 1) / 5, 0.8}, {1 - 2 * (t + 1) / 5, -0.4}, {(t + 1) / 5, 0.2}};
    for (int i = 0; i < 3; ++i) {
      DYNAMIC_SECTION("component " << i) {
        ift_test::check_scalar_modes(
            [&](const auto& th) {
              const auto s = project(th);
              return i < 2 ? s.x(i) : s.ineq_multipliers(0);
            },
            t, {expected[i][0], expected[i][1], 0.0});
      }
    }
  }
  SECTION("inactive") {
    const double t = -3.0;
    const double expected[3][2] = {{t, 1.0}, {1.0, 0.0}, {0.0, 0.0}};
    for (int i = 0; i < 3; ++i) {
      DYNAMIC_SECTION("component " << i) {
        ift_test::check_scalar_modes(
            [&](const auto& th) {
              const auto s = project(th);
              return i < 2 ? s.x(i) : s.ineq_multipliers(0);
            },
            t, {expected[i][0], expected[i][1], 0.0});
      }
    }
  }
}

TEST_CASE("quadratic_program: a box QP, derivative 1 inside and 0 at an active bound",
          "[quadratic_program]") {
  // min ½xᵀdiag(1, 2, 3)x + qᵀx on −1 ≤ x ≤ 1: xᵢ = clamp(−qᵢ/Qᵢᵢ, −1, 1). With q = (−½, −10, 6) the
  // unconstrained minimizer (½, 5, −2) is clamped to (½, 1, −1): dx₀/dq₀ = −1, x₁ and x₂ do not move
  // with q, and follow their bounds (dx₁/dhi₁ = 1, dx₂/dlo₂ = 1, i.e. dx₂/dh₅ = −1).
  const Eigen::Matrix3d Q = Eigen::Vector3d(1, 2, 3).asDiagonal();
  const Eigen::Vector3d q(-0.5, -10, 6);
  Eigen::Matrix<double, 6, 3> G;
  G << Eigen::Matrix3d::Identity(), -Eigen::Matrix3d::Identity();
  const Eigen::Matrix<double, 6, 1> h = Eigen::Matrix<double, 6, 1>::Ones();
  SECTION("forward, all of q at once") {
    using D = ift::Dual<double, 3>;
    Eigen::Matrix<D, 3, 1> qd;
    for (int i = 0; i < 3; ++i) qd(i) = D(q(i), Eigen::Vector3d::Unit(i));
    const auto s = ift::quadratic_program(Q, qd, no_rows, no_entries, G, h);
    CHECK_THAT(s.x(0).a, WithinAbs(0.5, 1e-9));
    CHECK_THAT(s.x(1).a, WithinAbs(1.0, 1e-9));
    CHECK_THAT(s.x(2).a, WithinAbs(-1.0, 1e-9));
    Eigen::Matrix3d J;
    for (int i = 0; i < 3; ++i) J.row(i) = s.x(i).v.transpose();
    CHECK(J.isApprox(Eigen::Vector3d(-1, 0, 0).asDiagonal().toDenseMatrix(), 1e-9));
    // μ of x₁ ≤ 1 is −(Q₁₁·1 + q₁) = 8 and moves with −q₁; the others stay 0 or move with their q.
    CHECK_THAT(s.ineq_multipliers(1).a, WithinAbs(8.0, 1e-8));
    CHECK_THAT(s.ineq_multipliers(1).v(1), WithinAbs(-1.0, 1e-9));
    CHECK_THAT(s.ineq_multipliers(5).a, WithinAbs(3.0, 1e-8));
    CHECK_THAT(s.ineq_multipliers(5).v(2), WithinAbs(1.0, 1e-9));
  }
  SECTION("reverse, with respect to the bounds") {
    ift::Tape tape;
    const Eigen::Matrix<ift::Var, 6, 1> hv = h.cast<ift::Var>();
    const auto s = ift::quadratic_program(Q, q, no_rows, no_entries, G, hv);
    const Eigen::VectorXd g0 = tape.gradient(s.x(0), hv), g1 = tape.gradient(s.x(1), hv),
                          g2 = tape.gradient(s.x(2), hv);
    CHECK(g0.cwiseAbs().maxCoeff() < 1e-9);
    CHECK(g1.isApprox(Eigen::VectorXd::Unit(6, 1), 1e-9));
    CHECK(g2.isApprox(-Eigen::VectorXd::Unit(6, 5), 1e-9));
  }
}

namespace {

// A random QP with a known strictly complementary solution: x*, ν, μ drawn first, the first `active`
// inequalities tight with μᵢ ∈ [½, 3/2], the others slack by [½, 3/2] with μᵢ = 0, and q, b, h chosen
// so that (x*, ν, μ) satisfies the KKT conditions of the convex QP.
struct RandomQP {
  Eigen::MatrixXd Q, A, G;
  Eigen::VectorXd q, b, h, x, nu, mu;
  RandomQP(std::uint64_t seed, Eigen::Index n, Eigen::Index p, Eigen::Index m, Eigen::Index active) {
    ift_test::Random random(seed);
    Q = random.spd(n, 0.5, 2.0);
    A = random.matrix(p, n);
    G = random.matrix(m, n);
    x = random.vector(n);
    nu = random.vector(p);
    mu = Eigen::VectorXd::Zero(m);
    h = G * x;
    for (Eigen::Index i = 0; i < m; ++i) {
      if (i < active)
        mu(i) = random.uniform(0.5, 1.5);
      else
        h(i) += random.uniform(0.5, 1.5);
    }
    q = -Q * x - A.transpose() * nu - G.transpose() * mu;
    b = A * x;
  }
};

// z(t) = (x, ν, μ) of the QP with every input moved along its direction by t.
template <class S>
Vec<S> random_qp_z(const RandomQP& qp, const RandomQP& dir, const S& t, const ift::InteriorPointQP& solver) {
  const auto s = ift::quadratic_program((qp.Q + t * dir.Q).eval(), (qp.q + t * dir.q).eval(),
                                        (qp.A + t * dir.A).eval(), (qp.b + t * dir.b).eval(),
                                        (qp.G + t * dir.G).eval(), (qp.h + t * dir.h).eval(), solver);
  Vec<S> z(s.x.size() + s.eq_multipliers.size() + s.ineq_multipliers.size());
  z << s.x, s.eq_multipliers, s.ineq_multipliers;
  return z;
}

}  // namespace

TEST_CASE("quadratic_program: random QPs against central differences of re-solves", "[quadratic_program]") {
  const ift::InteriorPointQP solver{.tol = 1e-13};
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    DYNAMIC_SECTION("seed " << seed) {
      const Eigen::Index n = 6, p = 2, m = 5, active = 3;
      const RandomQP qp(seed, n, p, m, active);
      RandomQP dir(100 + seed, n, p, m, active);  // random directions for all six inputs (Q's not symmetric)
      dir.Q = ift_test::Random(200 + seed).matrix(n, n);

      const Eigen::VectorXd z0 = random_qp_z(qp, dir, 0.0, solver);
      Eigen::VectorXd z_star(n + p + m);
      z_star << qp.x, qp.nu, qp.mu;
      CHECK((z0 - z_star).cwiseAbs().maxCoeff() < 1e-9);

      // Central differences with one Richardson step (see support/random_problems.hpp).
      const auto central = [&](double step) {
        return Eigen::VectorXd((random_qp_z(qp, dir, step, solver) - random_qp_z(qp, dir, -step, solver)) /
                               (2 * step));
      };
      const double step = 1e-3;
      const Eigen::VectorXd reference = (4 * central(step / 2) - central(step)) / 3;

      using D = ift::Dual<double>;
      const Vec<D> zd = random_qp_z(qp, dir, D(0.0, 1.0), solver);
      Eigen::VectorXd forward(zd.size());
      for (Eigen::Index i = 0; i < zd.size(); ++i) forward(i) = zd(i).v(0);
      CHECK((forward - reference).cwiseAbs().maxCoeff() < 1e-7 * (1 + reference.cwiseAbs().maxCoeff()));

      // Reverse: the gradient of wᵀz with respect to t equals wᵀ dz/dt.
      ift::Tape tape;
      const ift::Var tv = 0.0;
      const Vec<ift::Var> zv = random_qp_z(qp, dir, tv, solver);
      const Eigen::VectorXd w = ift_test::Random(300 + seed).vector(zv.size());
      ift::Var loss = 0.0;
      for (Eigen::Index i = 0; i < zv.size(); ++i) loss += w(i) * zv(i);
      CHECK_THAT(tape.gradient(loss, tv), WithinAbs(w.dot(reference), 1e-7 * (1 + w.cwiseAbs().sum())));
    }
  }
}

TEST_CASE("InteriorPointQP run on an AD scalar: the unrolled derivatives approach the implicit ones",
          "[quadratic_program]") {
  // Differentiating every iteration of the interior-point method gives derivatives that converge,
  // with the iterates, to the implicit rule's (the benchmarks' unrolled baseline).
  const Eigen::Index n = 5, p = 1, m = 4, active = 2;
  const RandomQP qp(11, n, p, m, active);
  const ift::InteriorPointQP solver{.tol = 1e-13};
  const Eigen::MatrixXd P = 0.5 * (qp.Q + qp.Q.transpose());
  const Eigen::VectorXd direction = ift_test::Random(12).vector(n);

  using D = ift::Dual<double>;
  Vec<D> qd(n);
  for (Eigen::Index i = 0; i < n; ++i) qd(i) = D(qp.q(i), direction(i));
  const Vec<D> implicit = ift::quadratic_program(qp.Q, qd, qp.A, qp.b, qp.G, qp.h, solver).x;
  const auto unrolled = solver.solve(P.cast<D>().eval(), qd, qp.A.cast<D>().eval(), qp.b.cast<D>().eval(),
                                     qp.G.cast<D>().eval(), qp.h.cast<D>().eval());
  REQUIRE(unrolled.status == ift::Status::converged);
  for (Eigen::Index i = 0; i < n; ++i) {
    CHECK_THAT(unrolled.x(i).a, WithinAbs(qp.x(i), 1e-9));
    CHECK_THAT(unrolled.x(i).v(0), WithinAbs(implicit(i).v(0), 1e-6));
  }

  ift::Tape tape;
  const Vec<ift::Var> qv = qp.q.cast<ift::Var>();
  const auto unrolled_rev =
      solver.solve(P.cast<ift::Var>().eval(), qv, qp.A.cast<ift::Var>().eval(), qp.b.cast<ift::Var>().eval(),
                   qp.G.cast<ift::Var>().eval(), qp.h.cast<ift::Var>().eval());
  REQUIRE(unrolled_rev.status == ift::Status::converged);
  const ift::Var loss = unrolled_rev.x.dot(direction.cast<ift::Var>());
  // ∇_q (dᵀx) · d = dᵀ (dx/dq) d: the forward JVP's projection on d.
  Eigen::VectorXd jvp(n);
  for (Eigen::Index i = 0; i < n; ++i) jvp(i) = implicit(i).v(0);
  CHECK_THAT(tape.gradient(loss, qv).dot(direction), WithinAbs(direction.dot(jvp), 1e-6));
}
