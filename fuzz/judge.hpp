#pragma once
// How `bnconform fuzz` judges one case: the kernel's forward call and, where the
// kernel declares it, the backward call of the case's mode, each against the
// reference through the error model (check::run_forward / run_backward: harness
// guards, determinism, exact statistics for exact fills), asked again at 512 and
// 1024 bits when the reference says it needs more precision. The campaign, its
// shrinking and `fuzz replay` all judge through this one function.
#include <optional>
#include <string>

#include "check/level.hpp"
#include "core/case_file.hpp"
#include "core/kernel.hpp"
#include "properties/generated_case.hpp"

namespace bnconform::fuzz {

// A case's inputs: one forward call and, when `dy` is set, its backward.
struct fuzz_inputs {
  problem p;
  tensor x;
  std::optional<tensor> dy;
  module_state state;
  bool exact_fill = false;  // exact-fill values: the mean is judged bit for bit at strict
};

struct judgement {
  check::verdict result = check::verdict::pass;
  std::string reason;   // one line ("forward: ..." / "backward: ...")
  std::string details;  // the failing comparison's report, for a person
  double worst_ratio = 0;

  // What a campaign saves: a wrong value, a crash or a hang. Mistrusted, ill-posed
  // and unsupported calls are counted, not saved.
  bool is_finding() const;
};

// The inputs of a generated case, with a backward call where the kernel declares one.
fuzz_inputs inputs_of(const kernel& k, const properties::generated_case& c);

// The inputs a case file holds (its first forward step and the backward after it).
// Throws bnconform::error for a case file of another shape (no forward step first).
fuzz_inputs inputs_of(const case_file& c);

judgement judge(const kernel& k, const fuzz_inputs& in, check::level l);

// The case file of a case: the problem, its initial state, a forward step and
// (with dy) a backward step that takes x and the saved statistics from it, so that
// `bnconform run` runs it as it is.
case_file case_file_of(const fuzz_inputs& in, std::string description);

}  // namespace bnconform::fuzz
