#pragma once
// One golden file: a case (inputs), the reference's exact outputs for it, where
// they came from, and a checksum. The format (golden/README.md) is JSON with
// every value a hex float, readable with a few lines of Python:
//
//   {"format": "bnconform-golden/1", "sha256": "...", "name": ..., "spec" or
//    "import": ..., "provenance": {...}, "case": <case file>,
//    "expected": <output of `bnconform run --hex`>, "external": {...}?}
//
// "sha256" is the SHA-256 of the file's bytes with its own 64 hex digits replaced
// by 64 zeros, so any edit of the data shows.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/case_file.hpp"
#include "core/case_runner.hpp"
#include "spec.hpp"

namespace bnconform::golden {

inline constexpr std::string_view format_version = "bnconform-golden/1";

// Where an imported case's inputs and external outputs came from.
struct import_source {
  std::string source;     // "onnx"
  std::string test;       // "test_batchnorm_example_training_mode"
  std::string package;    // "libonnx-testdata 1.12.0 (ONNX's numpy reference, float32)"
  std::string operator_;  // "BatchNormalization-15, training_mode=1"
};

struct provenance {
  std::string generator;  // "bnconform 0.1.0 (git 0123abc)"
  std::string reference;  // precision and self-check of the expected outputs
  std::string libraries;  // versions of what computed them
};

// Outputs another implementation produced for a step (ONNX's own test data): not
// correctly rounded, judged against the reference with the error model.
struct external_step {
  std::size_t step = 0;
  std::vector<named_tensor> outputs;  // y, running_mean, running_var (those given)
};

struct golden_case {
  golden_case(std::string n, case_file c) : name(std::move(n)), inputs(std::move(c)) {}

  std::string name;
  std::optional<case_spec> spec;          // cases generated from a spec
  std::optional<import_source> imported;  // cases imported from external data
  provenance origin;
  case_file inputs;
  case_result expected;  // the reference's run of `inputs`, every value exact
  std::vector<external_step> external;
};

// The SHA-256 of bytes, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

// The file text, checksum included. Deterministic: equal cases give equal bytes.
std::string to_text(const golden_case& g);

// Parses and verifies a golden file's text; `path` names it in every message.
// Throws bnconform::error ("PATH: WHAT") for malformed or truncated JSON, a wrong
// checksum, an unknown format, a missing or unknown key, bad values, or expected
// outputs that do not fit the case.
golden_case parse_golden(std::string_view text, const std::string& path);
golden_case read_golden_file(const std::string& path);

// Whether two golden texts hold the same case and outputs, whatever their
// provenance: regen leaves a file alone when only the provenance would change.
bool same_data(std::string_view a, std::string_view b);

}  // namespace bnconform::golden
