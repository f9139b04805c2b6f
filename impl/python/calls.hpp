#pragma once
// The ABI entry points of a Python kernel. Each call is checked by the ABI's
// clauses and the kernel's declaration before Python runs (a rejected call changes
// nothing); the buffers reach Python as numpy arrays (read-only views of the
// caller's inputs, valid during the call only), and what the function returns is
// checked (a dict with the outputs the call needs, each an array of the exact
// shape and dtype) before anything is written.
#include <cstddef>

#include "bnconform/kernel.h"

namespace bnconform::python_host {

bnc_status python_forward(void* context, const bnc_problem* problem, const bnc_forward_args* args,
                          char* message, std::size_t message_size);
bnc_status python_backward(void* context, const bnc_problem* problem, const bnc_backward_args* args,
                           char* message, std::size_t message_size);

}  // namespace bnconform::python_host
