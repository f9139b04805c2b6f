#pragma once
// A kernel host: a library that serves kernels written in another language (the
// Python host, impl/python/) behind the ABI. Besides (or instead of) the one ABI
// symbol it exports an entry point that takes the kernel's name, e.g. a Python
// module, and returns its description, or NULL with a one-line reason in `message`.
#include <cstddef>

#include "bnconform/kernel.h"

namespace bnconform {

inline constexpr const char* hosted_kernel_symbol = "bnconform_hosted_kernel";

extern "C" {
typedef const bnc_kernel* (*hosted_kernel_fn)(const char* argument, char* message,
                                              std::size_t message_size);
}

}  // namespace bnconform
