#pragma once
// The set of scalar modes a mode check runs (support/modes.hpp, support/vector_modes.hpp).

#include <type_traits>

#include "ift/implicit.hpp"

namespace ift_test {

/// Which modes `check_scalar_modes` and `check_vector_modes` run. An unrolled solve takes `essential`:
/// forward, nested forward and reverse are three ways of differentiating its iterations, while several
/// directions at once (N = 2, 3, Dynamic) only repeat `Dual`'s own arithmetic (tests/dual*.test.cpp) at
/// the cost of more instantiations of the whole solver. The implicit rule handles several directions
/// itself, so it takes `all`.
enum class ModeSet { all, essential };

/// The modes and the adjoint of a check of one solve, implicit (false) or unrolled (true).
template <bool unrolled>
inline constexpr ModeSet modes_for = unrolled ? ModeSet::essential : ModeSet::all;
template <bool unrolled>
using AdjointFor = std::conditional_t<unrolled, ift::Unrolled, ift::Implicit<>>;

}  // namespace ift_test
