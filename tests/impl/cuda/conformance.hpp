#pragma once
// The problems every build of the CUDA kernel is checked on (host emulation in the
// unit run, the device in the gpu run), judged by the error model (check/) at the
// level the kernel claims: strict for f32, f16 and bf16 data (it accumulates in
// double), standard for f64 data (Welford and tree merges in double).
#include <cstdint>
#include <string>
#include <vector>

#include "check/level.hpp"
#include "core/kernel.hpp"
#include "core/problem.hpp"

namespace bnconform::cuda::testing {

enum class fill {
  normal,       // per-channel offset and scale, N(0, 1) shape
  offset,       // 1e4 + N(0, 1): cancellation in E[x^2] - E[x]^2
  constant,     // channel 0 constant
  nan_channel,  // a NaN in channel 1
  inf_channel,  // +Inf in channel 1
  both_infs,    // +Inf and -Inf in channel 1
  subnormal,    // tiny values (subnormal in f32 and narrower)
  huge,         // squares overflow the data type: z * 1e37 (f32), z * 1e30 (bf16,
                // dx stays normal), 1000 + 4z (f16, dx stays normal); z * 1e100 for
                // f64, the largest span the 256-bit reference vouches for
};

struct conformance_case {
  std::string name;
  problem p;
  fill values = fill::normal;
  std::uint64_t seed = 1;
  bool backward = true;
};

std::vector<conformance_case> conformance_cases();

inline check::level level_for(const problem& p) {
  return p.data_type() == dtype::f64 ? check::level::standard : check::level::strict;
}

// Runs forward (and backward) through `k` and the reference on the same inputs
// (check::run_forward, run_backward) and returns the report of every comparison
// that did not pass (empty: conforms).
std::string run_against_reference(const kernel& k, const conformance_case& c);

// Runs forward (and backward) through `a` and `b` and returns every output that is
// not bitwise equal (empty: identical).
std::string run_bitwise(const kernel& a, const kernel& b, const conformance_case& c);

}  // namespace bnconform::cuda::testing
