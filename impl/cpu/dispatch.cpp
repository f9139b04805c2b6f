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

bool runs_v3() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("bmi2") && has_f16c();
}

// x86-64-v4's AVX-512 subsets (the OS saving the zmm state is part of what
// __builtin_cpu_supports checks).
bool runs_v4() {
  return runs_v3() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

// AVX512-BF16 from CPUID leaf 7, sub-leaf 1 (EAX bit 5), as for F16C: clang 14 does
// not know every name of __builtin_cpu_supports.
bool runs_v4_bf16() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return runs_v4() && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0 &&
         (eax & (1u << 5)) != 0;
}
#endif

const variant& choose() {
  const std::vector<const variant*> runnable = runnable_variants();
  if (const char* forced = std::getenv("BNCONFORM_CPU_VARIANT")) {
    for (const variant* v : runnable) {
      if (std::strcmp(forced, v->name) == 0) return *v;
    }
  }
  return *runnable.back();
}

}  // namespace

std::vector<const variant*> runnable_variants() {
  std::vector<const variant*> out{&variants::baseline()};
#if defined(BNCONFORM_CPU_HAVE_V3)
  if (runs_v3()) out.push_back(&variants::x86_64_v3());
#endif
#if defined(BNCONFORM_CPU_HAVE_V4)
  if (runs_v4()) out.push_back(&variants::x86_64_v4());
#endif
#if defined(BNCONFORM_CPU_HAVE_V4_BF16)
  if (runs_v4_bf16()) out.push_back(&variants::x86_64_v4_bf16());
#endif
  return out;
}

const variant& active_variant() {
  static const variant& v = choose();
  return v;
}

}  // namespace bnconform::cpu
