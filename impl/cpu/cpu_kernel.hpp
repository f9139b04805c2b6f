#pragma once
// The optimized CPU kernel behind the bnconform kernel ABI (README.md in this
// folder): all four operations, f64 / f32 / f16 / bf16 data, both layouts, any
// rank >= 2, the pytorch profile. It keeps the module state itself
// (keeps_module_state = 1), like the reference.
#include "bnconform/kernel.h"

namespace bnconform::cpu {

// The kernel description; static, valid for the whole program.
const bnc_kernel* cpu_kernel();

// Threads used by later calls: n > 0 fixes the count, n <= 0 restores the default
// (BNCONFORM_CPU_THREADS, else the hardware concurrency). Results are bitwise the
// same for every count.
void set_thread_count(int n);
int thread_count();

// The instruction-set variant the kernel runs ("x86-64-v3" or "baseline").
const char* variant_name();

}  // namespace bnconform::cpu
