// The oneDNN adapter in the channel-blocked format as a kernel library: the only
// exported symbol is bnconform_kernel.
#include "onednn_kernel.hpp"

extern "C" BNC_EXPORT const bnc_kernel* bnconform_kernel(void) {
  return bnconform::onednn::onednn_blocked_kernel();
}
