#pragma once
// What libtorch 1.13 gives through each entry point (at::batch_norm's path and
// at::native_batch_norm), as measured by the shared suite: the level per dtype,
// the known failures and the known crashes (see impl/adapters/README.md). Both
// entry points run native_batch_norm on every non-empty call, so they share all
// but the empty batch.
#include <csignal>
#include <string_view>

#include "check/compare.hpp"
#include "core/problem.hpp"

namespace bnconform::testing {

enum class aten_entry { batch_norm, native };

// ATen accumulates f32 and bf16 data in f64: strict. f64 data has no wider
// accumulator: standard on ordinary data, and not even that on long offset
// channels (a known failure below).
inline check::level libtorch_level(dtype t) {
  return t == dtype::f64 ? check::level::standard : check::level::strict;
}

// native_batch_norm 1.13, forward and backward, in training and in eval, divides
// by zero (SIGFPE) when N == 0 (AdapterDegenerate.EmptyBatchReachesThePeer's
// shapes 0x...). A zero spatial extent with N > 0 (2x3x0) does not crash it.
template <aten_entry entry>
int libtorch_known_signal(std::string_view key) {
  if (entry == aten_entry::native && key.starts_with("shape=0x")) return SIGFPE;
  return 0;
}

// at::batch_norm's path returns at::empty() saved statistics for an empty input
// (certify finds them differing between two runs: degenerate/zero-spatial-size).
template <aten_entry entry>
bool libtorch_unrepeatable(std::string_view key) {
  if (entry != aten_entry::batch_norm || !key.ends_with(" forward")) return false;
  for (const char* text : {"shape=0x3x4,dtype=f32 ", "shape=2x3x0,dtype=f32,layout=channels_last ",
                           "shape=0x3x2x2,dtype=f32,affine=false "}) {
    if (key.starts_with(text)) return true;
  }
  return false;
}

template <aten_entry entry>
const char* libtorch_known_failure(std::string_view key) {
  // ATen computes y = x * (gamma invstd) + (beta - mean gamma invstd): on a constant
  // channel the two terms cancel only to rounding, so y != beta exactly.
  // (With 0.1 in channels-last, ATen's mean is inexact and the exact rule does not apply.)
  for (const char* fused : {"constant channel 3.000000, channels_first forward",
                            "constant channel 3.000000, channels_last forward",
                            "constant channel 0.100000, channels_first forward"}) {
    if (key == fused) return "ATen: fused affine form";
  }
  // ATen 1.13's CPU backward takes its fast kernel only for contiguous and 4D
  // channels-last input; bf16 in NLC or NDHWC goes through the generic path, which
  // sums dgamma and dbeta in bf16.
  const bool generic_bf16 =
      key.find("layout=channels_last,dtype=bf16") != std::string_view::npos &&
      (key.starts_with("shape=3x4x5,") || key.starts_with("shape=2x3x2x3x2,"));
  if (generic_bf16 && key.ends_with(" backward")) return "ATen: bf16 sums in the generic path";
  // f64 data has no wider accumulator, and ATen's per-channel sums run along the
  // channel in a few vector lanes: on 8192 values offset by 1e4 the mean is
  // beyond even the standard budget (ratio 1.4 to 2.6).
  if (key.find("dtype=f64") != std::string_view::npos && key.ends_with(" forward offset"))
    return "ATen: sequential f64 sums on long offset channels";
  // No entry point rejects one value per channel (PyTorch checks it in Python's
  // F.batch_norm): the call succeeds, with var = 0 / 0 in the running variance.
  if (key.starts_with("shape=1x3")) return "ATen: m == 1 is not rejected";
  // native_batch_norm on a zero spatial extent with N > 0: the running mean blends
  // in 0 / 0 = NaN, and the backward's dgamma and dbeta are NaN.
  // (at::batch_norm's path answers every empty input before native_batch_norm.)
  if (entry == aten_entry::native && key.starts_with("shape=2x3x0,"))
    return "ATen: native_batch_norm's NaN statistics of an empty channel";
  return nullptr;
}

}  // namespace bnconform::testing
