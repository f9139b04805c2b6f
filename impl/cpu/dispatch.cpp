#include <cstdlib>
#include <cstring>

#include "variant.hpp"

#if defined(BNCONFORM_CPU_HAVE_V3)
#include <cpuid.h>
#endif

namespace bnconform::cpu {

namespace {

#if defined(BNCONFORM_CPU_HAVE_V3)
// F16C from CPUID leaf 1 (ECX bit 29): clang before 15 does not know the "f16c"
// name of __builtin_cpu_supports (the fuzz preset builds with clang 14).
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
#endif

const variant& choose() {
  const char* forced = std::getenv("BNCONFORM_CPU_VARIANT");
  const bool baseline_forced = forced != nullptr && std::strcmp(forced, "baseline") == 0;
#if defined(BNCONFORM_CPU_HAVE_V3)
  __builtin_cpu_init();
  if (!baseline_forced && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("bmi2") && has_f16c()) {
    return variants::x86_64_v3();
  }
#endif
  (void)baseline_forced;
  return variants::baseline();
}

}  // namespace

const variant& active_variant() {
  static const variant& v = choose();
  return v;
}

}  // namespace bnconform::cpu
