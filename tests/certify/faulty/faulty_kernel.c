/*
 * Faulty kernels for the certifier's tests: the example kernel
 * (examples/c_kernel/bn_example.c, linked in, not copied) with one fault chosen at
 * compile time by defining exactly one FAULTY_<KIND> macro (CMakeLists.txt builds
 * one library per kind; README.md lists them).
 *
 * The triggered faults fire only on the TRIGGER: a successful training-mode
 * forward call in the channels-last layout with C == 3 and at least one element.
 * Every other call behaves exactly like the example kernel, so certify can name
 * the case that tripped the fault while the other cases pass. The battery reaches
 * the trigger in every run: the coverage cell "forward-training f32 channels_last"
 * (shape 4x3x5x2), the degenerate case constant-channel-channels-last (4x3x5),
 * golden cases such as ops.train.2x3x4x3.cl.f32, and about one property case in
 * 24 (C is drawn from 1..6, the layout and the mode from two each).
 *
 *   FAULTY_SEGFAULT          writes through a null pointer (SIGSEGV)
 *   FAULTY_ABORT             calls abort() (SIGABRT)
 *   FAULTY_HANG              sleeps forever
 *   FAULTY_OUT_OF_BOUNDS     writes one element past the end of y
 *   FAULTY_UNWRITTEN         leaves the last element of y as the caller left it
 *   FAULTY_INPUT_MUTATING    flips the lowest bit of x[0] after computing y
 *   FAULTY_NONDETERMINISTIC  flips the lowest bit of y[0] (one ulp) on every other
 *                            triggered call, counted per process
 *   FAULTY_FAR_OUT_OF_BOUNDS writes 64 KiB past the end of y (past the canary, into
 *                            the guard pages of a host buffer: SIGSEGV)
 *   FAULTY_ROUNDING_MODE     returns with the rounding mode set upward (fesetround)
 *   FAULTY_FLUSH_TO_ZERO     returns with MXCSR's FTZ (bit 15) and DAZ (bit 6) set
 *                            (x86-64; elsewhere the rounding mode toward zero)
 *   FAULTY_WRONG_ABI         a description whose abi_version has major number 99
 *   FAULTY_MISSING_SYMBOL    exports no bnconform_kernel (a misspelt one instead)
 *   FAULTY_NO_OPERATION      declares no operation (nothing to judge)
 *   FAULTY_EMPTY_RANK_RANGE  declares min_rank 5 > max_rank 4 (nothing to judge)
 *   FAULTY_DEVICE_MEMORY     declares device memory, which a library loaded on its
 *                            own has no device for (nothing to judge)
 *   FAULTY_LEAVES_PROCESS    forks a child that sleeps for an hour and returns
 *                            without waiting for it
 *   FAULTY_CLOSES_DESCRIPTORS closes every descriptor from 3 to 1023 (the harness's
 *                            report pipe among them)
 *   FAULTY_CHATTY            prints a line to stdout on every other successful
 *                            forward call; on the trigger, 200 lines (about 12 KB)
 *                            to stdout and one to stderr, then abort() (SIGABRT)
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, fork */

#include <fenv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bn_example.h"

#if defined(FAULTY_SEGFAULT)
#define FAULTY_NAME "faulty-segfault"
#elif defined(FAULTY_ABORT)
#define FAULTY_NAME "faulty-abort"
#elif defined(FAULTY_HANG)
#define FAULTY_NAME "faulty-hang"
#elif defined(FAULTY_OUT_OF_BOUNDS)
#define FAULTY_NAME "faulty-out-of-bounds"
#elif defined(FAULTY_UNWRITTEN)
#define FAULTY_NAME "faulty-unwritten"
#elif defined(FAULTY_INPUT_MUTATING)
#define FAULTY_NAME "faulty-input-mutating"
#elif defined(FAULTY_NONDETERMINISTIC)
#define FAULTY_NAME "faulty-nondeterministic"
#elif defined(FAULTY_FAR_OUT_OF_BOUNDS)
#define FAULTY_NAME "faulty-far-out-of-bounds"
#elif defined(FAULTY_ROUNDING_MODE)
#define FAULTY_NAME "faulty-rounding-mode"
#elif defined(FAULTY_FLUSH_TO_ZERO)
#define FAULTY_NAME "faulty-flush-to-zero"
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif
#elif defined(FAULTY_WRONG_ABI)
#define FAULTY_NAME "faulty-wrong-abi"
#elif defined(FAULTY_MISSING_SYMBOL)
#define FAULTY_NAME "faulty-missing-symbol"
#elif defined(FAULTY_NO_OPERATION)
#define FAULTY_NAME "faulty-no-operation"
#elif defined(FAULTY_EMPTY_RANK_RANGE)
#define FAULTY_NAME "faulty-empty-rank-range"
#elif defined(FAULTY_DEVICE_MEMORY)
#define FAULTY_NAME "faulty-device-memory"
#elif defined(FAULTY_LEAVES_PROCESS)
#define FAULTY_NAME "faulty-leaves-process"
#elif defined(FAULTY_CLOSES_DESCRIPTORS)
#define FAULTY_NAME "faulty-closes-descriptors"
#elif defined(FAULTY_CHATTY)
#define FAULTY_NAME "faulty-chatty"
#include <stdio.h>
#else
#error "define one FAULTY_<KIND> (see the list at the top of this file)"
#endif

/* The number of elements of x and y, or -1 for a malformed problem (the unwritten
 * fault looks before the example has validated the call). */
static int64_t element_count(const bnc_problem* p) {
  if (p == NULL || p->struct_size < sizeof(bnc_problem) || p->rank < 2 || p->shape == NULL) {
    return -1;
  }
  int64_t count = 1;
  for (int32_t d = 0; d < p->rank; ++d) {
    const int64_t e = p->shape[d];
    if (e < 0 || (e > 0 && count > INT64_MAX / e)) return -1;
    count *= e;
  }
  return count;
}

/* The calls a triggered fault fires on (see the top of this file). */
static int triggered(const bnc_problem* p) {
  return element_count(p) > 0 && p->mode == BNC_MODE_TRAINING &&
         p->layout == BNC_LAYOUT_CHANNELS_LAST && p->shape[1] == 3;
}

#if defined(FAULTY_INPUT_MUTATING) || defined(FAULTY_NONDETERMINISTIC)
/* x, y and every statistic are f32: the example declares f32 only. */
static void flip_lowest_bit(void* element) {
  uint32_t bits;
  memcpy(&bits, element, sizeof bits);
  bits ^= 1u;
  memcpy(element, &bits, sizeof bits);
}
#endif

#if !defined(FAULTY_UNWRITTEN)
static void inject(const bnc_problem* p, const bnc_forward_args* a) {
  const int64_t count = element_count(p);
  (void)count;
  (void)a;
#if defined(FAULTY_SEGFAULT)
  /* Both volatile: GCC otherwise drops a store it can see goes to NULL (undefined
   * behaviour), or turns it into a trap instruction (SIGILL). This is a real
   * store, and a real SIGSEGV. */
  volatile int* volatile null_pointer = NULL;
  *null_pointer = 1;
#elif defined(FAULTY_ABORT)
  abort();
#elif defined(FAULTY_HANG)
  for (;;) {
    const struct timespec second = {1, 0};
    nanosleep(&second, NULL);
  }
#elif defined(FAULTY_OUT_OF_BOUNDS)
  ((float*)a->y)[count] = 0.0f;
#elif defined(FAULTY_FAR_OUT_OF_BOUNDS)
  /* 16384 floats: the store lands 65536 bytes past the last element's end. */
  ((volatile float*)a->y)[count + 16384] = 0.0f;
#elif defined(FAULTY_ROUNDING_MODE)
  fesetround(FE_UPWARD);
#elif defined(FAULTY_FLUSH_TO_ZERO)
#if defined(__x86_64__)
  _mm_setcsr(_mm_getcsr() | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
#else
  fesetround(FE_TOWARDZERO);
#endif
#elif defined(FAULTY_INPUT_MUTATING)
  flip_lowest_bit((void*)(uintptr_t)a->x); /* casts the ABI's const away on purpose */
#elif defined(FAULTY_NONDETERMINISTIC)
  static unsigned long calls = 0;
  if (++calls % 2 == 1) flip_lowest_bit(a->y);
#elif defined(FAULTY_LEAVES_PROCESS)
  if (fork() == 0) {
    const struct timespec hour = {3600, 0};
    nanosleep(&hour, NULL);
    _exit(0);
  }
#elif defined(FAULTY_CLOSES_DESCRIPTORS)
  for (int fd = 3; fd < 1024; ++fd) close(fd);
#elif defined(FAULTY_CHATTY)
  for (int line = 1; line <= 200; ++line) {
    printf("faulty-chatty: line %3d of 200 on stdout, before the abort\n", line);
  }
  fprintf(stderr, "faulty-chatty: last words on stderr\n");
  abort();
#endif
}
#endif

static bnc_status faulty_forward(void* context, const bnc_problem* problem,
                                 const bnc_forward_args* args, char* message, size_t message_size) {
#if defined(FAULTY_UNWRITTEN)
  /* Keep the last element of y as the caller left it: save it, let the example
   * write everything, put it back. */
  float last = 0;
  const int64_t count = element_count(problem);
  const int saved = triggered(problem) && args != NULL && args->y != NULL;
  if (saved) memcpy(&last, (const float*)args->y + (count - 1), sizeof last);
#endif
  const bnc_status status = bn_example_forward(context, problem, args, message, message_size);
#if defined(FAULTY_CHATTY)
  if (status == BNC_STATUS_OK && !triggered(problem)) {
    printf("faulty-chatty: a forward call of %lld elements\n", (long long)element_count(problem));
  }
#endif
  if (status != BNC_STATUS_OK || !triggered(problem)) return status;
#if defined(FAULTY_UNWRITTEN)
  if (saved) memcpy((float*)args->y + (count - 1), &last, sizeof last);
#else
  inject(problem, args);
#endif
  return status;
}

static bnc_kernel description;

static const bnc_kernel* faulty_description(void) {
  if (description.name == NULL) {
    description = *bn_example_description();
    description.name = FAULTY_NAME;
    description.forward = faulty_forward;
#if defined(FAULTY_WRONG_ABI)
    description.abi_version = (uint32_t)((99u << 16) | BNC_ABI_VERSION_MINOR);
#elif defined(FAULTY_NO_OPERATION)
    description.capabilities.operations = 0;
#elif defined(FAULTY_EMPTY_RANK_RANGE)
    description.capabilities.min_rank = 5;
    description.capabilities.max_rank = 4;
#elif defined(FAULTY_DEVICE_MEMORY)
    description.capabilities.memory = BNC_MEMORY_DEVICE;
#endif
  }
  return &description;
}

#if defined(FAULTY_MISSING_SYMBOL)
/* The right signature under a wrong name: the loader must say the symbol is missing. */
BNC_EXPORT const bnc_kernel* bnconform_kernel_v1(void) { return faulty_description(); }
#else
BNC_EXPORT const bnc_kernel* bnconform_kernel(void) { return faulty_description(); }
#endif
