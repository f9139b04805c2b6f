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
  uint32_t features; /* the kernel's BNC_FEATURE_* bits, read by the declared clauses */
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

/* A distributed training call: the communicator is given (ABI 1.1). Its batch is
 * every rank's together, so one value per channel on this rank may be valid. */
static inline const bnc_communicator* bnc_validate_communicator_(const bnc_call* call);
static inline int bnc_validate_distributed_(const bnc_call* call) {
  return bnc_validate_problem_readable_(call) && bnc_validate_training_(call) &&
         bnc_validate_communicator_(call) != NULL;
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
  if (bnc_validate_distributed_(call)) return BNC_STATUS_OK; /* the global m decides */
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
/* Tensor views and the communicator (ABI 1.1)                                       */

static inline const bnc_communicator* bnc_validate_communicator_(const bnc_call* call) {
  const bnc_forward_args* f = bnc_validate_forward_args_(call);
  const bnc_backward_args* b = bnc_validate_backward_args_(call);
  return f != NULL ? f->communicator : b != NULL ? b->communicator : NULL;
}

/* One data tensor of a call: its name, pointer and strides (NULL: dense). */
typedef struct bnc_validate_view_ {
  const char* name;
  const void* data;
  const int64_t* strides;
} bnc_validate_view_;

static inline bnc_validate_view_ bnc_validate_view_of_(const char* name, const void* data,
                                                       const int64_t* strides) {
  bnc_validate_view_ v;
  v.name = name;
  v.data = data;
  v.strides = strides;
  return v;
}

/* The call's data tensors (x, y or x, dy, dx); 0 when the arguments or the shape
 * cannot be read or the tensors have no element (then no view clause applies). */
static inline int bnc_validate_views_(const bnc_call* call, bnc_validate_view_ views[3]) {
  if (!bnc_validate_has_elements_(call)) return 0;
  const bnc_forward_args* f = bnc_validate_forward_args_(call);
  const bnc_backward_args* b = bnc_validate_backward_args_(call);
  if (f != NULL) {
    views[0] = bnc_validate_view_of_("x", f->x, f->x_strides);
    views[1] = bnc_validate_view_of_("y", f->y, f->y_strides);
    return 2;
  }
  if (b != NULL) {
    views[0] = bnc_validate_view_of_("x", b->x, b->x_strides);
    views[1] = bnc_validate_view_of_("dy", b->dy, b->dy_strides);
    views[2] = bnc_validate_view_of_("dx", b->dx, b->dx_strides);
    return 3;
  }
  return 0;
}

/* The stride of dimension d of a tensor dense in `layout`: row major over
 * (N, C, S1, ..., Sk) for channels-first, over (N, S1, ..., Sk, C) for channels-last. */
static inline int64_t bnc_dense_stride(const bnc_problem* p, int layout, int32_t d) {
  int64_t stride = 1;
  if (layout == BNC_LAYOUT_CHANNELS_LAST) {
    if (d == 1) return 1;
    stride = p->shape[1];
    for (int32_t e = d == 0 ? 2 : d + 1; e < p->rank; ++e) stride *= p->shape[e];
    return stride;
  }
  for (int32_t e = d + 1; e < p->rank; ++e) stride *= p->shape[e];
  return stride;
}

/* Whether `strides` (NULL: dense in the problem's layout) address the elements as a
 * tensor dense in `layout` does. The stride of a dimension of extent 1 never moves
 * to an element, so it may be anything. */
static inline int bnc_view_is_dense(const bnc_problem* p, const int64_t* strides, int layout) {
  if (strides == NULL) return layout == bnc_validate_raw_(&p->layout);
  for (int32_t d = 0; d < p->rank; ++d) {
    if (p->shape[d] > 1 && strides[d] != bnc_dense_stride(p, layout, d)) return 0;
  }
  return 1;
}

/* The element at the far end of a view: sum of (extent - 1) * stride. 0 when it does
 * not fit in 64 bits (with the element size, as a byte offset), else 1. */
static inline int bnc_view_span(const bnc_problem* p, const int64_t* strides, int64_t* last) {
  const int64_t limit = INT64_MAX / 8;
  int64_t sum = 0;
  for (int32_t d = 0; d < p->rank; ++d) {
    const int64_t extent = p->shape[d];
    const int64_t stride =
        strides != NULL ? strides[d] : bnc_dense_stride(p, bnc_validate_raw_(&p->layout), d);
    if (extent <= 1) continue;
    if (stride < 0) return 0;
    if (stride > 0 && extent - 1 > (limit - sum) / stride) return 0;
    sum += (extent - 1) * stride;
  }
  *last = sum;
  return 1;
}

static inline bnc_status bnc_clause_strides_not_negative(const bnc_clause* self,
                                                         const bnc_call* call, char* message,
                                                         size_t message_size) {
  bnc_validate_view_ views[3];
  const int count = bnc_validate_views_(call, views);
  for (int v = 0; v < count; ++v) {
    if (views[v].strides == NULL) continue;
    for (int32_t d = 0; d < call->problem->rank; ++d) {
      if (views[v].strides[d] < 0) {
        return bnc_validate_reject_(self, message, message_size, "%s stride %ld is %lld < 0",
                                    views[v].name, (long)d, (long long)views[v].strides[d]);
      }
    }
  }
  return BNC_STATUS_OK;
}

static inline bnc_status bnc_clause_strides_span_fits(const bnc_clause* self, const bnc_call* call,
                                                      char* message, size_t message_size) {
  bnc_validate_view_ views[3];
  const int count = bnc_validate_views_(call, views);
  for (int v = 0; v < count; ++v) {
    int64_t last = 0;
    if (views[v].strides == NULL || bnc_view_span(call->problem, views[v].strides, &last)) continue;
    return bnc_validate_reject_(self, message, message_size,
                                "%s: the offset of its last element, sum of (extent - 1) * "
                                "stride, does not fit in 64 bits as a byte offset",
                                views[v].name);
  }
  return BNC_STATUS_OK;
}

/* Dimension e follows d in the order of strides (ties broken by index). */
static inline int bnc_validate_after_(const int64_t* strides, int32_t d, int32_t e) {
  return strides[e] > strides[d] || (strides[e] == strides[d] && e > d);
}

/* No two elements share memory: taken in the order of their strides, the dimensions
 * of extent > 1 each step over the whole of the ones before (stride >= the previous
 * stride times its extent; padding allowed). */
static inline bnc_status bnc_clause_strides_not_overlapping(const bnc_clause* self,
                                                            const bnc_call* call, char* message,
                                                            size_t message_size) {
  bnc_validate_view_ views[3];
  const int count = bnc_validate_views_(call, views);
  const bnc_problem* p = call->problem;
  for (int v = 0; v < count; ++v) {
    const int64_t* s = views[v].strides;
    int64_t last = 0;
    if (s == NULL || !bnc_view_span(p, s, &last)) continue;
    for (int32_t d = 0; d < p->rank; ++d) {
      if (p->shape[d] <= 1) continue;
      int32_t next = -1;
      int first = 1;
      for (int32_t e = 0; e < p->rank; ++e) {
        if (e == d || p->shape[e] <= 1) continue;
        if (bnc_validate_after_(s, e, d)) first = 0;
        if (bnc_validate_after_(s, d, e) && (next < 0 || bnc_validate_after_(s, e, next))) next = e;
      }
      if (first && s[d] == 0) {
        return bnc_validate_reject_(self, message, message_size,
                                    "%s: dimension %ld of extent %lld has stride 0", views[v].name,
                                    (long)d, (long long)p->shape[d]);
      }
      /* s[d] * (extent - 1) fits (span); s[next] must exceed it by at least s[d]. */
      if (next >= 0 && s[next] - s[d] * (p->shape[d] - 1) < s[d]) {
        return bnc_validate_reject_(
            self, message, message_size,
            "%s: dimension %ld (stride %lld) overlaps dimension %ld (extent %lld, stride %lld)",
            views[v].name, (long)next, (long long)s[next], (long)d, (long long)p->shape[d],
            (long long)s[d]);
      }
    }
  }
  return BNC_STATUS_OK;
}

/* The bytes [begin, end) a view covers. */
static inline void bnc_validate_extent_(const bnc_call* call, const bnc_validate_view_* v,
                                        uintptr_t* begin, uintptr_t* end) {
  static const size_t sizes[] = {8, 4, 2, 2};
  const int dtype = bnc_validate_raw_(&call->problem->data_dtype);
  const size_t width = dtype >= 0 && dtype < 4 ? sizes[dtype] : 1;
  int64_t last = 0;
  bnc_view_span(call->problem, v->strides, &last);
  *begin = (uintptr_t)v->data;
  *end = *begin + ((uintptr_t)last + 1) * width;
}

static inline int bnc_validate_same_view_(const bnc_call* call, const bnc_validate_view_* a,
                                          const bnc_validate_view_* b) {
  const bnc_problem* p = call->problem;
  if (a->data != b->data) return 0;
  for (int32_t d = 0; d < p->rank; ++d) {
    const int layout = bnc_validate_raw_(&p->layout);
    const int64_t sa = a->strides != NULL ? a->strides[d] : bnc_dense_stride(p, layout, d);
    const int64_t sb = b->strides != NULL ? b->strides[d] : bnc_dense_stride(p, layout, d);
    if (p->shape[d] > 1 && sa != sb) return 0;
  }
  return 1;
}

/* An output either is an input exactly (in place: same pointer, same strides) or
 * shares no byte with it. */
static inline bnc_status bnc_validate_alias_(const bnc_clause* self, const bnc_call* call,
                                             const bnc_validate_view_* out,
                                             const bnc_validate_view_* in, int may_be_same,
                                             char* message, size_t message_size) {
  uintptr_t out_begin = 0, out_end = 0, in_begin = 0, in_end = 0;
  if (out->data == NULL || in->data == NULL) return BNC_STATUS_OK;
  bnc_validate_extent_(call, out, &out_begin, &out_end);
  bnc_validate_extent_(call, in, &in_begin, &in_end);
  if (out_end <= in_begin || in_end <= out_begin) return BNC_STATUS_OK;
  if (may_be_same && bnc_validate_same_view_(call, out, in)) return BNC_STATUS_OK;
  return bnc_validate_reject_(
      self, message, message_size,
      may_be_same ? "%s overlaps %s without being the same view of it" : "%s overlaps %s",
      out->name, in->name);
}

static inline bnc_status bnc_clause_aliasing(const bnc_clause* self, const bnc_call* call,
                                             char* message, size_t message_size) {
  bnc_validate_view_ views[3];
  const int count = bnc_validate_views_(call, views);
  for (int v = 0; v < count; ++v) {
    int64_t last = 0;
    if (!bnc_view_span(call->problem, views[v].strides, &last)) return BNC_STATUS_OK;
  }
  if (count == 2) {
    return bnc_validate_alias_(self, call, &views[1], &views[0], 1, message, message_size);
  }
  if (count == 3) {
    const bnc_status s =
        bnc_validate_alias_(self, call, &views[2], &views[1], 1, message, message_size);
    if (s != BNC_STATUS_OK) return s;
    return bnc_validate_alias_(self, call, &views[2], &views[0], 0, message, message_size);
  }
  return BNC_STATUS_OK;
}

static inline bnc_status bnc_clause_communicator(const bnc_clause* self, const bnc_call* call,
                                                 char* message, size_t message_size) {
  const bnc_communicator* c = bnc_validate_communicator_(call);
  if (c == NULL) return BNC_STATUS_OK;
  if (c->struct_size < sizeof(bnc_communicator)) {
    return bnc_validate_reject_(
        self, message, message_size, "bnc_communicator.struct_size is %lu, expected at least %lu",
        (unsigned long)c->struct_size, (unsigned long)sizeof(bnc_communicator));
  }
  if (c->size < 1 || c->rank < 0 || c->rank >= c->size) {
    return bnc_validate_reject_(self, message, message_size,
                                "communicator rank %ld of size %ld is not in [0, size)",
                                (long)c->rank, (long)c->size);
  }
  if (c->all_reduce_sum == NULL || c->all_gather == NULL) {
    return bnc_validate_reject_(self, message, message_size, "communicator has a NULL operation");
  }
  return BNC_STATUS_OK;
}

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

/* A tensor given with strides is sent only to a kernel that declares them: any
 * strides (BNC_FEATURE_ANY_STRIDES), dense in any declared layout
 * (BNC_FEATURE_MIXED_LAYOUTS), or else dense in the problem's layout. */
static inline bnc_status bnc_clause_strides_declared(const bnc_clause* self, const bnc_call* call,
                                                     char* message, size_t message_size) {
  bnc_validate_view_ views[3];
  const int count = call->capabilities != NULL ? bnc_validate_views_(call, views) : 0;
  const bnc_problem* p = call->problem;
  if (call->features & BNC_FEATURE_ANY_STRIDES) return BNC_STATUS_OK;
  for (int v = 0; v < count; ++v) {
    if (views[v].strides == NULL ||
        bnc_view_is_dense(p, views[v].strides, bnc_validate_raw_(&p->layout)))
      continue;
    if (call->features & BNC_FEATURE_MIXED_LAYOUTS) {
      int layout_found = 0;
      for (int layout = 0; layout < 2; ++layout) {
        if ((call->capabilities->layouts & BNC_BIT(layout)) &&
            bnc_view_is_dense(p, views[v].strides, layout)) {
          layout_found = 1;
        }
      }
      if (layout_found) continue;
    }
    return bnc_validate_reject_(self, message, message_size,
                                "%s's strides are not dense in a layout the kernel declares, and "
                                "it does not declare BNC_FEATURE_ANY_STRIDES",
                                views[v].name);
  }
  return BNC_STATUS_OK;
}

static inline bnc_status bnc_clause_in_place_declared(const bnc_clause* self, const bnc_call* call,
                                                      char* message, size_t message_size) {
  bnc_validate_view_ views[3];
  const int count = call->capabilities != NULL ? bnc_validate_views_(call, views) : 0;
  if (count == 2 && views[1].data == views[0].data &&
      !(call->features & BNC_FEATURE_IN_PLACE_FORWARD)) {
    return bnc_validate_reject_(self, message, message_size,
                                "y is x (in place) and the kernel does not declare "
                                "BNC_FEATURE_IN_PLACE_FORWARD");
  }
  if (count == 3 && views[2].data == views[1].data &&
      !(call->features & BNC_FEATURE_IN_PLACE_BACKWARD)) {
    return bnc_validate_reject_(self, message, message_size,
                                "dx is dy (in place) and the kernel does not declare "
                                "BNC_FEATURE_IN_PLACE_BACKWARD");
  }
  return BNC_STATUS_OK;
}

static inline bnc_status bnc_clause_distributed_declared(const bnc_clause* self,
                                                         const bnc_call* call, char* message,
                                                         size_t message_size) {
  if (call->capabilities == NULL || !bnc_validate_distributed_(call) ||
      (call->features & BNC_FEATURE_DISTRIBUTED_TRAINING)) {
    return BNC_STATUS_OK;
  }
  return bnc_validate_reject_(self, message, message_size,
                              "a communicator is given and the kernel does not declare "
                              "BNC_FEATURE_DISTRIBUTED_TRAINING");
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
      {"strides_not_negative", BNC_STATUS_BAD_ARGUMENT,
       "every stride given for a data tensor is >= 0", bnc_clause_strides_not_negative},
      {"strides_span_fits", BNC_STATUS_BAD_ARGUMENT,
       "a data tensor's last element, sum of (extent - 1) * stride, fits in 64 bits as a byte "
       "offset",
       bnc_clause_strides_span_fits},
      {"strides_not_overlapping", BNC_STATUS_BAD_ARGUMENT,
       "no two elements of a data tensor share memory: by increasing stride, each dimension of "
       "extent > 1 has a stride >= the previous one's stride times its extent",
       bnc_clause_strides_not_overlapping},
      {"outputs_alias_exactly_or_not_at_all", BNC_STATUS_BAD_ARGUMENT,
       "y is x exactly (same pointer and strides) or shares no byte with it; dx is dy exactly or "
       "shares no byte with it, and shares none with x",
       bnc_clause_aliasing},
      {"communicator_well_formed", BNC_STATUS_BAD_ARGUMENT,
       "a communicator given has its struct_size, size >= 1, 0 <= rank < size and both "
       "operations",
       bnc_clause_communicator},
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
      {"strides_not_negative", BNC_STATUS_BAD_ARGUMENT,
       "every stride given for a data tensor is >= 0", bnc_clause_strides_not_negative},
      {"strides_span_fits", BNC_STATUS_BAD_ARGUMENT,
       "a data tensor's last element, sum of (extent - 1) * stride, fits in 64 bits as a byte "
       "offset",
       bnc_clause_strides_span_fits},
      {"strides_not_overlapping", BNC_STATUS_BAD_ARGUMENT,
       "no two elements of a data tensor share memory: by increasing stride, each dimension of "
       "extent > 1 has a stride >= the previous one's stride times its extent",
       bnc_clause_strides_not_overlapping},
      {"outputs_alias_exactly_or_not_at_all", BNC_STATUS_BAD_ARGUMENT,
       "y is x exactly (same pointer and strides) or shares no byte with it; dx is dy exactly or "
       "shares no byte with it, and shares none with x",
       bnc_clause_aliasing},
      {"communicator_well_formed", BNC_STATUS_BAD_ARGUMENT,
       "a communicator given has its struct_size, size >= 1, 0 <= rank < size and both "
       "operations",
       bnc_clause_communicator},
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
      {"strides_declared", BNC_STATUS_UNSUPPORTED,
       "a data tensor's strides are dense in the problem's layout, or in a declared layout with "
       "BNC_FEATURE_MIXED_LAYOUTS, or anything with BNC_FEATURE_ANY_STRIDES",
       bnc_clause_strides_declared},
      {"in_place_declared", BNC_STATUS_UNSUPPORTED,
       "y is x only with BNC_FEATURE_IN_PLACE_FORWARD, dx is dy only with "
       "BNC_FEATURE_IN_PLACE_BACKWARD",
       bnc_clause_in_place_declared},
      {"distributed_declared", BNC_STATUS_UNSUPPORTED,
       "a communicator in training only with BNC_FEATURE_DISTRIBUTED_TRAINING",
       bnc_clause_distributed_declared},
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
  call.features = 0;
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
  call.features = 0;
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

/* The declared clauses with the call's arguments and the kernel's features (ABI
 * 1.1): also a strided, in-place or distributed call the kernel does not declare. */
static inline bnc_status bnc_validate_declared_forward(const bnc_kernel* kernel,
                                                       const bnc_problem* problem,
                                                       const bnc_forward_args* args, char* message,
                                                       size_t message_size) {
  size_t count = 0;
  const bnc_clause* table = bnc_declared_clauses(&count);
  bnc_call call = bnc_forward_call(problem, args, kernel->capabilities.keeps_module_state);
  call.capabilities = &kernel->capabilities;
  call.features = kernel->features;
  return bnc_validate_run(table, count, &call, BNC_STATUS_OK, message, message_size);
}

static inline bnc_status bnc_validate_declared_backward(const bnc_kernel* kernel,
                                                        const bnc_problem* problem,
                                                        const bnc_backward_args* args,
                                                        char* message, size_t message_size) {
  size_t count = 0;
  const bnc_clause* table = bnc_declared_clauses(&count);
  bnc_call call = bnc_backward_call(problem, args);
  call.capabilities = &kernel->capabilities;
  call.features = kernel->features;
  return bnc_validate_run(table, count, &call, BNC_STATUS_OK, message, message_size);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BNCONFORM_VALIDATE_H */
