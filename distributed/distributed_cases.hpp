#pragma once
// Certify's distributed group (docs/battery.md, "Distributed"): the SyncBatchNorm
// cases, each one or more jobs of distributed calls over at most `ranks` ranks,
// for every data dtype and layout the kernel declares. Each call is judged
// against the whole batch (judge.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "bnconform/kernel.h"
#include "distributed_call.hpp"

namespace bnconform::distributed {

struct distributed_job {
  int ranks = 1;
  std::vector<distributed_call> calls;
};

struct distributed_case {
  std::string name;                   // "uneven-shards", ...
  std::string why;                    // what a kernel gets wrong there
  std::vector<distributed_job> jobs;  // empty: the case needs more ranks than given
  std::string needs;                  // why it has no job, when so
};

std::vector<distributed_case> distributed_cases(const bnc_capabilities& caps, profile pf, int ranks,
                                                std::uint64_t seed);
// The names, in order, whatever the ranks.
std::vector<std::string> distributed_case_names();

}  // namespace bnconform::distributed
