// The reference packaged as a kernel library, exactly as a user ships one: the
// only exported symbol is bnconform_kernel. Used to test the loader, and by
// certify to check a plugin path end to end.
#include "reference_kernel.hpp"

extern "C" BNC_EXPORT const bnc_kernel* bnconform_kernel(void) {
  return bnconform::reference::reference_kernel(256);
}
