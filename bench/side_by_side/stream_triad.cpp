#include "stream_triad.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>

namespace bnconform::bench {

triad_result stream_triad(std::int64_t elements, int repetitions, int threads) {
  // Uninitialized storage, first touched by the same static schedule the triad
  // uses, so that each thread's pages sit where it runs (STREAM does the same).
  std::unique_ptr<double[]> a(new double[static_cast<std::size_t>(elements)]);
  std::unique_ptr<double[]> b(new double[static_cast<std::size_t>(elements)]);
  std::unique_ptr<double[]> c(new double[static_cast<std::size_t>(elements)]);
  double* pa = a.get();
  double* pb = b.get();
  double* pc = c.get();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t i = 0; i < elements; ++i) {
    pa[i] = 1.0;
    pb[i] = 2.0;
    pc[i] = 0.5;
  }
  const double scalar = 3.0;
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < repetitions; ++r) {
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (std::int64_t i = 0; i < elements; ++i) pa[i] = pb[i] + scalar * pc[i];
    const std::chrono::duration<double> t = std::chrono::steady_clock::now() - start;
    best = std::min(best, t.count());
  }
  // Keep the result observable so the loops cannot be dropped.
  volatile double sink = pa[elements / 2];
  (void)sink;
  return {3.0 * 8.0 * static_cast<double>(elements) / best, elements, threads};
}

}  // namespace bnconform::bench
