#pragma once
// The malformed calls: for every clause of the ABI's forward and backward tables
// (include/bnconform/validate.h, docs/abi.md "Validating arguments"), calls built to
// break that clause and no other. A kernel must answer each with the clause's status
// (BAD_ARGUMENT, or INVALID_PROBLEM for one value per channel), a NUL-terminated
// message within its buffer, and no write: outputs, running statistics and counter
// as they were (the guarded buffers see every byte).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bnconform/kernel.h"
#include "check/level.hpp"
#include "core/kernel.hpp"

namespace bnconform::battery {

// The base call a clause is broken from.
enum class base_mode : std::uint8_t {
  training,      // batch statistics (save_mean / save_invstd, one value per channel)
  eval_tracked,  // eval with running statistics (the backward's running_mean / running_var)
  any,           // training if declared, else eval
};

// Which kernels a clause applies to (the counter or the factor: docs/abi.md).
enum class state_rule : std::uint8_t { any, kernel_keeps_state, caller_keeps_state };

// One way of breaking the clause; `make` edits the call, or the module state the
// call is made from (the counter).
struct malformed_variant {
  std::string what;  // "eps = -1e-05"
  std::function<void(call_edit&, module_state&)> make;
};

struct malformed_call {
  std::string_view clause;
  bool backward = false;
  bnc_status expected = BNC_STATUS_BAD_ARGUMENT;
  base_mode mode = base_mode::any;
  state_rule state = state_rule::any;
  // m == 1 is an error only in the pytorch and onnx profiles (docs/semantics.md).
  bool pytorch_and_onnx_only = false;
  // The clause reads an argument of ABI 1.1 (strides, the communicator), which a
  // 1.0 kernel cannot see: such a kernel is not sent the call.
  bool abi_1_1 = false;
  std::vector<malformed_variant> variants;

  // "forward/eps_finite_nonnegative"
  std::string name() const;
};

// Every malformed call, forward then backward, in the order of the ABI's tables.
const std::vector<malformed_call>& malformed_calls();
// The one named `name` ("forward/eps_finite_nonnegative"), or nullptr.
const malformed_call* find_malformed_call(std::string_view name);
// Whether a kernel with these capabilities is sent the call in profile `pf`: the
// clause applies to it (state_rule, profile) and it declares an operation of the
// base mode. Not the cell: base_operation picks that.
bool applies_to(const malformed_call& c, const bnc_capabilities& caps, profile pf);
// The operation bit (BNC_OP_*) the call is broken from, for a kernel with `caps`:
// 0 when it declares none that fits.
std::uint32_t base_operation(const malformed_call& c, const bnc_capabilities& caps);

struct malformed_result {
  check::verdict result = check::verdict::pass;
  std::string reason;                // the first variant that failed, with the clause
  std::vector<std::string> details;  // every variant's answer
  int calls = 0;
};

// Sends each variant of `c`, broken from `base` (a valid problem of a declared
// cell, of the base operation's mode), and judges the answers. Judged the same at
// every level: the ABI's status rules are not a matter of precision.
malformed_result run_malformed(const kernel& k, const malformed_call& c, const problem& base);

}  // namespace bnconform::battery
