// Must not compile: a field of the parameter struct is not a tree; the error names the struct
// and the field's type.
// expected: not_a_parameter_tree<Model<double>, std::[_a-z0-9:]*basic_string
#include <ift/implicit.hpp>
#include <string>

template <class T>
struct Model {
  T rate;
  std::string name;
};

int main() {
  const auto c = [](const auto& x, const auto& model) { return x * x - model.rate; };
  return ift::implicit(c, 3.0, Model<double>{9.0, "decay"}) > 0.0 ? 0 : 1;
}
