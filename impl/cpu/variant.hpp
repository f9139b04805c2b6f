#pragma once
// The kernel's compute code is compiled once per instruction-set variant (see
// CMakeLists.txt); dispatch.cpp picks the best one the CPU supports, once.
#include <cstdint>
#include <vector>

#include "call_plan.hpp"

namespace bnconform::cpu {

struct variant {
  // "x86-64-v4-bf16" (AVX-512 with AVX512-BF16), "x86-64-v4" (AVX-512), "x86-64-v3"
  // (AVX2 + FMA), "baseline"
  const char* name;
  call_report (*forward)(const forward_plan&);
  call_report (*backward)(const backward_plan&);
  // The variant's bf16 conversions over n values, as its elementwise passes do them
  // (AVX2 sixteen at a time in x86-64-v3, AVX-512 thirty-two at a time in
  // x86-64-v4): for tests, which compare them with the scalar widen and narrow_bf16
  // of storage.hpp bit for bit.
  void (*widen_bf16)(const std::uint16_t* in, float* out, std::int64_t n);
  void (*narrow_bf16)(const float* in, std::uint16_t* out, std::int64_t n);
};

namespace variants {
const variant& baseline();
#if defined(BNCONFORM_CPU_HAVE_V3)
const variant& x86_64_v3();
#endif
#if defined(BNCONFORM_CPU_HAVE_V4)
const variant& x86_64_v4();
#endif
#if defined(BNCONFORM_CPU_HAVE_V4_BF16)
const variant& x86_64_v4_bf16();
#endif
}  // namespace variants

// Every variant of this build that this CPU can run, baseline first, best last.
std::vector<const variant*> runnable_variants();

// The variant used by every call: the best runnable one, or the one named by the
// environment variable BNCONFORM_CPU_VARIANT ("baseline", "x86-64-v3",
// "x86-64-v4", "x86-64-v4-bf16") when this CPU can run it (e.g. to compare).
const variant& active_variant();

}  // namespace bnconform::cpu
