// Minimization: the hypergradient of a validation loss with respect to a regularization weight.
//
// ridge_minimize: w*(λ) = argmin_w 1/(2m)‖X w − y‖² + λ/2 ‖w‖² on m = 4p training samples with
// p = 10 and 100 features (L-BFGS from w = 0, λ = 0.1), and the validation loss
// V(λ) = 1/(2m)‖X_v w*(λ) − y_v‖² on as many held-out samples; θ = λ, so forward methods compute
// the whole (one-component) hypergradient dV/dλ. The implicit rule solves with the Hessian
// Xᵀ X/m + λI at w*: `implicit_fwd` and `implicit_rev` with the default (`Auto`: the Hessian formed
// below 32 features, conjugate gradients on Hessian-vector products from 32), `implicit_rev_dense`
// forms it (one reverse-over-forward pass per feature), `implicit_rev_gmres` and `implicit_rev_cg`
// apply it matrix-free (one such pass per product);
// unrolling differentiates every L-BFGS step and line search.
//
// Unrolled reverse mode on p = 100 records the forward-mode gradient of the objective (p/8 passes of
// m·p operations on `Dual<Var, 8>`) at every objective evaluation, gigabytes of tape over the
// solve: it runs for p = 10 only.

#include <memory>
#include <random>

#include "ift/minimize.hpp"
#include "implicit_support.hpp"

namespace {

struct Ridge {
  Eigen::MatrixXd features;
  Eigen::VectorXd targets;
  Eigen::MatrixXd validation_features;
  Eigen::VectorXd validation_targets;
  double theta = 0.1;
  Eigen::VectorXd start;
  ift::LBFGS solver{};

  explicit Ridge(Eigen::Index p) : start(Eigen::VectorXd::Zero(p)) {
    std::mt19937 random(31);
    std::normal_distribution<double> normal(0.0, 1.0);
    const auto gaussian = [&](Eigen::Index rows, Eigen::Index cols) {
      Eigen::MatrixXd m(rows, cols);
      for (Eigen::Index j = 0; j < cols; ++j)
        for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = normal(random);
      return m;
    };
    const Eigen::VectorXd truth = gaussian(p, 1);
    features = gaussian(4 * p, p);
    validation_features = gaussian(4 * p, p);
    targets = features * truth + 0.5 * Eigen::VectorXd(gaussian(4 * p, 1));
    validation_targets = validation_features * truth + 0.5 * Eigen::VectorXd(gaussian(4 * p, 1));
  }

  template <class P, class Adjoint>
  auto solve(const P& lambda, const Adjoint& adjoint) const {
    const auto objective = [this](const auto& w, const auto& l) {
      using S = typename std::decay_t<decltype(w)>::Scalar;
      const bench::VectorX<S> r = features * w - targets;
      return S(0.5 / static_cast<double>(features.rows()) * r.squaredNorm() + 0.5 * l * w.squaredNorm());
    };
    return ift::minimize(objective, start, lambda, solver, adjoint);
  }
  template <class X>
  auto loss(const X& w) const {
    using S = typename X::Scalar;
    const bench::VectorX<S> r = validation_features * w - validation_targets;
    return S(0.5 / static_cast<double>(validation_features.rows()) * r.squaredNorm());
  }
};

void register_ridge() {
  using bench::name;
  for (const long p : {10L, 30L, 100L}) {
    const auto problem = std::make_shared<const Ridge>(p);
    const bench::Reference reference = bench::dense_reference(problem);
    benchmark::RegisterBenchmark(name("ridge_minimize", "primal", p).c_str(),
                                 [=](benchmark::State& s) { bench::primal(s, *problem); });
    benchmark::RegisterBenchmark(name("ridge_minimize", "implicit_fwd", p).c_str(), [=](benchmark::State& s) {
      bench::forward<1>(s, *problem, ift::Implicit<>{}, reference);
    });
    benchmark::RegisterBenchmark(name("ridge_minimize", "implicit_rev", p).c_str(), [=](benchmark::State& s) {
      bench::reverse(s, *problem, ift::Implicit<>{}, reference);
    });
    benchmark::RegisterBenchmark(
        name("ridge_minimize", "implicit_rev_dense", p).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *problem, ift::Implicit<ift::DenseLU>{}, reference); });
    benchmark::RegisterBenchmark(
        name("ridge_minimize", "implicit_rev_gmres", p).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *problem, ift::Implicit<ift::GMRES>{}, reference); });
    benchmark::RegisterBenchmark(
        name("ridge_minimize", "implicit_rev_cg", p).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *problem, ift::Implicit<ift::CG>{}, reference); });
    benchmark::RegisterBenchmark(name("ridge_minimize", "unrolled_fwd", p).c_str(), [=](benchmark::State& s) {
      bench::forward<1>(s, *problem, ift::Unrolled{}, reference);
    });
    if (p <= 10)
      benchmark::RegisterBenchmark(
          name("ridge_minimize", "unrolled_rev", p).c_str(),
          [=](benchmark::State& s) { bench::reverse(s, *problem, ift::Unrolled{}, reference); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_ridge();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
