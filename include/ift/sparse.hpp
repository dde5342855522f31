#pragma once
/// \file
/// The sparse LU, for `Implicit<LS>` and `Newton{.linear_solver}`: `SparseLU` (Eigen's supernodal LU
/// with a COLAMD ordering) on a Jacobian whose pattern is detected and filled by colored forward
/// passes, which keeps its symbolic factorization in a `SparseAnalysis` across solves. Including it
/// also lets `Auto` (the default linear solver) factorize sparse Jacobians outside a narrow band by
/// sparse LU rather than densely. Include it beside `<ift/ift.hpp>`; it compiles Eigen's sparse LU,
/// which the umbrella leaves out. (`BandedLU`, `Auto` and `SparseAnalysis` are in the umbrella.)

#include "ift/linalg/auto.hpp"
#include "ift/linalg/banded_lu.hpp"
#include "ift/linalg/sparse_lu.hpp"
#include "ift/sparsity.hpp"
