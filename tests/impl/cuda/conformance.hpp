#pragma once
// The problems every build of the CUDA kernel is checked on (host emulation in the
// unit run, the device in the gpu run), and the comparison with the reference.
//
// Until the error model (check/) lands, outputs are compared against the
// reference with a bound derived for this kernel: it computes every quantity in
// double and rounds once into the output type, so an output is within one unit in
// the last place of the correctly rounded reference value, plus the double-precision
// error of the computation. That error is at most a small multiple of
// (2 + log2 m) * 2^-53 of the magnitudes involved (Welford/Chan merges, tree sums),
// times the conditioning 1 + mean|x| * invstd of the channel; 2^-40 covers it
// with a factor 2^8 to spare for m up to 2^25 (the bound per output is in
// conformance.cpp). Non-finite values must match exactly (NaN for NaN, the same Inf).
#include <cstdint>
#include <string>
#include <vector>

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
  huge,         // 1e37 for f32, bf16 (squares overflow f32), 1e4 for f16; 1e100 for f64,
                // the largest span the 256-bit reference vouches for
};

struct conformance_case {
  std::string name;
  problem p;
  fill values = fill::normal;
  std::uint64_t seed = 1;
  bool backward = true;
};

std::vector<conformance_case> conformance_cases();

// Runs forward (and backward) through `k` and the reference on the same inputs and
// returns every disagreement (empty: conforms).
std::string run_against_reference(const kernel& k, const conformance_case& c);

// Runs forward (and backward) through `a` and `b` and returns every output that is
// not bitwise equal (empty: identical).
std::string run_bitwise(const kernel& a, const kernel& b, const conformance_case& c);

}  // namespace bnconform::cuda::testing
