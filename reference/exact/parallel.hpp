#pragma once
// Work sharing for the exact engine, on threads started per call: the engine runs
// inside forked worker processes (certify, fuzz), where an OpenMP pool started
// before the fork would deadlock the child. Calls under `serial_below` elements run
// on the calling thread (starting threads costs tens of microseconds). Nothing
// computed depends on which thread runs which item.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace bnconform::reference::exact {

inline constexpr std::int64_t serial_below = std::int64_t{1} << 16;

// OMP_NUM_THREADS when set (the usual knob), else the CPUs this process may use.
inline int worker_count() {
  if (const char* text = std::getenv("OMP_NUM_THREADS")) {
    const int n = std::atoi(text);
    if (n > 0) return n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

// Runs f(k) for k in [0, count); `elements` is the size of the whole job.
template <class F>
void parallel_for(std::int64_t count, std::int64_t elements, F&& f) {
  const int threads =
      elements < serial_below ? 1 : static_cast<int>(std::min<std::int64_t>(worker_count(), count));
  if (threads <= 1) {
    for (std::int64_t k = 0; k < count; ++k) f(k);
    return;
  }
  std::atomic<std::int64_t> next{0};
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  const auto work = [&] {
    try {
      for (std::int64_t k = next++; k < count && !failed; k = next++) f(k);
    } catch (...) {
      if (!failed.exchange(true)) failure = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace bnconform::reference::exact
