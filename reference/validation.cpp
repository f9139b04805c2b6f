// The error rules of semantics.md, checked before anything is computed or
// written, so a rejected call changes nothing.
#include <limits>

#include "reference.hpp"

namespace bnconform::reference {

namespace {

std::optional<call_status> size_mismatch(const char* name, std::size_t got, std::int64_t expected) {
  if (static_cast<std::int64_t>(got) == expected) return std::nullopt;
  return call_status{BNC_STATUS_BAD_ARGUMENT, std::string(name) + " should contain " +
                                                  std::to_string(expected) + " elements not " +
                                                  std::to_string(got)};
}

std::string shape_text(const problem& p) {
  std::string s = "(";
  for (int i = 0; i < p.rank(); ++i) s += (i ? ", " : "") + std::to_string(p.shape()[i]);
  return s + ")";
}

}  // namespace

std::optional<call_status> validate(const problem& p, const call_inputs& in, bool backward) {
  // Only PyTorch has a cumulative moving average: every other profile's momentum is
  // a number (docs/semantics.md#conventions-by-profile).
  if (p.profile() != profile::pytorch && !p.momentum()) {
    return call_status{BNC_STATUS_UNSUPPORTED, "momentum=none is not defined for the " +
                                                   std::string(name_of(p.profile())) +
                                                   " profile (its momentum is a number)"};
  }
  const std::int64_t c = p.channels();
  const std::int64_t affine_count = p.affine() ? c : 0;
  const std::int64_t tracked_count = p.track_running_stats() ? c : 0;
  for (const auto& check :
       {size_mismatch("x", in.x.size(), p.element_count()),
        size_mismatch("dy", backward ? in.dy.size() : 0, 0 + (backward ? p.element_count() : 0)),
        size_mismatch("weight (gamma)", in.gamma.size(), affine_count),
        size_mismatch("bias (beta)", in.beta.size(), affine_count),
        size_mismatch("running_mean", in.running_mean.size(), tracked_count),
        size_mismatch("running_var", in.running_var.size(), tracked_count)}) {
    if (check) return check;
  }
  if (in.num_batches_tracked < 0 ||
      in.num_batches_tracked == std::numeric_limits<std::int64_t>::max()) {
    return call_status{BNC_STATUS_BAD_ARGUMENT,
                       "num_batches_tracked must be in [0, 2^63 - 1), got " +
                           std::to_string(in.num_batches_tracked)};
  }
  // PyTorch: "Expected more than 1 value per channel when training". It applies
  // whenever batch statistics are used, eval without running statistics included,
  // in the pytorch and onnx profiles; keras, tf-fused and flax normalize one value
  // per channel with var = 0.
  const bool m1_is_error = p.profile() == profile::pytorch || p.profile() == profile::onnx;
  if (m1_is_error && p.uses_batch_statistics() && p.reduction_size() == 1) {
    return call_status{
        BNC_STATUS_INVALID_PROBLEM,
        "Expected more than 1 value per channel when training, got input size " + shape_text(p)};
  }
  return std::nullopt;
}

}  // namespace bnconform::reference
