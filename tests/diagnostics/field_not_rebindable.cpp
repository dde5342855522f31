// Must not compile: a struct that is not a template holds a Var, so it cannot be rebound to double;
// the error names the struct, the scalar and the field in the way.
// expected: cannot_rebind_field<Fixed, double, ift::Var>
#include <ift/root.hpp>

struct Fixed {
  ift::Var rate;
  double scale;
};

int main() {
  ift::Tape tape;
  const auto f = [](const auto& x, const auto& p) { return p.scale * x - p.rate; };
  return ift::root(f, 1.0, Fixed{ift::Var(2.0), 1.0}).x.value() > 0.0 ? 0 : 1;
}
