#include "fp_environment.hpp"

#include <cfenv>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace bnconform {

namespace {

const char* rounding_name(int mode) {
  switch (mode) {
    case FE_TONEAREST: return "to-nearest";
    case FE_UPWARD: return "upward";
    case FE_DOWNWARD: return "downward";
    case FE_TOWARDZERO: return "toward-zero";
  }
  return "unknown";
}

void append(std::string& out, const std::string& change) {
  if (!out.empty()) out += "; ";
  out += change;
}

#if !defined(__x86_64__)
std::string exception_names(int bits) {
  std::string out;
  const struct {
    int bit;
    const char* name;
  } names[] = {{FE_INVALID, "invalid"},
               {FE_DIVBYZERO, "divide-by-zero"},
               {FE_OVERFLOW, "overflow"},
               {FE_UNDERFLOW, "underflow"},
               {FE_INEXACT, "inexact"}};
  for (const auto& n : names) {
    if ((bits & n.bit) == 0) continue;
    if (!out.empty()) out += ", ";
    out += n.name;
  }
  return out;
}
#endif

#if defined(__x86_64__)
constexpr std::uint32_t mxcsr_daz = 1u << 6;        // denormals-are-zero
constexpr std::uint32_t mxcsr_masks = 0x3fu << 7;   // exception masks, bits 7-12
constexpr std::uint32_t mxcsr_rounding = 3u << 13;  // bits 13-14
constexpr std::uint32_t mxcsr_ftz = 1u << 15;       // flush-to-zero

// MXCSR rounding field (00 nearest, 01 down, 10 up, 11 toward zero) as FE_*.
int mxcsr_rounding_mode(std::uint32_t csr) {
  switch ((csr & mxcsr_rounding) >> 13) {
    case 0: return FE_TONEAREST;
    case 1: return FE_DOWNWARD;
    case 2: return FE_UPWARD;
    default: return FE_TOWARDZERO;
  }
}

std::uint16_t x87_control_word() {
  std::uint16_t cw = 0;
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  return cw;
}

void set_x87_control_word(std::uint16_t cw) { __asm__ volatile("fldcw %0" : : "m"(cw)); }
#endif

}  // namespace

fp_environment fp_environment::current() {
  fp_environment e;
#if defined(__x86_64__)
  e.mxcsr = _mm_getcsr();
  e.x87_control = x87_control_word();
#else
  e.rounding = std::fegetround();
#if defined(__GLIBC__)
  e.traps = fegetexcept();
#endif
#endif
  return e;
}

void fp_environment::restore() const {
#if defined(__x86_64__)
  set_x87_control_word(x87_control);
  _mm_setcsr(mxcsr);
#else
  std::fesetround(rounding);
#if defined(__GLIBC__)
  fedisableexcept(FE_ALL_EXCEPT & ~traps);
  if (traps != 0) feenableexcept(traps);
#endif
#endif
}

std::string fp_environment::changes_to(const fp_environment& after) const {
  std::string out;
#if defined(__x86_64__)
  // SSE (MXCSR) is what compiled code computes with; the x87 unit serves long double.
  const int sse_before = mxcsr_rounding_mode(mxcsr);
  const int sse_after = mxcsr_rounding_mode(after.mxcsr);
  if (sse_before != sse_after) {
    append(out, std::string("rounding mode ") + rounding_name(sse_after) + " (was " +
                    rounding_name(sse_before) + ")");
  }
  const auto flag = [&](std::uint32_t bit, const char* name) {
    if ((mxcsr & bit) == (after.mxcsr & bit)) return;
    append(out, std::string(name) + ((after.mxcsr & bit) != 0 ? " set" : " cleared"));
  };
  flag(mxcsr_ftz, "FTZ (flush-to-zero, MXCSR bit 15)");
  flag(mxcsr_daz, "DAZ (denormals-are-zero, MXCSR bit 6)");
  if ((mxcsr & mxcsr_masks) != (after.mxcsr & mxcsr_masks)) {
    // A cleared mask bit enables the trap.
    const std::uint32_t unmasked = (mxcsr & ~after.mxcsr & mxcsr_masks) >> 7;
    const std::uint32_t masked = (~mxcsr & after.mxcsr & mxcsr_masks) >> 7;
    // MXCSR mask order: invalid, denormal, divide-by-zero, overflow, underflow, precision.
    const char* names[] = {"invalid",  "denormal",  "divide-by-zero",
                           "overflow", "underflow", "inexact"};
    std::string on, off;
    for (int i = 0; i < 6; ++i) {
      std::string& list = (unmasked >> i & 1u) != 0 ? on : off;
      if (((unmasked | masked) >> i & 1u) == 0) continue;
      if (!list.empty()) list += ", ";
      list += names[i];
    }
    if (!on.empty()) append(out, "SSE exception traps enabled: " + on);
    if (!off.empty()) append(out, "SSE exception traps disabled: " + off);
  }
  constexpr std::uint16_t x87_rounding = 3u << 10, x87_precision = 3u << 8, x87_masks = 0x3f;
  if ((x87_control & x87_rounding) != (after.x87_control & x87_rounding)) {
    append(out, "x87 rounding control changed");
  }
  if ((x87_control & x87_precision) != (after.x87_control & x87_precision)) {
    append(out, "x87 precision control changed");
  }
  if ((x87_control & x87_masks) != (after.x87_control & x87_masks)) {
    append(out, "x87 exception masks changed");
  }
#else
  if (rounding != after.rounding) {
    append(out, std::string("rounding mode ") + rounding_name(after.rounding) + " (was " +
                    rounding_name(rounding) + ")");
  }
  if (traps != after.traps) {
    const std::string on = exception_names(after.traps & ~traps);
    const std::string off = exception_names(traps & ~after.traps);
    if (!on.empty()) append(out, "exception traps enabled: " + on);
    if (!off.empty()) append(out, "exception traps disabled: " + off);
  }
#endif
  return out;
}

}  // namespace bnconform
