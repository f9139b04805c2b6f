#pragma once
// The machine's memory bandwidth as STREAM's triad measures it (a = b + s c over
// arrays far larger than the caches), at a given number of OpenMP threads.
#include <cstdint>

namespace bnconform::bench {

struct triad_result {
  double bytes_per_second;  // best of the repetitions, 3 arrays x 8 bytes per element
  std::int64_t elements;    // per array
  int threads;
};

triad_result stream_triad(std::int64_t elements, int repetitions, int threads);

}  // namespace bnconform::bench
