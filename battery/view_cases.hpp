#pragma once
// Tensors as real kernels receive them (docs/abi.md, "Tensor views"): problems
// whose data tensors are strided, permuted, in two memory formats or written in
// place. Each is a problem string like any other, so its repro line is the problem;
// certify's views group judges each with the same error model as a dense call.
#include <string>
#include <vector>

#include "core/problem.hpp"

namespace bnconform::battery {

struct view_case {
  std::string name;  // "padded-rows", "in-place", ...
  std::string why;   // what a kernel gets wrong there
  problem prob;      // training; the runner also makes it an eval call
};

// The cases for one data dtype in one profile: 3 channels and a few hundred
// elements each, rank 4, the views described on each case.
std::vector<view_case> view_cases(dtype data_type, profile pf);

}  // namespace bnconform::battery
