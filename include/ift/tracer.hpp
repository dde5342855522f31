#pragma once
// The sparsity tracer `ift::Tracer`: a scalar that carries, next to its value, the set of inputs it
// depends on instead of a tangent.
//
// Seeding input j with the set {j} and running a function on tracers leaves in output i the set
//   Sᵢ = { j : ∂fᵢ/∂xⱼ may be nonzero },
// because every rule propagates sets as the chain rule propagates derivatives, with the numbers
// forgotten:
//
//   S(a ± b) = S(a ∪ b) = S(a · b) = S(a / b) = S(a) ∪ S(b)
//   S(g(a))  = S(a)                      for g with a derivative that is not identically zero
//   S(g(a))  = ∅                         for locally constant g (floor, ceil, round, trunc)
//
// The pattern is structural: a product by a value that happens to be 0 keeps its dependencies, so
// the pattern holds at every point where the same branches are taken. The value is carried only so
// that code may branch on comparisons (`if (x > 0)`); such code gets the pattern of the branches
// taken at the traced point. `min`, `max`, `fmin` and `fmax` keep both operands' sets, so a pattern
// traced on one side of a kink stays valid on the other. Every read of a traced value (a comparison,
// a test, `value`) is counted (`detail::tracer_reads`): a run during which the count did not move
// took no branch on the values, so its pattern holds at every point.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <ostream>
#include <span>
#include <type_traits>
#include <utility>

#include <Eigen/Core>

#include "ift/detail/eigen_internal.hpp"
#include "ift/detail/traits.hpp"

namespace ift {
namespace detail {

/// How many times a traced value has been read on this thread: compared, tested (`isfinite`, …) or
/// taken out (`value`). Code can branch on a tracer's value only after reading it.
inline std::uint64_t& tracer_reads() {
  static thread_local std::uint64_t reads = 0;
  return reads;
}

/// A sorted set of input indices without repeats. Up to `inline_size` of them are held in place: the
/// sets of a typical residual's entries are a few indices (a stencil's neighbours), and a tracer run
/// makes one set per operation, so a heap allocation for each would cost more than the merge.
///
/// Sets are copied entry by entry, as many as they hold, never as one wide block: a tracer run merges
/// a set entry by entry and copies it at the next operation, and a wide load of entries just stored
/// one by one cannot be forwarded from the stores — it waits for them to reach the cache, which took
/// two fifths of a tracer run of a stencil (Broyden's residual at n = 1000: 88 → 53 µs, by `perf`).
class IndexSet {
 public:
  static constexpr std::size_t inline_size = 8;

  IndexSet() = default;
  explicit IndexSet(int index) : size_(1), index_{index} {}
  IndexSet(const IndexSet& other) : size_(other.size_) {
    if (other.large_) {
      large_ = std::make_unique_for_overwrite<int[]>(size_);
      std::copy_n(other.large_.get(), size_, large_.get());
    } else {
      copy_in_place(other);
    }
  }
  IndexSet(IndexSet&& other) noexcept : size_(other.size_), large_(std::move(other.large_)) {
    if (!large_) copy_in_place(other);
  }
  IndexSet& operator=(const IndexSet& other) {
    if (this == &other) return *this;
    if (other.large_) return *this = IndexSet(other);
    size_ = other.size_;
    large_.reset();
    copy_in_place(other);
    return *this;
  }
  IndexSet& operator=(IndexSet&& other) noexcept {
    size_ = other.size_;
    large_ = std::move(other.large_);
    if (!large_) copy_in_place(other);
    return *this;
  }
  ~IndexSet() = default;

  std::span<const int> view() const { return {large_ ? large_.get() : index_, size_}; }
  bool empty() const { return size_ == 0; }

  /// a ∪ b, by one merge.
  static IndexSet joined(const IndexSet& a, const IndexSet& b) {
    const std::span<const int> x = a.view(), y = b.view();
    IndexSet out;
    int* to = out.index_;
    if (x.size() + y.size() > inline_size) {
      out.large_ = std::make_unique_for_overwrite<int[]>(x.size() + y.size());
      to = out.large_.get();
    }
    out.size_ = merge(x, y, to);
    if (out.large_ && out.size_ <= inline_size) {  // the sets overlapped: back in place
      std::copy_n(to, out.size_, out.index_);
      out.large_.reset();
    }
    return out;
  }

  friend bool operator==(const IndexSet& a, const IndexSet& b) {
    if (a.size_ != b.size_) return false;
    const int *x = a.view().data(), *y = b.view().data();
    for (std::uint32_t k = 0; k < a.size_; ++k)
      if (x[k] != y[k]) return false;
    return true;
  }

 private:
  // The sorted union of x and y into `to`; its size. Branch-free in the loop (the sets are a few
  // indices, so a mispredicted branch per element would cost more than the comparisons), and a
  // finished side reads as past every index instead of being copied by a tail loop (which compilers
  // make a `memmove` call).
  static std::uint32_t merge(std::span<const int> x, std::span<const int> y, int* to) {
    constexpr int past = std::numeric_limits<int>::max();  // beyond every index: ends a finished side
    std::size_t i = 0, j = 0, k = 0;
    while (i < x.size() || j < y.size()) {
      const int u = i < x.size() ? x[i] : past, v = j < y.size() ? y[j] : past;
      to[k++] = u < v ? u : v;
      i += u <= v;
      j += v <= u;
    }
    return static_cast<std::uint32_t>(k);
  }

  // The in-place entries of `other`, one by one (see the class comment; a loop would be made a
  // `memcpy` call or a wide copy).
  void copy_in_place(const IndexSet& other) {
    const int* from = other.index_;
    int* to = index_;
    switch (other.size_) {
      case 8:
        to[7] = from[7];
        [[fallthrough]];
      case 7:
        to[6] = from[6];
        [[fallthrough]];
      case 6:
        to[5] = from[5];
        [[fallthrough]];
      case 5:
        to[4] = from[4];
        [[fallthrough]];
      case 4:
        to[3] = from[3];
        [[fallthrough]];
      case 3:
        to[2] = from[2];
        [[fallthrough]];
      case 2:
        to[1] = from[1];
        [[fallthrough]];
      case 1:
        to[0] = from[0];
        [[fallthrough]];
      default:
        break;
    }
  }

  std::uint32_t size_ = 0;        // entries, in index_ or in large_
  int index_[inline_size]{};      // the set when it fits; entries from size_ on are unused
  std::unique_ptr<int[]> large_;  // the set, when it does not fit in place
};

}  // namespace detail

/// A value together with the indices of the inputs it depends on (sorted, without repeats).
class Tracer {
 public:
  /// The constant 0.
  Tracer() = default;
  /// A constant: depends on no input.
  template <class A>
  requires std::is_arithmetic_v<A> Tracer(A value) : value_(static_cast<double>(value)) {}
  /// Input `index` with the given value.
  Tracer(double value, int index) : value_(value), deps_{index} {}

  /// The traced value (a read: see `detail::tracer_reads`).
  double value() const { return read(); }
  /// The inputs this value depends on, sorted (a view into this tracer).
  std::span<const int> dependencies() const { return deps_.view(); }

  // In place: a tracer run makes one set per operation, and most operations leave the left
  // operand's set as it is (a constant or the same inputs on the right), so the left operand, taken
  // by value, is updated and moved out rather than a new set built and the temporaries destroyed.
  Tracer& operator+=(const Tracer& b) { return value_ += b.value_, absorb(b); }
  Tracer& operator-=(const Tracer& b) { return value_ -= b.value_, absorb(b); }
  Tracer& operator*=(const Tracer& b) { return value_ *= b.value_, absorb(b); }
  Tracer& operator/=(const Tracer& b) { return value_ /= b.value_, absorb(b); }

  friend Tracer operator+(const Tracer& a) { return a; }
  friend Tracer operator-(Tracer a) {
    a.value_ = -a.value_;
    return a;
  }
  friend Tracer operator+(Tracer a, const Tracer& b) { return a += b, a; }
  friend Tracer operator-(Tracer a, const Tracer& b) { return a -= b, a; }
  friend Tracer operator*(Tracer a, const Tracer& b) { return a *= b, a; }
  friend Tracer operator/(Tracer a, const Tracer& b) { return a /= b, a; }

  friend bool operator==(const Tracer& a, const Tracer& b) { return a.read() == b.value_; }
  friend auto operator<=>(const Tracer& a, const Tracer& b) { return a.read() <=> b.value_; }

  // Functions of one argument: the set passes through (rules above).
#define IFT_TRACER_UNARY(f) \
  friend Tracer f(const Tracer& a) { return with(std::f(a.value_), a); }
  IFT_TRACER_UNARY(abs)
  IFT_TRACER_UNARY(fabs)
  IFT_TRACER_UNARY(sqrt)
  IFT_TRACER_UNARY(cbrt)
  IFT_TRACER_UNARY(exp)
  IFT_TRACER_UNARY(exp2)
  IFT_TRACER_UNARY(expm1)
  IFT_TRACER_UNARY(log)
  IFT_TRACER_UNARY(log1p)
  IFT_TRACER_UNARY(log2)
  IFT_TRACER_UNARY(log10)
  IFT_TRACER_UNARY(sin)
  IFT_TRACER_UNARY(cos)
  IFT_TRACER_UNARY(tan)
  IFT_TRACER_UNARY(asin)
  IFT_TRACER_UNARY(acos)
  IFT_TRACER_UNARY(atan)
  IFT_TRACER_UNARY(sinh)
  IFT_TRACER_UNARY(cosh)
  IFT_TRACER_UNARY(tanh)
  IFT_TRACER_UNARY(asinh)
  IFT_TRACER_UNARY(acosh)
  IFT_TRACER_UNARY(atanh)
  IFT_TRACER_UNARY(erf)
  IFT_TRACER_UNARY(erfc)
  IFT_TRACER_UNARY(tgamma)
  IFT_TRACER_UNARY(lgamma)
#undef IFT_TRACER_UNARY

  // Locally constant: no dependency.
  friend Tracer floor(const Tracer& a) { return Tracer(std::floor(a.value_)); }
  friend Tracer ceil(const Tracer& a) { return Tracer(std::ceil(a.value_)); }
  friend Tracer round(const Tracer& a) { return Tracer(std::round(a.value_)); }
  friend Tracer trunc(const Tracer& a) { return Tracer(std::trunc(a.value_)); }

  // Functions of two arguments: the union of the sets.
#define IFT_TRACER_BINARY(f) \
  friend Tracer f(const Tracer& a, const Tracer& b) { return joined(std::f(a.value_, b.value_), a, b); }
  IFT_TRACER_BINARY(pow)
  IFT_TRACER_BINARY(atan2)
  IFT_TRACER_BINARY(hypot)
  IFT_TRACER_BINARY(fmin)
  IFT_TRACER_BINARY(fmax)
#undef IFT_TRACER_BINARY
  friend Tracer min(const Tracer& a, const Tracer& b) { return joined(std::min(a.value_, b.value_), a, b); }
  friend Tracer max(const Tracer& a, const Tracer& b) { return joined(std::max(a.value_, b.value_), a, b); }
  /// |a| with the sign of b: depends on a only (the sign is locally constant).
  friend Tracer copysign(const Tracer& a, const Tracer& b) {
    return with(std::copysign(a.value_, b.value_), a);
  }
  friend Tracer fma(const Tracer& a, const Tracer& b, const Tracer& c) { return a * b + c; }

  friend bool isfinite(const Tracer& a) { return std::isfinite(a.read()); }
  friend bool isnan(const Tracer& a) { return std::isnan(a.read()); }
  friend bool isinf(const Tracer& a) { return std::isinf(a.read()); }

  friend std::ostream& operator<<(std::ostream& out, const Tracer& a) {
    out << a.value_ << " {";
    const char* separator = "";
    for (const int j : a.dependencies()) {
      out << separator << j;
      separator = " ";
    }
    return out << "}";
  }

 private:
  Tracer(double value, const detail::IndexSet& deps) : value_(value), deps_(deps) {}
  double read() const {
    ++detail::tracer_reads();
    return value_;
  }
  static Tracer with(double value, const Tracer& a) { return Tracer(value, a.deps_); }
  static Tracer joined(double value, Tracer a, const Tracer& b) {
    a.value_ = value;
    a.absorb(b);
    return a;
  }
  // This set becomes its union with b's.
  Tracer& absorb(const Tracer& b) {
    if (b.deps_.empty() || deps_ == b.deps_) return *this;
    if (deps_.empty())
      deps_ = b.deps_;
    else
      deps_ = detail::IndexSet::joined(deps_, b.deps_);
    return *this;
  }

  double value_ = 0.0;
  detail::IndexSet deps_;
};

/// The traced value.
inline double value(const Tracer& a) { return a.value(); }

}  // namespace ift

namespace Eigen {

/// Lets `Eigen::Matrix<ift::Tracer, …>` use Eigen's algorithms (a tracer costs about a small
/// vector merge per operation).
template <>
struct NumTraits<ift::Tracer> : NumTraits<double> {
  using Real = ift::Tracer;
  using NonInteger = ift::Tracer;
  using Nested = ift::Tracer;
  using Literal = ift::Tracer;
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 1,
    ReadCost = 4,
    AddCost = 8,
    MulCost = 8
  };
};

template <class BinaryOp>
struct ScalarBinaryOpTraits<ift::Tracer, double, BinaryOp> {
  using ReturnType = ift::Tracer;
};
template <class BinaryOp>
struct ScalarBinaryOpTraits<double, ift::Tracer, BinaryOp> {
  using ReturnType = ift::Tracer;
};

}  // namespace Eigen
