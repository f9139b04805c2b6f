#pragma once
// Work sharing for the exact engine: OpenMP when the build has it, one thread
// otherwise. Nothing computed depends on which thread runs which item.
#include <cstdint>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace bnconform::reference::exact {

inline int worker_count() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

template <class F>
void parallel_for(std::int64_t count, F&& f) {
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t k = 0; k < count; ++k) f(k);
#else
  for (std::int64_t k = 0; k < count; ++k) f(k);
#endif
}

}  // namespace bnconform::reference::exact
