// The CPU kernel packaged as a kernel library, exactly as a user ships one: the
// only exported symbol is bnconform_kernel.
#include "cpu_kernel.hpp"

extern "C" BNC_EXPORT const bnc_kernel* bnconform_kernel(void) {
  return bnconform::cpu::cpu_kernel();
}
