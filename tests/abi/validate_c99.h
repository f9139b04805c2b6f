/* The C99 translation unit of the validation test (validate_c99.c). */
#ifndef BNCONFORM_TESTS_VALIDATE_C99_H
#define BNCONFORM_TESTS_VALIDATE_C99_H

#include <bnconform/validate.h>

#ifdef __cplusplus
extern "C" {
#endif

bnc_status validate_forward_from_c(const bnc_problem* problem, const bnc_forward_args* args,
                                   int32_t keeps_module_state, char* message, size_t message_size);
bnc_status validate_backward_from_c(const bnc_problem* problem, const bnc_backward_args* args,
                                    char* message, size_t message_size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BNCONFORM_TESTS_VALIDATE_C99_H */
