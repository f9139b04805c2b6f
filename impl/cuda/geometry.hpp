#pragma once
// 64-bit index math. Both layouts are one shape: a dense [outer][channels][inner]
// array. Channels-first (N, C, S...) is outer = N, inner = S1*...*Sk; channels-last
// (N, S..., C) is outer = N*S1*...*Sk, inner = 1. A channel's reduction set is every
// (o, i), m = outer * inner elements. Every product is an int64_t: tensors of more
// than 2^31 elements and reductions longer than 2^31 index correctly.
#include <cstdint>

#include "host_device.hpp"

namespace bnconform::cuda {

struct geometry {
  std::int64_t outer = 0;
  std::int64_t channels = 0;
  std::int64_t inner = 1;

  BNC_HOST_DEVICE std::int64_t reduction_size() const { return outer * inner; }
  BNC_HOST_DEVICE std::int64_t element_count() const { return outer * channels * inner; }
  BNC_HOST_DEVICE std::int64_t offset(std::int64_t o, std::int64_t c, std::int64_t i) const {
    return (o * channels + c) * inner + i;
  }
  // The j-th element (0 <= j < m) of channel c's reduction set, in memory order.
  BNC_HOST_DEVICE std::int64_t reduction_offset(std::int64_t c, std::int64_t j) const {
    return offset(j / inner, c, j % inner);
  }
  BNC_HOST_DEVICE std::int64_t channel_of(std::int64_t offset_value) const {
    return (offset_value / inner) % channels;
  }
};

// shape = (N, C, S1, ..., Sk), rank >= 2; extents >= 0 (validated by the caller).
BNC_HOST_DEVICE geometry make_geometry(bool channels_last, const std::int64_t* shape, int rank) {
  std::int64_t spatial = 1;
  for (int d = 2; d < rank; ++d) spatial *= shape[d];
  geometry g;
  g.channels = shape[1];
  g.outer = channels_last ? shape[0] * spatial : shape[0];
  g.inner = channels_last ? 1 : spatial;
  return g;
}

// The memory offset of logical element (n, c, s), s the row-major spatial index
// (the same as core's problem::offset), for a layout and spatial size S.
BNC_HOST_DEVICE std::int64_t logical_offset(bool channels_last, std::int64_t channels,
                                            std::int64_t spatial, std::int64_t n, std::int64_t c,
                                            std::int64_t s) {
  return channels_last ? (n * spatial + s) * channels + c : (n * channels + c) * spatial + s;
}

}  // namespace bnconform::cuda
