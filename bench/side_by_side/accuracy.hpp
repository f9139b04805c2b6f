#pragma once
// The accuracy column: each kernel judged against the reference at the strict
// level on an offset input (|mean| / std large), on a channel-sliced version of
// the case that the reference can afford.
#include <string>
#include <vector>

#include "bnconform/kernel.h"
#include "cases.hpp"
#include "core/kernel.hpp"

namespace bnconform::bench {

struct accuracy {
  bool judged = false;
  std::string verdict;       // check's verdict at strict ("pass", "fail", ...)
  double worst_ratio = 0;    // worst error / strict budget
  std::string worst_output;  // where
};

// The sliced problem: 2 channels, the case's spatial extent, and N cut so that a
// channel holds at most `max_reduction` values.
problem accuracy_problem(const bench_case& c, std::int64_t max_reduction);

// Judges each kernel on the same inputs, the reference computed once.
// x = offset + N(0, 1), offset 1e4 for f32 (about 2^13 std) and 100 for bf16 (whose
// 8 bits cannot hold 1e4 + N(0, 1) as anything but a few distinct values).
std::vector<accuracy> judge_kernels(const std::vector<const bnc_kernel*>& kernels,
                                    const bench_case& c, std::int64_t max_reduction);

}  // namespace bnconform::bench
