// Must not compile: int is not an adjoint linear solver.
// expected: must satisfy ift::LinearSolver
#include <ift/root.hpp>

int main() {
  const auto f = [](const auto& x, const auto& theta) { return x * x - theta; };
  return ift::root(f, 1.0, ift::Dual<double>(9.0, 1.0), ift::Newton{}, ift::Implicit<int>{}).x.value() > 0.0
             ? 0
             : 1;
}
