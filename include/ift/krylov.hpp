#pragma once
/// \file
/// The matrix-free linear solvers, for `Implicit<LS>`, `Newton{.linear_solver}` (Newton–Krylov) and
/// the matrix-free `linear_solve`: `GMRES`, `BiCGSTAB` and `CG` (Eigen's iterative solvers driven
/// by products with ∂c/∂x, one forward pass or one reverse sweep each; ∂c/∂x is never formed).
/// Include it beside `<ift/ift.hpp>`.

#include "ift/linalg/krylov.hpp"
