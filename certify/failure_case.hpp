#pragma once
// A failing item of a certification as a case file (docs/case-format.md) that
// `bnconform check` and `bnconform run` replay: the inputs of the item's calls,
// rebuilt in the certifier's own process from the item and the seed (every value
// certify judges a kernel on is a function of them), with a "finding" that names
// what certify saw.
#include <optional>
#include <string>
#include <vector>

#include "certifier.hpp"
#include "core/case_file.hpp"

namespace bnconform::certify {

struct failure_case {
  std::string item;       // the item's report name
  std::string file_name;  // from the name: "coverage-forward-training-f32-channels_last.json"
  std::optional<case_file> replay;  // absent when the item has no case to replay
  std::string why_none;             // then: why (a gradient check, too large, ...)
};

// One entry per failed, crashed or timed-out item, in report order; file names
// are unique. Throws bnconform::error only where the suite's own data cannot be
// read again (a golden file that vanished).
std::vector<failure_case> failure_cases(const certification& c);

// The command that replays a saved case: `bnconform check 'PATH' --kernel K --level L`.
std::string replay_command(const certification& c, const std::string& path);

}  // namespace bnconform::certify
