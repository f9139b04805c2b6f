#pragma once
// The harness side of the kernel ABI: calls any bnc_kernel on host tensors that
// the caller owns, and keeps the module-state convention (num_batches_tracked and
// momentum=None) for kernels that do not keep it themselves.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "bnconform/kernel.h"
#include "guarded_buffer.hpp"
#include "memory_space.hpp"
#include "problem.hpp"
#include "tensor.hpp"

namespace bnconform {

// What a BatchNorm module holds between calls. Empty tensors where the problem
// has no such buffer (gamma and beta when !affine; the running statistics when
// !track_running_stats).
struct module_state {
  tensor gamma, beta;
  tensor running_mean, running_var;
  std::int64_t num_batches_tracked = 0;

  // PyTorch's initial state for the problem: gamma 1, beta 0, running mean 0,
  // running var 1, counter 0.
  static module_state initial(const problem& p);
};

struct call_status {
  bnc_status code = BNC_STATUS_OK;
  std::string message;  // the kernel's message (may be a note on success)
  bool ok() const { return code == BNC_STATUS_OK; }
};

struct forward_outputs {
  call_status status;
  tensor y;
  tensor save_mean, save_invstd;      // empty when the call uses running statistics
  std::vector<guard_finding> guards;  // what the harness guards caught in this call
};

struct backward_outputs {
  call_status status;
  tensor dx;
  tensor dgamma, dbeta;  // empty when !affine
  std::vector<guard_finding> guards;
};

// A call made wrong on purpose (certify's malformed-call group): the harness builds
// the call as usual, then `problem` edits the descriptor (its shape is a copy the
// edit may change), `forward` or `backward` the arguments, and `null_problem` /
// `null_args` pass NULL for either, just before the kernel is called. Every guard
// applies as to any call.
struct call_edit {
  bool null_problem = false;
  bool null_args = false;
  std::function<void(bnc_problem&, std::span<std::int64_t> shape)> problem;
  std::function<void(bnc_forward_args&)> forward;
  std::function<void(bnc_backward_args&)> backward;
};

std::string_view name_of(bnc_status s);
// The operation bit (BNC_OP_*) of a forward or backward call in p's mode.
std::uint32_t operation_of(const problem& p, bool backward);

class kernel {
 public:
  // Checks the ABI version and the description; throws bnconform::error.
  // `device` serves a kernel that declares device memory; without one, its calls
  // are unsupported (unsupported_reason says so).
  explicit kernel(const bnc_kernel* description, memory_space* device = nullptr);

  std::string name() const { return k_->name; }
  // The checked description, for callers that call its entry points directly
  // (a benchmark times them without the guards).
  const bnc_kernel* description() const { return k_; }
  std::string version() const { return k_->version; }
  const bnc_capabilities& capabilities() const { return k_->capabilities; }
  // BNC_FEATURE_* bits (ABI 1.1); 0 for a 1.0 kernel. ANY_STRIDES implies MIXED_LAYOUTS.
  std::uint32_t features() const { return features_; }
  // The minor ABI version the kernel was built against (0: it cannot see the 1.1
  // arguments).
  std::uint32_t abi_minor() const { return minor_; }
  // False for a kernel that declares device memory and was given no device.
  bool memory_available() const {
    return k_->capabilities.memory == BNC_MEMORY_HOST || device_ != nullptr;
  }
  // Empty when the kernel declares everything the call needs, else the reason.
  std::string unsupported_reason(const problem& p, bool backward) const;

  // Tensors must match the problem (sizes and dtypes); throws bnconform::error if not.
  // Every buffer the kernel sees is a guarded_buffer in the kernel's memory space:
  // outputs are pre-filled with a NaN sentinel (an unwritten element never passes as
  // a value), and out-of-bounds writes, unwritten outputs and changed inputs are
  // listed in the outputs' `guards`. The floating-point environment is saved before
  // the call and restored after it; a kernel that changed it gets a finding of kind
  // fp_environment. A failing call must leave every output unwritten
  // (written_on_failure) and its message NUL-terminated within the buffer
  // (message_unterminated); a message written past its buffer is an out-of-bounds
  // write in "message". `edit` makes the call malformed (call_edit).
  // `communicator` makes a training call this rank's part of a distributed one
  // (docs/abi.md, "Distributed calls"): `p` is this rank's problem, and batch
  // statistics must be written even where this rank's own batch is empty.
  forward_outputs forward(const problem& p, const tensor& x, module_state& state,
                          const call_edit* edit = nullptr,
                          const bnc_communicator* communicator = nullptr) const;
  // save_mean and save_invstd are those of the matching forward call; they are
  // only read when the problem uses batch statistics.
  backward_outputs backward(const problem& p, const tensor& x, const tensor& dy,
                            const module_state& state, const tensor& save_mean,
                            const tensor& save_invstd, const call_edit* edit = nullptr,
                            const bnc_communicator* communicator = nullptr) const;

 private:
  memory_space& memory() const;
  std::string views_unsupported_reason(const problem& p, bool backward) const;

  const bnc_kernel* k_;
  memory_space* device_;
  std::uint32_t features_ = 0;
  std::uint32_t minor_ = 0;  // the kernel's ABI minor version
};

}  // namespace bnconform
