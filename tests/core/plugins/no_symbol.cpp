// A loadable shared library that exports a function, but not bnconform_kernel:
// the loader must say that the symbol is missing.
#include "bnconform/kernel.h"

extern "C" BNC_EXPORT int bnconform_not_a_kernel(void) { return 42; }
