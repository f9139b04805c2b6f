#include <cstdio>
#include <cstdlib>

#include "harness.hpp"

namespace bnconform::fuzzing {

void finding(std::string_view what) {
  std::fprintf(stderr, "finding: %.*s\n", static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace bnconform::fuzzing
