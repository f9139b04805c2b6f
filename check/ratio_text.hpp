#pragma once
// How a worst budget ratio reads beside its verdict, the same in every report
// (docs/error-model.md, "Reading the worst ratio"). A failure with no element
// beyond its budget failed on something the ratio does not measure (a non-finite
// mismatch, an exact rule, a status, a guard finding, nondeterminism, a property of
// the kernel against itself, a crash): its ratio reads "n/a", never a figure below 1
// that looks like a pass.
#include <string>

#include "level.hpp"

namespace bnconform::check {

// Whether `worst_ratio` explains `v`: always for a verdict that is not a failure;
// for a failure, only when some element exceeded its budget (ratio > 1).
bool ratio_explains(verdict v, double worst_ratio);

// `worst_ratio` with `digits` significant digits ("inf" when infinite), or "n/a"
// where it does not explain the verdict.
std::string ratio_text(verdict v, double worst_ratio, int digits);

}  // namespace bnconform::check
