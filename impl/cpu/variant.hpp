#pragma once
// The kernel's compute code is compiled once per instruction-set variant (see
// CMakeLists.txt); dispatch.cpp picks the best one the CPU supports, once.
#include <cstdint>

#include "call_plan.hpp"

namespace bnconform::cpu {

struct variant {
  const char* name;  // "x86-64-v3" (AVX2 + FMA), "baseline"
  call_report (*forward)(const forward_plan&);
  call_report (*backward)(const backward_plan&);
  // The variant's bf16 conversions over n values, as its elementwise passes do them
  // (AVX2 sixteen at a time in x86-64-v3): for tests, which compare them with the
  // scalar widen and narrow_bf16 of storage.hpp bit for bit.
  void (*widen_bf16)(const std::uint16_t* in, float* out, std::int64_t n);
  void (*narrow_bf16)(const float* in, std::uint16_t* out, std::int64_t n);
};

namespace variants {
const variant& baseline();
#if defined(BNCONFORM_CPU_HAVE_V3)
const variant& x86_64_v3();
#endif
}  // namespace variants

// The variant used by every call; BNCONFORM_CPU_VARIANT=baseline forces the
// portable one (e.g. to compare).
const variant& active_variant();

}  // namespace bnconform::cpu
