// Quadratic programs: the derivative of a loss of the solution with respect to the linear term q.
//
// qp: min ½xᵀQx + qᵀx s.t. Ax = b, Gx ≤ h with n unknowns, p = n/5 equalities and m = n inequalities
// of which half are active at the solution (built with a known, strictly complementary solution),
// n = 10 and 50. The loss is ℓ = ½‖x − t‖² for a fixed target t; the gradient is ∇_q ℓ.
//
// Methods:
//   primal            the interior-point solve on doubles, no derivative;
//   implicit_fwd      one JVP ∇_q ℓ · d on `Dual<double>` (the rule's one LU of the KKT matrix);
//   implicit_rev      ∇_q ℓ by one reverse sweep: the QP's conditions with their closed-form KKT
//                     matrix and VJP;
//   implicit_rev_kkt  the same gradient through `ift::implicit` and the generic `ift::kkt_conditions`
//                     on the interior-point answer: the KKT matrix by forward passes over a gradient
//                     of the Lagrangian, the VJP by a recorded reverse-over-forward pass;
//   unrolled_rev      the interior-point method itself run on `Var` (every iteration recorded: the
//                     LU of the reduced KKT matrix and both solves per step), one reverse sweep.
// Counters: solver_iterations, grad_rel_err (against the reverse closed form; for the forward method
// against its dot product with d).
//
// This program does not count heap bytes: it is not one of the implicit_* programs linked with the
// allocator wrappers of implicit_support.hpp.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <random>
#include <string>

#include "ift/implicit.hpp"
#include "ift/kkt.hpp"
#include "ift/quadratic_program.hpp"

namespace {

template <class T>
using VectorX = Eigen::Matrix<T, Eigen::Dynamic, 1>;

struct RandomQP {
  Eigen::MatrixXd Q, A, G;
  Eigen::VectorXd q, b, h, target, direction;

  explicit RandomQP(Eigen::Index n) {
    std::mt19937_64 random(static_cast<std::uint64_t>(7 + n));
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    const auto matrix = [&](Eigen::Index rows, Eigen::Index cols) {
      Eigen::MatrixXd m(rows, cols);
      for (Eigen::Index j = 0; j < cols; ++j)
        for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = uniform(random);
      return m;
    };
    const Eigen::Index p = n / 5, m = n;
    const Eigen::MatrixXd M = matrix(n, n);
    Q = M.transpose() * M + Eigen::MatrixXd::Identity(n, n);
    A = matrix(p, n);
    G = matrix(m, n);
    const Eigen::VectorXd x = matrix(n, 1), nu = matrix(p, 1);
    Eigen::VectorXd mu = Eigen::VectorXd::Zero(m);
    h = G * x;
    for (Eigen::Index i = 0; i < m; ++i) {
      if (i % 2 == 0)
        mu(i) = 1.0 + 0.5 * uniform(random);
      else
        h(i) += 1.0 + 0.5 * uniform(random);
    }
    q = -Q * x - A.transpose() * nu - G.transpose() * mu;
    b = A * x;
    target = matrix(n, 1);
    direction = matrix(n, 1);
  }

  template <class V>
  auto solve(const V& linear) const {
    return ift::quadratic_program(Q, linear, A, b, G, h);
  }
  template <class X>
  auto loss(const X& x) const {
    using S = typename X::Scalar;
    return S(0.5 * (x - target).squaredNorm());
  }

  // ∇_q ℓ by the closed-form conditions, one reverse sweep.
  Eigen::VectorXd reverse_gradient(ift::Tape& tape, int& iterations) const {
    tape.clear();
    const VectorX<ift::Var> qv = q.cast<ift::Var>();
    const auto solution = solve(qv);
    iterations = solution.iterations;
    return tape.gradient(loss(solution.x), qv);
  }

  // ∇_q ℓ by differentiating every interior-point iteration.
  Eigen::VectorXd unrolled_gradient(ift::Tape& tape, int& iterations) const {
    tape.clear();
    using V = ift::Var;
    const VectorX<V> qv = q.cast<V>();
    const Eigen::MatrixXd P = 0.5 * (Q + Q.transpose());
    const auto it = ift::InteriorPointQP{}.solve(P.cast<V>().eval(), qv, A.cast<V>().eval(),
                                                 b.cast<V>().eval(), G.cast<V>().eval(), h.cast<V>().eval());
    iterations = it.iterations;
    return tape.gradient(loss(it.x), qv);
  }

  // ∇_q ℓ through ift::implicit and the generic KKT conditions on the solver's answer.
  Eigen::VectorXd kkt_gradient(ift::Tape& tape) const {
    tape.clear();
    const auto primal = solve(q);
    const Eigen::Index n = q.size(), p = b.size(), m = h.size();
    Eigen::VectorXd z(n + p + m);
    z << primal.x, primal.eq_multipliers, primal.ineq_multipliers;
    const auto objective = [this](const auto& x, const auto& linear) {
      return 0.5 * x.dot(Q * x) + linear.dot(x);
    };
    const auto eq = [this](const auto& x, const auto&) { return (A * x - b).eval(); };
    const auto ineq = [this](const auto& x, const auto&) { return (G * x - h).eval(); };
    const VectorX<ift::Var> qv = q.cast<ift::Var>();
    const VectorX<ift::Var> zv = ift::implicit(ift::kkt_conditions(objective, eq, ineq, n, p, m), z, qv);
    return tape.gradient(loss(VectorX<ift::Var>(zv.head(n))), qv);
  }
};

double relative_error(const Eigen::VectorXd& g, const Eigen::VectorXd& r) {
  const double scale = r.cwiseAbs().maxCoeff();
  return (g - r).cwiseAbs().maxCoeff() / (scale > 0 ? scale : 1.0);
}

template <class Body>
void guarded(benchmark::State& state, Body&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

void register_qp() {
  for (const long n : {10L, 50L}) {
    const auto problem = std::make_shared<const RandomQP>(n);
    const auto name = [n](const std::string& method) { return "qp/" + method + "/" + std::to_string(n); };
    benchmark::RegisterBenchmark(name("primal").c_str(), [=](benchmark::State& state) {
      guarded(state, [&] {
        int iterations = 0;
        for (auto _ : state) {
          const auto solution = problem->solve(problem->q);
          iterations = solution.iterations;
          benchmark::DoNotOptimize(solution.x.data());
        }
        state.counters["solver_iterations"] = iterations;
      });
    });
    benchmark::RegisterBenchmark(name("implicit_fwd").c_str(), [=](benchmark::State& state) {
      guarded(state, [&] {
        using D = ift::Dual<double>;
        VectorX<D> qd(n);
        for (Eigen::Index i = 0; i < n; ++i) qd(i) = D(problem->q(i), problem->direction(i));
        double jvp = 0;
        int iterations = 0;
        for (auto _ : state) {
          const auto solution = problem->solve(qd);
          jvp = problem->loss(solution.x).v(0);
          iterations = solution.iterations;
        }
        ift::Tape tape;
        const double expected = problem->reverse_gradient(tape, iterations).dot(problem->direction);
        state.counters["solver_iterations"] = iterations;
        state.counters["grad_rel_err"] = std::abs(jvp - expected) / std::max(std::abs(expected), 1e-300);
      });
    });
    // A reverse method: `gradient(tape, iterations)` timed; its error against the closed form's unless
    // it is the closed form.
    const auto reverse = [&](const std::string& method, auto gradient_of) {
      benchmark::RegisterBenchmark(name(method).c_str(), [=](benchmark::State& state) {
        guarded(state, [&] {
          ift::Tape tape;
          Eigen::VectorXd gradient;
          int iterations = 0;
          for (auto _ : state) {
            gradient = ((*problem).*gradient_of)(tape, iterations);
            benchmark::DoNotOptimize(gradient.data());
          }
          state.counters["solver_iterations"] = iterations;
          state.counters["tape_bytes"] = static_cast<double>(tape.bytes());
          if (gradient_of != &RandomQP::reverse_gradient) {
            ift::Tape reference_tape;
            state.counters["grad_rel_err"] =
                relative_error(gradient, problem->reverse_gradient(reference_tape, iterations));
          }
        });
      });
    };
    reverse("implicit_rev", &RandomQP::reverse_gradient);
    benchmark::RegisterBenchmark(name("implicit_rev_kkt").c_str(), [=](benchmark::State& state) {
      guarded(state, [&] {
        ift::Tape tape;
        Eigen::VectorXd gradient;
        for (auto _ : state) {
          gradient = problem->kkt_gradient(tape);
          benchmark::DoNotOptimize(gradient.data());
        }
        int iterations = 0;
        ift::Tape reference_tape;
        state.counters["grad_rel_err"] =
            relative_error(gradient, problem->reverse_gradient(reference_tape, iterations));
      });
    });
    reverse("unrolled_rev", &RandomQP::unrolled_gradient);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_qp();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
