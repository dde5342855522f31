#pragma once
/// \file
/// The sparse linear solvers, for `Implicit<LS>` and `Newton{.linear_solver}`: `SparseLU` (Eigen's
/// supernodal LU with a COLAMD ordering, on a Jacobian whose pattern is detected and filled by
/// colored forward passes) and `Auto` (dense LU when small or dense, sparse LU otherwise). Include
/// it beside `<ift/ift.hpp>`; it compiles Eigen's sparse factorizations, which the umbrella leaves
/// out.

#include "ift/linalg/auto.hpp"
#include "ift/linalg/sparse_lu.hpp"
#include "ift/sparsity.hpp"
