#pragma once
// Expected outputs from the reference: a golden case is the reference kernel's
// run of the case (core/case_runner.hpp), recorded exactly.
#include "core/kernel.hpp"
#include "golden_file.hpp"

namespace bnconform::golden {

// The precision the catalog's expected outputs are computed at.
inline constexpr int reference_bits = 256;

// This build's provenance line (generator revision, reference, library versions).
provenance current_provenance();

// The case of a spec with the reference's outputs. Throws bnconform::error for a
// bad spec (fill.hpp).
golden_case generate(const case_spec& spec, const kernel& reference);

// An imported case with its expected outputs recomputed; inputs and external
// outputs stay as they are.
golden_case regenerate(golden_case imported, const kernel& reference);

}  // namespace bnconform::golden
