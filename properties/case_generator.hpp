#pragma once
// The RapidCheck generator of cases (internal to the library): problems within a
// kernel's declared capabilities and a property's needs, a value kind, and a seed
// that is never shrunk (RapidCheck shrinks the problem and the kind).
#include <rapidcheck.h>

#include "core/kernel.hpp"
#include "properties.hpp"
#include "runner.hpp"

namespace bnconform::properties {

// Why a property is unsupported when the kernel declares no case it needs.
inline constexpr const char* no_declared_case = "the kernel declares no case this property needs";

// Whether the kernel declares some case the property needs (dtype, layout, mode,
// rank); the runner asks before generating, and reports the property unsupported.
bool declares_a_case(const kernel& k, const case_needs& needs);

// Cases of profile `pf`: that profile's rules; momentum=None only in pytorch.
rc::Gen<generated_case> case_generator(const kernel& k, const case_needs& needs,
                                       const generation_limits& limits,
                                       profile pf = profile::pytorch);

}  // namespace bnconform::properties
