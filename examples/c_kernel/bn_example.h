/*
 * The example kernel's entry points, for code that links its implementation into
 * another library (tests/certify/faulty/ wraps it to inject faults). A kernel
 * library itself needs none of this: it exports only bnconform_kernel.
 */
#ifndef BN_EXAMPLE_H
#define BN_EXAMPLE_H

#include <bnconform/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

bnc_status bn_example_forward(void* context, const bnc_problem* problem,
                              const bnc_forward_args* args, char* message, size_t message_size);
bnc_status bn_example_backward(void* context, const bnc_problem* problem,
                               const bnc_backward_args* args, char* message, size_t message_size);
/* The example kernel's description (what its bnconform_kernel returns). */
const bnc_kernel* bn_example_description(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BN_EXAMPLE_H */
