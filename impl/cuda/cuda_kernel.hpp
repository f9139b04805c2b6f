#pragma once
// The CUDA kernel behind the C ABI (device memory, every operation, dtype, layout
// and rank of the pytorch profile). The caller keeps the module state: the kernel
// uses exponential_average_factor and never touches num_batches_tracked.
#include "bnconform/kernel.h"

namespace bnconform::cuda {

// Static description, valid for the whole program. Calling it needs no device;
// its entry points report BNC_STATUS_INTERNAL_ERROR when CUDA fails.
const bnc_kernel* cuda_kernel();

}  // namespace bnconform::cuda
