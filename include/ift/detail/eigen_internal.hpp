#pragma once
// Every specialization of Eigen's internal classes for ift's scalars, in one place.
//
// Eigen's public traits (NumTraits, ScalarBinaryOpTraits) sit beside each scalar. What they cannot
// express is here. Eigen 3.4's product kernels assume that an entry of a product has the scalar type
// of one operand, true for the real × complex products Eigen supports but not for a plain matrix times
// an AD one, whose entries are AD scalars. And its pivot searches score entries in the scalar type
// itself, which for `Var` puts every score on the tape.
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
#include <vector>

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

/// The blocked kernel for products of a `double` and a `Var` matrix (either order), in place of
/// Eigen's, which accumulates in a plain scalar and so does not compile for them. Each entry
/// res += α·Σₖ lhsₖ·rhsₖ is recorded as one statement whose partials are the `double` factors:
/// 12 bytes per term, where a product and a sum would take 13 + 9. `Record` is `Recorder`, as a
/// parameter so that its use is compiled where Eigen instantiates the kernel.
template <class Index, class LhsScalar, int LhsStorageOrder, class RhsScalar, int RhsStorageOrder,
          class Record = Recorder>
struct VarDoubleProduct {
  using VarScalar = std::conditional_t<is_var_v<LhsScalar>, LhsScalar, RhsScalar>;
  using Traits = Eigen::internal::gebp_traits<LhsScalar, RhsScalar>;  // read by Eigen's gemm_functor

  static void run(Index rows, Index cols, Index depth, const LhsScalar* lhs, Index lhs_stride,
                  const RhsScalar* rhs, Index rhs_stride, VarScalar* res, Index res_increment,
                  Index res_stride, VarScalar alpha,
                  Eigen::internal::level3_blocking<LhsScalar, RhsScalar>& /*blocking*/,
                  Eigen::internal::GemmParallelInfo<Index>* /*info*/ = nullptr) {
    const auto lhs_at = [&](Index i, Index k) -> const LhsScalar& {
      return LhsStorageOrder == Eigen::RowMajor ? lhs[i * lhs_stride + k] : lhs[i + k * lhs_stride];
    };
    const auto rhs_at = [&](Index k, Index j) -> const RhsScalar& {
      return RhsStorageOrder == Eigen::RowMajor ? rhs[k * rhs_stride + j] : rhs[k + j * rhs_stride];
    };
    std::vector<VarScalar> variables(static_cast<std::size_t>(depth));
    std::vector<double> factors(static_cast<std::size_t>(depth));
    for (Index j = 0; j < cols; ++j) {
      for (Index i = 0; i < rows; ++i) {
        double value = 0.0;
        for (Index k = 0; k < depth; ++k) {
          const auto kk = static_cast<std::size_t>(k);
          if constexpr (is_var_v<RhsScalar>) {
            factors[kk] = lhs_at(i, k);
            variables[kk] = rhs_at(k, j);
          } else {
            variables[kk] = lhs_at(i, k);
            factors[kk] = rhs_at(k, j);
          }
          value += factors[kk] * variables[kk].value();
        }
        res[i * res_increment + j * res_stride] += alpha * Record::linear(value, variables, factors);
      }
    }
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

/// A `double` matrix times a `Var` matrix through the blocked product: ift's kernel above.
template <class Index, int LhsStorageOrder, bool ConjugateLhs, int RhsStorageOrder, bool ConjugateRhs,
          int ResInnerStride>
struct general_matrix_matrix_product<Index, double, LhsStorageOrder, ConjugateLhs, ift::Var, RhsStorageOrder,
                                     ConjugateRhs, ColMajor, ResInnerStride>
    : ift::detail::VarDoubleProduct<Index, double, LhsStorageOrder, ift::Var, RhsStorageOrder> {};

/// A `Var` matrix times a `double` matrix. A row-major result is computed as its transpose, the
/// product above with the operands exchanged, so these two cover every storage order.
template <class Index, int LhsStorageOrder, bool ConjugateLhs, int RhsStorageOrder, bool ConjugateRhs,
          int ResInnerStride>
struct general_matrix_matrix_product<Index, ift::Var, LhsStorageOrder, ConjugateLhs, double, RhsStorageOrder,
                                     ConjugateRhs, ColMajor, ResInnerStride>
    : ift::detail::VarDoubleProduct<Index, ift::Var, LhsStorageOrder, double, RhsStorageOrder> {};

// ---- Dual ------------------------------------------------------------------------------------

/// Eigen's blocked matrix-matrix kernel accumulates in one operand's scalar type, so it cannot multiply
/// a plain matrix by a dual one (nor the other way round): promote the plain operand.
template <class Lhs, ift::detail::MixedDualOperand<Lhs> Rhs>
struct generic_product_impl<Lhs, Rhs, DenseShape, DenseShape, GemmProduct>
    : ift::detail::PromotedProduct<Lhs, Rhs> {};

/// Eigen's matrix-vector kernel converts the scale factor to the vector's scalar type. For a dual
/// matrix and a plain vector there is no such conversion (it would drop the tangents): promote the
/// vector then. A plain matrix times a dual vector (a Jacobian times tangents) needs no promotion and
/// keeps Eigen's kernel.
template <class Lhs, ift::detail::PlainVectorOperand<Lhs> Rhs>
struct generic_product_impl<Lhs, Rhs, DenseShape, DenseShape, GemvProduct>
    : ift::detail::PromotedProduct<Lhs, Rhs> {};

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
