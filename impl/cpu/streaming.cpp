#include "streaming.hpp"

#include <atomic>

namespace bnconform::cpu {

namespace {

constexpr std::int64_t default_threshold = std::int64_t{64} << 20;
std::atomic<std::int64_t> threshold{default_threshold};

}  // namespace

std::int64_t streaming_threshold() { return threshold.load(std::memory_order_relaxed); }

void set_streaming_threshold(std::int64_t bytes) {
  threshold.store(bytes < 0 ? default_threshold : bytes, std::memory_order_relaxed);
}

}  // namespace bnconform::cpu
