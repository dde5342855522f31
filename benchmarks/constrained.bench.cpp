// Composite minimization: the hypergradient of a validation loss with respect to the lasso penalty.
//
// lasso_composite: w*(ρ) = argmin_w 1/(2m)‖X w − y‖² + e^ρ ‖w‖₁ on m = 2p training samples with
// p = 20 and 100 features, a sparse truth (every fourth weight), ρ = log 0.05, solved by
// ProximalGradient (FISTA with restarts) from w = 0; the validation loss is
// V(ρ) = 1/(2m)‖X_v w*(ρ) − y_v‖² on as many held-out samples. The implicit rule solves once with
// the Jacobian of the proximal-gradient conditions w − prox(w − ∇f(w)) at w*; unrolling records
// every FISTA step and backtracking trial.
//
// Unrolled reverse mode records the forward-mode gradient of f (p/8 passes of m·p operations on
// `Dual<Var, 8>`) at every evaluation, hundreds of megabytes of tape over the solve for p = 100: it
// runs for p = 20 only, as in implicit_minimize.

#include <cmath>
#include <memory>
#include <random>

#include "ift/minimize_composite.hpp"
#include "implicit_support.hpp"

namespace {

struct Lasso {
  Eigen::MatrixXd features;
  Eigen::VectorXd targets;
  Eigen::MatrixXd validation_features;
  Eigen::VectorXd validation_targets;
  double theta = std::log(0.05);
  Eigen::VectorXd start;
  ift::ProximalGradient solver{};

  explicit Lasso(Eigen::Index p) : start(Eigen::VectorXd::Zero(p)) {
    std::mt19937 random(17);
    std::normal_distribution<double> normal(0.0, 1.0);
    const auto gaussian = [&](Eigen::Index rows, Eigen::Index cols) {
      Eigen::MatrixXd m(rows, cols);
      for (Eigen::Index j = 0; j < cols; ++j)
        for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = normal(random);
      return m;
    };
    Eigen::VectorXd truth = Eigen::VectorXd::Zero(p);
    for (Eigen::Index j = 0; j < p; j += 4) truth(j) = normal(random);
    features = gaussian(2 * p, p);
    validation_features = gaussian(2 * p, p);
    targets = features * truth + 0.5 * Eigen::VectorXd(gaussian(2 * p, 1));
    validation_targets = validation_features * truth + 0.5 * Eigen::VectorXd(gaussian(2 * p, 1));
  }

  template <class P, class Adjoint>
  auto solve(const P& rho, const Adjoint& adjoint) const {
    const auto smooth = [this](const auto& w, const auto&) {
      using S = typename std::decay_t<decltype(w)>::Scalar;
      const bench::VectorX<S> r = features * w - targets;
      return S(0.5 / static_cast<double>(features.rows()) * r.squaredNorm());
    };
    // Soft thresholding by η e^ρ.
    const auto prox = [](const auto& v, const auto& eta, const auto& r) {
      using S = typename std::decay_t<decltype(v)>::Scalar;
      using std::exp;
      const S t = eta * exp(r);
      bench::VectorX<S> out(v.size());
      for (Eigen::Index i = 0; i < v.size(); ++i)
        out(i) = v(i) > t ? S(v(i) - t) : (v(i) < -t ? S(v(i) + t) : S(0.0 * t));
      return out;
    };
    return ift::minimize_composite(smooth, prox, start, rho, solver, adjoint);
  }
  template <class X>
  auto loss(const X& w) const {
    using S = typename X::Scalar;
    const bench::VectorX<S> r = validation_features * w - validation_targets;
    return S(0.5 / static_cast<double>(validation_features.rows()) * r.squaredNorm());
  }
};

void register_lasso() {
  using bench::name;
  for (const long p : {20L, 100L}) {
    const auto problem = std::make_shared<const Lasso>(p);
    const bench::Reference reference = bench::dense_reference(problem);
    benchmark::RegisterBenchmark(name("lasso_composite", "primal", p).c_str(),
                                 [=](benchmark::State& s) { bench::primal(s, *problem); });
    benchmark::RegisterBenchmark(
        name("lasso_composite", "implicit_rev", p).c_str(),
        [=](benchmark::State& s) { bench::reverse(s, *problem, ift::Implicit<>{}, reference); });
    benchmark::RegisterBenchmark(
        name("lasso_composite", "implicit_fwd", p).c_str(),
        [=](benchmark::State& s) { bench::forward<1>(s, *problem, ift::Implicit<>{}, reference); });
    if (p <= 20)
      benchmark::RegisterBenchmark(
          name("lasso_composite", "unrolled_rev", p).c_str(),
          [=](benchmark::State& s) { bench::reverse(s, *problem, ift::Unrolled{}, reference); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_lasso();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
