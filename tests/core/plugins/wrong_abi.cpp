// A kernel library built against a future ABI: major version 2. The loader must
// refuse it after reading abi_version, before it reads anything else.
#include "bnconform/kernel.h"

namespace {

bnc_status forward(void*, const bnc_problem*, const bnc_forward_args*, char*, size_t) {
  return BNC_STATUS_INTERNAL_ERROR;
}
bnc_status backward(void*, const bnc_problem*, const bnc_backward_args*, char*, size_t) {
  return BNC_STATUS_INTERNAL_ERROR;
}

// Everything except the version is a well-formed description, so the version is
// the only reason to refuse it.
const bnc_kernel description = {
    2u << 16,
    sizeof(bnc_kernel),
    "wrong_abi",
    "2.0.0",
    {BNC_OP_FORWARD_TRAINING, BNC_BIT(BNC_DTYPE_F32), BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST),
     BNC_BIT(BNC_PROFILE_PYTORCH), 2, 2, BNC_MEMORY_HOST, 0},
    nullptr,
    forward,
    backward,
    0};

}  // namespace

extern "C" BNC_EXPORT const bnc_kernel* bnconform_kernel(void) { return &description; }
