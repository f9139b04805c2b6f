#pragma once
// The reference as a kernel behind the C ABI: everything downstream (run, the
// battery, certify) treats it like any other kernel. It keeps the module state
// itself (counter and momentum=None).
#include "bnconform/kernel.h"

namespace bnconform::reference {

// The kernel at a supported precision (see supported_precisions()); NULL otherwise.
// The description is static and lives for the whole program.
const bnc_kernel* reference_kernel(int precision_bits = 256);
// The kernel `bnconform --kernel reference` means: 256 bits, and 512 or 1024 for a
// call whose self-check asks for more (docs/reference.md). Fixed-precision kernels
// refuse such calls with an internal error that says so.
const bnc_kernel* escalating_reference_kernel();

}  // namespace bnconform::reference
