/*
 * bn_sync_example.c: a plain C11 batch-normalization kernel behind the bnconform
 * kernel ABI 1.1 (include/bnconform/kernel.h, docs/abi.md) that implements
 * SyncBatchNorm through the ABI's communicator. One file, no dependencies but libm
 * and the ABI's headers (kernel.h, and validate.h for the argument checks).
 *
 * Build it on its own (from the repository root):
 *
 *     cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I include \
 *        examples/sync_kernel/bn_sync_example.c -o libbnconform_sync_example_kernel.so -lm
 *
 * What it implements (docs/semantics.md, PyTorch's BatchNorm{1,2,3}d and
 * SyncBatchNorm; docs/abi.md, "Distributed calls (ABI 1.1)"): f32 and f64 data,
 * channels-first and channels-last layouts, ranks 2 to 8, forward and backward in
 * training and eval mode, affine and track_running_stats on or off, momentum or
 * momentum=None, num_batches_tracked (it keeps the module state itself); profile
 * pytorch only; dense tensors only; feature BNC_FEATURE_DISTRIBUTED_TRAINING.
 *
 * Without a communicator a call is ordinary batch normalization over this rank's
 * batch. In training with a communicator the batch is that of every rank together:
 *
 *   1. all_reduce_sum (I64) of this rank's count N * S: the global m, the same on
 *      every rank, so every rank takes the same branch after it (m == 1: rejected
 *      everywhere; m == 0: PyTorch's empty batch everywhere).
 *   2. Per channel, this rank's compensated sum of x (Neumaier: the sum and its
 *      correction), all_gather of those pairs, added on every rank in rank order
 *      0, 1, ..., size - 1: the global mean, bit for bit the same on every rank.
 *      all_reduce_sum is never used on floating values, since the order in which a
 *      transport adds them need not be the same on every rank.
 *   3. Per channel, this rank's compensated sum of squared deviations from that
 *      mean, gathered and added in rank order the same way: the biased variance
 *      M2 / m, and the unbiased one M2 / (m - 1) of the GLOBAL m.
 *
 * Every collective runs before the first store: when one fails the call returns
 * BNC_STATUS_INTERNAL_ERROR with nothing written and no state moved. Backward in
 * training recomputes the statistics from x the same way (rather than reading the
 * saved ones, which are rounded to f32 for f32 data), then gathers the per-channel
 * sums of dy and dy * xhat. Eval never communicates.
 *
 * Accuracy: every value is read into a double and every sum is a compensated double
 * sum. The sum of squares is taken with an exact power-of-two scaling (each rank
 * scales its deviations by 2^-e, e the exponent of its largest one, and sends e with
 * its sums), so f64 data near the ends of the exponent range, whose squares overflow
 * or underflow, still gets its variance. The sum of x itself is not scaled: data
 * whose sum overflows double (|x| near 2^1023) is out of its range. Compile it
 * without -ffast-math: subnormals must not be flushed and NaN must propagate.
 */
#include <bnconform/kernel.h>
#include <bnconform/validate.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
/* Geometry and element access.                                                    */

typedef struct geometry {
  int64_t batch;    /* N, this rank's */
  int64_t channels; /* C */
  int64_t spatial;  /* S = S1 * ... * Sk (1 for rank 2) */
  int64_t m;        /* N * S: this rank's number of values per channel */
  int channels_last;
  int f64; /* data (and statistics) are f64; f32 otherwise */
} geometry;

static geometry make_geometry(const bnc_problem* p) {
  geometry g;
  g.batch = p->shape[0];
  g.channels = p->shape[1];
  g.spatial = 1;
  for (int32_t d = 2; d < p->rank; ++d) g.spatial *= p->shape[d];
  g.m = g.batch * g.spatial;
  g.channels_last = p->layout == BNC_LAYOUT_CHANNELS_LAST;
  g.f64 = p->data_dtype == BNC_DTYPE_F64;
  return g;
}

/* Channels-first is row-major over (N, C, S), channels-last over (N, S, C). */
static int64_t offset(const geometry* g, int64_t n, int64_t c, int64_t s) {
  return g->channels_last ? (n * g->spatial + s) * g->channels + c
                          : (n * g->channels + c) * g->spatial + s;
}

/* Data and statistics share one type: f64 with f64 data, f32 with f32 data. */
static double load(const geometry* g, const void* base, int64_t i) {
  return g->f64 ? ((const double*)base)[i] : (double)((const float*)base)[i];
}

/* The one rounding of each f32 output, at the store. */
static void store(const geometry* g, void* base, int64_t i, double value) {
  if (g->f64) {
    ((double*)base)[i] = value;
  } else {
    ((float*)base)[i] = (float)value;
  }
}

/* ------------------------------------------------------------------------------ */
/* Compensated summation (Neumaier): a running sum and the rounding errors lost     */
/* from it. Once the sum is not finite the correction is left alone, so an infinite */
/* sum stays infinite (inf - inf would make the correction NaN).                   */

typedef struct compensated {
  double sum;
  double correction;
} compensated;

static void add(compensated* a, double value) {
  const double t = a->sum + value;
  if (isfinite(t)) {
    a->correction += fabs(a->sum) >= fabs(value) ? (a->sum - t) + value : (value - t) + a->sum;
  }
  a->sum = t;
}

static double total(const compensated* a) { return a->sum + a->correction; }

/* ------------------------------------------------------------------------------ */
/* Collectives. With a communicator, every rank's values are gathered (F64) into    */
/* `receive` (size * count values, rank r's at r * count); without one, this rank's */
/* values are the only ones.                                                       */

typedef struct group {
  const bnc_communicator* communicator; /* NULL: this rank alone */
  int64_t size;                         /* 1 without a communicator */
} group;

static bnc_status gather(const group* grp, const double* send, double* receive, int64_t count,
                         char* message, size_t message_size) {
  if (grp->communicator == NULL) {
    for (int64_t i = 0; i < count; ++i) receive[i] = send[i];
    return BNC_STATUS_OK;
  }
  const bnc_communicator* comm = grp->communicator;
  if (comm->all_gather(comm->context, send, receive, count, BNC_ELEMENT_F64) != BNC_STATUS_OK) {
    return fail(message, message_size, BNC_STATUS_INTERNAL_ERROR,
                "communicator: all_gather failed on rank %d of %d; nothing written",
                (int)comm->rank, (int)comm->size);
  }
  return BNC_STATUS_OK;
}

/* ------------------------------------------------------------------------------ */
/* Workspace: the per-channel statistics and the buffers of the collectives, one   */
/* allocation made before the first collective.                                    */

/* The most values a rank sends per channel: 3 in the forward's step 3 (exponent,
 * sum, correction), 4 in the backward (two compensated sums). */
enum { WIDTH = 4 };

typedef struct workspace {
  double* block;
  double* mean;         /* C */
  double* invstd;       /* C */
  double* unbiased_var; /* C */
  double* send;         /* WIDTH * C */
  double* receive;      /* size * WIDTH * C */
} workspace;

/* Returns 0 when the sizes do not fit or malloc fails. */
static int allocate(workspace* w, int64_t channels, int64_t size) {
  w->block = NULL;
  const int64_t limit = (int64_t)(SIZE_MAX / sizeof(double) / 2);
  if (channels > limit / WIDTH / (size + 2)) return 0;
  const int64_t count = channels * (3 + WIDTH + size * WIDTH);
  w->block = (double*)malloc((size_t)(count > 0 ? count : 1) * sizeof(double));
  if (w->block == NULL) return 0;
  w->mean = w->block;
  w->invstd = w->mean + channels;
  w->unbiased_var = w->invstd + channels;
  w->send = w->unbiased_var + channels;
  w->receive = w->send + WIDTH * channels;
  return 1;
}

/* ------------------------------------------------------------------------------ */
/* Statistics.                                                                     */

/* The exponent sent by a rank with no nonzero finite deviation in a channel: below
 * every exponent of a double (frexp gives at least -1073), so it never decides the
 * common scale, and its (zero or NaN) sums keep their value when rescaled. */
#define NO_EXPONENT (-4096.0)

/* eps == 0 with zero variance makes invstd infinite: an ill-posed channel whose
 * outputs are implementation-defined (semantics.md). Counted for the call's note. */
typedef struct ill_posed_count {
  long long count;
  long long first;
} ill_posed_count;

static void note_ill_posed(ill_posed_count* ill, int64_t c) {
  if (ill->count == 0) ill->first = (long long)c;
  ++ill->count;
}

/* Steps 1 to 3 of the header. On success w->mean, w->invstd and w->unbiased_var
 * hold the global statistics and *global_m the global count; nothing is written to
 * the caller's buffers in any case. `allocated` is 0 when this rank's workspace
 * could not be allocated: it still takes part in the count's all_reduce_sum, where
 * every rank learns of the failure and fails alike (rather than wait for this rank
 * in the next collective). */
static bnc_status batch_statistics(const bnc_problem* p, const geometry* g, const group* grp,
                                   const void* x, workspace* w, int allocated, int64_t* global_m,
                                   ill_posed_count* ill, char* message, size_t message_size) {
  const bnc_communicator* comm = grp->communicator;
  /* Step 1: the global count, and how many ranks could not allocate. */
  int64_t counts[2] = {g->m, allocated ? 0 : 1};
  if (comm != NULL &&
      comm->all_reduce_sum(comm->context, counts, 2, BNC_ELEMENT_I64) != BNC_STATUS_OK) {
    return fail(message, message_size, BNC_STATUS_INTERNAL_ERROR,
                "communicator: all_reduce_sum failed on rank %d of %d; nothing written",
                (int)comm->rank, (int)comm->size);
  }
  if (counts[1] != 0) {
    return fail(message, message_size, BNC_STATUS_INTERNAL_ERROR,
                "out of memory: no workspace for %lld channel(s) on %lld rank(s)",
                (long long)g->channels, (long long)counts[1]);
  }
  const int64_t m = counts[0];
  *global_m = m;
  if (m == 1) {
    /* PyTorch's error, for the batch of every rank together: every rank sees the
     * same m and rejects the call too. */
    char shape[160] = "";
    size_t used = 0;
    for (int32_t d = 0; d < p->rank && used < sizeof shape; ++d) {
      const int n = snprintf(shape + used, sizeof shape - used, "%s%lld", d > 0 ? ", " : "",
                             (long long)p->shape[d]);
      if (n < 0) break;
      used += (size_t)n;
    }
    if (comm != NULL) {
      return fail(message, message_size, BNC_STATUS_INVALID_PROBLEM,
                  "Expected more than 1 value per channel when training, got input size (%s) on "
                  "rank %d and 1 value per channel over all %d ranks",
                  shape, (int)comm->rank, (int)comm->size);
    }
    return fail(message, message_size, BNC_STATUS_INVALID_PROBLEM,
                "Expected more than 1 value per channel when training, got input size (%s)", shape);
  }
  const int64_t C = g->channels;
  if (m == 0) {
    /* The empty batch: mean and variance are 0 / 0 (semantics.md). No rank has data,
     * every rank knows it, and none communicates further. */
    for (int64_t c = 0; c < C; ++c) {
      w->mean[c] = NAN;
      w->invstd[c] = NAN;
      w->unbiased_var[c] = NAN;
    }
    return BNC_STATUS_OK;
  }

  /* Step 2: the mean. */
  for (int64_t c = 0; c < C; ++c) {
    compensated sum = {0, 0};
    for (int64_t n = 0; n < g->batch; ++n) {
      for (int64_t s = 0; s < g->spatial; ++s) add(&sum, load(g, x, offset(g, n, c, s)));
    }
    w->send[2 * c] = sum.sum;
    w->send[2 * c + 1] = sum.correction;
  }
  bnc_status status = gather(grp, w->send, w->receive, 2 * C, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  for (int64_t c = 0; c < C; ++c) {
    compensated sum = {0, 0};
    for (int64_t r = 0; r < grp->size; ++r) {
      add(&sum, w->receive[r * 2 * C + 2 * c]);
      add(&sum, w->receive[r * 2 * C + 2 * c + 1]);
    }
    w->mean[c] = total(&sum) / (double)m;
  }

  /* Step 3: the sum of squared deviations, each rank's scaled by 2^-e exactly. */
  for (int64_t c = 0; c < C; ++c) {
    const double mean = w->mean[c];
    double largest = 0;
    for (int64_t n = 0; n < g->batch; ++n) {
      for (int64_t s = 0; s < g->spatial; ++s) {
        const double a = fabs(load(g, x, offset(g, n, c, s)) - mean);
        if (a > largest) largest = a; /* NaN never compares greater */
      }
    }
    int e = 0;
    double exponent = NO_EXPONENT;
    if (largest > 0) {
      if (isfinite(largest)) frexp(largest, &e); /* largest = f 2^e, f in [0.5, 1) */
      exponent = (double)e;                      /* an infinite deviation: no scaling */
    }
    compensated squares = {0, 0};
    for (int64_t n = 0; n < g->batch; ++n) {
      for (int64_t s = 0; s < g->spatial; ++s) {
        const double d = ldexp(load(g, x, offset(g, n, c, s)) - mean, -e);
        add(&squares, d * d);
      }
    }
    w->send[3 * c] = exponent;
    w->send[3 * c + 1] = squares.sum;
    w->send[3 * c + 2] = squares.correction;
  }
  status = gather(grp, w->send, w->receive, 3 * C, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  for (int64_t c = 0; c < C; ++c) {
    double common = NO_EXPONENT; /* the largest exponent of every rank */
    for (int64_t r = 0; r < grp->size; ++r) {
      const double exponent = w->receive[r * 3 * C + 3 * c];
      if (exponent > common) common = exponent;
    }
    compensated squares = {0, 0};
    for (int64_t r = 0; r < grp->size; ++r) {
      const double* from = w->receive + r * 3 * C + 3 * c;
      const int shift = 2 * (int)(from[0] - common); /* <= 0: exact but for underflow */
      add(&squares, ldexp(from[1], shift));
      add(&squares, ldexp(from[2], shift));
    }
    const int E = (int)common;
    /* var = 2^(2E) scaled, with scaled = M2 2^(-2E) / m in [0, 1]. */
    const double scaled = total(&squares) / (double)m;
    const double var = ldexp(scaled, 2 * E);
    w->unbiased_var[c] = ldexp(total(&squares) / (double)(m - 1), 2 * E);
    /* invstd = 2^-E / sqrt(scaled + eps 2^(-2E)): no square leaves the range on the
     * way. When eps 2^(-2E) overflows, the variance is negligible beside eps. */
    const double eps_scaled = ldexp(p->eps, -2 * E);
    w->invstd[c] = isfinite(eps_scaled) ? ldexp(1.0 / sqrt(scaled + eps_scaled), -E)
                                        : 1.0 / sqrt(var + p->eps);
    if (scaled == 0 && p->eps == 0) note_ill_posed(ill, c);
  }
  return BNC_STATUS_OK;
}

/* Eval with running statistics: normalize with them (semantics.md). */
static void running_statistics(const geometry* g, const void* running_mean, const void* running_var,
                               double eps, workspace* w, ill_posed_count* ill) {
  for (int64_t c = 0; c < g->channels; ++c) {
    const double var = load(g, running_var, c);
    w->mean[c] = load(g, running_mean, c);
    w->unbiased_var[c] = var;
    w->invstd[c] = 1.0 / sqrt(var + eps);
    if (g->m > 0 && var + eps == 0) note_ill_posed(ill, c);
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

/* Batch statistics are used in training, and in eval without running statistics. */
static int uses_batch_statistics(const bnc_problem* p) {
  return p->mode == BNC_MODE_TRAINING || !p->track_running_stats;
}

/* Eval never communicates: a communicator counts only in training. */
static group make_group(const bnc_problem* p, const bnc_communicator* communicator) {
  group grp = {NULL, 1};
  if (p->mode == BNC_MODE_TRAINING && communicator != NULL) {
    grp.communicator = communicator;
    grp.size = communicator->size;
  }
  return grp;
}

/* The statistics a call normalizes with, into the workspace; nothing written. */
static bnc_status statistics(const bnc_problem* p, const geometry* g, const group* grp,
                             const void* x, const void* running_mean, const void* running_var,
                             workspace* w, int allocated, int64_t* global_m, ill_posed_count* ill,
                             char* message, size_t message_size) {
  *global_m = g->m;
  if (uses_batch_statistics(p)) {
    return batch_statistics(p, g, grp, x, w, allocated, global_m, ill, message, message_size);
  }
  if (!allocated) {
    return fail(message, message_size, BNC_STATUS_INTERNAL_ERROR,
                "out of memory: no workspace for %lld channel(s)", (long long)g->channels);
  }
  running_statistics(g, running_mean, running_var, p->eps, w, ill);
  return BNC_STATUS_OK;
}

/* ------------------------------------------------------------------------------ */
/* Forward.                                                                        */

/* Defined at the end of the file; the declared clauses read it. */
static const bnc_kernel description;

static bnc_status bn_sync_forward(void* context, const bnc_problem* problem,
                                  const bnc_forward_args* args, char* message,
                                  size_t message_size) {
  (void)context;
  if (message != NULL && message_size > 0) message[0] = '\0';
  /* The descriptor, then the arguments (BAD_ARGUMENT: a malformed stride is that,
   * declared or not) and, without a communicator, the m == 1 rule (with one, the
   * global m decides, below), then what this kernel does not implement
   * (UNSUPPORTED: dtype, layout, profile, rank, strides that are not dense, ...).
   * keeps_module_state = 1: the counter must be there and in range. */
  bnc_status status = bnc_validate_problem(problem, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  status = bnc_validate_forward(problem, args, 1, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  status = bnc_validate_declared_forward(&description, problem, args, message, message_size);
  if (status != BNC_STATUS_OK) return status;

  const geometry g = make_geometry(problem);
  const group grp = make_group(problem, args->communicator);
  workspace w;
  const int allocated = allocate(&w, g.channels, grp.size);
  ill_posed_count ill = {0, 0};
  int64_t m = 0;
  status = statistics(problem, &g, &grp, args->x, args->running_mean, args->running_var, &w,
                      allocated, &m, &ill, message, message_size);
  if (status != BNC_STATUS_OK) {
    free(w.block);
    return status;
  }

  /* Every collective has succeeded: from here on the call writes and succeeds.
   * PyTorch's module counts every training batch with running statistics, the
   * empty one too, and with momentum=None uses 1 / num_batches_tracked after the
   * increment (semantics.md, Module state). Every rank updates its own copy of the
   * module state with the same global values. */
  const int batch = uses_batch_statistics(problem);
  const int affine = problem->affine != 0;
  const int update = problem->track_running_stats && problem->mode == BNC_MODE_TRAINING;
  double factor = 0;
  if (update) {
    const int64_t count = *args->num_batches_tracked + 1;
    factor = problem->momentum_is_none ? 1.0 / (double)count : problem->momentum;
  }
  for (int64_t c = 0; c < g.channels; ++c) {
    const double mean = w.mean[c];
    const double invstd = w.invstd[c];
    /* affine == 0 behaves as gamma = 1, beta = 0. */
    const double gamma = affine ? load(&g, args->gamma, c) : 1.0;
    const double beta = affine ? load(&g, args->beta, c) : 0.0;
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t s = 0; s < g.spatial; ++s) {
        const int64_t i = offset(&g, n, c, s);
        store(&g, args->y, i, (load(&g, args->x, i) - mean) * invstd * gamma + beta);
      }
    }
    if (batch) {
      store(&g, args->save_mean, c, mean);
      store(&g, args->save_invstd, c, invstd);
    }
    /* running = (1 - f) running + f batch, the variance unbiased with the global m,
     * in PyTorch's order so that non-finite values propagate alike. An empty batch
     * has nothing to blend in. */
    if (update && m > 0) {
      const double running_mean = load(&g, args->running_mean, c);
      const double running_var = load(&g, args->running_var, c);
      store(&g, args->running_mean, c, factor * mean + (1.0 - factor) * running_mean);
      store(&g, args->running_var, c, factor * w.unbiased_var[c] + (1.0 - factor) * running_var);
    }
  }
  if (update) ++*args->num_batches_tracked;
  free(w.block);
  return succeed(message, message_size, &ill);
}

/* ------------------------------------------------------------------------------ */
/* Backward.                                                                       */

static bnc_status bn_sync_backward(void* context, const bnc_problem* problem,
                                   const bnc_backward_args* args, char* message,
                                   size_t message_size) {
  (void)context;
  if (message != NULL && message_size > 0) message[0] = '\0';
  bnc_status status = bnc_validate_problem(problem, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  status = bnc_validate_backward(problem, args, message, message_size);
  if (status != BNC_STATUS_OK) return status;
  status = bnc_validate_declared_backward(&description, problem, args, message, message_size);
  if (status != BNC_STATUS_OK) return status;

  const geometry g = make_geometry(problem);
  const group grp = make_group(problem, args->communicator);
  const int64_t C = g.channels;
  workspace w;
  const int allocated = allocate(&w, C, grp.size);
  ill_posed_count ill = {0, 0};
  int64_t m = 0;
  /* With batch statistics, recompute them from x (in training, over every rank)
   * rather than read save_mean and save_invstd, which are rounded to f32 for f32
   * data: the exact gradient is that of the forward at x. */
  status = statistics(problem, &g, &grp, args->x, args->running_mean, args->running_var, &w,
                      allocated, &m, &ill, message, message_size);
  /* dbeta = sum dy, dgamma = sum dy xhat (semantics.md, Backward): this rank's
   * compensated sums, gathered and added in rank order like the statistics. */
  if (status == BNC_STATUS_OK) {
    for (int64_t c = 0; c < C; ++c) {
      const double mean = w.mean[c];
      const double invstd = w.invstd[c];
      compensated sum_dy = {0, 0}, sum_dy_xhat = {0, 0};
      for (int64_t n = 0; n < g.batch; ++n) {
        for (int64_t s = 0; s < g.spatial; ++s) {
          const int64_t i = offset(&g, n, c, s);
          const double dy = load(&g, args->dy, i);
          add(&sum_dy, dy);
          add(&sum_dy_xhat, dy * ((load(&g, args->x, i) - mean) * invstd));
        }
      }
      w.send[4 * c] = sum_dy.sum;
      w.send[4 * c + 1] = sum_dy.correction;
      w.send[4 * c + 2] = sum_dy_xhat.sum;
      w.send[4 * c + 3] = sum_dy_xhat.correction;
    }
    status = gather(&grp, w.send, w.receive, 4 * C, message, message_size);
  }
  if (status != BNC_STATUS_OK) {
    free(w.block);
    return status;
  }

  /* Every collective has succeeded: from here on the call writes and succeeds. */
  const int batch = uses_batch_statistics(problem);
  const int affine = problem->affine != 0;
  const double mm = (double)m; /* the global m */
  for (int64_t c = 0; c < C; ++c) {
    compensated sum_dy = {0, 0}, sum_dy_xhat = {0, 0};
    for (int64_t r = 0; r < grp.size; ++r) {
      const double* from = w.receive + r * 4 * C + 4 * c;
      add(&sum_dy, from[0]);
      add(&sum_dy, from[1]);
      add(&sum_dy_xhat, from[2]);
      add(&sum_dy_xhat, from[3]);
    }
    const double dbeta = total(&sum_dy);
    const double dgamma = total(&sum_dy_xhat);
    const double mean = w.mean[c];
    const double invstd = w.invstd[c];
    const double gamma = affine ? load(&g, args->gamma, c) : 1.0;
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t s = 0; s < g.spatial; ++s) {
        const int64_t i = offset(&g, n, c, s);
        const double dy = load(&g, args->dy, i);
        double dx;
        if (batch) {
          /* Training: dx = gamma invstd (dy - dbeta / m - xhat dgamma / m). */
          const double xhat = (load(&g, args->x, i) - mean) * invstd;
          dx = gamma * invstd * (dy - dbeta / mm - xhat * (dgamma / mm));
        } else {
          /* Eval with running statistics: y is affine in x, dx = dy gamma invstd. */
          dx = dy * (gamma * invstd);
        }
        store(&g, args->dx, i, dx);
      }
    }
    if (affine) {
      store(&g, args->dgamma, c, dgamma);
      store(&g, args->dbeta, c, dbeta);
    }
  }
  free(w.block);
  return succeed(message, message_size, &ill);
}

/* ------------------------------------------------------------------------------ */
/* The description and the one exported symbol.                                    */

static const bnc_kernel description = {
    BNC_ABI_VERSION,
    sizeof(bnc_kernel),
    "c-sync-example",
    "1.0.0",
    {
        BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING |
            BNC_OP_BACKWARD_EVAL,
        BNC_BIT(BNC_DTYPE_F64) | BNC_BIT(BNC_DTYPE_F32),
        BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST),
        BNC_BIT(BNC_PROFILE_PYTORCH), 2, /* min_rank */
        8,                               /* max_rank */
        BNC_MEMORY_HOST,
        1, /* keeps_module_state: reads and increments num_batches_tracked itself */
    },
    NULL, /* context: this kernel has no state of its own */
    bn_sync_forward,
    bn_sync_backward,
    BNC_FEATURE_DISTRIBUTED_TRAINING, /* dense tensors only, never in place */
};

BNC_EXPORT const bnc_kernel* bnconform_kernel(void) { return &description; }
