#pragma once
/// \file
/// Umbrella header: the scalars, trees, derivatives, the implicit rule, every entry point and
/// primal solver, the dense linear solvers (`DenseLU`, `DenseQR`, `LDLT`), `BandedLU`, and `Auto` (the
/// default: dense, banded or sparse LU as J's size and pattern say). Like Eigen's modules, the heavier
/// linear algebra is opt-in:
///  * `<ift/sparse.hpp>` — `SparseLU` (Eigen's SparseLU and COLAMD), which `Auto` then uses for
///    sparse Jacobians outside a narrow band (without it, those are factorized densely);
///  * `<ift/krylov.hpp>` — the matrix-free `GMRES`, `BiCGSTAB` and `CG` (Eigen's iterative solvers);
///  * `<ift/constraints.hpp>` — projections, proximal operators and the constrained entry points.

#include "ift/derivatives.hpp"
#include "ift/dual.hpp"
#include "ift/errors.hpp"
#include "ift/fixed_point.hpp"
#include "ift/implicit.hpp"
#include "ift/least_squares.hpp"
#include "ift/linalg/auto.hpp"
#include "ift/linalg/dense.hpp"
#include "ift/linear_solve.hpp"
#include "ift/minimize.hpp"
#include "ift/root.hpp"
#include "ift/solution.hpp"
#include "ift/sparsity.hpp"
#include "ift/tree.hpp"
#include "ift/var.hpp"
