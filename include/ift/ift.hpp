#pragma once
/// \file
/// Umbrella header: everything public in ift.

#include "ift/derivatives.hpp"
#include "ift/dual.hpp"
#include "ift/errors.hpp"
#include "ift/fixed_point.hpp"
#include "ift/implicit.hpp"
#include "ift/least_squares.hpp"
#include "ift/linear_solve.hpp"
#include "ift/minimize.hpp"
#include "ift/root.hpp"
#include "ift/solution.hpp"
#include "ift/sparsity.hpp"
#include "ift/tree.hpp"
#include "ift/var.hpp"
