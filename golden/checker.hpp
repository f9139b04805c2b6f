#pragma once
// Runs a golden case against a kernel and judges every step: each call gets the
// golden inputs and the module state the reference had before that step (so one
// step's error never leaks into the next one's inputs), and its status, outputs,
// module state and harness guards are compared with the golden expectation.
#include <string>
#include <string_view>
#include <vector>

#include "core/kernel.hpp"
#include "golden_file.hpp"

namespace bnconform::golden {

// The order is the severity: a case's outcome is its worst step's.
enum class outcome { pass, ill_posed, unsupported, fail };
std::string_view name_of(outcome o);

struct case_verdict {
  std::string name;
  outcome result = outcome::pass;
  std::string reason;                // one line: why (the first step that decided it)
  std::vector<std::string> details;  // mismatches, printed exactly
  bool passed() const { return result == outcome::pass || result == outcome::ill_posed; }
};

case_verdict check_case(const kernel& k, const golden_case& g);

}  // namespace bnconform::golden
