// The host side of the CUDA kernel: call_checks.cpp validates a call, then
// bn_kernels.cu runs it on the device.
#include "cuda_kernel.hpp"

#include <climits>

#include "call_checks.hpp"

namespace bnconform::cuda {

namespace {

bnc_status forward_entry(void*, const bnc_problem* descriptor, const bnc_forward_args* a,
                         char* message, std::size_t size) {
  return checked_forward(descriptor, a, message, size, run_forward);
}

bnc_status backward_entry(void*, const bnc_problem* descriptor, const bnc_backward_args* a,
                          char* message, std::size_t size) {
  return checked_backward(descriptor, a, message, size, run_backward);
}

constexpr bnc_capabilities capabilities = {
    BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING | BNC_OP_BACKWARD_EVAL,
    BNC_BIT(BNC_DTYPE_F64) | BNC_BIT(BNC_DTYPE_F32) | BNC_BIT(BNC_DTYPE_F16) |
        BNC_BIT(BNC_DTYPE_BF16),
    BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST),
    BNC_BIT(BNC_PROFILE_PYTORCH),
    2,
    INT32_MAX,
    BNC_MEMORY_DEVICE,
    0};

const bnc_kernel description = {BNC_ABI_VERSION, sizeof(bnc_kernel), "cuda",
                                "0.1.0",         capabilities,       nullptr,
                                forward_entry,   backward_entry,     0};

}  // namespace

const bnc_kernel* cuda_kernel() { return &description; }

}  // namespace bnconform::cuda
