// Parameter trees with Dual and Var leaves: the tree's scalar, flatten/unflatten, value one
// level down, rebinding, and arithmetic leaves as constants.

#include <array>
#include <catch2/catch.hpp>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ift/dual.hpp"
#include "ift/tree.hpp"
#include "ift/var.hpp"

using ift::Dual;
using ift::Var;
using D = Dual<double>;
using DD = Dual<Dual<double>>;

namespace {

template <class T>
struct Para {
  T alpha;
  T beta;
};

template <class T>
struct Model {
  Eigen::Matrix<T, 2, 1> weights;
  Para<T> para;
};

}  // namespace

static_assert(ift::Tree<Para<D>> && ift::Tree<Para<Var>> && ift::Tree<Model<DD>>);
static_assert(ift::Tree<Eigen::Matrix<Dual<double, ift::Dynamic>, 3, 1>>);
static_assert(std::is_same_v<ift::tree_scalar_t<Para<D>>, D>);
static_assert(std::is_same_v<ift::tree_scalar_t<std::tuple<double, Model<Var>, float>>, Var>);
static_assert(std::is_same_v<ift::tree_scalar_t<std::pair<Eigen::Vector2d, std::array<DD, 2>>>, DD>);
static_assert(std::is_same_v<ift::rebind_t<double, Para<D>>, Para<double>>);
static_assert(std::is_same_v<ift::rebind_t<Var, Model<double>>, Model<Var>>);
static_assert(std::is_same_v<ift::rebind_t<D, Eigen::Matrix<Var, 2, 3, Eigen::RowMajor>>,
                             Eigen::Matrix<D, 2, 3, Eigen::RowMajor>>);

TEST_CASE("a Dual tree flattens, unflattens and goes one level down", "[tree]") {
  const Model<D> m{Eigen::Matrix<D, 2, 1>(D(1.0, 0.1), D(2.0, 0.2)), {D(3.0, 0.3), D(4.0, 0.4)}};
  const Eigen::VectorX<D> flat = ift::flatten(m);
  REQUIRE(flat.size() == 4);
  for (Eigen::Index i = 0; i < 4; ++i) {
    CHECK(flat(i).value() == static_cast<double>(i + 1));
    CHECK(flat(i).tangent()(0) == Approx(0.1 * static_cast<double>(i + 1)));
  }

  const Model<D> back = ift::unflatten(m, flat);
  CHECK(back.weights(1).value() == 2.0);
  CHECK(back.para.beta.tangent()(0) == Approx(0.4));

  const Model<double> v = ift::value(m);
  CHECK(v.weights == Eigen::Vector2d(1.0, 2.0));
  CHECK(v.para.alpha == 3.0);
  CHECK(v.para.beta == 4.0);

  // unflatten of plain values into the Dual structure gives a Model<double>.
  const Model<double> plain = ift::unflatten(m, Eigen::Vector4d(5, 6, 7, 8));
  CHECK(plain.para.beta == 8.0);
}

TEST_CASE("value of a nested Dual tree goes down exactly one level", "[tree]") {
  const Para<DD> p{DD(D(1.0, 2.0), D(3.0, 4.0)), DD(D(5.0, 6.0), D(7.0, 8.0))};
  const Para<D> down = ift::value(p);
  CHECK(down.alpha.value() == 1.0);
  CHECK(down.alpha.tangent()(0) == 2.0);
  CHECK(down.beta.value() == 5.0);
  CHECK(down.beta.tangent()(0) == 6.0);
  const Para<double> bottom = ift::value(down);
  CHECK(bottom.beta == 5.0);
}

TEST_CASE("arithmetic leaves of an AD tree are constants", "[tree]") {
  const std::tuple<double, Para<D>> t{2.5, {D(1.0, 1.0), D(3.0, -1.0)}};
  const Eigen::VectorX<D> flat = ift::flatten(t);
  REQUIRE(flat.size() == 3);
  CHECK(flat(0).value() == 2.5);
  CHECK(flat(0).tangent()(0) == 0.0);
  CHECK(flat(2).tangent()(0) == -1.0);

  const auto v = ift::value(t);
  static_assert(std::is_same_v<std::remove_const_t<decltype(v)>, std::tuple<double, Para<double>>>);
  CHECK(std::get<0>(v) == 2.5);
  CHECK(std::get<1>(v).beta == 3.0);

  // unflatten gives every leaf the vector's scalar, the double one included.
  const auto back = ift::unflatten(t, flat);
  static_assert(std::is_same_v<std::remove_const_t<decltype(back)>, std::tuple<D, Para<D>>>);
  CHECK(std::get<0>(back).value() == 2.5);
}

TEST_CASE("value of Eigen objects and expressions of Dual", "[tree]") {
  Eigen::Matrix<D, 2, 2> a;
  a << D(1.0, 1.0), D(2.0, 0.0), D(3.0, 0.0), D(4.0, 1.0);
  const Eigen::Matrix2d va = ift::value(a);
  CHECK(va == (Eigen::Matrix2d() << 1, 2, 3, 4).finished());
  const Eigen::Matrix2d vsum = ift::value(a + a);
  CHECK(vsum(1, 0) == 6.0);
  const Eigen::ArrayXd varray = ift::value(a.array().col(1));
  CHECK(varray(1) == 4.0);
}

TEST_CASE("rebind to Var records independent variables; value and zip read them back", "[tree]") {
  ift::Tape tape;
  const Para<double> p{2.0, 5.0};
  const Para<Var> pv = ift::rebind<Var>(p);
  const Var y = pv.alpha * pv.alpha * pv.beta;  // ∂y/∂α = 2αβ = 20, ∂y/∂β = α² = 4
  tape.backward(y);
  Para<double> grad{};
  ift::for_each_leaf(grad, pv, [&](double& g, const Var& leaf) { g = tape.adjoint(leaf); });
  CHECK(grad.alpha == 20.0);
  CHECK(grad.beta == 4.0);

  const Para<double> values = ift::value(pv);
  CHECK(values.alpha == 2.0);

  // A double leaf in a Var tree flattens to a constant, not to a new variable.
  const std::pair<Var, double> mixed{pv.beta, 7.0};
  const Eigen::VectorX<Var> flat = ift::flatten(mixed);
  CHECK_FALSE(flat(0).is_constant());
  CHECK(flat(1).is_constant());
  CHECK(flat(1).value() == 7.0);
  // The same at every nesting level: flattening records nothing on the tape.
  const std::size_t recorded = tape.size();
  const std::pair<Dual<Var>, double> nested{Dual<Var>(pv.alpha, Var::constant(1.0)), 7.0};
  const Eigen::VectorX<Dual<Var>> nested_flat = ift::flatten(nested);
  CHECK(nested_flat(1).value().is_constant());
  CHECK(nested_flat(1).value().value() == 7.0);
  CHECK(nested_flat(1).tangent()(0).is_constant());
  CHECK(tape.size() == recorded);

  // unflatten a vector of Var into the shape of a double tree.
  const Model<double> like{Eigen::Vector2d::Zero(), {0.0, 0.0}};
  Eigen::VectorX<Var> vars(4);
  vars << pv.alpha, pv.beta, y, Var::constant(1.0);
  const Model<Var> mv = ift::unflatten(like, vars);
  CHECK(mv.weights(1).value() == 5.0);
  CHECK(tape.gradient(mv.para.alpha, pv.alpha) == 20.0);
}
