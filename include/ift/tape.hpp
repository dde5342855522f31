#pragma once
// The reverse-mode tape `ift::Tape`: the recording of operations on `ift::Var`, and its reverse sweeps.
//
// What the tape stores
// --------------------
// Every `Var` that carries a derivative is a variable on a tape: it has an index j (0, 1, 2, …
// in recording order) and the id of its tape. Creating an independent variable (`Var x = 2.0`)
// records a statement with no arguments. Every operation z = f(x₁, …, x_k) on variables records
// one statement for z: the indices of its arguments and the partial derivatives ∂f/∂xᵢ, evaluated
// at the current values. Statements are stored in three contiguous arrays (CoDiPack's "Jacobian
// tape", Adept's statement stack):
//
//     kind[j]               one byte per variable: its number of arguments, or a kind whose
//                           partials are ±1 and implied (z = x + y, x − y, x ± c, c − x)
//     argument_index[…]     the arguments' variable indices, statement after statement
//     argument_partial[…]   the stored partials ∂fⱼ/∂xᵢ, statement after statement
//
// A product costs 1 + 2·(4 + 8) = 25 bytes, a sum 1 + 2·4 = 9, a sin 1 + 12 = 13, and nothing
// else: values live in the `Var`s, the operation itself is forgotten once its partials are known.
// The sweep walks the arrays backwards, so a statement's position in them follows from the kinds
// and needs no stored offset. The arrays grow geometrically and keep their memory across `clear()`,
// so re-recording a computation allocates nothing.
//
// Block nodes
// -----------
// A product of a constant matrix W with `Var` entries X (`W * x`, `x.transpose() * W`, `W * X`, written
// as ordinary Eigen) is one node rather than a statement per entry (ift/detail/eigen_internal.hpp
// routes Eigen's product to `record_block`): the node holds a copy of W, 8 bytes an entry where
// scalar statements store 12 per term, its outputs are the entries of Y = W X, and the sweep passes
// the adjoints on with one dense product, X̄ += Wᵀ Ȳ. The same W multiplied again at the next step
// of an iteration shares the copy.
//
// Memory reuse
// ------------
// A destroyed tape leaves its storage, emptied but with its capacity, to the next tape constructed
// on the same thread (`detail::TapeStoragePool`). A backward pass through an implicit function
// records and sweeps a nested tape; from the second pass of the same size on, that tape allocates
// nothing. `Tape::release_thread_storage()` frees what a thread keeps.
//
// The reverse sweep
// -----------------
// To differentiate an output y, give every variable an adjoint x̄ = ∂y/∂x, start with ȳ = 1 and
// all others 0, and visit the statements from the last to the first. By the chain rule, once all
// statements after j have been visited, x̄ⱼ is complete, and statement j passes it on:
//
//     x̄ᵢ += ∂fⱼ/∂xᵢ · x̄ⱼ     for each argument i of statement j.
//
// A statement whose adjoint is 0 is skipped: it contributes nothing, and skipping it also keeps an
// infinite partial (√x at 0) from turning 0 · ∞ into NaN on a path the output does not depend on.
// The sweep is a plain loop over the arrays, never a recursion over a graph, so a chain of 10⁶
// operations needs no more stack than a chain of one.
//
// The active tape, nesting and threads
// ------------------------------------
// Operations find their tape through a thread-local pointer to the active tape. It is
// constant-initialized (a null pointer, no dynamic initialization), so reading it is a plain load
// with no guard (the reason Stan's `autodiffstackstorage.hpp` gives for the same choice). A `Tape`
// becomes active when constructed and restores the previous one when destroyed: tapes nest, and
// each thread records on its own tapes. Each tape has a unique id (a fresh one after `clear()`),
// stored in every `Var` it records, so a `Var` used on a tape that is not its own — an outer tape's
// variable inside a nested recording, another thread's, or one recorded before `clear()` — is
// reported as `ift::TapeError` before anything is written, never silently mixed in.
//
// Custom nodes
// ------------
// Two ways to put a function the tape cannot see inside into a recording:
// * `Tape::record(value, inputs, partials)` — one output with precomputed partials: a statement
//   like any other (Adept's `add_derivative_dependence`).
// * `Tape::add_node(inputs, output_values, outputs, backward)` — k inputs, m outputs and a closure
//   called during the sweep with the outputs' adjoints, which returns the inputs' adjoints (Stan's
//   `reverse_pass_callback`). The closure may run a reverse pass of its own on a nested `Tape`:
//   this is how the implicit function theorem enters a recording.
//
// Headers
// -------
// The tape records `Var`s and a `Var`'s operations record on the tape, so this header and ift/var.hpp
// include each other: this one starts with ift/var.hpp and, after `Tape`, defines the entry points
// through which `Var`'s operations record (`detail::Recorder`). Either header gives both.
//
// Parameter trees
// ---------------
// `gradient(y, tree)` walks a parameter tree, which ift/tree.hpp defines one layer up. The tape only
// declares the traversal it needs (`detail::TreeAccess`); ift/tree.hpp defines it, so that overload
// works wherever ift/tree.hpp (or ift/ift.hpp) is included too.

#include <algorithm>
#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "ift/detail/traits.hpp"
#include "ift/errors.hpp"
#include "ift/var.hpp"

namespace ift {

namespace detail {

/// The calling thread's active tape. Constant-initialized, so access needs no guard.
inline constinit thread_local Tape* active_tape = nullptr;

/// Source of tape ids; 0 is reserved for constants.
inline std::atomic<std::uint32_t> next_tape_id{1};

inline std::uint32_t fresh_tape_id() noexcept {
  std::uint32_t id = next_tape_id.fetch_add(1, std::memory_order_relaxed);
  while (id == 0) id = next_tape_id.fetch_add(1, std::memory_order_relaxed);
  return id;
}

/// The statement of a variable is one descriptor byte. 0 … `max_arguments`: that many arguments,
/// each with its index and its stored partial. The other kinds have partials ±1, implied by the
/// kind rather than stored, which makes sums and differences (a third of a typical recording)
/// 9 bytes instead of 25.
namespace statement {
inline constexpr std::uint8_t max_arguments = 250;
inline constexpr std::uint8_t shifted = 251;     // z = x ± c: one argument, ∂ = +1
inline constexpr std::uint8_t negated = 252;     // z = c − x: one argument, ∂ = −1
inline constexpr std::uint8_t sum = 253;         // z = x + y: ∂ = (+1, +1)
inline constexpr std::uint8_t difference = 254;  // z = x − y: ∂ = (+1, −1)

/// Argument indices and stored partials of each kind, as tables (the sweep reads them per statement).
inline constexpr auto argument_count = [] {
  std::array<std::uint8_t, 256> count{};
  for (int kind = 0; kind <= max_arguments; ++kind) count[kind] = static_cast<std::uint8_t>(kind);
  count[shifted] = count[negated] = 1;
  count[sum] = count[difference] = 2;
  return count;
}();
inline constexpr auto partial_count = [] {
  std::array<std::uint8_t, 256> count{};
  for (int kind = 0; kind <= max_arguments; ++kind) count[kind] = static_cast<std::uint8_t>(kind);
  return count;
}();
}  // namespace statement

inline constexpr const char* no_tape_message =
    "ift::Var: no active ift::Tape on this thread (construct an ift::Tape before recording)";
inline constexpr const char* foreign_var_message =
    "ift::Var used on a tape that is not its own, or recorded before clear()";

/// Throws the `TapeError` for an operation on a variable that `tape` (the active tape) does not own.
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_misuse(const Tape* tape) {
  throw TapeError(tape == nullptr ? no_tape_message : foreign_var_message);
}

/// A growable array of trivially copyable elements: no initialization of new slots, and the
/// memory is kept when cleared. Growth is geometric, so appends are amortized O(1).
template <class T>
class PodBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t spare() const noexcept { return capacity_ - size_; }
  void clear() noexcept { size_ = 0; }
  /// Appends; the caller has checked `spare()`.
  void push_unchecked(const T& x) noexcept { data_[size_++] = x; }
  /// Makes room for `n` more elements, keeping the contents; more than `limit` in all throws.
  void reserve_more(std::size_t n, std::size_t limit) {
    if (spare() >= n) return;
    if (n > limit - size_) throw TapeError("ift::Tape: the recording exceeds the capacity of 32-bit indices");
    reallocate(std::min(limit, std::max({2 * capacity_, size_ + n, std::size_t{256}})), true);
  }
  /// Grows the capacity to at least `capacity`, keeping the contents.
  void reserve_total(std::size_t capacity) {
    if (capacity_ < capacity) reallocate(capacity, true);
  }
  /// Makes the buffer hold `n` elements with unspecified contents (scratch space).
  void resize_for_overwrite(std::size_t n) {
    if (capacity_ < n) reallocate(std::max(n, 2 * capacity_), false);
    size_ = n;
  }
  /// Bytes reserved.
  std::size_t capacity_bytes() const noexcept { return capacity_ * sizeof(T); }

 private:
  [[gnu::noinline]] void reallocate(std::size_t capacity, bool keep) {
    std::unique_ptr<T[]> bigger(new T[capacity]);
    if (keep) std::copy(data_.get(), data_.get() + size_, bigger.get());
    data_ = std::move(bigger);
    capacity_ = capacity;
  }

  std::unique_ptr<T[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// Storage for closure objects: a list of blocks used as a bump allocator, rewound (not freed)
/// by `reset()`, so a re-recording puts its closures in the same memory.
class Arena {
 public:
  static constexpr std::size_t block_alignment = 64;

  void* allocate(std::size_t size, std::size_t alignment) {
    for (;;) {
      if (current_ == blocks_.size()) {
        blocks_.push_back(make_block(std::max(default_block_size, size)));
      }
      Block& block = blocks_[current_];
      const std::size_t start = (offset_ + alignment - 1) / alignment * alignment;
      if (start + size <= block.size) {
        offset_ = start + size;
        return block.data.get() + start;
      }
      if (offset_ == 0) {
        block = make_block(size);  // an unused block too small for this object: replace it
        continue;
      }
      used_before_ += offset_;
      offset_ = 0;
      ++current_;
    }
  }
  /// Forgets every allocation; the blocks are reused.
  void reset() noexcept {
    current_ = 0;
    offset_ = 0;
    used_before_ = 0;
  }
  std::size_t bytes_used() const noexcept { return used_before_ + offset_; }
  std::size_t bytes_reserved() const noexcept {
    std::size_t total = 0;
    for (const Block& b : blocks_) total += b.size;
    return total;
  }

 private:
  static constexpr std::size_t default_block_size = 4096;
  struct AlignedDelete {
    void operator()(std::byte* p) const noexcept {
      ::operator delete[](p, std::align_val_t{block_alignment});
    }
  };
  struct Block {
    std::unique_ptr<std::byte[], AlignedDelete> data;
    std::size_t size = 0;
  };
  static Block make_block(std::size_t size) {
    return Block{std::unique_ptr<std::byte[], AlignedDelete>(
                     static_cast<std::byte*>(::operator new[](size, std::align_val_t{block_alignment}))),
                 size};
  }

  std::vector<Block> blocks_;
  std::size_t current_ = 0;
  std::size_t offset_ = 0;
  std::size_t used_before_ = 0;
};

/// A closure node on the tape: outputs [first_output, first_output + num_outputs), inputs listed
/// in the tape's closure-input array, and the type-erased backward callable in the arena.
struct ClosureNode {
  std::uint32_t first_output;
  std::uint32_t num_outputs;
  std::uint32_t first_input;
  std::uint32_t num_inputs;
  void* closure;
  void (*invoke)(void*, std::span<const double>, std::span<double>);
  void (*destroy)(void*) noexcept;  // null for trivially destructible closures
};

/// Everything a tape allocates: its recording, its closures and the sweep's buffers. A `Tape` takes
/// one from its thread's pool when constructed and gives it back, emptied but with its capacity,
/// when destroyed.
struct TapeStorage {
  PodBuffer<std::uint8_t> statements;       // per variable: its statement's kind
  PodBuffer<std::uint32_t> argument_index;  // per argument: the argument's variable
  PodBuffer<double> argument_partial;       // per stored partial: ∂(statement)/∂(argument)
  PodBuffer<ClosureNode> closures;          // in recording order
  PodBuffer<std::uint32_t> closure_inputs;  // the closures' input variables
  Arena arena;                              // the closure objects and the blocks of block nodes
  PodBuffer<double> adjoints;               // the sweep's x̄, one per variable
  PodBuffer<double> in_adjoints;            // scratch for a closure's input adjoints
  PodBuffer<double> scratch;                // scratch for recording a block node
};

/// The storage of the calling thread's destroyed tapes, for its next tapes to reuse.
///
/// A backward pass through an implicit function records and sweeps a nested tape; without reuse
/// each pass would allocate that tape's arrays anew and grow them by reallocation (recording a dense
/// n = 1000 mat-vec took 27× as long on a new tape as on a cleared one). With it, a tape starts with the
/// capacity of the last tape of this thread destroyed at the same nesting depth, so a steady state of
/// backward passes allocates nothing. Nested tapes are destroyed in the reverse order of their
/// construction, so a last-in-first-out list hands each depth its own storage back. Each thread
/// has its own pool: no locking, and a tape is destroyed on the thread that created it.
class TapeStoragePool {
 public:
  /// At most this many storages are kept; a tape destroyed when the pool is full frees its own.
  static constexpr std::size_t max_kept = 8;

  constexpr TapeStoragePool() noexcept = default;
  TapeStoragePool(const TapeStoragePool&) = delete;
  TapeStoragePool& operator=(const TapeStoragePool&) = delete;
  ~TapeStoragePool();

  /// The most recently returned storage, or nullptr; `pop()` removes it once taken over.
  TapeStorage* top() noexcept { return kept_.empty() ? nullptr : &kept_.back(); }
  void pop() noexcept { kept_.pop_back(); }
  /// An empty slot for a storage being returned, or nullptr if the pool is full (or out of memory).
  TapeStorage* slot() noexcept {
    if (kept_.size() >= max_kept) return nullptr;
    try {
      return &kept_.emplace_back();
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }
  /// Frees every kept storage.
  void release() noexcept { std::vector<TapeStorage>().swap(kept_); }

 private:
  std::vector<TapeStorage> kept_;
};

/// The calling thread's pool. Destroyed at thread exit; a tape destroyed after that (a static
/// `Tape` outliving the main thread's thread-locals) frees its storage itself, which the
/// constant-initialized flag tells it.
inline constinit thread_local bool tape_storage_pool_destroyed = false;
inline constinit thread_local TapeStoragePool tape_storage_pool;
inline TapeStoragePool::~TapeStoragePool() { tape_storage_pool_destroyed = true; }

/// dst = A·B for a block node. Eigen's matrix–matrix product packs A into a buffer on every call,
/// which for the few columns a block node usually has (a vector, or a vector and its tangent planes
/// in reverse over forward) costs more than the arithmetic: up to `narrow` columns are one
/// matrix–vector product each, reading A where it is.
template <class Dst, class A, class B>
void block_product_to(Dst&& dst, const A& a, const B& b) {
  constexpr Eigen::Index narrow = 4;
  if (b.cols() <= narrow) {
    for (Eigen::Index j = 0; j < b.cols(); ++j) dst.col(j).noalias() = a * b.col(j);
  } else {
    dst.noalias() = a * b;
  }
}

/// The backward step of a block node Y = W·X: X̄ = Wᵀ Ȳ, one dense product. W (rows × depth) is the
/// node's copy in the tape's arena; X̄ and Ȳ are column-major. A template, so that the product is
/// compiled only where a block node is recorded.
template <class Real>
struct BlockAdjoint {
  const Real* block;
  Eigen::Index rows, depth, cols;

  void operator()(std::span<const Real> out, std::span<Real> in) const {
    using Matrix = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic>;
    block_product_to(Eigen::Map<Matrix>(in.data(), depth, cols),
                     Eigen::Map<const Matrix>(block, rows, depth).transpose(),
                     Eigen::Map<const Matrix>(out.data(), rows, cols));
  }
};

/// Sets the active tape for a scope and restores the previous one on exit (also on throw).
class ActiveTapeScope {
 public:
  explicit ActiveTapeScope(Tape* tape) noexcept : saved_(active_tape) { active_tape = tape; }
  ~ActiveTapeScope() { active_tape = saved_; }
  ActiveTapeScope(const ActiveTapeScope&) = delete;
  ActiveTapeScope& operator=(const ActiveTapeScope&) = delete;

 private:
  Tape* saved_;
};

/// The plain Eigen type `Plain` (a Matrix or Array) with `double` entries: the shape of a gradient.
template <class Plain>
struct with_double_entries;
template <class S, int R, int C, int O, int MR, int MC>
struct with_double_entries<Eigen::Matrix<S, R, C, O, MR, MC>> {
  using type = Eigen::Matrix<double, R, C, O, MR, MC>;
};
template <class S, int R, int C, int O, int MR, int MC>
struct with_double_entries<Eigen::Array<S, R, C, O, MR, MC>> {
  using type = Eigen::Array<double, R, C, O, MR, MC>;
};

/// How `Tape::gradient(y, tree)` walks a parameter tree: defined by ift/tree.hpp, with
/// `is_tree` (whether T is a tree), `for_each_leaf(tree, f)` and `map_leaves<S>(tree, f)`.
template <class T>
struct TreeAccess;

}  // namespace detail

/// A recording of operations on `Var`s, and the reverse sweeps over it.
///
/// Constructing a `Tape` makes it the calling thread's active tape until it is destroyed (the
/// previous one is restored: tapes nest). A tape is used by one thread at a time and destroyed on
/// the thread that created it.
class Tape {
 public:
  /// Starts an empty recording and makes it this thread's active tape. Its memory is the storage
  /// of an earlier tape of this thread, if one is kept (see `release_thread_storage()`).
  Tape() noexcept : id_(detail::fresh_tape_id()), previous_(detail::active_tape) {
    detail::active_tape = this;
    if (detail::tape_storage_pool_destroyed) return;
    if (detail::TapeStorage* kept = detail::tape_storage_pool.top(); kept != nullptr) {
      exchange_storage(*kept);
      detail::tape_storage_pool.pop();
    }
  }
  /// Restores the tape that was active before this one, and keeps the tape's memory for the next
  /// tape of this thread.
  ~Tape() {
    destroy_closures();
    if (!detail::tape_storage_pool_destroyed) {
      if (detail::TapeStorage* slot = detail::tape_storage_pool.slot(); slot != nullptr) {
        empty_buffers();
        exchange_storage(*slot);
      }
    }
    if (detail::active_tape == this) {
      detail::active_tape = previous_;
      return;
    }
    // Destroyed out of order: unlink it, so that no tape restores a pointer to it later.
    for (Tape* t = detail::active_tape; t != nullptr; t = t->previous_) {
      if (t->previous_ == this) {
        t->previous_ = previous_;
        break;
      }
    }
  }
  Tape(const Tape&) = delete;
  Tape(Tape&&) = delete;
  Tape& operator=(const Tape&) = delete;
  Tape& operator=(Tape&&) = delete;

  /// This thread's active tape, or nullptr.
  static Tape* active() noexcept { return detail::active_tape; }

  /// ∂y/∂x. One reverse sweep; the recording is kept, so other outputs can follow.
  /// @throws TapeError if `y` or `x` is a variable of another tape (or of this one before `clear()`).
  double gradient(const Var& y, const Var& x) const {
    check_owned(x);
    reverse(y);
    return read_adjoint(x);
  }

  /// (∂y/∂x₁, …, ∂y/∂x_k) from one reverse sweep.
  template <class... Xs>
  requires(sizeof...(Xs) >= 2 &&
           (std::same_as<Xs, Var> && ...)) std::array<double, sizeof...(Xs)> gradient(const Var& y,
                                                                                      const Xs&... xs)
  const {
    (check_owned(xs), ...);
    reverse(y);
    return {read_adjoint(xs)...};
  }

  /// ∂y/∂X for an Eigen object X of `Var`: a `double` matrix or array of the same shape.
  template <class Derived>
  auto gradient(const Var& y, const Eigen::DenseBase<Derived>& xs) const {
    static_assert(std::is_same_v<typename Derived::Scalar, Var>,
                  "ift::Tape::gradient: the Eigen object must hold Var");
    using Result = typename detail::with_double_entries<typename Derived::PlainObject>::type;
    const typename Derived::PlainObject x = xs.derived();
    for (Eigen::Index i = 0; i < x.size(); ++i) check_owned(x.data()[i]);
    reverse(y);
    Result g;
    g.resize(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < x.size(); ++i) g.data()[i] = read_adjoint(x.data()[i]);
    return g;
  }

  /// ∂y/∂θ for a parameter tree θ (a struct, tuple, std::array… whose leaves are `Var`s, Eigen
  /// objects of `Var` or constants): the tree rebound to `double`, 0 at constant leaves. Trees are
  /// defined by ift/tree.hpp: this overload exists where that header is included too.
  template <class T>
  requires(!Scalar<T> && !std::is_base_of_v<Eigen::EigenBase<T>, T> &&
           detail::TreeAccess<T>::is_tree) auto gradient(const Var& y, const T& xs) const {
    using Access = detail::TreeAccess<T>;
    Access::for_each_leaf(xs, [this](const auto& leaf) {
      if constexpr (is_var_v<decltype(leaf)>) check_owned(leaf);
    });
    reverse(y);
    return Access::template map_leaves<double>(xs, [this](const auto& leaf) {
      if constexpr (is_var_v<decltype(leaf)>)
        return read_adjoint(leaf);
      else
        return 0.0;
    });
  }

  /// Reverse sweep with ȳₖ = seedsₖ for each output yₖ (adjoints of repeated outputs add up);
  /// read the results with `adjoint()`.
  /// @throws std::invalid_argument if the spans differ in length; TapeError for a foreign output.
  void backward(std::span<const Var> outputs, std::span<const double> seeds) {
    if (outputs.size() != seeds.size())
      throw std::invalid_argument("ift::Tape::backward: outputs and seeds differ in length");
    for (const Var& y : outputs) check_owned(y);
    const SweepGuard guard(*this);
    const std::uint32_t top = prepare_adjoints(num_variables());
    double* adjoint = adjoints_.data();
    for (std::size_t k = 0; k < outputs.size(); ++k)
      if (!outputs[k].is_constant()) adjoint[outputs[k].index_] += seeds[k];
    sweep(top);
    swept_ = top;
  }
  /// Reverse sweep from one output with ȳ = seed.
  void backward(const Var& y, double seed = 1.0) {
    backward(std::span<const Var>(&y, 1), std::span<const double>(&seed, 1));
  }

  /// The adjoint of `x` from the latest reverse sweep (`backward` or `gradient`); 0 for constants
  /// and for variables recorded after that sweep.
  double adjoint(const Var& x) const {
    check_owned(x);
    return read_adjoint(x);
  }

  /// Drops the recording and keeps its memory. `Var`s recorded so far become stale: using one
  /// on this tape throws `TapeError`.
  void clear() {
    if (sweeping_) throw TapeError("ift::Tape::clear: called during the tape's own reverse sweep");
    destroy_closures();
    empty_recording();
    last_block_ = BlockSource{};
    swept_ = 0;
    id_ = detail::fresh_tape_id();
  }

  /// Bytes used by the current recording (statements, arguments, closure nodes and closures);
  /// not the reserved capacity, and not the sweep's adjoint buffer.
  std::size_t bytes() const noexcept {
    return statements_.size() * sizeof(std::uint8_t) + argument_index_.size() * sizeof(std::uint32_t) +
           argument_partial_.size() * sizeof(double) + closures_.size() * sizeof(detail::ClosureNode) +
           closure_inputs_.size() * sizeof(std::uint32_t) + arena_.bytes_used();
  }

  /// Bytes reserved by the tape, including the adjoint buffer: what a steady state re-recording
  /// reuses without allocating.
  std::size_t capacity_bytes() const noexcept {
    return statements_.capacity_bytes() + argument_index_.capacity_bytes() +
           argument_partial_.capacity_bytes() + closures_.capacity_bytes() +
           closure_inputs_.capacity_bytes() + arena_.bytes_reserved() + adjoints_.capacity_bytes() +
           in_adjoints_.capacity_bytes();
  }

  /// Number of recorded variables (independent ones, operation results and node outputs).
  std::size_t size() const noexcept { return statements_.size(); }

  /// Frees the memory kept for the calling thread's next tapes. A destroyed tape leaves its memory,
  /// sized by its recording, to the next tape constructed on its thread (so that a backward pass
  /// recording a nested tape allocates nothing in steady state); up to
  /// `detail::TapeStoragePool::max_kept` of them stay until the thread exits or this is called.
  static void release_thread_storage() noexcept {
    if (!detail::tape_storage_pool_destroyed) detail::tape_storage_pool.release();
  }

  /// Records y with value `value` and ∂y/∂inputsᵢ = partialsᵢ (a custom node with precomputed
  /// partials). Constant inputs are ignored; if all inputs are constant, y is a constant.
  /// @throws std::invalid_argument if the spans differ in length; TapeError for a foreign input.
  Var record(double value, std::span<const Var> inputs, std::span<const double> partials) {
    if (inputs.size() != partials.size())
      throw std::invalid_argument("ift::Tape::record: inputs and partials differ in length");
    check_recording();
    std::size_t variables = 0;
    for (const Var& x : inputs) {
      check_owned(x);
      variables += x.is_constant() ? 0 : 1;
    }
    if (variables == 0) return Var::constant(value);
    // A statement holds at most max_arguments arguments; more make a chain z₁ = Σ(first part),
    // z₂ = z₁ + Σ(next part), …, whose last variable is y.
    constexpr std::size_t most = detail::statement::max_arguments;
    // One statement of `most`, then ⌈(variables − most)/(most − 1)⌉ that also take the previous link.
    const std::size_t statements = variables <= most ? 1 : 1 + (variables - 2) / (most - 1);
    reserve(statements, variables + statements);
    std::size_t k = 0;
    for (std::size_t s = 0; s < statements; ++s) {
      const std::size_t room = s == 0 ? most : most - 1;
      const std::size_t take = std::min(room, variables);
      variables -= take;
      statements_.push_unchecked(static_cast<std::uint8_t>(s == 0 ? take : take + 1));
      if (s > 0) {
        argument_index_.push_unchecked(num_variables() - 2);
        argument_partial_.push_unchecked(1.0);
      }
      for (std::size_t taken = 0; taken < take; ++k) {
        if (inputs[k].is_constant()) continue;
        argument_index_.push_unchecked(inputs[k].index_);
        argument_partial_.push_unchecked(partials[k]);
        ++taken;
      }
    }
    return Var(value, num_variables() - 1, id_);
  }

  /// Records Y = W·X for a `double` matrix W (m × k) and a `Var` matrix X (k × c) as one block node,
  /// written to `y` (m × c; it may alias X). W is copied into the tape's arena, 8 bytes an entry where
  /// scalar statements would take 12 per term; the m·c entries of Y become the node's outputs, and
  /// the sweep adds X̄ += Wᵀ Ȳ with one dense product instead of m·k·c scattered updates. Entries of
  /// X are read once each by `coeff`, so X must not be an expression that records. Constant entries
  /// of X are not inputs.
  /// @throws TapeError for a foreign entry of X, or during this tape's sweep.
  template <class WXpr, class XXpr, class YXpr>
  void record_block(const WXpr& w, const XXpr& x, YXpr& y) {
    using Matrix = typename detail::deferred<Eigen::MatrixXd, WXpr>::type;
    using Eigen::Index;
    check_recording();
    const Index m = w.rows(), k = w.cols(), c = x.cols();
    for (Index j = 0; j < c; ++j)
      for (Index i = 0; i < k; ++i) check_owned(x.coeff(i, j));
    if (m == 0 || c == 0) return;
    const auto inputs = static_cast<std::size_t>(k * c), outputs = static_cast<std::size_t>(m * c);
    // Reserve everything first: once the node is started nothing below can throw.
    reserve(outputs, 0);
    closures_.reserve_more(1, max_index);
    closure_inputs_.reserve_more(inputs, max_index);
    scratch_.resize_for_overwrite(inputs + outputs);
    const double* block = shared_block(w);
    if (block == nullptr) {
      auto* const copy = static_cast<double*>(
          arena_.allocate(static_cast<std::size_t>(m * k) * sizeof(double), detail::Arena::block_alignment));
      Eigen::Map<Matrix>(copy, m, k) = w;
      remember_block(w, copy);
      block = copy;
    }
    using Closure = detail::BlockAdjoint<double>;
    Closure* const closure =
        ::new (arena_.allocate(sizeof(Closure), alignof(Closure))) Closure{block, m, k, c};

    const Eigen::Map<const Matrix> w_copy(block, m, k);
    Eigen::Map<Matrix> x_values(scratch_.data(), k, c), y_values(scratch_.data() + inputs, m, c);
    detail::ClosureNode node{};
    node.first_input = static_cast<std::uint32_t>(closure_inputs_.size());
    for (Index j = 0; j < c; ++j)
      for (Index i = 0; i < k; ++i) {
        const Var& e = x.coeff(i, j);
        x_values(i, j) = e.value();
        closure_inputs_.push_unchecked(e.is_constant() ? constant_input : e.index_);
      }
    detail::block_product_to(y_values, w_copy, x_values);
    node.first_output = num_variables();
    node.num_outputs = static_cast<std::uint32_t>(outputs);
    node.num_inputs = static_cast<std::uint32_t>(inputs);
    node.closure = closure;
    node.invoke = [](void* f, std::span<const double> out, std::span<double> in) {
      (*static_cast<Closure*>(f))(out, in);
    };
    node.destroy = nullptr;  // trivially destructible
    closures_.push_unchecked(node);
    // X has been read in full, so Y may overwrite it.
    for (Index j = 0; j < c; ++j)
      for (Index i = 0; i < m; ++i) {
        statements_.push_unchecked(0);
        y.coeffRef(i, j) = Var(y_values(i, j), num_variables() - 1, id_);
      }
  }

  /// Records a closure node: outputsⱼ become new variables with values output_valuesⱼ, and during
  /// a reverse sweep, once the outputs' adjoints are complete,
  /// `backward(out_adjoints, in_adjoints)` is called with `in_adjoints` zeroed (one per input);
  /// what it writes there is added to the inputs' adjoints. Constant inputs are ignored; if all
  /// inputs are constant the outputs are constants and nothing is recorded. The closure is moved
  /// into the tape and destroyed by `clear()` or the destructor. It runs with no active tape: to
  /// record, it creates a nested `Tape` of its own.
  /// @throws std::invalid_argument if `output_values` and `outputs` differ in length; TapeError
  ///         for a foreign input.
  template <class Backward>
  void add_node(std::span<const Var> inputs, std::span<const double> output_values, std::span<Var> outputs,
                Backward&& backward) {
    using Closure = std::decay_t<Backward>;
    static_assert(std::is_invocable_v<Closure&, std::span<const double>, std::span<double>>,
                  "ift::Tape::add_node: backward must be callable as "
                  "backward(std::span<const double> out_adjoints, std::span<double> in_adjoints)");
    static_assert(alignof(Closure) <= detail::Arena::block_alignment);
    if (output_values.size() != outputs.size())
      throw std::invalid_argument("ift::Tape::add_node: output_values and outputs differ in length");
    check_recording();
    bool any_variable = false;
    for (const Var& x : inputs) {
      check_owned(x);
      any_variable = any_variable || !x.is_constant();
    }
    if (!any_variable || outputs.empty()) {
      for (std::size_t j = 0; j < outputs.size(); ++j) outputs[j] = Var::constant(output_values[j]);
      return;
    }
    // Reserve everything first: once the closure is constructed nothing below can throw.
    reserve(outputs.size(), 0);
    closures_.reserve_more(1, max_index);
    closure_inputs_.reserve_more(inputs.size(), max_index);
    void* memory = arena_.allocate(sizeof(Closure), alignof(Closure));
    Closure* closure = ::new (memory) Closure(std::forward<Backward>(backward));

    detail::ClosureNode node{};
    node.first_output = num_variables();
    node.num_outputs = static_cast<std::uint32_t>(outputs.size());
    node.first_input = static_cast<std::uint32_t>(closure_inputs_.size());
    node.num_inputs = static_cast<std::uint32_t>(inputs.size());
    node.closure = closure;
    node.invoke = [](void* f, std::span<const double> out, std::span<double> in) {
      std::invoke(*static_cast<Closure*>(f), out, in);
    };
    node.destroy = nullptr;
    if constexpr (!std::is_trivially_destructible_v<Closure>)
      node.destroy = [](void* f) noexcept { static_cast<Closure*>(f)->~Closure(); };
    // Inputs are read before outputs are written, so the two spans may overlap.
    for (const Var& x : inputs) closure_inputs_.push_unchecked(x.is_constant() ? constant_input : x.index_);
    closures_.push_unchecked(node);
    for (std::size_t j = 0; j < outputs.size(); ++j) {
      statements_.push_unchecked(0);
      outputs[j] = Var(output_values[j], num_variables() - 1, id_);
    }
  }

 private:
  friend class Var;
  friend struct detail::Recorder;

  static constexpr std::size_t max_index = std::numeric_limits<std::uint32_t>::max() - 1;
  static constexpr std::size_t max_arguments = std::numeric_limits<std::size_t>::max() / sizeof(double);
  static constexpr std::uint32_t constant_input = std::numeric_limits<std::uint32_t>::max();

  /// Marks a sweep in progress (a closure must not sweep or clear the tape it belongs to).
  class SweepGuard {
   public:
    explicit SweepGuard(const Tape& tape) : tape_(tape) {
      if (tape_.sweeping_) throw TapeError("ift::Tape: reverse sweep started during the same tape's sweep");
      tape_.sweeping_ = true;
      tape_.swept_ = 0;
    }
    ~SweepGuard() { tape_.sweeping_ = false; }
    SweepGuard(const SweepGuard&) = delete;
    SweepGuard& operator=(const SweepGuard&) = delete;

   private:
    const Tape& tape_;
  };

  std::uint32_t num_variables() const noexcept { return static_cast<std::uint32_t>(statements_.size()); }

  void check_owned(const Var& x) const {
    if (!x.is_constant() && x.tape_id_ != id_) throw TapeError(detail::foreign_var_message);
  }
  void check_recording() const {
    if (sweeping_) throw TapeError("ift::Tape: recording on a tape during its own reverse sweep");
  }

  /// Room for `variables` statements and `arguments` arguments. The partials' capacity follows the
  /// indices' (there are never more partials than indices), so the hot path tests only the indices.
  void reserve(std::size_t variables, std::size_t arguments) {
    statements_.reserve_more(variables, max_index);
    argument_index_.reserve_more(arguments, max_arguments);
    argument_partial_.reserve_total(argument_index_.capacity());
  }

  // The hot path of every operation: one capacity test per array, then plain stores. The kind byte
  // is stored last: a byte store may alias anything, and would make the compiler reload the others.

  /// Stores the kind byte of the statement whose arguments were just pushed; its new variable.
  Var finish(double value, std::uint8_t kind) noexcept {
    const Var z(value, num_variables(), id_);
    statements_.push_unchecked(kind);
    return z;
  }
  std::uint32_t push_independent() {
    if (statements_.spare() < 1) [[unlikely]]
      reserve(1, 0);
    statements_.push_unchecked(0);
    return num_variables() - 1;
  }
  /// A statement of kind `kind` with one argument whose partial is implied by the kind.
  Var push_implied(double value, std::uint8_t kind, std::uint32_t i) {
    if (statements_.spare() < 1 || argument_index_.spare() < 1) [[unlikely]]
      reserve(1, 1);
    argument_index_.push_unchecked(i);
    return finish(value, kind);
  }
  /// A statement of kind `kind` with two arguments whose partials are implied by the kind.
  Var push_implied(double value, std::uint8_t kind, std::uint32_t i, std::uint32_t j) {
    if (statements_.spare() < 1 || argument_index_.spare() < 2) [[unlikely]]
      reserve(1, 2);
    argument_index_.push_unchecked(i);
    argument_index_.push_unchecked(j);
    return finish(value, kind);
  }
  Var push(double value, std::uint32_t i, double di) {
    if (statements_.spare() < 1 || argument_index_.spare() < 1) [[unlikely]]
      reserve(1, 1);
    argument_index_.push_unchecked(i);
    argument_partial_.push_unchecked(di);
    return finish(value, 1);
  }
  Var push(double value, std::uint32_t i, double di, std::uint32_t j, double dj) {
    if (statements_.spare() < 1 || argument_index_.spare() < 2) [[unlikely]]
      reserve(1, 2);
    argument_index_.push_unchecked(i);
    argument_index_.push_unchecked(j);
    argument_partial_.push_unchecked(di);
    argument_partial_.push_unchecked(dj);
    return finish(value, 2);
  }

  /// Where the arguments of statement `top` begin: the (index, partial) offsets after all statements
  /// before it, counted from whichever end of the recording is nearer.
  std::pair<std::size_t, std::size_t> argument_offsets(std::uint32_t top) const noexcept {
    const std::uint8_t* const kinds = statements_.data();
    std::size_t indices = 0, partials = 0;
    if (top <= num_variables() - top) {
      for (std::uint32_t j = 0; j < top; ++j) {
        indices += detail::statement::argument_count[kinds[j]];
        partials += detail::statement::partial_count[kinds[j]];
      }
    } else {
      indices = argument_index_.size();
      partials = argument_partial_.size();
      for (std::uint32_t j = top; j < num_variables(); ++j) {
        indices -= detail::statement::argument_count[kinds[j]];
        partials -= detail::statement::partial_count[kinds[j]];
      }
    }
    return {indices, partials};
  }

  /// Grows the adjoint buffer to cover variables [0, top) — widened so that no closure node has
  /// only some of its outputs inside — and zeroes it. Returns the widened top.
  std::uint32_t prepare_adjoints(std::uint32_t top) const {
    for (std::size_t c = closures_.size(); c > 0; --c) {
      const detail::ClosureNode& node = closures_.data()[c - 1];
      if (node.first_output < top) {
        top = std::max(top, node.first_output + node.num_outputs);
        break;
      }
    }
    adjoints_.resize_for_overwrite(std::max<std::size_t>(top, adjoints_.size()));
    std::fill(adjoints_.data(), adjoints_.data() + top, 0.0);
    return top;
  }

  /// Reverse sweep from y with ȳ = 1 over the variables up to y.
  void reverse(const Var& y) const {
    check_owned(y);
    const SweepGuard guard(*this);
    if (y.is_constant()) return;  // swept_ stays 0: every adjoint reads 0
    const std::uint32_t top = prepare_adjoints(y.index_ + 1);
    adjoints_.data()[y.index_] = 1.0;
    sweep(top);
    swept_ = top;
  }

  double read_adjoint(const Var& x) const noexcept {
    return !x.is_constant() && x.index_ < swept_ ? adjoints_.data()[x.index_] : 0.0;
  }

  /// The sweep proper: statements [0, top) from the last to the first, x̄ᵢ += ∂fⱼ/∂xᵢ · x̄ⱼ,
  /// with each closure node run when the sweep reaches its outputs.
  void sweep(std::uint32_t top) const {
    namespace statement = detail::statement;
    double* const adjoint = adjoints_.data();
    const std::uint8_t* const kinds = statements_.data();
    const auto [index_offset, partial_offset] = argument_offsets(top);
    // One past the current statement's arguments; each statement steps them back by its counts.
    const std::uint32_t* index = argument_index_.data() + index_offset;
    const double* partial = argument_partial_.data() + partial_offset;
    std::size_t c = closures_.size();
    while (c > 0 && closures_.data()[c - 1].first_output >= top) --c;
    std::uint32_t hi = top;
    for (;;) {
      const detail::ClosureNode* node = c > 0 ? &closures_.data()[c - 1] : nullptr;
      const std::uint32_t lo = node != nullptr ? node->first_output + node->num_outputs : 0;
      for (std::uint32_t j = hi; j > lo;) {
        --j;
        const std::uint8_t kind = kinds[j];
        index -= statement::argument_count[kind];
        partial -= statement::partial_count[kind];
        const double a = adjoint[j];
        if (a == 0.0) continue;
        switch (kind) {
          case statement::shifted:
            adjoint[index[0]] += a;
            break;
          case statement::negated:
            adjoint[index[0]] -= a;
            break;
          case statement::sum:
            adjoint[index[0]] += a;
            adjoint[index[1]] += a;
            break;
          case statement::difference:
            adjoint[index[0]] += a;
            adjoint[index[1]] -= a;
            break;
          default:
            for (std::uint8_t k = 0; k < kind; ++k) adjoint[index[k]] += partial[k] * a;
        }
      }
      if (node == nullptr) break;
      run_closure(*node);  // its outputs have no arguments: index and partial stay put
      hi = node->first_output;
      --c;
    }
  }

  void run_closure(const detail::ClosureNode& node) const {
    double* const adjoint = adjoints_.data();
    const std::span<const double> out(adjoint + node.first_output, node.num_outputs);
    if (std::all_of(out.begin(), out.end(), [](double a) { return a == 0.0; })) return;
    in_adjoints_.resize_for_overwrite(node.num_inputs);
    const std::span<double> in(in_adjoints_.data(), node.num_inputs);
    std::fill(in.begin(), in.end(), 0.0);
    {
      // The closure sees no active tape, so it cannot record on this one by accident.
      const detail::ActiveTapeScope scope(nullptr);
      node.invoke(node.closure, out, in);
    }
    const std::uint32_t* const inputs = closure_inputs_.data() + node.first_input;
    for (std::uint32_t k = 0; k < node.num_inputs; ++k)
      if (inputs[k] != constant_input) adjoint[inputs[k]] += in[k];
  }

  /// Where the latest block node's W was read from, and its copy in the arena.
  struct BlockSource {
    const double* data = nullptr;
    Eigen::Index rows = 0, cols = 0, outer_stride = 0;
    bool row_major = false;
    const double* copy = nullptr;
  };

  /// The copy of the latest block node's W if `w` is the same matrix again: read from the same
  /// memory, in the same layout, with the same entries (an unrolled iteration multiplies by one W at
  /// every step; sharing its copy stores it once instead of once per step). Otherwise nullptr.
  template <class WXpr>
  const double* shared_block(const WXpr& w) const {
    using Matrix = typename detail::deferred<Eigen::MatrixXd, WXpr>::type;
    if constexpr ((WXpr::Flags & Eigen::DirectAccessBit) != 0) {
      const BlockSource& last = last_block_;
      if (last.copy == nullptr || last.data != w.data() || last.rows != w.rows() || last.cols != w.cols() ||
          last.outer_stride != w.outerStride() || last.row_major != bool(WXpr::IsRowMajor) ||
          w.innerStride() != 1)
        return nullptr;
      return (Eigen::Map<const Matrix>(last.copy, w.rows(), w.cols()).array() == w.array()).all() ? last.copy
                                                                                                  : nullptr;
    } else {
      return nullptr;
    }
  }
  template <class WXpr>
  void remember_block(const WXpr& w, const double* copy) noexcept {
    if constexpr ((WXpr::Flags & Eigen::DirectAccessBit) != 0)
      last_block_ = BlockSource{w.data(), w.rows(), w.cols(), w.outerStride(), bool(WXpr::IsRowMajor), copy};
  }

  /// Swaps every buffer with `storage`'s.
  void exchange_storage(detail::TapeStorage& storage) noexcept {
    using std::swap;
    swap(statements_, storage.statements);
    swap(argument_index_, storage.argument_index);
    swap(argument_partial_, storage.argument_partial);
    swap(closures_, storage.closures);
    swap(closure_inputs_, storage.closure_inputs);
    swap(arena_, storage.arena);
    swap(adjoints_, storage.adjoints);
    swap(in_adjoints_, storage.in_adjoints);
    swap(scratch_, storage.scratch);
  }
  /// Empties the buffers of the recording (not the sweep's), keeping their capacity.
  void empty_recording() noexcept {
    statements_.clear();
    argument_index_.clear();
    argument_partial_.clear();
    closures_.clear();
    closure_inputs_.clear();
    arena_.reset();
  }
  /// Empties every buffer, keeping its capacity.
  void empty_buffers() noexcept {
    empty_recording();
    adjoints_.clear();
    in_adjoints_.clear();
    scratch_.clear();
  }

  void destroy_closures() noexcept {
    for (std::size_t c = closures_.size(); c > 0; --c) {
      const detail::ClosureNode& node = closures_.data()[c - 1];
      if (node.destroy != nullptr) node.destroy(node.closure);
    }
    closures_.clear();
  }

  std::uint32_t id_;
  Tape* previous_;
  detail::PodBuffer<std::uint8_t> statements_;       // per variable: its statement's kind
  detail::PodBuffer<std::uint32_t> argument_index_;  // per argument: the argument's variable
  detail::PodBuffer<double> argument_partial_;       // per stored partial: ∂(statement)/∂(argument)
  detail::PodBuffer<detail::ClosureNode> closures_;  // in recording order
  detail::PodBuffer<std::uint32_t> closure_inputs_;  // the closures' input variables
  detail::Arena arena_;                              // the closure objects and blocks
  detail::PodBuffer<double> scratch_;                // scratch for recording a block node
  BlockSource last_block_;                           // the latest block node's W

  mutable detail::PodBuffer<double> adjoints_;     // the sweep's x̄, one per variable
  mutable detail::PodBuffer<double> in_adjoints_;  // scratch for a closure's input adjoints
  mutable std::uint32_t swept_ = 0;                // adjoints_[0, swept_) hold the latest sweep
  mutable bool sweeping_ = false;
};

/// Records a closure node on the active tape (see `Tape::add_node`).
/// @throws TapeError if no tape is active.
template <class Backward>
void add_node(std::span<const Var> inputs, std::span<const double> output_values, std::span<Var> outputs,
              Backward&& backward) {
  Tape* tape = Tape::active();
  if (tape == nullptr) detail::throw_misuse(nullptr);
  tape->add_node(inputs, output_values, outputs, std::forward<Backward>(backward));
}

inline Var::Var(double value) : value_(value) {
  Tape* tape = detail::active_tape;
  if (tape == nullptr) [[unlikely]]
    detail::throw_misuse(nullptr);
  index_ = tape->push_independent();
  tape_id_ = tape->id_;
}

namespace detail {

inline Tape* Recorder::owning_tape(const Var& a) {
  Tape* tape = active_tape;
  if (tape == nullptr || tape->id_ != a.tape_id_) [[unlikely]]
    throw_misuse(tape);
  return tape;
}

inline Tape* Recorder::owning_tape(const Var& a, const Var& b) {
  Tape* tape = active_tape;
  if (tape == nullptr || tape->id_ != a.tape_id_ || b.tape_id_ != a.tape_id_) [[unlikely]]
    throw_misuse(tape);
  return tape;
}

inline Var Recorder::unary(double value, const Var& a, double da) {
  if (a.tape_id_ == 0) return Var(value, 0, 0);
  return owning_tape(a)->push(value, a.index_, da);
}

inline Var Recorder::binary(double value, const Var& a, double da, const Var& b, double db) {
  if (a.tape_id_ == 0) return unary(value, b, db);
  if (b.tape_id_ == 0) return unary(value, a, da);
  return owning_tape(a, b)->push(value, a.index_, da, b.index_, db);
}

inline Var Recorder::shifted(double value, const Var& a) {
  if (a.tape_id_ == 0) return Var(value, 0, 0);
  return owning_tape(a)->push_implied(value, statement::shifted, a.index_);
}

inline Var Recorder::negated(double value, const Var& a) {
  if (a.tape_id_ == 0) return Var(value, 0, 0);
  return owning_tape(a)->push_implied(value, statement::negated, a.index_);
}

inline Var Recorder::sum(double value, const Var& a, const Var& b) {
  if (a.tape_id_ == 0) return shifted(value, b);
  if (b.tape_id_ == 0) return shifted(value, a);
  return owning_tape(a, b)->push_implied(value, statement::sum, a.index_, b.index_);
}

inline Var Recorder::difference(double value, const Var& a, const Var& b) {
  if (a.tape_id_ == 0) return negated(value, b);
  if (b.tape_id_ == 0) return shifted(value, a);
  return owning_tape(a, b)->push_implied(value, statement::difference, a.index_, b.index_);
}

inline Var Recorder::locally_constant(double value, const Var& a) {
  if (a.tape_id_ == 0) return Var(value, 0, 0);
  Tape* tape = owning_tape(a);
  return Var(value, tape->push_independent(), tape->id_);
}

template <class WXpr, class XXpr, class YXpr>
void Recorder::block_product(const WXpr& w, const XXpr& x, YXpr& y) {
  bool any_variable = false;
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i) any_variable = any_variable || !x.coeff(i, j).is_constant();
  if (!any_variable) {
    const Eigen::MatrixXd values = x.unaryExpr([](const Var& e) { return e.value(); });
    y = (w * values).unaryExpr([](double e) { return Var::constant(e); });
    return;
  }
  Tape* tape = active_tape;
  if (tape == nullptr) [[unlikely]]
    throw_misuse(nullptr);
  tape->record_block(w, x, y);
}

}  // namespace detail
}  // namespace ift
