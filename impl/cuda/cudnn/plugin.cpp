// The cuDNN adapter as a plugin library: the only exported symbol is bnconform_kernel.
#include "cudnn_kernel.hpp"

extern "C" BNC_EXPORT const bnc_kernel* bnconform_kernel(void) {
  return bnconform::cudnn::cudnn_kernel();
}
