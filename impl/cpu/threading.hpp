#pragma once
// Threads for the CPU kernel: OpenMP (libgomp) when the build found it, else one
// thread. Results never depend on the thread count: every parallel loop here
// computes items whose results are a function of the item alone, written to the
// item's own slot; the reductions combine those slots afterwards in a fixed
// order (statistics.hpp). Threads only change who computes an item.
#include <cstdint>

#include "isa_namespace.hpp"

namespace bnconform::cpu {

// The number of threads the kernel uses: set_thread_count(n) if n > 0 was set,
// else the environment variable BNCONFORM_CPU_THREADS if it holds a positive
// integer, else the hardware concurrency (2 on the development machine).
int thread_count();
// n > 0 fixes the count for later calls; n <= 0 returns to the default.
void set_thread_count(int n);

inline namespace BNCONFORM_CPU_ISA {

// Below this many elements of work a call runs on one thread: starting the team
// costs more than it saves.
inline constexpr std::int64_t parallel_threshold = 1 << 15;
// Items are handed to threads in tasks of about this much work, dynamically: a
// thread slowed by other processes on the machine then takes fewer tasks instead
// of holding up the whole call. Which thread runs an item never changes its result.
inline constexpr std::int64_t task_work = 1 << 16;

// Runs body(i) for every i in [0, count), over the threads when count *
// work_per_item reaches parallel_threshold.
template <class Body>
void parallel_for(std::int64_t count, std::int64_t work_per_item, const Body& body) {
  const std::int64_t work = work_per_item < 1 ? 1 : work_per_item;
  const int threads = count > 1 && count * work >= parallel_threshold ? thread_count() : 1;
#if defined(_OPENMP)
  if (threads > 1) {
    // At least one task per thread where there are enough items: a call of under
    // threads x task_work values of work (256x256: 65536) would otherwise be one
    // task, with the team started for nothing (measured with bnconform_bench
    // --filter 256x256, three alternating runs, impl/cpu/RESULTS.md: eval 8.5-10.1 ->
    // 5.9-6.7 us, training 16.2-18.4 -> 14.2-15.0 us, f32 and bf16).
    const std::int64_t by_work = task_work / work < 1 ? 1 : task_work / work;
    const std::int64_t per_thread = (count + threads - 1) / threads;
    const std::int64_t per_task = by_work < per_thread ? by_work : per_thread;
    const std::int64_t tasks = (count + per_task - 1) / per_task;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (std::int64_t t = 0; t < tasks; ++t) {
      const std::int64_t end = (t + 1) * per_task < count ? (t + 1) * per_task : count;
      for (std::int64_t i = t * per_task; i < end; ++i) body(i);
    }
    return;
  }
#endif
  for (std::int64_t i = 0; i < count; ++i) body(i);
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
