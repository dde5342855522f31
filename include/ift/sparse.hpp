#pragma once
/// \file
/// The sparse linear solvers, for `Implicit<LS>` and `Newton{.linear_solver}`: `BandedLU` (LU with
/// partial pivoting in band storage, for narrow bands), `SparseLU` (Eigen's supernodal LU with a
/// COLAMD ordering), both on a Jacobian whose pattern is detected and filled by colored forward
/// passes, and `Auto` (dense LU when small or dense, banded or sparse LU otherwise); and
/// `SparseAnalysis`, which keeps a pattern and its symbolic factorization across solves. Include it
/// beside `<ift/ift.hpp>`; it compiles Eigen's sparse factorizations, which the umbrella leaves out.

#include "ift/linalg/auto.hpp"
#include "ift/linalg/banded_lu.hpp"
#include "ift/linalg/sparse_lu.hpp"
#include "ift/sparsity.hpp"
