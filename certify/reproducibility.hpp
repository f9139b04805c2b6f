#pragma once
// The reproducibility group: the same calls under other CPU counts and thread
// counts give the same bits. Each item runs `bnconform run --problem P --seed S`
// (a forward training step, then its backward) three times, each in a process of
// its own started from the bnconform command: as the machine runs it, restricted to
// one CPU (sched_setaffinity) with OMP_NUM_THREADS=1, and with OMP_NUM_THREADS one
// above the CPU count, and compares every output and state bit for bit with the
// first. A kernel whose bits follow the CPU count (sums cut into one chunk per CPU)
// fails at strict and is reported at standard: "results depend on the CPU count".
#include <string>
#include <vector>

#include "battery_runner.hpp"
#include "bnconform/kernel.h"
#include "plan.hpp"

namespace bnconform::certify {

// One item per declared (dtype, layout) with a training forward: a problem of 184,320
// elements (C = 40: a vector's remainder) at the rank the kernel declares.
std::vector<item> reproducibility_items(const bnc_capabilities& caps, const settings& s);

// Runs in certify's worker; the runs need settings::executable and the --kernel
// argument of the repro context (the runs reach the kernel by it).
void run_reproducibility_item(const item& it, const repro_context& r, item_outcome& o);

}  // namespace bnconform::certify
