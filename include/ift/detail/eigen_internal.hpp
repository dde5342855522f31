#pragma once
// Every specialization of Eigen's internal classes for ift's scalars, in one place.
//
// Eigen's public traits (NumTraits, ScalarBinaryOpTraits) sit beside each scalar. What they cannot
// express is here. Eigen 3.4's product kernels assume that an entry of a product has the scalar type
// of one operand, true for the real × complex products Eigen supports but not for a plain matrix times
// an AD one, whose entries are AD scalars. And its pivot searches score entries in the scalar type
// itself, which for `Var` puts every score on the tape.
//
// Products of a constant matrix W (`double` entries) with AD entries X take the whole block at once,
// for matrix × vector, vectorᵀ × matrix and matrix × matrix products that Eigen does not compute
// coefficient by coefficient (dynamic or large fixed sizes):
// * X of `Var`: one node on the tape holding a copy of W, swept by one dense product X̄ += Wᵀ Ȳ
//   (`Tape::record_block`), where scalar statements would store 12 bytes per term and scatter
//   m·k·c updates;
// * X of `Dual<T, N>` with N fixed and T `double`, `Var` or such a dual again: W times the value
//   plane and the N tangent planes side by side, one product with T entries (so `Dual<Var, N>`, the
//   scalar of reverse-over-forward Hessians, records one block node).
// Both give the numbers of the entry-by-entry products up to rounding. Where both operands vary
// (a `Var` matrix times a `Var` vector), every entry is still recorded as scalar operations.
//
// Eigen versions
// --------------
// The classes specialized here are Eigen internals, whose members and signatures change between
// releases (the development branch, 3.4.90 and later, renames members of blas_traits). They were
// written against Eigen 3.4 and are compiled for 3.4.x only. Defining IFT_EIGEN_INTERNALS to 0 or 1
// before any ift header overrides that choice (1 on another version may not compile); it must have
// the same value in every translation unit of a program. Without them, nothing computes a different
// number:
// * LU decompositions and full-pivoting QR of `Var` matrices score the candidate pivots as `Var`s:
//   a statement per entry scanned and a few variables per column on the tape, with the same pivots,
//   values and derivatives.
// * A product of a plain matrix and an AD matrix (`Var`, `Dual`, `Tracer`) of dynamic size, or of
//   fixed sizes too large for Eigen's coefficient-based product, and an AD matrix times a plain
//   vector (on either side) do not compile: Eigen's kernels would store an AD product in a plain
//   scalar. Eigen's coefficient-based product `a.lazyProduct(b)` compiles for all sizes and gives
//   the same values.
//
// The scalar headers include this one before they define their scalar, so here `Var`, `Dual` and
// `Tracer` are only declared (ift/detail/traits.hpp). Every specialization is a template whose uses of
// them depend on a template parameter: they are compiled where Eigen instantiates it, when the
// scalars are complete.

#include <cmath>
#include <cstddef>
#include <type_traits>

#include <Eigen/Core>

#include "ift/detail/traits.hpp"

#ifndef IFT_EIGEN_INTERNALS
#if EIGEN_VERSION_AT_LEAST(3, 4, 0) && !EIGEN_VERSION_AT_LEAST(3, 4, 90)
#define IFT_EIGEN_INTERNALS 1
#else
#define IFT_EIGEN_INTERNALS 0
#endif
#endif

#if IFT_EIGEN_INTERNALS

namespace ift::detail {

struct Recorder;  // ift/var.hpp: the recording entry points of `Var`

/// One of two scalar types is a `Dual<T, N>` and the other its value type or its plain scalar.
template <class A, class B>
concept MixedDualScalars = (is_dual_v<A> && !is_dual_v<B> &&
                            (std::is_same_v<B, value_type_t<A>> || std::is_same_v<B, base_scalar_t<A>>)) ||
                           (is_dual_v<B> && !is_dual_v<A> &&
                            (std::is_same_v<A, value_type_t<B>> || std::is_same_v<A, base_scalar_t<B>>));

/// Eigen expressions `Lhs` and `Rhs` whose product mixes a dual scalar with a plain one.
template <class Rhs, class Lhs>
concept MixedDualOperand = MixedDualScalars<typename Lhs::Scalar, typename Rhs::Scalar>;

/// A matrix-vector product of a dual matrix and a plain vector (either order).
template <class Rhs, class Lhs>
concept PlainVectorOperand = MixedDualOperand<Rhs, Lhs> &&
    !is_dual_v<typename std::conditional_t<Lhs::IsVectorAtCompileTime, Lhs, Rhs>::Scalar>;

/// Eigen expressions `Lhs` and `Rhs` whose product mixes a tracer with an arithmetic scalar.
template <class Rhs, class Lhs>
concept MixedTracerOperand = (is_tracer_v<typename Lhs::Scalar> &&
                              std::is_arithmetic_v<typename Rhs::Scalar>) ||
                             (is_tracer_v<typename Rhs::Scalar> &&
                              std::is_arithmetic_v<typename Lhs::Scalar>);

/// A product of a plain and an AD matrix computed as a product of two AD matrices: the plain operand
/// is converted first, one pass over it and small next to the product, and Eigen's kernels then
/// multiply matrices of one scalar type.
template <class Lhs, class Rhs>
struct PromotedProduct : Eigen::internal::generic_product_impl_base<Lhs, Rhs, PromotedProduct<Lhs, Rhs>> {
  using Scalar = typename Eigen::Product<Lhs, Rhs>::Scalar;

  template <class Dest>
  static void scaleAndAddTo(Dest& dst, const Lhs& lhs, const Rhs& rhs, const Scalar& alpha) {
    dst.noalias() += alpha * (promoted(lhs) * promoted(rhs));
  }

 private:
  template <class X>
  static decltype(auto) promoted(const X& x) {
    if constexpr (std::is_same_v<typename X::Scalar, Scalar>)
      return (x);
    else
      return x.template cast<Scalar>();
  }
};

/// One operand's scalar is `double` and the other's `Var`.
template <class Rhs, class Lhs>
concept VarDoubleOperand = (std::is_same_v<typename Lhs::Scalar, double> && is_var_v<typename Rhs::Scalar>) ||
                           (is_var_v<typename Lhs::Scalar> && std::is_same_v<typename Rhs::Scalar, double>);

/// Whether a `double` matrix times entries of S is computed as a block: `Var` (one node on the tape),
/// and `Dual<T, N>` with N fixed whose planes T are `double` or again such a scalar (`Dual<Var, N>`,
/// the reverse-over-forward scalar of Hessians; `Dual<Dual<double, N>, M>`).
template <class S>
inline constexpr bool has_block_product = is_var_v<S>;
template <class T, int N>
inline constexpr bool has_block_product<Dual<T, N>> = N != Eigen::Dynamic &&
                                                      (std::is_same_v<T, double> || has_block_product<T>);

/// Whether D is a dual scalar whose products with a `double` matrix are blocks.
template <class D>
inline constexpr bool is_block_dual = is_dual_v<D>&& has_block_product<D>;

/// One operand's scalar is `double` and the other's a dual with block products.
template <class Rhs, class Lhs>
concept DualBlockOperand = (std::is_same_v<typename Lhs::Scalar, double> &&
                            is_block_dual<typename Rhs::Scalar>) ||
                           (is_block_dual<typename Lhs::Scalar> &&
                            std::is_same_v<typename Rhs::Scalar, double>);

/// The mixed dual products that promote the plain operand: all but the block products.
template <class Rhs, class Lhs>
concept PromotedDualOperand = MixedDualOperand<Rhs, Lhs> && !DualBlockOperand<Rhs, Lhs>;
template <class Rhs, class Lhs>
concept PromotedVectorOperand = PlainVectorOperand<Rhs, Lhs> && !DualBlockOperand<Rhs, Lhs>;

/// X itself when its entries are stored (a plain object, block, transpose or Map: reading them
/// computes and records nothing), otherwise X evaluated once.
template <class X>
decltype(auto) stored_entries(const X& x) {
  if constexpr ((Eigen::internal::traits<X>::Flags & Eigen::DirectAccessBit) != 0)
    return (x);
  else
    return typename X::PlainObject(x);
}

/// Products of a constant matrix and an AD one computed as whole blocks: the AD operand X is read
/// once, the constant W is applied by one of Eigen's `double` products, and the result is written
/// entry by entry. `Kernel::left(w, x, y)` computes Y = W·X; X·W is computed as (Wᵀ·Xᵀ)ᵀ. Eigen's
/// operations around the product (`+=`, `-=`, a scale factor α) act on its evaluated result.
template <class Lhs, class Rhs, class Kernel>
struct BlockProduct {
  using Scalar = typename Eigen::Product<Lhs, Rhs>::Scalar;
  using Plain = typename Eigen::Product<Lhs, Rhs>::PlainObject;

  template <class Dst>
  static void evalTo(Dst& dst, const Lhs& lhs, const Rhs& rhs) {
    if constexpr (std::is_same_v<typename Lhs::Scalar, double>) {
      Kernel::left(lhs, stored_entries(rhs), dst);
    } else {
      auto transposed = dst.transpose();
      Kernel::left(rhs.transpose(), stored_entries(lhs).transpose(), transposed);
    }
  }
  template <class Dst>
  static void addTo(Dst& dst, const Lhs& lhs, const Rhs& rhs) {
    dst += evaluated(lhs, rhs);
  }
  template <class Dst>
  static void subTo(Dst& dst, const Lhs& lhs, const Rhs& rhs) {
    dst -= evaluated(lhs, rhs);
  }
  template <class Dst>
  static void scaleAndAddTo(Dst& dst, const Lhs& lhs, const Rhs& rhs, const Scalar& alpha) {
    dst += alpha * evaluated(lhs, rhs);
  }

 private:
  static Plain evaluated(const Lhs& lhs, const Rhs& rhs) {
    Plain p(lhs.rows(), rhs.cols());
    evalTo(p, lhs, rhs);
    return p;
  }
};

/// Y = W·X with X of `Var`: one block node on the tape (`Tape::record_block`). `Record` is
/// `Recorder`, as a parameter so that its use is compiled where Eigen instantiates the product.
template <class Record = Recorder>
struct VarBlockKernel {
  template <class W, class X, class Y>
  static void left(const W& w, const X& x, Y& y) {
    Record::block_product(w, x, y);
  }
};

/// Y = W·X with X of `Dual<T, N>`: the value plane and the N tangent planes of X side by side,
/// [Xₐ | X₁ … X_N] column by column, times W in one product of W with T entries (a dense `double`
/// product, one block node for `Var`, or this kernel again for a nested dual); Yₐ = W Xₐ and
/// Yₜ = W Xₜ are the same sums as the entry-by-entry dual products, in the same order up to rounding.
struct DualBlockKernel {
  template <class W, class X, class Y>
  static void left(const W& w, const X& x, Y& y) {
    using D = typename X::Scalar;
    using Planes = Eigen::Matrix<typename D::value_type, Eigen::Dynamic, Eigen::Dynamic>;
    constexpr Eigen::Index n = D::tangent_type::SizeAtCompileTime;
    const Eigen::Index k = x.rows(), c = x.cols();
    // Column j holds the values of X's column j; column c + n·j + t its tangents t.
    Planes planes(k, c * (n + 1));
    for (Eigen::Index j = 0; j < c; ++j)
      for (Eigen::Index i = 0; i < k; ++i) {
        const D& e = x.coeff(i, j);
        planes(i, j) = e.a;
        planes.row(i).segment(c + n * j, n) = e.v.transpose();
      }
    const Planes product = w * planes;
    for (Eigen::Index j = 0; j < c; ++j)
      for (Eigen::Index i = 0; i < y.rows(); ++i)
        y.coeffRef(i, j) = D(product(i, j), product.row(i).segment(c + n * j, n).transpose());
  }
};

}  // namespace ift::detail

namespace Eigen::internal {

// ---- Var -------------------------------------------------------------------------------------

/// Pivot searches (LU, full-pivoting QR) pick the entry of largest |x|. The choice of pivot is not
/// differentiated, so scoring the value, a `double`, picks the same pivots and records nothing.
template <class VarScalar>
requires ift::is_var_v<VarScalar>
struct scalar_score_coeff_op<VarScalar> {
  using result_type = double;
  double operator()(const VarScalar& a) const { return std::abs(a.value()); }
};

/// Products with a `Var` operand take Eigen's generic path rather than its BLAS-like one (no direct
/// access, no scalar factor to extract). The BLAS-like matrix–vector kernel converts the scale factor α
/// to the vector's scalar type, and for a `Var` matrix times a `double` vector there is no conversion
/// from `Var` to `double` (it would drop α's derivative). Otherwise the same as Eigen's own traits.
template <class Xpr>
requires ift::is_var_v<typename traits<Xpr>::Scalar>
struct blas_traits<Xpr> {
  using Scalar = typename traits<Xpr>::Scalar;
  using ExtractType = const Xpr&;
  using _ExtractType = Xpr;
  enum {
    IsComplex = 0,
    IsTransposed = false,
    NeedToConjugate = false,
    HasUsableDirectAccess = 0,
    HasScalarFactor = false
  };
  using DirectLinearAccessType = typename Xpr::PlainObject;
  static ExtractType extract(const Xpr& x) { return x; }
  static const Scalar extractScalarFactor(const Xpr&) { return Scalar::constant(1.0); }
};

/// A product of a `double` and a `Var` matrix (either order, matrix–vector or matrix–matrix): one
/// block node on the tape rather than a statement per entry.
template <class Lhs, ift::detail::VarDoubleOperand<Lhs> Rhs>
struct generic_product_impl<Lhs, Rhs, DenseShape, DenseShape, GemmProduct>
    : ift::detail::BlockProduct<Lhs, Rhs, ift::detail::VarBlockKernel<>> {};
template <class Lhs, ift::detail::VarDoubleOperand<Lhs> Rhs>
struct generic_product_impl<Lhs, Rhs, DenseShape, DenseShape, GemvProduct>
    : ift::detail::BlockProduct<Lhs, Rhs, ift::detail::VarBlockKernel<>> {};

// ---- Dual ------------------------------------------------------------------------------------

/// Eigen's blocked matrix-matrix kernel accumulates in one operand's scalar type, so it cannot multiply
/// a plain matrix by a dual one (nor the other way round): promote the plain operand.
template <class Lhs, ift::detail::PromotedDualOperand<Lhs> Rhs>
struct generic_product_impl<Lhs, Rhs, DenseShape, DenseShape, GemmProduct>
    : ift::detail::PromotedProduct<Lhs, Rhs> {};

/// Eigen's matrix-vector kernel converts the scale factor to the vector's scalar type. For a dual
/// matrix and a plain vector there is no such conversion (it would drop the tangents): promote the
/// vector then. A plain matrix times a dual vector (a Jacobian times tangents) needs no promotion and
/// keeps Eigen's kernel.
template <class Lhs, ift::detail::PromotedVectorOperand<Lhs> Rhs>
struct generic_product_impl<Lhs, Rhs, DenseShape, DenseShape, GemvProduct>
    : ift::detail::PromotedProduct<Lhs, Rhs> {};

/// A `double` matrix and one of `Dual<T, N>` with block products (either order, matrix–vector or
/// matrix–matrix): one product on the value and tangent planes, where Eigen's kernels or the
/// promotion above would multiply duals entry by entry.
template <class Lhs, ift::detail::DualBlockOperand<Lhs> Rhs>
struct generic_product_impl<Lhs, Rhs, DenseShape, DenseShape, GemmProduct>
    : ift::detail::BlockProduct<Lhs, Rhs, ift::detail::DualBlockKernel> {};
template <class Lhs, ift::detail::DualBlockOperand<Lhs> Rhs>
struct generic_product_impl<Lhs, Rhs, DenseShape, DenseShape, GemvProduct>
    : ift::detail::BlockProduct<Lhs, Rhs, ift::detail::DualBlockKernel> {};

/// The multiply-add of Eigen's matrix–vector and matrix–matrix kernels for two duals: c + x y =
/// (c.a + x.a y.a) + (c.v + y.a x.v + x.a y.v) ε in one pass over the tangents, where Eigen's generic
/// helper forms x y and then adds c (two duals, two passes). Measured on an 8 × 8 product
/// (scalars.bench.cpp, `scalars_matvec`) against the generic helper: one tangent 38 against 60 ns, sixteen
/// 118 against 166 ns (the compiler called the generic one out of line, once per term); two to four
/// tangents, one vector register, are left to the generic helper, which the compiler inlines and which
/// was the faster there (42 against 50 ns at four).
template <class T, int N>
requires(N == 1 || N > 4) struct conj_helper<ift::Dual<T, N>, ift::Dual<T, N>, false, false> {
  using Dual = ift::Dual<T, N>;
  EIGEN_STRONG_INLINE Dual pmadd(const Dual& x, const Dual& y, const Dual& c) const {
    return Dual(c.a + x.a * y.a, c.v + x.v * y.a + y.v * x.a);
  }
  EIGEN_STRONG_INLINE Dual pmul(const Dual& x, const Dual& y) const { return x * y; }
};

// ---- Tracer ----------------------------------------------------------------------------------

/// The same two kernels with a tracer: promoting the plain operand keeps every dependency set, where the
/// kernels would have to drop them into a plain scalar.
template <class Lhs, ift::detail::MixedTracerOperand<Lhs> Rhs>
struct generic_product_impl<Lhs, Rhs, DenseShape, DenseShape, GemmProduct>
    : ift::detail::PromotedProduct<Lhs, Rhs> {};
template <class Lhs, ift::detail::MixedTracerOperand<Lhs> Rhs>
struct generic_product_impl<Lhs, Rhs, DenseShape, DenseShape, GemvProduct>
    : ift::detail::PromotedProduct<Lhs, Rhs> {};

}  // namespace Eigen::internal

#endif  // IFT_EIGEN_INTERNALS
