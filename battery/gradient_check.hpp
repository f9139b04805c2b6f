#pragma once
// Gradient checks of a kernel: its backward against central differences of its
// own forward, with no reference involved (docs/battery.md derives the bound).
// Every component of dx, dgamma and dbeta for small tensors; directional
// derivatives along random directions for large ones.
#include <cstdint>
#include <string>

#include "check/level.hpp"
#include "core/kernel.hpp"

namespace bnconform::battery {

struct gradcheck_options {
  std::int64_t full_limit = 256;  // element counts up to this get every component
  int directions = 4;             // directional derivatives above it
  std::uint64_t seed = 1;         // for the directions
};

struct gradient_report {
  check::verdict result = check::verdict::pass;
  std::string reason;
  double worst_ratio = 0;   // |finite difference - analytic| / bound, worst component
  std::string worst_where;  // "dx[1,0,2]", "dgamma[1]", "direction 3"
  std::int64_t components = 0;
  std::string repro;
  std::string describe() const;
};

// The loss is L = sum dy * y. Needs a kernel that declares f64 forward and
// backward for the problem (f64 data); anything else is `unsupported`.
gradient_report gradcheck(const kernel& k, const problem& p, const tensor& x, const tensor& dy,
                          const module_state& state, const gradcheck_options& opt = {});

}  // namespace bnconform::battery
