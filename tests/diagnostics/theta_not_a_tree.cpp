// Must not compile: a std::string is not a parameter tree; the error says so once and lists what is.
// expected: this input is not a parameter tree
#include <ift/root.hpp>
#include <string>

int main() {
  const auto f = [](const auto& x, const auto& theta) { return x * x - theta; };
  return ift::root(f, 1.0, std::string("nine")).x > 0.0 ? 0 : 1;
}
