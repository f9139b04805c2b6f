#pragma once
// libtorch's CPU batch normalization (ATen's native_batch_norm and
// native_batch_norm_backward, libtorch 1.13) behind the kernel ABI, at 2 threads.
#include "bnconform/kernel.h"

namespace bnconform::libtorch {

// The description is static and lives for the whole program. The first call sets
// ATen's intra-op thread count to 2 (libtorch's default here is 1).
const bnc_kernel* libtorch_kernel();

// For the benchmark only: the same calls without the copy of ATen's results into
// the caller's buffers (ATen 1.13 cannot write into them), so that the peer is
// timed as a PyTorch user runs it. It writes no y, dx or saved statistics: never
// judge its outputs.
const bnc_kernel* libtorch_timing_kernel();

}  // namespace bnconform::libtorch
