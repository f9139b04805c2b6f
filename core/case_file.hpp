#pragma once
// A case file: one problem, an optional initial module state and a sequence of
// forward and backward steps, as JSON (docs/case-format.md). Reading is strict:
// every unknown key, wrong type or wrong size is a bnconform::error of one line
// that starts with the file's path, so a hand-edited case never runs half-read.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernel.hpp"
#include "problem.hpp"
#include "tensor.hpp"

namespace bnconform {

enum class step_op : std::uint8_t { forward, backward };
std::string_view name_of(step_op op);

struct case_step {
  case_step(step_op o, problem p) : op(o), prob(std::move(p)) {}

  step_op op;
  problem prob;  // the case's problem with this step's mode and shape overrides
  // The overrides as written, so that a case writes back the way it was read.
  std::optional<bnconform::mode> mode_override;
  std::optional<std::vector<std::int64_t>> shape_override;
  // Forward: always present. Backward: absent means the x of the latest forward.
  std::optional<tensor> x;
  tensor dy;  // backward only
  // Backward only: explicit saved statistics, else those of the latest forward.
  std::optional<tensor> save_mean, save_invstd;
  // Backward only: index of the latest earlier forward step, if any.
  std::optional<std::size_t> latest_forward;
};

// What a fuzz campaign found on this case (docs/case-format.md, "finding"): the
// judgement `bnconform fuzz replay` reproduces. Every field is required.
struct case_finding {
  std::string kernel;   // the --kernel it was found with
  std::string level;    // "strict" or "standard"
  std::string verdict;  // check::verdict name: "fail", "crashed", "timed_out", ...
  std::string reason;   // one line: why
  std::string seed;     // the campaign seed and case index, "0x<hex>/<index>"
  std::string repro;    // the generated case's repro line (properties::generated_case)

  bool operator==(const case_finding&) const = default;
};

struct case_file {
  // PyTorch's initial state for `b` until a "state" says otherwise.
  case_file(std::string p, problem b)
      : path(std::move(p)), base(std::move(b)), state(module_state::initial(base)) {}

  std::string path;         // where it was read from (messages and the run's output)
  std::string description;  // optional free text, kept for the reader of the file
  problem base;
  bool state_given = false;  // "state" present (else PyTorch's initial state)
  module_state state;        // the initial state, defaults filled in
  std::vector<case_step> steps;
  std::optional<case_finding> finding;  // set in the corpus files of `bnconform fuzz`
};

// Parses case-file text; `path` only names the source in messages.
case_file parse_case(std::string_view text, const std::string& path);
// Reads and parses a file; a missing or unreadable file is a bnconform::error too.
case_file read_case_file(const std::string& path);
// The case as JSON text that parse_case reads back to the same case, values exact.
std::string to_json(const case_file& c, bool hex);

// One value of dtype t as a JSON token that reads back exactly: a number (the
// shortest decimal in t) for finite values, "nan", "inf", "-inf" as strings, and
// every value as a hex-float string when `hex`. Negative zero is written -0.0:
// common JSON readers (nlohmann, Python) read the token -0 as the integer 0.
std::string json_value(double v, dtype t, bool hex);
// A string as a JSON string literal (escaped; invalid UTF-8 replaced).
std::string json_string(std::string_view s);

}  // namespace bnconform
