#pragma once
// The kernels the property battery certifies in ctest, each with the level it must
// pass. Adding a kernel is one line here (and its library in CMakeLists.txt).
#include <string>
#include <vector>

#include "check/level.hpp"
#include "impl/cpu/cpu_kernel.hpp"
#include "impl/mutants/model_kernel.hpp"
#include "properties/generated_case.hpp"
#include "reference/reference_kernel.hpp"

namespace bnconform::testing {

struct kernel_under_test {
  std::string name;
  const bnc_kernel* description;
  check::level level;
  std::vector<properties::value_kind> kinds;  // empty: every kind
  bool exact_fill_statistics = true;          // false for Welford (see property_options)
};

// The 128-bit reference refuses (BNC_STATUS_INTERNAL_ERROR, never a wrong value)
// inputs that span more than 128 binary orders of magnitude: tiny and subnormal
// values, near-overflow magnitudes and raw bit patterns do. It is run on the rest.
inline std::vector<properties::value_kind> within_128_orders() {
  using properties::value_kind;
  return {value_kind::normal,       value_kind::uniform,           value_kind::exact_fill,
          value_kind::large_offset, value_kind::constant_channels, value_kind::sprinkled_nonfinite,
          value_kind::heavy_tail};
}

inline std::vector<kernel_under_test> correct_kernels() {
  std::vector<kernel_under_test> out{{"reference-128", reference::reference_kernel(128),
                                      check::level::strict, within_128_orders(), true}};
  for (const auto& mo : mutants::correct_models()) {
    out.push_back({std::string(mo.name),
                   &mo.kernel,
                   *check::parse_level(mo.expectation),
                   {},
                   mo.sums != mutants::reduction::welford});
  }
  out.push_back({"cpu", cpu::cpu_kernel(), check::level::strict, {}, true});
  return out;
}

}  // namespace bnconform::testing
