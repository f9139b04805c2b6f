#pragma once
// Small, plain batch-normalization kernels for measuring the battery: correct
// models of each reduction class the error model must accept, and mutants, each
// one realistic bug the battery must reject (docs/error-model.md, "Proof of
// power"). Host memory, f32 and f64, both layouts, every rank; the harness keeps
// the module state unless a mutant's bug is about it.
#include <span>
#include <string_view>

#include "bnconform/kernel.h"

namespace bnconform::mutants {

// How the per-channel sums are accumulated.
enum class reduction {
  sequential,  // one running sum in the compute type: the classic f32 bug
  pairwise,    // a binary tree in the compute type (standard)
  welford,     // Welford within blocks of 8, blocks merged by Chan's formula in a tree
  wide,        // f64 for f32 data; compensated (Neumaier) f64 sums for f64 data (strict)
};

enum class flaw {
  none,
  biased_running_var,       // stores the biased variance in running_var
  flipped_momentum,         // running = momentum * running + (1 - momentum) * batch
  none_as_default,          // momentum=None treated as 0.1
  eps_outside_sqrt,         // invstd = 1 / (sqrt(var) + eps)
  one_pass_variance,        // var = E[x^2] - E[x]^2 in the compute type
  layout_slip,              // channels_last output written with channels_first strides
  missing_mean_dy,          // dx without the - mean(dy) term
  unwritten_tail,           // the last element of y is never written
  out_of_bounds_write,      // writes one element past the end of y
  counter_not_incremented,  // keeps the module state but never counts the batch
  float_counter,            // keeps num_batches_tracked in a float
  eval_uses_batch_stats,    // eval normalizes with the batch statistics
  racy_reduction,           // sums in a different order on every call
  overwrites_input,         // normalizes x in place as a scratch buffer
  vector_remainder,         // channels_last, C > 16: the channels after the last full
                            // block of 16 (a vector's tail) are written without beta
  validates_nothing,        // skips the ABI's argument checks: computes whatever it is sent
  cpu_count_chunks,         // cuts each channel's sums into one chunk per CPU (or
                            // OMP_NUM_THREADS), chunk sums rounded to the compute type
  ignores_strides,          // declares any strides, reads and writes every tensor as
                            // dense in the problem's layout
  in_place_rereads_x,       // declares y over x in place, and computes save_mean in a
                            // second pass over x after writing y
  // Convention swaps between profiles (docs/semantics.md, "Profiles"); these
  // mutants declare pytorch and the profile their bug is in.
  keras_unbiased_running_var,  // keras: stores the unbiased variance, as pytorch does
  keras_momentum_as_pytorch,   // keras: momentum weighs the batch value, as in pytorch
  tf_fused_eps_floor,          // tf-fused: eps raised to 1.001e-5, as some wrappers do
  onnx_eps_outside_sqrt,       // onnx: invstd = 1 / (sqrt(var) + eps)
  flax_rejects_one_value,      // flax: m == 1 rejected, as pytorch does
  // Merge defects of SyncBatchNorm (distributed_zoo): each rank's count, mean and
  // biased variance per channel are gathered and merged by Chan's formula, in rank
  // order; the flaw breaks that merge.
  sync_half_count,        // each rank's count sent as an f16 value: above 65504 it is Inf
  sync_empty_rank_nan,    // an empty rank's NaN mean (0 / 0) is merged with weight 0
  sync_var_from_invstd,   // ranks send invstd and the variance is rebuilt as
                          // 1 / invstd^2 - eps: lost where eps dwarfs it, negative at 0
  sync_no_global_check,   // a global m of 1 is not rejected: the unbiased variance is 0 / 0
  sync_unweighted_means,  // the global mean is the mean of the ranks' means
  sync_local_bessel,      // the running variance takes Bessel's factor of the local m
  sync_rank_dies,         // rank 1 aborts in a distributed training forward
  sync_rank_hangs,        // rank 1 never joins the first collective
};

struct model {
  std::string_view name;
  reduction sums;
  flaw bug;
  // What the battery must say: for a correct model, the level it passes; for a
  // mutant, a phrase its failure reason must contain.
  std::string_view expectation;
  bnc_kernel kernel;  // context points back to this model
};

// The correct models: wide (strict), pairwise and welford (standard).
std::span<const model> correct_models();
// The sequential f32 kernel: correct code, but fails `standard` on long offset channels.
const model& sequential_model();
// The mutant zoo (the sequential model is its first member: correct code that the
// battery must still reject on long offset channels), each rejected in the pytorch
// profile. The models implement every profile but declare pytorch only.
std::span<const model> zoo();
// Convention swaps between profiles: each declares pytorch and the profile of its
// bug, has its bug only in that profile, and is rejected there with the
// convention named (`expectation`), by the degenerate catalog or the property
// profile-relations.
std::span<const model> convention_zoo();
// Mutants of the ABI contract itself, caught only by certify's groups that send what
// a well-formed call does not (malformed calls), run calls under other CPU counts
// (reproducibility) or pass strided and in-place tensors (views): the in-process
// tests that walk zoo() leave them out.
std::span<const model> contract_zoo();
// SyncBatchNorm models (f32 and f64, pytorch, BNC_FEATURE_DISTRIBUTED_TRAINING): a
// correct one ("model-sync", strict) and the merge defects, each rejected by
// certify's distributed group (`expectation` is a phrase of the failure), and two
// ranks that fail as processes (one dies, one hangs), which certify --ranks
// reports as findings.
const model& sync_model();
std::span<const model> distributed_zoo();

}  // namespace bnconform::mutants
