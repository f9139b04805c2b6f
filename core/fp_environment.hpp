#pragma once
// The floating-point environment a kernel call must leave as it found it (docs/abi.md,
// "The floating-point environment"): the rounding mode, flush-to-zero and
// denormals-are-zero (x86-64 MXCSR FTZ bit 15, DAZ bit 6; the x87 control word's
// rounding and precision), and which exceptions trap. The harness saves it before
// every kernel call and restores it after, so that the reference and the
// comparisons that follow run in the default environment whatever the kernel did;
// the difference is reported as a finding of its own.
#include <cstdint>
#include <string>

namespace bnconform {

class fp_environment {
 public:
  // The calling thread's environment now.
  static fp_environment current();
  // Makes it the calling thread's environment (exception flags included).
  void restore() const;
  // What `after` changed, as "rounding mode upward (was to-nearest); FTZ set
  // (flush-to-zero)", or empty when the two agree (raised exception flags are not a
  // change: arithmetic raises them).
  std::string changes_to(const fp_environment& after) const;

 private:
#if defined(__x86_64__)
  std::uint32_t mxcsr = 0;        // SSE: rounding, FTZ, DAZ, exception masks and flags
  std::uint16_t x87_control = 0;  // x87: rounding, precision, exception masks
#else
  int rounding = 0;  // fegetround()
  int traps = 0;     // exceptions whose traps are enabled (fegetexcept(), FE_* bits)
#endif
};

}  // namespace bnconform
