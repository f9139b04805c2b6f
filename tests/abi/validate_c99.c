/* validate.h compiled as C99 (-std=c99 -pedantic, the project's warnings as errors):
 * the entry points the C++ test calls to check that C callers get the same answers. */
#include "validate_c99.h"

bnc_status validate_forward_from_c(const bnc_problem* problem, const bnc_forward_args* args,
                                   int32_t keeps_module_state, char* message, size_t message_size) {
  return bnc_validate_forward(problem, args, keeps_module_state, message, message_size);
}

bnc_status validate_backward_from_c(const bnc_problem* problem, const bnc_backward_args* args,
                                    char* message, size_t message_size) {
  return bnc_validate_backward(problem, args, message, message_size);
}
