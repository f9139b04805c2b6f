// The CUDA kernel as a plugin library: the only exported symbol is bnconform_kernel.
#include "cuda_kernel.hpp"

extern "C" BNC_EXPORT const bnc_kernel* bnconform_kernel(void) {
  return bnconform::cuda::cuda_kernel();
}
