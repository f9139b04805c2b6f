/*
 * bnconform kernel ABI, version 1.1.
 *
 * Every batch-normalization kernel that bnconform checks (the reference, the
 * built-in CPU and CUDA kernels, peer adapters, mutants, and a user's shared
 * library) is reached through this header: plain C types, status codes and a
 * message buffer; no exceptions and no C++ types cross it. The caller owns all
 * memory. The full contract is in docs/abi.md.
 *
 * A shared library exports exactly one symbol:
 *
 *     BNC_EXPORT const bnc_kernel* bnconform_kernel(void);
 *
 * which returns a pointer to a kernel description that stays valid until the
 * library is unloaded. The loader checks `abi_version` (always the first
 * member, at offset 0, in every version of the ABI) before it reads anything else.
 */
#ifndef BNCONFORM_KERNEL_H
#define BNCONFORM_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Major version in the high 16 bits, minor in the low 16 bits. A loader accepts a
 * kernel whose major version equals its own and whose minor version is not newer. */
#define BNC_ABI_VERSION_MAJOR 1
#define BNC_ABI_VERSION_MINOR 1
#define BNC_ABI_VERSION ((uint32_t)((BNC_ABI_VERSION_MAJOR << 16) | BNC_ABI_VERSION_MINOR))

/* The one symbol a kernel library exports. */
#define BNC_KERNEL_SYMBOL "bnconform_kernel"

#if defined(_WIN32)
#define BNC_EXPORT __declspec(dllexport)
#else
#define BNC_EXPORT __attribute__((visibility("default")))
#endif

typedef enum bnc_status {
  BNC_STATUS_OK = 0,
  /* The call is malformed: null pointer where a buffer is required, rank < 2,
   * a negative extent, an inconsistent dtype pair, an unknown enum value. */
  BNC_STATUS_BAD_ARGUMENT = 1,
  /* The call is well formed but batch normalization rejects it, e.g. training
   * with one value per channel ("Expected more than 1 value per channel when
   * training"). Nothing has been written and no state has moved. */
  BNC_STATUS_INVALID_PROBLEM = 2,
  /* The kernel does not implement this combination (it should also not declare it). */
  BNC_STATUS_UNSUPPORTED = 3,
  /* Anything else: out of memory, a device error, a failed self-check. */
  BNC_STATUS_INTERNAL_ERROR = 4
} bnc_status;

typedef enum bnc_dtype {
  BNC_DTYPE_F64 = 0,
  BNC_DTYPE_F32 = 1,
  BNC_DTYPE_F16 = 2, /* IEEE 754 binary16 */
  BNC_DTYPE_BF16 = 3 /* bfloat16: the top 16 bits of a binary32 */
} bnc_dtype;

typedef enum bnc_layout {
  /* Row-major over (N, C, S1, ..., Sk): NCHW, NCDHW, NCL. */
  BNC_LAYOUT_CHANNELS_FIRST = 0,
  /* Row-major over (N, S1, ..., Sk, C): NHWC, NDHWC, NLC. */
  BNC_LAYOUT_CHANNELS_LAST = 1
} bnc_layout;

typedef enum bnc_mode { BNC_MODE_TRAINING = 0, BNC_MODE_EVAL = 1 } bnc_mode;

typedef enum bnc_profile {
  BNC_PROFILE_PYTORCH = 0,
  BNC_PROFILE_ONNX = 1,
  BNC_PROFILE_KERAS = 2,
  BNC_PROFILE_TF_FUSED = 3,
  BNC_PROFILE_FLAX = 4 /* additive within ABI 1.0: older kernels never declare it */
} bnc_profile;

typedef enum bnc_memory { BNC_MEMORY_HOST = 0, BNC_MEMORY_DEVICE = 1 } bnc_memory;

/* Operation bits for bnc_capabilities.operations. */
#define BNC_OP_FORWARD_TRAINING (1u << 0)
#define BNC_OP_FORWARD_EVAL (1u << 1)
#define BNC_OP_BACKWARD_TRAINING (1u << 2)
#define BNC_OP_BACKWARD_EVAL (1u << 3)

/* Bit for a dtype, layout or profile in the capability masks. */
#define BNC_BIT(enum_value) (1u << (unsigned)(enum_value))

/* Feature bits for bnc_kernel.features (ABI 1.1). A kernel is sent only what it
 * declares; a 1.0 kernel declares none of them. */
/* Each data tensor (x, y, dy, dx) may come dense in any declared layout of its own,
 * independently of the others (x channels-last with dy channels-first). */
#define BNC_FEATURE_MIXED_LAYOUTS (1u << 0)
/* Each data tensor may come with any strides that do not overlap: any order of the
 * dimensions, padding between rows, any stride on a dimension of extent 1. Implies
 * BNC_FEATURE_MIXED_LAYOUTS. */
#define BNC_FEATURE_ANY_STRIDES (1u << 1)
/* Forward: y may be the same memory as x (same pointer, same strides). */
#define BNC_FEATURE_IN_PLACE_FORWARD (1u << 2)
/* Backward: dx may be the same memory as dy (same pointer, same strides). */
#define BNC_FEATURE_IN_PLACE_BACKWARD (1u << 3)
/* Training forward and backward accept a communicator: the statistics are those of
 * the batch of every rank together (SyncBatchNorm). */
#define BNC_FEATURE_DISTRIBUTED_TRAINING (1u << 4)

typedef struct bnc_capabilities {
  uint32_t operations; /* BNC_OP_* bits */
  uint32_t dtypes;     /* BNC_BIT(bnc_dtype) for each data dtype of x, y, dy, dx */
  uint32_t layouts;    /* BNC_BIT(bnc_layout) */
  uint32_t profiles;   /* BNC_BIT(bnc_profile) */
  int32_t min_rank;    /* >= 2 */
  int32_t max_rank;    /* >= min_rank; INT32_MAX for any rank */
  bnc_memory memory;   /* where every tensor pointer points */
  /* Non-zero: the kernel keeps the module state itself. It reads and increments
   * *num_batches_tracked and derives the running-average factor from the
   * problem's momentum (1 / num_batches_tracked when momentum is None).
   * Zero: the kernel uses bnc_forward_args.exponential_average_factor and never
   * touches the counter; the caller increments it after a successful call. */
  int32_t keeps_module_state;
} bnc_capabilities;

/* One batch-normalization problem. Extents are logical: (N, C, S1, ..., Sk). */
typedef struct bnc_problem {
  uint32_t struct_size; /* sizeof(bnc_problem) as the caller compiled it */
  int32_t rank;         /* number of entries in shape; >= 2 */
  const int64_t* shape; /* N, C, S1, ..., Sk; each >= 0 */
  bnc_layout layout;
  bnc_dtype data_dtype;  /* x, y, dy, dx */
  bnc_dtype stats_dtype; /* gamma, beta, running and saved statistics, dgamma,
                            dbeta: F64 when data_dtype is F64, F32 otherwise */
  bnc_mode mode;
  bnc_profile profile;
  double eps;                  /* finite, >= 0 */
  double momentum;             /* ignored when momentum_is_none */
  int32_t momentum_is_none;    /* PyTorch momentum=None: cumulative moving average */
  int32_t affine;              /* zero: no gamma/beta, behave as gamma = 1, beta = 0 */
  int32_t track_running_stats; /* zero: no running statistics and no counter */
} bnc_problem;

/* The element type of a collective's buffer. */
typedef enum bnc_element {
  BNC_ELEMENT_F64 = 0,
  BNC_ELEMENT_F32 = 1,
  BNC_ELEMENT_I64 = 2
} bnc_element;

/* The process group of a distributed call (ABI 1.1), owned by the caller; the
 * harness binds it to MPI, and an NCCL or Gloo binding fills the same struct. Each
 * operation is collective: every rank calls it, in the same order, with the same
 * count and type. It returns BNC_STATUS_OK, or BNC_STATUS_INTERNAL_ERROR on every
 * rank that sees a failure (a rank that died or left); the kernel then returns that
 * status without writing any output. Buffers are in the kernel's declared memory
 * space. See docs/abi.md, "Distributed calls". */
typedef struct bnc_communicator {
  uint32_t struct_size; /* sizeof(bnc_communicator) as the caller compiled it */
  int32_t rank;         /* this process: 0 <= rank < size */
  int32_t size;         /* number of ranks, >= 1 */
  void* context;        /* passed back to every operation */
  /* In place: buffer holds this rank's count values on entry and their sum over
   * every rank on return (the same bits on every rank). */
  bnc_status (*all_reduce_sum)(void* context, void* buffer, int64_t count, bnc_element type);
  /* receive holds size * count values on return: rank r's send values at r * count. */
  bnc_status (*all_gather)(void* context, const void* send, void* receive, int64_t count,
                           bnc_element type);
} bnc_communicator;

/* Forward pass. Tensor pointers are in the kernel's declared memory space;
 * num_batches_tracked is always host memory. Vectors have C elements. */
typedef struct bnc_forward_args {
  uint32_t struct_size;
  const void* x;     /* input, data_dtype, problem layout */
  void* y;           /* output, same type, shape and layout as x */
  const void* gamma; /* NULL when !affine */
  const void* beta;  /* NULL when !affine */
  /* In/out in training (updated), inputs in eval; NULL when !track_running_stats. */
  void* running_mean;
  void* running_var; /* stores the UNBIASED variance */
  /* Outputs whenever batch statistics are used (training, or eval without running
   * statistics): the batch mean and 1 / sqrt(biased var + eps). NULL otherwise. */
  void* save_mean;
  void* save_invstd;
  int64_t* num_batches_tracked; /* host; NULL when !track_running_stats */
  /* The factor f of running = (1 - f) running + f batch for this call, computed
   * by the caller (momentum, or 1 / (num_batches_tracked + 1) for None). Kernels
   * that keep the module state ignore it. */
  double exponential_average_factor;
  void* stream; /* device kernels: a cudaStream_t, NULL for the default stream */
  /* ABI 1.1. Element strides over (N, C, S1, ..., Sk), problem->rank entries each:
   * NULL means dense in problem->layout. Non-NULL only for a kernel that declares
   * BNC_FEATURE_MIXED_LAYOUTS or BNC_FEATURE_ANY_STRIDES. y == x only for a kernel
   * that declares BNC_FEATURE_IN_PLACE_FORWARD. */
  const int64_t* x_strides;
  const int64_t* y_strides;
  /* Training with BNC_FEATURE_DISTRIBUTED_TRAINING: the process group whose batches
   * together are the batch; NULL otherwise (a call on this rank's batch alone). */
  const bnc_communicator* communicator;
} bnc_forward_args;

/* Backward pass: gradients of y = BN(x) with respect to x, gamma and beta. */
typedef struct bnc_backward_args {
  uint32_t struct_size;
  const void* x;
  const void* dy;
  void* dx;
  const void* gamma; /* NULL when !affine */
  /* The batch statistics saved by the forward pass (training, or eval without
   * running statistics); NULL otherwise. */
  const void* save_mean;
  const void* save_invstd;
  /* Running statistics (eval with track_running_stats); NULL otherwise. */
  const void* running_mean;
  const void* running_var;
  void* dgamma; /* NULL when !affine */
  void* dbeta;  /* NULL when !affine */
  void* stream;
  /* ABI 1.1, as in bnc_forward_args; dx == dy only for a kernel that declares
   * BNC_FEATURE_IN_PLACE_BACKWARD. */
  const int64_t* x_strides;
  const int64_t* dy_strides;
  const int64_t* dx_strides;
  const bnc_communicator* communicator;
} bnc_backward_args;

/* Every entry point returns a status. On failure it writes a NUL-terminated,
 * human-readable message of at most message_size bytes (truncated if longer).
 * On success it may write a note (e.g. "ill-posed: ...") or leave message empty. */
typedef bnc_status (*bnc_forward_fn)(void* context, const bnc_problem* problem,
                                     const bnc_forward_args* args, char* message,
                                     size_t message_size);
typedef bnc_status (*bnc_backward_fn)(void* context, const bnc_problem* problem,
                                      const bnc_backward_args* args, char* message,
                                      size_t message_size);

typedef struct bnc_kernel {
  uint32_t abi_version; /* BNC_ABI_VERSION the kernel was built against; first member */
  uint32_t struct_size; /* sizeof(bnc_kernel) */
  const char* name;     /* short, stable identifier, e.g. "reference" */
  const char* version;  /* free-form version string of the kernel */
  bnc_capabilities capabilities;
  void* context; /* passed back to every entry point */
  bnc_forward_fn forward;
  bnc_backward_fn backward;
  /* ABI 1.1: BNC_FEATURE_* bits. A 1.0 kernel's description ends before it (its
   * struct_size says so) and the loader reads it as 0. */
  uint32_t features;
} bnc_kernel;

/* The signature of the exported symbol BNC_KERNEL_SYMBOL. */
typedef const bnc_kernel* (*bnc_kernel_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BNCONFORM_KERNEL_H */
