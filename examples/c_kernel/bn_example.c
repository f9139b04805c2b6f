/*
 * bn_example.c: a small, plain C11 batch-normalization kernel behind the bnconform
 * kernel ABI (include/bnconform/kernel.h, docs/abi.md). It is meant to be read and
 * copied: one file, no dependencies but libm and the ABI's headers (kernel.h, and
 * validate.h for the argument checks every kernel makes), and it passes the bnconform
 * battery at level strict for f32 data.
 *
 * Build it on its own (from the repository root):
 *
 *     cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I include examples/c_kernel/bn_example.c \
 *        -o libbn_example.so -lm
 *
 * (-fvisibility=hidden: only bnconform_kernel, marked BNC_EXPORT, leaves the
 * library, as docs/abi.md asks.)
 *
 * and check it with `bnconform certify --kernel ./libbn_example.so`.
 *
 * What it implements (the semantics are docs/semantics.md, PyTorch's
 * BatchNorm{1,2,3}d): f32 data (and f32 statistics), channels-first and channels-last
 * layouts, any rank (N, C, S1, ..., Sk), forward and backward in training and eval
 * mode, affine on and off, track_running_stats on and off, momentum or momentum=None
 * (cumulative average), num_batches_tracked, eps >= 0; profile pytorch only.
 *
 * How it stays accurate: every value is read into a double, every sum is a plain
 * double sum, the variance takes two passes (the mean first, then the sum of squared
 * deviations from it, so no E[x^2] - E[x]^2 cancellation), and each output is
 * rounded to f32 once, at the store. That is the "wider accumulation" the strict
 * level asks for (docs/tolerance.md, "Units and levels"). Compile it without
 * -ffast-math: subnormal inputs must not be flushed to zero and NaN must propagate.
 *
 * Why not f64 data: the same code in f64 has no wider type to accumulate in, and
 * the battery's f64 range cases (x near 2^511, where x^2 overflows, and near
 * 2^-540, where it underflows) then fail; a kernel passes them only with scaled
 * sums. A kernel declares only what it passes, so this one declares f32.
 */
#include "bn_example.h"

#include <bnconform/validate.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

/* ------------------------------------------------------------------------------ */
/* Messages: every failure writes a NUL-terminated text, truncated to the buffer.  */

static bnc_status fail(char* message, size_t message_size, bnc_status status, const char* format,
                       ...) {
  if (message != NULL && message_size > 0) {
    va_list args;
    va_start(args, format);
    vsnprintf(message, message_size, format, args);
    va_end(args);
  }
  return status;
}

/* ------------------------------------------------------------------------------ */
/* Geometry: where element (n, c, s) lives, s the flattened spatial index.         */

typedef struct geometry {
  int64_t batch;    /* N */
  int64_t channels; /* C */
  int64_t spatial;  /* S = S1 * ... * Sk (1 for rank 2) */
  int64_t m;        /* N * S: the number of values per channel */
  int channels_last;
} geometry;

/* Channels-first is row-major over (N, C, S), channels-last over (N, S, C). */
static int64_t offset(const geometry* g, int64_t n, int64_t c, int64_t s) {
  return g->channels_last ? (n * g->spatial + s) * g->channels + c
                          : (n * g->channels + c) * g->spatial + s;
}

/* Every tensor is f32 (data and statistics); arithmetic is in double. */
static double load(const void* base, int64_t i) { return (double)((const float*)base)[i]; }

/* The one rounding of each output: double to f32, to nearest. */
static void store(void* base, int64_t i, double value) { ((float*)base)[i] = (float)value; }

/* ------------------------------------------------------------------------------ */
/* Validation. A rejected call writes nothing and moves no state (docs/abi.md), so  */
/* every check runs before the first store.                                        */

/* The ABI's own rules (a malformed call: BNC_STATUS_BAD_ARGUMENT; batch statistics
 * over one value per channel: BNC_STATUS_INVALID_PROBLEM) are bnconform/validate.h's
 * (docs/abi.md, "Validating arguments"); what follows is only what this kernel does
 * not implement (nor declare): BNC_STATUS_UNSUPPORTED, checked once the descriptor is
 * known to be well formed. Fills *g on success. */
static bnc_status check_supported(const bnc_problem* p, geometry* g, char* message,
                                  size_t message_size) {
  if (p->profile != BNC_PROFILE_PYTORCH) {
    return fail(message, message_size, BNC_STATUS_UNSUPPORTED,
                "the example kernel implements only the pytorch profile");
  }
  if (p->data_dtype != BNC_DTYPE_F32) {
    return fail(message, message_size, BNC_STATUS_UNSUPPORTED,
                "the example kernel implements only f32 data");
  }
  g->batch = p->shape[0];
  g->channels = p->shape[1];
  g->spatial = 1;
  for (int32_t d = 2; d < p->rank; ++d) g->spatial *= p->shape[d];
  g->m = g->batch * g->spatial;
  g->channels_last = p->layout == BNC_LAYOUT_CHANNELS_LAST;
  return BNC_STATUS_OK;
}

/* Batch statistics are used in training, and in eval without running statistics
 * (semantics.md, Forward, evaluation mode). */
static int uses_batch_statistics(const bnc_problem* p) {
  return p->mode == BNC_MODE_TRAINING || !p->track_running_stats;
}

/* ------------------------------------------------------------------------------ */
/* Per-channel statistics.                                                         */

typedef struct channel_statistics {
  double mean;
  double var; /* biased: used to normalize */
  double unbiased_var;
  double invstd; /* 1 / sqrt(var + eps) */
} channel_statistics;

/* semantics.md, Forward, training mode: two passes over the channel's m values,
 * the mean, then the mean of squared deviations from it. For m == 0 the mean is
 * 0 / 0 = NaN, as the reference has it; nothing reads it then but save_mean. */
static channel_statistics batch_statistics(const geometry* g, const void* x, int64_t c,
                                           double eps) {
  double sum = 0;
  for (int64_t n = 0; n < g->batch; ++n) {
    for (int64_t s = 0; s < g->spatial; ++s) sum += load(x, offset(g, n, c, s));
  }
  channel_statistics st;
  st.mean = sum / (double)g->m;
  double squares = 0;
  for (int64_t n = 0; n < g->batch; ++n) {
    for (int64_t s = 0; s < g->spatial; ++s) {
      const double deviation = load(x, offset(g, n, c, s)) - st.mean;
      squares += deviation * deviation;
    }
  }
  st.var = squares / (double)g->m;
  st.unbiased_var = g->m > 1 ? squares / (double)(g->m - 1) : 0.0;
  st.invstd = 1.0 / sqrt(st.var + eps);
  return st;
}

/* semantics.md, Forward, evaluation mode: normalize with the running statistics. */
static channel_statistics running_statistics(const void* running_mean, const void* running_var,
                                             int64_t c, double eps) {
  channel_statistics st;
  st.mean = load(running_mean, c);
  st.var = load(running_var, c);
  st.unbiased_var = st.var;
  st.invstd = 1.0 / sqrt(st.var + eps);
  return st;
}

/* eps == 0 with zero variance makes invstd infinite: an ill-posed channel whose
 * outputs are implementation-defined (semantics.md; tolerance.md). Counted so the
 * call can say so in its note. */
typedef struct ill_posed_count {
  long long count;
  long long first;
} ill_posed_count;

static void note_ill_posed(ill_posed_count* ill, int64_t m, const channel_statistics* st,
                           double eps, int64_t c) {
  if (m > 0 && st->var + eps == 0) {
    if (ill->count == 0) ill->first = (long long)c;
    ++ill->count;
  }
}

static bnc_status succeed(char* message, size_t message_size, const ill_posed_count* ill) {
  if (message != NULL && message_size > 0) {
    message[0] = '\0';
    if (ill->count > 0) {
      snprintf(message, message_size,
               "ill-posed: eps == 0 with zero variance in %lld channel(s), first %lld; outputs "
               "there are implementation-defined",
               ill->count, ill->first);
    }
  }
  return BNC_STATUS_OK;
}

/* ------------------------------------------------------------------------------ */
/* Forward.                                                                        */

bnc_status bn_example_forward(void* context, const bnc_problem* problem,
                              const bnc_forward_args* args, char* message, size_t message_size) {
  (void)context;
  if (message != NULL && message_size > 0) message[0] = '\0';
  /* The descriptor, then what this kernel implements, then the arguments and the
   * m == 1 rule; keeps_module_state = 1: the counter must be there and in range. */
  bnc_status status = bnc_validate_problem(problem, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  geometry g;
  status = check_supported(problem, &g, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  status = bnc_validate_forward(problem, args, 1, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  const int batch = uses_batch_statistics(problem);
  const int track = problem->track_running_stats != 0;
  const int affine = problem->affine != 0;

  /* From here on the call succeeds. This kernel keeps the module state
   * (keeps_module_state = 1): PyTorch's module counts every training batch with
   * running statistics, the empty one too, and with momentum=None uses the factor
   * 1 / num_batches_tracked after the increment, which makes the running
   * statistics the arithmetic mean over all batches (semantics.md, Module state). */
  const int update = track && problem->mode == BNC_MODE_TRAINING;
  double factor = 0;
  if (update) {
    const int64_t count = *args->num_batches_tracked + 1;
    factor = problem->momentum_is_none ? 1.0 / (double)count : problem->momentum;
  }
  ill_posed_count ill = {0, 0};
  for (int64_t c = 0; c < g.channels; ++c) {
    const channel_statistics st =
        batch ? batch_statistics(&g, args->x, c, problem->eps)
              : running_statistics(args->running_mean, args->running_var, c, problem->eps);
    note_ill_posed(&ill, g.m, &st, problem->eps, c);
    /* affine == 0 behaves as gamma = 1, beta = 0. */
    const double gamma = affine ? load(args->gamma, c) : 1.0;
    const double beta = affine ? load(args->beta, c) : 0.0;
    /* y = gamma * xhat + beta with xhat = (x - mean) * invstd. */
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t s = 0; s < g.spatial; ++s) {
        const int64_t i = offset(&g, n, c, s);
        const double xhat = (load(args->x, i) - st.mean) * st.invstd;
        store(args->y, i, gamma * xhat + beta);
      }
    }
    if (batch) {
      store(args->save_mean, c, st.mean);
      store(args->save_invstd, c, st.invstd);
    }
    /* running = (1 - f) running + f batch, with the UNBIASED variance m / (m - 1)
     * var. Written in PyTorch's order so non-finite values propagate alike (factor
     * 0 with an infinite mean gives NaN). An empty batch (m == 0) has no
     * statistics to blend in and leaves them as they were. */
    if (update && g.m > 0) {
      const double running_mean = load(args->running_mean, c);
      const double running_var = load(args->running_var, c);
      store(args->running_mean, c, factor * st.mean + (1.0 - factor) * running_mean);
      store(args->running_var, c, factor * st.unbiased_var + (1.0 - factor) * running_var);
    }
  }
  if (update) ++*args->num_batches_tracked;
  return succeed(message, message_size, &ill);
}

/* ------------------------------------------------------------------------------ */
/* Backward.                                                                       */

bnc_status bn_example_backward(void* context, const bnc_problem* problem,
                               const bnc_backward_args* args, char* message, size_t message_size) {
  (void)context;
  if (message != NULL && message_size > 0) message[0] = '\0';
  bnc_status status = bnc_validate_problem(problem, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  geometry g;
  status = check_supported(problem, &g, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  status = bnc_validate_backward(problem, args, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  const int batch = uses_batch_statistics(problem);
  const int affine = problem->affine != 0;

  ill_posed_count ill = {0, 0};
  const double m = (double)g.m;
  for (int64_t c = 0; c < g.channels; ++c) {
    /* With batch statistics, recompute them from x in double rather than read
     * save_mean and save_invstd: those were rounded to f32, and the
     * exact gradient is that of the forward at x (the reference does the same). */
    const channel_statistics st =
        batch ? batch_statistics(&g, args->x, c, problem->eps)
              : running_statistics(args->running_mean, args->running_var, c, problem->eps);
    note_ill_posed(&ill, g.m, &st, problem->eps, c);
    const double gamma = affine ? load(args->gamma, c) : 1.0;
    /* dbeta = sum dy, dgamma = sum dy * xhat (semantics.md, Backward). */
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t s = 0; s < g.spatial; ++s) {
        const int64_t i = offset(&g, n, c, s);
        const double dy = load(args->dy, i);
        sum_dy += dy;
        sum_dy_xhat += dy * ((load(args->x, i) - st.mean) * st.invstd);
      }
    }
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t s = 0; s < g.spatial; ++s) {
        const int64_t i = offset(&g, n, c, s);
        const double dy = load(args->dy, i);
        double dx;
        if (batch) {
          /* Training: dx = gamma invstd / m (m dy - dbeta - xhat dgamma). */
          const double xhat = (load(args->x, i) - st.mean) * st.invstd;
          dx = gamma * st.invstd / m * (m * dy - sum_dy - xhat * sum_dy_xhat);
        } else {
          /* Eval with running statistics: y is affine in x, dx = dy gamma invstd. */
          dx = dy * (gamma * st.invstd);
        }
        store(args->dx, i, dx);
      }
    }
    if (affine) {
      store(args->dgamma, c, sum_dy_xhat);
      store(args->dbeta, c, sum_dy);
    }
  }
  return succeed(message, message_size, &ill);
}

/* ------------------------------------------------------------------------------ */
/* The description and the one exported symbol.                                    */

static const bnc_kernel description = {
    BNC_ABI_VERSION,
    sizeof(bnc_kernel),
    "c-example",
    "1.0.0",
    {
        BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING |
            BNC_OP_BACKWARD_EVAL,
        BNC_BIT(BNC_DTYPE_F32),
        BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST),
        BNC_BIT(BNC_PROFILE_PYTORCH), 2, /* min_rank */
        INT32_MAX, /* max_rank: any; the spatial extents only appear as their product */
        BNC_MEMORY_HOST,
        1, /* keeps_module_state: reads and increments num_batches_tracked itself */
    },
    NULL, /* context: this kernel has no state of its own */
    bn_example_forward,
    bn_example_backward,
    0, /* features: dense tensors in the declared layouts only, never in place */
};

const bnc_kernel* bn_example_description(void) { return &description; }

/* Left out when the implementation is linked into another library that exports its
 * own bnconform_kernel (tests/certify/faulty/ wraps this kernel that way). */
#ifndef BN_EXAMPLE_NO_ENTRY
BNC_EXPORT const bnc_kernel* bnconform_kernel(void) { return &description; }
#endif
