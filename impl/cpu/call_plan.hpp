#pragma once
// A validated call: the geometry of the tensors, the flags of the problem and the
// caller's buffers. Built by validate_forward / validate_backward before anything
// is computed, so that a rejected call writes nothing and moves no state.
#include <cstdint>
#include <string>

#include "bnconform/kernel.h"

namespace bnconform::cpu {

// The logical tensor (N, C, S1..Sk) seen as N x C x S (S = S1 * ... * Sk). The
// reduction index of channel c is r = n * S + s, r in [0, m), m = N * S.
struct geometry {
  std::int64_t batch = 0;     // N
  std::int64_t channels = 0;  // C
  std::int64_t spatial = 1;   // S
  std::int64_t m = 0;         // N * S
  // Channels-last, or channels-first with S == 1 (the same memory order): element
  // (r, c) at r * C + c. Otherwise element (n, c, s) at (n * C + c) * S + s.
  bool channels_innermost = false;
};

struct forward_plan {
  geometry g;
  bnc_dtype data = BNC_DTYPE_F32;
  bool batch_statistics = false;  // training, or eval without running statistics
  bool update_running = false;    // training with running statistics
  bool affine = false;
  double eps = 0;
  // The running update of this call's profile (when update_running), per channel:
  // running = keep * running + take * batch, with the biased or the unbiased
  // variance; `replace` (tf-fused with factor 1) takes the batch values without
  // reading the old ones. An empty batch leaves them (pytorch, onnx) or makes them
  // NaN (keras, tf-fused, flax).
  double take = 0, keep = 1;
  bool biased_running_var = false;
  bool replace = false;
  bool empty_batch_gives_nan = false;
  const bnc_forward_args* args = nullptr;
};

struct backward_plan {
  geometry g;
  bnc_dtype data = BNC_DTYPE_F32;
  bool batch_statistics = false;
  bool affine = false;
  double eps = 0;
  const bnc_backward_args* args = nullptr;
};

// What a successful call reports back: channels where eps == 0 meets a zero
// variance (ill-posed, tolerance.md), for the note in the message buffer.
struct call_report {
  std::int64_t ill_posed_channels = 0;
  std::int64_t first_ill_posed = -1;
};

// Why a call is rejected; `ok` when it is not.
struct rejection {
  bnc_status code = BNC_STATUS_OK;
  std::string message;
  bool ok() const { return code == BNC_STATUS_OK; }
};

// Check everything the call will touch; fill the plan. Throw nothing.
rejection validate_forward(const bnc_problem* problem, const bnc_forward_args* args,
                           forward_plan& plan);
rejection validate_backward(const bnc_problem* problem, const bnc_backward_args* args,
                            backward_plan& plan);

}  // namespace bnconform::cpu
