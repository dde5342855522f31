// Parameter trees of arithmetic leaves: structure, flatten order, round trips, rebinding, and
// user types. Trees with Dual and Var leaves are tested in tree_ad.test.cpp.

#include "ift/tree.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace {

template <class T>
struct Para {
  T alpha;
  T beta;
};

template <class T>
struct Sixteen {
  T f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15;
};

template <class T>
struct Layer {
  Eigen::Matrix<T, 2, 2> weights;
  Eigen::Matrix<T, Eigen::Dynamic, 1> bias;
  Para<T> para;
  std::array<T, 2> extra;
};

// Not a template: only rebinds to its own leaf type.
struct Plain {
  double a;
  Eigen::Vector2d b;
};

struct WithString {
  double a;
  std::string name;
};

// A class with private state, made a tree by a tree_traits specialization.
template <class T>
class Polynomial {
 public:
  Polynomial() = default;
  Polynomial(Eigen::Matrix<T, 3, 1> coefficients, T shift) : coefficients_(coefficients), shift_(shift) {}
  /// c₀ + c₁ (x − s) + c₂ (x − s)²
  T operator()(T x) const {
    const T y = x - shift_;
    return coefficients_(0) + coefficients_(1) * y + coefficients_(2) * y * y;
  }
  const Eigen::Matrix<T, 3, 1>& coefficients() const { return coefficients_; }
  T shift() const { return shift_; }

 private:
  template <class, class>
  friend struct ift::tree_traits;
  Eigen::Matrix<T, 3, 1> coefficients_ = Eigen::Matrix<T, 3, 1>::Zero();
  T shift_ = T(0);
};

std::vector<double> leaves_of(const auto& tree) {
  std::vector<double> out;
  ift::for_each_leaf(tree, [&](const auto& leaf) { out.push_back(static_cast<double>(leaf)); });
  return out;
}

std::vector<double> vector_of(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }

}  // namespace

template <class T>
struct ift::tree_traits<Polynomial<T>> {
  static constexpr bool specialized = true;
  template <class Self>
  static auto members(Self& p) {
    return std::tie(p.coefficients_, p.shift_);
  }
  template <class S>
  using rebind = Polynomial<S>;
  template <class S, class Map>
  static Polynomial<S> rebind_from(const Polynomial<T>& p, Map&& map) {
    return Polynomial<S>(map(p.coefficients_), map(p.shift_));
  }
};

using ift::Tree;

static_assert(Tree<double> && Tree<float> && Tree<int>);
static_assert(Tree<Eigen::Vector3d> && Tree<Eigen::MatrixXd> && Tree<Eigen::ArrayXXf>);
static_assert(Tree<std::array<double, 3>> && Tree<std::pair<double, Eigen::VectorXd>>);
static_assert(Tree<std::tuple<std::array<Eigen::Vector2d, 2>, double>>);
static_assert(Tree<Para<double>> && Tree<const Para<double>&> && Tree<Sixteen<double>> &&
              Tree<Layer<double>>);
static_assert(Tree<Plain> && Tree<Polynomial<double>>);
static_assert(!Tree<std::string> && !Tree<WithString> && !Tree<double*> && Tree<std::vector<double>>);
static_assert(!Tree<std::tuple<double, std::string>> && !Tree<Para<std::string>>);

static_assert(std::is_same_v<ift::tree_scalar_t<Para<double>>, double>);
static_assert(std::is_same_v<ift::tree_scalar_t<std::tuple<float, int, Eigen::VectorXf>>, double>);

static_assert(std::is_same_v<ift::rebind_t<float, double>, float>);
static_assert(std::is_same_v<ift::rebind_t<float, Para<double>>, Para<float>>);
static_assert(std::is_same_v<ift::rebind_t<float, Layer<double>>, Layer<float>>);
static_assert(std::is_same_v<ift::rebind_t<float, Polynomial<double>>, Polynomial<float>>);
static_assert(std::is_same_v<ift::rebind_t<float, Eigen::Matrix<double, 2, 3, Eigen::RowMajor>>,
                             Eigen::Matrix<float, 2, 3, Eigen::RowMajor>>);
static_assert(std::is_same_v<ift::rebind_t<float, Eigen::ArrayXXd>, Eigen::ArrayXXf>);
static_assert(std::is_same_v<ift::rebind_t<float, std::pair<double, std::array<Eigen::Vector2d, 2>>>,
                             std::pair<float, std::array<Eigen::Vector2f, 2>>>);
static_assert(std::is_same_v<ift::rebind_t<double, Plain>, Plain>);

TEST_CASE("a scalar is a tree of one leaf", "[tree]") {
  CHECK(ift::tree_size(2.5) == 1);
  CHECK(vector_of(ift::flatten(2.5)) == std::vector<double>{2.5});
  const Eigen::VectorXd flat = Eigen::VectorXd::Constant(1, -4.0);
  const double back = ift::unflatten(2.5, flat);
  CHECK(back == -4.0);
  const float f = ift::rebind<float>(2.5);
  CHECK(f == 2.5f);
}

TEST_CASE("struct template Para flattens field by field and round-trips", "[tree]") {
  const Para<double> p{1.5, -2.0};
  CHECK(ift::tree_size(p) == 2);
  const Eigen::VectorXd flat = ift::flatten(p);
  CHECK(vector_of(flat) == std::vector<double>{1.5, -2.0});

  const Para<double> back = ift::unflatten(p, Eigen::Vector2d(7.0, 8.0));
  CHECK(back.alpha == 7.0);
  CHECK(back.beta == 8.0);
  const Para<double> same = ift::unflatten(p, flat);
  CHECK(same.alpha == p.alpha);
  CHECK(same.beta == p.beta);

  const Para<float> f = ift::rebind<float>(p);
  CHECK(f.alpha == 1.5f);
  CHECK(f.beta == -2.0f);
  // unflatten takes its scalar from the vector.
  const Para<float> g = ift::unflatten(p, Eigen::Vector2f(3.0f, 4.0f));
  CHECK(g.alpha == 3.0f);
  CHECK(g.beta == 4.0f);
}

TEST_CASE("a 16-field aggregate keeps declaration order", "[tree]") {
  Sixteen<double> s{};
  double next = 0.0;
  ift::for_each_leaf(s, [&](double& leaf) { leaf = next += 1.0; });
  CHECK(s.f0 == 1.0);
  CHECK(s.f7 == 8.0);
  CHECK(s.f15 == 16.0);
  CHECK(ift::tree_size(s) == 16);

  const Eigen::VectorXd flat = ift::flatten(s);
  CHECK(flat == Eigen::VectorXd::LinSpaced(16, 1.0, 16.0));
  const Eigen::VectorXd reversed = flat.reverse();
  const Sixteen<double> back = ift::unflatten(s, reversed);
  CHECK(back.f0 == 16.0);
  CHECK(back.f15 == 1.0);
  CHECK(ift::flatten(back) == reversed);

  const auto f = ift::rebind<float>(s);
  static_assert(std::is_same_v<decltype(f), const Sixteen<float>>);
  CHECK(f.f9 == 10.0f);
}

TEST_CASE("Eigen leaves flatten in storage order", "[tree]") {
  Eigen::MatrixXd col(2, 3);
  col << 1, 2, 3, 4, 5, 6;
  CHECK(vector_of(ift::flatten(col)) == std::vector<double>{1, 4, 2, 5, 3, 6});

  Eigen::Matrix<double, 2, 3, Eigen::RowMajor> row;
  row << 1, 2, 3, 4, 5, 6;
  CHECK(vector_of(ift::flatten(row)) == std::vector<double>{1, 2, 3, 4, 5, 6});

  const Eigen::MatrixXd col_back = ift::unflatten(col, Eigen::VectorXd::LinSpaced(6, 10.0, 15.0));
  CHECK(col_back.rows() == 2);
  CHECK(col_back.cols() == 3);
  CHECK(col_back(0, 0) == 10.0);
  CHECK(col_back(1, 0) == 11.0);
  CHECK(col_back(0, 1) == 12.0);
  CHECK(ift::unflatten(col, ift::flatten(col)) == col);
  CHECK(ift::unflatten(row, ift::flatten(row)) == row);

  const Eigen::Vector3d fixed(1.0, 2.0, 3.0);
  const Eigen::Vector3f fixed_f = ift::rebind<float>(fixed);
  CHECK(fixed_f == Eigen::Vector3f(1.0f, 2.0f, 3.0f));
  const Eigen::Vector3d fixed_back = ift::unflatten(fixed, ift::flatten(fixed));
  CHECK(fixed_back == fixed);

  Eigen::ArrayXXd array(2, 2);
  array << 1, 2, 3, 4;
  const Eigen::ArrayXXd array_back = ift::unflatten(array, Eigen::Vector4d(9, 8, 7, 6));
  CHECK(array_back(0, 0) == 9.0);
  CHECK(array_back(1, 0) == 8.0);
  CHECK(array_back(0, 1) == 7.0);
  CHECK(array_back(1, 1) == 6.0);

  const Eigen::VectorXd empty;
  CHECK(ift::tree_size(empty) == 0);
  CHECK(ift::flatten(empty).size() == 0);
  CHECK(ift::unflatten(empty, Eigen::VectorXd()).size() == 0);
}

TEST_CASE("nested tuple of array of Eigen vectors round-trips", "[tree]") {
  using Nested = std::tuple<std::array<Eigen::Vector2d, 2>, double, std::pair<Eigen::VectorXd, float>>;
  const Nested tree{
      {Eigen::Vector2d(1, 2), Eigen::Vector2d(3, 4)}, 5.0, {Eigen::VectorXd::Constant(3, 6.0), 7.0f}};
  CHECK(ift::tree_size(tree) == 9);
  CHECK(vector_of(ift::flatten(tree)) == std::vector<double>{1, 2, 3, 4, 5, 6, 6, 6, 7});
  CHECK(leaves_of(tree) == std::vector<double>{1, 2, 3, 4, 5, 6, 6, 6, 7});
}

TEST_CASE("nested tuple of array of Eigen vectors: unflatten and rebind", "[tree]") {
  using Nested = std::tuple<std::array<Eigen::Vector2d, 2>, double, std::pair<Eigen::VectorXd, double>>;
  const Nested tree{
      {Eigen::Vector2d(1, 2), Eigen::Vector2d(3, 4)}, 5.0, {Eigen::VectorXd::Constant(3, 6.0), 7.0}};
  const Eigen::VectorXd flat = Eigen::VectorXd::LinSpaced(9, -1.0, -9.0);
  const Nested back = ift::unflatten(tree, flat);
  CHECK(std::get<0>(back)[0] == Eigen::Vector2d(-1, -2));
  CHECK(std::get<0>(back)[1] == Eigen::Vector2d(-3, -4));
  CHECK(std::get<1>(back) == -5.0);
  CHECK(std::get<2>(back).first == Eigen::Vector3d(-6, -7, -8));
  CHECK(std::get<2>(back).second == -9.0);
  CHECK(ift::flatten(back) == flat);

  const auto f = ift::rebind<float>(tree);
  static_assert(
      std::is_same_v<std::remove_const_t<decltype(f)>,
                     std::tuple<std::array<Eigen::Vector2f, 2>, float, std::pair<Eigen::VectorXf, float>>>);
  CHECK(std::get<0>(f)[1] == Eigen::Vector2f(3, 4));
  CHECK(std::get<2>(f).first.size() == 3);
  CHECK(std::get<2>(f).second == 7.0f);
}

TEST_CASE("aggregate of Eigen, struct and array fields", "[tree]") {
  Layer<double> layer;
  layer.weights << 1, 2, 3, 4;
  layer.bias = Eigen::Vector3d(5, 6, 7);
  layer.para = {8, 9};
  layer.extra = {10, 11};
  CHECK(ift::tree_size(layer) == 11);
  CHECK(vector_of(ift::flatten(layer)) == std::vector<double>{1, 3, 2, 4, 5, 6, 7, 8, 9, 10, 11});

  const Eigen::VectorXd flat = 2.0 * ift::flatten(layer);
  const Layer<double> back = ift::unflatten(layer, flat);
  CHECK(back.weights(0, 1) == 4.0);
  CHECK(back.bias.size() == 3);
  CHECK(back.bias(2) == 14.0);
  CHECK(back.para.beta == 18.0);
  CHECK(back.extra[1] == 22.0);

  const Layer<float> f = ift::rebind<float>(layer);
  CHECK(f.weights(1, 0) == 3.0f);
  CHECK(f.bias(1) == 6.0f);
  CHECK(f.para.alpha == 8.0f);
  CHECK(f.extra[0] == 10.0f);
}

TEST_CASE("non-template aggregate rebinds to its own leaf type", "[tree]") {
  const Plain p{1.0, Eigen::Vector2d(2.0, 3.0)};
  const Plain back = ift::unflatten(p, Eigen::Vector3d(4.0, 5.0, 6.0));
  CHECK(back.a == 4.0);
  CHECK(back.b == Eigen::Vector2d(5.0, 6.0));
  const Plain copy = ift::rebind<double>(p);
  CHECK(copy.b == p.b);
}

TEST_CASE("a user class with tree_traits", "[tree]") {
  const Polynomial<double> p(Eigen::Vector3d(1.0, 2.0, 3.0), 0.5);
  CHECK(ift::tree_size(p) == 4);
  CHECK(vector_of(ift::flatten(p)) == std::vector<double>{1, 2, 3, 0.5});

  const Polynomial<double> q = ift::unflatten(p, Eigen::Vector4d(0.0, 1.0, 1.0, 1.0));
  // q(x) = (x − 1) + (x − 1)² at x = 3: 2 + 4.
  CHECK(q(3.0) == 6.0);
  CHECK(q.shift() == 1.0);

  const Polynomial<float> f = ift::rebind<float>(p);
  CHECK(f.coefficients() == Eigen::Vector3f(1.0f, 2.0f, 3.0f));
  CHECK(f.shift() == 0.5f);
  CHECK(f(1.5f) == Approx(p(1.5)));

  const Polynomial<double> v = ift::value(p);
  CHECK(v.coefficients() == p.coefficients());
}

TEST_CASE("for_each_leaf mutates in place and zips two trees", "[tree]") {
  Para<double> p{1.0, 2.0};
  ift::for_each_leaf(p, [](double& leaf) { leaf *= 10.0; });
  CHECK(p.alpha == 10.0);
  CHECK(p.beta == 20.0);

  const Para<double> cp = p;
  ift::for_each_leaf(
      cp, [](auto& leaf) { static_assert(std::is_const_v<std::remove_reference_t<decltype(leaf)>>); });

  Para<float> target{};
  ift::for_each_leaf(target, p, [](float& a, const double& b) { a = static_cast<float>(b) + 1.0f; });
  CHECK(target.alpha == 11.0f);
  CHECK(target.beta == 21.0f);

  using Pair = std::pair<Eigen::VectorXd, double>;
  const Pair a{Eigen::VectorXd::LinSpaced(3, 1.0, 3.0), 4.0};
  const Pair b{Eigen::VectorXd::LinSpaced(3, 10.0, 30.0), 40.0};
  double dot = 0.0;
  ift::for_each_leaf(a, b, [&](double x, double y) { dot += x * y; });
  CHECK(dot == 1 * 10 + 2 * 20 + 3 * 30 + 4 * 40);

  const Pair shorter{Eigen::VectorXd::Zero(2), 0.0};
  CHECK_THROWS_AS(ift::for_each_leaf(a, shorter, [](double, double) {}), std::invalid_argument);
}

TEST_CASE("unflatten rejects a vector of the wrong size", "[tree]") {
  const Para<double> p{1.0, 2.0};
  CHECK_THROWS_AS(ift::unflatten(p, Eigen::Vector3d(1, 2, 3)), std::invalid_argument);
  CHECK_THROWS_AS(ift::unflatten(p, Eigen::VectorXd(1)), std::invalid_argument);
  CHECK_THROWS_AS(ift::unflatten(p, Eigen::MatrixXd::Zero(2, 2)), std::invalid_argument);
  CHECK_THROWS_WITH(ift::unflatten(p, Eigen::Vector3d(1, 2, 3)),
                    Catch::Matchers::Contains("2 entries") && Catch::Matchers::Contains("3x1"));
  // A row vector of the right length is accepted.
  const Para<double> back = ift::unflatten(p, Eigen::RowVector2d(5.0, 6.0));
  CHECK(back.beta == 6.0);
}

TEST_CASE("value of an arithmetic tree is the tree itself", "[tree]") {
  const std::tuple<Para<double>, Eigen::Vector2d> t{{1.0, 2.0}, Eigen::Vector2d(3.0, 4.0)};
  const auto v = ift::value(t);
  static_assert(std::is_same_v<std::remove_const_t<decltype(v)>, std::tuple<Para<double>, Eigen::Vector2d>>);
  CHECK(std::get<0>(v).beta == 2.0);
  CHECK(std::get<1>(v) == Eigen::Vector2d(3.0, 4.0));

  const Eigen::Matrix2d m = Eigen::Matrix2d::Identity();
  const Eigen::Matrix2d twice = ift::value(2.0 * m);
  CHECK(twice(1, 1) == 2.0);
  CHECK(twice(0, 1) == 0.0);
}
