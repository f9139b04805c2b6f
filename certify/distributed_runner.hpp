#pragma once
// The distributed group's items (SyncBatchNorm): each case's jobs run through
// mpiexec, one process per rank (distributed/launcher.hpp), and each call judged
// against the whole batch (distributed/judge.hpp). A rank that dies or hangs is a
// finding of the item, with where each rank was; the job is ended within the case
// timeout.
#include <functional>

#include "battery_runner.hpp"

namespace bnconform::certify {

void run_distributed_item(const kernel& k, const item& it, const repro_context& r, item_outcome& o,
                          const std::function<void()>& alive);

}  // namespace bnconform::certify
