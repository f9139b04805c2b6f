#include <cstdlib>
#include <cstring>

#include "variant.hpp"

namespace bnconform::cpu {

namespace {

const variant& choose() {
  const char* forced = std::getenv("BNCONFORM_CPU_VARIANT");
  const bool baseline_forced = forced != nullptr && std::strcmp(forced, "baseline") == 0;
#if defined(BNCONFORM_CPU_HAVE_V3)
  __builtin_cpu_init();
  if (!baseline_forced && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c")) {
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
