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
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
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

/// A sorted set of input indices without repeats, in one of two forms chosen by its span (its largest
/// index minus its smallest):
///  - a window, below a span of 64: the smallest index and a 64-bit mask of the indices from it on.
///    The sets of a typical residual's entries are a few neighbouring indices (a stencil, a band's
///    row), and a tracer run makes one set per operation: a union is then two shifts and an or, and a
///    copy moves 16 bytes, with no loop, no branch per entry and no allocation;
///  - a sorted list on the heap, from a span of 64 on (a dense row), joined by one merge.
/// The form is a function of the set (a union never shrinks a span), so equal sets are stored alike.
class IndexSet {
 public:
  /// The largest span + 1 a window holds.
  static constexpr int window = 64;

  /// Iterates the indices in increasing order: the list's entries, or the window's set bits.
  class Iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;  // entries are made, not referenced
    using value_type = int;
    using difference_type = std::ptrdiff_t;

    Iterator() = default;
    int operator*() const { return entry_ ? *entry_ : low_ + std::countr_zero(bits_); }
    Iterator& operator++() {
      if (entry_)
        ++entry_;
      else
        bits_ &= bits_ - 1;
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    /// Iterators of one set are equal where they stand at the same entry (a window's position is the
    /// bits left to visit).
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.entry_ == b.entry_ && a.bits_ == b.bits_;
    }

   private:
    friend class IndexSet;
    Iterator(const int* entry, int low, std::uint64_t bits) : entry_(entry), low_(low), bits_(bits) {}
    const int* entry_ = nullptr;  // the next list entry; null in a window
    int low_ = 0;
    std::uint64_t bits_ = 0;  // the window's indices not yet visited
  };

  IndexSet() = default;
  explicit IndexSet(int index) : low_(index), bits_(1) {}
  IndexSet(const IndexSet& other) : low_(other.low_), size_(other.size_), bits_(other.bits_) {
    if (other.list_) {
      list_ = std::make_unique_for_overwrite<int[]>(size_);
      std::copy_n(other.list_.get(), size_, list_.get());
    }
  }
  IndexSet(IndexSet&&) noexcept = default;
  IndexSet& operator=(const IndexSet& other) {
    if (other.list_) return *this = IndexSet(other);
    low_ = other.low_;
    size_ = 0;
    bits_ = other.bits_;
    list_.reset();
    return *this;
  }
  IndexSet& operator=(IndexSet&&) noexcept = default;
  ~IndexSet() = default;

  Iterator begin() const { return list_ ? Iterator(list_.get(), 0, 0) : Iterator(nullptr, low_, bits_); }
  Iterator end() const { return Iterator(list_ ? list_.get() + size_ : nullptr, 0, 0); }
  bool empty() const { return bits_ == 0 && !list_; }
  std::size_t size() const { return list_ ? size_ : static_cast<std::size_t>(std::popcount(bits_)); }

  /// This set becomes its union with b. Two windows within a span of 64 are joined here, small
  /// enough to be inlined into every operation of a tracer run; anything else by `unite_lists`.
  void unite(const IndexSet& b) {
    if (!list_ && !b.list_) {
      if (b.bits_ == 0) return;
      if (bits_ == 0) {
        low_ = b.low_;
        bits_ = b.bits_;
        return;
      }
      const int low = std::min(low_, b.low_);
      if (std::max(high(), b.high()) - low < window) {
        bits_ = (bits_ << (low_ - low)) | (b.bits_ << (b.low_ - low));
        low_ = low;
        return;
      }
    }
    unite_lists(b);
  }

  friend bool operator==(const IndexSet& a, const IndexSet& b) {
    if (!a.list_ || !b.list_) return !a.list_ && !b.list_ && a.low_ == b.low_ && a.bits_ == b.bits_;
    return a.size_ == b.size_ && std::equal(a.list_.get(), a.list_.get() + a.size_, b.list_.get());
  }

 private:
  // The largest index of a nonempty window (the offset summed first: low_ + 63 may overflow).
  int high() const { return low_ + ((window - 1) - std::countl_zero(bits_)); }

  // The entries of a set in increasing order, in `buffer` for a window.
  std::span<const int> entries(int (&buffer)[window]) const {
    if (list_) return {list_.get(), size_};
    std::size_t k = 0;
    for (const int j : *this) buffer[k++] = j;
    return {buffer, k};
  }

  // The union with b when either is a list or the union spans 64 or more indices.
  void unite_lists(const IndexSet& b) {
    if (b.empty() || *this == b) return;  // (x·x of a dense row makes no new list)
    if (empty())
      *this = b;
    else
      *this = merged(*this, b);
  }

  // a ∪ b spanning 64 or more indices: the sorted lists merged onto the heap.
  static IndexSet merged(const IndexSet& a, const IndexSet& b) {
    int a_buffer[window], b_buffer[window];
    const std::span<const int> x = a.entries(a_buffer), y = b.entries(b_buffer);
    IndexSet out;
    out.list_ = std::make_unique_for_overwrite<int[]>(x.size() + y.size());
    out.size_ = merge(x, y, out.list_.get());
    return out;
  }

  // The sorted union of x and y into `to`; its size. Branch-free in the loop, and a finished side
  // reads as past every index instead of being copied by a tail loop.
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

  int low_ = 0;                  // a window's smallest index
  std::uint32_t size_ = 0;       // a list's entries
  std::uint64_t bits_ = 0;       // a window's indices: bit k for index low_ + k; 0 for a list
  std::unique_ptr<int[]> list_;  // the sorted entries of a set spanning 64 or more indices
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
  /// The inputs this value depends on: a forward range of `int`, sorted, valid while this tracer is.
  const detail::IndexSet& dependencies() const { return deps_; }

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
    deps_.unite(b.deps_);
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
