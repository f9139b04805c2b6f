#pragma once
// The RapidCheck generator of cases (internal to the library): problems within a
// kernel's declared capabilities and a property's needs, a value kind, and a seed
// that is never shrunk (RapidCheck shrinks the problem and the kind).
#include <rapidcheck.h>

#include "core/kernel.hpp"
#include "properties.hpp"
#include "runner.hpp"

namespace bnconform::properties {

// The generation failure of a kernel that declares no case a property needs (the
// runner reports the property unsupported).
inline constexpr const char* no_declared_case = "the kernel declares no case this property needs";

rc::Gen<generated_case> case_generator(const kernel& k, const case_needs& needs,
                                       const generation_limits& limits);

}  // namespace bnconform::properties
