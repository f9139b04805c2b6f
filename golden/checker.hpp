#pragma once
// Runs a golden case against a kernel through the error model (check/): each call
// gets the golden inputs and the module state the reference had before that step
// (so one step's error never leaks into the next one's inputs) and is judged with
// check::compare_forward / compare_backward.
//
// The error model needs the exact value behind each expected output (rounded value
// plus residual) and the per-channel quantities; both are recomputed from the
// stored inputs with the reference, and the recomputed rounded outputs must equal
// the stored ones bit for bit: a golden file the reference no longer reproduces is
// an error (stale_golden), never judged against.
#include <string>
#include <vector>

#include "check/compare.hpp"
#include "core/kernel.hpp"
#include "golden_file.hpp"
#include "regen.hpp"

namespace bnconform::golden {

// One judged step of a golden case.
struct step_judgement {
  std::size_t step = 0;  // index into the case's steps
  check::comparison comparison;
};

struct case_verdict {
  std::string name;
  check::verdict result = check::verdict::pass;
  double worst_ratio = 0;             // over all judged steps
  std::string reason;                 // one line: the step that decided the verdict, and why
  std::vector<std::string> details;   // that step's first mismatches and notes
  std::vector<step_judgement> steps;  // every judged step (certify's per-operation figures)
  bool passed() const {
    return result == check::verdict::pass || result == check::verdict::ill_posed;
  }
};

// Severity of a verdict for a case of several steps: the worst step decides.
using check::severity;

// The level golden cases are judged at unless told otherwise.
inline constexpr check::level default_level = check::level::strict;

// Throws bnconform::error when the stored expected outputs are not what the
// reference computes from the stored inputs (the file is stale: regenerate it).
// `bits`: the reference precision the stored outputs were computed at.
case_verdict check_case(const kernel& k, const golden_case& g, check::level level = default_level,
                        int bits = reference_bits);

// ONNX's (or another implementation's) outputs judged as if they were a kernel's,
// against the reference, at `level`: the agreement of the reference with external
// data. One comparison per external step.
std::vector<check::comparison> check_external(const golden_case& g, check::level level);

}  // namespace bnconform::golden
