// The libtorch adapter through at::native_batch_norm as a kernel library: the only
// exported symbol is bnconform_kernel.
#include "libtorch_kernel.hpp"

extern "C" BNC_EXPORT const bnc_kernel* bnconform_kernel(void) {
  return bnconform::libtorch::libtorch_native_kernel();
}
