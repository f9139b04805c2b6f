#pragma once
// A case built from a problem string and a seed (`bnconform run --problem`): the
// same seed gives the same values on every platform and standard library.
#include <cstdint>

#include "core/case_file.hpp"
#include "core/problem.hpp"
#include "core/splitmix64.hpp"

namespace bnconform::cli {

// The generator of case values (kept under this name for the cli's users).
using bnconform::splitmix64;

// One forward step on x, then (when with_backward) one backward step on dy, both
// in the problem's mode; x is drawn first, then dy, from one generator.
case_file generate_case(const problem& p, std::uint64_t seed, bool with_backward);

}  // namespace bnconform::cli
