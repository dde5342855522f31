// The sparsity tracer, pattern detection, column coloring and compressed Jacobians.

#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <set>
#include <vector>

#include "ift/derivatives.hpp"
#include "ift/sparsity.hpp"

namespace {

using ift::Tracer;

std::vector<int> deps(const Tracer& t) {
  const auto& d = t.dependencies();
  return {d.begin(), d.end()};
}

/// The pattern with entry (i, j) exactly where `nonzero(i, j)`.
template <class Nonzero>
ift::SparsityPattern pattern_of(Eigen::Index m, Eigen::Index n, Nonzero nonzero) {
  ift::SparsityPattern p{m, n, {0}, {}};
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < m; ++i)
      if (nonzero(i, j)) p.inner.push_back(static_cast<int>(i));
    p.outer.push_back(static_cast<int>(p.inner.size()));
  }
  return p;
}

/// No two columns of one color share a row.
bool valid_coloring(const ift::SparsityPattern& p, const ift::ColumnColoring& c) {
  for (Eigen::Index i = 0; i < p.rows; ++i) {
    std::set<int> seen;
    for (Eigen::Index j = 0; j < p.cols; ++j)
      if (p.contains(i, j) && !seen.insert(c.color[j]).second) return false;
  }
  return true;
}

// Four structures, each a nonlinear function whose Jacobian has exactly the stated pattern at a
// generic point.

/// Band of half-width 2: fᵢ = sin(xᵢ) xᵢ₊₁ + exp(xᵢ₋₂) − xᵢ₋₁ xᵢ₊₂ / 3.
const auto banded = [](const auto& x) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  const Eigen::Index n = x.size();
  Eigen::VectorX<S> f(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    using std::exp;
    using std::sin;
    S fi = sin(x(i));
    if (i + 1 < n) fi *= x(i + 1);
    if (i >= 2) fi += exp(x(i - 2));
    if (i >= 1 && i + 2 < n) fi -= x(i - 1) * x(i + 2) / 3.0;
    f(i) = fi;
  }
  return f;
};
bool in_band(Eigen::Index i, Eigen::Index j, Eigen::Index n) {
  if (i == j) return true;
  if (j == i + 1) return true;
  if (j == i - 2) return true;
  return i >= 1 && i + 2 < n && (j == i - 1 || j == i + 2);
}

/// Block diagonal with 3 × 3 blocks (the last one smaller): each block a small dense system.
const auto blocks = [](const auto& x) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  const Eigen::Index n = x.size();
  Eigen::VectorX<S> f(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::Index first = i / 3 * 3, last = std::min(first + 3, n);
    S fi = 0.0;
    for (Eigen::Index j = first; j < last; ++j) {
      using std::tanh;
      fi += tanh(x(j) * double(i + 2 * j + 1));
    }
    f(i) = fi;
  }
  return f;
};

/// Arrow: f₀ depends on every x, fᵢ on xᵢ and x₀.
const auto arrow = [](const auto& x) {
  using S = typename std::decay_t<decltype(x)>::Scalar;
  const Eigen::Index n = x.size();
  Eigen::VectorX<S> f(n);
  using std::cos;
  f(0) = cos(x.squaredNorm());
  for (Eigen::Index i = 1; i < n; ++i) f(i) = x(i) * x(i) * x(0) + 1.0;
  return f;
};

/// Dense: a plain matrix times a nonlinear map (a mixed double × Tracer product in Eigen).
struct Dense {
  Eigen::MatrixXd A;
  template <class V>
  auto operator()(const V& x) const {
    return (A * x.array().sin().matrix()).eval();
  }
};

}  // namespace

TEST_CASE("the tracer propagates dependency sets by the chain rule's structure", "[sparsity]") {
  const Tracer a(0.5, 0), b(2.0, 3), c(-1.0, 1);
  CHECK(deps(a + b) == std::vector<int>{0, 3});
  CHECK(deps(a * b - c) == std::vector<int>{0, 1, 3});
  CHECK(deps(b / 2.0) == std::vector<int>{3});
  CHECK(deps(3.0 - b) == std::vector<int>{3});
  CHECK(deps(-(a * a)) == std::vector<int>{0});
  CHECK(deps(pow(a, c)) == std::vector<int>{0, 1});
  CHECK(deps(atan2(b, a)) == std::vector<int>{0, 3});
  CHECK(deps(exp(sin(a)) + log(b)) == std::vector<int>{0, 3});
  CHECK(deps(a * 0.0) == std::vector<int>{0});  // structural, not numerical
  CHECK(deps(floor(a) + ceil(b)).empty());      // locally constant
  CHECK(deps(max(a, c)) == std::vector<int>{0, 1});
  CHECK(deps(copysign(a, c)) == std::vector<int>{0});
  CHECK(deps(fma(a, b, c)) == std::vector<int>{0, 1, 3});
  Tracer d = a;
  d += b;
  d *= c;
  CHECK(deps(d) == std::vector<int>{0, 1, 3});
  // Operations update their left operand's copy in place: the operands stay as they were, and one on
  // both sides (e −= e) keeps its set.
  Tracer e = a * b;
  const Tracer f = e - c;
  CHECK((deps(e) == std::vector<int>{0, 3} && e.value() == 1.0));
  CHECK((deps(f) == std::vector<int>{0, 1, 3} && f.value() == 2.0));
  const Tracer& same = e;
  e -= same;
  CHECK((deps(e) == std::vector<int>{0, 3} && e.value() == 0.0));
  e /= 2.0;
  e += c * e;
  CHECK(deps(e) == std::vector<int>{0, 1, 3});
  // Values are carried exactly, so code may branch on them.
  CHECK((a * b - c).value() == 2.0);
  CHECK(a < b);
  CHECK(c < 0);
  CHECK(value(sqrt(b)) == std::sqrt(2.0));
  CHECK(isfinite(a));
  CHECK_FALSE(isnan(a));
}

TEST_CASE("dependency sets in a window and in a list join and compare alike", "[sparsity]") {
  // Sums of inputs with random overlaps, built up one input at a time, against std::set: joins cross
  // the span of 64 below which a set is a window (a smallest index and a mask) and from which it is a
  // sorted list, and equal sets compare equal however they were reached.
  std::vector<Tracer> inputs;
  for (int j = 0; j < 200; ++j) inputs.emplace_back(static_cast<double>(j), j);
  const auto sum = [&](const std::vector<int>& which) {
    Tracer t = 0.0;
    for (const int j : which) t += inputs[static_cast<std::size_t>(j)];
    return t;
  };
  const std::vector<std::vector<int>> groups = {{},
                                                {3},
                                                {0, 5, 9},
                                                {1, 2, 3, 4, 5, 6},
                                                {63},
                                                {0, 63},
                                                {64, 1},
                                                {130, 70, 199},
                                                {7, 8, 9, 10, 60, 61, 62, 127},
                                                {0, 1, 2, 3, 4, 5, 6, 7, 8, 70, 140}};
  for (const auto& x : groups)
    for (const auto& y : groups) {
      const Tracer t = sum(x) * sum(y);
      std::set<int> expected(x.begin(), x.end());
      expected.insert(y.begin(), y.end());
      INFO("sizes " << x.size() << " and " << y.size());
      CHECK(deps(t) == std::vector<int>(expected.begin(), expected.end()));
      CHECK(t.dependencies().size() == expected.size());
      CHECK(t.dependencies().empty() == expected.empty());
      CHECK(deps(t + t) == deps(t));
      CHECK(deps(sum(y) * sum(x)) == deps(t));
      CHECK(t.dependencies() == (sum(y) - sum(x)).dependencies());
    }
  // {0, 63} is a window of the largest span, {0, 64} a list; each joins with a list and a window.
  const Tracer widest = inputs[0] + inputs[63], listed = inputs[0] + inputs[64];
  CHECK(deps(widest + inputs[64]) == std::vector<int>{0, 63, 64});
  CHECK(deps(listed + widest) == std::vector<int>{0, 63, 64});
  CHECK(deps(inputs[120] + listed) == std::vector<int>{0, 64, 120});
  CHECK_FALSE(widest.dependencies() == listed.dependencies());
  // Assignment between the forms: a list over a window and back.
  const Tracer large = sum({0, 1, 2, 3, 4, 5, 6, 7, 8, 70, 140});
  Tracer t = inputs[2];
  t = large;
  CHECK(deps(t) == deps(large));
  t = inputs[5];
  CHECK(deps(t) == std::vector<int>{5});
  t = large;
  t *= inputs[21];
  CHECK(deps(t) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 21, 70, 140});
  const Tracer& same = t;
  t -= same;
  CHECK(deps(t) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 21, 70, 140});
  // Indices at the top of int's range (x of 2³¹ − 1 entries): windows and lists there too.
  constexpr int top = std::numeric_limits<int>::max() - 1;
  const Tracer last(1.0, top), near(2.0, top - 1), far(3.0, top - 70);
  CHECK(deps(last * near) == std::vector<int>{top - 1, top});
  CHECK(deps(far + last) == std::vector<int>{top - 70, top});
  CHECK(deps(near - (far + last)) == std::vector<int>{top - 70, top - 1, top});
}

TEST_CASE("a branch on a value gives the pattern of the branch taken", "[sparsity]") {
  const auto relu_mix = [](const auto& x) {
    using S = typename std::decay_t<decltype(x)>::Scalar;
    Eigen::VectorX<S> f(2);
    f(0) = x(0) > 0 ? S(x(0) * x(1)) : S(x(0));
    f(1) = x(1);
    return f;
  };
  CHECK(ift::sparsity_pattern(relu_mix, Eigen::Vector2d(1.0, 2.0)).nonzeros() == 3);
  CHECK(ift::sparsity_pattern(relu_mix, Eigen::Vector2d(-1.0, 2.0)).nonzeros() == 2);
}

TEST_CASE("a trace tells whether it read a traced value, and so could have branched on one", "[sparsity]") {
  const Eigen::Vector3d x(1.0, -2.0, 3.0);
  // Arithmetic, functions, constants and indices: no value read, the pattern holds everywhere.
  const auto smooth = [](const auto& v) {
    using S = typename std::decay_t<decltype(v)>::Scalar;
    Eigen::VectorX<S> f(3);
    f(0) = 2.0 * v(0) * exp(v(1));
    f(1) = sin(v(1)) / (1.0 + v(2) * v(2));
    f(2) = floor(v(2)) + v(0);
    return f;
  };
  const ift::detail::TracedPattern traced = ift::detail::trace_pattern(smooth, x);
  CHECK_FALSE(traced.read_values);
  CHECK(traced.pattern == ift::sparsity_pattern(smooth, x));
  CHECK(traced.pattern.nonzeros() == 5);
  // Each way code can learn a value marks the run.
  const auto reads = [&](auto read) {
    return ift::detail::trace_pattern(
               [&](const auto& v) {
                 auto f = smooth(v);
                 if (read(v)) f(0) += v(2);
                 return f;
               },
               x)
        .read_values;
  };
  CHECK(reads([](const auto& v) { return v(0) > 0.0; }));
  CHECK(reads([](const auto& v) { return v(0) == v(1); }));
  CHECK(reads([](const auto& v) { return std::max(v(0), v(1)) == v(0); }));
  CHECK(reads([](const auto& v) { return !isfinite(v(0)); }));
  CHECK(reads([](const auto& v) { return isnan(v(1)); }));
  CHECK(reads([](const auto& v) { return isinf(v(2)); }));
  CHECK(reads([](const auto& v) { return v(1).value() < 0.0; }));
  CHECK(reads([](const auto& v) { return ift::value(v(2)) < 0.0; }));
}

TEST_CASE("detected patterns equal the true ones", "[sparsity]") {
  for (const Eigen::Index n : {1, 2, 5, 17}) {
    const Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(n, 0.3, 1.7);
    INFO("n = " << n);
    CHECK(ift::sparsity_pattern(banded, x) ==
          pattern_of(n, n, [n](Eigen::Index i, Eigen::Index j) { return in_band(i, j, n); }));
    CHECK(ift::sparsity_pattern(blocks, x) ==
          pattern_of(n, n, [](Eigen::Index i, Eigen::Index j) { return i / 3 == j / 3; }));
    CHECK(ift::sparsity_pattern(arrow, x) ==
          pattern_of(n, n, [](Eigen::Index i, Eigen::Index j) { return i == 0 || j == 0 || i == j; }));
    const Dense dense{Eigen::MatrixXd::Random(n + 2, n)};
    CHECK(ift::sparsity_pattern(dense, x) ==
          pattern_of(n + 2, n, [](Eigen::Index, Eigen::Index) { return true; }));
  }
  // A scalar output and a fixed-size input.
  const auto norm = [](const auto& x) { return x.squaredNorm(); };
  const ift::SparsityPattern p = ift::sparsity_pattern(norm, Eigen::Vector3d(1, 2, 3));
  CHECK(p.rows == 1);
  CHECK(p.nonzeros() == 3);
  CHECK(p.density() == 1.0);
}

TEST_CASE("greedy coloring: valid, and optimal on bands and blocks", "[sparsity]") {
  const Eigen::Index n = 40;
  const Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(n, -0.4, 0.9);
  const auto check = [&](const ift::SparsityPattern& p, int expected) {
    const ift::ColumnColoring c = ift::color_columns(p);
    CHECK(valid_coloring(p, c));
    CHECK(c.colors == expected);
  };
  check(ift::sparsity_pattern(banded, x), 5);  // columns j and j + 5 never share a row
  check(ift::sparsity_pattern(blocks, x), 3);
  check(ift::sparsity_pattern(arrow, x), int(n));  // the dense row makes every pair conflict
  check(ift::sparsity_pattern(Dense{Eigen::MatrixXd::Random(3, n)}, x), int(n));
  check(pattern_of(4, 6, [](Eigen::Index, Eigen::Index) { return false; }), 1);
}

TEST_CASE("coloring a full band: the greedy order's colors, found in O(n)", "[sparsity]") {
  // The greedy order written out by brute force: each column the smallest color no earlier column
  // sharing a row with it holds.
  const auto greedy = [](const ift::SparsityPattern& p) {
    std::vector<int> color(static_cast<std::size_t>(p.cols), -1);
    for (Eigen::Index j = 0; j < p.cols; ++j) {
      std::vector<bool> taken(static_cast<std::size_t>(p.cols) + 1, false);
      for (Eigen::Index k = 0; k < j; ++k)
        for (Eigen::Index i = 0; i < p.rows; ++i)
          if (p.contains(i, j) && p.contains(i, k)) taken[static_cast<std::size_t>(color[k])] = true;
      int c = 0;
      while (taken[static_cast<std::size_t>(c)]) ++c;
      color[static_cast<std::size_t>(j)] = c;
    }
    return color;
  };
  for (const Eigen::Index n : {1, 2, 3, 7, 12})
    for (const Eigen::Index kl : {0, 1, 2, 4})
      for (const Eigen::Index ku : {0, 1, 3}) {
        INFO("n = " << n << ", kl = " << kl << ", ku = " << ku);
        const auto in = [&](Eigen::Index i, Eigen::Index j) { return i - j <= kl && j - i <= ku; };
        const ift::SparsityPattern full = pattern_of(n, n, in);
        const ift::ColumnColoring c = ift::color_columns(full);
        CHECK(c.color == greedy(full));
        CHECK(c.colors == std::min(kl + ku + 1, n));
        CHECK(valid_coloring(full, c));
        // One entry short of the band: the general search, still the greedy order.
        const ift::SparsityPattern gap = pattern_of(
            n, n, [&](Eigen::Index i, Eigen::Index j) { return in(i, j) && !(i == n - 1 && j == n - 1); });
        CHECK(ift::color_columns(gap).color == greedy(gap));
        CHECK(valid_coloring(gap, ift::color_columns(gap)));
      }
}

TEST_CASE("compressed Jacobians equal dense ones", "[sparsity]") {
  for (const Eigen::Index n : {1, 3, 10, 33}) {
    INFO("n = " << n);
    const Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(n, 0.2, 1.1);
    const auto same = [&](const auto& f) {
      const Eigen::SparseMatrix<double> J = ift::sparse_jacobian(f, x);
      const Eigen::MatrixXd reference = ift::jacobian(f, x);
      CHECK(J.rows() == reference.rows());
      CHECK((Eigen::MatrixXd(J) - reference).cwiseAbs().maxCoeff() <=
            1e-15 * (1.0 + reference.cwiseAbs().maxCoeff()));
    };
    same(banded);
    same(blocks);
    same(arrow);
    same(Dense{Eigen::MatrixXd::Random(n + 1, n)});
  }
}

TEST_CASE("a compressed Jacobian of the wrong shape is an error", "[sparsity]") {
  const Eigen::VectorXd x = Eigen::VectorXd::Ones(4);
  const ift::SparsityPattern p = ift::sparsity_pattern(banded, x);
  const ift::ColumnColoring c = ift::color_columns(p);
  CHECK_THROWS_AS(ift::sparse_jacobian(banded, Eigen::VectorXd::Ones(5), p, c), std::invalid_argument);
  const auto longer = [](const auto& v) {
    using S = typename std::decay_t<decltype(v)>::Scalar;
    Eigen::VectorX<S> out(v.size() + 1);
    out << v, v(0);
    return out;
  };
  CHECK_THROWS_WITH(ift::sparse_jacobian(longer, x, p, c),
                    Catch::Matchers::Contains("the pattern has 4 rows"));
}
