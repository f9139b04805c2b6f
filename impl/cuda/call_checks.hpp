#pragma once
// The ABI entry points of the CUDA kernel up to the device: validation, statuses
// and messages, and the translation of the ABI's arguments into a device call.
// Host code only, so the ordinary test run checks it (with a host emulation of
// the device side as the runner).
#include <cstddef>
#include <string>

#include "bnconform/kernel.h"
#include "device_call.hpp"

namespace bnconform::cuda {

// Runs a validated call; empty on success, else the message of an
// BNC_STATUS_INTERNAL_ERROR.
using forward_runner = std::string (*)(const device_forward&);
using backward_runner = std::string (*)(const device_backward&);

// BAD_ARGUMENT for a malformed call, UNSUPPORTED for a profile other than pytorch,
// INVALID_PROBLEM for m == 1 with batch statistics; otherwise the runner's result.
bnc_status checked_forward(const bnc_problem* problem, const bnc_forward_args* args, char* message,
                           std::size_t size, forward_runner run);
bnc_status checked_backward(const bnc_problem* problem, const bnc_backward_args* args,
                            char* message, std::size_t size, backward_runner run);

}  // namespace bnconform::cuda
