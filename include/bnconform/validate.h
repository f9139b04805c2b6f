/*
 * bnconform argument validation, version 1 of the kernel ABI.
 *
 * The ABI's rules for a malformed call (BNC_STATUS_BAD_ARGUMENT) and for batch
 * statistics over one value per channel (BNC_STATUS_INVALID_PROBLEM), written once,
 * as docs/abi.md ("Validating arguments") states them. Header-only C99 that also
 * compiles as C++: static inline functions, no allocation, nothing but the C library
 * (snprintf, memcpy, isfinite).
 *
 * A kernel calls it first, before it reads or writes any buffer:
 *
 *     bnc_status s = bnc_validate_forward(problem, args, keeps_module_state,
 *                                         message, message_size);
 *     if (s != BNC_STATUS_OK) return s;
 *
 * On a violation it writes "<clause>: <text>" into the message buffer
 * (NUL-terminated, truncated to message_size) and returns the clause's status; on
 * success it writes an empty message. What a kernel does not implement
 * (BNC_STATUS_UNSUPPORTED) stays the kernel's own check.
 *
 * The rules are two tables of clauses, bnc_forward_clauses() and
 * bnc_backward_clauses(), checked in order; the first violated clause decides. Each
 * clause checks one rule and holds vacuously when what it reads is missing (a NULL
 * problem, a rank below 2, ...): an earlier clause reports that.
 * bnc_validate_run() runs the clauses of one status only, for a kernel that checks
 * its own limits between the malformed-call clauses and the m == 1 clause;
 * bnc_validate_problem() runs the descriptor's clauses only, for a kernel that
 * refuses what it does not implement before it looks at the arguments.
 * bnc_validate_declared() runs a third table, bnc_declared_clauses(): a call outside
 * the kernel's bnc_capabilities (operation, dtype, layout, profile, rank range) is
 * BNC_STATUS_UNSUPPORTED.
 */
#ifndef BNCONFORM_VALIDATE_H
#define BNCONFORM_VALIDATE_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define BNC_VALIDATE_PRINTF_(format_index, first_arg) \
  __attribute__((format(printf, format_index, first_arg)))
#else
#define BNC_VALIDATE_PRINTF_(format_index, first_arg)
#endif

/* The call a clause looks at. `forward` is set for the forward clauses, `backward`
 * for the backward ones. keeps_module_state is the kernel's capability of that name:
 * it decides whether the counter or exponential_average_factor is checked.
 * `capabilities` and `is_backward` are read only by the declared clauses. */
typedef struct bnc_call {
  const bnc_problem* problem;
  const bnc_forward_args* forward;
  const bnc_backward_args* backward;
  int32_t keeps_module_state;
  const bnc_capabilities* capabilities;
  int32_t is_backward;
} bnc_call;

typedef struct bnc_clause bnc_clause;

/* BNC_STATUS_OK when the clause holds; otherwise its message is written and its
 * status returned. */
typedef bnc_status (*bnc_clause_fn)(const bnc_clause* self, const bnc_call* call, char* message,
                                    size_t message_size);

struct bnc_clause {
  const char* name;  /* stable identifier, the first word of the message */
  bnc_status status; /* what a violation returns */
  const char* rule;  /* the rule in words (docs/abi.md, "Validating arguments") */
  bnc_clause_fn check;
};

/* -------------------------------------------------------------------------------- */
/* Messages                                                                          */

/* Writes "<name>: <text>" (truncated, NUL-terminated) and returns the clause's status. */
static inline bnc_status bnc_validate_reject_(const bnc_clause* self, char* message,
                                              size_t message_size, const char* format, ...)
    BNC_VALIDATE_PRINTF_(4, 5);
static inline bnc_status bnc_validate_reject_(const bnc_clause* self, char* message,
                                              size_t message_size, const char* format, ...) {
  if (message != NULL && message_size > 0) {
    const int prefix = snprintf(message, message_size, "%s: ", self->name);
    if (prefix > 0 && (size_t)prefix < message_size) {
      va_list args;
      va_start(args, format);
      vsnprintf(message + prefix, message_size - (size_t)prefix, format, args);
      va_end(args);
    }
  }
  return self->status;
}

/* -------------------------------------------------------------------------------- */
/* What the clauses read                                                             */

/* An enum field as the int the caller stored (a C caller may store any value; in C++
 * loading an enum outside its enumerators is undefined, so the bytes are copied). */
typedef char bnc_validate_enum_is_int_[sizeof(bnc_dtype) == sizeof(int) ? 1 : -1];
static inline int bnc_validate_raw_(const void* field) {
  int value;
  memcpy(&value, field, sizeof value);
  return value;
}

/* The problem's fixed part can be read: not NULL and not shorter than this ABI's. */
static inline int bnc_validate_problem_readable_(const bnc_call* call) {
  return call->problem != NULL && call->problem->struct_size >= sizeof(bnc_problem);
}

/* The shape can be read: rank >= 2 and a shape pointer. */
static inline int bnc_validate_shape_readable_(const bnc_call* call) {
  return bnc_validate_problem_readable_(call) && call->problem->rank >= 2 &&
         call->problem->shape != NULL;
}

/* The element count N * C * S and the values per channel m = N * S, when every
 * extent is >= 0 and every product of extents fits in 64 bits (zeros counted as ones,
 * so N * S fits even where C is 0). Returns 0 when the shape is unreadable or not so. */
static inline int bnc_validate_counts_(const bnc_call* call, int64_t* elements, int64_t* m) {
  if (!bnc_validate_shape_readable_(call)) return 0;
  const bnc_problem* p = call->problem;
  int64_t bound = 1, all = 1, per_channel = 1;
  for (int32_t d = 0; d < p->rank; ++d) {
    const int64_t e = p->shape[d];
    if (e < 0) return 0;
    if (e > 1 && bound > INT64_MAX / e) return 0;
    if (e > 1) bound *= e;
  }
  for (int32_t d = 0; d < p->rank; ++d) {
    all *= p->shape[d];
    if (d != 1) per_channel *= p->shape[d];
  }
  *elements = all;
  *m = per_channel;
  return 1;
}

static inline int bnc_validate_affine_(const bnc_call* call) { return call->problem->affine != 0; }
static inline int bnc_validate_track_(const bnc_call* call) {
  return call->problem->track_running_stats != 0;
}
static inline int bnc_validate_training_(const bnc_call* call) {
  return bnc_validate_raw_(&call->problem->mode) == BNC_MODE_TRAINING;
}
/* Batch statistics: training, or eval without running statistics (semantics.md). */
static inline int bnc_validate_batch_statistics_(const bnc_call* call) {
  return bnc_validate_training_(call) || !bnc_validate_track_(call);
}
static inline int bnc_validate_has_elements_(const bnc_call* call) {
  int64_t elements = 0, m = 0;
  return bnc_validate_counts_(call, &elements, &m) && elements > 0;
}

/* The arguments can be read: not NULL and not shorter than this ABI's. */
static inline const bnc_forward_args* bnc_validate_forward_args_(const bnc_call* call) {
  const bnc_forward_args* a = call->forward;
  return a != NULL && a->struct_size >= sizeof(bnc_forward_args) ? a : NULL;
}
static inline const bnc_backward_args* bnc_validate_backward_args_(const bnc_call* call) {
  const bnc_backward_args* a = call->backward;
  return a != NULL && a->struct_size >= sizeof(bnc_backward_args) ? a : NULL;
}

static inline const char* bnc_validate_dtype_name_(int dtype) {
  switch (dtype) {
    case BNC_DTYPE_F64: return "f64";
    case BNC_DTYPE_F32: return "f32";
    case BNC_DTYPE_F16: return "f16";
    case BNC_DTYPE_BF16: return "bf16";
    default: return "?";
  }
}

/* -------------------------------------------------------------------------------- */
/* The descriptor's clauses (both directions)                                        */

static inline bnc_status bnc_clause_problem_not_null(const bnc_clause* self, const bnc_call* call,
                                                     char* message, size_t message_size) {
  if (call->problem != NULL) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "problem is NULL");
}

static inline bnc_status bnc_clause_problem_struct_size(const bnc_clause* self,
                                                        const bnc_call* call, char* message,
                                                        size_t message_size) {
  if (call->problem == NULL || call->problem->struct_size >= sizeof(bnc_problem)) {
    return BNC_STATUS_OK;
  }
  return bnc_validate_reject_(
      self, message, message_size, "bnc_problem.struct_size is %lu, expected at least %lu",
      (unsigned long)call->problem->struct_size, (unsigned long)sizeof(bnc_problem));
}

static inline bnc_status bnc_clause_rank(const bnc_clause* self, const bnc_call* call,
                                         char* message, size_t message_size) {
  if (!bnc_validate_problem_readable_(call) || call->problem->rank >= 2) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size,
                              "expected input of rank >= 2 (N, C, ...), got rank %ld",
                              (long)call->problem->rank);
}

static inline bnc_status bnc_clause_shape_not_null(const bnc_clause* self, const bnc_call* call,
                                                   char* message, size_t message_size) {
  if (!bnc_validate_problem_readable_(call) || call->problem->rank < 2 ||
      call->problem->shape != NULL) {
    return BNC_STATUS_OK;
  }
  return bnc_validate_reject_(self, message, message_size, "bnc_problem.shape is NULL");
}

static inline bnc_status bnc_clause_extents(const bnc_clause* self, const bnc_call* call,
                                            char* message, size_t message_size) {
  if (!bnc_validate_shape_readable_(call)) return BNC_STATUS_OK;
  for (int32_t d = 0; d < call->problem->rank; ++d) {
    if (call->problem->shape[d] < 0) {
      return bnc_validate_reject_(self, message, message_size,
                                  "shape: extent %ld is negative (%lld)", (long)d,
                                  (long long)call->problem->shape[d]);
    }
  }
  return BNC_STATUS_OK;
}

static inline bnc_status bnc_clause_element_count(const bnc_clause* self, const bnc_call* call,
                                                  char* message, size_t message_size) {
  if (!bnc_validate_shape_readable_(call)) return BNC_STATUS_OK;
  int64_t elements = 0, m = 0;
  for (int32_t d = 0; d < call->problem->rank; ++d) {
    if (call->problem->shape[d] < 0) return BNC_STATUS_OK; /* extents_not_negative's */
  }
  if (bnc_validate_counts_(call, &elements, &m)) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size,
                              "shape: the element count overflows 64 bits");
}

static inline bnc_status bnc_clause_layout(const bnc_clause* self, const bnc_call* call,
                                           char* message, size_t message_size) {
  if (!bnc_validate_problem_readable_(call)) return BNC_STATUS_OK;
  const int v = bnc_validate_raw_(&call->problem->layout);
  if (v == BNC_LAYOUT_CHANNELS_FIRST || v == BNC_LAYOUT_CHANNELS_LAST) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "unknown bnc_layout value %d", v);
}

static inline int bnc_validate_dtype_known_(int v) {
  return v == BNC_DTYPE_F64 || v == BNC_DTYPE_F32 || v == BNC_DTYPE_F16 || v == BNC_DTYPE_BF16;
}

static inline bnc_status bnc_clause_data_dtype(const bnc_clause* self, const bnc_call* call,
                                               char* message, size_t message_size) {
  if (!bnc_validate_problem_readable_(call)) return BNC_STATUS_OK;
  const int v = bnc_validate_raw_(&call->problem->data_dtype);
  if (bnc_validate_dtype_known_(v)) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "unknown bnc_dtype value %d (data)", v);
}

static inline bnc_status bnc_clause_stats_dtype(const bnc_clause* self, const bnc_call* call,
                                                char* message, size_t message_size) {
  if (!bnc_validate_problem_readable_(call)) return BNC_STATUS_OK;
  const int v = bnc_validate_raw_(&call->problem->stats_dtype);
  if (bnc_validate_dtype_known_(v)) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "unknown bnc_dtype value %d (stats)", v);
}

/* semantics.md, Data types: f64 statistics for f64 data, f32 for every other dtype. */
static inline bnc_status bnc_clause_dtype_pair(const bnc_clause* self, const bnc_call* call,
                                               char* message, size_t message_size) {
  if (!bnc_validate_problem_readable_(call)) return BNC_STATUS_OK;
  const int data = bnc_validate_raw_(&call->problem->data_dtype);
  const int stats = bnc_validate_raw_(&call->problem->stats_dtype);
  if (!bnc_validate_dtype_known_(data) || !bnc_validate_dtype_known_(stats)) return BNC_STATUS_OK;
  if (stats == (data == BNC_DTYPE_F64 ? BNC_DTYPE_F64 : BNC_DTYPE_F32)) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size,
                              "stats dtype %s does not go with data dtype %s (f64 data takes f64 "
                              "statistics, every other dtype f32)",
                              bnc_validate_dtype_name_(stats), bnc_validate_dtype_name_(data));
}

static inline bnc_status bnc_clause_mode(const bnc_clause* self, const bnc_call* call,
                                         char* message, size_t message_size) {
  if (!bnc_validate_problem_readable_(call)) return BNC_STATUS_OK;
  const int v = bnc_validate_raw_(&call->problem->mode);
  if (v == BNC_MODE_TRAINING || v == BNC_MODE_EVAL) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "unknown bnc_mode value %d", v);
}

static inline bnc_status bnc_clause_profile(const bnc_clause* self, const bnc_call* call,
                                            char* message, size_t message_size) {
  if (!bnc_validate_problem_readable_(call)) return BNC_STATUS_OK;
  const int v = bnc_validate_raw_(&call->problem->profile);
  if (v >= BNC_PROFILE_PYTORCH && v <= BNC_PROFILE_FLAX) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "unknown bnc_profile value %d", v);
}

static inline bnc_status bnc_clause_eps(const bnc_clause* self, const bnc_call* call, char* message,
                                        size_t message_size) {
  if (!bnc_validate_problem_readable_(call)) return BNC_STATUS_OK;
  const double eps = call->problem->eps;
  if (isfinite(eps) && eps >= 0) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "eps: must be finite and >= 0, got %g",
                              eps);
}

static inline bnc_status bnc_clause_momentum(const bnc_clause* self, const bnc_call* call,
                                             char* message, size_t message_size) {
  if (!bnc_validate_problem_readable_(call) || call->problem->momentum_is_none) {
    return BNC_STATUS_OK;
  }
  const double momentum = call->problem->momentum;
  if (momentum >= 0 && momentum <= 1) return BNC_STATUS_OK; /* false for NaN */
  return bnc_validate_reject_(self, message, message_size,
                              "momentum: must be in [0, 1] or none, got %g", momentum);
}

/* semantics.md, Errors and status codes: PyTorch's message, with the shape. */
static inline bnc_status bnc_clause_one_value_per_channel(const bnc_clause* self,
                                                          const bnc_call* call, char* message,
                                                          size_t message_size) {
  int64_t elements = 0, m = 0;
  if (!bnc_validate_counts_(call, &elements, &m) || m != 1) return BNC_STATUS_OK;
  if (!bnc_validate_batch_statistics_(call)) return BNC_STATUS_OK;
  bnc_validate_reject_(self, message, message_size,
                       "Expected more than 1 value per channel when training, got input size (");
  if (message != NULL && message_size > 0) {
    for (int32_t d = 0; d < call->problem->rank; ++d) {
      const size_t used = strlen(message);
      if (used + 1 >= message_size) break;
      snprintf(message + used, message_size - used, "%s%lld", d > 0 ? ", " : "",
               (long long)call->problem->shape[d]);
    }
    const size_t used = strlen(message);
    if (used + 1 < message_size) snprintf(message + used, message_size - used, ")");
  }
  return self->status;
}

/* -------------------------------------------------------------------------------- */
/* Buffers and module state                                                          */

/* A buffer the problem needs is not NULL. `which` names it in the message. */
static inline bnc_status bnc_validate_required_(const bnc_clause* self, const void* pointer,
                                                int needed, const char* which, char* message,
                                                size_t message_size) {
  if (!needed || pointer != NULL) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "%s is NULL but the problem needs it",
                              which);
}

static inline bnc_status bnc_clause_forward_args_not_null(const bnc_clause* self,
                                                          const bnc_call* call, char* message,
                                                          size_t message_size) {
  if (call->forward != NULL) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "args is NULL");
}

static inline bnc_status bnc_clause_forward_args_struct_size(const bnc_clause* self,
                                                             const bnc_call* call, char* message,
                                                             size_t message_size) {
  if (call->forward == NULL || call->forward->struct_size >= sizeof(bnc_forward_args)) {
    return BNC_STATUS_OK;
  }
  return bnc_validate_reject_(
      self, message, message_size, "bnc_forward_args.struct_size is %lu, expected at least %lu",
      (unsigned long)call->forward->struct_size, (unsigned long)sizeof(bnc_forward_args));
}

/* The forward buffer clauses: `needed` is the condition under which the ABI asks for
 * the buffer (kernel.h, bnc_forward_args). */
#define BNC_VALIDATE_FORWARD_BUFFER_(clause, member, needed)                                   \
  static inline bnc_status clause(const bnc_clause* self, const bnc_call* call, char* message, \
                                  size_t message_size) {                                       \
    const bnc_forward_args* a = bnc_validate_forward_args_(call);                              \
    if (a == NULL || !bnc_validate_shape_readable_(call)) return BNC_STATUS_OK;                \
    return bnc_validate_required_(self, a->member, (needed), #member, message, message_size);  \
  }
BNC_VALIDATE_FORWARD_BUFFER_(bnc_clause_forward_x, x, bnc_validate_has_elements_(call))
BNC_VALIDATE_FORWARD_BUFFER_(bnc_clause_forward_y, y, bnc_validate_has_elements_(call))
BNC_VALIDATE_FORWARD_BUFFER_(bnc_clause_forward_gamma, gamma, bnc_validate_affine_(call))
BNC_VALIDATE_FORWARD_BUFFER_(bnc_clause_forward_beta, beta, bnc_validate_affine_(call))
BNC_VALIDATE_FORWARD_BUFFER_(bnc_clause_forward_running_mean, running_mean,
                             bnc_validate_track_(call))
BNC_VALIDATE_FORWARD_BUFFER_(bnc_clause_forward_running_var, running_var, bnc_validate_track_(call))
BNC_VALIDATE_FORWARD_BUFFER_(bnc_clause_forward_save_mean, save_mean,
                             bnc_validate_batch_statistics_(call))
BNC_VALIDATE_FORWARD_BUFFER_(bnc_clause_forward_save_invstd, save_invstd,
                             bnc_validate_batch_statistics_(call))
BNC_VALIDATE_FORWARD_BUFFER_(bnc_clause_forward_counter, num_batches_tracked,
                             call->keeps_module_state&& bnc_validate_track_(call))
#undef BNC_VALIDATE_FORWARD_BUFFER_

/* A kernel that keeps the module state increments the counter: it must lie in
 * [0, 2^63 - 1) so that the increment never overflows (semantics.md, Running
 * statistics). Checked in every mode. */
static inline bnc_status bnc_clause_counter_range(const bnc_clause* self, const bnc_call* call,
                                                  char* message, size_t message_size) {
  const bnc_forward_args* a = bnc_validate_forward_args_(call);
  if (a == NULL || !bnc_validate_problem_readable_(call) || !call->keeps_module_state ||
      !bnc_validate_track_(call) || a->num_batches_tracked == NULL) {
    return BNC_STATUS_OK;
  }
  const int64_t count = *a->num_batches_tracked;
  if (count >= 0 && count != INT64_MAX) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size,
                              "num_batches_tracked must be in [0, 2^63 - 1), got %lld",
                              (long long)count);
}

/* A kernel that does not keep the module state blends with the caller's factor: in
 * a training call with running statistics it is momentum or 1 / (count + 1), so in
 * [0, 1]. */
static inline bnc_status bnc_clause_factor_range(const bnc_clause* self, const bnc_call* call,
                                                 char* message, size_t message_size) {
  const bnc_forward_args* a = bnc_validate_forward_args_(call);
  if (a == NULL || !bnc_validate_problem_readable_(call) || call->keeps_module_state ||
      !bnc_validate_track_(call) || !bnc_validate_training_(call)) {
    return BNC_STATUS_OK;
  }
  const double f = a->exponential_average_factor;
  if (f >= 0 && f <= 1) return BNC_STATUS_OK; /* false for NaN */
  return bnc_validate_reject_(self, message, message_size,
                              "exponential_average_factor must be in [0, 1], got %g", f);
}

static inline bnc_status bnc_clause_backward_args_not_null(const bnc_clause* self,
                                                           const bnc_call* call, char* message,
                                                           size_t message_size) {
  if (call->backward != NULL) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "args is NULL");
}

static inline bnc_status bnc_clause_backward_args_struct_size(const bnc_clause* self,
                                                              const bnc_call* call, char* message,
                                                              size_t message_size) {
  if (call->backward == NULL || call->backward->struct_size >= sizeof(bnc_backward_args)) {
    return BNC_STATUS_OK;
  }
  return bnc_validate_reject_(
      self, message, message_size, "bnc_backward_args.struct_size is %lu, expected at least %lu",
      (unsigned long)call->backward->struct_size, (unsigned long)sizeof(bnc_backward_args));
}

/* The backward buffer clauses (kernel.h, bnc_backward_args). */
#define BNC_VALIDATE_BACKWARD_BUFFER_(clause, member, needed)                                  \
  static inline bnc_status clause(const bnc_clause* self, const bnc_call* call, char* message, \
                                  size_t message_size) {                                       \
    const bnc_backward_args* a = bnc_validate_backward_args_(call);                            \
    if (a == NULL || !bnc_validate_shape_readable_(call)) return BNC_STATUS_OK;                \
    return bnc_validate_required_(self, a->member, (needed), #member, message, message_size);  \
  }
BNC_VALIDATE_BACKWARD_BUFFER_(bnc_clause_backward_x, x, bnc_validate_has_elements_(call))
BNC_VALIDATE_BACKWARD_BUFFER_(bnc_clause_backward_dy, dy, bnc_validate_has_elements_(call))
BNC_VALIDATE_BACKWARD_BUFFER_(bnc_clause_backward_dx, dx, bnc_validate_has_elements_(call))
BNC_VALIDATE_BACKWARD_BUFFER_(bnc_clause_backward_gamma, gamma, bnc_validate_affine_(call))
BNC_VALIDATE_BACKWARD_BUFFER_(bnc_clause_backward_dgamma, dgamma, bnc_validate_affine_(call))
BNC_VALIDATE_BACKWARD_BUFFER_(bnc_clause_backward_dbeta, dbeta, bnc_validate_affine_(call))
BNC_VALIDATE_BACKWARD_BUFFER_(bnc_clause_backward_save_mean, save_mean,
                              bnc_validate_batch_statistics_(call))
BNC_VALIDATE_BACKWARD_BUFFER_(bnc_clause_backward_save_invstd, save_invstd,
                              bnc_validate_batch_statistics_(call))
BNC_VALIDATE_BACKWARD_BUFFER_(bnc_clause_backward_running_mean, running_mean,
                              !bnc_validate_batch_statistics_(call))
BNC_VALIDATE_BACKWARD_BUFFER_(bnc_clause_backward_running_var, running_var,
                              !bnc_validate_batch_statistics_(call))
#undef BNC_VALIDATE_BACKWARD_BUFFER_

/* -------------------------------------------------------------------------------- */
/* What a kernel declares (bnc_capabilities): outside it, BNC_STATUS_UNSUPPORTED      */

/* The problem is well formed enough to compare with the capabilities. */
static inline int bnc_validate_declared_readable_(const bnc_call* call) {
  return call->capabilities != NULL && bnc_validate_problem_readable_(call);
}

static inline bnc_status bnc_clause_operation_declared(const bnc_clause* self, const bnc_call* call,
                                                       char* message, size_t message_size) {
  if (!bnc_validate_declared_readable_(call)) return BNC_STATUS_OK;
  const int mode = bnc_validate_raw_(&call->problem->mode);
  if (mode != BNC_MODE_TRAINING && mode != BNC_MODE_EVAL) return BNC_STATUS_OK;
  const int training = mode == BNC_MODE_TRAINING;
  const uint32_t bit = call->is_backward
                           ? (training ? BNC_OP_BACKWARD_TRAINING : BNC_OP_BACKWARD_EVAL)
                           : (training ? BNC_OP_FORWARD_TRAINING : BNC_OP_FORWARD_EVAL);
  if (call->capabilities->operations & bit) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "%s in %s mode is not declared",
                              call->is_backward ? "backward" : "forward",
                              training ? "training" : "eval");
}

/* An enum field whose value has a bit in the capability mask `mask`; `what` names it. */
static inline bnc_status bnc_validate_declared_bit_(const bnc_clause* self, int value, int count,
                                                    uint32_t mask, const char* what, char* message,
                                                    size_t message_size) {
  if (value < 0 || value >= count || (mask & BNC_BIT(value))) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size, "%s %d is not declared", what, value);
}

static inline bnc_status bnc_clause_dtype_declared(const bnc_clause* self, const bnc_call* call,
                                                   char* message, size_t message_size) {
  if (!bnc_validate_declared_readable_(call)) return BNC_STATUS_OK;
  return bnc_validate_declared_bit_(self, bnc_validate_raw_(&call->problem->data_dtype), 4,
                                    call->capabilities->dtypes, "data dtype", message,
                                    message_size);
}

static inline bnc_status bnc_clause_layout_declared(const bnc_clause* self, const bnc_call* call,
                                                    char* message, size_t message_size) {
  if (!bnc_validate_declared_readable_(call)) return BNC_STATUS_OK;
  return bnc_validate_declared_bit_(self, bnc_validate_raw_(&call->problem->layout), 2,
                                    call->capabilities->layouts, "layout", message, message_size);
}

static inline bnc_status bnc_clause_profile_declared(const bnc_clause* self, const bnc_call* call,
                                                     char* message, size_t message_size) {
  if (!bnc_validate_declared_readable_(call)) return BNC_STATUS_OK;
  return bnc_validate_declared_bit_(self, bnc_validate_raw_(&call->problem->profile), 5,
                                    call->capabilities->profiles, "profile", message, message_size);
}

/* The ABI has no largest rank; a kernel declares its own range. */
static inline bnc_status bnc_clause_rank_declared(const bnc_clause* self, const bnc_call* call,
                                                  char* message, size_t message_size) {
  if (!bnc_validate_declared_readable_(call) || call->problem->rank < 2) return BNC_STATUS_OK;
  const int32_t rank = call->problem->rank;
  const bnc_capabilities* c = call->capabilities;
  if (rank >= c->min_rank && rank <= c->max_rank) return BNC_STATUS_OK;
  return bnc_validate_reject_(self, message, message_size,
                              "rank %ld is outside the declared range [%ld, %ld]", (long)rank,
                              (long)c->min_rank, (long)c->max_rank);
}

/* -------------------------------------------------------------------------------- */
/* The tables                                                                        */

#define BNC_VALIDATE_DESCRIPTOR_CLAUSES_                                                           \
  {"problem_not_null", BNC_STATUS_BAD_ARGUMENT, "problem is not NULL",                             \
   bnc_clause_problem_not_null},                                                                   \
      {"problem_struct_size", BNC_STATUS_BAD_ARGUMENT,                                             \
       "problem->struct_size >= sizeof(bnc_problem)", bnc_clause_problem_struct_size},             \
      {"rank_at_least_2", BNC_STATUS_BAD_ARGUMENT, "rank >= 2", bnc_clause_rank},                  \
      {"shape_not_null", BNC_STATUS_BAD_ARGUMENT, "shape is not NULL", bnc_clause_shape_not_null}, \
      {"extents_not_negative", BNC_STATUS_BAD_ARGUMENT, "every extent >= 0 (0 is allowed)",        \
       bnc_clause_extents},                                                                        \
      {"element_count_fits", BNC_STATUS_BAD_ARGUMENT,                                              \
       "the product of the extents, zeros counted as ones, fits in int64_t",                       \
       bnc_clause_element_count},                                                                  \
      {"layout_known", BNC_STATUS_BAD_ARGUMENT, "layout is a bnc_layout value",                    \
       bnc_clause_layout},                                                                         \
      {"data_dtype_known", BNC_STATUS_BAD_ARGUMENT, "data_dtype is a bnc_dtype value",             \
       bnc_clause_data_dtype},                                                                     \
      {"stats_dtype_known", BNC_STATUS_BAD_ARGUMENT, "stats_dtype is a bnc_dtype value",           \
       bnc_clause_stats_dtype},                                                                    \
      {"dtype_pair", BNC_STATUS_BAD_ARGUMENT,                                                      \
       "stats_dtype is F64 for F64 data and F32 for every other data dtype",                       \
       bnc_clause_dtype_pair},                                                                     \
      {"mode_known", BNC_STATUS_BAD_ARGUMENT, "mode is a bnc_mode value", bnc_clause_mode},        \
      {"profile_known", BNC_STATUS_BAD_ARGUMENT, "profile is a bnc_profile value",                 \
       bnc_clause_profile},                                                                        \
      {"eps_finite_nonnegative", BNC_STATUS_BAD_ARGUMENT, "eps is finite and >= 0",                \
       bnc_clause_eps},                                                                            \
  {                                                                                                \
    "momentum_in_unit_interval", BNC_STATUS_BAD_ARGUMENT,                                          \
        "momentum_is_none, or momentum in [0, 1] (not NaN)", bnc_clause_momentum                   \
  }

#define BNC_VALIDATE_ONE_VALUE_CLAUSE_                                                      \
  {                                                                                         \
    "more_than_one_value_per_channel", BNC_STATUS_INVALID_PROBLEM,                          \
        "m = N * S1 * ... * Sk is not 1 when batch statistics are used (training, or eval " \
        "without running statistics)",                                                      \
        bnc_clause_one_value_per_channel                                                    \
  }

/* The descriptor's clauses alone (the start of both tables below): for a kernel
 * that refuses what it does not implement as soon as the problem is known to be
 * well formed, before it looks at the arguments. */
static inline const bnc_clause* bnc_problem_clauses(size_t* count) {
  static const bnc_clause clauses[] = {BNC_VALIDATE_DESCRIPTOR_CLAUSES_};
  *count = sizeof clauses / sizeof clauses[0];
  return clauses;
}

/* The forward clauses, in the order they are checked; *count receives their number. */
static inline const bnc_clause* bnc_forward_clauses(size_t* count) {
  static const bnc_clause clauses[] = {
      BNC_VALIDATE_DESCRIPTOR_CLAUSES_,
      {"args_not_null", BNC_STATUS_BAD_ARGUMENT, "args is not NULL",
       bnc_clause_forward_args_not_null},
      {"args_struct_size", BNC_STATUS_BAD_ARGUMENT, "args->struct_size >= sizeof(bnc_forward_args)",
       bnc_clause_forward_args_struct_size},
      {"x_not_null", BNC_STATUS_BAD_ARGUMENT, "x is not NULL when N * C * S > 0",
       bnc_clause_forward_x},
      {"y_not_null", BNC_STATUS_BAD_ARGUMENT, "y is not NULL when N * C * S > 0",
       bnc_clause_forward_y},
      {"gamma_not_null", BNC_STATUS_BAD_ARGUMENT, "gamma is not NULL when affine",
       bnc_clause_forward_gamma},
      {"beta_not_null", BNC_STATUS_BAD_ARGUMENT, "beta is not NULL when affine",
       bnc_clause_forward_beta},
      {"running_mean_not_null", BNC_STATUS_BAD_ARGUMENT,
       "running_mean is not NULL when track_running_stats", bnc_clause_forward_running_mean},
      {"running_var_not_null", BNC_STATUS_BAD_ARGUMENT,
       "running_var is not NULL when track_running_stats", bnc_clause_forward_running_var},
      {"save_mean_not_null", BNC_STATUS_BAD_ARGUMENT,
       "save_mean is not NULL when batch statistics are used", bnc_clause_forward_save_mean},
      {"save_invstd_not_null", BNC_STATUS_BAD_ARGUMENT,
       "save_invstd is not NULL when batch statistics are used", bnc_clause_forward_save_invstd},
      {"counter_not_null", BNC_STATUS_BAD_ARGUMENT,
       "num_batches_tracked is not NULL when track_running_stats, for a kernel that keeps the "
       "module state",
       bnc_clause_forward_counter},
      {"counter_in_range", BNC_STATUS_BAD_ARGUMENT,
       "*num_batches_tracked in [0, 2^63 - 1) when track_running_stats, for a kernel that keeps "
       "the module state",
       bnc_clause_counter_range},
      {"factor_in_unit_interval", BNC_STATUS_BAD_ARGUMENT,
       "exponential_average_factor in [0, 1] (not NaN) in training with track_running_stats, for "
       "a kernel that does not keep the module state",
       bnc_clause_factor_range},
      BNC_VALIDATE_ONE_VALUE_CLAUSE_,
  };
  *count = sizeof clauses / sizeof clauses[0];
  return clauses;
}

/* The backward clauses, in the order they are checked; *count receives their number. */
static inline const bnc_clause* bnc_backward_clauses(size_t* count) {
  static const bnc_clause clauses[] = {
      BNC_VALIDATE_DESCRIPTOR_CLAUSES_,
      {"args_not_null", BNC_STATUS_BAD_ARGUMENT, "args is not NULL",
       bnc_clause_backward_args_not_null},
      {"args_struct_size", BNC_STATUS_BAD_ARGUMENT,
       "args->struct_size >= sizeof(bnc_backward_args)", bnc_clause_backward_args_struct_size},
      {"x_not_null", BNC_STATUS_BAD_ARGUMENT, "x is not NULL when N * C * S > 0",
       bnc_clause_backward_x},
      {"dy_not_null", BNC_STATUS_BAD_ARGUMENT, "dy is not NULL when N * C * S > 0",
       bnc_clause_backward_dy},
      {"dx_not_null", BNC_STATUS_BAD_ARGUMENT, "dx is not NULL when N * C * S > 0",
       bnc_clause_backward_dx},
      {"gamma_not_null", BNC_STATUS_BAD_ARGUMENT, "gamma is not NULL when affine",
       bnc_clause_backward_gamma},
      {"dgamma_not_null", BNC_STATUS_BAD_ARGUMENT, "dgamma is not NULL when affine",
       bnc_clause_backward_dgamma},
      {"dbeta_not_null", BNC_STATUS_BAD_ARGUMENT, "dbeta is not NULL when affine",
       bnc_clause_backward_dbeta},
      {"save_mean_not_null", BNC_STATUS_BAD_ARGUMENT,
       "save_mean is not NULL when batch statistics are used", bnc_clause_backward_save_mean},
      {"save_invstd_not_null", BNC_STATUS_BAD_ARGUMENT,
       "save_invstd is not NULL when batch statistics are used", bnc_clause_backward_save_invstd},
      {"running_mean_not_null", BNC_STATUS_BAD_ARGUMENT,
       "running_mean is not NULL when running statistics are used (eval with "
       "track_running_stats)",
       bnc_clause_backward_running_mean},
      {"running_var_not_null", BNC_STATUS_BAD_ARGUMENT,
       "running_var is not NULL when running statistics are used (eval with "
       "track_running_stats)",
       bnc_clause_backward_running_var},
      BNC_VALIDATE_ONE_VALUE_CLAUSE_,
  };
  *count = sizeof clauses / sizeof clauses[0];
  return clauses;
}

/* The declared clauses, BNC_STATUS_UNSUPPORTED: a call outside the kernel's
 * capabilities. The harness never sends one; a kernel that wants to refuse it
 * (rather than compute it) runs these after the malformed-call clauses. */
static inline const bnc_clause* bnc_declared_clauses(size_t* count) {
  static const bnc_clause clauses[] = {
      {"operation_declared", BNC_STATUS_UNSUPPORTED,
       "the operation (forward or backward, training or eval) is in capabilities.operations",
       bnc_clause_operation_declared},
      {"dtype_declared", BNC_STATUS_UNSUPPORTED, "data_dtype is in capabilities.dtypes",
       bnc_clause_dtype_declared},
      {"layout_declared", BNC_STATUS_UNSUPPORTED, "layout is in capabilities.layouts",
       bnc_clause_layout_declared},
      {"profile_declared", BNC_STATUS_UNSUPPORTED, "profile is in capabilities.profiles",
       bnc_clause_profile_declared},
      {"rank_declared", BNC_STATUS_UNSUPPORTED,
       "rank in [capabilities.min_rank, capabilities.max_rank]", bnc_clause_rank_declared},
  };
  *count = sizeof clauses / sizeof clauses[0];
  return clauses;
}

#undef BNC_VALIDATE_DESCRIPTOR_CLAUSES_
#undef BNC_VALIDATE_ONE_VALUE_CLAUSE_

/* -------------------------------------------------------------------------------- */
/* Running the clauses                                                               */

/* Checks the clauses of `table` in order, those whose status is `only` (every clause
 * when `only` is BNC_STATUS_OK). Returns the first violated clause's status with its
 * message, or BNC_STATUS_OK with an empty message. */
static inline bnc_status bnc_validate_run(const bnc_clause* table, size_t count,
                                          const bnc_call* call, bnc_status only, char* message,
                                          size_t message_size) {
  for (size_t i = 0; i < count; ++i) {
    if (only != BNC_STATUS_OK && table[i].status != only) continue;
    const bnc_status s = table[i].check(&table[i], call, message, message_size);
    if (s != BNC_STATUS_OK) return s;
  }
  if (message != NULL && message_size > 0) message[0] = '\0';
  return BNC_STATUS_OK;
}

static inline bnc_call bnc_forward_call(const bnc_problem* problem, const bnc_forward_args* args,
                                        int32_t keeps_module_state) {
  bnc_call call;
  call.problem = problem;
  call.forward = args;
  call.backward = NULL;
  call.keeps_module_state = keeps_module_state;
  call.capabilities = NULL;
  call.is_backward = 0;
  return call;
}

static inline bnc_call bnc_backward_call(const bnc_problem* problem,
                                         const bnc_backward_args* args) {
  bnc_call call;
  call.problem = problem;
  call.forward = NULL;
  call.backward = args;
  call.keeps_module_state = 0;
  call.capabilities = NULL;
  call.is_backward = 1;
  return call;
}

/* The descriptor's clauses (bnc_problem_clauses): BNC_STATUS_BAD_ARGUMENT or OK. */
static inline bnc_status bnc_validate_problem(const bnc_problem* problem, char* message,
                                              size_t message_size) {
  size_t count = 0;
  const bnc_clause* table = bnc_problem_clauses(&count);
  const bnc_call call = bnc_forward_call(problem, NULL, 0);
  return bnc_validate_run(table, count, &call, BNC_STATUS_OK, message, message_size);
}

/* Every forward clause. keeps_module_state: the kernel's capability of that name. */
static inline bnc_status bnc_validate_forward(const bnc_problem* problem,
                                              const bnc_forward_args* args,
                                              int32_t keeps_module_state, char* message,
                                              size_t message_size) {
  size_t count = 0;
  const bnc_clause* table = bnc_forward_clauses(&count);
  const bnc_call call = bnc_forward_call(problem, args, keeps_module_state);
  return bnc_validate_run(table, count, &call, BNC_STATUS_OK, message, message_size);
}

/* Every backward clause. */
static inline bnc_status bnc_validate_backward(const bnc_problem* problem,
                                               const bnc_backward_args* args, char* message,
                                               size_t message_size) {
  size_t count = 0;
  const bnc_clause* table = bnc_backward_clauses(&count);
  const bnc_call call = bnc_backward_call(problem, args);
  return bnc_validate_run(table, count, &call, BNC_STATUS_OK, message, message_size);
}

/* The declared clauses: BNC_STATUS_UNSUPPORTED when the call is outside what
 * `capabilities` declares. Run it after bnc_validate_forward or _backward. */
static inline bnc_status bnc_validate_declared(const bnc_capabilities* capabilities,
                                               const bnc_problem* problem, int32_t is_backward,
                                               char* message, size_t message_size) {
  size_t count = 0;
  const bnc_clause* table = bnc_declared_clauses(&count);
  bnc_call call = bnc_forward_call(problem, NULL, 0);
  call.capabilities = capabilities;
  call.is_backward = is_backward;
  return bnc_validate_run(table, count, &call, BNC_STATUS_OK, message, message_size);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BNCONFORM_VALIDATE_H */
