#pragma once
// Parameter trees.
//
// A parameter θ is rarely one number: it is a struct of named coefficients, a weight matrix and a
// bias, a tuple of those. ift treats such a value as a tree whose leaves are scalars and gives
// it the few operations the implicit function theorem needs:
//
//   flatten(θ)            θ → (θ₁, …, θₙ) ∈ Sⁿ, leaves in a fixed order (the "flatten order");
//   unflatten(θ, v)       the inverse: the same structure, leaves taken from v in that order;
//   rebind<S>(θ)          the same structure with every leaf converted to the scalar S;
//   value(θ)              the same structure one AD level down (Dual<T> → T, Var → double);
//   for_each_leaf(θ, f)   f(θᵢ) for i = 1…n, and the two-tree form f(aᵢ, bᵢ).
//
// The IFT then works on the flat vectors: ∂x/∂θ is a matrix with one column per leaf. This header
// also completes `Tape::gradient(y, θ)` (ift/tape.hpp), which walks θ through `detail::TreeAccess`
// defined at the end.
//
// What is a tree:
//   * a leaf: any `ift::Scalar` (an arithmetic type, `Dual<T, N>`, `Var`);
//   * an `Eigen::Matrix` or `Eigen::Array` (fixed or dynamic size) of leaves, flattened in Eigen's
//     storage order (column by column unless RowMajor);
//   * any other Eigen dense expression (`Eigen::VectorXd::Zero(n)`, `a.cwiseProduct(b)`, `2.0 * v`, a
//     `Map` or a `Block`): the tree is its plain object (`.eval()`'s type, `plain_t`), and it is read
//     through one evaluation; the entry points evaluate such inputs once before they use them;
//   * `std::array<Tree, N>`, `std::vector<Tree>` (its length known at run time, like a dynamic Eigen
//     vector), `std::tuple<Trees...>`, `std::pair<Tree, Tree>`, element by element;
//   * an aggregate struct of 1 to 16 trees, field by field in declaration order, found without
//     macros (see "Aggregates" below);
//   * any type with a specialization of `ift::tree_traits` (see its documentation).
//
// All AD leaves of one tree have the same type (`tree_scalar_t`); arithmetic leaves are
// constants: they contribute no derivative, and `flatten` gives them a slot of that type holding
// their value (a `Var::constant`, a zero tangent), so `unflatten(like, flatten(t))` is `t` exactly.
//
// Aggregates are reflected the way Boost.PFR does it, written for this library: the number of
// fields is the largest n ≤ 16 for which `T{any, …, any}` (n converting placeholders) compiles,
// then one structured binding of that many names gives references to the fields. Not supported
// (specialize `tree_traits` instead): C arrays as fields (brace elision miscounts them), base
// classes with fields, reference fields, and field types whose converting constructor template
// accepts any argument. A struct template `P<X>` whose only template parameter is its leaf type
// (`template <class T> struct Para { T alpha; T beta; };`) rebinds to `P<S>`; any other aggregate
// rebinds only to its own leaf type (the identity) and otherwise needs `tree_traits`. A field that
// does not depend on the template parameter and holds only arithmetic leaves (`double total;` in
// `template <class T> struct Rates { T k1, k2; double total; };`) is a constant: `P<S>` keeps its type
// and rebinding copies its value (`Rates<Var>` → `Rates<double>` and back keep `double total`).
//
// Anything else is not a tree, and the entry points say so in one static assertion, in
// `detail::not_a_parameter_tree<Given, Part>`: the type given and the part of it that is not a tree.

#include <Eigen/Core>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "ift/detail/traits.hpp"

namespace ift {

/// Customization point that makes a user type a tree (and overrides the built-in rules for it).
///
/// A specialization (full, partial, or selected with the `Enable` parameter) provides
/// ```cpp
/// template <class T>
/// struct ift::tree_traits<Model<T>> {
///   static constexpr bool specialized = true;
///   // The children (each a tree), in flatten order, as a tuple of references. Called with
///   // `Model<T>&` and with `const Model<T>&`; std::tie keeps the constness.
///   template <class Self>
///   static auto members(Self& m) { return std::tie(m.weights, m.bias); }
///   // Only for rebind / unflatten / value: the type with leaf scalar S, and how to build it.
///   // `map(child)` returns the child rebound to S (`ift::rebind_t<S, Child>`).
///   template <class S>
///   using rebind = Model<S>;
///   template <class S, class Map>
///   static Model<S> rebind_from(const Model<T>& m, Map&& map) { return {map(m.weights), map(m.bias)}; }
/// };
/// ```
/// `members` is all that traversal (`for_each_leaf`, `flatten`, `tree_size`, `tree_scalar_t`)
/// needs; `rebind` and `rebind_from` are needed only by the operations that build a new tree.
template <class T, class Enable = void>
struct tree_traits {
  /// True in a user specialization; the primary template says "not a user tree".
  static constexpr bool specialized = false;
};

namespace detail {

/// How a tree type is traversed; `none` means "not a tree".
enum class TreeKind { none, leaf, eigen, expression, array, vector, tuple, aggregate, user };

template <class T>
struct is_eigen_plain : std::false_type {};
template <class S, int R, int C, int O, int MR, int MC>
struct is_eigen_plain<Eigen::Matrix<S, R, C, O, MR, MC>> : std::true_type {};
template <class S, int R, int C, int O, int MR, int MC>
struct is_eigen_plain<Eigen::Array<S, R, C, O, MR, MC>> : std::true_type {};

template <class T>
struct is_std_array : std::false_type {};
template <class E, std::size_t N>
struct is_std_array<std::array<E, N>> : std::true_type {};

/// `std::vector<E>` with the standard allocator; not `std::vector<bool>`, whose elements are proxies.
template <class T>
struct is_std_vector : std::false_type {};
template <class E>
requires(!std::is_same_v<E, bool>) struct is_std_vector<std::vector<E>> : std::true_type {
};

template <class T>
struct is_tuple_or_pair : std::false_type {};
template <class... Ts>
struct is_tuple_or_pair<std::tuple<Ts...>> : std::true_type {};
template <class A, class B>
struct is_tuple_or_pair<std::pair<A, B>> : std::true_type {};

template <class T>
concept UserTree = tree_traits<T>::specialized;

// ---- Aggregate reflection --------------------------------------------------------------------

/// Converts to any type. Only named in unevaluated contexts, to count aggregate initializers.
struct AnyField {
  template <class U>
  operator U() const;
};
template <std::size_t>
using AnyFieldAt = AnyField;

template <class T, std::size_t... I>
constexpr bool brace_initializable(std::index_sequence<I...>) {
  return requires { T{AnyFieldAt<I>{}...}; };
}

/// Number of fields of the aggregate T: the largest n for which T{any × n} compiles. Counting
/// down means no initializer list with missing fields is ever formed. 17 means "more than 16".
template <class T, std::size_t N = 17>
constexpr std::size_t field_count() {
  if constexpr (N == 0 || brace_initializable<T>(std::make_index_sequence<N>{}))
    return N;
  else
    return field_count<T, N - 1>();
}

/// References to the fields of the aggregate `t` (const when `Self` is), as a std::tuple.
template <class Self>
constexpr auto tie_fields(Self& t) {
  constexpr std::size_t n = field_count<std::remove_const_t<Self>>();
  static_assert(n >= 1 && n <= 16, "ift: aggregate trees have 1 to 16 fields; specialize ift::tree_traits");
  if constexpr (n == 1) {
    auto& [a] = t;
    return std::tie(a);
  } else if constexpr (n == 2) {
    auto& [a, b] = t;
    return std::tie(a, b);
  } else if constexpr (n == 3) {
    auto& [a, b, c] = t;
    return std::tie(a, b, c);
  } else if constexpr (n == 4) {
    auto& [a, b, c, d] = t;
    return std::tie(a, b, c, d);
  } else if constexpr (n == 5) {
    auto& [a, b, c, d, e] = t;
    return std::tie(a, b, c, d, e);
  } else if constexpr (n == 6) {
    auto& [a, b, c, d, e, f] = t;
    return std::tie(a, b, c, d, e, f);
  } else if constexpr (n == 7) {
    auto& [a, b, c, d, e, f, g] = t;
    return std::tie(a, b, c, d, e, f, g);
  } else if constexpr (n == 8) {
    auto& [a, b, c, d, e, f, g, h] = t;
    return std::tie(a, b, c, d, e, f, g, h);
  } else if constexpr (n == 9) {
    auto& [a, b, c, d, e, f, g, h, i] = t;
    return std::tie(a, b, c, d, e, f, g, h, i);
  } else if constexpr (n == 10) {
    auto& [a, b, c, d, e, f, g, h, i, j] = t;
    return std::tie(a, b, c, d, e, f, g, h, i, j);
  } else if constexpr (n == 11) {
    auto& [a, b, c, d, e, f, g, h, i, j, k] = t;
    return std::tie(a, b, c, d, e, f, g, h, i, j, k);
  } else if constexpr (n == 12) {
    auto& [a, b, c, d, e, f, g, h, i, j, k, l] = t;
    return std::tie(a, b, c, d, e, f, g, h, i, j, k, l);
  } else if constexpr (n == 13) {
    auto& [a, b, c, d, e, f, g, h, i, j, k, l, m] = t;
    return std::tie(a, b, c, d, e, f, g, h, i, j, k, l, m);
  } else if constexpr (n == 14) {
    auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_] = t;
    return std::tie(a, b, c, d, e, f, g, h, i, j, k, l, m, n_);
  } else if constexpr (n == 15) {
    auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_, o] = t;
    return std::tie(a, b, c, d, e, f, g, h, i, j, k, l, m, n_, o);
  } else {
    auto& [a, b, c, d, e, f, g, h, i, j, k, l, m, n_, o, p] = t;
    return std::tie(a, b, c, d, e, f, g, h, i, j, k, l, m, n_, o, p);
  }
}

// ---- Classification --------------------------------------------------------------------------

template <class T>
constexpr TreeKind kind_of();

/// The kind of T after removing references and cv-qualifiers.
template <class T>
inline constexpr TreeKind kind_v = kind_of<std::remove_cvref_t<T>>();

template <class Tuple, std::size_t... I>
constexpr bool all_trees(std::index_sequence<I...>) {
  return ((kind_v<std::tuple_element_t<I, Tuple>> != TreeKind::none) && ...);
}
template <class Tuple>
constexpr bool all_trees() {
  return all_trees<Tuple>(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

template <class T>
constexpr TreeKind kind_of() {
  if constexpr (UserTree<T>) {
    return TreeKind::user;
  } else if constexpr (Scalar<T>) {
    return TreeKind::leaf;
  } else if constexpr (is_eigen_plain<T>::value) {
    return Scalar<typename T::Scalar> ? TreeKind::eigen : TreeKind::none;
  } else if constexpr (std::is_base_of_v<Eigen::DenseBase<T>, T>) {
    return Scalar<typename T::Scalar> ? TreeKind::expression : TreeKind::none;
  } else if constexpr (is_std_array<T>::value) {
    return kind_v<typename T::value_type> != TreeKind::none ? TreeKind::array : TreeKind::none;
  } else if constexpr (is_std_vector<T>::value) {
    return kind_v<typename T::value_type> != TreeKind::none ? TreeKind::vector : TreeKind::none;
  } else if constexpr (is_tuple_or_pair<T>::value) {
    return all_trees<T>() ? TreeKind::tuple : TreeKind::none;
  } else if constexpr (std::is_class_v<T> && std::is_aggregate_v<T>) {
    constexpr std::size_t n = field_count<T>();
    if constexpr (n == 0 || n > 16)
      return TreeKind::none;
    else
      return all_trees<decltype(tie_fields(std::declval<T&>()))>() ? TreeKind::aggregate : TreeKind::none;
  } else {
    return TreeKind::none;
  }
}

/// The children of a tuple, aggregate or user tree as something std::get / std::apply accept:
/// the tuple itself, or a tuple of references to the fields / members.
template <class Self>
constexpr decltype(auto) children(Self& t) {
  using T = std::remove_const_t<Self>;
  if constexpr (kind_v<T> == TreeKind::user)
    return tree_traits<T>::members(t);
  else if constexpr (kind_v<T> == TreeKind::tuple)
    return (t);
  else
    return tie_fields(t);
}

template <class T>
using children_t = std::remove_cvref_t<decltype(children(std::declval<T&>()))>;

template <std::size_t I, class T>
using child_t = std::remove_cvref_t<std::tuple_element_t<I, children_t<T>>>;

}  // namespace detail

/// A parameter tree: a scalar leaf, an Eigen Matrix/Array or dense expression, std::array,
/// std::vector, std::tuple, std::pair, an aggregate struct of trees, or a type with a `tree_traits`
/// specialization.
template <class T>
concept Tree = (detail::kind_v<T> != detail::TreeKind::none);

namespace detail {

// ---- What is not a tree ----------------------------------------------------------------------

template <class T>
struct first_non_tree;

/// The index of the first false entry of `flags` (its size when there is none).
template <std::size_t N>
constexpr std::size_t first_false(const std::array<bool, N>& flags) {
  std::size_t i = 0;
  while (i < N && flags[i]) ++i;
  return i;
}

template <class Tuple, std::size_t... I>
auto first_non_tree_child(std::index_sequence<I...>) {
  using Children = std::tuple<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>...>;
  constexpr std::size_t i = first_false(
      std::array<bool, sizeof...(I)>{(kind_v<std::tuple_element_t<I, Tuple>> != TreeKind::none)...});
  if constexpr (i < sizeof...(I))
    return std::type_identity<typename first_non_tree<std::tuple_element_t<i, Children>>::type>{};
  else
    return std::type_identity<Tuple>{};
}

/// The innermost part of a type that is not a tree: an element, field or coefficient type, or the type
/// itself; named in the error so that a struct of twenty fields does not leave the user guessing.
template <class T>
struct first_non_tree {
  static auto find() {
    if constexpr (kind_v<T> != TreeKind::none) {
      return std::type_identity<void>{};
    } else if constexpr (std::is_base_of_v<Eigen::DenseBase<T>, T>) {
      return std::type_identity<typename T::Scalar>{};
    } else if constexpr (is_std_array<T>::value || is_std_vector<T>::value) {
      return std::type_identity<typename first_non_tree<typename T::value_type>::type>{};
    } else if constexpr (is_tuple_or_pair<T>::value) {
      return first_non_tree_child<T>(std::make_index_sequence<std::tuple_size_v<T>>{});
    } else if constexpr (std::is_class_v<T> && std::is_aggregate_v<T>) {
      if constexpr (field_count<T>() >= 1 && field_count<T>() <= 16) {
        using Fields = decltype(tie_fields(std::declval<T&>()));
        return first_non_tree_child<Fields>(std::make_index_sequence<std::tuple_size_v<Fields>>{});
      } else {
        return std::type_identity<T>{};
      }
    } else {
      return std::type_identity<T>{};
    }
  }
  using type = typename decltype(find())::type;
};

template <class T>
inline constexpr bool dependent_false = false;

/// Instantiated only for a type that is not a tree: its one static assertion is the error, and the
/// compiler's "in instantiation of" line names `Given` (the input) and `Part` (what in it is not a tree).
template <class Given, class Part>
struct not_a_parameter_tree {
  static_assert(
      dependent_false<Given>,
      "ift: this input is not a parameter tree (see not_a_parameter_tree<Given, Part> above: Given is "
      "the type passed, Part the piece of it that is not a tree). Accepted: a scalar (an arithmetic "
      "type, ift::Dual, ift::Var); an Eigen matrix, array or dense expression of scalars; "
      "std::array, std::vector, std::tuple or std::pair of trees; an aggregate struct of 1 to 16 "
      "trees; a type with an ift::tree_traits specialization");
  static constexpr bool value = true;  // the assertion above is the one error
};

// Instantiated for a type that is not a tree. The assertion sits one class deeper than the function
// that asks, so that compilers which give up on a class whose assertion failed still evaluate
// `require_tree` (to false) and report nothing more.
template <class T>
struct tree_check {
  static_assert(not_a_parameter_tree<T, typename first_non_tree<T>::type>::value);
};

/// True for a tree; for anything else one static assertion that names the type (see above).
template <class T>
constexpr bool require_tree() {
  if constexpr (Tree<T>)
    return true;
  else
    return sizeof(tree_check<std::remove_cvref_t<T>>) == 0;
}

// ---- Expressions in trees --------------------------------------------------------------------

template <class T>
struct plain_tree {
  using type = T;
};
template <class T>
requires(kind_v<T> == TreeKind::expression) struct plain_tree<T> {
  using type = typename T::PlainObject;
};
template <class... Ts>
struct plain_tree<std::tuple<Ts...>> {
  using type = std::tuple<typename plain_tree<Ts>::type...>;
};
template <class A, class B>
struct plain_tree<std::pair<A, B>> {
  using type = std::pair<typename plain_tree<A>::type, typename plain_tree<B>::type>;
};

}  // namespace detail

/// T with every Eigen expression in it (at the top, or an element of a tuple or pair) replaced by its
/// plain object, `.eval()`'s type; other trees are unchanged. What the entry points hand to user
/// functions: they see matrices, never expression templates.
template <class T>
using plain_t = typename detail::plain_tree<std::remove_cvref_t<T>>::type;

namespace detail {

/// `t` itself when it holds no expression (no copy), else `plain_t<T>(t)`: each expression evaluated
/// once (an expression of `Var`s records its operations once).
template <class T>
decltype(auto) evaluated(const T& t) {
  if constexpr (std::is_same_v<plain_t<T>, T>)
    return (t);
  else
    return plain_t<T>(t);
}

// ---- Traversal -------------------------------------------------------------------------------

template <class T, class F>
void visit_leaves(T& t, F& f) {
  constexpr TreeKind kind = kind_v<T>;
  if constexpr (kind == TreeKind::leaf) {
    f(t);
  } else if constexpr (kind == TreeKind::eigen) {
    // data() walks the coefficients in storage order, which is the flatten order.
    for (Eigen::Index i = 0; i < t.size(); ++i) f(t.data()[i]);
  } else if constexpr (kind == TreeKind::expression) {
    // Read through one evaluation, in the flatten order of the plain object: leaves are read-only.
    const typename std::remove_const_t<T>::PlainObject plain = t;
    visit_leaves(plain, f);
  } else if constexpr (kind == TreeKind::array || kind == TreeKind::vector) {
    for (auto& element : t) visit_leaves(element, f);
  } else {
    std::apply([&f](auto&... child) { (visit_leaves(child, f), ...); }, children(t));
  }
}

template <class A, class B, class F>
void zip_leaves(A& a, B& b, F& f);

template <class CA, class CB, class F, std::size_t... I>
void zip_children(CA&& a, CB&& b, F& f, std::index_sequence<I...>) {
  (zip_leaves(std::get<I>(a), std::get<I>(b), f), ...);
}

template <class A, class B, class F>
void zip_leaves(A& a, B& b, F& f) {
  constexpr TreeKind kind = kind_v<A>;
  if constexpr (kind == TreeKind::expression) {
    const typename std::remove_const_t<A>::PlainObject plain = a;
    zip_leaves(plain, b, f);
  } else if constexpr (kind_v<B> == TreeKind::expression) {
    const typename std::remove_const_t<B>::PlainObject plain = b;
    zip_leaves(a, plain, f);
  } else if constexpr (kind != kind_v<B>) {
    static_assert(kind == kind_v<B>, "ift: the two trees must have the same structure");
  } else if constexpr (kind == TreeKind::leaf) {
    f(a, b);
  } else if constexpr (kind == TreeKind::eigen) {
    if (a.rows() != b.rows() || a.cols() != b.cols())
      throw std::invalid_argument("ift: trees differ in the shape of an Eigen node (" +
                                  std::to_string(a.rows()) + "x" + std::to_string(a.cols()) + " vs " +
                                  std::to_string(b.rows()) + "x" + std::to_string(b.cols()) + ")");
    for (Eigen::Index i = 0; i < a.size(); ++i) f(a.data()[i], b.data()[i]);
  } else if constexpr (kind == TreeKind::array) {
    static_assert(std::tuple_size_v<std::remove_const_t<A>> == std::tuple_size_v<std::remove_const_t<B>>,
                  "ift: the two trees must have the same structure (std::array sizes differ)");
    for (std::size_t i = 0; i < a.size(); ++i) zip_leaves(a[i], b[i], f);
  } else if constexpr (kind == TreeKind::vector) {
    if (a.size() != b.size())
      throw std::invalid_argument("ift: trees differ in the length of a std::vector (" +
                                  std::to_string(a.size()) + " vs " + std::to_string(b.size()) + ")");
    for (std::size_t i = 0; i < a.size(); ++i) zip_leaves(a[i], b[i], f);
  } else {
    auto&& ca = children(a);
    auto&& cb = children(b);
    constexpr std::size_t n = std::tuple_size_v<std::remove_cvref_t<decltype(ca)>>;
    static_assert(n == std::tuple_size_v<std::remove_cvref_t<decltype(cb)>>,
                  "ift: the two trees must have the same structure (numbers of children differ)");
    zip_children(ca, cb, f, std::make_index_sequence<n>{});
  }
}

template <class T>
Eigen::Index leaf_count(const T& t) {
  constexpr TreeKind kind = kind_v<T>;
  if constexpr (kind == TreeKind::leaf) {
    return 1;
  } else if constexpr (kind == TreeKind::eigen || kind == TreeKind::expression) {
    return t.size();
  } else if constexpr (kind == TreeKind::array || kind == TreeKind::vector) {
    Eigen::Index n = 0;
    for (const auto& element : t) n += leaf_count(element);
    return n;
  } else {
    return std::apply([](const auto&... child) { return (Eigen::Index{0} + ... + leaf_count(child)); },
                      children(t));
  }
}

// ---- The scalar type of a tree ---------------------------------------------------------------

/// Joins the AD scalars of two subtrees; `double` stands for "no AD leaf yet".
template <class A, class B>
struct common_ad_scalar {
  static_assert(std::is_same_v<A, double> || std::is_same_v<B, double> || std::is_same_v<A, B>,
                "ift: all AD leaves of a parameter tree must share one scalar type");
  using type = std::conditional_t<std::is_same_v<A, double>, B, A>;
};

template <class T, TreeKind Kind = kind_v<T>>
struct tree_scalar {};

template <class... Ts>
struct fold_tree_scalar {
  using type = double;
};
template <class T, class... Rest>
struct fold_tree_scalar<T, Rest...> : common_ad_scalar<typename tree_scalar<std::remove_cvref_t<T>>::type,
                                                       typename fold_tree_scalar<Rest...>::type> {};

template <class Children>
struct children_scalar;
template <class... Ts>
struct children_scalar<std::tuple<Ts...>> : fold_tree_scalar<Ts...> {};
template <class A, class B>
struct children_scalar<std::pair<A, B>> : fold_tree_scalar<A, B> {};

template <class T>
struct tree_scalar<T, TreeKind::leaf> {
  using type = std::conditional_t<std::is_arithmetic_v<T>, double, T>;
};
template <class T>
struct tree_scalar<T, TreeKind::eigen> : tree_scalar<typename T::Scalar> {};
template <class T>
struct tree_scalar<T, TreeKind::expression> : tree_scalar<typename T::Scalar> {};
template <class T>
struct tree_scalar<T, TreeKind::array> : tree_scalar<typename T::value_type> {};
template <class T>
struct tree_scalar<T, TreeKind::vector> : tree_scalar<typename T::value_type> {};
template <class T>
struct tree_scalar<T, TreeKind::tuple> : children_scalar<children_t<T>> {};
template <class T>
struct tree_scalar<T, TreeKind::aggregate> : children_scalar<children_t<T>> {};
template <class T>
struct tree_scalar<T, TreeKind::user> : children_scalar<children_t<T>> {};

}  // namespace detail

/// The AD scalar of the tree's leaves (`Dual<…>` or `Var`), or `double` when every leaf is
/// arithmetic. Two different AD leaf types in one tree are a compile-time error.
template <class T>
using tree_scalar_t = typename detail::tree_scalar<std::remove_cvref_t<T>>::type;

namespace detail {

// ---- Rebinding -------------------------------------------------------------------------------

template <class S, class T, TreeKind Kind = kind_v<T>>
struct rebind_tree {};

}  // namespace detail

/// The tree type T with every leaf scalar replaced by S (`Para<Dual<double>>` → `Para<S>`,
/// `Eigen::Matrix<T, R, C, O, MR, MC>` → `Eigen::Matrix<S, R, C, O, MR, MC>`, scalar → S).
template <class S, class T>
using rebind_t = typename detail::rebind_tree<S, std::remove_cvref_t<T>>::type;

namespace detail {

template <class S, class T>
struct rebind_tree<S, T, TreeKind::leaf> {
  using type = S;
};

template <class S, class T>
struct rebind_eigen;
template <class S, class X, int R, int C, int O, int MR, int MC>
struct rebind_eigen<S, Eigen::Matrix<X, R, C, O, MR, MC>> {
  using type = Eigen::Matrix<S, R, C, O, MR, MC>;
};
template <class S, class X, int R, int C, int O, int MR, int MC>
struct rebind_eigen<S, Eigen::Array<X, R, C, O, MR, MC>> {
  using type = Eigen::Array<S, R, C, O, MR, MC>;
};
template <class S, class T>
struct rebind_tree<S, T, TreeKind::eigen> : rebind_eigen<S, T> {};

template <class S, class T>
struct rebind_tree<S, T, TreeKind::expression> : rebind_eigen<S, typename T::PlainObject> {};

template <class S, class E, std::size_t N>
struct rebind_tree<S, std::array<E, N>, TreeKind::array> {
  using type = std::array<rebind_t<S, E>, N>;
};
template <class S, class E>
struct rebind_tree<S, std::vector<E>, TreeKind::vector> {
  using type = std::vector<rebind_t<S, E>>;
};

template <class S, class... Ts>
struct rebind_tree<S, std::tuple<Ts...>, TreeKind::tuple> {
  using type = std::tuple<rebind_t<S, Ts>...>;
};
template <class S, class A, class B>
struct rebind_tree<S, std::pair<A, B>, TreeKind::tuple> {
  using type = std::pair<rebind_t<S, A>, rebind_t<S, B>>;
};

template <class S, class T>
struct rebind_tree<S, T, TreeKind::user> {
  using type = typename tree_traits<T>::template rebind<S>;
};

/// Candidate for an aggregate: `P<X>` → `P<S>` for a template of one type parameter, else T.
template <class S, class T>
struct rebind_aggregate {
  using type = T;
};
template <class S, template <class> class P, class X>
struct rebind_aggregate<S, P<X>> {
  using type = P<S>;
};

/// Whether `Field` is a constant of its struct: `Target` (the field of the rebound struct) has the
/// same type, and its leaves are arithmetic. Such a field keeps its type and its value.
template <class Field, class Target>
inline constexpr bool kept_field =
    std::is_same_v<Field, Target>&& std::is_same_v<tree_scalar_t<Field>, double>;

/// Whether a field of type `Field` becomes one of type `Target` when its struct is rebound to S.
template <class S, class Field, class Target>
inline constexpr bool field_rebinds_to =
    std::is_same_v<rebind_t<S, Field>, Target> || kept_field<Field, Target>;

template <class S, class T, class R, std::size_t... I>
constexpr bool fields_rebind_to(std::index_sequence<I...>) {
  return (field_rebinds_to<S, child_t<I, T>, child_t<I, R>> && ...);
}

/// Whether R is T with leaves S field by field: the candidate is only right if it is.
template <class S, class T, class R>
constexpr bool aggregate_rebinds_to() {
  if constexpr (kind_v<R> != TreeKind::aggregate) {
    return false;
  } else {
    constexpr std::size_t n = std::tuple_size_v<children_t<T>>;
    if constexpr (n != std::tuple_size_v<children_t<R>>)
      return false;
    else
      return fields_rebind_to<S, T, R>(std::make_index_sequence<n>{});
  }
}

template <class S, class T, class R, std::size_t... I>
auto first_field_not_rebound(std::index_sequence<I...>) {
  constexpr std::size_t i =
      first_false(std::array<bool, sizeof...(I)>{field_rebinds_to<S, child_t<I, T>, child_t<I, R>>...});
  return std::type_identity<child_t<i, T>>{};
}

/// Instantiated only when the aggregate `Aggregate` cannot be rebound to `S`: the compiler's "in
/// instantiation of" line names the struct, the scalar and the type of the first field in the way.
template <class Aggregate, class S, class Field>
struct cannot_rebind_field {
  static_assert(
      dependent_false<Field>,
      "ift: cannot rebind this aggregate to a new scalar (see cannot_rebind_field<Aggregate, S, Field> "
      "above): the field of type Field is neither rebound (only a struct template whose single type "
      "parameter is the leaf type, P<T> -> P<S>, rebinds automatically) nor a constant (a field of "
      "arithmetic leaves whose type does not depend on that parameter); specialize ift::tree_traits");
  static constexpr bool value = true;  // the assertion above is the one error
};

template <class S, class T>
struct rebind_tree<S, T, TreeKind::aggregate> {
  using type = typename rebind_aggregate<S, T>::type;
  static constexpr bool rebinds = aggregate_rebinds_to<S, T, type>();
  static auto first_field_in_the_way() {
    if constexpr (rebinds || kind_v<type> != TreeKind::aggregate ||
                  std::tuple_size_v<children_t<T>> != std::tuple_size_v<children_t<type>>)
      return std::type_identity<type>{};
    else
      return first_field_not_rebound<S, T, type>(
          std::make_index_sequence<std::tuple_size_v<children_t<T>>>{});
  }
  static_assert(std::conditional_t<
                rebinds, std::true_type,
                cannot_rebind_field<T, S, typename decltype(first_field_in_the_way())::type>>::value);
};

/// Whether the fields of T, an aggregate, rebind to S (other trees always rebind): a test that raises
/// no error, so that entry points can report an aggregate that cannot be rebound once.
template <class S, class T>
constexpr bool rebinds_to() {
  if constexpr (kind_v<T> == TreeKind::aggregate)
    return aggregate_rebinds_to<S, std::remove_cvref_t<T>,
                                typename rebind_aggregate<S, std::remove_cvref_t<T>>::type>();
  else
    return true;
}

/// `rebinds_to<S, T>()`, after the one static assertion that names the field in the way when it is false.
template <class S, class T>
constexpr bool require_rebinds_to() {
  if constexpr (rebinds_to<S, T>())
    return true;
  else
    return sizeof(rebind_tree<S, std::remove_cvref_t<T>>) == 0;
}

template <class S, class T, class Fn, std::size_t... I>
rebind_t<S, T> map_children(const T& t, Fn& fn, std::index_sequence<I...>);

/// Builds `rebind_t<S, T>` from `t`, each leaf mapped by `fn(leaf) -> S`. The order in which
/// `fn` is called is unspecified (a user `rebind_from` may map its members in any order).
template <class S, class T, class Fn>
rebind_t<S, T> map_leaves(const T& t, Fn& fn) {
  using R = rebind_t<S, T>;
  constexpr TreeKind kind = kind_v<T>;
  if constexpr (kind == TreeKind::leaf) {
    return fn(t);
  } else if constexpr (kind == TreeKind::eigen) {
    R out;
    out.resize(t.rows(), t.cols());
    for (Eigen::Index i = 0; i < t.size(); ++i) out.data()[i] = fn(t.data()[i]);
    return out;
  } else if constexpr (kind == TreeKind::expression) {
    return map_leaves<S>(typename T::PlainObject(t), fn);
  } else if constexpr (kind == TreeKind::array) {
    R out;
    for (std::size_t i = 0; i < t.size(); ++i) out[i] = map_leaves<S>(t[i], fn);
    return out;
  } else if constexpr (kind == TreeKind::vector) {
    R out;
    out.reserve(t.size());
    for (const auto& element : t) out.push_back(map_leaves<S>(element, fn));
    return out;
  } else if constexpr (kind == TreeKind::user) {
    return tree_traits<T>::template rebind_from<S>(
        t, [&fn](const auto& child) { return map_leaves<S>(child, fn); });
  } else {
    return map_children<S>(t, fn, std::make_index_sequence<std::tuple_size_v<children_t<T>>>{});
  }
}

/// Child I of a tuple or aggregate mapped into `Target`, the type of child I of the rebound tree: its
/// leaves mapped by `fn`, or a constant field (`kept_field`) copied.
template <class S, class Target, class Child, class Fn>
Target map_child(const Child& child, Fn& fn) {
  if constexpr (std::is_same_v<rebind_t<S, Child>, Target>)
    return map_leaves<S>(child, fn);
  else
    return child;
}

template <class S, class T, class Fn, std::size_t... I>
rebind_t<S, T> map_children(const T& t, Fn& fn, std::index_sequence<I...>) {
  using R = rebind_t<S, T>;
  auto&& fields = children(t);
  return R{map_child<S, child_t<I, R>>(std::get<I>(fields), fn)...};
}

}  // namespace detail

/// Calls `f(leaf)` for every leaf of `tree` in flatten order; leaves are mutable when `tree` is (and is
/// not an Eigen expression, which is read through one evaluation).
template <class F, class T>
requires Tree<T>
void for_each_leaf(T&& tree, F&& f) { detail::visit_leaves(tree, f); }

/// Calls `f(a_i, b_i)` for the leaves of two trees of the same structure (the leaf types may
/// differ), in flatten order. Eigen nodes of different shapes throw `std::invalid_argument`;
/// other structural differences do not compile.
template <class F, class T, class U>
requires Tree<T> && Tree<U>
void for_each_leaf(T&& a, U&& b, F&& f) { detail::zip_leaves(a, b, f); }

/// The number of leaves of `tree`.
template <class T>
requires Tree<T> Eigen::Index tree_size(const T& tree) { return detail::leaf_count(tree); }

/// `tree` with every leaf converted to S by `static_cast<S>(leaf)` (a plain conversion: use
/// `value` to go down an AD level). Returns `rebind_t<S, T>`.
template <class S, class T>
requires Scalar<S> && Tree<T>
auto rebind(const T& tree) {
  auto convert = [](const auto& leaf) { return static_cast<S>(leaf); };
  return detail::map_leaves<S>(tree, convert);
}

/// The leaves of `tree` in flatten order, as a vector of the tree's AD scalar (arithmetic leaves
/// become constants of it: `Var::constant` for `Var`, a zero tangent for `Dual`).
template <class T>
requires Tree<T> Eigen::Matrix < tree_scalar_t<T>, Eigen::Dynamic,
1 > flatten(const T& tree) {
  using S = tree_scalar_t<T>;
  Eigen::Matrix<S, Eigen::Dynamic, 1> flat(tree_size(tree));
  Eigen::Index k = 0;
  for_each_leaf(tree, [&](const auto& leaf) {
    if constexpr (!std::is_arithmetic_v<std::remove_cvref_t<decltype(leaf)>>)
      flat(k++) = leaf;
    else
      flat(k++) = detail::constant_of<S>(static_cast<double>(leaf));
  });
  return flat;
}

/// The tree with the structure (and Eigen sizes) of `like` and the leaves of the vector `flat`
/// in flatten order: `rebind_t<typename D::Scalar, T>`. Inverse of `flatten`. Throws
/// `std::invalid_argument` unless `flat` is a vector of `tree_size(like)` entries.
template <class T, class D>
requires Tree<T>
auto unflatten(const T& like, const Eigen::MatrixBase<D>& flat) {
  using S = typename D::Scalar;
  const auto& v = flat.eval();  // a reference for plain objects, a temporary for expressions
  const Eigen::Index n = tree_size(like);
  if ((v.rows() != 1 && v.cols() != 1) || v.size() != n)
    throw std::invalid_argument("ift: unflatten needs a vector of " + std::to_string(n) + " entries, got " +
                                std::to_string(v.rows()) + "x" + std::to_string(v.cols()));
  // Build the structure first (any leaf value will do), then assign the leaves in flatten order:
  // this keeps the order right whatever order a user's rebind_from builds members in.
  auto first = [&v](const auto&) -> S { return v(0); };
  auto out = detail::map_leaves<S>(like, first);
  Eigen::Index k = 0;
  for_each_leaf(out, [&](auto& leaf) {
    using L = std::remove_cvref_t<decltype(leaf)>;
    if constexpr (std::is_arithmetic_v<L> && !std::is_arithmetic_v<S>)
      leaf = static_cast<L>(detail::to_double(v(k++)));  // a constant field of an AD tree
    else
      leaf = static_cast<L>(v(k++));
  });
  return out;
}

/// The tree one AD level down: each leaf mapped by `value(leaf)` (`Dual<T, N>` → `T`,
/// `Var` → `double`, arithmetic leaves converted). Returns
/// `rebind_t<value_type_t<tree_scalar_t<T>>, T>` (an Eigen expression gives a plain object); scalars have
/// their own `value` overloads.
template <class T>
requires Tree<T> &&(!Scalar<T>)auto value(const T& tree) {
  using V = value_type_t<tree_scalar_t<T>>;
  auto down = [](const auto& leaf) -> V {
    if constexpr (ADScalar<decltype(leaf)>)
      return value(leaf);
    else
      return detail::constant_of<V>(static_cast<double>(leaf));
  };
  return detail::map_leaves<V>(tree, down);
}

namespace detail {

/// The traversal behind `Tape::gradient(y, tree)`. ift/tape.hpp sits a layer below trees, so it only
/// declares this template; the overload works wherever this header is included as well.
template <class T>
struct TreeAccess {
  static constexpr bool is_tree = Tree<T>;
  /// `f(leaf)` for every leaf, in flatten order.
  template <class F>
  static void for_each_leaf(const T& tree, F&& f) {
    visit_leaves(tree, f);
  }
  /// The tree rebound to S, each leaf mapped by `f(leaf) -> S`.
  template <class S, class F>
  static rebind_t<S, T> map_leaves(const T& tree, F&& f) {
    return detail::map_leaves<S>(tree, f);
  }
};

}  // namespace detail
}  // namespace ift
