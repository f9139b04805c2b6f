#pragma once
// Runs a case file's steps through one kernel and records every output exactly.
// Steps share the module state the way a BatchNorm module does between calls: a
// training forward moves the running statistics and the counter; nothing else does.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "case_file.hpp"
#include "kernel.hpp"

namespace bnconform {

struct named_tensor {
  std::string name;
  tensor values;
};

struct step_result {
  step_op op = step_op::forward;
  std::string problem;  // canonical problem string of the call
  // name_of(bnc_status), or "skipped" when the step could not be called (its
  // saved statistics come from a forward that failed).
  std::string status;
  std::string message;
  std::vector<named_tensor> outputs;  // empty when the step failed
  // Forward steps only: the module state after the step (empty when !track).
  bool has_state = false;
  std::vector<named_tensor> state;
  std::optional<std::int64_t> num_batches_tracked;

  bool ok() const { return status == "ok"; }
};

struct case_result {
  std::string kernel_name;
  std::string kernel_version;
  std::string case_name;
  std::vector<step_result> steps;

  bool ok() const;
};

// Never stops at a failed step: it is recorded and the state stays as it was.
// Throws bnconform::error only for a broken harness contract (tensor sizes).
case_result run_case(const kernel& k, const case_file& c);

// The result as JSON (docs/case-format.md), every value exact (see json_value).
std::string to_json(const case_result& r, bool hex);

}  // namespace bnconform
