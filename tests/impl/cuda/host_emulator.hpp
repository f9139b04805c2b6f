#pragma once
// The CUDA kernel's device side run on the host: the same launch plan, the same
// thread-to-element assignment, the same per-thread folding order, the same merge
// trees, and the same __host__ __device__ arithmetic as bn_kernels.cu. With the
// device code built with --fmad=false its results are the GPU's bit for bit, so
// the ordinary test run checks the kernel's numerics and indexing without a GPU.
#include <cstdint>
#include <string>

#include "bnconform/kernel.h"
#include "impl/cuda/device_call.hpp"

namespace bnconform::cuda::testing {

std::string emulate_forward(const device_forward& call);
std::string emulate_backward(const device_backward& call);

// The target_blocks the emulation plans with (default: an H100's 132 SMs x 8).
void set_emulated_target_blocks(std::int64_t blocks);

// The CUDA kernel's entry points (call_checks.cpp) over the emulation, as a
// host-memory kernel: "cuda-emulated".
const bnc_kernel* emulated_kernel();

}  // namespace bnconform::cuda::testing
